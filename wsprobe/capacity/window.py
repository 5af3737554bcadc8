"""One step's verdict from a finished load run: its steady window, read from the raw deliveries.

A step is a ``wsprobe load`` run at a fixed number of users. Its steady window opens ``settle``
seconds after the join storm was over (every socket saw every user join) and closes when the run
began to drain. Only deliveries
*sent* inside the window count: the ramp-up (fewer users, so faster) and the drain are left out.
The window's counters and histograms take the shape of ``summary.json``'s ``kinds`` so that the
load half's own SLO evaluator judges them.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from wsprobe.capacity.result import KindStats
from wsprobe.errors import InputError
from wsprobe.load.fanout import KINDS
from wsprobe.load.histograms import HIGHEST_US, new_histogram, percentiles_ms
from wsprobe.load.slo import Slo

__all__ = ["Window", "min_samples", "read_window"]

_RECEIVED = frozenset({"delivered", "late", "optional"})
_PERCENT = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def min_samples(slos: Iterable[Slo], floor: int = 20) -> int:
    """Samples a tail needs to be measured at all: 10 beyond the percentile (1,000 for a p99,
    10,000 for a p99.9); ``max`` and ``mean`` are held to what a p99 needs."""
    need = floor
    for slo in slos:
        if slo.series == "ratio":
            continue
        pct = _PERCENT.get(slo.metric, 99.0)
        need = max(need, math.ceil(round(10 / (1 - pct / 100), 6)))
    return need


@dataclass(frozen=True, slots=True)
class Window:
    """What a step measured in its steady window."""

    start_s: float  # seconds after the run started
    length_s: float
    kinds: dict[str, Any]  # summary.json's "kinds" shape, for wsprobe.load.slo.evaluate
    deliveries: int

    @property
    def deliveries_per_s(self) -> float:
        """First copies received per second of the window (every kind)."""
        return self.deliveries / self.length_s if self.length_s > 0 else 0.0

    def samples(self, kind: str) -> int:
        """Latency samples of ``kind`` in the window."""
        entry = self.kinds.get(kind)
        return int(entry["latency_ms"]["actual"]["count"]) if entry else 0

    def stats(self, series: str = "scheduled") -> dict[str, KindStats]:
        """Per kind with any sample: the figures ``steps.csv`` records, latency from the
        ``scheduled`` or the ``actual`` send."""
        out = {}
        for kind, entry in self.kinds.items():
            sched = entry["latency_ms"][series]
            if not sched["count"]:
                continue
            ratio = entry["delivered"] / entry["expected"] if entry["expected"] else None
            out[kind] = KindStats(int(sched["count"]), ratio, sched["p50"], sched["p90"],
                                  sched["p99"], sched["p99.9"], sched["max"])
        return out


def _started(summary: Mapping[str, Any], where: Path) -> float:
    text = summary.get("run", {}).get("started")
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InputError(f"{where}: run.started is not an ISO time: {text!r}") from None


def _ramp_done(summary: Mapping[str, Any], users: int, joins: dict[str, tuple[int, int]],
               started: float) -> float:
    """Seconds from the start until the join storm of ``users`` was over: the last receipt of
    the first ``users - 1`` join events (each user's first registration is one; the very first
    user's join has no receiver), so the ``get-users`` lists of a big ramp, O(users³) bytes, are
    all delivered before the window opens; else the first report interval that counted them."""
    if users <= 1:
        return 0.0
    if len(joins) >= users - 1:
        first = sorted(joins.values())[: users - 1]
        return max(max(t_recv, t_send) for t_send, t_recv in first) / 1e6 - started
    for row in summary.get("series") or []:
        if row.get("users", 0) >= users:
            return float(row["t"])
    return float(summary.get("run", {}).get("duration_s") or 0.0)


def read_window(folder: Path, summary: Mapping[str, Any], *, users: int,
                settle: float) -> Window:
    """The steady window of the load run in ``folder`` (its ``summary.json`` already read)."""
    where = folder / "summary.json"
    started = _started(summary, where)
    # the window ends where the ramp-down began (the asked-for duration, from the first spawn)
    run = summary.get("run", {})
    measured = float(run.get("ramp_down_s") or run.get("duration_s") or 0.0)
    paths = sorted(folder.glob("deliveries-*.csv"))
    if not paths:
        raise InputError(f"{folder}: no deliveries-*.csv (the capacity search needs --raw)")
    rows: list[tuple[str, str, int, str, str, str]] = []
    joins: dict[str, tuple[int, int]] = {}  # key -> (send, last receipt)
    for path in paths:
        with path.open(newline="", encoding="utf-8") as lines:
            for row in csv.DictReader(lines):
                t_send = int(row["t_send_us"])
                if row["kind"] == "join":
                    seen = joins.get(row["key"], (t_send, t_send))
                    t_recv = int(row["t_recv_us"]) if row["t_recv_us"] else t_send
                    joins[row["key"]] = (t_send, max(seen[1], t_recv))
                rows.append((row["kind"], row["key"], t_send, row["status"],
                             row["latency_us"], row["latency_sched_us"]))
    start_s = min(_ramp_done(summary, users, joins, started) + settle, measured)
    lo, hi = int((started + start_s) * 1e6), int((started + measured) * 1e6)
    hists: dict[tuple[str, str], HdrHistogram] = {
        (k, s): new_histogram() for k in KINDS for s in ("actual", "scheduled")}
    counts: dict[str, dict[str, int]] = {
        k: {"events": 0, "expected": 0, "delivered": 0, "lost": 0, "late": 0, "duplicates": 0}
        for k in KINDS}
    keys: dict[str, set[str]] = {k: set() for k in KINDS}
    deliveries = 0
    for kind, key, t_send, status, latency, latency_sched in rows:
        if not lo <= t_send < hi or kind not in counts:
            continue
        keys[kind].add(key)
        c = counts[kind]
        if status == "duplicate":
            c["duplicates"] += 1
            continue
        if status != "optional":
            c["expected"] += 1
        if status == "lost":
            c["lost"] += 1
            continue
        if status in _RECEIVED:
            deliveries += 1
            if status != "optional":
                c["delivered"] += 1
            if status == "late":
                c["late"] += 1
            hists[kind, "actual"].record_value(min(max(int(latency), 1), HIGHEST_US))
            hists[kind, "scheduled"].record_value(min(max(int(latency_sched), 1), HIGHEST_US))
    whole = summary.get("kinds", {})
    kinds: dict[str, Any] = {}
    for kind in KINDS:
        entry: dict[str, Any] = {**counts[kind], "events": len(keys[kind])}
        last = whole.get(kind, {}).get("latency_ms", {}).get("last")
        entry["latency_ms"] = {
            "actual": percentiles_ms(hists[kind, "actual"]),
            "scheduled": percentiles_ms(hists[kind, "scheduled"]),
            "last": last or percentiles_ms(new_histogram()),
        }
        kinds[kind] = entry
    return Window(start_s, max(measured - start_s, 0.0), kinds, deliveries)
