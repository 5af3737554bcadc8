"""A WebSocket client that can send anything: websockets' sans-I/O protocol over asyncio streams.

The handshake and the frames the server sends go through :class:`websockets.client.ClientProtocol`
(which also answers pings and echoes a close, as any client must). What the fuzzer sends is framed
here, byte by byte, so a case can hold frames no well-behaved client would write: invalid UTF-8 in a
text frame, a stray continuation, a fragmented ping, reserved bits or opcodes, an unmasked frame.
Every wait has a timeout: a server that stops answering makes a call raise, never hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from dataclasses import dataclass

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidState, InvalidStatus, InvalidURI
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Origin
from websockets.uri import parse_uri
from websockets.utils import apply_mask

from wsprobe.errors import InputError

__all__ = [
    "ClosedByServer",
    "HandshakeFailed",
    "Incoming",
    "RawSocket",
    "encode_frame",
]

_READ_CHUNK = 1 << 16


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0,
                 mask: bool = True) -> bytes:
    """One frame as it goes on the wire (RFC 6455 section 5.2), whatever its content."""
    head = bytearray([(0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)])
    bit = 0x80 if mask else 0
    size = len(payload)
    if size < 126:
        head.append(bit | size)
    elif size < 1 << 16:
        head.append(bit | 126)
        head += size.to_bytes(2, "big")
    else:
        head.append(bit | 127)
        head += size.to_bytes(8, "big")
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4)
    return bytes(head) + key + apply_mask(payload, key)


class HandshakeFailed(Exception):
    """The server did not open a WebSocket: ``status`` is its HTTP status when it sent one."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class ClosedByServer:
    """The connection ended: ``code`` from the server's close frame, 1006 when it sent none."""

    code: int
    reason: str = ""

    @property
    def clean(self) -> bool:
        """True when the server sent a close frame."""
        return self.code != 1006


@dataclass(frozen=True, slots=True)
class Incoming:
    """A complete message (``text`` or ``data``) or a pong, as the server sent it."""

    opcode: int
    payload: bytes

    @property
    def is_text(self) -> bool:
        """A text message."""
        return self.opcode == Opcode.TEXT.value

    @property
    def is_pong(self) -> bool:
        """A pong control frame."""
        return self.opcode == Opcode.PONG.value

    def text(self) -> str | None:
        """The message as text when it is a valid UTF-8 text message."""
        if not self.is_text:
            return None
        try:
            return self.payload.decode("utf-8")
        except UnicodeDecodeError:
            return None


class RawSocket:
    """One client connection: ``await RawSocket.connect(url, timeout=...)``, then send and recv."""

    def __init__(self, protocol: ClientProtocol, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self._protocol = protocol
        self._reader = reader
        self._writer = writer
        self._inbox: list[Incoming] = []
        self._partial: list[Frame] = []
        self.closed: ClosedByServer | None = None

    @classmethod
    async def connect(cls, url: str, *, timeout: float, ssl_context: ssl.SSLContext | None = None,
                      origin: str | None = None, max_size: int | None = 16 << 20) -> RawSocket:
        """Open TCP (TLS for ``wss://``) and finish the handshake within ``timeout`` seconds.

        Raises :class:`OSError` when the connection is refused, :class:`TimeoutError` when the
        server does not finish in time, :class:`HandshakeFailed` when it answers but not with a
        WebSocket.
        """
        try:
            uri = parse_uri(url)
        except InvalidURI as exc:
            raise InputError(f"not a ws:// or wss:// URL: {url!r} ({exc})") from None
        protocol = ClientProtocol(uri, origin=Origin(origin) if origin else None,
                                  max_size=max_size)
        async with asyncio.timeout(timeout):
            context = (ssl_context or ssl.create_default_context()) if uri.secure else None
            reader, writer = await asyncio.open_connection(
                uri.host, uri.port, ssl=context, limit=_READ_CHUNK,
                server_hostname=uri.host if context else None,
            )
            sock = cls(protocol, reader, writer)
            try:
                protocol.send_request(protocol.connect())
                await sock._flush()
                await sock._handshake()
            except BaseException:
                sock.abort()
                raise
        return sock

    async def _handshake(self) -> None:
        protocol = self._protocol
        while True:
            data = await self._reader.read(_READ_CHUNK)
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            for event in protocol.events_received():
                if isinstance(event, Response):
                    break
            else:
                if not data:
                    raise HandshakeFailed("the server closed the connection during the handshake")
                if protocol.handshake_exc is not None:
                    break
                continue
            break
        exc = protocol.handshake_exc
        if exc is None:
            return
        if isinstance(exc, InvalidStatus):
            status = exc.response.status_code
            raise HandshakeFailed(f"the server answered HTTP {status} instead of a WebSocket",
                                  status)
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise HandshakeFailed(f"invalid handshake response: {exc}{cause}")

    async def _flush(self) -> None:
        for chunk in self._protocol.data_to_send():
            if chunk:
                self._writer.write(chunk)
            elif self._writer.can_write_eof():
                self._writer.write_eof()
        await self._writer.drain()

    async def send_raw(self, data: bytes, *, timeout: float) -> None:
        """Write bytes as they are; raises :class:`TimeoutError` when the server stops reading."""
        if self.closed is not None:
            raise ConnectionResetError("the connection is closed")
        self._writer.write(data)
        async with asyncio.timeout(timeout):
            await self._writer.drain()

    async def send_text(self, text: str, *, timeout: float) -> None:
        """One masked text frame."""
        await self.send_raw(encode_frame(Opcode.TEXT.value, text.encode("utf-8")),
                            timeout=timeout)

    async def recv(self, timeout: float) -> Incoming | ClosedByServer | None:
        """The next message or pong; the close when the connection ended; None after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._inbox:
            if self.closed is not None:
                return self.closed
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                async with asyncio.timeout(left):
                    data = await self._reader.read(_READ_CHUNK)
            except TimeoutError:
                return None
            except (ConnectionError, ssl.SSLError, OSError):
                data = b""
            self._feed(data)
            with contextlib.suppress(ConnectionError, ssl.SSLError, OSError, RuntimeError):
                await self._flush()
        return self._inbox.pop(0)

    def _feed(self, data: bytes) -> None:
        protocol = self._protocol
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        for event in protocol.events_received():
            if not isinstance(event, Frame):
                continue
            if event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                self._partial.append(event)
                if event.fin:
                    first = self._partial[0]
                    payload = b"".join(bytes(f.data) for f in self._partial)
                    self._partial = []
                    self._inbox.append(Incoming(first.opcode.value, payload))
            elif event.opcode is Opcode.PONG:
                self._inbox.append(Incoming(event.opcode.value, bytes(event.data)))
        if protocol.close_rcvd is not None:
            self.closed = _closed(protocol.close_rcvd)
        elif not data or protocol.parser_exc is not None:
            code = protocol.close_sent.code if protocol.close_sent is not None else 1006
            # a frame the client could not accept (e.g. too big): the client closed with a code
            self.closed = ClosedByServer(1006 if not data else code,
                                         str(protocol.parser_exc or ""))

    async def close(self, code: int = 1000, *, timeout: float = 1.0) -> None:
        """Close politely (close frame, wait briefly for the server's), then drop the socket."""
        try:
            if self.closed is None and self._protocol.state is State.OPEN:
                self._protocol.send_close(code)
                await asyncio.wait_for(self._flush(), timeout)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + timeout
                while self.closed is None and loop.time() < deadline:
                    if await self.recv(deadline - loop.time()) is None:
                        break
        except (ConnectionError, ssl.SSLError, OSError, TimeoutError, RuntimeError,
                InvalidState):
            pass
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop the TCP connection at once."""
        transport = self._writer.transport
        if not transport.is_closing():
            transport.abort()


def _closed(close: Close) -> ClosedByServer:
    return ClosedByServer(int(close.code), close.reason)
