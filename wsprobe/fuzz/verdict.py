"""What one case showed, and the findings it makes (no I/O).

:class:`Observation` is everything the probe saw for one case: the answers on the fuzzed socket
before the sync message came back, how the socket closed, the pongs, frames that broke the
server-to-client schemas, and whether a fresh canary could still register and deliver a message to
the long-lived observer. :func:`judge` turns it into findings (protocol.md R1 to R3).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from wsprobe.fuzz.cases import Expect, FuzzCase
from wsprobe.fuzz.wire import ClosedByServer
from wsprobe.scenario.findings import Finding, Severity

__all__ = ["ACCEPTED_CLOSE_CODES", "Canary", "CanaryState", "Observation", "judge"]

#: close codes that answer bad input well: protocol error, binary, invalid UTF-8, policy, too big
ACCEPTED_CLOSE_CODES = frozenset({1002, 1003, 1007, 1008, 1009})


class CanaryState(enum.StrEnum):
    """How the canary fared after a case."""

    OK = "ok"
    STOPPED = "stopped"  # connection refused or reset: the server is gone
    STALLED = "stalled"  # it accepted TCP but did not finish a handshake, register or deliver
    REFUSED = "refused"  # it answered the handshake with an HTTP error


@dataclass(frozen=True, slots=True)
class Canary:
    """The canary's outcome, with what it saw."""

    state: CanaryState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Observation:
    """Everything seen while running one case and the canary after it."""

    case: FuzzCase
    canary: Canary
    connect_error: str | None = None
    answers: tuple[str, ...] = ()
    errors: int = 0
    pongs: tuple[bytes, ...] = ()
    closed: ClosedByServer | None = None
    synced: bool = False
    send_stalled: bool = False
    bad_frames: tuple[str, ...] = ()
    observer_closed: ClosedByServer | None = None
    server_exit: str | None = None
    notes: tuple[str, ...] = field(default=())


def _finding(obs: Observation, code: str, title: str, severity: Severity, rule: str,  # noqa: PLR0917  # one call per finding kind reads best positionally
             expected: str, actual: str) -> Finding:
    return Finding(title=title, code=code, expected=expected, actual=actual, severity=severity,
                   rule=rule, step=f"{obs.case.group}: {obs.case.label}", actor="fuzz")


def judge(obs: Observation, answer_timeout: float) -> tuple[Finding, ...]:
    """The findings of one observation: failures first, then warnings."""
    failures = list(_failures(obs))
    return (*failures, *_warnings(obs, answer_timeout, bool(failures)))


def _failures(obs: Observation) -> list[Finding]:
    out: list[Finding] = []
    canary = obs.canary
    if canary.state is CanaryState.STOPPED:
        why = f"; {obs.server_exit}" if obs.server_exit else ""
        out.append(_finding(obs, "server-stopped", "the server stopped after this case",
                            Severity.FAILURE, "R1", "a fresh client can still connect and "
                            "register", canary.detail + why))
    elif canary.state is CanaryState.STALLED:
        out.append(_finding(obs, "server-stalled", "the server stalled after this case",
                            Severity.FAILURE, "R3", "a fresh client registers and delivers a "
                            "message within the time limit", canary.detail))
    elif canary.state is CanaryState.REFUSED:
        out.append(_finding(obs, "server-refusing", "the server refused new clients after this "
                            "case", Severity.FAILURE, "R3", "the handshake of a fresh client "
                            "succeeds", canary.detail))
    if obs.observer_closed is not None and canary.state is CanaryState.OK:
        out.append(_finding(obs, "other-socket-closed", "this case closed another client's socket",
                            Severity.FAILURE, "R1", "bad input on one socket never affects others",
                            f"the observer socket closed with {obs.observer_closed.code}"))
    if obs.closed is not None and obs.closed.code == 1011:
        out.append(_finding(obs, "internal-error", "the server failed on this input (close 1011)",
                            Severity.FAILURE, "R1", "an error frame or a close with 1002, 1003, "
                            "1007, 1008 or 1009", f"close 1011 {obs.closed.reason!r}"))
    if obs.send_stalled:
        out.append(_finding(obs, "stopped-reading", "the server stopped reading this socket",
                            Severity.FAILURE, "R3", "the server reads what a client sends",
                            "writing the case did not finish within the time limit"))
    if obs.case.expect is Expect.PONG and obs.closed is None and \
            obs.case.frames[-1].payload not in obs.pongs:
        out.append(_finding(obs, "no-pong", "no pong for a ping", Severity.FAILURE, "transport",
                            "a pong with the ping's payload (RFC 6455 5.5.2)",
                            f"pongs seen: {[p[:20] for p in obs.pongs]}"))
    for text in obs.bad_frames[:1]:
        out.append(_finding(obs, "invalid-frame", "the server sent a frame that breaks the "
                            "server-to-client schemas", Severity.FAILURE, "schema",
                            "frames that fit the schemas", text))
    return out


def _warnings(obs: Observation, answer_timeout: float, failed: bool) -> list[Finding]:
    if failed or obs.connect_error is not None:
        return []
    expect, closed = obs.case.expect, obs.closed
    # 1009: the message, valid as it is, is over the server's size limit (X3), a fair answer
    if expect is Expect.VALID and closed is not None and closed.code not in (1000, 1001, 1009):
        return [_finding(obs, "closed-on-valid", "the server closed the socket on a valid "
                         "message", Severity.WARNING, "R1", "a valid message is served",
                         f"close {closed.code} {closed.reason!r}")]
    if expect not in (Expect.INVALID, Expect.LIMIT):
        return []
    if closed is not None:
        if closed.code in ACCEPTED_CLOSE_CODES:
            return []
        if not closed.clean:
            return [_finding(obs, "close-without-code", "bad input made the server drop the "
                             "connection without a close code", Severity.WARNING, "R2",
                             "an error frame or a close with 1002, 1003, 1007, 1008 or 1009",
                             "the TCP connection closed with no close frame")]
        return [_finding(obs, "unexpected-close-code", f"bad input answered with close code "
                         f"{closed.code}", Severity.WARNING, "R2",
                         "an error frame or a close with 1002, 1003, 1007, 1008 or 1009",
                         f"close {closed.code} {closed.reason!r}")]
    if obs.errors or expect is Expect.LIMIT:
        return []
    if obs.synced:
        return [_finding(obs, "silent-drop", "bad input dropped silently", Severity.WARNING,
                         "R2", "an error frame or a close code",
                         "no error frame; the next message was served normally")]
    return [_finding(obs, "no-answer", "no answer to bad input", Severity.WARNING, "R2",
                     "an error frame or a close code",
                     f"neither an error nor the next message's delivery within {answer_timeout} s")]
