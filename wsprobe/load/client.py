"""A WebSocket client for gevent: websockets' sans-I/O ``ClientProtocol`` over a gevent socket.

This is the hottest loop of the load half: every delivery of every fan-out passes through
:meth:`WebSocketClient.run`. It reads as much as the kernel holds in one ``recv`` (many frames per
system call under load), takes the receipt time once per read, before any parsing, and hands each
text payload to the caller as ``bytes`` with that time. Nothing else is allocated per frame beyond
what ``websockets`` itself builds.
"""

from __future__ import annotations

import contextlib
import platform
import struct
import sys
import time
from collections.abc import Callable, Sequence
from typing import Final

import gevent
from gevent import socket as gsocket
from gevent.lock import Semaphore
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidURI
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

__all__ = ["ConnectFailed", "TextHandler", "WebSocketClient", "now_us"]

BUFSIZE: Final = 64 * 1024  # one read holds the hub for at most ~1,500 small frames
_TEXT: Final = Opcode.TEXT
_CLOSE: Final = Opcode.CLOSE

TextHandler = Callable[[bytes, int], None]
"""Called with each text payload and its receipt time (microseconds, wall clock)."""

_time_ns = time.time_ns
_time = time.time
MAX_HOLD: Final = 0.005  # seconds one receive loop may keep the hub from running
# SO_TIMESTAMPNS (Python does not name it): 35 in Linux's asm-generic socket.h, which these
# 64-bit architectures use; elsewhere receipts are stamped in user space.
_SO_TIMESTAMPNS: Final = (
    35
    if sys.platform == "linux"
    and platform.machine() in {"x86_64", "aarch64", "arm64", "ppc64le", "s390x", "riscv64"}
    else None
)
_TIMESPEC: Final = struct.Struct("@qq")  # struct timespec on 64-bit Linux
_ANCILLARY: Final = gsocket.CMSG_SPACE(_TIMESPEC.size) if hasattr(gsocket, "CMSG_SPACE") else 0


def _kernel_timestamps(sock: gsocket.socket) -> bool:
    """Ask the kernel to stamp received data (``SO_TIMESTAMPNS``); False where unsupported."""
    if _SO_TIMESTAMPNS is None or not _ANCILLARY or struct.calcsize("@l") != 8:
        return False
    try:
        sock.setsockopt(gsocket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


def now_us() -> int:
    """Wall-clock time in microseconds (the clock every process of one host shares)."""
    return _time_ns() // 1000


class ConnectFailed(Exception):
    """The TCP connection or the WebSocket handshake failed; ``refused`` if the server said no."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


class WebSocketClient:
    """One client connection; ``run()`` pumps received frames to ``on_text`` until it closes."""

    __slots__ = ("_lock", "_sock", "close_code", "kernel_timestamps", "on_text", "protocol", "url")

    def __init__(self, url: str, *, on_text: TextHandler) -> None:
        self.url = url
        self.on_text = on_text
        try:
            self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        except InvalidURI as exc:
            raise ConnectFailed(f"invalid WebSocket URL {url!r}: {exc}") from None
        self._sock: gsocket.socket | None = None
        self._lock = Semaphore()
        self.close_code: int | None = None
        self.kernel_timestamps = False

    def connect(self, *, timeout: float = 10.0) -> None:
        """Open the TCP connection and complete the opening handshake (blocks this greenlet)."""
        uri = self.protocol.uri
        try:
            sock = gsocket.create_connection((uri.host, uri.port), timeout=timeout)
        except OSError as exc:
            raise ConnectFailed(f"cannot connect to {uri.host}:{uri.port}: {exc}") from None
        sock.setsockopt(gsocket.IPPROTO_TCP, gsocket.TCP_NODELAY, 1)
        self.kernel_timestamps = _kernel_timestamps(sock)
        self._sock = sock
        protocol = self.protocol
        protocol.send_request(protocol.connect())
        self._flush()
        try:
            with gevent.Timeout(timeout, ConnectFailed(f"handshake with {self.url} timed out")):
                while protocol.state is State.CONNECTING:
                    data = sock.recv(BUFSIZE)
                    if not data:
                        protocol.receive_eof()
                        break
                    protocol.receive_data(data)
        except OSError as exc:
            sock.close()
            raise ConnectFailed(f"handshake with {self.url} failed: {exc}") from None
        if protocol.handshake_exc is not None or protocol.state is not State.OPEN:
            sock.close()
            reason = protocol.handshake_exc or "connection closed during handshake"
            raise ConnectFailed(f"{self.url} refused the handshake: {reason}", refused=True)
        sock.settimeout(None)
        for event in protocol.events_received():
            if isinstance(event, Response):
                # the parser's generator frame keeps the response alive for the connection's
                # whole life: drop its headers (about 1.5 KiB per idle connection)
                event.headers.clear()
            else:  # frames sent right after the handshake
                self._dispatch([event], now_us())

    def run(self) -> None:
        """Receive until the connection closes; call this in a greenlet of its own.

        With kernel timestamps (Linux), a read's time is when the kernel queued its last packet,
        so a generator busy elsewhere does not make deliveries look slower; else it is the time
        the read returned. Either way it is taken before anything is parsed.
        """
        sock = self._sock
        assert sock is not None, "connect() first"
        protocol = self.protocol
        recv = sock.recv
        recvmsg = sock.recvmsg if self.kernel_timestamps else None
        receive_data = protocol.receive_data
        events_received = protocol.events_received
        dispatch = self._dispatch
        unpack = _TIMESPEC.unpack_from
        loop_now = gevent.get_hub().loop.now  # when the hub last ran its loop (wall clock)
        try:
            while True:
                if recvmsg is not None:
                    data, ancillary, _, _ = recvmsg(BUFSIZE, _ANCILLARY)
                    if ancillary:
                        seconds, nanos = unpack(ancillary[0][2])
                        t = seconds * 1_000_000 + nanos // 1000
                    else:
                        t = _time_ns() // 1000
                else:
                    data = recv(BUFSIZE)
                    t = _time_ns() // 1000
                if not data:
                    protocol.receive_eof()
                    break
                receive_data(data)
                events = events_received()
                if events:
                    dispatch(events, t)
                if protocol.writes:
                    self._flush()
                if protocol.state is State.CLOSED:
                    break
                if _time() - loop_now() > MAX_HOLD:
                    # gevent's recv returns at once while bytes wait, so under a flood this
                    # loop would never give the hub a turn; sleep(0) would only run other ready
                    # greenlets, a (tiny) timer makes the loop poll sockets and run timers too
                    gevent.sleep(1e-6)
        except OSError:
            protocol.receive_eof()
        finally:
            self.close_code = protocol.close_code
            sock.close()

    def _dispatch(self, events: Sequence[object], t: int) -> None:
        on_text = self.on_text
        for frame in events:
            opcode = frame.opcode  # type: ignore[attr-defined]  # only Frame events after open
            if opcode is _TEXT:
                data = frame.data  # type: ignore[attr-defined]
                on_text(data if type(data) is bytes else bytes(data), t)
            elif opcode is _CLOSE:
                self.close_code = self.protocol.close_code

    def _flush(self) -> None:
        sock = self._sock
        assert sock is not None
        with self._lock:
            for data in self.protocol.data_to_send():
                if data:
                    sock.sendall(data)

    @property
    def open(self) -> bool:
        """Whether text can still be sent."""
        return self.protocol.state is State.OPEN

    def send(self, text: bytes) -> None:
        """Send one text frame (the payload must already be UTF-8)."""
        if self.protocol.state is not State.OPEN:
            raise ConnectFailed(f"connection to {self.url} is closed")
        self.protocol.send_text(text)
        try:
            self._flush()
        except OSError as exc:
            raise ConnectFailed(f"send to {self.url} failed: {exc}") from None

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake; ``run()`` ends when the server closes TCP."""
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            with contextlib.suppress(OSError):
                self._flush()

    def abort(self) -> None:
        """Close the TCP connection without a handshake."""
        if self._sock is not None:
            self._sock.close()
