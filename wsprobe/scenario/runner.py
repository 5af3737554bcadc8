"""Runs of cases: each case a body played on its own :class:`Session`, all emitting one stream.

``run_scenarios`` plays scenario files; ``run_cases`` is the general form ``wsprobe verify``
builds on (a case is any ``async def body(session)``). Results are values; exit codes follow
the project's table: 0 passed, 1 a finding, 2 bad input, 3 unreachable, 130 interrupted.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsprobe.core import SchemaSet, load_schemas
from wsprobe.errors import UnreachableError, WsprobeError
from wsprobe.scenario.events import (
    CaseFinished,
    CaseRef,
    CaseStarted,
    Event,
    EventHandler,
    RunFinished,
    RunStarted,
    Status,
    status_of,
)
from wsprobe.scenario.findings import Finding, Severity
from wsprobe.scenario.frames import FrameRecord
from wsprobe.scenario.loader import load_scenario
from wsprobe.scenario.model import Scenario
from wsprobe.scenario.program import PlayOptions, play
from wsprobe.scenario.session import Session

__all__ = [
    "CaseBody",
    "CaseResult",
    "Emitter",
    "RunResult",
    "SessionOptions",
    "exit_code_of",
    "run_case",
    "run_cases",
    "run_scenario",
    "run_scenarios",
    "run_scenarios_async",
]

CaseBody = Callable[[Session], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """Time limits and checks of every session of a run."""

    step_timeout: float = 5.0
    open_timeout: float = 5.0
    close_timeout: float = 2.0
    quiet_period: float = 0.5
    check_received: bool = True
    ssl_context: ssl.SSLContext | None = None  # for wss:// (a private CA, or no checking)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one case (a scenario or a check): status, findings, every frame."""

    case: CaseRef
    status: Status
    findings: tuple[Finding, ...]
    frames: tuple[FrameRecord, ...]
    duration: float
    error: str | None = None
    unreachable: bool = False

    @property
    def passed(self) -> bool:
        """No failure (warnings allowed) and no error."""
        return self.status in {Status.PASSED, Status.WARNING}

    @property
    def failures(self) -> tuple[Finding, ...]:
        """The findings of severity ``failure``."""
        return tuple(f for f in self.findings if f.severity is Severity.FAILURE)


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every case of a run, the overall status and the exit code it maps to."""

    cases: tuple[CaseResult, ...]
    status: Status
    exit_code: int
    duration: float
    interrupted: bool = False

    @property
    def passed(self) -> bool:
        """Exit code 0."""
        return self.exit_code == 0

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of every case."""
        return tuple(f for c in self.cases for f in c.findings)


class Emitter:
    """Fans events out to handlers, in order; :meth:`close` closes them all."""

    def __init__(self, handlers: Iterable[EventHandler] = ()) -> None:
        self.handlers = list(handlers)

    def __call__(self, event: Event) -> None:
        for handler in self.handlers:
            handler.handle(event)

    def close(self) -> None:
        """Close every handler (each writes what it recorded)."""
        for handler in self.handlers:
            handler.close()


def exit_code_of(cases: Sequence[CaseResult], *, fail_on_warning: bool = False) -> int:
    """2 bad input, else 3 unreachable, else 1 a failure (or a warning if asked), else 0."""
    if any(c.status is Status.ERROR and not c.unreachable for c in cases):
        return 2
    if any(c.unreachable for c in cases):
        return UnreachableError.exit_code
    if any(c.status is Status.FAILED for c in cases):
        return 1
    if fail_on_warning and any(c.status is Status.WARNING for c in cases):
        return 1
    return 0


def _overall(cases: Sequence[CaseResult]) -> Status:
    order = [Status.ERROR, Status.FAILED, Status.WARNING, Status.PASSED]
    present = {c.status for c in cases}
    return next((s for s in order if s in present), Status.SKIPPED)


async def run_case(case: CaseRef, body: CaseBody, *, url: str, schemas: SchemaSet,
                   emit: Callable[[Event], None], options: SessionOptions = SessionOptions(),
                   clock: Callable[[], float] = time.time) -> CaseResult:
    """Run one case on a fresh session; tool and input errors become an ``error`` status."""
    emit(CaseStarted(clock(), case))
    started = time.monotonic()
    session = Session(url, schemas=schemas, case=case, emit=emit,
                      step_timeout=options.step_timeout, open_timeout=options.open_timeout,
                      close_timeout=options.close_timeout, quiet_period=options.quiet_period,
                      check_received=options.check_received, clock=clock,
                      ssl_context=options.ssl_context)
    error: str | None = None
    try:
        async with session:
            await body(session)
    except WsprobeError as exc:
        error = str(exc)
    except asyncio.CancelledError:
        result = _result(case, session, started, "interrupted")
        emit(CaseFinished(clock(), case, result.status, result.duration, result.findings,
                          result.error))
        raise
    result = _result(case, session, started, error)
    emit(CaseFinished(clock(), case, result.status, result.duration, result.findings,
                      result.error))
    return result


def _result(case: CaseRef, session: Session, started: float, error: str | None) -> CaseResult:
    unreachable = session.unreachable is not None and error is None
    if unreachable and session.unreachable is not None:
        error = f"target unreachable: {session.unreachable.actual}"
    status = Status.ERROR if error else status_of(session.findings)
    return CaseResult(case=case, status=status, findings=tuple(session.findings),
                      frames=tuple(session.frames), duration=time.monotonic() - started,
                      error=error, unreachable=unreachable)


async def run_cases(cases: Sequence[tuple[CaseRef, CaseBody]], *, url: str,
                    handlers: Iterable[EventHandler] = (), schemas: SchemaSet | None = None,
                    options: SessionOptions = SessionOptions(), tool: str = "run",
                    seed: int | None = None, fail_on_warning: bool = False,
                    stop_when_unreachable: bool = True) -> RunResult:
    """Run cases one after another, emitting the whole event stream; handlers are closed at
    the end, also when the run is interrupted (then ``CancelledError`` propagates)."""
    emitter = Emitter(handlers)
    clock = time.time
    schemas = schemas if schemas is not None else load_schemas()
    started = time.monotonic()
    results: list[CaseResult] = []
    try:
        emitter(RunStarted(clock(), url, tuple(c for c, _ in cases), tool, seed))
        try:
            for case, body in cases:
                result = await run_case(case, body, url=url, schemas=schemas, emit=emitter,
                                        options=options, clock=clock)
                results.append(result)
                if result.unreachable and stop_when_unreachable:
                    break
        except asyncio.CancelledError:
            emitter(RunFinished(clock(), _overall(results), time.monotonic() - started, 130,
                                interrupted=True))
            raise
        code = exit_code_of(results, fail_on_warning=fail_on_warning)
        run = RunResult(tuple(results), _overall(results), code, time.monotonic() - started)
        emitter(RunFinished(clock(), run.status, run.duration, run.exit_code))
        return run
    finally:
        emitter.close()


def _scenario_case(scenario: Scenario, play_options: PlayOptions, step_timeout: float | None
                   ) -> tuple[CaseRef, CaseBody]:
    async def body(session: Session) -> None:
        # the caller's limit, else the file's ``timeouts.step``, else the session's default
        limit = step_timeout if step_timeout is not None else scenario.step_timeout
        if limit is not None:
            session.step_timeout = limit
        await play(scenario, session, play_options)

    return CaseRef(scenario.name, source=scenario.path, description=scenario.description), body


def _load_all(scenarios: Sequence[Scenario | Path | str], schemas: SchemaSet,
              variables: Mapping[str, Any]) -> list[Scenario]:
    return [s if isinstance(s, Scenario) else load_scenario(s, schemas=schemas,
                                                            variables=variables)
            for s in scenarios]


async def run_scenarios_async(
    scenarios: Sequence[Scenario | Path | str], url: str, *,
    handlers: Iterable[EventHandler] = (), schemas: SchemaSet | None = None,
    variables: Mapping[str, Any] | None = None, heartbeat: float = 30.0,
    step_timeout: float | None = None, run_timeout: float | None = None,
    seed: int | None = None, session_options: SessionOptions | None = None,
) -> RunResult:
    """Load every scenario (all are checked before anything is sent), then play them in turn.

    ``step_timeout`` and ``run_timeout`` win over a file's ``timeouts``; without either the
    step limit is ``session_options.step_timeout`` (5 s) and a run has no limit."""
    schemas = schemas if schemas is not None else load_schemas()
    variables = dict(variables or {})
    loaded = _load_all(scenarios, schemas, variables)
    play_options = PlayOptions(heartbeat=heartbeat, run_timeout=run_timeout, seed=seed,
                               variables=variables)
    options = session_options or SessionOptions()
    return await run_cases([_scenario_case(s, play_options, step_timeout) for s in loaded],
                           url=url,
                           handlers=handlers, schemas=schemas, options=options, seed=seed)


def run_scenarios(scenarios: Sequence[Scenario | Path | str], url: str, **options: Any
                  ) -> RunResult:
    """Blocking form of :func:`run_scenarios_async` (runs its own event loop)."""
    return asyncio.run(run_scenarios_async(scenarios, url, **options))


def run_scenario(scenario: Scenario | Path | str, url: str, **options: Any) -> CaseResult:
    """Play one scenario against ``url``; returns its result with its findings.

    Bad input raises :class:`~wsprobe.errors.InputError`; an unreachable target gives a
    result with ``unreachable`` set and status ``error``."""
    return run_scenarios([scenario], url, **options).cases[0]

