"""NTP-style clock offset of a worker against the master, from timestamped message exchanges.

The worker sends ``t0`` (its clock); the master stamps receipt ``t1`` and reply ``t2`` (its clock);
the worker notes ``t3`` on receipt. Then ``offset = ((t1 - t0) + (t2 - t3)) / 2`` is what to add
to the worker's clock to get the master's, and the true offset lies within ``± delay / 2`` where
``delay = (t3 - t0) - (t2 - t1)``. The estimate kept is that of the exchange with the least delay
among the recent ones (the least queued one), and its half-delay is reported as the uncertainty.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["ClockEstimate", "OffsetEstimator"]


@dataclass(frozen=True, slots=True)
class ClockEstimate:
    """Offset to add to local microseconds for the master's clock, and its ± uncertainty."""

    offset_us: int
    uncertainty_us: int
    samples: int


class OffsetEstimator:
    """Keeps the recent exchanges and answers with the least-delay one."""

    def __init__(self, window: int = 16) -> None:
        self._samples: deque[tuple[int, int]] = deque(maxlen=window)  # (delay, offset)
        self.total = 0

    def add(self, t0: int, t1: int, t2: int, t3: int) -> None:
        """Record one exchange (all in microseconds; t0/t3 worker clock, t1/t2 master clock)."""
        delay = max((t3 - t0) - (t2 - t1), 0)
        offset = ((t1 - t0) + (t2 - t3)) // 2
        self._samples.append((delay, offset))
        self.total += 1

    def estimate(self) -> ClockEstimate | None:
        """The best current estimate, or ``None`` before the first exchange."""
        if not self._samples:
            return None
        delay, offset = min(self._samples)
        return ClockEstimate(offset_us=offset, uncertainty_us=(delay + 1) // 2, samples=self.total)
