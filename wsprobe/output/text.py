"""Plain-text rendering of a finding, shared by JUnit, pytest and the console."""

from __future__ import annotations

from wsprobe.scenario.findings import Finding

__all__ = ["finding_text"]


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
