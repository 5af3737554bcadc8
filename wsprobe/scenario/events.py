"""The event stream a run emits; output handlers (``wsprobe.output``) consume it.

A run holds *cases*: named units that pass or fail on their own. ``wsprobe run`` has one case per
scenario; ``wsprobe verify`` one per check. A case holds steps, and frames and findings are
reported against the case (and the step) that saw them. The engine never prints.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from wsprobe.scenario.findings import Finding, Severity
from wsprobe.scenario.frames import FrameRecord

__all__ = [
    "CaseFinished",
    "CaseRef",
    "CaseStarted",
    "Event",
    "EventHandler",
    "FindingReported",
    "FrameSeen",
    "RunFinished",
    "RunStarted",
    "Status",
    "StepFinished",
    "StepRef",
    "StepStarted",
    "status_of",
]


class Status(enum.StrEnum):
    """The outcome of a step, a case or a run."""

    PASSED = "passed"
    WARNING = "warning"  # only SHOULD-level findings
    FAILED = "failed"
    ERROR = "error"  # the tool, its input or the target's reachability went wrong
    SKIPPED = "skipped"


def status_of(findings: Iterable[Finding]) -> Status:
    """``failed`` if any finding is a failure, ``warning`` if only warnings, else ``passed``."""
    severities = {f.severity for f in findings}
    if Severity.FAILURE in severities:
        return Status.FAILED
    return Status.WARNING if severities else Status.PASSED


@dataclass(frozen=True, slots=True)
class CaseRef:
    """A named unit of a run: a scenario (``source`` is its file) or a check (``rule`` its id)."""

    name: str
    source: str | None = None
    rule: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class StepRef:
    """A step of a case: ``index`` is its path (``"4"``, ``"7.2.1"`` inside a parallel block)."""

    index: str
    kind: str
    label: str
    actor: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class RunStarted:
    """A run begins against ``target`` with these cases (when known in advance)."""

    at: float
    target: str
    cases: tuple[CaseRef, ...] = field(default=())
    tool: str = "run"
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class CaseStarted:
    """A case begins."""

    at: float
    case: CaseRef


@dataclass(frozen=True, slots=True)
class StepStarted:
    """A step of a case begins."""

    at: float
    case: CaseRef
    step: StepRef


@dataclass(frozen=True, slots=True)
class StepFinished:
    """A step ends: ``passed``, ``failed`` (it raised a finding) or ``error``."""

    at: float
    case: CaseRef
    step: StepRef
    status: Status
    duration: float


@dataclass(frozen=True, slots=True)
class FrameSeen:
    """A frame was sent or received (``frame.direction`` says which)."""

    case: CaseRef
    frame: FrameRecord
    step: StepRef | None = None


@dataclass(frozen=True, slots=True)
class FindingReported:
    """A finding about the target, reported as soon as it is known."""

    at: float
    case: CaseRef
    finding: Finding


@dataclass(frozen=True, slots=True)
class CaseFinished:
    """A case ends. ``error`` says why a case ended with status ``error`` (e.g. unreachable)."""

    at: float
    case: CaseRef
    status: Status
    duration: float
    findings: tuple[Finding, ...] = field(default=())
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run ends; ``interrupted`` when the user stopped it (what was recorded is complete)."""

    at: float
    status: Status
    duration: float
    exit_code: int
    interrupted: bool = False


Event = (RunStarted | CaseStarted | StepStarted | StepFinished | FrameSeen | FindingReported
         | CaseFinished | RunFinished)


class EventHandler(Protocol):
    """A consumer of the event stream (console, JSON, JUnit, NDJSON, a test's recorder)."""

    def handle(self, event: Event) -> None:
        """Take one event; called in order, from the engine's thread."""

    def close(self) -> None:
        """The stream ended (normally or not): flush and write what was recorded."""
