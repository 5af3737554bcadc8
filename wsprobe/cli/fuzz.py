"""``wsprobe fuzz [URL]``: schema-driven fuzzing with a canary, shrinking and replay.

Without a URL the bundled reference backend is started on a free loopback port (and restarted if a
case crashes it). Only loopback targets unless ``--allow-remote``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shlex
import subprocess
from pathlib import Path

import click

from wsprobe.errors import InputError, UnreachableError
from wsprobe.fuzz.target import ManagedServer, exit_text
from wsprobe.scenario.events import Event, EventHandler
from wsprobe.server import ServerConfig, ServerProcess, ServerStartError, spawn
from wsprobe.targets import client_ssl_context, is_loopback

__all__ = ["BundledServer", "command"]


class BundledServer(ManagedServer):
    """The reference backend (``wsprobe serve``) in a process of its own, on a free port."""

    def __init__(self, *, start_timeout: float) -> None:
        self._start_timeout = start_timeout
        self._server: object = None
        self._url = ""
        self._last_exit: str | None = None

    @property
    def url(self) -> str:
        """Where it listens (a new port after each restart)."""
        return self._url

    async def start(self) -> None:
        """Spawn ``python -m wsprobe serve --port 0``."""
        self.close()
        try:
            server = await asyncio.to_thread(spawn, ServerConfig(port=0),
                                             timeout=self._start_timeout)
        except ServerStartError as exc:
            raise UnreachableError(f"the bundled backend did not start: {exc}") from None
        self._server = server
        self._url = server.url

    def exit_info(self) -> str | None:
        """How the bundled backend ended, once it has."""
        server = self._server
        if isinstance(server, ServerProcess):
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(0.5)  # a server that just crashed may not be reaped yet
        if isinstance(server, ServerProcess) and server.process.poll() is not None:
            log = "\n".join(server.log().strip().splitlines()[-8:])
            self._last_exit = exit_text(server.process.returncode, log)
        return self._last_exit

    def close(self) -> None:
        """Stop it."""
        server, self._server = self._server, None
        if isinstance(server, ServerProcess):
            server.__exit__(None, None, None)


def _emit(handlers: list[EventHandler], event: Event) -> None:
    for handler in handlers:
        handler.handle(event)


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise click.BadParameter("must be more than 0")
    return value


@click.command("fuzz")
@click.argument("url", required=False)
@click.option("--seed", type=int, default=None, help="Seed of the generated cases (printed).")
@click.option("--max-cases", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Cases to generate in all (shared by the groups; shrinking runs are extra).")
@click.option("--max-time", type=float, default=180.0, show_default=True, callback=_positive,
              help="Seconds of generation at most.")
@click.option("--shrink-time", type=float, default=60.0, show_default=True, callback=_positive,
              help="Seconds of shrinking at most, in all.")
@click.option("--timeout", type=float, default=5.0, show_default=True, callback=_positive,
              help="Time limit of a handshake and of the canary's round trip.")
@click.option("--answer-timeout", type=float, default=2.0, show_default=True,
              callback=_positive, help="How long to wait for the answer to a case.")
@click.option("--recover-time", type=float, default=10.0, show_default=True,
              callback=_positive, help="How long to wait for a crashed URL to come back.")
@click.option("--server-cmd", default=None, metavar="CMD",
              help="Run the server at URL with this command and restart it after each crash "
                   "(so crashes can be shrunk).")
@click.option("--start-timeout", type=float, default=15.0, show_default=True,
              callback=_positive, help="Time a started server has to accept a handshake.")
@click.option("--group", "group_names", multiple=True, metavar="PREFIX",
              help="Only the groups whose name starts with PREFIX (e.g. send-message, frames/). "
                   "Repeatable.")
@click.option("--replay", "replay_file", type=click.Path(path_type=Path), default=None,
              help="Replay a saved case instead of fuzzing; exit 1 if it still shows a failure.")
@click.option("--schemas", "schemas_dir", type=click.Path(path_type=Path), default=None,
              help="A folder of JSON Schemas laid over the bundled ones.")
@click.option("--cafile", type=click.Path(path_type=Path), default=None,
              help="A CA certificate (PEM) to trust for wss://.")
@click.option("--insecure", is_flag=True, help="wss:// without checking the certificate.")
@click.option("--origin", default=None, help="The Origin header to send.")
@click.option("--allow-remote", is_flag=True, help="Allow a target that is not on loopback.")
@click.option("--fail-on", type=click.Choice(["failure", "warning"]), default="failure",
              show_default=True, help="Exit 1 on failures only, or on warnings too.")
@click.option("--report", "reports", default="", metavar="KINDS",
              help="Files to write under --output: json,junit,ndjson (comma-separated).")
@click.option("--output", "output_dir", type=click.Path(path_type=Path),
              default=Path("wsprobe-fuzz"), show_default=True,
              help="Folder for reports and the replay files of findings (findings/).")
@click.option("-v", "--verbose", count=True, help="More detail on the console.")
@click.option("--no-progress", is_flag=True, help="No progress line (for logs).")
@click.pass_context
def command(ctx: click.Context, *, url: str | None, seed: int | None, max_cases: int,
            max_time: float, shrink_time: float, timeout: float, answer_timeout: float,
            recover_time: float, server_cmd: str | None, start_timeout: float,
            group_names: tuple[str, ...], replay_file: Path | None, schemas_dir: Path | None,
            cafile: Path | None, insecure: bool, origin: str | None, allow_remote: bool,
            fail_on: str, reports: str, output_dir: Path, verbose: int,
            no_progress: bool) -> None:
    """Fuzz URL (default: the bundled reference backend) with frames generated from the schemas.

    After every case a fresh canary must still register and deliver a message; a case that
    stops, stalls or breaks the server is a failure, shrunk to its smallest form and saved under
    OUTPUT/findings/ for --replay. Error frames and close codes 1002/1003/1007/1008/1009 are the
    expected answers to bad input; silence is a warning.

    Exit codes: 0 nothing found, 1 a failure (or a warning, with --fail-on warning), 2 bad usage
    or input, 3 target unreachable, 130 interrupted (reports written with what was recorded).
    """
    from wsprobe.core import load_schemas
    from wsprobe.fuzz import (
        Budget,
        CommandServer,
        Fuzzer,
        Prober,
        ProbeSettings,
        RemoteServer,
        Target,
        case_from_json,
        groups,
    )
    from wsprobe.output import ConsoleReport, parse_report_kinds, report_handlers

    if url is not None:
        if not url.startswith(("ws://", "wss://")):
            raise InputError(f"bad URL {url!r}: it must start with ws:// or wss://")
        if not allow_remote and not is_loopback(url):
            raise InputError(f"{url}: fuzzing sends hostile input; only loopback targets "
                             "(localhost, 127.0.0.0/8, ::1) unless --allow-remote")
    elif server_cmd is not None:
        raise InputError("--server-cmd needs the URL the command serves")
    kinds = parse_report_kinds(reports)
    schemas = load_schemas(schemas_dir) if schemas_dir is not None else load_schemas()
    case = None
    if replay_file is not None:
        try:
            text = replay_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--replay {replay_file}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"--replay {replay_file}: not JSON ({exc})") from None
        case = case_from_json(data, str(replay_file))
    all_groups = groups(schemas)
    if group_names:
        all_groups = [g for g in all_groups if g.name.startswith(group_names)]
        if not all_groups:
            names = ", ".join(g.name for g in groups(schemas))
            raise InputError(f"--group {', '.join(group_names)}: no such group ({names})")
    context = client_ssl_context(cafile, insecure)
    target: Target
    if url is None:
        target = BundledServer(start_timeout=start_timeout)
    elif server_cmd is not None:
        target = CommandServer(shlex.split(server_cmd), url, start_timeout=start_timeout,
                               ssl_context=context)
    else:
        target = RemoteServer(url, recover_time=recover_time, ssl_context=context)
    seed = seed if seed is not None else random.randrange(2**31)
    stem = "fuzz-replay" if case is not None else "fuzz"
    handlers = [ConsoleReport(verbosity=verbose, progress=not no_progress),
                *report_handlers(kinds, output_dir, stem=stem)]
    prober = Prober(target, schemas, ProbeSettings(timeout=timeout, answer_timeout=answer_timeout,
                                                   ssl_context=context, origin=origin))
    fuzzer = Fuzzer(target=target, prober=prober, schemas=schemas, groups=all_groups,
                    budget=Budget(max_cases=max_cases, max_time=max_time,
                                  shrink_time=shrink_time, seed=seed),
                    emit=lambda event: _emit(handlers, event),
                    findings_dir=None if case is not None else output_dir / "findings",
                    answer_timeout=answer_timeout)
    try:
        fuzzer.start()
        label = url or f"bundled backend at {target.url}"
        result = fuzzer.replay(case, str(replay_file)) if case is not None else fuzzer.run(label)
    finally:
        try:
            fuzzer.close()
        finally:
            for handler in handlers:
                handler.close()
    saved = [f.replay for f in result.findings if f.replay is not None]
    if case is None:
        click.echo(f"{result.cases} cases, {result.shrink_runs} shrinking runs, "
                   f"{result.duration:.1f} s, seed {seed}", err=True)
    if result.stopped:
        click.echo(result.stopped, err=True)
    if saved:
        click.echo(f"replay files in {output_dir / 'findings'}/", err=True)
    if kinds:
        click.echo(f"reports written to {output_dir}/", err=True)
    if result.interrupted:
        ctx.exit(130)
    failed = result.failed or (fail_on == "warning" and bool(result.findings))
    ctx.exit(1 if failed else 0)
