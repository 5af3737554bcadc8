"""``report compare BASE NEW``: old, new and change per metric, and which ones regressed.

A gating metric regressed when it moved the wrong way by more than ``tolerance`` (relative) and
by more than its noise floor (absolute), and both runs measured it on enough samples (ten beyond
the percentile: 1,000 for a p99; 100 expected deliveries for a ratio). A ratio where higher is
better (delivered) is compared by its shortfall, so 99.9% -> 99% (ten times the losses) is a
regression at any tolerance below 900%, while 0.1% -> 0.11% of losses is within the noise floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wsprobe.errors import InputError
from wsprobe.report.metrics import Better, Metric, metrics_of
from wsprobe.report.runs import Run

__all__ = ["Change", "Comparison", "compare_runs", "regressed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One metric in both runs."""

    old: Metric | None
    new: Metric | None
    regressed: bool

    @property
    def few_samples(self) -> bool:
        """A gating metric that does not gate here: one run has too few samples for it."""
        metrics = [m for m in (self.old, self.new) if m is not None]
        return any(m.gate for m in metrics) and not all(m.measured_enough for m in metrics)

    @property
    def name(self) -> str:
        """The metric's name."""
        metric = self.new or self.old
        assert metric is not None
        return metric.name

    def change(self) -> str:
        """The relative change for people: ``+12.5%``, ``-3.0%``, ``new``, ``gone``."""
        if self.old is None or self.old.value is None:
            return "new" if self.new is not None and self.new.value is not None else ""
        if self.new is None or self.new.value is None:
            return "gone"
        old, new = self.old.value, self.new.value
        if old == new:
            return "0%"
        if old == 0:
            return "+inf%" if new > old else "-inf%"
        return f"{(new - old) / abs(old) * 100:+.1f}%"


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every metric of two runs, in order, and the regressions among them."""

    base: str
    new: str
    tolerance: float
    changes: tuple[Change, ...]

    @property
    def regressions(self) -> tuple[Change, ...]:
        """The changes past the tolerance on gating metrics."""
        return tuple(c for c in self.changes if c.regressed)

    def markdown(self) -> str:
        """The table, in Markdown."""
        lines = [f"| metric | {self.base} | {self.new} | change | |", "|---|--:|--:|--:|---|"]
        for c in self.changes:
            flag = "❌ regressed" if c.regressed else "few samples" if c.few_samples else ""
            lines.append(f"| {c.name} | {c.old.shown() if c.old else ''} | "
                         f"{c.new.shown() if c.new else ''} | {c.change()} | {flag} |")
        verdict = (f"**{len(self.regressions)} regression(s)** past {self.tolerance:.0%}"
                   if self.regressions else f"no regression past {self.tolerance:.0%}")
        return "\n".join([*lines, "", verdict, ""])


def regressed(old: Metric, new: Metric, tolerance: float) -> bool:
    """Whether ``new`` is worse than ``old`` by more than ``tolerance`` and the noise floor."""
    if not new.gate or new.better is Better.NEITHER:
        return False
    if not (old.measured_enough and new.measured_enough):
        return False  # a p99 of 40 samples is noise, whichever way it moved
    if old.value is None or new.value is None:
        # a gating figure that vanished (nothing measured) is worse than any number
        return old.value is not None and new.value is None
    before, after = old.value, new.value
    if new.unit == "ratio" and new.better is Better.HIGHER:
        before, after = 1 - before, 1 - after  # compare the shortfall
        worse = after - before
    elif new.better is Better.LOWER:
        worse = after - before
    else:
        worse = before - after
    return worse > new.floor and worse > tolerance * abs(before) and not math.isnan(worse)


def compare_runs(base: Run, new: Run, *, tolerance: float = 0.10,
                 latency_floor: float = 1.0) -> Comparison:
    """Compare two runs of the same kind (load with load, capacity with capacity)."""
    if type(base) is not type(new):
        raise InputError(f"cannot compare a {_kind(base)} run ({base.path}) with a "
                         f"{_kind(new)} run ({new.path})")
    if not 0 <= tolerance < 10:
        raise InputError(f"--tolerance must be between 0% and 1000%, got {tolerance:.0%}")
    old = {m.name: m for m in metrics_of(base, latency_floor=latency_floor)}
    fresh = {m.name: m for m in metrics_of(new, latency_floor=latency_floor)}
    names = list(dict.fromkeys([*old, *fresh]))
    changes = []
    for name in names:
        a, b = old.get(name), fresh.get(name)
        changes.append(Change(a, b, a is not None and b is not None
                              and regressed(a, b, tolerance)))
    return Comparison(base.name, new.name, tolerance, tuple(changes))


def _kind(run: Run) -> str:
    return type(run).__name__.removesuffix("Run").lower()
