"""Findings, frames and cases as JSON-ready dicts, shared by the file handlers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from wsprobe.scenario.events import CaseFinished, CaseRef
from wsprobe.scenario.findings import Finding
from wsprobe.scenario.frames import FrameRecord

__all__ = ["case_dict", "finding_dict", "frame_dict", "iso"]


def iso(at: float) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def frame_dict(frame: FrameRecord, case: CaseRef | None = None, *, raw: bool = True
               ) -> dict[str, Any]:
    """One frame: time, actor, socket, direction, type, validation result (and the raw text)."""
    out: dict[str, Any] = {"seq": frame.seq, "time": iso(frame.at), "at": round(frame.at, 6)}
    if case is not None:
        out["case"] = case.name
    out |= {"actor": frame.actor, "socket": frame.socket, "direction": frame.direction.value,
            "type": frame.type, "valid": not frame.problems,
            "problems": [str(p) for p in frame.problems]}
    if raw:
        data = frame.raw
        out["raw"] = data if isinstance(data, str) else None
        if isinstance(data, bytes):
            out["binary_hex"] = data[:4096].hex()
    return out


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding with its evidence frames."""
    return {"title": finding.title, "code": finding.code, "severity": finding.severity.value,
            "rule": finding.rule, "step": finding.step, "location": finding.location,
            "actor": finding.actor, "socket": finding.socket, "expected": finding.expected,
            "actual": finding.actual, "frames": [frame_dict(f) for f in finding.frames]}


def case_dict(event: CaseFinished) -> dict[str, Any]:
    """A finished case: name, source or rule, status, duration, error and findings."""
    case = event.case
    return {"name": case.name, "source": case.source, "rule": case.rule,
            "description": case.description, "status": event.status.value,
            "duration": round(event.duration, 4), "error": event.error,
            "findings": [finding_dict(f) for f in event.findings]}
