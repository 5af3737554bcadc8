"""Handlers of the event stream: console, JSON, JUnit XML, NDJSON frames.

They consume :mod:`wsprobe.scenario.events` only, so ``wsprobe run`` (a case per scenario) and
``wsprobe verify`` (a case per check) share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from wsprobe.errors import InputError
from wsprobe.output.console import ConsoleReport
from wsprobe.output.json_report import JsonReport
from wsprobe.output.junit import JUnitReport
from wsprobe.output.ndjson import NdjsonFrames
from wsprobe.output.recorder import Recorder
from wsprobe.output.text import finding_text
from wsprobe.scenario.events import EventHandler

__all__ = [
    "REPORT_KINDS",
    "ConsoleReport",
    "JUnitReport",
    "JsonReport",
    "NdjsonFrames",
    "Recorder",
    "finding_text",
    "parse_report_kinds",
    "report_handlers",
]

REPORT_KINDS = ("json", "junit", "ndjson")


def parse_report_kinds(text: str) -> tuple[str, ...]:
    """``"json,junit"`` -> ``("json", "junit")``; an unknown kind is an :class:`InputError`."""
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    for kind in kinds:
        if kind not in REPORT_KINDS:
            raise InputError(f"--report: unknown kind {kind!r} (use {', '.join(REPORT_KINDS)})")
    return kinds


def report_handlers(kinds: Iterable[str], folder: Path, *, stem: str = "wsprobe"
                    ) -> list[EventHandler]:
    """File handlers for ``kinds``, writing ``<stem>.json``, ``<stem>.junit.xml`` and
    ``<stem>.frames.ndjson`` under ``folder``."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--output: {folder} exists and is not a folder")
    made: dict[str, EventHandler] = {
        "json": JsonReport(folder / f"{stem}.json"),
        "junit": JUnitReport(folder / f"{stem}.junit.xml"),
        "ndjson": NdjsonFrames(folder / f"{stem}.frames.ndjson"),
    }
    return [made[k] for k in kinds]
