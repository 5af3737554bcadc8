"""Bugs the fuzzer found, pinned: each input once broke the reference backend or the core."""

from __future__ import annotations

import asyncio
import json

import pytest

from wsprobe.core import Direction, load_schemas
from wsprobe.fuzz import ClosedByServer, Incoming, RawSocket
from wsprobe.server import ServerConfig, running


async def _next_text(sock: RawSocket, timeout: float = 2.0) -> dict[str, object]:
    got = await sock.recv(timeout)
    assert isinstance(got, Incoming), f"expected a frame, got {got!r}"
    text = got.text()
    assert text is not None
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


def test_lone_surrogate_user_id_does_not_silence_presence() -> None:
    """A user registered as "\\ud800" (a JSON escape) neither kills its socket nor other users' get-users."""
    async def scenario() -> None:
        async with running(ServerConfig(port=0)) as server:
            alice = await RawSocket.connect(server.url, timeout=2)
            await alice.send_text('{"type":"new-user-add","userId":"alice"}', timeout=2)
            assert (await _next_text(alice))["type"] == "get-users"
            odd = await RawSocket.connect(server.url, timeout=2)
            await odd.send_text('{"type":"new-user-add","userId":"\\ud800"}', timeout=2)
            answer = await odd.recv(2)
            assert not isinstance(answer, ClosedByServer), f"closed: {answer}"
            users = await _next_text(alice)
            assert users == {"type": "get-users", "data": ["alice", "\ud800"]}
            for sock in (alice, odd):
                await sock.close()
    asyncio.run(scenario())


@pytest.mark.parametrize("frame", [
    '{"type":"send-message","data":' + "9" * 5000 + "}",
    '{"type":"send-message","data":{"text":' + "[" * 900 + "]" * 900 + "}}",
], ids=["5000-digit-number", "nested-900-deep"])
def test_core_check_never_raises(frame: str) -> None:
    """SchemaSet.check answers a problem for a frame Python's json and jsonschema cannot take."""
    decoded = load_schemas().check(frame, Direction.CLIENT, 0.0)
    assert decoded.problems


@pytest.mark.parametrize(("frame", "ok"), [
    ('{"type":"user-status-update","data":{"userId":"\\ud800","status":"away"}}', True),
    ('{"type":"user-status-update","data":{"userId":"\\ud800","status":"\\ud800"}}', False),
], ids=["valid", "invalid"])
def test_core_check_takes_lone_surrogates(frame: str, ok: bool) -> None:
    """A lone surrogate escape (valid JSON) is validated, not a UnicodeEncodeError."""
    assert load_schemas().check(frame, Direction.CLIENT, 0.0).ok is ok
