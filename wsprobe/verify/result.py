"""The outcome of a verify run, as values: one :class:`CheckResult` per selected check."""

from __future__ import annotations

from dataclasses import dataclass, field

from wsprobe.scenario.events import Status
from wsprobe.scenario.findings import Finding, Severity
from wsprobe.scenario.frames import FrameRecord
from wsprobe.verify.registry import Level

__all__ = ["CheckResult", "VerifyResult"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its rule, level and words, its status, findings, frames and how to rerun it.

    ``note`` says why a check was skipped or not run, or what stopped it with an error."""

    name: str
    rule: str
    level: Level
    text: str
    status: Status
    findings: tuple[Finding, ...] = ()
    frames: tuple[FrameRecord, ...] = ()
    duration: float = 0.0
    note: str | None = None
    rerun: str = ""
    server_stopped: bool = False

    @property
    def failures(self) -> tuple[Finding, ...]:
        """Findings of severity failure."""
        return tuple(f for f in self.findings if f.severity is Severity.FAILURE)

    @property
    def reason(self) -> str:
        """One line: the first finding's title, or the note."""
        first = self.failures[:1] or self.findings[:1]
        if first:
            return first[0].title
        return self.note or ""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Every check of a run, the overall status and the exit code it maps to.

    ``error`` says why nothing could be tested (target unreachable, handshake refused)."""

    target: str
    checks: tuple[CheckResult, ...]
    status: Status
    exit_code: int
    duration: float
    seed: int
    interrupted: bool = False
    error: str | None = None
    frames: int = field(default=0)

    def _named(self, *statuses: Status) -> frozenset[str]:
        return frozenset(c.name for c in self.checks if c.status in statuses)

    @property
    def passed(self) -> bool:
        """Exit code 0."""
        return self.exit_code == 0

    @property
    def failed(self) -> frozenset[str]:
        """Names of the checks that failed or ended in an error."""
        return self._named(Status.FAILED, Status.ERROR)

    @property
    def warned(self) -> frozenset[str]:
        """Names of the checks that ended with warnings only."""
        return self._named(Status.WARNING)

    @property
    def skipped(self) -> frozenset[str]:
        """Names of the checks that were skipped or not run."""
        return self._named(Status.SKIPPED)

    def check(self, name: str) -> CheckResult:
        """The result of check ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)
