"""``report.html``: one self-contained page (inline CSS and SVG, no script, nothing fetched)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape

import pandas as pd

from wsprobe import __version__
from wsprobe.report.caprun import CapacityRun, capacity_charts
from wsprobe.report.loadcharts import load_charts
from wsprobe.report.loadrun import LoadRun
from wsprobe.report.metrics import Metric, metrics_of
from wsprobe.report.runs import Run, verdict
from wsprobe.report.svg import Chart
from wsprobe.report.verifyrun import VerifyRun, frame_timeline

__all__ = ["render_html"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;
 margin:0 auto;max-width:1100px;padding:1.5em;color:#222;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{margin:1.4em 0 .4em}table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}.muted{color:#666}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;font-weight:600;color:#fff}
.passed{background:#2b8a3e}.failed{background:#c92a2a}.invalid{background:#e67700}
figure.chart{margin:1em 0 1.6em;padding:.5em;border:1px solid #eee;border-radius:6px}
figure.chart figcaption{font-weight:600;margin-bottom:.3em}
figure.chart svg{height:auto;display:block}
.note{color:#666;font-style:italic}pre{white-space:pre-wrap;word-break:break-all;font-size:12px;
 margin:0}td.frame{text-align:left;font-family:ui-monospace,monospace}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:.5em 1.5em}
.fig{font-size:1.8em;font-weight:700;overflow-wrap:anywhere}.lbl{color:#666;font-size:.9em}
"""


def _table(frame: pd.DataFrame, *, index: bool = False) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in
                   ([frame.index.name or ""] if index else []) + list(frame.columns))
    body = []
    for key, row in frame.iterrows():
        cells = [f"<td>{escape(str(key))}</td>"] if index else []
        cells += [f"<td>{escape(_fmt(v))}</td>" for v in row]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _chart(chart: Chart) -> str:
    cid = escape(chart.id)
    if chart.svg is None:
        return (f'<figure class="chart missing" id="{cid}"><figcaption>{escape(chart.title)}'
                f'</figcaption><p class="note">{escape(chart.note)}</p></figure>')
    return (f'<figure class="chart" id="{cid}" data-chart="{cid}"><figcaption>'
            f"{escape(chart.title)}</figcaption>{chart.svg}</figure>")


def _figures(items: Iterable[tuple[str, str]]) -> str:
    cells = "".join(f'<div><div class="fig">{escape(v)}</div><div class="lbl">{escape(k)}</div>'
                    f"</div>" for k, v in items)
    return f'<div class="grid">{cells}</div>'


def _load_section(run: LoadRun, prefix: str) -> str:
    parts = []
    if not run.valid:
        parts.append(f'<p><span class="badge invalid">invalid</span> '
                     f"{escape(run.invalid_reason or 'the load generator was saturated')}: "
                     "these latencies describe the generator, not the server.</p>")
    kinds = run.kinds
    total_expected = float(kinds["expected"].sum())
    figures = [("users", _fmt(run.users)), ("duration", f"{run.duration_s or 0:g} s"),
               ("events", _fmt(float(kinds["events"].sum()))),
               ("delivered", f"{float(kinds['delivered'].sum()) / total_expected * 100:.3f}%"
                if total_expected else "n/a")]
    parts.append(_figures(figures))
    if run.slos:
        slo = pd.DataFrame([{"SLO": s.spec, "measured": s.actual,
                             "verdict": "held" if s.passed else "BROKEN"} for s in run.slos])
        parts.append("<h3>SLO verdict</h3>" + _table(slo))
    table = pd.DataFrame({
        "events": kinds["events"], "expected": kinds["expected"],
        "delivered": kinds["delivered"], "lost": kinds["lost"],
        "duplicates": kinds["duplicates"], "late": kinds["late"],
        **{f"{p} ms": kinds[f"{p}_ms"] for p in ("p50", "p90", "p99", "p99.9", "max")},
        "p99 ms (scheduled)": kinds["sched_p99_ms"],
        "p99 ms to last receiver": kinds["last_p99_ms"],
    })
    table.index.name = "kind"
    parts.append("<h3>Per event kind</h3>" + _table(table, index=True))
    parts += [_chart(c) for c in load_charts(run, prefix)]
    return "".join(parts)


def _capacity_section(run: CapacityRun, prefix: str) -> str:
    cap = run.capacity
    users = cap.get("users")
    spread = (f"{cap.get('users_min')} to {cap.get('users_max')} users"
              if cap.get("users_min") is not None else "n/a")
    rate = cap.get("deliveries_per_s")
    parts = []
    if run.stopped:
        parts.append(f'<p><span class="badge invalid">stopped early</span> '
                     f"{escape(run.stopped)}</p>")
    parts.append(_figures([("capacity (median of repeats)",
                            f"{users:g} users" if users is not None else "n/a"),
                           ("spread across repeats", spread),
                           ("deliveries/s at capacity", f"{rate:,.0f}" if rate else "n/a"),
                           ("SLO", ", ".join(run.slos) or "none")]))
    repeats = pd.DataFrame(run.summary.get("repeats") or [])
    if not repeats.empty:
        parts.append("<h3>Repeats</h3>" + _table(repeats))
    parts += [_chart(c) for c in capacity_charts(run, prefix)]
    columns = [c for c in ("repeat", "step", "phase", "users", "duration_s", "deliveries_per_s",
                           "held", "broken", "kind", "samples", "p50_ms", "p99_ms", "p99.9_ms")
               if c in run.steps]
    parts.append(f"<details><summary>Every step ({len(run.steps)} rows)</summary>"
                 f"{_table(run.steps[columns])}</details>")
    return "".join(parts)


def _verify_section(run: VerifyRun, prefix: str) -> str:
    parts = [_figures([("checks passed", str(run.passed)), ("checks failed", str(run.failed))])]
    parts.append(_table(run.cases.fillna("")))
    for i, check in enumerate(run.failures):
        parts.append(f"<h3>Failed: {escape(check.rule or '')} {escape(check.name)}</h3>")
        parts.append("<ul>" + "".join(f"<li>{escape(t)}</li>" for t in check.findings) + "</ul>")
        parts.append(_chart(frame_timeline(check, f"{prefix}-timeline-{i + 1}")))
        if not check.frames.empty:
            rows = "".join(
                f"<tr><td>{escape(str(r['seq']))}</td><td>{escape(r['actor'])}"
                f"{'/' + escape(r['socket']) if r['socket'] else ''}</td>"
                f"<td>{'&rarr;' if r['direction'] == 'client-to-server' else '&larr;'}</td>"
                f"<td class=frame><pre>{escape(r['text'])}</pre></td></tr>"
                for _, r in check.frames.iterrows())
            parts.append("<details><summary>Frames</summary><table><tr><th>seq</th><th>socket"
                         f"</th><th></th><th>frame</th></tr>{rows}</table></details>")
    return "".join(parts)


def _overview(runs: Sequence[Run]) -> str:
    by_run: dict[str, dict[str, Metric]] = {
        run.name: {m.name: m for m in metrics_of(run) if m.gate} for run in runs}
    names = list(dict.fromkeys(n for metrics in by_run.values() for n in metrics))
    rows = [{"metric": n, **{r: by_run[r][n].shown() if n in by_run[r] else "" for r in by_run}}
            for n in names]
    return "<h2>Overview</h2>" + _table(pd.DataFrame(rows))


def render_html(runs: Sequence[Run], *, title: str = "wsprobe report") -> str:
    """The whole page for ``runs``."""
    sections = []
    for i, run in enumerate(runs):
        prefix = f"run{i + 1}"
        word, css = verdict(run)
        kind = ("load" if isinstance(run, LoadRun) else "capacity"
                if isinstance(run, CapacityRun) else "verify")
        target = run.target if isinstance(run, LoadRun) else run.summary.get("target") or ""
        head = (f'<h2 id="{prefix}">{escape(kind)} run <code>{escape(run.name)}</code> '
                f'<span class="badge {css}">{escape(word)}</span></h2>'
                f'<p class="muted">{escape(str(run.path))}'
                f"{' &middot; target ' + escape(str(target)) if target else ''}</p>")
        if isinstance(run, LoadRun):
            body = _load_section(run, prefix)
        elif isinstance(run, CapacityRun):
            body = _capacity_section(run, prefix)
        else:
            body = _verify_section(run, prefix)
        sections.append(f'<section class="run {kind}">{head}{body}</section>')
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    overview = _overview(runs) if len(runs) > 1 else ""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{escape(title)}</h1><p class=muted>wsprobe {__version__}, {now}; "
            f"{len(runs)} run(s)</p>{overview}{''.join(sections)}</body></html>\n")
