"""HdrHistograms of fan-out latency per event kind, in microseconds with 3 significant digits.

Workers record into interval histograms and ship them encoded (HdrHistogram's compressed base64
form, the same one Java/C/Go HdrHistogram read); the master adds them into run totals without loss.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final

import numpy as np
from hdrh.histogram import HdrHistogram

from wsprobe.load.fanout import KINDS, Kind

__all__ = [
    "HIGHEST_US",
    "PERCENTILES",
    "SERIES",
    "KindHistograms",
    "clear",
    "new_histogram",
    "percentiles_ms",
    "values_at",
]

HIGHEST_US: Final = 3_600_000_000  # one hour: anything slower is clamped and still counted
PERCENTILES: Final[tuple[tuple[str, float], ...]] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
)
SERIES: Final[tuple[str, ...]] = ("actual", "scheduled", "last")
"""Per kind: latency per delivery from the actual send, from the scheduled send, and per event
the time from the actual send to the last receiver."""


def new_histogram() -> HdrHistogram:
    """An empty histogram: 1 us to one hour, 3 significant digits."""
    return HdrHistogram(1, HIGHEST_US, 3)


_TABLES: dict[tuple[int, int], tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}


def _tables(hist: HdrHistogram) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per counts index: highest equivalent value, and median equivalent value (cached)."""
    key = (hist.counts_len, hist.unit_magnitude)
    tables = _TABLES.get(key)
    if tables is None:
        lows = [hist.get_value_from_index(i) for i in range(hist.counts_len)]
        highest = np.array([hist.get_highest_equivalent_value(v) for v in lows], dtype=np.int64)
        median = np.array([hist._hdr_median_equiv_value(v) for v in lows], dtype=np.float64)
        tables = _TABLES[key] = (highest, median)
    return tables


def _counts(hist: HdrHistogram) -> np.ndarray[Any, Any]:
    return np.frombuffer(hist.counts, dtype=np.uint64 if hist.word_size == 8 else np.uint32)


def values_at(hist: HdrHistogram, percentiles: Iterable[float]) -> list[int]:
    """``hist.get_value_at_percentile`` for several percentiles in one vectorized pass.

    hdrh walks its counts array in Python (milliseconds per call); this does the same walk with
    numpy and the same rounding, so the answers are identical.
    """
    highest, _ = _tables(hist)
    cumulative = np.cumsum(_counts(hist), dtype=np.int64)
    total = hist.get_total_count()
    out = []
    for pct in percentiles:
        target = max(int(min(pct, 100.0) * total / 100 + 0.5), 1)
        index = int(np.searchsorted(cumulative, target, side="left"))
        out.append(int(highest[index]) if index < hist.counts_len else 0)
    return out


def _mean(hist: HdrHistogram) -> float:
    """Mean as hdrh computes it (median equivalent value per bucket), vectorized."""
    _, median = _tables(hist)
    return float((_counts(hist) * median).sum() / hist.get_total_count())


def clear(hist: HdrHistogram) -> None:
    """``hist.reset()`` without hdrh's Python loop over every counter (one memset instead)."""
    if hist.total_count:
        ctypes.memset(ctypes.addressof(hist.counts), 0, ctypes.sizeof(hist.counts))
        hist.total_count = 0
        hist.min_value = sys.maxsize
        hist.max_value = 0
        hist.start_time_stamp_msec = sys.maxsize
        hist.end_time_stamp_msec = 0


def percentiles_ms(hist: HdrHistogram) -> dict[str, float | int | None]:
    """count, p50, p90, p99, p99.9, max and mean in milliseconds (``None`` when empty)."""
    count = hist.get_total_count()
    out: dict[str, float | int | None] = {"count": count}
    values = values_at(hist, [pct for _, pct in PERCENTILES]) if count else []
    for index, (name, _) in enumerate(PERCENTILES):
        out[name] = round(values[index] / 1000, 3) if count else None
    out["max"] = round(hist.get_max_value() / 1000, 3) if count else None
    out["mean"] = round(_mean(hist) / 1000, 3) if count else None
    return out


_tables(new_histogram())  # build the lookup tables at import, not in the middle of a run


class KindHistograms:
    """One histogram per (kind, series), recorded into and shipped as encoded strings."""

    def __init__(self, kinds: Iterable[Kind] = KINDS) -> None:
        self.hists: dict[tuple[Kind, str], HdrHistogram] = {
            (kind, series): new_histogram() for kind in kinds for series in SERIES
        }
        self._actual = {kind: self.hists[kind, "actual"] for kind in kinds}
        self._scheduled = {kind: self.hists[kind, "scheduled"] for kind in kinds}
        self._last = {kind: self.hists[kind, "last"] for kind in kinds}

    def record(self, kind: Kind, latency: int, latency_sched: int) -> None:
        """Record one delivery (hot path: two plain dictionary lookups and two records)."""
        self._actual[kind].record_value(min(max(latency, 1), HIGHEST_US))
        self._scheduled[kind].record_value(min(max(latency_sched, 1), HIGHEST_US))

    def record_last(self, kind: Kind, to_last: int) -> None:
        """Record the time from an event's send to its last receiver."""
        self._last[kind].record_value(min(max(to_last, 1), HIGHEST_US))

    def encode(self) -> dict[str, str]:
        """The non-empty histograms, encoded, keyed ``kind/series``."""
        return {
            f"{kind}/{series}": hist.encode().decode("ascii")
            for (kind, series), hist in self.hists.items()
            if hist.get_total_count()
        }

    def reset(self) -> None:
        """Empty every histogram (after shipping an interval)."""
        for hist in self.hists.values():
            clear(hist)

    def add_encoded(self, encoded: Mapping[str, str]) -> None:
        """Add histograms produced by :meth:`encode` (any process, any order)."""
        for name, text in encoded.items():
            kind, series = name.split("/")
            self.hists[Kind(kind), series].decode_and_add(text.encode("ascii"))

    def get(self, kind: Kind, series: str) -> HdrHistogram:
        """The histogram of one kind and series."""
        return self.hists[kind, series]
