"""``wsprobe report RUN_DIR...`` and ``wsprobe report compare BASE NEW``."""

from __future__ import annotations

import re
from pathlib import Path

import click

from wsprobe.errors import InputError

__all__ = ["command"]

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")
_MS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s)?\s*$")
_TO_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, None: 1.0}


def parse_percent(text: str, *, option: str) -> float:
    """``10%`` or ``10`` as the fraction 0.1."""
    match = _PERCENT.match(text)
    if match is None:
        raise InputError(f"{option}: expected a percentage like 10%, got {text!r}")
    return float(match.group(1)) / 100


def parse_ms(text: str, *, option: str) -> float:
    """``1ms``, ``500us``, ``0.5`` (ms) as milliseconds."""
    match = _MS.match(text)
    if match is None:
        raise InputError(f"{option}: expected a duration like 1ms or 500us, got {text!r}")
    return float(match.group(1)) * _TO_MS[match.group(2)]


class _DefaultGroup(click.Group):
    """A group whose arguments go to ``build`` unless they name a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["build", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """Reports of load, capacity and verify runs.

    \b
    wsprobe report RUN_DIR... [-o DIR]     report.html, summary.csv, summary.md
    wsprobe report compare BASE NEW        per-metric change; exit 1 on a regression
    """


@command.command("build")
@click.argument("run_dirs", nargs=-1, required=True,
                type=click.Path(path_type=Path, file_okay=True, dir_okay=True))
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the report (default: the run's folder; needed for several runs).")
@click.option("--title", help="Title of the HTML page.")
@click.pass_context
def build(ctx: click.Context, run_dirs: tuple[Path, ...], output: Path | None,
          title: str | None) -> None:
    """Write report.html, summary.csv and summary.md for RUN_DIRS (the default subcommand)."""
    from wsprobe.report import write_report

    files = write_report(run_dirs, output=output, title=title)
    click.echo(files.markdown.read_text(encoding="utf-8").rstrip())
    click.echo("")
    for path in (files.html, files.csv, files.markdown):
        click.echo(f"wrote {path}")
    ctx.exit(0)


@command.command("compare")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--tolerance", default="10%", show_default=True,
              help="Relative worsening of a metric that counts as a regression.")
@click.option("--latency-floor", default="1ms", show_default=True,
              help="Latency changes smaller than this are noise, whatever the percentage.")
@click.option("--markdown", "markdown_out", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the table as Markdown to this file (for a PR comment).")
@click.pass_context
def compare(ctx: click.Context, *, base: Path, new: Path, tolerance: str, latency_floor: str,
            markdown_out: Path | None) -> None:
    """Compare run NEW against run BASE; exit 1 when a metric regressed past the tolerance."""
    tol = parse_percent(tolerance, option="--tolerance")
    floor = parse_ms(latency_floor, option="--latency-floor")
    from wsprobe.report import compare_runs, read_run

    result = compare_runs(read_run(base), read_run(new), tolerance=tol, latency_floor=floor)
    rows = [("metric", "base", "new", "change", "")]
    rows += [(c.name, c.old.shown() if c.old else "", c.new.shown() if c.new else "",
              c.change(), "REGRESSED" if c.regressed else "(few samples)" if c.few_samples
              else "") for c in result.changes]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        line = "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(row[:4], widths, strict=True)))
        click.echo(f"{line}  {row[4]}".rstrip())
    if markdown_out is not None:
        markdown_out.write_text(result.markdown(), encoding="utf-8")
    regressions = result.regressions
    if regressions:
        names = ", ".join(c.name for c in regressions)
        click.secho(f"{len(regressions)} regression(s) past {tol:.0%}: {names}", fg="red",
                    err=True)
        ctx.exit(1)
    click.echo(f"no regression past {tol:.0%}")
    ctx.exit(0)
