"""The checks a hub subclass cannot break: pongs (T1) and coverage (F2), with other servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side

from tests.verify.conftest import neighbours, verify_hub, verify_url
from wsprobe.scenario.events import Status
from wsprobe.server import ServerConfig


def test_server_that_never_pongs_fails_ping_pong(monkeypatch: pytest.MonkeyPatch):
    """A server whose WebSocket layer ignores pings fails T1 alone."""
    answer = Protocol.recv_frame

    def deaf(self: Protocol, frame: Frame) -> None:
        if self.side is Side.SERVER and frame.opcode is Opcode.PING:
            return
        answer(self, frame)

    monkeypatch.setattr(Protocol, "recv_frame", deaf)
    result = verify_hub(checks=neighbours("ping-pong"))
    assert result.failed == {"ping-pong"}
    assert "no pong" in result.check("ping-pong").reason


def test_coverage_warns_about_a_declared_type_nobody_sent(tmp_path: Path):
    """A server-to-client type declared by an overlay but never sent is a coverage warning."""
    folder = tmp_path / "server-to-client"
    folder.mkdir()
    (folder / "typing.json").write_text(json.dumps({
        "type": "object", "required": ["type"], "properties": {"type": {"const": "typing"}}}))
    result = verify_hub(schemas_dir=tmp_path, checks=("message-delivery", "coverage"))
    assert result.warned == {"coverage"} and result.failed == frozenset()
    assert "'typing' was never sent" in result.check("coverage").reason
    assert result.exit_code == 0
    assert verify_hub(schemas_dir=tmp_path, checks=("coverage",), strict=True).exit_code == 1


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A server that accepts every handshake and never sends a frame."""
    async def handler(ws: ServerConnection) -> None:
        async for _ in ws:
            pass

    async with serve(handler, "127.0.0.1", 0, ping_interval=None) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ws/ws"


def test_a_run_that_proves_nothing_is_flagged():
    """Against a server that never answers, P3 fails and coverage says the run proves nothing."""
    async def main() -> None:
        async with silent_server() as url:
            result, _ = await verify_url(url, checks=("registration-answer", "coverage"),
                                         timeout=0.5)
        assert result.check("registration-answer").status is Status.FAILED
        assert result.check("coverage").status is Status.WARNING
        assert "proves nothing" in result.check("coverage").reason
    asyncio.run(main())


def test_server_that_pings_idle_clients_passes_t3():
    """T3 (--idle): a server pinging every 0.3 s is seen pinging within 1.5 s."""
    result = verify_hub(server=ServerConfig(ping_interval=0.3), idle=1.5, checks=("T3",))
    assert result.exit_code == 0 and result.warned == frozenset()
    assert result.check("server-pings").status is Status.PASSED
