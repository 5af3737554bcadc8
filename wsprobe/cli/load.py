"""``wsprobe load [URL]``: Locust swarms that measure fan-out latency at every receiver.

This module parses options, builds a :class:`~wsprobe.load.config.LoadConfig` and starts the run's
processes; it never imports locust or gevent (those live in the processes it starts).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import click

from wsprobe.cli._load_options import behaviour_options, bundled_or, claim_output, kinds_from
from wsprobe.cli._load_options import duration as _duration
from wsprobe.errors import InputError, Interrupted, WsprobeError
from wsprobe.load.config import LoadConfig
from wsprobe.load.launcher import Launch, check_loopback, launch, preflight
from wsprobe.load.profile import Profile, load_profile
from wsprobe.load.slo import parse_slo
from wsprobe.targets import is_loopback

__all__ = ["command"]


def _default_output() -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("reports") / f"load-{stamp}-{uuid.uuid4().hex[:4]}"


def _print_summary(out: Path) -> None:
    from rich.console import Console

    from wsprobe.cli._load_console import print_summary

    path = out / "summary.json"
    if path.exists():
        print_summary(Console(), str(out), json.loads(path.read_text(encoding="utf-8")))


@click.command("load")
@click.argument("url", required=False)
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="YAML load profile (users, duration, user kinds); flags override it.")
@click.option("-u", "--users", type=click.IntRange(min=1), default=None,
              help="Simulated users (default 10, or the profile's).")
@click.option("-r", "--spawn-rate", type=click.FloatRange(min=0.01), default=None,
              help="Users started per second (default: all within about 5 s).")
@click.option("-d", "--duration", callback=_duration, default=None,
              help="How long to run, ramp-up included, before the ramp-down, e.g. 30s, 2m "
                   "(default 30s).")
@behaviour_options
@click.option("--session", callback=_duration, default=None,
              help="Leave after this long and rejoin as a new user (default: stay).")
@click.option("--loss-timeout", callback=_duration, default=None,
              help="A delivery not seen within this is lost (default 5s).")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Local worker processes under one master (default: one per core; 0: a "
                   "single process).")
@click.option("--master", "as_master", is_flag=True,
              help="Run only the master; workers join with --worker --master-host.")
@click.option("--expect-workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --master: workers to wait for.")
@click.option("--master-bind", default=None,
              help="With --master: the interface workers connect to (default 127.0.0.1 for a "
                   "loopback target, whose workers must run on this host; else 0.0.0.0).")
@click.option("--worker", "as_worker", is_flag=True, help="Run one worker of a remote master.")
@click.option("--master-host", default="127.0.0.1", show_default=True,
              help="With --worker: the master's host.")
@click.option("--master-port", type=click.IntRange(1, 65535), default=None,
              help="Master port (default 5557 with --master/--worker, else a free port).")
@click.option("--slo", "slos", multiple=True, metavar="OBJECTIVE",
              help="e.g. 'status.p99<100ms' or 'chat.delivered>=99.9%'; repeatable; exit 1 "
                   "if broken.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: a new timestamped folder under reports/).")
@click.option("--overwrite", is_flag=True,
              help="Replace the run already in --output (default: refuse such a folder).")
@click.option("--headless", is_flag=True, help="No Locust web UI (for CI).")
@click.option("--web-port", type=click.IntRange(1, 65535), default=8089, show_default=True,
              help="Port of Locust's web UI (on 127.0.0.1) unless --headless.")
@click.option("--allow-remote", is_flag=True,
              help="Allow a target that is not on loopback (only hosts you own).")
@click.option("--raw/--no-raw", default=True, show_default=True,
              help="Stream every delivery to deliveries-*.csv.")
@click.option("--max-cpu", type=click.FloatRange(0.1, 1.0), default=0.9, show_default=True,
              help="Generator CPU (fraction of a core, mean over the run) above which the run "
                   "is invalid.")
@click.option("--max-lag", callback=_duration, default=None,
              help="A scheduled send leaving later than this is late; over 5% late sends make "
                   "the run invalid (default 50ms).")
@click.option("--seed", type=int, default=None,
              help="Seed the users' random choices (chat targets, gaps) for repeatable mixes.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@click.pass_context
def command(ctx: click.Context, *, url: str | None, profile: Path | None, users: int | None,
            spawn_rate: float | None, duration: float | None, sockets_per_user: int | None,
            heartbeat: float | None, focus_flips_per_minute: float | None,
            chats_per_minute: float | None, calls_per_minute: float | None,
            session: float | None, late_after: float | None, loss_timeout: float | None,
            workers: int | None, as_master: bool, expect_workers: int, master_bind: str | None,
            as_worker: bool,
            master_host: str, master_port: int | None, slos: tuple[str, ...],
            output: Path | None, overwrite: bool, headless: bool, web_port: int,
            allow_remote: bool, raw: bool,
            max_cpu: float, max_lag: float | None, seed: int | None, quiet: bool) -> None:
    """Fan-out load on URL (default: the bundled reference backend on a free loopback port).

    Exit codes: 0 ok, 1 an --slo broken, 2 bad usage or an invalid measurement (the generator
    was saturated), 3 the target refused connections or broke the protocol.
    """
    if as_master and as_worker:
        raise InputError("--master and --worker exclude each other")
    if (as_master or as_worker) and url is None:
        raise InputError("--master and --worker need the target URL (the same on every host)")
    for text in slos:
        parse_slo(text)
    prof = load_profile(profile) if profile is not None else Profile()
    flags = {"sockets_per_user": sockets_per_user, "heartbeat": heartbeat,
             "focus_flips_per_minute": focus_flips_per_minute,
             "chats_per_minute": chats_per_minute, "calls_per_minute": calls_per_minute,
             "session": session}
    n_users = users or int(prof.run.get("users", 10))
    rate = spawn_rate or prof.run.get("spawn-rate") or max(n_users / 5, 1.0)
    run_for = duration if duration is not None else prof.run.get("duration", 30.0)
    if url is not None:
        check_loopback(url, allow_remote=allow_remote)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    config_loss_timeout = float(loss_timeout if loss_timeout is not None
                                else prof.run.get("loss-timeout", 5.0))
    out = output if output is not None else _default_output()
    claim_output(out, overwrite=overwrite)
    plan = Launch(
        workers=n_workers if not as_master else expect_workers,
        role="master" if as_master else "worker" if as_worker else "auto",
        master_host=master_host,
        master_port=master_port or (5557 if as_master or as_worker else None),
    )
    with bundled_or(url) as target:
        if not as_master:
            note = preflight(target, timeout=config_loss_timeout)
            if note is not None:
                click.secho(f"warning: {note}", fg="yellow", err=True)
        config = LoadConfig(
            url=target,
            users=n_users,
            spawn_rate=float(rate),
            duration=float(run_for),
            kinds=kinds_from(prof, flags),
            run_id=uuid.uuid4().hex[:8],
            output=str(out),
            late_after=late_after if late_after is not None else prof.run.get("late-after", 1.0),
            loss_timeout=config_loss_timeout,
            max_cpu=max_cpu,
            max_lag=max_lag if max_lag is not None else 0.05,
            raw=raw,
            slos=slos,
            workers=n_workers,
            same_clock=not (as_master or as_worker),
            headless=headless,
            web_port=web_port,
            allow_remote=allow_remote,
            seed=seed,
            extra={"master_bind": master_bind or ("127.0.0.1" if is_loopback(target)
                                                  else "0.0.0.0")} if as_master else {},
        )
        from wsprobe.cli._load_console import Progress

        with Progress(quiet=quiet) as progress:
            code = launch(config, plan, on_line=progress)
    if not as_worker:
        _print_summary(out)
        _write_report(out)
    if code == Interrupted.exit_code:
        raise Interrupted(f"interrupted; what was measured until then is in {out}")
    ctx.exit(code)


def _write_report(out: Path) -> None:
    """report.html, summary.csv and summary.md beside the run's own files (issue 6)."""
    if not (out / "summary.json").is_file():
        return  # the run stopped before it measured anything; the summary line said why
    from wsprobe.report import write_report

    try:
        files = write_report([out])
    except WsprobeError as exc:  # the measurement stands even if its report cannot be drawn
        click.secho(f"warning: no report: {exc}", fg="yellow", err=True)
        return
    click.echo(f"report: {files.html}")
