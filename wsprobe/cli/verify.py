"""``wsprobe verify [URL]``: the conformance suite, one check per rule of the protocol.

Without a URL the bundled reference backend is started on a free loopback port and verified.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from wsprobe.errors import InputError, Interrupted

__all__ = ["command"]


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise click.BadParameter("must be more than 0")
    return value


def _headers(pairs: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition(":")
        if not sep or not key.strip():
            raise InputError(f"--header {pair!r}: write 'Name: value'")
        out.append((key.strip(), value.strip()))
    return tuple(out)


def _list(specs: list[object]) -> None:
    from wsprobe.verify.registry import CheckSpec

    for spec in specs:
        assert isinstance(spec, CheckSpec)
        needs = f" [needs {', '.join(sorted(spec.needs))}]" if spec.needs else ""
        click.echo(f"{spec.rule:<3} {spec.level.value:<6} {spec.name:<26} {spec.text}{needs}")


@click.command("verify")
@click.argument("url", required=False)
@click.option("--check", "checks", multiple=True, metavar="NAME",
              help="Run only these checks: names, rule ids or globs (C*, signal-*). Repeatable.")
@click.option("--skip", "skips", multiple=True, metavar="NAME",
              help="Leave out these checks (names, rule ids or globs). Repeatable.")
@click.option("--list", "list_only", is_flag=True, help="List the checks and exit.")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Import MODULE, which registers checks of its own (wsprobe.verify.check). "
                   "Modules of the 'wsprobe.checks' entry point group are always loaded.")
@click.option("--timeout", type=float, default=2.0, show_default=True, callback=_positive,
              help="Time limit of each expectation, in seconds.")
@click.option("--quiet", type=float, default=0.3, show_default=True, callback=_positive,
              help="How long a check listens for a frame that must NOT come, in seconds.")
@click.option("--run-timeout", type=float, default=120.0, show_default=True,
              callback=_positive, help="Time limit of the whole run, in seconds.")
@click.option("--schemas", "schemas_dir", type=click.Path(path_type=Path), default=None,
              help="A folder of JSON Schemas laid over the bundled ones.")
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'",
              help="An HTTP header for every handshake. Repeatable.")
@click.option("--origin", default=None, help="Origin header of every handshake.")
@click.option("--token", default=None, envvar="WSPROBE_TOKEN",
              help="A valid credential, sent as ?token=TOKEN (or set WSPROBE_TOKEN); also runs "
                   "X2 (a socket without it, or with a wrong one, must be refused).")
@click.option("--subprotocol", "subprotocols", multiple=True, metavar="NAME",
              help="A WebSocket subprotocol to offer. Repeatable.")
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="PEM file of the CA that signed the wss:// server's certificate.")
@click.option("--insecure", is_flag=True, help="wss:// without checking the certificate.")
@click.option("--register-form", type=click.Choice(["top", "data"]), default="top",
              show_default=True,
              help="new-user-add with a top-level userId (the real client's) or data.userId.")
@click.option("--wait-for", type=float, default=0.0, metavar="SECONDS",
              help="Retry the first connection for up to SECONDS (a server still starting).")
@click.option("--allowed-origin", default=None,
              help="An Origin the server accepts (with --foreign-origin: runs X1).")
@click.option("--foreign-origin", default=None,
              help="An Origin the server must refuse (cross-site WebSocket hijacking, X1).")
@click.option("--aggressive", is_flag=True,
              help="Also run X3's probes: a flood of messages and an oversized frame.")
@click.option("--max-frame", type=click.IntRange(min=1024), default=4 * 1024 * 1024,
              show_default=True, help="Size of X3's oversized frame, in bytes.")
@click.option("--flood", type=click.IntRange(min=10), default=400, show_default=True,
              help="Messages in X3's burst.")
@click.option("--idle", type=click.FloatRange(min=0), default=0.0, metavar="SECONDS",
              help="Run T3: wait up to SECONDS on an idle socket for the server's keepalive "
                   "ping (e.g. 35 for a server that pings every 30 s). 0: skip T3.")
@click.option("--heartbeat", type=float, default=0.1, show_default=True, callback=_positive,
              help="Seconds between status heartbeats (the real client's 30 s, compressed).")
@click.option("--strict", is_flag=True, help="Warnings (broken SHOULD rules) fail the run too.")
@click.option("--seed", type=int, default=None,
              help="Seed of the run's user ids; printed so a run can be replayed.")
@click.option("--report", "reports", default="", metavar="KINDS",
              help="Files to write under --output: json,junit,ndjson (comma-separated).")
@click.option("--output", "output_dir", type=click.Path(path_type=Path),
              default=Path("wsprobe-report"), show_default=True, help="Folder for --report files.")
@click.option("-v", "--verbose", count=True, help="Print a line as each check finishes.")
@click.option("--no-progress", is_flag=True, help="No progress bar (for logs).")
@click.pass_context
def command(ctx: click.Context, *, url: str | None, checks: tuple[str, ...],
            skips: tuple[str, ...], list_only: bool, plugins: tuple[str, ...], timeout: float,
            quiet: float, run_timeout: float, schemas_dir: Path | None,
            headers: tuple[str, ...], origin: str | None, token: str | None,
            subprotocols: tuple[str, ...], cafile: Path | None, insecure: bool,
            register_form: str, wait_for: float, allowed_origin: str | None,
            foreign_origin: str | None, aggressive: bool, max_frame: int, flood: int,
            idle: float, heartbeat: float, strict: bool, seed: int | None, reports: str,
            output_dir: Path, verbose: int, no_progress: bool) -> None:
    """Check that the backend at URL keeps every rule of the protocol (default: start the
    bundled reference backend and check that).

    Each check is named for its rule (P1-P6 presence, C1-C6 chat, S1-S4 signalling, R1-R3
    robustness, X1-X3 security, T1-T3 transport, F1-F2 schemas and coverage); every failure
    comes with the frames that prove it and a command that reruns just that check.

    Exit codes: 0 passed, 1 a MUST rule failed (or a warning under --strict), 2 bad usage,
    bad schema or nothing tested, 3 target unreachable or handshake refused, 130 interrupted
    (reports written with what was recorded).
    """
    from wsprobe.core import load_schemas
    from wsprobe.output import parse_report_kinds
    from wsprobe.verify.api import BUNDLED, select_checks, verify_async
    from wsprobe.verify.config import VerifyConfig
    from wsprobe.verify.console import VerifyConsole
    from wsprobe.verify.reports import verify_report_handlers
    from wsprobe.verify.runner import seed_or_random

    if url is not None and not url.startswith(("ws://", "wss://")):
        raise InputError(f"bad URL {url!r}: it must start with ws:// or wss://")
    config = VerifyConfig(
        url=url or BUNDLED, given_url=url, timeout=timeout, quiet=quiet, run_timeout=run_timeout,
        schemas_dir=schemas_dir, headers=_headers(headers), origin=origin, token=token,
        subprotocols=subprotocols, cafile=cafile, insecure=insecure,
        register_form="data" if register_form == "data" else "top", wait_for=wait_for,
        allowed_origin=allowed_origin, foreign_origin=foreign_origin, aggressive=aggressive,
        strict=strict, seed=seed_or_random(seed), heartbeat=heartbeat, checks=checks,
        skip=skips, plugins=plugins, max_frame=max_frame, flood=flood, idle=idle)
    specs = select_checks(config)
    if list_only:
        _list(list(specs))
        ctx.exit(0)
    schemas = load_schemas(*([schemas_dir] if schemas_dir is not None else []))
    kinds = parse_report_kinds(reports)
    rerun: dict[str, str] = {s.name: config.rerun(s.name) for s in specs}
    note = None if url is not None else (
        "started the bundled reference backend (wsprobe serve) on a free loopback port, with a "
        "token, an Origin allow-list, size and rate limits and 1 s pings, so every check runs")
    handlers = [VerifyConsole(rerun=rerun, note=note, progress=not no_progress,
                              verbose=verbose),
                *verify_report_handlers(kinds, output_dir, specs, rerun)]
    try:
        result = asyncio.run(verify_async(config, handlers=handlers, schemas=schemas,
                                          specs=specs))
    except KeyboardInterrupt:
        where = f"; the partial report is in {output_dir}/" if kinds else ""
        raise Interrupted(f"interrupted{where}") from None
    if result.error:
        click.secho(f"error: {result.error}", fg="red", err=True)
    if kinds:
        click.echo(f"reports written to {output_dir}/", err=True)
    ctx.exit(result.exit_code)
