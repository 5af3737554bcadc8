"""The generator watching itself: process CPU and gevent scheduling lag, per report interval.

A greenlet asks to wake every ``tick`` seconds and records how late it actually woke (the time any
greenlet would have waited to run, e.g. a receiver with data waiting). Lag and CPU near one core
mean the generator, not the server, was the bottleneck: such a run is reported invalid.
"""

from __future__ import annotations

import time

import gevent
from hdrh.histogram import HdrHistogram

from wsprobe.load.histograms import clear, new_histogram, values_at

__all__ = ["Monitor"]


class Monitor:
    """Samples scheduling lag continuously; :meth:`interval` returns and resets the interval."""

    def __init__(self, *, tick: float = 0.05) -> None:
        self.tick = tick
        self.lag: HdrHistogram = new_histogram()
        self._cpu0 = time.process_time()
        self._wall0 = time.monotonic()
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        """Start sampling in a greenlet."""
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        """Stop sampling."""
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def _run(self) -> None:
        tick = self.tick
        record = self.lag.record_value
        while True:
            target = time.monotonic() + tick
            gevent.sleep(tick)
            late = int((time.monotonic() - target) * 1e6)
            record(min(max(late, 1), 3_600_000_000))

    def interval(self) -> dict[str, object]:
        """CPU fraction of one core since the last call, and the lag histogram (encoded)."""
        cpu, wall = time.process_time(), time.monotonic()
        fraction = (cpu - self._cpu0) / max(wall - self._wall0, 1e-9)
        self._cpu0, self._wall0 = cpu, wall
        lag = self.lag
        out: dict[str, object] = {
            "cpu": round(fraction, 4),
            "lag_p99_us": values_at(lag, [99])[0] if lag.get_total_count() else None,
            "lag_max_us": lag.get_max_value() if lag.get_total_count() else None,
            "lag": lag.encode().decode("ascii") if lag.get_total_count() else None,
        }
        clear(lag)
        return out
