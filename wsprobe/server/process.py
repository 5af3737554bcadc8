"""The reference backend in a process of its own (for callers that must not share one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from types import TracebackType
from typing import IO

from wsprobe.errors import WsprobeError
from wsprobe.server.config import ServerConfig

__all__ = ["ServerProcess", "ServerStartError", "spawn"]


class ServerStartError(WsprobeError):
    """``wsprobe serve`` exited or stayed silent instead of printing its URL (exit 2)."""


class ServerProcess:
    """A running ``python -m wsprobe serve``: its ``url``, ``pid`` and :meth:`stop`."""

    def __init__(self, process: subprocess.Popen[str], url: str, stderr: IO[bytes]) -> None:
        self.process = process
        self.url = url
        self._stderr = stderr
        self._log: str | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def log(self) -> str:
        """What the server wrote to stderr (so far, or in all once stopped)."""
        if self._log is not None:
            return self._log
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is None:
            self._log = self.log()
            self._stderr.close()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def spawn(config: ServerConfig | None = None, *, timeout: float = 15.0,
          env: dict[str, str] | None = None) -> ServerProcess:
    """Start ``python -m wsprobe serve`` with ``config`` (port 0 unless given) and wait for its URL.

    Raises :class:`ServerStartError` with the server's stderr if no URL line comes within
    ``timeout`` seconds.
    """
    config = config if config is not None else ServerConfig()
    argv = [sys.executable, "-m", "wsprobe", "serve", *config.cli_args()]
    stderr = tempfile.TemporaryFile()  # noqa: SIM115  # closed by ServerProcess.__exit__
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True,
                               env={**os.environ, **(env or {})})
    stdout = process.stdout
    assert stdout is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    url = line[0].strip() if line else ""
    if not url.startswith(("ws://", "wss://")):
        started = ServerProcess(process, url, stderr)
        code = started.stop()
        log = started.log().strip()
        why = "exited with code " + str(code) if line else f"printed no URL within {timeout} s"
        raise ServerStartError(f"wsprobe serve {why}" + (f":\n{log}" if log else ""))
    return ServerProcess(process, url, stderr)
