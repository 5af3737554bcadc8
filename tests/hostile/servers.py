"""Hostile WebSocket servers: each breaks the client's expectations in one way.

A :class:`HostileServer` listens on 127.0.0.1 (port 0) in a thread of its own and answers every
connection with one :class:`Behaviour`. The handshake is done by hand (so it can be broken), frames
are written unmasked as servers do, and the client's frames are parsed with websockets' sans-I/O
protocol (which also answers pings, except when the behaviour is not to).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import hashlib
import json
import threading
from types import TracebackType
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

from wsprobe.fuzz import encode_frame

__all__ = ["Behaviour", "HostileServer"]

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Behaviour(enum.StrEnum):
    """What the server does wrong."""

    CLOSE_MID_HANDSHAKE = "close-mid-handshake"  # half a 101 response, then the TCP close
    NEVER_HANDSHAKE = "never-handshake"  # reads the request, never answers
    HTTP_ERROR = "http-error"  # 500 Internal Server Error
    GARBAGE = "garbage"  # a valid handshake, then bytes that are no WebSocket frame
    NON_JSON = "non-json"  # answers every frame with text that is not JSON
    BINARY = "binary"  # answers every frame with a binary frame
    ENORMOUS = "enormous"  # a text frame announced as 1 TiB, streamed until the client leaves
    FLOOD = "flood"  # get-users frames as fast as the socket takes them
    STOP_READING = "stop-reading"  # a valid handshake, then never reads or writes again
    NO_PONG = "no-pong"  # a working minimal server that never answers a ping
    DIE_MID_RUN = "die-mid-run"  # a working minimal server that vanishes at the 2nd registration


class HostileServer:
    """``with HostileServer(Behaviour.FLOOD) as url: ...``; stopping drops every connection."""

    def __init__(self, behaviour: Behaviour, *, die_at: int = 2) -> None:
        self.behaviour = behaviour
        self.die_at = die_at
        self.registrations = 0
        self._users: dict[str, set[asyncio.StreamWriter]] = {}
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"hostile-{behaviour}",
                                        daemon=True)
        self.url = ""

    def __enter__(self) -> str:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self.url

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None:
            loop.call_soon_threadsafe(stopped.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws/ws"
        self._ready.set()
        await self._stopped.wait()
        self._die()
        await asyncio.sleep(0)

    def _die(self) -> None:
        """Stop listening and reset every connection, as a killed process would."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()

    # -- one connection ---------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await self._converse(reader, writer)
        except (Exception, asyncio.CancelledError):  # a hostile server never complains
            pass
        finally:
            self._writers.discard(writer)
            for sockets in self._users.values():
                sockets.discard(writer)
            writer.transport.abort()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        b = self.behaviour
        request = await reader.readuntil(b"\r\n\r\n")
        if b is Behaviour.CLOSE_MID_HANDSHAKE:
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n")
            await writer.drain()
            return
        if b is Behaviour.NEVER_HANDSHAKE:
            await reader.read()  # until the client gives up
            return
        if b is Behaviour.HTTP_ERROR:
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n"
                         b"Connection: close\r\n\r\noops\n")
            await writer.drain()
            return
        writer.write(_switching(request))
        await writer.drain()
        if b is Behaviour.GARBAGE:
            writer.write(b"\x0f\xff" * 64 + b"not a websocket frame\r\n")
            await writer.drain()
            await reader.read()
            return
        if b is Behaviour.STOP_READING:
            await asyncio.sleep(3600)
            return
        if b is Behaviour.ENORMOUS:
            await self._enormous(writer)
            return
        if b is Behaviour.FLOOD:
            await self._flood(reader, writer)
            return
        await self._frames(reader, writer)

    async def _enormous(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\x81\x7f" + (1 << 40).to_bytes(8, "big"))
        chunk = b'{"type":"get-users","data":["' + b"x" * 65_000
        for _ in range(16_000):  # at most 1 GB, normally cut short by the client's close
            writer.write(chunk)
            await writer.drain()

    async def _flood(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reading = asyncio.ensure_future(reader.read())
        frame = encode_frame(Opcode.TEXT.value, b'{"type":"get-users","data":["flood"]}',
                             mask=False)
        batch = frame * 200
        try:
            for _ in range(100_000):  # at most 20 million frames; the client leaves long before
                if reading.done():
                    return
                writer.write(batch)
                await writer.drain()
        finally:
            reading.cancel()

    async def _frames(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        protocol = Protocol(Side.SERVER, state=State.OPEN, max_size=None)
        if self.behaviour is Behaviour.NON_JSON:
            await self._send(writer, "this is not JSON {")
        elif self.behaviour is Behaviour.BINARY:
            await self._send(writer, b"\x00\x01binary")
        while True:
            data = await reader.read(65_536)
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            for event in protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    await self._answer(writer, bytes(event.data))
            for chunk in protocol.data_to_send():
                if chunk and not (self.behaviour is Behaviour.NO_PONG and chunk[0] == 0x8A):
                    writer.write(chunk)
            await writer.drain()
            if not data or protocol.state is State.CLOSED:
                return

    async def _send(self, writer: asyncio.StreamWriter, payload: str | bytes) -> None:
        opcode = Opcode.BINARY if isinstance(payload, bytes) else Opcode.TEXT
        data = payload if isinstance(payload, bytes) else payload.encode()
        writer.write(encode_frame(opcode.value, data, mask=False))
        await writer.drain()

    async def _answer(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if self.behaviour is Behaviour.NON_JSON:
            await self._send(writer, "this is not JSON {")
            return
        if self.behaviour is Behaviour.BINARY:
            await self._send(writer, b"\x00\x01binary")
            return
        try:
            message: Any = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        data_field = message.get("data")
        if message.get("type") == "new-user-add":
            user = message.get("userId") or (
                data_field.get("userId") if isinstance(data_field, dict) else None)
            if not isinstance(user, str):
                return
            self.registrations += 1
            if self.behaviour is Behaviour.DIE_MID_RUN and self.registrations >= self.die_at:
                self._die()
                return
            self._users.setdefault(user, set()).add(writer)
            frame = json.dumps({"type": "get-users", "data": sorted(self._users)})
            for sockets in self._users.values():
                for other in list(sockets):
                    with contextlib.suppress(ConnectionError, OSError):
                        await self._send(other, frame)
        elif message.get("type") == "send-message" and isinstance(data_field, dict):
            to = data_field.get("receiverId")
            out = json.dumps({"type": "receive-message", "data": {
                "chatId": str(data_field.get("chatId")), "senderId": "someone",
                "text": str(data_field.get("text"))}})
            for other in list(self._users.get(to, ())) if isinstance(to, str) else ():
                with contextlib.suppress(ConnectionError, OSError):
                    await self._send(other, out)


def _switching(request: bytes) -> bytes:
    key = ""
    for line in request.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode()
