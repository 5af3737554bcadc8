"""The reference backend's options, as one frozen value shared by the CLI and the Python API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wsprobe.server.ratelimit import RateLimit

__all__ = ["DEFAULT_PORT", "ServerConfig"]

DEFAULT_PORT = 8765  #: ``wsprobe serve``'s port when none is given


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How ``wsprobe serve`` listens and what it enforces (see ``wsprobe serve --help``).

    ``port`` 0 (the default here; the CLI's is :data:`DEFAULT_PORT`) picks a free port.
    ``allowed_origins`` empty accepts any Origin; otherwise a handshake whose Origin is not listed
    is refused with 403 (a client that sends no Origin, i.e. not a browser, is accepted).
    ``token`` set requires ``?token=<token>`` (else 401).
    ``rate_limit`` is messages per second per socket (``None``: no limit), with a burst of two
    seconds' worth. ``ping_interval`` ``None`` disables keepalive pings; a client that does not
    answer within two intervals is closed (and gone at most one interval later).
    ``certfile`` (and ``keyfile`` unless the key is in ``certfile``) serve ``wss://``.
    ``max_backlog`` bytes waiting to be sent to one client (it reads too slowly) disconnect it
    (0: never), so that fan-out without backpressure cannot exhaust memory.
    """

    host: str = "127.0.0.1"
    port: int = 0
    path: str = "/ws/ws"
    allowed_origins: tuple[str, ...] = ()
    token: str | None = None
    max_size: int = 64 * 1024
    rate_limit: float | None = 50.0
    ping_interval: float | None = 30.0
    certfile: Path | None = None
    keyfile: Path | None = None
    max_backlog: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', got {self.path!r}")
        if self.max_size < 1:
            raise ValueError(f"max_size must be at least 1 byte, got {self.max_size}")
        if self.keyfile is not None and self.certfile is None:
            raise ValueError("keyfile needs certfile")

    @property
    def scheme(self) -> str:
        """``wss`` with TLS, else ``ws``."""
        return "wss" if self.certfile is not None else "ws"

    def rate_limit_policy(self) -> RateLimit | None:
        """The token bucket parameters of :attr:`rate_limit`."""
        return RateLimit.per_second(self.rate_limit) if self.rate_limit else None

    def url(self, port: int | None = None) -> str:
        """``ws[s]://HOST:PORT/PATH`` (IPv6 hosts in brackets), on ``port`` if given."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port if port is None else port}{self.path}"

    def cli_args(self) -> list[str]:
        """The ``wsprobe serve`` options that reproduce this config."""
        args = ["--host", self.host, "--port", str(self.port), "--path", self.path,
                "--max-size", str(self.max_size),
                "--rate-limit", str(self.rate_limit or 0),
                "--ping-interval", str(self.ping_interval or 0),
                "--max-backlog", str(self.max_backlog)]
        for origin in self.allowed_origins:
            args += ["--allowed-origin", origin]
        if self.token is not None:
            args += ["--token", self.token]
        if self.certfile is not None:
            args += ["--certfile", str(self.certfile)]
        if self.keyfile is not None:
            args += ["--keyfile", str(self.keyfile)]
        return args
