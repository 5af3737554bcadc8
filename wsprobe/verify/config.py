"""What a verify run needs to know, as one frozen value built by the CLI or the Python API."""

from __future__ import annotations

import shlex
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wsprobe.errors import InputError
from wsprobe.targets import client_ssl_context

__all__ = ["RegisterForm", "VerifyConfig"]

RegisterForm = Literal["top", "data"]


@dataclass(frozen=True, slots=True)
class VerifyConfig:
    """Options of ``wsprobe verify`` (see ``wsprobe verify --help``).

    ``timeout`` bounds each expectation, ``quiet`` is how long a check listens for a frame that
    must not come, ``run_timeout`` bounds the whole run. ``token`` goes in the URL as
    ``?token=``; ``allowed_origin`` and ``foreign_origin`` turn on X1; ``aggressive`` the floods
    and oversized frames of X3; ``idle`` (seconds, 0: off) how long T3 waits for a server ping.
    ``heartbeat`` compresses the real client's 30 s status heartbeat.
    """

    url: str
    timeout: float = 2.0
    quiet: float = 0.3
    run_timeout: float | None = 120.0
    schemas_dir: Path | None = None
    headers: tuple[tuple[str, str], ...] = ()
    origin: str | None = None
    token: str | None = None
    subprotocols: tuple[str, ...] = ()
    cafile: Path | None = None
    insecure: bool = False
    register_form: RegisterForm = "top"
    wait_for: float = 0.0
    allowed_origin: str | None = None
    foreign_origin: str | None = None
    aggressive: bool = False
    strict: bool = False
    seed: int = 0
    heartbeat: float = 0.1
    checks: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    idle: float = 0.0
    max_frame: int = 4 * 1024 * 1024
    flood: int = 400
    #: the target URL as the user gave it (``None``: the bundled backend was started)
    given_url: str | None = field(default=None)

    def __post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme
        if scheme not in {"ws", "wss"}:
            raise InputError(f"bad URL {self.url!r}: it must start with ws:// or wss://")
        for name in ("timeout", "quiet", "heartbeat"):
            if getattr(self, name) <= 0:
                raise InputError(f"--{name} must be more than 0")
        if self.idle < 0:
            raise InputError("--idle must be 0 (off) or more")
        if self.run_timeout is not None and self.run_timeout <= 0:
            raise InputError("--run-timeout must be more than 0")
        if self.token == "":
            raise InputError("--token must not be empty")
        if (self.allowed_origin is None) != (self.foreign_origin is None):
            raise InputError("X1 needs both --allowed-origin (one the server accepts) and "
                             "--foreign-origin (one it must refuse)")
        if self.cafile is not None and self.insecure:
            raise InputError("give --cafile or --insecure, not both")
        if (self.cafile is not None or self.insecure) and scheme != "wss":
            raise InputError("--cafile and --insecure are for wss:// URLs")

    @property
    def target(self) -> str:
        """The URL every check connects to: ``url`` with ``?token=`` when a token is set."""
        return self.with_token(self.token)

    def with_token(self, token: str | None) -> str:
        """``url`` with ``token`` as its ``token`` query parameter (``None``: without one)."""
        parts = urlsplit(self.url)
        pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k != "token"]
        if token is not None:
            pairs.append(("token", token))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs),
                           parts.fragment))

    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS for ``wss://``: the system's CAs, ``cafile``'s, or none checked (``insecure``)."""
        if not self.url.startswith("wss:"):
            return None
        return client_ssl_context(self.cafile, self.insecure) or ssl.create_default_context()

    def rerun(self, check: str) -> str:
        """The command that reruns just ``check`` with the options of this run."""
        args = ["wsprobe", "verify"]
        if self.given_url is not None:
            args.append(self.given_url)
        args += ["--check", check]
        flags: list[tuple[str, object, object]] = [
            ("--timeout", self.timeout, 2.0), ("--quiet", self.quiet, 0.3),
            ("--schemas", self.schemas_dir, None), ("--origin", self.origin, None),
            ("--cafile", self.cafile, None),
            ("--register-form", self.register_form, "top"),
            ("--allowed-origin", self.allowed_origin, None),
            ("--foreign-origin", self.foreign_origin, None),
            ("--heartbeat", self.heartbeat, 0.1), ("--seed", self.seed, None),
            ("--max-frame", self.max_frame, 4 * 1024 * 1024), ("--flood", self.flood, 400),
            ("--idle", self.idle, 0.0),
        ]
        for flag, value, default in flags:
            if value is not None and value != default:
                args += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        for key, value in self.headers:  # credentials stay out of logs and reports
            secret = key.lower() in {"authorization", "cookie", "proxy-authorization"}
            args += ["--header", f"{key}: {'***' if secret else value}"]
        for proto in self.subprotocols:
            args += ["--subprotocol", proto]
        for plugin in self.plugins:
            args += ["--plugin", plugin]
        for flag, on in (("--insecure", self.insecure), ("--aggressive", self.aggressive),
                         ("--strict", self.strict)):
            if on:
                args.append(flag)
        command = shlex.join(args)
        if self.token is not None:  # never the token itself: it would end up in CI logs
            command += ' --token "$WSPROBE_TOKEN"'
        return command

    @property
    def shown(self) -> str:
        """The target as reports show it: the token, if any, as ``***``."""
        url = self.with_token(None)
        if self.token is None:
            return url
        return url + ("&" if "?" in url else "?") + "token=***"
