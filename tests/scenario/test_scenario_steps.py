"""Each kind of step fails, with a finding at that step, against a server that breaks its rule.

The same scenario passes against the reference backend (``*_passes`` twins), so the failures
come from the server's fault, not from the scenario.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.scenario import hubs
from wsprobe.scenario import CaseResult, FindingCode, Severity, Status, parse_scenario, run_scenario
from wsprobe.server import Hub, ServerConfig, spawn

from .conftest import SCHEMAS, play

SETUP = """\
vars: {alice: "alice-${run_id}", bob: "bob-${run_id}", carol: "carol-${run_id}"}
actors:
  alice: {}
  bob: {sockets: [web, phone]}
  carol: {}
steps:
  - connect: alice
  - connect: bob
  - connect: carol
  - send: {actor: alice, frame: {type: new-user-add, userId: "${alice}"}}
  - send: {actor: bob, socket: "*", frame: {type: new-user-add, userId: "${bob}"}}
  - send: {actor: carol, frame: {type: new-user-add, userId: "${carol}"}}
  - expect: {actor: alice, type: get-users, where: {data: {contains: "${carol}"}}}
"""
CHAT = SETUP + """\
  - send: {actor: alice, frame: {type: send-message, data: {receiverId: "${bob}", text: hi, chatId: c}}}
  - expect: {actor: bob, type: receive-message, where: {data.text: hi, data.senderId: "${alice}"}}
  - expect_none: {actor: carol, type: receive-message, within: 200ms}
"""


def only_failure(result: CaseResult) -> tuple[str, str, str]:
    """The code, step and location of the one failure of a failed result."""
    assert result.status is Status.FAILED, result
    (finding,) = result.failures
    assert finding.step is not None and finding.location is not None
    return finding.code, finding.step, finding.location


def test_chat_passes_against_reference() -> None:
    """The chat scenario passes against the reference backend."""
    result = play(CHAT)
    assert result.status is Status.PASSED, result.findings


def test_expect_fails_on_dropped_relay() -> None:
    """expect: a relay that drops messages fails at the expect, on every socket of bob."""
    result = play(CHAT, hub=hubs.DropChat)
    assert result.status is Status.FAILED
    codes = {(f.code, f.socket) for f in result.findings}
    assert codes == {(FindingCode.TIMEOUT, "web"), (FindingCode.TIMEOUT, "phone")}
    assert all(f.location == "test.yaml:15:5" for f in result.findings)
    assert "did not receive receive-message" in result.findings[0].title


def test_expect_fails_on_wrong_user() -> None:
    """expect: a message delivered to the wrong user never reaches the receiver."""
    code, _step, location = only_failure(play(CHAT.replace("socket: \"*\"", "socket: web")
                                             .replace("sockets: [web, phone]", "sockets: [web]"),
                                             hub=hubs.WrongUser))
    assert (code, location) == (FindingCode.TIMEOUT, "test.yaml:15:5")


def test_expect_none_fails_on_cross_talk() -> None:
    """expect_none: carol receiving bob's message is a finding at that step."""
    text = CHAT.replace("  - expect: {actor: bob, type: receive-message", "  # ")
    code, step, location = only_failure(play(text, hub=hubs.WrongUser))
    assert (code, location) == (FindingCode.UNEXPECTED_FRAME, "test.yaml:16:5")
    assert step.startswith("step 9: carol gets no receive-message")


def test_expect_every_socket_fails_when_one_socket_misses() -> None:
    """expect on an actor: every socket must get it; the one that did not is named."""
    result = play(CHAT, hub=hubs.FirstSocketOnly)
    (finding,) = result.findings
    assert (finding.actor, finding.socket) == ("bob", "phone")


def test_expect_any_socket_passes_when_one_socket_gets_it() -> None:
    """sockets: any is satisfied by one socket."""
    text = CHAT.replace("data.senderId: \"${alice}\"}}", "data.senderId: \"${alice}\"}, sockets: any}")
    assert play(text, hub=hubs.FirstSocketOnly).status is Status.PASSED


ORDER = SETUP + """\
  - send: {actor: alice, frame: {type: send-message, data: {receiverId: "${carol}", text: one, chatId: c}}}
  - send: {actor: alice, frame: {type: send-message, data: {receiverId: "${carol}", text: two, chatId: c}}}
  - send: {actor: alice, frame: {type: send-message, data: {receiverId: "${carol}", text: three, chatId: c}}}
  - expect:
      actor: carol
      type: receive-message
      in_order: [{data.text: one}, {data.text: two}, {data.text: three}]
"""


@pytest.mark.parametrize(("hub", "status"), [(Hub, Status.PASSED), (hubs.Reversed, Status.FAILED)],
                         ids=["reference", "reversed"])
def test_expect_in_order(hub: type[Hub], status: Status) -> None:
    """in_order: messages delivered in reverse are a finding that shows what came first."""
    result = play(ORDER, hub=hub)
    assert result.status is status
    if status is Status.FAILED:
        (finding,) = result.findings
        assert finding.code == FindingCode.OUT_OF_ORDER
        assert 'data.text is "three"' in finding.actual


def test_expect_first_match_not_next_frame() -> None:
    """expect takes the first frame that matches, skipping others queued before it."""
    text = ORDER.replace("in_order: [{data.text: one}, {data.text: two}, {data.text: three}]",
                         "where: {data.text: three}") + """\
  - expect: {actor: carol, type: receive-message, where: {data.text: one}, timeout: 0s}
"""
    assert play(text).status is Status.PASSED


CAPTURE = SETUP + """\
  - send: {actor: alice, frame: {type: agora-signal, data: {action: call-request, targetId: "${carol}", channel: ch-1, callType: video}}}
  - capture: {actor: carol, type: agora-signal, values: {channel: data.channel}}
  - send: {actor: carol, frame: {type: agora-signal, data: {action: call-accepted, targetId: "${alice}", channel: "${channel}"}}}
  - expect: {actor: alice, type: agora-signal, where: {data.channel: ch-1}}
"""


@pytest.mark.parametrize(("hub", "status"), [(Hub, Status.PASSED), (hubs.NoChannel, Status.FAILED)],
                         ids=["reference", "no-channel"])
def test_capture(hub: type[Hub], status: Status) -> None:
    """capture: a value missing from the matched frame is a finding at the capture step."""
    result = play(CAPTURE, hub=hub)
    assert result.status is status
    if status is Status.FAILED:
        assert only_failure(result)[::2] == (FindingCode.CAPTURE, "test.yaml:15:5")


HEARTBEAT = SETUP + """\
  - every:
      interval: heartbeat
      times: 3
      steps:
        - send: {actor: alice, frame: {type: user-status-update, data: {userId: "${alice}", status: online}}}
        - expect: {actor: carol, type: user-status-update, where: {data.userId: "${alice}"}}
"""


def test_every_repeats_at_the_heartbeat() -> None:
    """every: three sends a heartbeat apart; the runner's compressed interval is used."""
    started = time.monotonic()
    result = play(HEARTBEAT, heartbeat=0.1)
    assert result.status is Status.PASSED
    assert time.monotonic() - started >= 0.2
    sent = [f for f in result.frames if f.type == "user-status-update" and f.actor == "alice"]
    assert len(sent) == 3


def test_every_fails_inside_the_loop() -> None:
    """every: a heartbeat the server does not relay fails at the inner step, first round."""
    code, step, location = only_failure(play(HEARTBEAT, hub=hubs.NoStatusRelay))
    assert (code, location) == (FindingCode.TIMEOUT, "test.yaml:19:11")
    assert step.startswith("step 8.1.2")


PARALLEL = SETUP + """\
  - parallel:
      - - send: {actor: alice, frame: {type: send-message, data: {receiverId: "${bob}", text: a, chatId: c}}}
        - expect: {actor: alice, type: receive-message, where: {data.text: b}}
      - - send: {actor: bob, socket: web, frame: {type: send-message, data: {receiverId: "${alice}", text: b, chatId: c}}}
        - expect: {actor: bob, type: receive-message, where: {data.text: a}}
"""


@pytest.mark.parametrize(("hub", "status"), [(Hub, Status.PASSED), (hubs.DropChat, Status.FAILED)],
                         ids=["reference", "dropped"])
def test_parallel(hub: type[Hub], status: Status) -> None:
    """parallel: both branches run at once; each failing branch reports its own step."""
    result = play(PARALLEL, hub=hub)
    assert result.status is status
    if status is Status.FAILED:
        steps = sorted(f.step.split(":")[0] for f in result.findings if f.step)
        assert steps[0].startswith("step 8.1.2") and steps[-1].startswith("step 8.2.2")


LEAVE = SETUP + """\
  - {drop_or_close}
  - expect: {actor: carol, type: get-users, where: {data: {not_contains: "${alice}"}}}
"""


@pytest.mark.parametrize("step", ["drop: alice", "close: alice"], ids=["drop", "close"])
@pytest.mark.parametrize(("hub", "status"), [(Hub, Status.PASSED), (hubs.Ghosts, Status.FAILED)],
                         ids=["reference", "ghosts"])
def test_drop_and_close(step: str, hub: type[Hub], status: Status) -> None:
    """drop/close: a server that keeps a gone user in the list fails the next expect."""
    result = play(LEAVE.replace("{drop_or_close}", step), hub=hub)
    assert result.status is status
    if status is Status.FAILED:
        assert only_failure(result)[::2] == (FindingCode.TIMEOUT, "test.yaml:15:5")


RECONNECT = SETUP + """\
  - drop: alice
  - expect: {actor: carol, type: get-users, where: {data: {not_contains: "${alice}"}}}
  - reconnect: alice
  - send: {actor: alice, frame: {type: new-user-add, userId: "${alice}"}}
  - expect: {actor: carol, type: get-users, where: {data: {contains: "${alice}"}}}
"""


def test_reconnect_passes_against_reference() -> None:
    """reconnect: a new connection with the same options, registered again."""
    assert play(RECONNECT).status is Status.PASSED


def test_reconnect_refused_is_a_finding() -> None:
    """reconnect: a server that stops accepting connections mid-run fails at the reconnect."""
    result = play(RECONNECT, fault="refuse-after-4")
    assert result.status is Status.FAILED
    (finding,) = result.findings
    assert (finding.code, finding.location) == (FindingCode.REFUSED, "test.yaml:16:5")
    assert "HTTP 503" in finding.actual
    assert not result.unreachable


def test_connect_refused_at_start_is_unreachable() -> None:
    """connect: refusal before anything connected makes the run unreachable (exit 3)."""
    result = play(SETUP, fault="refuse")
    assert result.status is Status.ERROR
    assert result.unreachable
    assert "HTTP 403" in (result.error or "")


def test_connect_expect_refused() -> None:
    """connect with expect_refused: refusal passes, acceptance is a finding."""
    text = "actors: {a: }\nsteps:\n  - connect: {actor: a, expect_refused: true}\n"
    assert play(text, fault="refuse").status is Status.PASSED
    code, _, location = only_failure(play(text))
    assert (code, location) == (FindingCode.ACCEPTED, "test.yaml:3:5")


def test_send_after_server_closed_is_a_finding() -> None:
    """send: the server closing every socket mid-run gives a finding, not a traceback."""
    text = CHAT.replace("text: hi, chatId: c}}}", "text: hi, chatId: c}}}\n  - wait: 100ms\n"
                        "  - send: {actor: alice, raw: '{}'}")
    result = play(text, fault="close")
    assert result.status is Status.FAILED
    first = result.findings[0]
    assert first.code == FindingCode.CLOSED
    assert first.location == "test.yaml:16:5"
    assert "closed by the server with code 1011 'boom' during step" in first.title


def test_stalled_server_times_out_at_the_step() -> None:
    """A server that stops answering gives a timeout finding at that step, well within limits."""
    started = time.monotonic()
    result = play(CHAT, fault="stall", step_timeout=0.3)
    assert time.monotonic() - started < 5
    code, _step, location = only_failure(result)
    assert (code, location) == (FindingCode.TIMEOUT, "test.yaml:13:5")
    assert "within 0.3 s" in result.findings[0].title


def test_run_time_limit() -> None:
    """The whole-run limit stops a long scenario with a finding and still runs teardown."""
    text = SETUP + "  - wait: 5s\nteardown:\n  - close: alice\n"
    started = time.monotonic()
    result = play(text, run_timeout=0.5)
    assert time.monotonic() - started < 3
    (finding,) = result.findings
    assert finding.code == FindingCode.RUN_TIMEOUT
    assert (finding.location, finding.actual) == ("test.yaml:14:5", "still at step 8 (wait 5 s)")
    assert any(f.actor == "alice" for f in result.frames)


BINARY = SETUP + """\
  - send: {actor: alice, raw: "x"}
  - expect_close: {actor: alice, codes: [1003], timeout: 300ms}
"""


def test_expect_close_fails_when_server_keeps_socket() -> None:
    """expect_close: a server that does not close is a finding (the step sends text here)."""
    code, _, location = only_failure(play(BINARY))
    assert (code, location) == (FindingCode.NOT_CLOSED, "test.yaml:15:5")


def test_invalid_frame_from_server_is_a_finding() -> None:
    """Every received frame is validated: a misspelt type is named, at the step that saw it."""
    result = play(CHAT, fault="bad-frames")
    invalid = [f for f in result.findings if f.code == FindingCode.INVALID_FRAME]
    assert invalid and "did you mean 'receive-message'" in invalid[0].title
    assert invalid[0].frames[0].type == "recieve-message"


def test_warning_severity_goes_on() -> None:
    """severity: warning reports a broken SHOULD and the scenario continues."""
    text = SETUP + """\
  - expect: {actor: alice, type: error, timeout: 100ms, severity: warning}
  - send: {actor: alice, frame: {type: user-status-update, data: {userId: "${alice}", status: away}}}
  - expect: {actor: carol, type: user-status-update}
"""
    result = play(text)
    assert result.status is Status.WARNING
    (finding,) = result.findings
    assert finding.severity is Severity.WARNING
    assert result.passed


def test_server_crash_mid_run_is_a_finding_at_that_step() -> None:
    """A backend process killed mid-scenario: a 'closed' finding at the next step that needs
    the socket, naming the step during which it happened; then teardown runs, no hang."""
    text = SETUP + "  - wait: 1.5s\n  - expect: {actor: bob, type: receive-message}\n" \
                   "teardown:\n  - close: alice\n"
    scenario = parse_scenario(text, "test.yaml", schemas=SCHEMAS)
    with spawn(ServerConfig(port=0)) as server:
        killer = threading.Timer(0.8, os.kill, (server.pid, signal.SIGKILL))
        killer.start()
        started = time.monotonic()
        result = run_scenario(scenario, server.url, schemas=SCHEMAS, step_timeout=2.0)
        killer.join()
    assert time.monotonic() - started < 10
    assert result.status is Status.FAILED
    first = result.findings[0]
    assert first.code == FindingCode.CLOSED
    assert first.location == "test.yaml:15:5"  # bob's expect
    assert "1006 (no close frame) during step 8 " in first.title  # the wait


def test_invalid_sent_frame_is_a_warning() -> None:
    """A templated frame that breaks the client schema is a warning, not a failure."""
    text = SETUP + "  - send: {actor: alice, frame: {type: send-message, data: {receiverId: x}}}\n"
    result = play(text)
    assert result.status is Status.WARNING
    (finding,) = result.findings
    assert finding.code == FindingCode.INVALID_FRAME and "'text' is required" in finding.title
