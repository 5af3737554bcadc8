"""Options and helpers that ``wsprobe load`` and ``wsprobe capacity`` share (one definition each).

Both describe the same simulated users (a profile plus behaviour flags) against the same target
(a URL, or the bundled backend in its own process), so they parse them the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from wsprobe.errors import InputError
from wsprobe.load.config import UserKind, parse_duration
from wsprobe.load.profile import Profile, make_kind

__all__ = ["behaviour_options", "bundled_or", "claim_output", "duration", "kinds_from"]

# the files and folders a load run or a capacity search writes into its output folder
_RUN_FILES = ("summary.json", "config.json", "capacity.json", "histograms.json", "steps.csv",
              "report.html", "summary.csv", "summary.md", "deliveries-*.csv", "worker-*.json",
              "locust_*.csv", "locust-*.log", "process-*.err")
_RUN_MARKERS = ("summary.json", "config.json", "capacity.json", "deliveries-*.csv")

F = TypeVar("F", bound=Callable[..., Any])

# CLI flag (click parameter name) -> UserKind field it overrides
_BEHAVIOUR_FIELDS = {
    "sockets_per_user": "sockets",
    "heartbeat": "heartbeat",
    "focus_flips_per_minute": "focus_flips_per_min",
    "chats_per_minute": "chats_per_min",
    "calls_per_minute": "calls_per_min",
    "session": "session",
}


def duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """click callback: ``30s``, ``2m``, ``150ms`` -> seconds; a bad value names its option."""
    if value is None:
        return None
    try:
        return parse_duration(value, what=f"--{param.name}".replace("_", "-"))
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


def behaviour_options(fn: F) -> F:
    """The flags that override the profile's user behaviour (and the late threshold)."""
    options = [
        click.option("--sockets-per-user", type=click.IntRange(min=1), default=None,
                     help="Sockets each user opens (the real browser tab opens 2 to 3; "
                          "default 1, or the profile's)."),
        click.option("--heartbeat", callback=duration, default=None,
                     help="Interval of the online status heartbeat (default 30s, or the "
                          "profile's; 0 disables)."),
        click.option("--focus-flips-per-minute", type=click.FloatRange(min=0), default=None,
                     help="away/online flips per user per minute (default 0.5)."),
        click.option("--chats-per-minute", type=click.FloatRange(min=0), default=None,
                     help="Chat messages per user per minute to online users (default 1)."),
        click.option("--calls-per-minute", type=click.FloatRange(min=0), default=None,
                     help="Calls placed per user per minute (default 0.2)."),
        click.option("--late-after", callback=duration, default=None,
                     help="A delivery slower than this is late (default 1s)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def kinds_from(profile: Profile, flags: Mapping[str, Any]) -> tuple[UserKind, ...]:
    """The profile's user kinds (or one default kind) with the given behaviour flags applied."""
    overrides = {_BEHAVIOUR_FIELDS[k]: v for k, v in flags.items() if v is not None}
    kinds = profile.kinds or (make_kind("user", 1, profile.defaults),)
    return tuple(dataclasses.replace(kind, **overrides) for kind in kinds)


def claim_output(folder: Path, *, overwrite: bool) -> None:
    """Make sure ``folder`` holds no other run: refuse one that does (exit 2), or with
    ``overwrite`` remove that run's files first, so no file of it is read as part of this one."""
    if not folder.is_dir():
        return
    found = sorted(p.name for marker in _RUN_MARKERS for p in folder.glob(marker))
    if not found:
        return
    if not overwrite:
        raise InputError(f"output folder {folder} already holds a run ({', '.join(found[:3])}); "
                         "choose another -o, or pass --overwrite to replace it")
    for pattern in _RUN_FILES:
        for path in folder.glob(pattern):
            path.unlink()
    steps = folder / "steps"
    if steps.is_dir():
        shutil.rmtree(steps)


@contextlib.contextmanager
def bundled_or(url: str | None) -> Iterator[str]:
    """``url``, or the URL of the bundled backend started in its own process for the run."""
    if url is not None:
        yield url
        return
    from wsprobe.server import ServerConfig, spawn

    with spawn(ServerConfig(port=0, rate_limit=None)) as server:
        yield server.url
