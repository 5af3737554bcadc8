"""Whether the load generator distorted a measurement, judged on what distorts the figures.

Two things do: **sustained CPU saturation** (a generator busy for most of a window receives late and
sends late), and **offered load that fell short of the plan** (scheduled sends that left later than
``--max-lag`` after their time: the server saw less load than the run claims). Receipts are stamped
by the kernel (``SO_TIMESTAMPNS``), so a burst of scheduling lag, e.g. while users join, does not
delay them; it is reported, never a reason on its own. The load run applies this to the whole run
(start-up interval aside), the capacity search to each step's steady window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

__all__ = ["MAX_LATE_SENDS", "MIN_LATE_SENDS", "generator_reasons"]

MAX_LATE_SENDS: Final = 0.01
"""Fraction of scheduled sends that may leave later than ``--max-lag`` before a run is invalid."""
MIN_LATE_SENDS: Final = 3
"""... and at least this many (one late heartbeat of ten users is not a shortfall)."""


def generator_reasons(who: str, cpu: Sequence[float], sends: int, late_sends: int, *,
                      max_cpu: float, max_lag_ms: float) -> list[str]:
    """The reasons (plain words) a generator invalidates a window, or none.

    ``cpu``: the CPU fraction of one core in each report interval of the window; ``sends`` and
    ``late_sends``: scheduled sends in the window, and those later than ``max_lag_ms``.
    """
    reasons = []
    if cpu:
        mean = sum(cpu) / len(cpu)
        if mean > max_cpu:
            reasons.append(f"{who}: generator CPU {mean:.0%} of a core on average over "
                           f"{len(cpu)} s (limit {max_cpu:.0%})")
    if late_sends >= MIN_LATE_SENDS and late_sends > MAX_LATE_SENDS * sends:
        reasons.append(f"{who}: {late_sends} of {sends} scheduled sends left more than "
                       f"{max_lag_ms:g} ms late (limit {MAX_LATE_SENDS:.0%}): the offered load "
                       "fell short of the plan")
    return reasons
