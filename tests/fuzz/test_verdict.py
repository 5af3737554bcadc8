"""judge(): observations in, findings out (protocol.md R1 to R3), with no I/O."""

from __future__ import annotations

import pytest

from wsprobe.fuzz import (
    Canary,
    CanaryState,
    ClosedByServer,
    Expect,
    FuzzCase,
    Observation,
    WireFrame,
    judge,
)
from wsprobe.scenario.findings import Severity

OK = Canary(CanaryState.OK)


def _case(expect: Expect, payload: bytes = b"{}") -> FuzzCase:
    return FuzzCase("g", (WireFrame(0x9 if expect is Expect.PONG else 1, payload),), expect,
                    user="u", label="l")


@pytest.mark.parametrize(("obs", "codes"), [
    (Observation(_case(Expect.INVALID), OK, errors=1, synced=True), []),
    (Observation(_case(Expect.INVALID), OK, closed=ClosedByServer(1007)), []),
    (Observation(_case(Expect.INVALID), OK, closed=ClosedByServer(1009)), []),
    (Observation(_case(Expect.INVALID), OK, synced=True), ["silent-drop"]),
    (Observation(_case(Expect.INVALID), OK), ["no-answer"]),
    (Observation(_case(Expect.INVALID), OK, closed=ClosedByServer(1006)), ["close-without-code"]),
    (Observation(_case(Expect.INVALID), OK, closed=ClosedByServer(1000)), ["unexpected-close-code"]),
    (Observation(_case(Expect.INVALID), OK, closed=ClosedByServer(1011)), ["internal-error"]),
    (Observation(_case(Expect.VALID), OK, synced=True), []),
    (Observation(_case(Expect.VALID), OK, closed=ClosedByServer(1008)), ["closed-on-valid"]),
    (Observation(_case(Expect.VALID), OK, closed=ClosedByServer(1009)), []),
    (Observation(_case(Expect.LIMIT), OK, synced=True), []),
    (Observation(_case(Expect.LIMIT), OK, closed=ClosedByServer(1009)), []),
    (Observation(_case(Expect.PONG, b"p"), OK, pongs=(b"p",), synced=True), []),
    (Observation(_case(Expect.PONG, b"p"), OK, pongs=(b"q",), synced=True), ["no-pong"]),
    (Observation(_case(Expect.CLOSE), OK, closed=ClosedByServer(1000)), []),
    (Observation(_case(Expect.INVALID), Canary(CanaryState.STOPPED, "refused")), ["server-stopped"]),
    (Observation(_case(Expect.VALID), Canary(CanaryState.STALLED, "slow"), synced=True), ["server-stalled"]),
    (Observation(_case(Expect.VALID), Canary(CanaryState.REFUSED, "503"), synced=True), ["server-refusing"]),
    (Observation(_case(Expect.VALID), OK, synced=True, observer_closed=ClosedByServer(1011)),
     ["other-socket-closed"]),
    (Observation(_case(Expect.VALID), OK, synced=True, send_stalled=True), ["stopped-reading"]),
    (Observation(_case(Expect.VALID), OK, synced=True, bad_frames=("x",)), ["invalid-frame"]),
], ids=["error-frame", "close-1007", "close-1009", "silent", "no-answer", "no-close-frame",
        "close-1000", "close-1011", "valid", "valid-closed", "valid-too-big", "limit-served", "limit-1009",
        "pong", "wrong-pong", "close", "stopped", "stalled", "refusing", "observer", "not-reading",
        "bad-frame"])
def test_judge(obs: Observation, codes: list[str]) -> None:
    """Each observation makes exactly the findings the protocol calls for."""
    assert [f.code for f in judge(obs, 2.0)] == codes


def test_failures_hide_warnings() -> None:
    """When the server stopped, the missing answer is not reported a second time as a warning."""
    obs = Observation(_case(Expect.INVALID), Canary(CanaryState.STOPPED, "gone"))
    (finding,) = judge(obs, 2.0)
    assert finding.severity is Severity.FAILURE
    assert finding.rule == "R1"
    assert finding.step == "g: l"


def test_server_exit_is_evidence() -> None:
    """How a managed server ended is part of the stopped finding."""
    obs = Observation(_case(Expect.INVALID), Canary(CanaryState.STOPPED, "refused"),
                      server_exit="the server exited with code 70")
    assert "code 70" in judge(obs, 2.0)[0].actual
