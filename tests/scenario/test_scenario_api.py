"""The scenario engine's public surface, its imports, seeds and time-limit precedence."""

from __future__ import annotations

import subprocess
import sys

import pytest

import wsprobe.scenario
from wsprobe.scenario import Status

from .conftest import play

PUBLIC = [
    "Actor", "ActorName", "CaseBody", "CaseFinished", "CaseRef", "CaseResult", "CaseStarted",
    "Emitter", "Event", "EventHandler", "FieldTest", "Finding", "FindingCode",
    "FindingReported", "FrameRecord", "FrameSeen", "Predicate", "Refusal", "RunFinished",
    "RunResult", "RunStarted", "Scenario", "ScenarioError", "Session", "SessionOptions",
    "Severity", "Socket", "SocketName", "SocketState", "Status", "StepFailed", "StepFinished",
    "StepRef", "StepStarted", "exit_code_of", "load_scenario", "parse_scenario", "run_case",
    "run_cases", "run_scenario", "run_scenarios", "run_scenarios_async",
]


def test_public_surface_is_pinned() -> None:
    """``wsprobe.scenario.__all__`` is sorted and exactly what other parts build on."""
    assert wsprobe.scenario.__all__ == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(wsprobe.scenario, name), name


def test_engine_imports_no_presentation_or_heavy_packages() -> None:
    """The engine never prints: importing it pulls in no rich, click, locust, gevent, pandas,
    and not the server."""
    code = ("import sys, wsprobe.scenario; print(sorted(m for m in ('rich', 'click', 'locust', "
            "'gevent', 'pandas', 'wsprobe.server', 'wsprobe.output') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


SEEDED = """\
actors: {a: {}}
steps:
  - connect: a
  - send: {actor: a, frame: {type: new-user-add, userId: "u-${run_id}", data: {userId: "${uuid}"}}}
"""


def test_same_seed_same_generated_values() -> None:
    """--seed makes generated ids (run_id, uuid) repeat; another seed changes them."""
    def sent(seed: int) -> str | bytes:
        return play(SEEDED, seed=seed).frames[0].raw

    assert sent(11) == sent(11)
    assert sent(11) != sent(12)


TIMED = """\
timeouts: {step: 50ms}
actors: {a: {}}
steps:
  - connect: a
  - expect: {actor: a, type: get-users}
"""


@pytest.mark.parametrize(("step_timeout", "limit"), [(None, "0.05 s"), (0.1, "0.1 s")],
                         ids=["file", "caller"])
def test_step_time_limit_precedence(step_timeout: float | None, limit: str) -> None:
    """The caller's step limit wins over the file's timeouts.step, which wins over 5 s."""
    result = play(TIMED, step_timeout=step_timeout)
    assert result.status is Status.FAILED
    assert result.findings[0].title.endswith(f"within {limit}")
