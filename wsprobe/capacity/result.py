"""What a capacity search measured, as values, and the two files it writes.

``capacity.json`` holds the verdict (capacity in users and deliveries per second at the SLO, the
spread across repeats, why the search stopped); ``steps.csv`` one row per measured step and event
kind. Both are documented in ``reports/README.md``.
"""

from __future__ import annotations

import csv
import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "STEP_COLUMNS",
    "CapacityResult",
    "KindStats",
    "RepeatResult",
    "StepRecord",
    "write_result",
]

#: columns of ``steps.csv``, in order
STEP_COLUMNS = (
    "repeat", "step", "phase", "users", "started_at", "duration_s", "deliveries_per_s", "held",
    "verdict", "verdict_samples", "broken", "enough_samples", "notes", "kind", "samples",
    "delivered_ratio", "p50_ms", "p90_ms", "p99_ms", "p99.9_ms", "max_ms",
)


@dataclass(frozen=True, slots=True)
class KindStats:
    """Latency and delivery of one event kind over a step's steady window."""

    samples: int
    delivered_ratio: float | None
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One measured step: how many users, for how long, and its verdict: ``held`` (every SLO
    met), ``broken`` (one missed) or ``inconclusive`` (too few samples however long it held), on
    ``verdict_samples`` samples; ``notes``: what the generator saw that did not invalidate it."""

    repeat: int
    step: int
    phase: str
    users: int
    started_at: float
    duration_s: float
    deliveries_per_s: float
    held: bool
    broken: tuple[str, ...]
    enough_samples: bool
    kinds: dict[str, KindStats] = field(default_factory=dict)
    verdict: str = "held"
    verdict_samples: int = 0
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RepeatResult:
    """One search: the largest count that held, the smallest that broke, and the rate at the
    capacity. ``stopped`` says why it ended early (refused connections, saturated generator);
    ``capped``: nothing broke (``--max-users`` reached, or stopped early), so the capacity is *at
    least* ``passing``. The samples each verdict rests on, and the counts left inconclusive."""

    repeat: int
    passing: int | None
    failing: int | None
    deliveries_per_s: float | None
    stopped: str | None = None
    capped: bool = False
    passing_samples: int | None = None
    failing_samples: int | None = None
    inconclusive: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CapacityResult:
    """The whole search: its inputs, every repeat, every step, and the exit code it earned."""

    target: str
    slos: tuple[str, ...]
    repeats: tuple[RepeatResult, ...]
    steps: tuple[StepRecord, ...]
    started_at: float
    duration_s: float
    exit_code: int
    stopped: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def capacity_users(self) -> float | None:
        """The median over repeats of the largest user count that met every SLO."""
        values = [r.passing for r in self.repeats if r.passing is not None]
        return statistics.median(values) if values else None

    def at_least(self) -> bool:
        """The capacity is a lower bound: some repeat never saw a step break (it reached
        ``--max-users`` or stopped early), so the median of the repeats is one too."""
        return any(r.capped for r in self.repeats if r.passing is not None)

    def capacity_text(self) -> str | None:
        """The capacity in users as people should read it: ``"40"``, or ``"≥ 40"``."""
        users = self.capacity_users()
        if users is None:
            return None
        return f"≥ {users:g}" if self.at_least() else f"{users:g}"

    def spread_users(self) -> tuple[int, int] | None:
        """The smallest and largest capacity found across repeats."""
        values = [r.passing for r in self.repeats if r.passing is not None]
        return (min(values), max(values)) if values else None

    def capacity_rate(self) -> float | None:
        """The median over repeats of the deliveries per second at the capacity."""
        values = [r.deliveries_per_s for r in self.repeats if r.deliveries_per_s is not None]
        return statistics.median(values) if values else None

    def as_json(self) -> dict[str, Any]:
        """``capacity.json``: everything but the per-step table."""
        spread = self.spread_users()
        return {
            "kind": "capacity",
            "target": self.target,
            "slos": list(self.slos),
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "exit_code": self.exit_code,
            "stopped": self.stopped,
            "capacity": {
                "users": self.capacity_users(),
                "users_min": spread[0] if spread else None,
                "users_max": spread[1] if spread else None,
                "deliveries_per_s": self.capacity_rate(),
                "at_least": self.at_least(),
                "text": self.capacity_text(),
            },
            "repeats": [asdict(r) for r in self.repeats],
            "settings": self.settings,
        }


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 4)
    return value


def write_result(result: CapacityResult, folder: Path) -> tuple[Path, Path]:
    """Write ``capacity.json`` and ``steps.csv`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = folder / "capacity.json"
    summary.write_text(json.dumps(result.as_json(), indent=2) + "\n", encoding="utf-8")
    steps = folder / "steps.csv"
    with steps.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(STEP_COLUMNS)
        for step in result.steps:
            head = [step.repeat, step.step, step.phase, step.users, round(step.started_at, 3),
                    round(step.duration_s, 3), round(step.deliveries_per_s, 2), step.held,
                    step.verdict, step.verdict_samples, ";".join(step.broken),
                    step.enough_samples, ";".join(step.notes)]
            if not step.kinds:
                writer.writerow([_cell(v) for v in head])
            for kind, stats in sorted(step.kinds.items()):
                tail: list[object] = [kind, stats.samples, stats.delivered_ratio, stats.p50_ms,
                                      stats.p90_ms, stats.p99_ms, stats.p999_ms, stats.max_ms]
                writer.writerow([_cell(v) for v in head + tail])
    return summary, steps
