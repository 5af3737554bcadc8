"""The server under fuzzing: a URL someone else runs, or a command we run (and restart).

The bundled backend (``wsprobe fuzz`` without a URL) is a :class:`Target` built by the CLI, which
may import :mod:`wsprobe.server`; this package does not.

A server that a case crashed must come back before the next case (and before every shrinking
step). A managed server (the bundled backend, or ``--server-cmd``) is restarted; a URL someone else
runs is waited for, up to ``recover_time`` seconds (a supervisor such as systemd or docker's
restart policy may bring it back).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import subprocess
import tempfile
from collections.abc import Sequence
from typing import IO, Protocol

from wsprobe.errors import InputError, UnreachableError
from wsprobe.fuzz.wire import HandshakeFailed, RawSocket

__all__ = ["CommandServer", "ManagedServer", "RemoteServer", "Target", "exit_text", "wait_until_up"]


class Target(Protocol):
    """Where the fuzzer connects, and how a dead server comes back."""

    @property
    def url(self) -> str:
        """The ``ws://`` or ``wss://`` URL to fuzz."""

    @property
    def managed(self) -> bool:
        """True when wsprobe runs the server (and can restart it)."""

    async def start(self) -> None:
        """Start a managed server (nothing for a remote one)."""

    def exit_info(self) -> str | None:
        """How a managed server ended (exit code, last log lines), when it did."""

    async def recover(self) -> bool:
        """Bring the server back (restart it, or wait for it); False if it stays down."""

    def close(self) -> None:
        """Stop a managed server."""


async def wait_until_up(url: str, *, timeout: float, ssl_context: ssl.SSLContext | None = None,
                        alive: object = None) -> bool:
    """Poll until a WebSocket handshake at ``url`` succeeds; False after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        if left <= 0:
            return False
        try:
            sock = await RawSocket.connect(url, timeout=min(left, 2.0), ssl_context=ssl_context)
        except (OSError, TimeoutError, HandshakeFailed):
            if callable(alive) and not alive():
                return False
            await asyncio.sleep(min(0.1, max(left, 0)))
            continue
        await sock.close()
        return True


class RemoteServer:
    """A server someone else runs: never restarted, waited for after a crash."""

    managed = False

    def __init__(self, url: str, *, recover_time: float,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._url = url
        self._recover_time = recover_time
        self._ssl = ssl_context

    @property
    def url(self) -> str:
        """The URL given."""
        return self._url

    async def start(self) -> None:
        """Nothing to start."""

    def exit_info(self) -> str | None:
        """Unknown for a server someone else runs."""
        return None

    async def recover(self) -> bool:
        """Wait up to ``recover_time`` for the server to accept a handshake again."""
        return await wait_until_up(self._url, timeout=self._recover_time, ssl_context=self._ssl)

    def close(self) -> None:
        """Nothing to stop."""


def _tail(stream: IO[bytes], lines: int = 8) -> str:
    stream.seek(0)
    text = stream.read().decode("utf-8", "replace").strip().splitlines()
    return "\n".join(text[-lines:])


def exit_text(code: int, log: str) -> str:
    """How a managed server ended: its exit code and the last lines it printed."""
    return f"the server exited with code {code}" + (f"; its last output:\n{log}" if log else "")


class ManagedServer:
    """A server wsprobe runs itself and restarts after a crash; subclasses start and describe it."""

    managed = True

    async def start(self) -> None:
        """Start (or restart) the server; :class:`UnreachableError` if it does not come up."""
        raise NotImplementedError

    def exit_info(self) -> str | None:
        """How the server ended, once it has."""
        raise NotImplementedError

    async def recover(self) -> bool:
        """Restart it (whether it died or hangs); False if it does not come back."""
        self.exit_info()  # keep how it ended before the restart replaces the process
        try:
            await self.start()
        except UnreachableError:
            return False
        return True


class CommandServer(ManagedServer):
    """A server started from a command (``--server-cmd``) and restarted whenever it dies."""

    def __init__(self, argv: Sequence[str], url: str, *, start_timeout: float,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if not argv:
            raise InputError("--server-cmd: the command is empty")
        self._argv = list(argv)
        self._url = url
        self._start_timeout = start_timeout
        self._ssl = ssl_context
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._last_exit: str | None = None

    @property
    def url(self) -> str:
        """The URL the command serves."""
        return self._url

    async def start(self) -> None:
        """Run the command and wait for the URL to accept a handshake."""
        self._stop_process()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  # closed by close()
        try:
            self._process = subprocess.Popen(self._argv, stdin=subprocess.DEVNULL,
                                             stdout=self._log, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise InputError(f"--server-cmd: cannot run {self._argv[0]!r}: {exc}") from None
        process = self._process
        up = await wait_until_up(self._url, timeout=self._start_timeout, ssl_context=self._ssl,
                                 alive=lambda: process.poll() is None)
        if not up:
            info = self.exit_info() or f"no handshake at {self._url} within " \
                                       f"{self._start_timeout} s"
            self._stop_process()
            raise UnreachableError(f"--server-cmd did not start a server: {info}")

    def exit_info(self) -> str | None:
        """``exited with code N`` and the last lines it printed, once it has exited."""
        process = self._process
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(0.5)  # a server that just crashed may not be reaped yet
        if process is None or process.poll() is None:
            return self._last_exit
        self._last_exit = exit_text(process.returncode,
                                    _tail(self._log) if self._log is not None else "")
        return self._last_exit

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def close(self) -> None:
        """Stop the server."""
        self._stop_process()
