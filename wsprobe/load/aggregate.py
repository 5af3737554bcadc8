"""The master's side of a run, with no I/O: merge the workers' interval reports without loss.

Each worker sends one report per interval (see :func:`interval_report` in ``wsprobe.load.probe``):
counter deltas, encoded interval histograms, per-event outcomes and its own health. Counters add,
histograms add bucket by bucket, and an event's time to its last receiver is the latest receipt over
all workers, so the merged run is exactly the sum of its parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from wsprobe.load.fanout import KINDS, Counts, Kind
from wsprobe.load.histograms import KindHistograms, new_histogram, percentiles_ms

__all__ = ["Aggregator", "NodeState"]


@dataclass(slots=True)
class NodeState:
    """What the master knows about one worker."""

    node: str
    counts: dict[Kind, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    unmatched: int = 0
    reports: int = 0
    cpu: list[float] = field(default_factory=list)
    lag: HdrHistogram = field(default_factory=new_histogram)
    users: int = 0
    sockets: int = 0
    pending: int = 0
    incomplete: int = 0
    clock_offset_us: int | None = None
    clock_uncertainty_us: int | None = None
    errors: dict[str, int] = field(default_factory=dict)
    connect_failures: int = 0
    refused: int = 0
    protocol_errors: int = 0
    closed_by_server: int = 0
    reconnects: int = 0
    registrations: int = 0
    problems: list[str] = field(default_factory=list)
    timestamps: str | None = None
    internal_errors: int = 0
    internal_problems: list[str] = field(default_factory=list)
    final: dict[str, Any] | None = None
    sends: int = 0
    late_sends: int = 0
    send_lag_max_us: int = 0


@dataclass(slots=True)
class _Bucket:
    hists: KindHistograms = field(default_factory=KindHistograms)
    users: dict[str, int] = field(default_factory=dict)
    sockets: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    lag: dict[str, float] = field(default_factory=dict)
    sends: int = 0
    late_sends: int = 0
    closed_by_server: int = 0
    connect_failures: int = 0
    refused: int = 0
    reconnects: int = 0


class Aggregator:
    """Run totals, per-worker state and a time series, built from interval reports."""

    def __init__(self, *, t0: int, interval: float, loss_timeout: float) -> None:
        self.t0 = t0
        self.interval_us = max(int(interval * 1e6), 1)
        self.settle_us = int(loss_timeout * 1e6) + 3 * self.interval_us
        self.totals: dict[Kind, Counts] = {k: Counts() for k in KINDS}
        self.unmatched = 0
        self.hists = KindHistograms()
        self.nodes: dict[str, NodeState] = {}
        self.series: list[dict[str, Any]] = []
        self._buckets: dict[int, _Bucket] = {}
        self._events: dict[str, list[Any]] = {}  # key -> [kind, t_send, last, expected, delivered]

    def node(self, name: str) -> NodeState:
        """The state of a worker, created on first sight."""
        state = self.nodes.get(name)
        if state is None:
            state = self.nodes[name] = NodeState(name)
        return state

    def add(self, report: Mapping[str, Any]) -> None:
        """Merge one interval report from a worker."""
        state = self.node(report["node"])
        state.reports += 1
        for kind_name, fields in report["counts"].items():
            kind = Kind(kind_name)
            delta = Counts(**fields)
            self.totals[kind].add(delta)
            state.counts[kind].add(delta)
        self.unmatched += report["unmatched"]
        state.unmatched += report["unmatched"]
        self.hists.add_encoded(report["hists"])
        monitor = report["monitor"]
        if monitor.get("lag"):
            state.lag.decode_and_add(monitor["lag"].encode("ascii"))
        if monitor.get("cpu") is not None:
            state.cpu.append(monitor["cpu"])
        sends = report.get("sends") or {"count": 0, "late": 0, "lag_max_us": 0}
        state.sends += sends["count"]
        state.late_sends += sends["late"]
        state.send_lag_max_us = max(state.send_lag_max_us, sends["lag_max_us"])
        state.users, state.sockets = report["users"], report["sockets"]
        state.pending, state.incomplete = report["pending"], report["incomplete"]
        clock = report.get("clock")
        if clock:
            state.clock_offset_us = clock["offset_us"]
            state.clock_uncertainty_us = clock["uncertainty_us"]
        for code, n in report["errors"].items():
            state.errors[code] = state.errors.get(code, 0) + n
        state.connect_failures += report["connect_failures"]
        state.refused += report["refused"]
        state.protocol_errors += report["protocol_errors"]
        state.closed_by_server += report.get("closed_by_server", 0)
        state.reconnects += report.get("reconnects", 0)
        state.registrations = report.get("registrations", state.registrations)  # cumulative
        state.timestamps = report.get("timestamps") or state.timestamps
        state.internal_errors = report.get("internal_errors", 0)  # cumulative
        state.internal_problems = report.get("internal_problems") or state.internal_problems
        state.problems.extend(report.get("problems", ())[: 20 - len(state.problems)])

        index = max((report["t_end"] - self.t0 - 1) // self.interval_us, 0)
        bucket = self._buckets.get(index)
        if bucket is None:
            bucket = self._buckets[index] = _Bucket()
        bucket.hists.add_encoded({k: v for k, v in report["hists"].items() if "/actual" in k})
        for name, other in self.nodes.items():  # a node whose report fell in a neighbour bucket
            bucket.users.setdefault(name, other.users)
            bucket.sockets.setdefault(name, other.sockets)
        bucket.users[state.node] = report["users"]
        bucket.sockets[state.node] = report["sockets"]
        if monitor.get("cpu") is not None:
            bucket.cpu[state.node] = monitor["cpu"]
        if monitor.get("lag_p99_us") is not None:
            bucket.lag[state.node] = monitor["lag_p99_us"] / 1000
        bucket.sends += sends["count"]
        bucket.late_sends += sends["late"]
        bucket.closed_by_server += report.get("closed_by_server", 0)
        bucket.connect_failures += report["connect_failures"]
        bucket.refused += report["refused"]
        bucket.reconnects += report.get("reconnects", 0)

        events = self._events
        for key, kind_name, t_send, last, expected, delivered in report["events"]:
            entry = events.get(key)
            if entry is None:
                events[key] = [kind_name, t_send, last, expected, delivered]
            else:
                if last is not None and (entry[2] is None or last > entry[2]):
                    entry[2] = last
                entry[3] += expected
                entry[4] += delivered
        self._settle(report["t_end"], force=False)

    def _settle(self, now: int, *, force: bool) -> None:
        horizon = now - self.settle_us
        done = [k for k, e in self._events.items() if force or e[1] < horizon]
        for key in done:
            kind_name, t_send, last, _, _ = self._events.pop(key)
            if last is not None:
                self.hists.record_last(Kind(kind_name), last - t_send)
        if self._buckets:
            newest = max(self._buckets)
            for index in sorted(self._buckets):
                if force or index < newest - 3:
                    self._close_bucket(index)

    def _close_bucket(self, index: int) -> None:
        bucket = self._buckets.pop(index)
        kinds: dict[str, Any] = {}
        for kind in KINDS:
            stats = percentiles_ms(bucket.hists.get(kind, "actual"))
            if stats["count"]:
                kinds[kind] = {
                    "deliveries": stats["count"],
                    **{k: stats[k] for k in ("p50", "p90", "p99", "max")},
                }
        self.series.append(
            {
                "t": round((index + 1) * self.interval_us / 1e6, 3),
                "users": sum(bucket.users.values()),
                "sockets": sum(bucket.sockets.values()),
                "workers": len(bucket.users),
                "cpu_max": round(max(bucket.cpu.values()), 3) if bucket.cpu else None,
                "lag_p99_max_ms": round(max(bucket.lag.values()), 3) if bucket.lag else None,
                "sends": bucket.sends,
                "late_sends": bucket.late_sends,
                "closed_by_server": bucket.closed_by_server,
                "connect_failures": bucket.connect_failures,
                "refused": bucket.refused,
                "reconnects": bucket.reconnects,
                "kinds": kinds,
            }
        )

    def finish(self, now: int) -> None:
        """Settle every remaining event and bucket (end of run)."""
        self._settle(now, force=True)
        self.series.sort(key=lambda row: row["t"])

    @property
    def incomplete(self) -> int:
        """Events some worker still waits on (from each worker's latest report)."""
        return sum(state.incomplete for state in self.nodes.values())
