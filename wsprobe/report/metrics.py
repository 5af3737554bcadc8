"""Every run as one flat list of named metrics: ``summary.csv``, the Markdown table and
``report compare`` all read it.

A metric knows which way is better and how large a change is noise (``floor``); ``gate`` marks the
metrics ``report compare`` fails on (the noisy ones, p99.9 and max of a short run, are shown but do
not gate).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from wsprobe.report.caprun import CapacityRun
from wsprobe.report.loadrun import LoadRun
from wsprobe.report.verifyrun import VerifyRun

__all__ = ["Better", "Metric", "metrics_of", "number"]

Run = LoadRun | CapacityRun | VerifyRun


class Better(enum.StrEnum):
    """Which direction of change is an improvement."""

    LOWER = "lower"
    HIGHER = "higher"
    NEITHER = "neither"


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured figure of a run. ``unit`` is ``ms``, ``ratio`` (0..1), ``users``, ``/s``
    or ``count``; ``floor`` is the smallest absolute change that is not noise."""

    name: str
    value: float | None
    unit: str
    better: Better
    floor: float = 0.0
    gate: bool = True
    samples: float | None = None  # what the figure was computed from (None: not a sample)
    need: int = 0  # samples it needs to be more than noise (1,000 for a p99)

    @property
    def measured_enough(self) -> bool:
        """Whether the figure rests on enough samples to gate on."""
        return self.samples is None or self.samples >= self.need

    def shown(self) -> str:
        """The value for people: ``12.3 ms``, ``99.95%``, ``42 users``."""
        value = self.value
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if self.unit == "ratio":
            return f"{value * 100:.3f}%"
        if self.unit == "ms":
            return f"{value:.3g} ms" if value < 100 else f"{value:,.0f} ms"
        if self.unit == "/s":
            return f"{value:,.0f}/s"
        if self.unit == "users":
            return f"{value:g} users"
        return f"{value:,.0f}"


def number(raw: object) -> float | None:
    """``raw`` as a float; None for None, NaN or anything that is not a number."""
    if raw is None:
        return None
    try:
        value = float(raw)  # type: ignore[arg-type]  # numpy and pandas scalars convert too
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


_LATENCY = (("p50", True), ("p90", True), ("p99", True), ("p99.9", False), ("max", False))
#: samples a percentile needs before it gates: ten beyond it (1,000 for a p99)
_NEED = {"p50": 20, "p90": 100, "p99": 1_000, "p99.9": 10_000, "max": 1_000}
_RATIO_NEED = 100


def load_metrics(run: LoadRun, latency_floor: float) -> list[Metric]:
    """Per kind: latency percentiles (from the actual and the scheduled send) and ratios."""
    out: list[Metric] = []
    total_expected = total_delivered = 0.0
    for kind, row in run.kinds.iterrows():
        expected = number(row["expected"]) or 0.0
        delivered = number(row["delivered"]) or 0.0
        total_expected += expected
        total_delivered += delivered
        out.append(Metric(f"{kind}.events", number(row["events"]), "count", Better.NEITHER,
                          gate=False))
        samples = number(row["samples"]) or 0.0
        for name, gate in _LATENCY:
            out.append(Metric(f"{kind}.{name}", number(row[f"{name}_ms"]), "ms", Better.LOWER,
                              latency_floor, gate, samples, _NEED[name]))
        for name, gate in _LATENCY[:3]:
            out.append(Metric(f"{kind}.scheduled.{name}", number(row[f"sched_{name}_ms"]), "ms",
                              Better.LOWER, latency_floor, gate, samples, _NEED[name]))
        if expected:
            lost, dups = number(row["lost"]) or 0.0, number(row["duplicates"]) or 0.0
            out += [
                Metric(f"{kind}.delivered", delivered / expected, "ratio", Better.HIGHER, 0.001,
                       samples=expected, need=_RATIO_NEED),
                Metric(f"{kind}.lost", lost / expected, "ratio", Better.LOWER, 0.001,
                       samples=expected, need=_RATIO_NEED),
                Metric(f"{kind}.duplicates", dups / expected, "ratio", Better.LOWER, 0.001,
                       samples=expected, need=_RATIO_NEED),
            ]
    if total_expected:
        out.append(Metric("all.delivered", total_delivered / total_expected, "ratio",
                          Better.HIGHER, 0.001, samples=total_expected, need=_RATIO_NEED))
    duration = run.duration_s
    if duration:
        out.append(Metric("all.deliveries_per_s", total_delivered / duration, "/s",
                          Better.NEITHER, gate=False))
    out.append(Metric("slos.broken", float(sum(not s.passed for s in run.slos)), "count",
                      Better.LOWER))
    return out


def capacity_metrics(run: CapacityRun) -> list[Metric]:
    """The capacity in users and deliveries per second, and its spread."""
    cap = run.capacity
    low, high = number(cap.get("users_min")), number(cap.get("users_max"))
    return [
        Metric("capacity.users", number(cap.get("users")), "users", Better.HIGHER, 1.0),
        Metric("capacity.deliveries_per_s", number(cap.get("deliveries_per_s")), "/s",
               Better.HIGHER, 1.0),
        Metric("capacity.spread", None if low is None or high is None else high - low, "users",
               Better.NEITHER, gate=False),
    ]


def verify_metrics(run: VerifyRun) -> list[Metric]:
    """How many checks passed and failed."""
    return [Metric("checks.failed", float(run.failed), "count", Better.LOWER),
            Metric("checks.passed", float(run.passed), "count", Better.HIGHER)]


def metrics_of(run: Run, *, latency_floor: float = 1.0) -> list[Metric]:
    """Every metric of a run; ``latency_floor`` (ms) is the latency change treated as noise."""
    if isinstance(run, LoadRun):
        return load_metrics(run, latency_floor)
    if isinstance(run, CapacityRun):
        return capacity_metrics(run)
    return verify_metrics(run)
