"""The scenario engine: sessions of actors and sockets, scenario files, runs and their events.

Programmatic use (what ``wsprobe verify`` builds on)::

    async with Session(url) as session:
        sock = await session.actor("alice").connect()
        await sock.send({"type": "new-user-add", "userId": "alice"})
        await sock.expect("get-users", where={"data": {"contains": "alice"}})

Scenario files: :func:`load_scenario`, :func:`run_scenario`, :func:`run_scenarios`.
"""

from wsprobe.scenario.events import (
    CaseFinished,
    CaseRef,
    CaseStarted,
    Event,
    EventHandler,
    FindingReported,
    FrameSeen,
    RunFinished,
    RunStarted,
    Status,
    StepFinished,
    StepRef,
    StepStarted,
)
from wsprobe.scenario.findings import Finding, FindingCode, Severity
from wsprobe.scenario.frames import ActorName, FrameRecord, SocketName
from wsprobe.scenario.loader import ScenarioError, load_scenario, parse_scenario
from wsprobe.scenario.model import Scenario
from wsprobe.scenario.predicates import FieldTest, Predicate
from wsprobe.scenario.runner import (
    CaseBody,
    CaseResult,
    Emitter,
    RunResult,
    SessionOptions,
    exit_code_of,
    run_case,
    run_cases,
    run_scenario,
    run_scenarios,
    run_scenarios_async,
)
from wsprobe.scenario.session import Actor, Refusal, Session, Socket, SocketState, StepFailed

__all__ = [
    "Actor",
    "ActorName",
    "CaseBody",
    "CaseFinished",
    "CaseRef",
    "CaseResult",
    "CaseStarted",
    "Emitter",
    "Event",
    "EventHandler",
    "FieldTest",
    "Finding",
    "FindingCode",
    "FindingReported",
    "FrameRecord",
    "FrameSeen",
    "Predicate",
    "Refusal",
    "RunFinished",
    "RunResult",
    "RunStarted",
    "Scenario",
    "ScenarioError",
    "Session",
    "SessionOptions",
    "Severity",
    "Socket",
    "SocketName",
    "SocketState",
    "Status",
    "StepFailed",
    "StepFinished",
    "StepRef",
    "StepStarted",
    "exit_code_of",
    "load_scenario",
    "parse_scenario",
    "run_case",
    "run_cases",
    "run_scenario",
    "run_scenarios",
    "run_scenarios_async",
]
