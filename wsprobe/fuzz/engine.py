"""The fuzz run: groups one after the other, fixed cases first, then hypothesis, then shrinking.

Generation and shrinking are hypothesis's own: each group's strategy runs under ``@given`` with a
test function that runs the case against the server and raises when it makes a new *failure*
(the server stopped, stalled, failed with 1011, closed another socket...). Hypothesis then shrinks
it by running smaller cases against the server, restarting a managed server after each crash.
Warnings (silent drops, odd close codes) are counted, their smallest case kept, never shrunk.

Budgets: ``max_cases`` cases are shared by the groups in proportion to their weight; generation
ends at ``max_time`` seconds (but every group runs at least one case); shrinking takes
``shrink_time`` seconds at most, in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from wsprobe.core import Direction as Dir
from wsprobe.core import SchemaSet
from wsprobe.fuzz.cases import Expect, FuzzCase, dumps_case
from wsprobe.fuzz.groups import Group
from wsprobe.fuzz.probe import Prober
from wsprobe.fuzz.shrink import shrink
from wsprobe.fuzz.target import Target
from wsprobe.fuzz.verdict import CanaryState, judge
from wsprobe.scenario.events import (
    CaseFinished,
    CaseRef,
    CaseStarted,
    Event,
    FindingReported,
    FrameSeen,
    RunFinished,
    RunStarted,
    Status,
    StepFinished,
    StepRef,
    StepStarted,
    status_of,
)
from wsprobe.scenario.findings import Finding, Severity
from wsprobe.scenario.frames import ActorName, FrameRecord, SocketName

__all__ = ["Budget", "FuzzFinding", "FuzzResult", "Fuzzer"]

Emit = Callable[[Event], None]


class _Stop(BaseException):
    """The budget is spent (a BaseException, so hypothesis lets it through at once)."""


class _TargetGone(BaseException):
    """The server is down and does not come back: the run cannot go on."""


class _Found(Exception):
    """A new failure: hypothesis stops generating this group and shrinks the case."""


@dataclass(frozen=True, slots=True)
class Budget:
    """How much a run may do: cases generated, seconds generating, seconds shrinking."""

    max_cases: int = 2000
    max_time: float = 180.0
    shrink_time: float = 60.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class FuzzFinding:
    """A finding with its smallest case, how often it was seen, and its replay file."""

    finding: Finding
    case: FuzzCase
    count: int
    shrunk: bool
    replay: Path | None = None


@dataclass(frozen=True, slots=True)
class FuzzResult:
    """What a run did and found."""

    cases: int
    shrink_runs: int
    duration: float
    findings: tuple[FuzzFinding, ...]
    interrupted: bool = False
    stopped: str | None = None  # why the run ended early (the server is gone)

    @property
    def failed(self) -> bool:
        """A MUST failure was found."""
        return any(f.finding.severity is Severity.FAILURE for f in self.findings)


@dataclass
class _GroupState:
    group: Group
    best: dict[str, tuple[Finding, FuzzCase]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    shrunk: set[str] = field(default_factory=set)
    generated: int = 0


def _never() -> Any:
    raise AssertionError("a replay draws no cases")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def _evidence(case: FuzzCase, schemas: SchemaSet) -> tuple[FrameRecord, ...]:
    """The case's first frames as records (checked against the schemas), for reports."""
    records = []
    now = time.time()
    for i, frame in enumerate(case.frames[:3]):
        raw: str | bytes = frame.payload
        if frame.opcode == 1:
            with contextlib.suppress(UnicodeDecodeError):
                raw = frame.payload.decode("utf-8")
        records.append(FrameRecord(i, now, ActorName("fuzz"), SocketName("case"),
                                   schemas.check(raw, Dir.CLIENT, now)))
    return tuple(records)


class Fuzzer:
    """One fuzz run against one target; the CLI builds it, calls :meth:`run` once, closes it."""

    def __init__(self, *, target: Target, prober: Prober, schemas: SchemaSet,
                 groups: Sequence[Group], budget: Budget, emit: Emit,
                 findings_dir: Path | None, answer_timeout: float) -> None:
        self.target = target
        self.prober = prober
        self.schemas = schemas
        self.groups = list(groups)
        self.budget = budget
        self.emit = emit
        self.findings_dir = findings_dir
        self.answer_timeout = answer_timeout
        self.loop = asyncio.new_event_loop()
        self.cases = 0
        self.shrink_runs = 0
        self._shrinking = False
        self._shrink_left = budget.shrink_time
        self._gone: str | None = None

    def start(self) -> None:
        """Start a managed server and open the observer (raises UnreachableError)."""
        self.loop.run_until_complete(self.target.start())
        self.loop.run_until_complete(self.prober.start())

    # -- one case ---------------------------------------------------------------------------

    def execute(self, case: FuzzCase, state: _GroupState | None = None) -> tuple[Finding, ...]:
        """Run one case and its canary; record its findings; restart a server it crashed."""
        if self._shrinking:
            self.shrink_runs += 1
        else:
            self.cases += 1
        obs = self.loop.run_until_complete(self.prober.run(case))
        findings = judge(obs, self.answer_timeout)
        down = obs.canary.state is not CanaryState.OK or obs.connect_error is not None
        if down and not self.loop.run_until_complete(self._recover()):
            self._gone = (f"the server at {self.target.url} is down and did not come back; "
                          "the run stopped")
            if state is not None:
                self._record(state, findings, case)
            raise _TargetGone
        if down:
            baseline = self.loop.run_until_complete(self.prober.baseline())
            if baseline.state is not CanaryState.OK:
                self._gone = ("after a restart or recovery the server fails the canary even with "
                              f"no fuzz input ({baseline.detail}); the run stopped")
                if state is not None:
                    self._record(state, findings, case)
                raise _TargetGone
        if state is not None:
            self._record(state, findings, case)
        return findings

    async def _recover(self) -> bool:
        if not await self.target.recover():
            return False
        try:
            await self.prober.open_observer()
        except (OSError, TimeoutError, Exception):
            return False
        return True

    def _record(self, state: _GroupState, findings: tuple[Finding, ...], case: FuzzCase) -> None:
        for finding in findings:
            code = finding.code
            state.counts[code] = state.counts.get(code, 0) + 1
            best = state.best.get(code)
            if best is None or case.size() <= best[1].size():
                state.best[code] = (finding, case)

    # -- a group ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _step(self, ref: CaseRef, index: str, kind: str, label: Callable[[], str]
              ) -> Iterator[None]:
        """A phase of a group as a step of the event stream (its label counts what it did)."""
        began = time.monotonic()
        self.emit(StepStarted(time.time(), ref, StepRef(index, kind, kind)))
        status = Status.ERROR
        try:
            yield
            status = Status.PASSED
        finally:
            self.emit(StepFinished(time.time(), ref, StepRef(index, kind, label()), status,
                                   time.monotonic() - began))

    def _run_group(self, state: _GroupState, ref: CaseRef, cases: int,
                   gen_deadline: float) -> None:
        group = state.group
        fixed = list(group.coverage[: max(1, cases // 2)]) if group.coverage else []
        ran = [0, self.shrink_runs]
        if fixed:
            with self._step(ref, "1", "fixed cases",
                            lambda: f"{ran[0]} fixed cases, {self.shrink_runs - ran[1]} "
                                    "shrinking runs"):
                for i, case in enumerate(fixed):
                    if i and time.monotonic() > gen_deadline:  # every group runs its first case
                        return
                    self.execute(case, state)
                    ran[0] += 1
                for finding, _ in list(state.best.values()):
                    if finding.severity is Severity.FAILURE and finding.code not in state.shrunk:
                        self._polish(state, finding.code)
        shrinks = self.shrink_runs
        with self._step(ref, "2", "generated cases",
                        lambda: f"{state.generated} generated cases, "
                                f"{self.shrink_runs - shrinks} shrinking runs"):
            self._generate(state, cases - len(fixed), gen_deadline, bool(fixed))

    def _generate(self, state: _GroupState, remaining: int, gen_deadline: float,
                  fixed: bool) -> None:
        attempt = 0
        while remaining > 0 and (time.monotonic() < gen_deadline
                                 or (not state.generated and not fixed)):
            before = state.generated
            found = self._explore(state, remaining, gen_deadline,
                                  self.budget.seed + attempt)
            remaining -= max(1, state.generated - before)
            attempt += 1
            if found is None:
                return
            self._polish(state, found)

    def _polish(self, state: _GroupState, code: str) -> None:
        """Shrink the smallest case of ``code`` further by its structure (see shrink.py)."""
        state.shrunk.add(code)
        began = time.monotonic()
        deadline = began + self._shrink_left
        start = state.best[code][1]

        def still_fails(case: FuzzCase) -> bool:
            return any(f.code == code for f in self.execute(case, state))

        self._shrinking = True
        try:
            shrink(start, still_fails, schemas=self.schemas, spec=state.group.spec,
                   deadline=deadline)
        finally:
            self._shrinking = False
            self._shrink_left -= time.monotonic() - began

    def _explore(self, state: _GroupState, examples: int, gen_deadline: float,
                 seed: int) -> str | None:
        fixed = bool(state.group.coverage)
        target_code: list[str] = []
        shrink_began: list[float] = []

        def check(case: FuzzCase) -> None:
            now = time.monotonic()
            if target_code and not shrink_began:
                shrink_began.append(now)
            if (shrink_began and now > shrink_began[0] + self._shrink_left) or (
                    not target_code and now > gen_deadline and (state.generated or fixed)):
                raise _Stop
            self._shrinking = bool(target_code)
            if not target_code:
                state.generated += 1
            findings = self.execute(case, state)
            for finding in findings:
                if finding.severity is not Severity.FAILURE:
                    continue
                if not target_code and finding.code not in state.shrunk:
                    target_code.append(finding.code)
                if target_code and finding.code == target_code[0]:
                    raise _Found(finding.code)

        test = settings(
            database=None, deadline=None, max_examples=max(1, examples),
            phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False,
            suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
            print_blob=False,
        )(given(state.group.strategy())(check))
        try:
            hypothesis_seed(seed)(test)()
        except _Stop:
            pass
        except Exception:  # _Found after shrinking, or hypothesis's Flaky
            if not target_code:
                raise
        finally:
            self._shrinking = False
            if shrink_began:
                self._shrink_left -= time.monotonic() - shrink_began[0]
        if target_code:
            return target_code[0]
        return None

    # -- the run ----------------------------------------------------------------------------

    def _shares(self) -> list[int]:
        total = sum(g.weight for g in self.groups) or 1
        shares = [max(1, self.budget.max_cases * g.weight // total) for g in self.groups]
        for i in range(max(0, self.budget.max_cases - sum(shares))):  # the rounding's remainder
            shares[i % len(shares)] += 1
        return shares

    def run(self, target_label: str) -> FuzzResult:
        """Fuzz every group within the budget; emit the event stream; return the findings."""
        started = time.monotonic()
        wall = time.time()
        refs = [CaseRef(g.name, rule="R1", description=g.description) for g in self.groups]
        self.emit(RunStarted(wall, target_label, tuple(refs), tool="fuzz", seed=self.budget.seed))
        gen_end = started + self.budget.max_time
        results: list[FuzzFinding] = []
        interrupted = False
        shares = self._shares()
        finished = 0
        baseline = self.loop.run_until_complete(self.prober.baseline())
        if baseline.state is not CanaryState.OK:
            results.append(self._report_baseline(baseline.detail))
            self._gone = "the server fails the canary before any fuzz case; nothing was fuzzed"
        try:
            for index, (group, ref) in enumerate(zip(self.groups, refs, strict=True)):
                if self._gone:
                    break
                now = time.monotonic()
                left_groups = sum(g.weight for g in self.groups[index:])
                gen_deadline = now + (gen_end - now) * group.weight / max(1, left_groups)
                state = _GroupState(group)
                self.emit(CaseStarted(time.time(), ref))
                t0 = time.monotonic()
                try:
                    if not self._gone:
                        self._run_group(state, ref, shares[index], gen_deadline)
                finally:
                    results += self._finish_group(state, ref, t0)
                    finished += 1
        except _TargetGone:
            pass
        except KeyboardInterrupt:
            interrupted = True
        for ref in refs[finished:]:
            self.emit(CaseStarted(time.time(), ref))
            self.emit(CaseFinished(time.time(), ref, Status.SKIPPED, 0.0,
                                   error=self._gone or ("interrupted" if interrupted else None)))
        duration = time.monotonic() - started
        result = FuzzResult(self.cases, self.shrink_runs, duration, tuple(results), interrupted,
                            self._gone)
        code = 130 if interrupted else (1 if result.failed else 0)
        status = status_of(f.finding for f in results)
        self.emit(RunFinished(time.time(), status, duration, code, interrupted=interrupted))
        return result

    def _report_baseline(self, detail: str) -> FuzzFinding:
        ref = CaseRef("baseline", rule="R3", description="the canary with no fuzz input")
        finding = Finding(title="the server fails the canary before any fuzz case",
                          code="baseline", expected="a fresh client registers and delivers a "
                          "message to another client within the time limit", actual=detail,
                          severity=Severity.FAILURE, rule="R3", step="baseline", actor="fuzz")
        self.emit(CaseStarted(time.time(), ref))
        self.emit(FindingReported(time.time(), ref, finding))
        self.emit(CaseFinished(time.time(), ref, Status.FAILED, 0.0, (finding,)))
        empty = FuzzCase("baseline", (), Expect.VALID, label="no input")
        return FuzzFinding(finding, empty, 1, True)

    def _finish_group(self, state: _GroupState, ref: CaseRef, t0: float) -> list[FuzzFinding]:
        out: list[FuzzFinding] = []
        for code, (finding, case) in sorted(state.best.items(),
                                            key=lambda kv: (kv[1][0].severity.value, kv[0])):
            replay = self._save(case, finding, state.counts[code])
            count = state.counts[code]
            shrunk = code in state.shrunk or not case.label.startswith("generated")
            title = finding.title + (f" (seen {count} times)" if count > 1 else "")
            detail = f"{finding.actual}\ncase ({case.label}):\n{case.describe()}"
            if replay is not None:
                detail += f"\nreplay: wsprobe fuzz --replay {replay}"
            reported = replace(finding, title=title, actual=detail,
                               frames=_evidence(case, self.schemas),
                               location=str(replay) if replay else None)
            for record in reported.frames:
                self.emit(FrameSeen(ref, record))
            self.emit(FindingReported(time.time(), ref, reported))
            out.append(FuzzFinding(reported, case, count, shrunk, replay))
        findings = tuple(f.finding for f in out)
        status = status_of(findings)
        if self._gone and not findings:
            status = Status.ERROR
        self.emit(CaseFinished(time.time(), ref, status, time.monotonic() - t0, findings,
                               error=self._gone))
        return out

    def replay(self, case: FuzzCase, source: str) -> FuzzResult:
        """Run one saved case (and its canary) and report what it shows now."""
        started = time.monotonic()
        ref = CaseRef(f"replay {case.group}: {case.label}", source=source, rule="R1")
        self.emit(RunStarted(time.time(), self.target.url, (ref,), tool="fuzz --replay"))
        self.emit(CaseStarted(time.time(), ref))
        state = _GroupState(Group(case.group, "", 1, (), _never))
        interrupted = False
        try:
            self.execute(case, state)
        except _TargetGone:
            pass
        except KeyboardInterrupt:
            interrupted = True
        state.shrunk.update(state.best)
        saved, self.findings_dir = self.findings_dir, None
        try:
            results = self._finish_group(state, ref, started)
        finally:
            self.findings_dir = saved
        duration = time.monotonic() - started
        result = FuzzResult(self.cases, 0, duration, tuple(results), interrupted, self._gone)
        code = 130 if interrupted else (1 if result.failed else 0)
        self.emit(RunFinished(time.time(), status_of(f.finding for f in results), duration,
                              code, interrupted=interrupted))
        return result

    def _save(self, case: FuzzCase, finding: Finding, count: int) -> Path | None:
        if self.findings_dir is None:
            return None
        self.findings_dir.mkdir(parents=True, exist_ok=True)
        path = self.findings_dir / f"{_slug(case.group)}--{_slug(finding.code)}.json"
        info = {"code": finding.code, "title": finding.title, "severity": finding.severity.value,
                "rule": finding.rule, "expected": finding.expected, "actual": finding.actual,
                "count": count}
        path.write_text(dumps_case(case, finding=info, seed=self.budget.seed,
                                   target=self.target.url), encoding="utf-8")
        return path

    def close(self) -> None:
        """Close the observer, stop a managed server, close the event loop."""
        try:
            self.loop.run_until_complete(self.prober.stop())
        finally:
            self.target.close()
            self.loop.close()
