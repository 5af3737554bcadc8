"""A ``wsprobe load`` run folder as tables: per-kind summary, deliveries, and the run's timeline.

The folder's files are documented in ``reports/README.md`` (``summary.json``, the raw deliveries
CSV, Locust's statistics CSV). This module is the only place that knows their spelling: it turns
them into frames with the column names the rest of the report uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wsprobe.errors import InputError
from wsprobe.report.files import read_csv, read_json

__all__ = ["PERCENTILES", "LoadRun", "SloVerdict", "read_load_run"]

#: summary percentile keys, in order, as the report labels them
PERCENTILES = ("p50", "p90", "p99", "p99.9", "max")

COUNTS = ("events", "expected", "delivered", "lost", "duplicates", "late")

DELIVERY_FILES = ("deliveries.csv", "deliveries.csv.gz")
TIMELINE_FILES = ("timeline.csv", "samples.csv")
LOCUST_HISTORY = "locust_stats_history.csv"


@dataclass(frozen=True, slots=True)
class SloVerdict:
    """One ``--slo`` of the run: its text, whether it held, and the measured value if known."""

    spec: str
    passed: bool
    actual: str = ""


@dataclass(frozen=True, eq=False)
class LoadRun:
    """What a load run measured.

    ``kinds``: one row per event kind (index ``kind``), columns :data:`COUNTS`, then
    ``<p>_ms`` and ``sched_<p>_ms`` for each of :data:`PERCENTILES`.
    ``deliveries``: one row per delivery (``kind``, ``t_s`` seconds since the run started,
    ``latency_ms``, ``sched_latency_ms``, ``outcome``), empty when the run kept none.
    ``timeline``: one row per sample (``t_s`` and any of ``users``, ``connections``,
    ``cpu_percent``, ``send_lag_ms``), empty when the run recorded none.
    """

    path: Path
    summary: dict[str, Any]
    kinds: pd.DataFrame
    deliveries: pd.DataFrame
    timeline: pd.DataFrame
    slos: tuple[SloVerdict, ...]
    valid: bool
    invalid_reason: str | None

    @property
    def name(self) -> str:
        """The folder's name, which is how reports label the run."""
        return self.path.name

    @property
    def duration_s(self) -> float | None:
        """How long the measurement lasted, when the summary says."""
        value = _first(self.summary, "duration_s", "duration")
        return float(value) if isinstance(value, int | float) else None

    @property
    def users(self) -> int | None:
        """The number of users the run ended with, when known."""
        value = _first(self.summary, "users", "user_count")
        if isinstance(value, int | float):
            return int(value)
        if "users" in self.timeline and not self.timeline.empty:
            return int(self.timeline["users"].max())
        return None


def _first(mapping: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return None


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
        alias = {"duplicates": "duplicated"}.get(count, count)
        row[count] = _number(_first(entry, count, alias), f"{where}.{count}")
    latency = _first(entry, "latency_ms", "latency")
    latency = latency if isinstance(latency, dict) else {}
    sources = {
        "": _first(latency, "actual", "from_send") if "actual" in latency else latency,
        "sched_": _first(latency, "scheduled", "from_schedule")
        or _first(entry, "scheduled_latency_ms", "latency_scheduled_ms"),
        "last_": _first(latency, "last"),
    }
    for prefix, percentiles in sources.items():
        table = percentiles if isinstance(percentiles, dict) else {}
        for p in PERCENTILES:
            value = _first(table, p, p.replace(".", "_"))
            row[f"{prefix}{p}_ms"] = _number(value, f"{where}.latency_ms.{p}")
    return row


def _kinds(summary: dict[str, Any], where: Path) -> pd.DataFrame:
    kinds = _first(summary, "kinds", "events_by_kind", "per_kind")
    if not isinstance(kinds, dict):
        raise InputError(f"{where}: no per-kind results (expected an object 'kinds')")
    rows = [_kind_row(str(k), v, f"{where}: kinds.{k}") for k, v in kinds.items()]
    columns = ["kind", *COUNTS, *(f"{prefix}{p}_ms" for prefix in ("", "sched_", "last_")
                                  for p in PERCENTILES)]
    return pd.DataFrame(rows, columns=columns).set_index("kind")


def _slos(summary: dict[str, Any], where: Path) -> tuple[SloVerdict, ...]:
    entries = _first(summary, "slos", "slo")
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise InputError(f"{where}: 'slos' should be a list")
    verdicts = []
    for entry in entries:
        passed = _first(entry, "ok", "passed") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or passed is None:
            raise InputError(f"{where}: each SLO needs 'slo' and 'ok', found {entry!r}")
        spec = str(_first(entry, "slo", "spec", "text") or "?")
        measured = _first(entry, "measured", "actual", "value")
        unit = str(entry.get("unit") or "")
        shown = "not measured" if measured is None else f"{measured:g} {unit}".strip() \
            if isinstance(measured, int | float) else str(measured)
        verdicts.append(SloVerdict(spec, bool(passed), shown))
    return tuple(verdicts)


def _find(folder: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def _epoch_seconds(values: pd.Series) -> pd.Series:
    """Timestamps in seconds, whatever unit (s, ms, us, ns since the epoch) the file used."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    biggest = float(numbers.abs().max()) if len(numbers) else 0.0
    for limit, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if biggest > limit:
            return numbers / scale
    return numbers


def _column(raw: pd.DataFrame, *candidates: str) -> str | None:
    return next((c for c in candidates if c in raw.columns), None)


def _deliveries(folder: Path) -> pd.DataFrame:
    columns = ["kind", "at", "latency_ms", "sched_latency_ms", "outcome"]
    path = _find(folder, DELIVERY_FILES)
    if path is None:
        return pd.DataFrame(columns=columns)
    raw = read_csv(path, required=("kind",))
    out = pd.DataFrame({"kind": raw["kind"].astype(str)})
    recv = _column(raw, "t_recv", "received_at", "received")
    send = _column(raw, "t_send", "sent_at", "sent")
    sched = _column(raw, "t_sched", "scheduled_at", "scheduled")
    clock = recv or send or _column(raw, "at", "time")
    if clock is None:
        raise InputError(f"{path}: no time column (t_recv, t_send, received_at or sent_at)")
    times = {name: _epoch_seconds(raw[name]) for name in (recv, send, sched) if name}
    latency = _column(raw, "latency_ms", "latency_actual_ms")
    if latency:
        out["latency_ms"] = pd.to_numeric(raw[latency], errors="coerce")
    elif recv and send:
        out["latency_ms"] = (times[recv] - times[send]) * 1000
    else:
        out["latency_ms"] = float("nan")
    sched_latency = _column(raw, "scheduled_latency_ms", "latency_scheduled_ms",
                            "sched_latency_ms")
    if sched_latency:
        out["sched_latency_ms"] = pd.to_numeric(raw[sched_latency], errors="coerce")
    elif recv and sched:
        out["sched_latency_ms"] = (times[recv] - times[sched]) * 1000
    else:
        out["sched_latency_ms"] = float("nan")
    at = times[send] if send else _epoch_seconds(raw[clock])
    out["at"] = at
    status = _column(raw, "status", "outcome")
    out["outcome"] = raw[status].astype(str) if status else "delivered"
    return out[columns]


def _timeline(folder: Path) -> pd.DataFrame:
    path = _find(folder, TIMELINE_FILES)
    if path is not None:
        raw = read_csv(path)
        clock = _column(raw, "at", "t", "time", "timestamp")
        if clock is None:
            raise InputError(f"{path}: no time column (at, time or timestamp)")
        out = raw.copy()
        out["at"] = _epoch_seconds(raw[clock])
        return out
    history = folder / LOCUST_HISTORY
    if history.is_file():
        raw = read_csv(history, required=("Timestamp", "User Count"))
        rows = raw[raw["Name"] == "Aggregated"] if "Name" in raw.columns else raw
        return pd.DataFrame({
            "at": _epoch_seconds(rows["Timestamp"]),
            "users": pd.to_numeric(rows["User Count"], errors="coerce"),
        })
    return pd.DataFrame(columns=["at"])


def _relative(frame: pd.DataFrame, origin: float) -> pd.DataFrame:
    frame = frame.copy()
    frame["t_s"] = frame["at"] - origin
    return frame


def read_load_run(folder: Path) -> LoadRun:
    """Read the load run in ``folder`` (it has a ``summary.json``)."""
    summary_path = folder / "summary.json"
    summary = read_json(summary_path)
    deliveries, timeline = _deliveries(folder), _timeline(folder)
    starts = [float(f["at"].min()) for f in (deliveries, timeline) if len(f)]
    origin = min(starts) if starts else 0.0
    valid = _first(summary, "valid")
    reason = _first(summary, "invalid_reason", "invalid")
    return LoadRun(
        path=folder,
        summary=summary,
        kinds=_kinds(summary, summary_path),
        deliveries=_relative(deliveries, origin),
        timeline=_relative(timeline, origin),
        slos=_slos(summary, summary_path),
        valid=bool(valid) if valid is not None else True,
        invalid_reason=str(reason) if isinstance(reason, str) else None,
    )
