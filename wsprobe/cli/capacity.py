"""``wsprobe capacity [URL] --slo ...``: the number of users at which an SLO breaks.

Each step is a ``wsprobe load`` run (same profiles, SLO syntax and exit codes); this module parses
options, builds a :class:`~wsprobe.capacity.runner.CapacityConfig`, runs the search, prints one
line per step and writes the report. It never imports locust, gevent or pandas itself.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import click

from wsprobe.cli._load_options import behaviour_options, bundled_or, claim_output, kinds_from
from wsprobe.cli._load_options import duration as _duration
from wsprobe.errors import InputError

__all__ = ["command"]


def _percent(ctx: click.Context, param: click.Parameter, value: str) -> float:
    text = value.strip().removesuffix("%")
    try:
        fraction = float(text) / 100
    except ValueError:
        raise click.BadParameter(f"expected a percentage like 5%, got {value!r}") from None
    if not 0 < fraction < 1:
        raise click.BadParameter(f"must be between 0% and 100%, got {value!r}")
    return fraction


@click.command("capacity")
@click.argument("url", required=False)
@click.option("--slo", "slos", multiple=True, required=True, metavar="OBJECTIVE",
              help="What every step must meet, e.g. 'status.p99<100ms' (wsprobe load's syntax); "
                   "repeatable.")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML load profile (user kinds and behaviour), as for wsprobe load; its users "
                   "and duration are the search's to set.")
@click.option("--start", type=click.IntRange(min=1), default=10, show_default=True,
              help="Users of the first step.")
@click.option("--growth", type=click.FloatRange(min=1.01), default=2.0, show_default=True,
              help="Factor between steps until one breaks.")
@click.option("--step", "step_users", type=click.IntRange(min=1),
              help="Add this many users per step instead of multiplying by --growth.")
@click.option("--max-users", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Never step above this.")
@click.option("--resolution", default="5%", show_default=True, callback=_percent,
              help="Bisect until the passing and failing counts are this close.")
@click.option("--repeat", "repeats", type=click.IntRange(min=1), default=3, show_default=True,
              help="Searches to run; the capacity is their median, with the spread.")
@click.option("--hold", callback=_duration, default="5s", show_default=True,
              help="Steady window of a step (longer when the tail needs more samples).")
@click.option("--settle", callback=_duration, default="1s", show_default=True,
              help="Wait after the last user connected before the window opens.")
@click.option("--max-step", callback=_duration, default="60s", show_default=True,
              help="Longest a step may run while collecting tail samples.")
@click.option("--min-samples", type=click.IntRange(min=1),
              help="Samples per kind a step needs (default: 1,000 for a p99, 10,000 for p99.9).")
@click.option("-r", "--spawn-rate", type=click.FloatRange(min=0.01), default=None,
              help="Users started (and stopped) per second (default: each step's users within "
                   "about 2 s, at least 50/s).")
@behaviour_options
@click.option("--loss-timeout", callback=_duration, default="2s", show_default=True,
              help="A delivery not seen within this is lost.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes per step (0: one process; raise it when the generator "
                   "saturates).")
@click.option("--max-cpu", type=click.FloatRange(0.1, 1.0), default=0.9, show_default=True,
              help="Generator CPU (mean over a step's window) above which the step is "
                   "invalid (the search stops).")
@click.option("--max-lag", callback=_duration, default=None,
              help="A scheduled send leaving later than this is late; over 5% late sends in a "
                   "step's window make it invalid (default 50ms).")
@click.option("--allow-remote", is_flag=True,
              help="Allow a target that is not on loopback (only hosts you own).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: a new timestamped folder under reports/).")
@click.option("--overwrite", is_flag=True,
              help="Replace the search already in --output (default: refuse such a folder).")
@click.option("--report/--no-report", default=True, show_default=True,
              help="Write report.html, summary.csv and summary.md at the end.")
@click.option("-q", "--quiet", is_flag=True, help="No line per step.")
@click.pass_context
def command(ctx: click.Context, *, url: str | None, slos: tuple[str, ...], profile: Path | None,
            start: int, growth: float, step_users: int | None, max_users: int,
            resolution: float, repeats: int, hold: float, settle: float, max_step: float,
            min_samples: int | None, spawn_rate: float | None, sockets_per_user: int | None,
            heartbeat: float | None, focus_flips_per_minute: float | None,
            chats_per_minute: float | None, calls_per_minute: float | None,
            late_after: float | None, loss_timeout: float, workers: int, max_cpu: float,
            max_lag: float | None, allow_remote: bool, output: Path | None, overwrite: bool,
            report: bool,
            quiet: bool) -> None:
    """Search the number of users URL holds within every --slo (default URL: the bundled
    reference backend on a free loopback port).

    Exit codes: 0 capacity found, 1 not even the smallest step met the SLOs, 2 bad usage or an
    invalid measurement (the generator saturated), 3 the target refused connections.
    """
    from wsprobe.capacity.runner import CapacityConfig, StepDone, run_capacity
    from wsprobe.capacity.search import SearchPlan
    from wsprobe.load.config import LoadConfig
    from wsprobe.load.launcher import check_loopback, preflight
    from wsprobe.load.profile import Profile, load_profile
    from wsprobe.load.slo import parse_slo

    for text in slos:
        parse_slo(text)
    try:
        plan = SearchPlan(start=start, growth=growth, step=step_users, max_users=max_users,
                          resolution=resolution)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    prof = load_profile(profile) if profile is not None else Profile()
    flags = {"sockets_per_user": sockets_per_user, "heartbeat": heartbeat,
             "focus_flips_per_minute": focus_flips_per_minute,
             "chats_per_minute": chats_per_minute, "calls_per_minute": calls_per_minute}
    kinds = kinds_from(prof, flags)
    if url is not None:
        check_loopback(url, allow_remote=allow_remote)
    out = output or Path("reports") / f"capacity-{time.strftime('%Y%m%d-%H%M%S')}"
    claim_output(out, overwrite=overwrite)
    given_rate = spawn_rate or prof.run.get("spawn-rate")
    rate = float(given_rate or 50.0)

    def show(done: StepDone) -> None:
        s = done.step
        p99 = ", ".join(f"{k} p99 {v.p99_ms} ms ({v.samples})" for k, v in s.kinds.items())
        verdict = {"held": "held", "broken": "BROKE " + "; ".join(s.broken),
                   "inconclusive": "inconclusive: " + "; ".join(s.broken) + " (moving up)",
                   }[s.verdict]
        verdict += f" on {s.verdict_samples} samples" if s.verdict != "inconclusive" else ""
        nxt = f" -> next {done.search_next}" if done.search_next else ""
        click.echo(f"[repeat {s.repeat} step {s.step} {s.phase}] {s.users} users: {p99}; "
                   f"{s.deliveries_per_s:,.0f} deliveries/s; {verdict}{nxt}", err=True)

    with bundled_or(url) as target:
        note = preflight(target, timeout=loss_timeout)
        if note is not None:
            click.secho(f"warning: {note}", fg="yellow", err=True)
        load = LoadConfig(
            url=target, users=start, spawn_rate=float(rate), duration=hold, kinds=kinds,
            run_id=uuid.uuid4().hex[:8], output=str(out),
            late_after=late_after if late_after is not None else prof.run.get("late-after", 1.0),
            loss_timeout=loss_timeout, max_cpu=max_cpu,
            max_lag=max_lag if max_lag is not None else 0.05, raw=True, slos=slos,
            workers=workers, allow_remote=allow_remote,
        )
        config = CapacityConfig(load=load, slos=slos, plan=plan, repeats=repeats, hold=hold,
                                settle=settle, max_step=max_step, workers=workers,
                                output=out, min_samples=min_samples,
                                auto_spawn=given_rate is None)
        result = run_capacity(config, on_step=None if quiet else show)
    shown, spread = result.capacity_text(), result.spread_users()
    if result.stopped:
        click.secho(f"stopped early: {result.stopped}", fg="yellow", err=True)
    if shown is None and result.exit_code == 130:
        pass  # the stop line said it all
    elif shown is None:
        judged = any(r.failing is not None for r in result.repeats)
        click.secho(f"no user count met {', '.join(slos)}" if judged else
                    "no step had enough samples to judge: raise --max-step, or --heartbeat "
                    "faster", fg="red", err=True)
    elif spread is not None:
        failing = [r.failing for r in result.repeats if r.failing is not None]
        why = " (nothing broke up to --max-users)" if result.at_least() and not result.stopped \
            else " (the search stopped before a step broke)" if result.at_least() \
            else f" (below {min(failing)}; the search stopped before the resolution)" \
            if result.stopped and failing else ""
        click.echo(f"capacity: {shown} users{why} (spread {spread[0]} to {spread[1]} over "
                   f"{len(result.repeats)} repeats), "
                   f"{result.capacity_rate() or 0:,.0f} deliveries/s at {', '.join(slos)}")
    if report:
        from wsprobe.report import write_report

        files = write_report([out])
        click.echo(f"wrote {files.html}")
    click.echo(f"wrote {out / 'capacity.json'}")
    ctx.exit(result.exit_code)
