"""The console of ``wsprobe load``: one table renderer for the live and the final table, the
plain progress lines when stdout is not a terminal, and the line that says the target died.

A number is never truncated: on a narrow terminal the lesser columns are dropped (and said so);
when stdout is not a terminal (CI logs) every column is printed at its full width.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

__all__ = ["Column", "Progress", "final_table", "print_summary", "print_table", "render_table"]

BASIS = "latency in ms from the scheduled send"


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its header, and its rank when the table is too wide (0: never dropped; the
    highest rank goes first)."""

    header: str
    drop: int = 0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def render_table(console: Console, title: str, columns: Sequence[Column],
                 rows: Sequence[Sequence[str]]) -> tuple[Table, int]:
    """The table and the width it needs. Columns are dropped, highest rank first, only while a
    terminal is too narrow; the rest are never cut (each is as wide as its widest cell)."""
    widths = [max([len(c.header), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
    keep = list(range(len(columns)))

    def needed() -> int:  # cells, one space of padding each side, one between columns
        return sum(widths[i] for i in keep) + 3 * (len(keep) - 1) + 2

    dropped = []
    if console.is_terminal:
        for index in sorted(keep, key=lambda i: -columns[i].drop):
            if needed() <= console.width or columns[index].drop == 0:
                break
            keep.remove(index)
            dropped.append(columns[index].header)
    note = f"  (narrow terminal: {', '.join(dropped)} not shown)" if dropped else ""
    table = Table(title=title + note, title_justify="left", box=box.SIMPLE, pad_edge=False)
    for i in keep:
        table.add_column(columns[i].header, justify="left" if i == 0 else "right",
                         no_wrap=True, min_width=widths[i])
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table, needed() + 4


def print_table(console: Console, table: Table, width: int) -> None:
    """Print ``table`` at least ``width`` wide (rich would cut cells to the console's width)."""
    before = console.width
    console.width = max(width, before)
    try:
        console.print(table)
    finally:
        console.width = before


FINAL = (Column("kind"), Column("events", 3), Column("expect", 4), Column("got"), Column("lost"),
         Column("dup", 2), Column("late", 2), Column("p50"), Column("p99"), Column("p99.9", 5),
         Column("max", 1))


def final_table(console: Console, title: str, summary: Mapping[str, Any]) -> tuple[Table, int]:
    """The final per-kind table of a run, from its ``summary.json``."""
    rows = []
    for kind, v in summary["kinds"].items():
        lat = v["latency_ms"]["scheduled"]
        rows.append([kind, *(str(v[k]) for k in ("events", "expected", "delivered", "lost",
                                                  "duplicates", "late")),
                     *(_ms(lat[p]) for p in ("p50", "p99", "p99.9", "max"))])
    return render_table(console, f"{title}\n{BASIS}", FINAL, rows)


LIVE = (Column("kind"), Column("sent"), Column("received"), Column("delivered", 3),
        Column("lost"), Column("dup", 2), Column("p50"), Column("p99"), Column("max", 1))


def _live_rows(line: Mapping[str, Any]) -> list[list[str]]:
    return [[kind, str(v["events"]), str(v["received"]), str(v["delivered"]), str(v["lost"]),
             str(v["duplicates"]), _ms(v["p50"]), _ms(v["p99"]), _ms(v["max"])]
            for kind, v in line["kinds"].items()]


def _target_words(target: Mapping[str, int], sockets_before: int) -> str:
    parts = []
    if target["closed_by_server"]:
        parts.append(f"{target['closed_by_server']} sockets closed by the server"
                     + (f" (of {sockets_before} open)" if sockets_before else ""))
    if target["refused"]:
        parts.append(f"{target['refused']} connections refused")
    if target["connect_failures"] - target["refused"]:
        parts.append(f"{target['connect_failures'] - target['refused']} connections failed")
    if target["reconnects"]:
        parts.append(f"{target['reconnects']} reconnect attempts")
    return ", ".join(parts)


class Progress:
    """Renders the master's lines: a live table on a terminal, else a plain line every 5 s; and
    at once, a line whenever the target looks dead (most sockets closed, or refusals)."""

    def __init__(self, *, quiet: bool) -> None:
        self.console = Console(stderr=True)
        self.quiet = quiet
        self.live: Any = None
        self._last_plain = 0.0
        self._target = {"closed_by_server": 0, "refused": 0, "connect_failures": 0,
                        "reconnects": 0}
        self._sockets = 0

    def __enter__(self) -> Progress:
        if self.console.is_terminal and not self.quiet:
            from rich.live import Live

            self.live = Live(console=self.console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def __call__(self, line: dict[str, Any]) -> None:
        kind = line.get("type")
        if kind == "start" and line.get("web_ui"):
            self.console.print(f"Locust web UI: {line['web_ui']}")
        elif kind == "progress":
            self._watch_target(line)
            if self.live is not None:
                title = (f"wsprobe load  {line['elapsed']:.0f}s  users {line['users']}  "
                         f"sockets {line['sockets']}\n{BASIS}, every copy received so far; "
                         "delivered and lost once final")
                self.live.update(render_table(self.console, title, LIVE, _live_rows(line))[0])
            elif not self.quiet and time.monotonic() - self._last_plain >= 5:
                self._last_plain = time.monotonic()
                self.console.print(self._plain(line), highlight=False, markup=False,
                                   soft_wrap=True)

    @staticmethod
    def _plain(line: Mapping[str, Any]) -> str:
        parts = []
        for kind, v in line["kinds"].items():
            words = [f"{kind}: sent {v['events']}", f"received {v['received']}"]
            if v["lost"]:
                words.append(f"lost {v['lost']}")
            if v["duplicates"]:
                words.append(f"duplicates {v['duplicates']}")
            if v["p99"] is not None:
                words.append(f"p50 {_ms(v['p50'])} p99 {_ms(v['p99'])} ms")
            parts.append(" ".join(words))
        head = f"[{line['elapsed']:>6.1f}s] users {line['users']} sockets {line['sockets']}"
        tail = f" ({BASIS})" if parts else ""
        return " | ".join([head, *parts]) + tail

    def _watch_target(self, line: Mapping[str, Any]) -> None:
        target = line.get("target")
        if not target:
            return
        new = {k: target[k] - self._target[k] for k in self._target}
        closed_most = new["closed_by_server"] and \
            new["closed_by_server"] * 2 >= max(self._sockets, 1)
        if closed_most or new["refused"]:
            self.console.print(f"[red][{line['elapsed']:>6.1f}s] the target looks down:[/red] "
                               f"{_target_words(new, self._sockets)}", highlight=False,
                               soft_wrap=True)
        self._target = {k: target[k] for k in self._target}
        self._sockets = max(line["sockets"], 0)


def print_summary(console: Console, title: str, summary: Mapping[str, Any]) -> None:
    """The final table, then validity, the target's health, SLOs and the verdict."""
    table, width = final_table(console, title, summary)
    print_table(console, table, width)
    validity = summary["validity"]
    for reason in validity["reasons"]:
        console.print(f"[yellow]invalid measurement:[/yellow] {reason}", highlight=False)
    for note in validity.get("notes", []):
        console.print(f"note: {note}", highlight=False, markup=False)
    target = summary["target"]
    down = target.get("down")
    if down:
        console.print(f"[red]the target looked down at {down['at_s']:g} s:[/red] "
                      f"{_target_words(down, down.get('sockets_before', 0))}", highlight=False)
    if not target["ok"]:
        named = "; ".join(target.get("broke") or []) or "see summary.json"
        console.print(f"[red]target broke:[/red] {named} {target['errors'] or ''}",
                      highlight=False)
        for problem in target.get("problems", [])[:5]:
            console.print(f"  {problem}", highlight=False, markup=False)
    for slo in summary["slo"]:
        mark = "[green]ok[/green]" if slo["ok"] else "[red]BROKEN[/red]"
        console.print(f"SLO {slo['slo']}: measured {slo['measured']} {slo['unit']} {mark}")
    console.print(f"verdict: {summary['verdict']} (exit {summary['exit_code']})")
