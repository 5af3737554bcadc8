"""The raw client: real handshakes with the reference backend, frames no normal client sends."""

from __future__ import annotations

import asyncio

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from wsprobe.fuzz import ClosedByServer, HandshakeFailed, Incoming, RawSocket, encode_frame
from wsprobe.server import ServerConfig, running

from .conftest import free_port


@pytest.mark.parametrize(("opcode", "payload", "fin", "rsv"), [
    (0x1, b"hello", True, 0), (0x2, b"\x00" * 300, False, 0), (0x1, b"x" * 70_000, True, 0),
    (0x9, b"", True, 0),
], ids=["text", "binary-fragment", "64-bit-length", "ping"])
def test_encode_frame_parses_back(opcode: int, payload: bytes, fin: bool, rsv: int) -> None:
    """websockets' own parser reads back what encode_frame writes (masked, any length)."""
    reader = StreamReader()
    reader.feed_data(encode_frame(opcode, payload, fin=fin, rsv=rsv))
    parser = Frame.parse(reader.read_exact, mask=True)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    assert (frame.opcode, frame.data, frame.fin) == (Opcode(opcode), payload, fin)


def test_round_trip_with_the_reference_backend() -> None:
    """Register, get get-users, send a raw invalid-UTF-8 frame, read the 1007 close."""
    async def scenario() -> None:
        async with running(ServerConfig(port=0)) as server:
            sock = await RawSocket.connect(server.url, timeout=2)
            await sock.send_text('{"type":"new-user-add","userId":"a"}', timeout=2)
            got = await sock.recv(2)
            assert isinstance(got, Incoming) and got.text() == '{"type":"get-users","data":["a"]}'
            await sock.send_raw(encode_frame(0x1, b"\xff"), timeout=2)
            closed = await sock.recv(2)
            assert isinstance(closed, ClosedByServer) and closed.code == 1007
            await sock.close()
    asyncio.run(scenario())


def test_handshake_refused_with_status() -> None:
    """A 404 from the server is a HandshakeFailed carrying the status."""
    async def scenario() -> None:
        async with running(ServerConfig(port=0)) as server:
            with pytest.raises(HandshakeFailed) as info:
                await RawSocket.connect(server.url.replace("/ws/ws", "/nope"), timeout=2)
            assert info.value.status == 404
    asyncio.run(scenario())


def test_connection_refused_and_silence_time_out() -> None:
    """Nothing listening is an OSError; a listener that never answers is a TimeoutError."""
    async def scenario() -> None:
        with pytest.raises(OSError):
            await RawSocket.connect(f"ws://127.0.0.1:{free_port()}/ws/ws", timeout=2)
        accepted: list[asyncio.StreamWriter] = []
        server = await asyncio.start_server(lambda r, w: accepted.append(w), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(TimeoutError):
                await RawSocket.connect(f"ws://127.0.0.1:{port}/ws/ws", timeout=0.3)
            for writer in accepted:
                writer.close()
    asyncio.run(scenario())
