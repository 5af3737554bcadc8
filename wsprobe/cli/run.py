"""``wsprobe run SCENARIO... [URL]``: play scenario files against a backend.

Without a URL the bundled reference backend is started on a free loopback port. A SCENARIO is a
file, a folder of ``*.yaml`` files, or the name of a bundled scenario (``wsprobe run chat``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import click

from wsprobe.errors import InputError
from wsprobe.resources import bundled_scenarios_dir

__all__ = ["command", "resolve_scenarios"]


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder when it is below it (reports read better)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def resolve_scenarios(names: Sequence[str]) -> list[Path]:
    """Files for the SCENARIO arguments: files, folders (their ``*.yaml``), bundled names."""
    found: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not files:
                raise InputError(f"{path}: no *.yaml scenario files in this folder")
            found += files
        elif path.is_file():
            found.append(path)
        else:
            bundled = bundled_scenarios_dir() / f"{name.removesuffix('.yaml')}.yaml"
            if "/" in name or not bundled.is_file():
                names_there = sorted(p.stem for p in bundled_scenarios_dir().glob("*.yaml"))
                raise InputError(f"{name}: no such scenario file (bundled scenarios: "
                                 f"{', '.join(names_there)})")
            found.append(_shown(bundled))
    return found


def _variables(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--var {pair!r}: write KEY=VALUE")
        out[key.strip()] = value
    return out


@contextlib.asynccontextmanager
async def _target(url: str | None) -> AsyncIterator[str]:
    if url is not None:
        yield url
        return
    from wsprobe.server import ServerConfig, running

    async with running(ServerConfig(port=0)) as server:
        yield server.url


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise click.BadParameter("must be more than 0")
    return value


@click.command("run")
@click.argument("args", nargs=-1, required=True, metavar="SCENARIO... [URL]")
@click.option("--var", "variables", multiple=True, metavar="KEY=VALUE",
              help="Set a scenario variable (wins over the file's 'vars'). Repeatable.")
@click.option("--heartbeat", type=float, default=30.0, show_default=True, callback=_positive,
              help="Seconds between the sends of 'every' blocks with interval 'heartbeat' "
                   "(the protocol's 30 s status ping; e.g. 0.2 to compress it).")
@click.option("--step-timeout", type=float, default=None, callback=_positive,
              help="Time limit of each step, in seconds (an expect without its own 'timeout', "
                   "a send). Default: the file's timeouts.step, else 5.")
@click.option("--timeout", "run_timeout", type=float, default=None, callback=_positive,
              help="Time limit of each whole scenario, in seconds (default: the file's "
                   "timeouts.run, else none). Teardown still runs when it expires.")
@click.option("--seed", type=int, default=None,
              help="Seed of generated values (uuid, run_id); printed so a run can be replayed.")
@click.option("--schemas", "schemas_dir", type=click.Path(path_type=Path), default=None,
              help="A folder of JSON Schemas laid over the bundled ones.")
@click.option("--report", "reports", default="", metavar="KINDS",
              help="Files to write under --output: json,junit,ndjson (comma-separated).")
@click.option("--output", "output_dir", type=click.Path(path_type=Path),
              default=Path("wsprobe-report"), show_default=True, help="Folder for --report files.")
@click.option("--cafile", type=click.Path(path_type=Path), default=None,
              help="CA certificate(s) to trust for wss:// (besides the system's).")
@click.option("--insecure", is_flag=True, help="wss:// without checking the certificate.")
@click.option("-v", "--verbose", count=True, help="-v lists every step, -vv every frame too.")
@click.option("--no-progress", is_flag=True, help="No progress line (for logs).")
@click.pass_context
def command(ctx: click.Context, *, args: tuple[str, ...], variables: tuple[str, ...],
            heartbeat: float, step_timeout: float | None, run_timeout: float | None,
            seed: int | None, schemas_dir: Path | None, reports: str, output_dir: Path,
            cafile: Path | None, insecure: bool, verbose: int, no_progress: bool) -> None:
    """Play scenario files against URL (default: the bundled reference backend).

    Exit codes: 0 all passed, 1 a finding, 2 bad usage or input, 3 target unreachable or
    handshake refused, 130 interrupted (reports written with what was recorded).
    """
    from wsprobe.core import load_schemas
    from wsprobe.output import ConsoleReport, parse_report_kinds, report_handlers
    from wsprobe.scenario.loader import load_scenario
    from wsprobe.scenario.runner import SessionOptions, run_scenarios_async
    from wsprobe.targets import client_ssl_context

    url = args[-1] if "://" in args[-1] else None
    names = args[:-1] if url is not None else args
    if not names:
        raise InputError("give at least one scenario (a file, a folder or a bundled name)")
    if url is not None and not url.startswith(("ws://", "wss://")):
        raise InputError(f"bad URL {url!r}: it must start with ws:// or wss://")
    values = _variables(variables)
    schemas = load_schemas(schemas_dir) if schemas_dir is not None else load_schemas()
    # every file is checked before anything is sent
    scenarios = [load_scenario(p, schemas=schemas, variables=values)
                 for p in resolve_scenarios(names)]
    kinds = parse_report_kinds(reports)
    tls = client_ssl_context(cafile, insecure)
    seed = seed if seed is not None else random.randrange(2**31)
    handlers = [ConsoleReport(verbosity=verbose, progress=not no_progress),
                *report_handlers(kinds, output_dir, stem="run")]

    async def main() -> int:
        async with _target(url) as target:
            result = await run_scenarios_async(
                scenarios, target, handlers=handlers, schemas=schemas, variables=values,
                heartbeat=heartbeat, step_timeout=step_timeout, run_timeout=run_timeout,
                seed=seed, session_options=SessionOptions(ssl_context=tls))
            return result.exit_code

    code = asyncio.run(main())
    if kinds:
        click.echo(f"reports written to {output_dir}/", err=True)
    ctx.exit(code)
