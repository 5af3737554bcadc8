"""The ``wsprobe`` command line: a thin layer that parses options and calls the engines.

Each subcommand lives in its own module ``wsprobe/cli/<name>.py`` exposing ``command``; modules are
imported only when their command runs, so ``wsprobe verify`` never imports locust (which
monkey-patches the process with gevent) and ``wsprobe serve`` never imports pandas.
Errors of the tool or its input (:class:`wsprobe.errors.WsprobeError`) become one clear line on
stderr and the exit code the error class carries.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from wsprobe import __version__
from wsprobe.errors import WsprobeError

__all__ = ["cli", "main"]


class _LazyGroup(click.Group):
    """Subcommands found as modules of this package, imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = (m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
        return sorted(name.replace("_", "-") for name in names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.list_commands(ctx):
            return None
        module = importlib.import_module(f"{__name__}.{cmd_name.replace('-', '_')}")
        command: click.Command = module.command
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wsprobe")
def cli() -> None:
    """Conformance, scenario and fan-out load testing for /ws/ws chat backends."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and map wsprobe's errors to exit codes.

    A command ends with ``ctx.exit(code)`` (or returns an ``int``) to choose its exit code.
    """
    try:
        result: Any = cli.main(args=argv, prog_name="wsprobe", standalone_mode=False)
    except WsprobeError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
