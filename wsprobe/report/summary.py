"""``summary.csv`` (every metric of every run, one per line) and ``summary.md`` (a few lines and
a table, fit for a pull-request comment)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from wsprobe.report.caprun import CapacityRun
from wsprobe.report.loadrun import LoadRun
from wsprobe.report.metrics import metrics_of, number
from wsprobe.report.runs import Run, verdict


def ms(raw: object) -> str:
    """A latency in ms with three significant digits, or nothing when not measured."""
    value = number(raw)
    return "" if value is None else f"{value:.3g}"

__all__ = ["SUMMARY_COLUMNS", "markdown_summary", "summary_table"]

#: columns of ``summary.csv``
SUMMARY_COLUMNS = ("run", "metric", "value", "unit", "better", "gate")

_ICONS = {"passed": "✅", "failed": "❌", "invalid": "⚠️"}


def summary_table(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run and metric."""
    rows = [{"run": run.name, "metric": m.name, "value": m.value, "unit": m.unit,
             "better": m.better.value, "gate": m.gate}
            for run in runs for m in metrics_of(run)]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _load_lines(run: LoadRun) -> list[str]:
    lines = ["", "| kind | events | delivered | lost | dup | p50 ms | p99 ms | p99.9 ms "
                 "| p99 ms (sched) |", "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for kind, row in run.kinds.iterrows():
        expected = float(row["expected"] or 0)
        share = f"{float(row['delivered']) / expected * 100:.2f}%" if expected else "n/a"
        lines.append(f"| {kind} | {row['events']:,.0f} | {share} | {row['lost']:,.0f} | "
                     f"{row['duplicates']:,.0f} | {ms(row['p50_ms'])} | {ms(row['p99_ms'])} | "
                     f"{ms(row['p99.9_ms'])} | {ms(row['sched_p99_ms'])} |")
    if run.slos:
        lines.append("")
        lines += [f"- {'✅' if s.passed else '❌'} `{s.spec}` (measured {s.actual})"
                  for s in run.slos]
    if not run.valid:
        lines += ["", f"⚠️ invalid measurement: {run.invalid_reason or 'generator saturated'}"]
    return lines


def _capacity_lines(run: CapacityRun) -> list[str]:
    cap = run.capacity
    lines = [""]
    if cap.get("users") is not None:
        rate = cap.get("deliveries_per_s")
        lines.append(f"**Capacity: {cap['users']:g} users** (spread {cap.get('users_min')} to "
                     f"{cap.get('users_max')} over {len(run.summary.get('repeats') or [])} "
                     f"repeats), {f'{rate:,.0f}' if rate else 'n/a'} deliveries/s at "
                     f"{', '.join(f'`{s}`' for s in run.slos)}")
    if run.stopped:
        lines.append(f"⚠️ stopped early: {run.stopped}")
        held = [int(r["passing"]) for r in run.summary.get("repeats") or []
                if isinstance(r, dict) and isinstance(r.get("passing"), int)]
        if held:
            lines.append(f"Before it stopped, every SLO held up to {max(held)} users "
                         "(a lower bound, not the capacity).")
    return lines


def markdown_summary(runs: Sequence[Run]) -> str:
    """A short Markdown summary of ``runs``."""
    lines = ["### wsprobe report", ""]
    for run in runs:
        word, css = verdict(run)
        lines.append(f"{_ICONS[css]} **{run.name}**: {word}")
        if isinstance(run, LoadRun):
            lines += _load_lines(run)
        elif isinstance(run, CapacityRun):
            lines += _capacity_lines(run)
        else:
            lines += [f"- ❌ {f.rule + ' ' if f.rule else ''}{f.name}: "
                      f"{'; '.join(f.findings) or f.status}" for f in run.failures]
        lines.append("")
    return "\n".join(lines)
