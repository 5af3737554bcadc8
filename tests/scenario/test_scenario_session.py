"""The programmatic API (what ``wsprobe verify`` builds on), against real servers on port 0."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.scenario import hubs
from tests.scenario.servers import closed_port
from wsprobe.core import Direction
from wsprobe.errors import InputError
from wsprobe.output import Recorder
from wsprobe.scenario import (
    FindingCode,
    FrameSeen,
    Refusal,
    Session,
    Severity,
    StepFinished,
    StepStarted,
)

from .conftest import SCHEMAS, backend, session_test


async def register(session: Session, name: str, socket: str = "main") -> Any:
    """Connect ``name``'s socket and register it; returns the socket."""
    sock = await session.actor(name).connect(socket)
    await sock.send({"type": "new-user-add", "userId": name})
    await sock.expect("get-users", where={"data": {"contains": name}})
    return sock


def test_expect_returns_first_matching_frame_and_leaves_the_rest() -> None:
    """expect takes the first frame that satisfies the predicates; earlier ones stay queued."""
    async def body(s: Session) -> list[str]:
        alice, bob = await register(s, "alice"), await register(s, "bob")
        for text in ("one", "two", "three"):
            await alice.send({"type": "send-message",
                              "data": {"receiverId": "bob", "text": text, "chatId": "c"}})
        (third,) = await bob.expect("receive-message", where={"data.text": "three"})
        rest = await bob.expect("receive-message", count=2)
        return [third.envelope["data"]["text"], *(f.envelope["data"]["text"] for f in rest)]

    session, texts = session_test(body)
    assert texts == ["three", "one", "two"]
    assert session.findings == []


def test_non_fatal_expect_records_and_goes_on() -> None:
    """fatal=False: a miss is a finding, the program continues; receive() never makes one."""
    async def body(s: Session) -> tuple[int, Any]:
        alice = await register(s, "alice")
        got = await alice.expect("receive-message", timeout=0.1, fatal=False,
                                 severity=Severity.WARNING, title="no chat for alice")
        nothing = await alice.receive("receive-message", timeout=0.05)
        return len(got), nothing

    session, (count, nothing) = session_test(body)
    assert (count, nothing) == (0, None)
    (finding,) = session.findings
    assert (finding.title, finding.severity) == ("no chat for alice", Severity.WARNING)


def test_fatal_failure_stops_the_body_inside_session() -> None:
    """A fatal miss raises StepFailed, which the session swallows: code after it does not run."""
    reached: list[bool] = []

    async def body(s: Session) -> None:
        alice = await register(s, "alice")
        await alice.expect("receive-message", timeout=0.1)
        reached.append(True)

    session, _ = session_test(body)
    assert reached == []
    assert [f.code for f in session.findings] == [FindingCode.TIMEOUT]


def test_refusal_is_distinguishable() -> None:
    """expect_refused returns the HTTP status; an unexpected refusal marks the session
    unreachable when nothing ever connected."""
    async def body(s: Session) -> Refusal | None:
        return await s.actor("x").socket().connect(expect_refused=True)

    session, refusal = session_test(body, fault="refuse")
    assert refusal == Refusal(403, "handshake refused with HTTP 403")
    assert session.findings == [] and session.unreachable is None

    async def plain(s: Session) -> None:
        await s.actor("x").connect()

    session, _ = session_test(plain, fault="refuse")
    assert session.unreachable is not None
    assert session.unreachable.code == FindingCode.REFUSED


def test_closed_port_is_unreachable() -> None:
    """Nothing listening: a refusal with no HTTP status, and the session is unreachable."""
    async def main() -> Session:
        url = await closed_port()
        async with Session(url, schemas=SCHEMAS, open_timeout=1) as s:
            await s.actor("a").connect()
        return s

    session = asyncio.run(main())
    assert session.unreachable is not None
    assert "connection refused" in session.unreachable.actual


@pytest.mark.parametrize(("kwargs", "status"), [
    ({}, 401), ({"query": {"token": "nope"}}, 401), ({"query": {"token": "s3cret"}}, None),
    ({"query": {"token": "s3cret"}, "origin": "https://evil.example"}, 403),
    ({"query": {"token": "s3cret"}, "origin": "https://app.example"}, None),
], ids=["no-token", "wrong-token", "token", "foreign-origin", "allowed-origin"])
def test_connect_options_reach_the_server(kwargs: dict[str, Any], status: int | None) -> None:
    """query (?token=) and Origin are sent with the handshake; refusals carry their status."""
    async def main() -> Refusal | None:
        async with backend(token="s3cret", allowed_origins=("https://app.example",)) as url, \
                Session(url, schemas=SCHEMAS) as s:
            return await s.actor("a").socket().connect(expect_refused=True, **kwargs)

    refusal = asyncio.run(main())
    assert (refusal.status if refusal else None) == status


def test_headers_and_subprotocols() -> None:
    """Extra headers and subprotocols are offered in the handshake."""
    async def echo(ws: ServerConnection) -> None:
        assert ws.request is not None
        await ws.send(json.dumps({"type": "get-users",
                                  "data": [ws.request.headers.get("X-Trace", ""),
                                           ws.subprotocol or ""]}))
        await ws.wait_closed()

    async def main() -> list[str]:
        async with serve(echo, "127.0.0.1", 0, subprotocols=["v1"]) as server:
            port = server.sockets[0].getsockname()[1]
            async with Session(f"ws://127.0.0.1:{port}/", schemas=SCHEMAS) as s:
                sock = await s.actor("a").connect(headers={"X-Trace": "t-1"},
                                                  subprotocols=["v1"])
                (frame,) = await sock.expect("get-users")
                return list(frame.envelope["data"])

    assert asyncio.run(main()) == ["t-1", "v1"]


@pytest.mark.parametrize(("verb", "server_sees"), [("drop", 1006), ("close", 1000)],
                         ids=["drop", "close"])
def test_drop_sends_no_close_frame(verb: str, server_sees: int) -> None:
    """drop aborts TCP (the server sees 1006, no close frame); close sends 1000."""
    codes: list[int | None] = []
    closed = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()
        codes.append(ws.close_code)
        closed.set()

    async def main() -> str | None:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with Session(f"ws://127.0.0.1:{port}/", schemas=SCHEMAS) as s:
                sock = await s.actor("a").connect()
                await getattr(sock, verb)()
                await asyncio.wait_for(closed.wait(), 2)
                return sock.closed_by

    assert asyncio.run(main()) == ("drop" if verb == "drop" else "client")
    assert codes == [server_sees]


@pytest.mark.parametrize(("hub", "expected"), [(None, 1003), (hubs.KeepsBinary, None)],
                         ids=["reference", "keeps-binary"])
def test_expect_close(hub: Any, expected: int | None) -> None:
    """expect_close returns the server's close code; a server that keeps the socket is a
    finding."""
    async def body(s: Session) -> int | None:
        alice = await register(s, "alice")
        await alice.send(b"\x00\x01")
        return await alice.expect_close([1003], timeout=0.3, fatal=False)

    session, code = session_test(body, hub=hub)
    if expected is not None:
        assert (code, session.findings) == (expected, [])
    else:
        assert [f.code for f in session.findings] == [FindingCode.NOT_CLOSED]


def test_event_stream_of_a_session() -> None:
    """Each operation is a step with started/finished events; frames carry direction and step."""
    recorder = Recorder()

    async def body(s: Session) -> None:
        await register(s, "alice")

    session_test(body, emit=recorder.handle)
    kinds = [(type(e).__name__, getattr(getattr(e, "step", None), "kind", None))
             for e in recorder.events if not isinstance(e, FrameSeen)]
    assert kinds == [("StepStarted", "connect"), ("StepFinished", "connect"),
                     ("StepStarted", "send"), ("StepFinished", "send"),
                     ("StepStarted", "expect"), ("StepFinished", "expect")]
    frames = [e for e in recorder.events if isinstance(e, FrameSeen)]
    assert [f.frame.direction for f in frames] == [Direction.CLIENT, Direction.SERVER]
    assert frames[0].step is not None and frames[0].step.kind == "send"
    starts = [e for e in recorder.events if isinstance(e, StepStarted)]
    ends = [e for e in recorder.events if isinstance(e, StepFinished)]
    assert [e.step for e in starts] == [e.step for e in ends]


def test_explicit_step_groups_operations() -> None:
    """session.step() makes one step of several operations; findings land on it."""
    recorder = Recorder()

    async def body(s: Session) -> None:
        async with s.step("check", "P3 each socket gets the list", location="rules.py:1"):
            await register(s, "alice")
            await s.actor("alice").expect("get-users", timeout=0.05)

    session, _ = session_test(body, emit=recorder.handle)
    (finding,) = session.findings
    assert finding.step == "step 1: P3 each socket gets the list"
    assert finding.location == "rules.py:1"
    (end,) = recorder.of(StepFinished)
    assert isinstance(end, StepFinished) and end.status.value == "failed"


def test_script_mistakes_are_input_errors() -> None:
    """Expecting on a socket never connected is the script's mistake: InputError, not a finding."""
    async def body(s: Session) -> None:
        await s.actor("a").socket().expect("get-users")

    with pytest.raises(InputError, match="not connected yet"):
        session_test(body)
