"""Rendering of a finding: plain text (JUnit, pytest) and rich markup (the consoles of run,
verify and fuzz), each written once."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.markup import escape

from wsprobe.scenario.findings import Finding
from wsprobe.scenario.frames import FrameRecord

__all__ = ["finding_markup", "finding_text"]


def finding_markup(finding: Finding, recent: Sequence[FrameRecord], emit: Callable[[str], None],
                   *, rule: bool = True, where: bool = True, actor_label: str = "actor",
                   frames: int = 8, context: int = 3,
                   before_label: str = "last frames before it") -> None:
    """A finding as rich markup lines, passed to ``emit`` one by one: severity and title, where it
    happened, expected and actual, the frames that prove it and the ``context`` frames before."""
    f = finding
    color = "red" if f.severity.value == "failure" else "yellow"
    head = f"[{color}]{f.severity.value.upper()}[/]"
    if rule and f.rule:
        head += f" [bold]{escape(f.rule)}[/]"
    emit(f"  {head} {escape(f.title)}")
    who = f"{f.actor}/{f.socket}" if f.actor and f.socket else f.actor
    rows = [("step", f.step), ("at", f.location if where else None), (actor_label, who),
            ("expected", f.expected), ("actual", f.actual)]
    for key, value in rows:
        if value:
            emit(f"    [dim]{key:<9}[/]{escape(value)}")
    if f.frames:
        emit("    [dim]evidence[/]")
        for frame in f.frames[:frames]:
            emit(f"      {escape(frame.arrow())}")
        if len(f.frames) > frames:
            emit(f"      [dim]... {len(f.frames) - frames} more[/]")
    before = [fr for fr in recent if fr not in f.frames][-context:] if context else []
    if before:
        emit(f"    [dim]{before_label}[/]")
        for frame in before:
            emit(f"      [dim]{escape(frame.arrow())}[/]")


def finding_text(finding: Finding, *, frames: int = 8) -> str:
    """A finding as a few lines: title, where, expected, actual, frames."""
    lines = [f"{finding.severity.value.upper()}: {finding.title}"]
    if finding.rule:
        lines.append(f"  rule:     {finding.rule}")
    if finding.step:
        lines.append(f"  step:     {finding.step}")
    if finding.location:
        lines.append(f"  at:       {finding.location}")
    if finding.actor:
        who = f"{finding.actor}/{finding.socket}" if finding.socket else finding.actor
        lines.append(f"  actor:    {who}")
    if finding.expected:
        lines.append(f"  expected: {finding.expected}")
    if finding.actual:
        lines.append(f"  actual:   {finding.actual}")
    if finding.frames:
        lines.append("  frames:")
        lines.extend(f"    {f.arrow()}" for f in finding.frames[:frames])
        if len(finding.frames) > frames:
            lines.append(f"    ... {len(finding.frames) - frames} more")
    return "\n".join(lines)
