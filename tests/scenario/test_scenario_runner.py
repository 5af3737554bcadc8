"""Runs, events and the output handlers that consume them (console, JSON, JUnit, NDJSON)."""

from __future__ import annotations

import asyncio
import io
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from tests.scenario import hubs
from wsprobe.output import ConsoleReport, Recorder, report_handlers
from wsprobe.scenario import (
    CaseFinished,
    CaseRef,
    CaseResult,
    RunFinished,
    RunStarted,
    Session,
    SessionOptions,
    Status,
    exit_code_of,
    parse_scenario,
    run_cases,
    run_scenarios_async,
)
from wsprobe.server import Hub

from .conftest import SCHEMAS, backend

CHAT = textwrap.dedent("""\
    name: chat
    actors: {alice: {}, bob: {}}
    steps:
      - connect: alice
      - connect: bob
      - send: {actor: alice, frame: {type: new-user-add, userId: alice}}
      - send: {actor: bob, frame: {type: new-user-add, userId: bob}}
      - expect: {actor: alice, type: get-users, where: {data: {contains: bob}}}
      - send: {actor: alice, frame: {type: send-message, data: {receiverId: bob, text: hi, chatId: c}}}
      - expect: {actor: bob, type: receive-message, where: {data.text: hi}}
    teardown:
      - close: alice
    """)


def run(hub: type[Hub], handlers: list[object], text: str = CHAT) -> tuple[int, tuple[CaseResult, ...]]:
    """Play ``text`` against ``hub`` with ``handlers``; the exit code and case results."""
    scenario = parse_scenario(text, "chat.yaml", schemas=SCHEMAS)

    async def main() -> tuple[int, tuple[CaseResult, ...]]:
        async with backend(hub) as url:
            result = await run_scenarios_async([scenario], url, schemas=SCHEMAS, seed=3,
                                               handlers=handlers, step_timeout=0.3)  # type: ignore[arg-type]
            return result.exit_code, result.cases

    return asyncio.run(main())


def test_event_stream_brackets_cases_and_steps() -> None:
    """run > case > steps, in order; the handler is closed at the end."""
    recorder = Recorder()
    code, _ = run(Hub, [recorder])
    names = [type(e).__name__ for e in recorder.events]
    assert names[:2] == ["RunStarted", "CaseStarted"]
    assert names[-2:] == ["CaseFinished", "RunFinished"]
    assert names.count("StepStarted") == names.count("StepFinished") == 8
    assert recorder.closed and code == 0
    (start,) = recorder.of(RunStarted)
    assert isinstance(start, RunStarted) and start.seed == 3


def test_reports_of_a_failing_run(tmp_path: Path) -> None:
    """JSON, JUnit and NDJSON files describe the failure and every frame."""
    code, (case,) = run(hubs.DropChat, report_handlers(["json", "junit", "ndjson"], tmp_path,
                                                       stem="run"))
    assert code == 1
    doc = json.loads((tmp_path / "run.json").read_text())
    assert (doc["status"], doc["exit_code"], doc["interrupted"]) == ("failed", 1, False)
    (finding,) = doc["cases"][0]["findings"]
    assert finding["location"] == "chat.yaml:10:5"
    assert finding["code"] == "timeout"
    steps = doc["cases"][0]["steps"]
    assert [s["status"] for s in steps].count("failed") == 1
    assert steps[-1]["kind"] == "close" and steps[-1]["index"] == "teardown.1"
    suite = ET.parse(tmp_path / "run.junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None and "did not receive receive-message" in failure.get("message", "")
    assert "chat.yaml:10:5" in (failure.text or "")
    lines = [json.loads(x) for x in (tmp_path / "run.frames.ndjson").read_text().splitlines()]
    assert len(lines) == len(case.frames)
    assert {"time", "actor", "socket", "direction", "valid", "problems", "raw"} <= set(lines[0])
    assert lines[0]["direction"] == "client-to-server"


def test_console_report_of_a_failure() -> None:
    """The console shows the failing step, its place, actor, expected vs actual and frames."""
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    run(hubs.DropChat, [ConsoleReport(console)])
    text = out.getvalue()
    for part in ("✗ chat", "FAILURE bob/main did not receive receive-message",
                 "step 7: bob expects receive-message", "at       chat.yaml:10:5",
                 "actor    bob/main", 'expected receive-message where data.text == "hi"',
                 "actual   no receive-message arrived; other frames: 1 get-users", "last frames before it",
                 'alice/main -> {"type": "send-message"', "exit 1"):
        assert part in text, part


def test_interrupted_run_writes_what_it_recorded(tmp_path: Path) -> None:
    """Cancelling a run (Ctrl-C) still closes the handlers: partial JSON and NDJSON."""
    text = CHAT.replace("  - expect: {actor: bob, type: receive-message, where: {data.text: hi}}",
                        "  - wait: 10s")
    scenario = parse_scenario(text, "chat.yaml", schemas=SCHEMAS)
    handlers = report_handlers(["json", "ndjson"], tmp_path, stem="run")

    async def main() -> None:
        async with backend() as url:
            task = asyncio.create_task(run_scenarios_async([scenario], url, schemas=SCHEMAS,
                                                           handlers=handlers))
            while not (tmp_path / "run.frames.ndjson").exists():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    doc = json.loads((tmp_path / "run.json").read_text())
    assert doc["interrupted"] is True and doc["exit_code"] == 130
    assert doc["cases"][0]["error"] == "interrupted"
    assert len((tmp_path / "run.frames.ndjson").read_text().splitlines()) >= 3


def test_run_cases_with_rules_for_verify(tmp_path: Path) -> None:
    """Cases can be Python bodies with rule ids: one JUnit testcase per check."""
    async def p3(s: Session) -> None:
        sock = await s.actor("a").connect()
        await sock.send({"type": "new-user-add", "userId": "a"})
        await sock.expect("get-users")

    async def c1(s: Session) -> None:
        sock = await s.actor("a").connect()
        await sock.expect("receive-message", timeout=0.05)

    handlers = report_handlers(["junit"], tmp_path, stem="verify")

    async def main() -> int:
        async with backend() as url:
            run = await run_cases([(CaseRef("get-users after register", rule="P3"), p3),
                                   (CaseRef("delivered to every socket", rule="C1"), c1)],
                                  url=url, schemas=SCHEMAS, handlers=handlers, tool="verify",
                                  options=SessionOptions(step_timeout=0.3))
            return run.exit_code

    assert asyncio.run(main()) == 1
    suite = ET.parse(tmp_path / "verify.junit.xml").getroot()
    names = [(c.get("name"), c.find("failure") is not None) for c in suite.iter("testcase")]
    assert names == [("P3 get-users after register", False), ("C1 delivered to every socket", True)]


def _case(status: Status, *, unreachable: bool = False) -> CaseResult:
    return CaseResult(CaseRef("x"), status, (), (), 0.0, unreachable=unreachable)


@pytest.mark.parametrize(("statuses", "strict", "code"), [
    ([Status.PASSED], False, 0),
    ([Status.PASSED, Status.WARNING], False, 0),
    ([Status.WARNING], True, 1),
    ([Status.PASSED, Status.FAILED], False, 1),
    ([Status.FAILED, Status.ERROR], False, 2),
], ids=["passed", "warning", "strict-warning", "failed", "error"])
def test_exit_codes(statuses: list[Status], strict: bool, code: int) -> None:
    """Exit codes follow the project's table."""
    assert exit_code_of([_case(s) for s in statuses], fail_on_warning=strict) == code


def test_unreachable_is_exit_3() -> None:
    """A case that could not reach the target maps to exit 3."""
    assert exit_code_of([_case(Status.PASSED), _case(Status.ERROR, unreachable=True)]) == 3


def test_case_finished_carries_findings() -> None:
    """The CaseFinished event holds the case's findings and status."""
    recorder = Recorder()
    run(hubs.DropChat, [recorder])
    (done,) = recorder.of(CaseFinished)
    assert isinstance(done, CaseFinished)
    assert done.status is Status.FAILED and len(done.findings) == 1
    (end,) = recorder.of(RunFinished)
    assert isinstance(end, RunFinished) and end.exit_code == 1
