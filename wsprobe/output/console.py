"""The console report: a progress line while running, one line per case, then each finding
with its step, place in the file, actor, expected and actual, and the frames around it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.status import Status as Spinner

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
    StepFinished,
    StepStarted,
)
from wsprobe.scenario.findings import Finding
from wsprobe.scenario.frames import FrameRecord

__all__ = ["ConsoleReport"]

_MARK = {Status.PASSED: "[green]✓[/]", Status.WARNING: "[yellow]![/]",
         Status.FAILED: "[red]✗[/]", Status.ERROR: "[red]E[/]", Status.SKIPPED: "[dim]-[/]"}
_WORD = {Status.PASSED: "[green]passed[/]", Status.WARNING: "[yellow]warning[/]",
         Status.FAILED: "[red]FAILED[/]", Status.ERROR: "[red]ERROR[/]",
         Status.SKIPPED: "[dim]skipped[/]"}


@dataclass
class _Seen:
    finding: Finding
    recent: tuple[FrameRecord, ...]


@dataclass
class _Case:
    steps: int = 0
    frames: deque[FrameRecord] = field(default_factory=lambda: deque(maxlen=50))
    findings: list[_Seen] = field(default_factory=list)


class ConsoleReport:
    """Renders the event stream for a person. ``verbosity`` 1 lists steps, 2 also frames."""

    def __init__(self, console: Console | None = None, *, verbosity: int = 0,
                 progress: bool = True, context_frames: int = 6) -> None:
        self.console = console or Console(highlight=False, emoji=False, soft_wrap=True)
        self.verbosity = verbosity
        self.context_frames = context_frames
        self._spinner: Spinner | None = None
        self._progress = progress and self.console.is_terminal
        self._cases: dict[str, _Case] = {}
        self._done: list[tuple[CaseFinished, _Case]] = []
        self._frames = 0
        self._total = 0
        self._index = 0

    def _print(self, text: str) -> None:
        self.console.print(text, highlight=False, emoji=False)

    def handle(self, event: Event) -> None:
        """Take one event."""
        match event:
            case RunStarted():
                self._total = len(event.cases)
                seed = f" · seed {event.seed}" if event.seed is not None else ""
                self._print(f"[bold]wsprobe {event.tool}[/] · target {escape(event.target)} · "
                            f"{self._total} case{'s' if self._total != 1 else ''}{seed}")
                if self._progress:
                    self._spinner = Spinner("starting", console=self.console)
                    self._spinner.start()
            case CaseStarted():
                self._index += 1
                self._cases[event.case.name] = _Case()
                self._status(f"{event.case.name}")
            case StepStarted():
                self._cases.setdefault(event.case.name, _Case()).steps += 1
                self._status(f"{event.case.name} · step {event.step.index}: {event.step.label}")
            case StepFinished():
                if self.verbosity >= 1:
                    where = f" [dim]{escape(event.step.location)}[/]" if event.step.location else ""
                    self._print(f"    {_MARK[event.status]} {event.step.index:>5} "
                                f"{escape(event.step.label)}{where} "
                                f"[dim]{event.duration:.2f} s[/]")
            case FrameSeen():
                self._frames += 1
                self._cases.setdefault(event.case.name, _Case()).frames.append(event.frame)
                if self.verbosity >= 2:
                    self._print(f"          [dim]{escape(event.frame.arrow())}[/]")
            case FindingReported():
                state = self._cases.setdefault(event.case.name, _Case())
                state.findings.append(_Seen(event.finding, tuple(state.frames)))
            case CaseFinished():
                state = self._cases.pop(event.case.name, _Case())
                self._done.append((event, state))
                name = f"{event.case.rule} {event.case.name}" if event.case.rule else \
                    event.case.name
                why = ""
                if event.status in {Status.FAILED, Status.WARNING} and event.findings:
                    why = f" [dim]— {escape(event.findings[0].title)}[/]"
                elif event.error:
                    why = f" [dim]— {escape(event.error)}[/]"
                self._print(f" {_MARK[event.status]} {escape(name)} [dim]{state.steps} steps, "
                            f"{event.duration:.2f} s[/]{why}")
            case RunFinished():
                self._stop()
                self._report(event)

    def _status(self, text: str) -> None:
        if self._spinner is not None:
            self._spinner.update(f"[{self._index}/{self._total}] {escape(text)}")

    def _stop(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def _report(self, event: RunFinished) -> None:
        for case, state in self._done:
            if case.status is Status.PASSED or not (state.findings or case.error):
                continue
            source = f" ({escape(case.case.source)})" if case.case.source else ""
            self.console.rule(f"{escape(case.case.name)}{source} {_WORD[case.status]}",
                              align="left")
            if case.error:
                self._print(f"  [red]{escape(case.error)}[/]")
            for seen in state.findings:
                self._finding(seen)
        counts = {s: sum(c.status is s for c, _ in self._done) for s in Status}
        parts = [f"{n} {s.value}" for s, n in counts.items() if n]
        if event.interrupted:
            parts.append("[red]interrupted[/]")
        self._print(f"\n{_WORD[event.status]}: {', '.join(parts) or 'nothing ran'} · "
                    f"{self._frames} frames · {event.duration:.2f} s · exit {event.exit_code}")

    def _finding(self, seen: _Seen) -> None:
        self._print("")
        finding_markup(seen.finding, seen.recent, self._print, context=self.context_frames)

    def close(self) -> None:
        """Stop the progress display (the run may have been interrupted)."""
        self._stop()
