"""Reports of load, capacity and verify runs: ``report.html``, ``summary.csv``, ``summary.md``,
and the regression gate ``compare``. The only package of wsprobe that imports pandas.

- :func:`write_report`: read run folders and write the three files (``wsprobe load`` and
  ``wsprobe capacity`` call it at the end of a run).
- :func:`compare_runs`: metric by metric, base against new, with the regressions.
- :func:`read_run`: a run folder as tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wsprobe.errors import InputError
from wsprobe.report.compare import Change, Comparison, compare_runs
from wsprobe.report.html import render_html
from wsprobe.report.runs import Run, read_run, verdict
from wsprobe.report.summary import markdown_summary, summary_table

__all__ = [
    "Change",
    "Comparison",
    "ReportFiles",
    "Run",
    "compare_runs",
    "read_run",
    "verdict",
    "write_report",
]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where the report went."""

    html: Path
    csv: Path
    markdown: Path


def write_report(run_dirs: Sequence[Path | str], *, output: Path | str | None = None,
                 title: str | None = None) -> ReportFiles:
    """Write ``report.html``, ``summary.csv`` and ``summary.md`` for the runs in ``run_dirs``.

    ``output`` defaults to the run's own folder when there is one run; it is required for
    several. Raises :class:`InputError` (exit 2) naming the folder or file that is missing or
    malformed.
    """
    if not run_dirs:
        raise InputError("give at least one run folder")
    folders = [Path(d) for d in run_dirs]
    if output is None:
        if len(folders) > 1:
            raise InputError("several run folders need --output DIR for the report")
        output = folders[0]
    out = Path(output)
    runs = [read_run(folder) for folder in folders]
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out / "report.html", out / "summary.csv", out / "summary.md")
    name = title or ("wsprobe report: " + ", ".join(run.name for run in runs))
    files.html.write_text(render_html(runs, title=name), encoding="utf-8")
    summary_table(runs).to_csv(files.csv, index=False)
    files.markdown.write_text(markdown_summary(runs), encoding="utf-8")
    return files
