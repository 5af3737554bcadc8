"""The load console: one table renderer that never cuts a number, and live lines that show only
what is known."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from wsprobe.cli._load_console import Progress, final_table, print_summary, print_table
from wsprobe.load.fanout import KINDS

BIG = 1234567.891


def _summary() -> dict[str, Any]:
    lat = {"count": 10, "p50": BIG, "p90": BIG, "p99": BIG, "p99.9": BIG, "max": BIG}
    kinds = {k: {"events": 123456789, "expected": 987654321, "delivered": 987654320, "lost": 1,
                 "duplicates": 0, "late": 55555, "latency_ms": {"scheduled": lat}}
             for k in KINDS}
    return {"kinds": kinds, "validity": {"reasons": [], "notes": []},
            "target": {"ok": True, "down": None}, "slo": [], "verdict": "ok", "exit_code": 0}


def _console(*, terminal: bool, width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=width, color_system=None), out


def test_not_a_terminal_prints_every_column_in_full() -> None:
    """CI logs: an 80-column default never cuts `1234567.9` to `123…`."""
    console, out = _console(terminal=False, width=80)
    print_summary(console, "run", _summary())
    text = out.getvalue()
    assert "…" not in text
    assert text.count("1234567.9") == 4 * len(KINDS)
    assert "987654321" in text and "55555" in text


def test_narrow_terminal_drops_lesser_columns_and_says_so() -> None:
    """A narrow terminal: p99.9, expect, events, dup and late go, said so; the rest in full."""
    console, out = _console(terminal=True, width=70)
    table, width = final_table(console, "run", _summary())
    print_table(console, table, width)
    text = out.getvalue()
    assert "…" not in text
    assert "not shown" in text and "p99.9" in text.split("not shown")[0]
    assert "987654320" in text and "1234567.9" in text


def test_live_lines_show_only_what_is_known() -> None:
    """No p99 before a receipt, no 'lost 0' before anything is final; the basis is named;
    a target that drops most sockets is reported at once."""
    console, out = _console(terminal=False, width=80)
    progress = Progress(quiet=False)
    progress.console = console
    empty = {"events": 3, "received": 0, "delivered": 0, "lost": 0, "duplicates": 0,
             "p50": None, "p99": None, "max": None}
    target = {"closed_by_server": 0, "refused": 0, "connect_failures": 0, "reconnects": 0,
              "protocol_errors": 0}
    progress({"type": "progress", "elapsed": 1.0, "users": 4, "sockets": 20,
              "kinds": {"status": empty}, "target": target})
    first = out.getvalue()
    assert "status: sent 3 received 0" in first
    assert "None" not in first and "p99" not in first and "lost" not in first
    progress({"type": "progress", "elapsed": 7.0, "users": 4, "sockets": 2, "kinds": {},
              "target": {**target, "closed_by_server": 18, "reconnects": 3}})
    assert ("the target looks down: 18 sockets closed by the server (of 20 open), "
            "3 reconnect attempts") in out.getvalue()
