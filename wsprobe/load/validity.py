"""Whether the load generator distorted a measurement, judged on what distorts the figures.

Two things do: **sustained CPU saturation** (a generator busy for most of a window receives late and
sends late), and **offered load that fell short of the plan** (scheduled sends that left later than
``--max-lag`` after their time: the server saw less load than the run claims), *sustained*: over
5% of the window's sends, and in at least half of its report intervals. Receipts are stamped by
the kernel (``SO_TIMESTAMPNS``), so a burst of scheduling lag, e.g. while users join, does not
delay them; it is reported, never a reason on its own. The load run applies this to the whole run
(start-up interval aside), the capacity search to each step's steady window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["MAX_LATE_SENDS", "MIN_LATE_SENDS", "generator_reasons"]

MAX_LATE_SENDS: Final = 0.05
"""Fraction of scheduled sends that may leave later than ``--max-lag`` before a run is invalid."""
MIN_LATE_SENDS: Final = 5
"""... and at least this many (one late heartbeat of ten users is not a shortfall)."""


def generator_reasons(who: str, cpu: Sequence[float], sends: Sequence[tuple[int, int]], *,
                      max_cpu: float, max_lag_ms: float) -> list[str]:
    """The reasons (plain words) a generator invalidates a window, or none.

    ``cpu``: the CPU fraction of one core in each report interval of the window; ``sends``: per
    report interval, the scheduled sends and those that left later than ``max_lag_ms``.
    """
    reasons = []
    if cpu:
        mean = sum(cpu) / len(cpu)
        if mean > max_cpu:
            reasons.append(f"{who}: generator CPU {mean:.0%} of a core on average over "
                           f"{len(cpu)} s (limit {max_cpu:.0%})")
    total = sum(n for n, _ in sends)
    late = sum(k for _, k in sends)
    bad = sum(1 for n, k in sends if k and k > MAX_LATE_SENDS * n)
    if late >= MIN_LATE_SENDS and late > MAX_LATE_SENDS * total and bad * 2 >= len(sends):
        reasons.append(f"{who}: {late} of {total} scheduled sends left more than "
                       f"{max_lag_ms:g} ms late (limit {MAX_LATE_SENDS:.0%}, in {bad} of "
                       f"{len(sends)} intervals): the offered load fell short of the plan")
    return reasons
