"""The console report of a verify run: a progress line while it runs, then the evidence of every
check that did not pass (rule, expected, what happened, frames, rerun command), then a summary
table with one row per check and the verdict."""

from __future__ import annotations

import shutil
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from wsprobe.output.text import finding_markup
from wsprobe.scenario.events import (
    CaseFinished,
    CaseStarted,
    Event,
    FindingReported,
    FrameSeen,
    RunFinished,
    RunStarted,
    Status,
)
from wsprobe.scenario.findings import Finding, Severity
from wsprobe.scenario.frames import FrameRecord

__all__ = ["VerifyConsole"]

_FAMILIES = "PCSRXTF"


def _rule_order(rule: str) -> tuple[int, int, str]:
    """P1..P6, C.., S.., R.., X.., T.., F.., then anything else (plug-ins' rules)."""
    family = _FAMILIES.find(rule[:1]) if rule[:1] else -1
    number = int(rule[1:]) if rule[1:].isdigit() else 99
    return (family if family >= 0 else len(_FAMILIES), number, rule)


_STYLE = {Status.PASSED: ("green", "passed"), Status.WARNING: ("yellow", "warning"),
          Status.FAILED: ("red", "FAILED"), Status.ERROR: ("red", "ERROR"),
          Status.SKIPPED: ("dim", "skipped")}


@dataclass
class _Case:
    frames: deque[FrameRecord] = field(default_factory=lambda: deque(maxlen=40))
    recent: dict[int, tuple[FrameRecord, ...]] = field(default_factory=dict)


class VerifyConsole:
    """Renders a verify run for a person. ``rerun`` maps a check name to its rerun command;
    ``note`` is printed under the header (e.g. that the bundled backend was started)."""

    def __init__(self, console: Console | None = None, *, rerun: Mapping[str, str] | None = None,
                 note: str | None = None, progress: bool = True, context_frames: int = 4,
                 verbose: int = 0) -> None:
        width = shutil.get_terminal_size((120, 24)).columns
        self.console = console or Console(highlight=False, emoji=False,
                                          width=max(width, 100))
        self.rerun = dict(rerun or {})
        self.note = note
        self.verbose = verbose
        self.context_frames = context_frames
        self._use_progress = progress and self.console.is_terminal
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._cases: dict[str, _Case] = {}
        self._done: list[tuple[CaseFinished, _Case]] = []
        self._frames = 0

    def _print(self, text: str) -> None:
        self.console.print(text, highlight=False, emoji=False, soft_wrap=True)

    def handle(self, event: Event) -> None:
        """Take one event."""
        match event:
            case RunStarted():
                n = len(event.cases)
                seed = f" · seed {event.seed}" if event.seed is not None else ""
                self._print(f"[bold]wsprobe verify[/] · {escape(event.target)} · {n} check"
                            f"{'s' if n != 1 else ''}{seed}")
                if self.note:
                    self._print(f"[dim]{escape(self.note)}[/]")
                if self._use_progress:
                    self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                              MofNCompleteColumn(), console=self.console,
                                              transient=True)
                    self._progress.start()
                    self._task = self._progress.add_task("starting", total=n)
            case CaseStarted():
                self._cases[event.case.name] = _Case()
                if self._progress is not None and self._task is not None:
                    self._progress.update(self._task, description=f"{event.case.rule} "
                                                                  f"{event.case.name}")
            case FrameSeen():
                self._frames += 1
                self._cases.setdefault(event.case.name, _Case()).frames.append(event.frame)
            case FindingReported():
                state = self._cases.setdefault(event.case.name, _Case())
                state.recent[id(event.finding)] = tuple(state.frames)
                if len(state.recent) > 50:
                    state.recent.pop(next(iter(state.recent)))
            case CaseFinished():
                state = self._cases.pop(event.case.name, _Case())
                self._done.append((event, state))
                if self._progress is not None and self._task is not None:
                    self._progress.advance(self._task)
                if self.verbose:
                    color, word = _STYLE[event.status]
                    self._print(f"  [{color}]{word:<8}[/] {escape(event.case.rule or '')} "
                                f"{escape(event.case.name)} [dim]{event.duration:.2f} s[/]")
            case RunFinished():
                self._stop()
                self._report(event)

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def close(self) -> None:
        """Stop the progress display (the run may have been interrupted)."""
        self._stop()

    # -- the report ---------------------------------------------------------------------------

    def _report(self, event: RunFinished) -> None:
        notes = {c.error for c, _ in self._done}
        if self._done and all(c.status is Status.SKIPPED for c, _ in self._done) and len(
                notes) == 1 and (note := notes.pop()):
            self._print(f"\n[bold red]NOT TESTED[/]: {escape(note.removeprefix('not run: '))}"
                        f"\n{len(self._done)} checks not run · exit {event.exit_code}")
            return
        for case, state in self._done:
            if case.status in {Status.FAILED, Status.ERROR, Status.WARNING}:
                self._details(case, state)
        self._table()
        counts = {s: sum(c.status is s for c, _ in self._done) for s in Status}
        parts = [f"{n} {s.value}" for s, n in counts.items() if n]
        if event.interrupted:
            parts.append("interrupted")
        color, word = _STYLE[event.status]
        if event.status is Status.PASSED and not event.interrupted:
            word = "PASSED"
        self._print(f"\n[bold {color}]{word}[/]: {', '.join(parts) or 'nothing ran'} · "
                    f"{self._frames} frames · {event.duration:.2f} s · exit {event.exit_code}")

    def _details(self, case: CaseFinished, state: _Case) -> None:
        color, word = _STYLE[case.status]
        ref = case.case
        self.console.rule(f"[{color}]{escape(word)}[/] {escape(ref.rule or '')} "
                          f"{escape(ref.name)}", align="left")
        if ref.description:
            self._print(f"  [dim]rule[/]      {escape(ref.description)}")
        if case.error:
            self._print(f"  [red]{escape(case.error)}[/]")
        for finding in case.findings:
            self._finding(finding, state.recent.get(id(finding), ()))
        rerun = self.rerun.get(ref.name)
        if rerun:
            self._print(f"  [dim]rerun[/]     {escape(rerun)}")
        self._print("")

    def _finding(self, f: Finding, recent: tuple[FrameRecord, ...]) -> None:
        finding_markup(f, recent, self._print, rule=False, where=False, actor_label="socket",
                       frames=6, context=self.context_frames, before_label="frames just before")

    def _table(self) -> None:
        done = sorted(self._done, key=lambda d: _rule_order(d[0].case.rule or ""))
        rows = [self._row(case) for case, _ in done]
        with_reason = any(row[-1] for row in rows)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold",
                      pad_edge=False, expand=with_reason)
        names = [c.case.name for c, _ in self._done]
        table.add_column("rule", no_wrap=True, min_width=4)
        table.add_column("check", no_wrap=True, min_width=max(map(len, names), default=5))
        table.add_column("level", no_wrap=True, min_width=6)
        table.add_column("status", no_wrap=True, min_width=7)
        table.add_column("time", justify="right", no_wrap=True, min_width=6)
        if with_reason:
            table.add_column("reason", overflow="ellipsis", no_wrap=True, ratio=1)
        for row in rows:
            table.add_row(*(row if with_reason else row[:-1]))
        self._print("")
        self.console.print(table)

    @staticmethod
    def _row(case: CaseFinished) -> tuple[str, ...]:
        color, word = _STYLE[case.status]
        level = (case.case.description or "").partition(":")[0]
        failures = [f for f in case.findings if f.severity is Severity.FAILURE]
        first = (failures or list(case.findings))[:1]
        reason = first[0].title if first else (case.error or "")
        time = f"{case.duration:.2f} s" if case.status is not Status.SKIPPED else ""
        return (escape(case.case.rule or ""), escape(case.case.name), level,
                f"[{color}]{word}[/]", time, f"[dim]{escape(reason)}[/]" if reason else "")
