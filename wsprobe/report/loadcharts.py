"""The charts of a load run: latency against users and over time, distribution per kind,
delivery ratios, connections, send lag and generator CPU."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter

from wsprobe.report.loadrun import LoadRun
from wsprobe.report.svg import Chart, color_of, figure, legend_outside, log_ms

__all__ = ["load_charts"]

_QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
_STYLES = {"p50": ":", "p90": "--", "p99": "-"}


def _delivered(run: LoadRun) -> pd.DataFrame:
    frame = run.deliveries
    ok = frame["outcome"].isin(["delivered", "late", "optional"]) & frame["latency_ms"].notna()
    return frame[ok]


def _bucket_seconds(span: float) -> float:
    """About 60 buckets over the run, on a round number of seconds."""
    for step in (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if span / step <= 80:
            return float(step)
    return 900.0


def latency_over_time(run: LoadRun, chart_id: str) -> Chart:
    """p50/p90/p99 per report interval and kind (from the merged interval histograms), with the
    p99 from the scheduled send when the raw deliveries are kept."""
    title = "Fan-out latency over time"
    intervals = run.intervals.dropna(subset=["p50"])
    if intervals.empty:
        return Chart(chart_id, title, None, "no per-interval latency in summary.json's series")
    data = _delivered(run)
    with figure(chart_id) as (_, (ax,), out):
        for kind, rows in intervals.groupby("kind", sort=True):
            for name in _QUANTILES:
                ax.plot(rows["t_s"], rows[name].astype(float), _STYLES[name],
                        color=color_of(str(kind)), label=f"{kind} {name}", linewidth=1.2)
        if not data.empty:
            step = _bucket_seconds(float(data["t_s"].max() - data["t_s"].min()) or 1.0)
            data = data.assign(bucket=(data["t_s"] // step + 1) * step)
            for kind, rows in data.groupby("kind", sort=True):
                sched = rows.groupby("bucket")["sched_latency_ms"].quantile(0.99)
                ax.plot(sched.index, sched.to_numpy(), "-", color=color_of(str(kind)),
                        alpha=0.3, linewidth=3, label=f"{kind} p99 from schedule")
        ax.set_xlabel("seconds since start (end of each report interval)")
        log_ms(ax)
        legend_outside(ax)
    return Chart(chart_id, title, out[0])


def _users_at(run: LoadRun, times: pd.Series) -> pd.Series | None:
    timeline = run.timeline
    if "users" not in timeline or timeline["users"].dropna().empty:
        return None
    known = timeline[["t_s", "users"]].dropna().sort_values("t_s")
    index = np.searchsorted(known["t_s"].to_numpy(), times.to_numpy(), side="right") - 1
    users = known["users"].to_numpy()[np.clip(index, 0, len(known) - 1)]
    return pd.Series(users, index=times.index)


def latency_vs_users(run: LoadRun, chart_id: str) -> Chart:
    """Latency percentiles grouped by the number of users connected when the event was sent."""
    title = "Fan-out latency against users"
    data = _delivered(run)
    users = _users_at(run, data["t_s"]) if not data.empty else None
    if users is None:
        return _latency_vs_users_from_intervals(run, chart_id, title)
    data = data.assign(users=users)
    with figure(chart_id) as (_, (ax,), out):
        for kind, rows in data.groupby("kind", sort=True):
            grouped = rows.groupby("users")["latency_ms"]
            counts = grouped.size()
            for name, q in _QUANTILES.items():
                series = grouped.quantile(q)[counts >= 20]
                ax.plot(series.index, series.to_numpy(), _STYLES[name], marker="o", markersize=3,
                        color=color_of(str(kind)), label=f"{kind} {name}", linewidth=1.2)
        ax.set_xlabel("users connected")
        log_ms(ax)
        legend_outside(ax)
    return Chart(chart_id, title, out[0])


def _latency_vs_users_from_intervals(run: LoadRun, chart_id: str, title: str) -> Chart:
    """Without raw deliveries: the median over report intervals of each interval's percentile."""
    intervals = run.intervals.dropna(subset=["p50"])
    users = _users_at(run, intervals["t_s"]) if not intervals.empty else None
    if users is None:
        return Chart(chart_id, title, None, "no deliveries and no user counts recorded")
    intervals = intervals.assign(users=users)
    with figure(chart_id) as (_, (ax,), out):
        for kind, rows in intervals.groupby("kind", sort=True):
            for name in _QUANTILES:
                series = rows.groupby("users")[name].median()
                ax.plot(series.index, series.to_numpy(), _STYLES[name], marker="o",
                        markersize=3, color=color_of(str(kind)), label=f"{kind} {name}")
        ax.set_xlabel("users connected (median over report intervals)")
        log_ms(ax)
        legend_outside(ax)
    return Chart(chart_id, title, out[0])


def latency_distribution(run: LoadRun, chart_id: str) -> Chart:
    """Latency by percentile per kind, on a 'nines' axis so the tail is as wide as the median."""
    title = "Latency distribution per event kind"
    data = _delivered(run)
    if data.empty:
        return _distribution_from_summary(run, chart_id, title)
    with figure(chart_id) as (_, (ax,), out):
        for kind, rows in data.groupby("kind", sort=True):
            values = np.sort(rows["latency_ms"].to_numpy())
            n = len(values)
            top = min(1 - 1 / n, 0.99999) if n > 1 else 0.5
            qs = 1 - np.logspace(0, math.log10(1 - top), 200)
            qs = np.clip(qs, 0.0, top)
            ax.plot(1 / (1 - qs), np.quantile(values, qs), color=color_of(str(kind)),
                    label=f"{kind} ({n:,} deliveries)", linewidth=1.4)
        log_ms(ax)
        _nines_axis(ax)
    return Chart(chart_id, title, out[0])


_NINES = {1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 10000: "99.99%",
          100000: "99.999%"}


def _nines_axis(ax: Axes) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(list(_NINES)))
    ax.xaxis.set_minor_locator(FixedLocator([]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _NINES.get(round(x), "")))
    ax.set_xlabel("percentile")
    legend_outside(ax)


def _distribution_from_summary(run: LoadRun, chart_id: str, title: str) -> Chart:
    """Without raw deliveries: the percentiles of summary.json on the same axis."""
    kinds = run.kinds[run.kinds["samples"] > 0]
    if kinds.empty:
        return Chart(chart_id, title, None, "no deliveries recorded")
    points = {"p50": 2, "p90": 10, "p99": 100, "p99.9": 1000}
    with figure(chart_id) as (_, (ax,), out):
        for kind, row in kinds.iterrows():
            ax.plot(list(points.values()), [float(row[f"{p}_ms"]) for p in points], "-o",
                    color=color_of(str(kind)), markersize=3,
                    label=f"{kind} ({int(row['samples']):,} deliveries)")
        log_ms(ax)
        _nines_axis(ax)
    return Chart(chart_id, title, out[0])


def delivery_ratios(run: LoadRun, chart_id: str) -> Chart:
    """Delivered, lost and duplicate deliveries as shares of the expected ones, per kind."""
    title = "Delivered, lost and duplicate deliveries"
    kinds = run.kinds[run.kinds["expected"].fillna(0) > 0]
    if kinds.empty:
        return Chart(chart_id, title, None, "no expected deliveries in summary.json")
    expected = kinds["expected"]
    shares = pd.DataFrame({
        "delivered": kinds["delivered"] / expected * 100,
        "lost": kinds["lost"] / expected * 100,
        "duplicate": kinds["duplicates"].fillna(0) / expected * 100,
        "late": kinds["late"].fillna(0) / expected * 100,
    })
    colors = {"delivered": "#2ca02c", "lost": "#d62728", "duplicate": "#ff7f0e",
              "late": "#9467bd"}
    height = 0.8 + 0.45 * len(shares)
    with figure(chart_id, size=(7.2, height), ncols=2) as (_, (left, right), out):
        y = np.arange(len(shares))
        left.barh(y, shares["delivered"].to_numpy(), color=colors["delivered"])
        for i, value in enumerate(shares["delivered"]):
            left.text(1, i, f"{value:.3f}%", va="center", fontsize=8, color="white")
        left.set_yticks(y, [str(k) for k in shares.index])
        left.set_xlim(0, 100)
        left.set_xlabel("delivered (% of expected)")
        width = 0.25
        for j, name in enumerate(("lost", "duplicate", "late")):
            right.barh(y + (j - 1) * width, shares[name].to_numpy(), height=width,
                       color=colors[name], label=name)
        right.set_yticks(y, [""] * len(y))
        right.set_xlim(0, max(0.1, float(shares[["lost", "duplicate", "late"]].max().max()) * 1.1))
        right.set_xlabel("% of expected")
        right.legend(fontsize=7)
    return Chart(chart_id, title, out[0])


def _timeline_chart(run: LoadRun, chart_id: str, title: str, columns: dict[str, str], *,
                    ylabel: str, missing: str) -> Chart:
    timeline = run.timeline
    present = {c: label for c, label in columns.items()
               if c in timeline and pd.to_numeric(timeline[c], errors="coerce").notna().any()}
    if not present:
        return Chart(chart_id, title, None, missing)
    with figure(chart_id, size=(7.2, 2.6)) as (_, (ax,), out):
        group = "worker" if "worker" in timeline else None
        for column, label in present.items():
            if group is None:
                ax.plot(timeline["t_s"], pd.to_numeric(timeline[column]), label=label)
                continue
            for worker, rows in timeline.groupby(group):
                ax.plot(rows["t_s"], pd.to_numeric(rows[column]), label=f"{label} ({worker})")
        ax.set_xlabel("seconds since start")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7, loc="upper left")
    return Chart(chart_id, title, out[0])


def connections(run: LoadRun, chart_id: str) -> Chart:
    """Users and open connections over time."""
    return _timeline_chart(run, chart_id, "Users and connections over time",
                           {"users": "users", "connections": "open connections"}, ylabel="count",
                           missing="no user or connection counts over time recorded")


def generator_cpu(run: LoadRun, chart_id: str) -> Chart:
    """CPU use and scheduling lag of the busiest load-generator process over time (a saturated
    generator reports its own delays as server latency)."""
    title = "Load generator CPU and scheduling lag"
    timeline = run.timeline
    cpu = pd.to_numeric(timeline.get("cpu_percent", pd.Series(dtype=float)), errors="coerce")
    if cpu.dropna().empty:
        return Chart(chart_id, title, None, "no generator CPU samples recorded")
    with figure(chart_id, size=(7.2, 2.6)) as (_, (ax,), out):
        ax.plot(timeline["t_s"], cpu, color="#1f77b4", label="CPU % of one core (busiest)")
        limit = (run.summary.get("validity") or {}).get("limits", {}).get("max_cpu")
        if isinstance(limit, int | float):
            ax.axhline(limit * 100, color="#1f77b4", linestyle="--", linewidth=0.8,
                       label=f"CPU limit {limit:.0%}")
        ax.set_ylim(0, max(100.0, float(cpu.max()) * 1.1))
        ax.set_xlabel("seconds since start")
        ax.set_ylabel("CPU (% of one core)")
        lag = pd.to_numeric(timeline.get("lag_ms", pd.Series(dtype=float)), errors="coerce")
        if not lag.dropna().empty:
            twin = ax.twinx()
            twin.plot(timeline["t_s"], lag, color="#d62728", label="scheduling lag p99 (ms)")
            twin.set_ylabel("lag p99 (ms)")
            twin.legend(fontsize=7, loc="upper right")
        ax.legend(fontsize=7, loc="upper left")
    return Chart(chart_id, title, out[0])


def send_lag(run: LoadRun, chart_id: str) -> Chart:
    """How late senders sent against their open-loop schedule, over time."""
    title = "Send lag (actual send minus scheduled send)"
    data = run.deliveries
    lag = data["sched_latency_ms"] - data["latency_ms"]
    data = data.assign(lag=lag)[lag.notna()]
    if data.empty:
        return _timeline_chart(run, chart_id, title, {"send_lag_ms": "send lag"}, ylabel="ms",
                               missing="no scheduled send times recorded")
    step = _bucket_seconds(float(data["t_s"].max() - data["t_s"].min()) or 1.0)
    data = data.assign(bucket=(data["t_s"] // step) * step)
    with figure(chart_id, size=(7.2, 2.6)) as (_, (ax,), out):
        grouped = data.groupby("bucket")["lag"]
        ax.plot(grouped.median().index, grouped.median().to_numpy(), ":", label="p50")
        ax.plot(grouped.quantile(0.99).index, grouped.quantile(0.99).to_numpy(), "-",
                label="p99")
        ax.plot(grouped.max().index, grouped.max().to_numpy(), "-", alpha=0.4, label="max")
        ax.set_xlabel(f"seconds since start ({step:g} s buckets)")
        ax.set_ylabel("send lag (ms)")
        ax.legend(fontsize=7, loc="upper left")
    return Chart(chart_id, title, out[0])


def load_charts(run: LoadRun, prefix: str) -> list[Chart]:
    """Every chart of a load run, ids prefixed with ``prefix``."""
    makers = (("latency-vs-users", latency_vs_users), ("latency-over-time", latency_over_time),
              ("latency-distribution", latency_distribution),
              ("delivery-ratios", delivery_ratios), ("connections", connections),
              ("send-lag", send_lag), ("generator-cpu", generator_cpu))
    return [make(run, f"{prefix}-{name}") for name, make in makers]
