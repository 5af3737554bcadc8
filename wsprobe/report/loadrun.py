"""A ``wsprobe load`` run folder as tables: per-kind summary, deliveries, and the run's timeline.

The folder's files are documented in ``reports/README.md`` (``summary.json`` with its ``series``
of per-interval figures, the raw ``deliveries-<node>.csv`` files, Locust's statistics CSV). This
module is the only place that knows their spelling: it turns them into frames with the column
names the rest of the report uses. Times become seconds since the run started (``t_s``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wsprobe.errors import InputError
from wsprobe.report.files import read_csv, read_json

__all__ = ["COUNTS", "PERCENTILES", "LoadRun", "SloVerdict", "read_load_run"]

#: summary percentile keys, in order, as the report labels them
PERCENTILES = ("p50", "p90", "p99", "p99.9", "max")
#: per-kind counters of ``summary.json``
COUNTS = ("events", "expected", "delivered", "lost", "duplicates", "late")
#: latency series of ``summary.json`` -> column prefix in :attr:`LoadRun.kinds`
SERIES = {"actual": "", "scheduled": "sched_", "last": "last_"}

_DELIVERY_GLOBS = ("deliveries-*.csv", "deliveries.csv")
_LOCUST_HISTORY = "locust_stats_history.csv"


@dataclass(frozen=True, slots=True)
class SloVerdict:
    """One ``--slo`` of the run: its text, whether it held, and the measured value."""

    spec: str
    passed: bool
    actual: str = ""


@dataclass(frozen=True, eq=False)
class LoadRun:
    """What a load run measured.

    ``kinds``: one row per event kind that saw any event (index ``kind``), columns
    :data:`COUNTS`, then ``<p>_ms``, ``sched_<p>_ms`` and ``last_<p>_ms`` for each of
    :data:`PERCENTILES`.
    ``intervals``: one row per report interval and kind from ``summary.json``'s ``series``
    (``t_s``, ``kind``, ``deliveries``, ``p50``, ``p90``, ``p99``, ``max`` in ms).
    ``timeline``: one row per report interval (``t_s``, ``users``, ``connections``,
    ``cpu_percent`` and ``lag_ms``: CPU and scheduling-lag p99 of the busiest generator process).
    ``deliveries``: one row per delivery from the raw CSV files (``kind``, ``t_s`` of the send,
    ``latency_ms``, ``sched_latency_ms``, ``outcome``), empty when the run kept none.
    """

    path: Path
    summary: dict[str, Any]
    kinds: pd.DataFrame
    intervals: pd.DataFrame
    timeline: pd.DataFrame
    deliveries: pd.DataFrame
    slos: tuple[SloVerdict, ...]
    valid: bool
    invalid_reason: str | None

    @property
    def name(self) -> str:
        """The folder's name, which is how reports label the run."""
        return self.path.name

    @property
    def info(self) -> dict[str, Any]:
        """The ``run`` block of ``summary.json`` (url, users, duration...)."""
        value = self.summary.get("run")
        return value if isinstance(value, dict) else {}

    @property
    def duration_s(self) -> float | None:
        """How long the measurement lasted."""
        value = self.info.get("duration_s")
        return float(value) if isinstance(value, int | float) else None

    @property
    def users(self) -> int | None:
        """The number of users the run asked for."""
        value = self.info.get("users", self.info.get("peak_users"))
        return int(value) if isinstance(value, int | float) else None

    @property
    def target(self) -> str:
        """The URL the run loaded."""
        return str(self.info.get("url") or "")


def _number(value: Any, where: str) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: expected a number, found {value!r}")
    return float(value)


def _kind_row(kind: str, entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object per event kind, found {entry!r}")
    row: dict[str, Any] = {"kind": kind}
    for count in COUNTS:
        if count not in entry:
            raise InputError(f"{where}: missing '{count}'")
        row[count] = _number(entry[count], f"{where}.{count}")
    latency = entry.get("latency_ms")
    if not isinstance(latency, dict):
        raise InputError(f"{where}: missing 'latency_ms' (actual, scheduled, last percentiles)")
    row["samples"] = 0.0
    for series, prefix in SERIES.items():
        table = latency.get(series) or {}
        if not isinstance(table, dict):
            raise InputError(f"{where}.latency_ms.{series}: expected an object")
        if series == "actual":
            row["samples"] = _number(table.get("count", 0), f"{where}.latency_ms.actual.count")
        for p in PERCENTILES:
            row[f"{prefix}{p}_ms"] = _number(table.get(p), f"{where}.latency_ms.{series}.{p}")
    return row


def _kinds(summary: dict[str, Any], where: Path) -> pd.DataFrame:
    kinds = summary.get("kinds")
    if not isinstance(kinds, dict):
        raise InputError(f"{where}: no per-kind results (expected an object 'kinds')")
    rows = [_kind_row(str(k), v, f"{where}: kinds.{k}") for k, v in kinds.items()]
    columns = ["kind", *COUNTS, "samples",
               *(f"{prefix}{p}_ms" for prefix in SERIES.values() for p in PERCENTILES)]
    frame = pd.DataFrame(rows, columns=columns).set_index("kind")
    seen = (frame["events"] > 0) | (frame["expected"] > 0) | (frame["samples"] > 0)
    return frame[seen]


def _slos(summary: dict[str, Any], where: Path) -> tuple[SloVerdict, ...]:
    entries = summary.get("slo") or []
    if not isinstance(entries, list):
        raise InputError(f"{where}: 'slo' should be a list")
    verdicts = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "ok" not in entry or "slo" not in entry:
            raise InputError(f"{where}: slo[{i}] needs 'slo' and 'ok'")
        measured, unit = entry.get("measured"), str(entry.get("unit") or "")
        if isinstance(measured, int | float):
            shown = f"{measured:g}{unit}" if unit == "%" else f"{measured:g} {unit}".strip()
        else:
            shown = "not measured"
        verdicts.append(SloVerdict(str(entry["slo"]), bool(entry["ok"]), shown))
    return tuple(verdicts)


def _started(summary: dict[str, Any]) -> float | None:
    text = (summary.get("run") or {}).get("started")
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _series(summary: dict[str, Any], where: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = summary.get("series") or []
    if not isinstance(rows, list):
        raise InputError(f"{where}: 'series' should be a list")
    timeline, intervals = [], []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or "t" not in row:
            raise InputError(f"{where}: series[{i}] needs 't'")
        cpu = row.get("cpu_max")
        timeline.append({"t_s": row["t"], "users": row.get("users"),
                         "connections": row.get("sockets"),
                         "cpu_percent": None if cpu is None else float(cpu) * 100,
                         "lag_ms": row.get("lag_p99_max_ms")})
        for kind, stats in (row.get("kinds") or {}).items():
            if isinstance(stats, dict):
                intervals.append({"t_s": row["t"], "kind": kind,
                                  **{k: stats.get(k) for k in
                                     ("deliveries", "p50", "p90", "p99", "max")}})
    return (pd.DataFrame(intervals, columns=["t_s", "kind", "deliveries", "p50", "p90", "p99",
                                             "max"]),
            pd.DataFrame(timeline, columns=["t_s", "users", "connections", "cpu_percent",
                                            "lag_ms"]))


def _deliveries(folder: Path, origin: float | None) -> pd.DataFrame:
    columns = ["kind", "t_s", "latency_ms", "sched_latency_ms", "outcome"]
    paths = sorted({p for pattern in _DELIVERY_GLOBS for p in folder.glob(pattern)})
    frames = []
    for path in paths:
        raw = read_csv(path, required=("kind", "t_send_us", "latency_us", "latency_sched_us",
                                       "status"))
        frames.append(pd.DataFrame({
            "kind": raw["kind"].astype(str),
            "t_s": pd.to_numeric(raw["t_send_us"], errors="coerce") / 1e6,
            "latency_ms": pd.to_numeric(raw["latency_us"], errors="coerce") / 1000,
            "sched_latency_ms": pd.to_numeric(raw["latency_sched_us"], errors="coerce") / 1000,
            "outcome": raw["status"].astype(str),
        }))
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    start = origin if origin is not None else float(out["t_s"].min())
    out["t_s"] = out["t_s"] - start
    return out[columns]


def read_load_run(folder: Path) -> LoadRun:
    """Read the load run in ``folder`` (it has a ``summary.json``)."""
    path = folder / "summary.json"
    summary = read_json(path)
    validity = summary.get("validity") if isinstance(summary.get("validity"), dict) else {}
    assert isinstance(validity, dict)
    reasons = [str(r) for r in validity.get("reasons") or []]
    target = summary.get("target") if isinstance(summary.get("target"), dict) else {}
    assert isinstance(target, dict)
    if target.get("ok") is False:
        reasons.insert(0, f"the target failed: {target.get('connect_failures', 0)} connection "
                          f"failures, {target.get('protocol_errors', 0)} protocol errors")
    intervals, timeline = _series(summary, path)
    if timeline.empty and (folder / _LOCUST_HISTORY).is_file():
        history = read_csv(folder / _LOCUST_HISTORY, required=("Timestamp", "User Count"))
        history = history[history["Name"] == "Aggregated"] if "Name" in history else history
        stamps = pd.to_numeric(history["Timestamp"], errors="coerce")
        timeline = pd.DataFrame({"t_s": stamps - stamps.min(),
                                 "users": pd.to_numeric(history["User Count"], errors="coerce")})
    return LoadRun(
        path=folder,
        summary=summary,
        kinds=_kinds(summary, path),
        intervals=intervals,
        timeline=timeline,
        deliveries=_deliveries(folder, _started(summary)),
        slos=_slos(summary, path),
        valid=validity.get("valid", True) is not False and target.get("ok") is not False,
        invalid_reason="; ".join(reasons) or None,
    )
