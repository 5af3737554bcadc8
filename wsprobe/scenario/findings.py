"""Findings: something wrong with the system under test, as a value (never an exception)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from wsprobe.scenario.frames import FrameRecord

__all__ = ["Finding", "FindingCode", "Severity"]


class Severity(enum.StrEnum):
    """How bad a finding is: a broken MUST is a ``failure``, a broken SHOULD a ``warning``."""

    FAILURE = "failure"
    WARNING = "warning"


class FindingCode(enum.StrEnum):
    """The kinds of findings the engine itself produces (checks may use their own strings)."""

    TIMEOUT = "timeout"  # an expected frame did not come in time
    UNEXPECTED_FRAME = "unexpected-frame"  # expect_none saw a matching frame
    CLOSED = "closed"  # the server closed a socket the scenario still needed
    REFUSED = "refused"  # connection or handshake refused
    ACCEPTED = "accepted"  # a handshake expected to be refused was accepted
    INVALID_FRAME = "invalid-frame"  # a frame failed its schema
    NOT_CLOSED = "not-closed"  # expect_close: the server kept the socket open
    RUN_TIMEOUT = "run-timeout"  # the whole-run time limit expired
    OUT_OF_ORDER = "out-of-order"  # frames came, but not in the order sent
    CAPTURE = "capture"  # a value to capture was missing from the matched frame


@dataclass(frozen=True, slots=True)
class Finding:
    """What went wrong, where, and the evidence.

    ``step`` is the label of the step that saw it, ``location`` its ``file:line:column`` when it
    comes from a scenario file, ``rule`` a rule id when a check (``wsprobe verify``) raised it.
    """

    title: str
    code: str
    expected: str = ""
    actual: str = ""
    severity: Severity = Severity.FAILURE
    actor: str | None = None
    socket: str | None = None
    step: str | None = None
    location: str | None = None
    rule: str | None = None
    frames: tuple[FrameRecord, ...] = field(default=())

    def line(self) -> str:
        """One line: ``[failure] at file:3:5 (step) alice/main: title``."""
        parts = [f"[{self.severity.value}]"]
        if self.rule:
            parts.append(self.rule)
        if self.location:
            parts.append(f"at {self.location}")
        if self.step:
            parts.append(f"({self.step})")
        if self.actor:
            parts.append(f"{self.actor}/{self.socket}" if self.socket else self.actor)
        return " ".join(parts) + f": {self.title}"
