"""A ``wsprobe capacity`` run folder (``capacity.json`` and ``steps.csv``) as tables, and its
charts: the capacity curve with its knee, and deliveries per second against users."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wsprobe.errors import InputError
from wsprobe.report.files import read_csv, read_json
from wsprobe.report.svg import Chart, color_of, figure, legend_outside, log_ms

__all__ = ["CapacityRun", "capacity_charts", "read_capacity_run"]

_STEP_REQUIRED = ("repeat", "step", "users", "held", "kind", "p99_ms")
# "status.p99<100ms" -> kind, percentile, threshold in ms
_LATENCY_SLO = re.compile(r"^\s*(?P<kind>[\w-]+)\.(?P<series>(?:actual|scheduled)\.)?"
                          r"(?P<p>p[\d.]+|max)\s*<=?\s*(?P<v>[\d.]+)\s*(?P<unit>us|µs|ms|s)?\s*$")
_UNIT_MS = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0, None: 1.0}


@dataclass(frozen=True, eq=False)
class CapacityRun:
    """What a capacity search found: ``summary`` is ``capacity.json``, ``steps`` one row per
    step and kind (``steps.csv``)."""

    path: Path
    summary: dict[str, Any]
    steps: pd.DataFrame

    @property
    def name(self) -> str:
        """The folder's name."""
        return self.path.name

    @property
    def capacity(self) -> dict[str, Any]:
        """``users``, ``users_min``, ``users_max``, ``deliveries_per_s`` (any may be None)."""
        value = self.summary.get("capacity")
        return value if isinstance(value, dict) else {}

    @property
    def slos(self) -> list[str]:
        """The SLOs the search held each step to."""
        return [str(s) for s in self.summary.get("slos") or []]

    @property
    def stopped(self) -> str | None:
        """Why the search stopped early, if it did."""
        value = self.summary.get("stopped")
        return str(value) if value else None


def read_capacity_run(folder: Path) -> CapacityRun:
    """Read the capacity run in ``folder``."""
    summary = read_json(folder / "capacity.json")
    steps = read_csv(folder / "steps.csv", required=_STEP_REQUIRED)
    for column in ("users", "p50_ms", "p90_ms", "p99_ms", "p99.9_ms", "max_ms",
                   "deliveries_per_s", "samples", "delivered_ratio"):
        if column in steps:
            steps[column] = pd.to_numeric(steps[column], errors="coerce")
    steps["held"] = steps["held"].astype(str).str.lower().isin(["true", "1", "yes"])
    steps["kind"] = steps["kind"].fillna("").astype(str)
    if not isinstance(summary.get("capacity", {}), dict):
        raise InputError(f"{folder / 'capacity.json'}: 'capacity' should be an object")
    return CapacityRun(folder, summary, steps)


def _latency_slos(run: CapacityRun) -> list[tuple[str, str, float]]:
    out = []
    for text in run.slos:
        match = _LATENCY_SLO.match(text)
        if match:
            ms = float(match["v"]) * _UNIT_MS[match["unit"]]
            out.append((match["kind"], (match["series"] or "") + match["p"], ms))
    return out


def capacity_curve(run: CapacityRun, chart_id: str) -> Chart:
    """p50 and p99 per step against users, every repeat, with the SLO line and the knee."""
    title = "Capacity curve: latency against users"
    steps = run.steps[run.steps["kind"] != ""]
    slo_kinds = {kind for kind, _, _ in _latency_slos(run)}
    if slo_kinds and "all" not in slo_kinds:
        steps = steps[steps["kind"].isin(slo_kinds)]
    elif "samples" in steps:
        steps = steps[steps["samples"] >= 20]
    if steps.empty:
        return Chart(chart_id, title, None, "no steps measured (steps.csv is empty)")
    with figure(chart_id, size=(7.2, 3.6)) as (_, (ax,), out):
        for kind, rows in steps.groupby("kind", sort=True):
            color = color_of(str(kind))
            by_users = rows.groupby("users")
            p99 = by_users["p99_ms"].median()
            ax.plot(p99.index, p99.to_numpy(), "-", color=color, label=f"{kind} p99 (median)")
            ax.plot(by_users["p50_ms"].median().index, by_users["p50_ms"].median().to_numpy(),
                    ":", color=color, label=f"{kind} p50")
            held = rows[rows["held"]]
            broke = rows[~rows["held"]]
            ax.scatter(held["users"], held["p99_ms"], s=14, color=color, marker="o", zorder=3)
            ax.scatter(broke["users"], broke["p99_ms"], s=22, color=color, marker="x", zorder=3)
        for kind, pct, ms in _latency_slos(run):
            ax.axhline(ms, color=color_of(kind), linestyle="--", linewidth=0.9, alpha=0.8)
            ax.annotate(f"SLO {kind}.{pct} < {ms:g} ms", (ax.get_xlim()[0], ms), fontsize=7,
                        xytext=(4, 3), textcoords="offset points")
        capacity = run.capacity
        if capacity.get("users") is not None:
            low = capacity.get("users_min") or capacity["users"]
            high = capacity.get("users_max") or capacity["users"]
            ax.axvspan(float(low), float(high) + 1e-9, color="#999999", alpha=0.2,
                       label="capacity spread")
            ax.axvline(float(capacity["users"]), color="black", linewidth=1.2,
                       label=f"knee: {float(capacity['users']):g} users")
        series = (run.summary.get("settings") or {}).get("latency_series", "scheduled")
        ax.set_xlabel(f"users (o held every SLO, x broke one); latency from the {series} send")
        log_ms(ax)
        legend_outside(ax)
    return Chart(chart_id, title, out[0])


def capacity_throughput(run: CapacityRun, chart_id: str) -> Chart:
    """Deliveries per second each step achieved against its users."""
    title = "Deliveries per second against users"
    steps = run.steps.drop_duplicates(["repeat", "step"])
    if steps.empty or "deliveries_per_s" not in steps:
        return Chart(chart_id, title, None, "no steps measured")
    with figure(chart_id, size=(7.2, 2.8)) as (_, (ax,), out):
        for repeat, unsorted in steps.groupby("repeat"):
            rows = unsorted.sort_values("users")
            ax.plot(rows["users"], rows["deliveries_per_s"], "-", alpha=0.5,
                    label=f"repeat {repeat}")
            ax.scatter(rows["users"], rows["deliveries_per_s"],
                       c=np.where(rows["held"], "#2ca02c", "#d62728"), s=14, zorder=3)
        rate = run.capacity.get("deliveries_per_s")
        if rate is not None:
            ax.axhline(float(rate), color="black", linewidth=1,
                       label=f"at capacity: {float(rate):,.0f}/s")
        ax.set_xlabel("users (green held, red broke)")
        ax.set_ylabel("deliveries per second")
        ax.legend(fontsize=7, loc="upper left")
    return Chart(chart_id, title, out[0])


def capacity_charts(run: CapacityRun, prefix: str) -> list[Chart]:
    """Every chart of a capacity run, ids prefixed with ``prefix``."""
    return [capacity_curve(run, f"{prefix}-capacity-curve"),
            capacity_throughput(run, f"{prefix}-capacity-throughput")]
