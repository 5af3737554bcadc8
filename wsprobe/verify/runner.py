"""A verify run: the selected checks in turn, each on a fresh session, all in one event stream.

Before the first check a probe connects and registers: a refused handshake ends the run with exit
3 before anything else. After each check the probe runs again; when the server no longer accepts
a connection and a registration, that check is marked as the place where the server stopped
responding and every later check is reported as not run (never a cascade of time-outs).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from wsprobe.core import SchemaSet
from wsprobe.errors import UnreachableError, WsprobeError
from wsprobe.scenario.events import (
    CaseFinished,
    CaseRef,
    CaseStarted,
    Event,
    EventHandler,
    FindingReported,
    RunFinished,
    RunStarted,
    Status,
    status_of,
)
from wsprobe.scenario.findings import Finding, FindingCode, Severity
from wsprobe.scenario.runner import Emitter
from wsprobe.scenario.session import Session
from wsprobe.verify.config import VerifyConfig
from wsprobe.verify.context import CheckContext, RunState
from wsprobe.verify.liveness import probe, wait_until_up
from wsprobe.verify.registry import CheckSpec, Level, Needs
from wsprobe.verify.result import CheckResult, VerifyResult

__all__ = ["case_ref", "run_checks"]

_NEEDS = {
    Needs.ORIGINS: "needs --allowed-origin and --foreign-origin",
    Needs.TOKEN: "needs --token (a valid credential)",
    Needs.AGGRESSIVE: "needs --aggressive (a flood, an oversized frame)",
    Needs.IDLE: "needs --idle SECONDS (e.g. 35 for a server that pings every 30 s)",
}


def case_ref(spec: CheckSpec) -> CaseRef:
    """The event stream's name for a check: its name, rule id and plain words."""
    return CaseRef(spec.name, rule=spec.rule, description=f"{spec.level.value}: {spec.text}")


def _missing(spec: CheckSpec, config: VerifyConfig) -> str | None:
    have = {Needs.ORIGINS: config.allowed_origin is not None,
            Needs.TOKEN: config.token is not None, Needs.AGGRESSIVE: config.aggressive,
            Needs.IDLE: config.idle > 0}
    for need in sorted(spec.needs):
        if not have[need]:
            return f"skipped: {_NEEDS[need]}"
    return None


class _Run:
    def __init__(self, config: VerifyConfig, specs: Sequence[CheckSpec], schemas: SchemaSet,
                 emit: Callable[[Event], None], clock: Callable[[], float]) -> None:
        self.config = config
        self.specs = list(specs)
        self.emit = emit
        self.clock = clock
        prefix = f"w{config.seed % 100000:05d}"
        self.state = RunState(config, schemas, prefix, [])
        self._probes = 0

    def probe_user(self) -> str:
        self._probes += 1
        return f"{self.state.prefix}-probe{self._probes}"

    def skip(self, spec: CheckSpec, note: str) -> None:
        case = case_ref(spec)
        self.emit(CaseStarted(self.clock(), case))
        self.emit(CaseFinished(self.clock(), case, Status.SKIPPED, 0.0, (), note))
        self.state.results.append(CheckResult(
            spec.name, spec.rule, spec.level, spec.text, Status.SKIPPED, note=note,
            rerun=self.config.rerun(spec.name)))

    def adjust(self, spec: CheckSpec, finding: Finding) -> Finding:
        """Every finding of a check carries its rule; a SHOULD check only ever warns."""
        severity = Severity.WARNING if spec.level is Level.SHOULD else finding.severity
        return replace(finding, rule=finding.rule or spec.rule, severity=severity)

    async def run_one(self, spec: CheckSpec, index: int, deadline: float | None) -> CheckResult:
        config, case = self.config, case_ref(spec)
        self.emit(CaseStarted(self.clock(), case))
        started = time.monotonic()

        adjusted: dict[int, Finding] = {}  # the same object in the live event and the result

        def fix(finding: Finding) -> Finding:
            if id(finding) not in adjusted:
                adjusted[id(finding)] = self.adjust(spec, finding)
            return adjusted[id(finding)]

        def emit(event: Event) -> None:
            if isinstance(event, FindingReported):
                event = replace(event, finding=fix(event.finding))
            self.emit(event)

        session = Session(config.target, schemas=self.state.schemas, case=case, emit=emit,
                          step_timeout=config.timeout, open_timeout=max(config.timeout, 2.0),
                          close_timeout=min(config.timeout, 1.0), quiet_period=config.quiet,
                          check_received=False, clock=self.clock,
                          ssl_context=config.ssl_context())
        ctx = CheckContext(session, spec, self.state, prefix=f"{self.state.prefix}-{index:02d}")
        error: str | None = None
        timed_out = False
        limit = asyncio.timeout(None if deadline is None
                                else max(0.0, deadline - time.monotonic()))
        try:
            async with limit, session:
                await spec.func(ctx)
        except TimeoutError as exc:
            if not limit.expired():  # a time-out of the check's own making is a bug in it
                error = f"the check itself crashed: TimeoutError: {exc}"
            timed_out = limit.expired()
            if timed_out:
                session.report(Finding(
                    title=f"the run's time limit ({config.run_timeout:g} s) expired during "
                          "this check", code=FindingCode.RUN_TIMEOUT,
                    expected="the check to finish in time", actual="it was still waiting",
                    rule=spec.rule))
        except WsprobeError as exc:
            error = str(exc)
        except asyncio.CancelledError:  # interrupted: the check is in the report, as such
            self.emit(CaseFinished(self.clock(), case, Status.ERROR, time.monotonic() - started,
                                   tuple(fix(f) for f in session.findings), "interrupted"))
            raise
        except Exception as exc:  # a bug in a check (a plug-in's, say) is a tool error
            error = f"the check itself crashed: {type(exc).__name__}: {exc}"
        findings = [fix(f) for f in session.findings]
        status = Status.ERROR if error else status_of(findings)
        stopped = False
        if not timed_out:  # a few ms on loopback; names the check during which the server died
            try:
                seen = await probe(config, self.state.schemas, self.probe_user())
            except asyncio.CancelledError:
                self.emit(CaseFinished(self.clock(), case, status, time.monotonic() - started,
                                       tuple(findings), "interrupted"))
                raise
            alive = seen.connected and (seen.answered or not self.state.registration_answered)
            if not alive:
                stopped = True
                why = seen.refused or "it accepted the connection but did not answer " \
                                      "new-user-add"
                finding = Finding(  # a failure even in a SHOULD check: R3 is a MUST
                    title="the server stopped responding during this check",
                    code="server-stopped",
                    expected="the server to keep accepting connections and registrations (R3)",
                    actual=f"after this check a fresh connection + new-user-add failed: {why}",
                    rule=spec.rule, severity=Severity.FAILURE)
                findings.append(finding)
                self.emit(FindingReported(self.clock(), case, finding))
                status = Status.FAILED if status is not Status.ERROR else status
        duration = time.monotonic() - started
        self.emit(CaseFinished(self.clock(), case, status, duration, tuple(findings), error))
        return CheckResult(
            spec.name, spec.rule, spec.level, spec.text, status, tuple(findings),
            tuple(session.frames), duration, note=error, rerun=config.rerun(spec.name),
            server_stopped=stopped)


def _hint(status: int | None) -> str:
    """What to try when the first handshake fails."""
    return {401: " (the server wants credentials: --token, or --header 'Authorization: ...')",
            403: " (a refused Origin or missing credentials: --origin, --token, --header)",
            404: " (no WebSocket at this path: check the URL)"}.get(
        status or 0, " (is the server running? --wait-for SECONDS waits for it to start)"
        if status is None else "")


def _exit_code(results: Sequence[CheckResult], strict: bool) -> int:
    if any(r.status is Status.ERROR and not r.server_stopped for r in results):
        return 2
    if all(r.status is Status.SKIPPED for r in results):
        return 2  # nothing tested
    if any(r.status in {Status.FAILED, Status.ERROR} for r in results):
        return 1
    if strict and any(r.status is Status.WARNING for r in results):
        return 1
    return 0


def _overall(results: Sequence[CheckResult]) -> Status:
    present = {r.status for r in results}
    for status in (Status.ERROR, Status.FAILED, Status.WARNING, Status.PASSED):
        if status in present:
            return status
    return Status.SKIPPED


async def run_checks(config: VerifyConfig, specs: Sequence[CheckSpec], *, schemas: SchemaSet,
                     handlers: Iterable[EventHandler] = (),
                     clock: Callable[[], float] = time.time) -> VerifyResult:
    """Run ``specs`` against ``config.url``, emitting the event stream to ``handlers`` (closed
    at the end, also when interrupted: then ``CancelledError`` propagates)."""
    emitter = Emitter(handlers)
    run = _Run(config, specs, schemas, emitter, clock)
    started = time.monotonic()
    results = run.state.results
    shown = config.shown
    error: str | None = None
    try:
        emitter(RunStarted(clock(), shown, tuple(case_ref(s) for s in specs), "verify",
                           config.seed))
        try:
            first = await wait_until_up(config, schemas, run.probe_user())
            if not first.connected:
                error = f"cannot test {shown}: {first.refused}{_hint(first.status)}"
                for spec in specs:
                    run.skip(spec, f"not run: {error}")
            else:
                run.state.registration_answered = first.answered
                await _run_all(run, specs, started)
                if all(r.status is Status.SKIPPED for r in results):
                    error = "nothing tested: every selected check was skipped (see why above)"
        except asyncio.CancelledError:
            emitter(RunFinished(clock(), _overall(results), time.monotonic() - started, 130,
                                interrupted=True))
            raise
        code = (UnreachableError.exit_code if error and error.startswith("cannot test")
                else _exit_code(results, config.strict))
        result = VerifyResult(shown, tuple(results), _overall(results), code,
                              time.monotonic() - started, config.seed, error=error,
                              frames=sum(len(r.frames) for r in results))
        emitter(RunFinished(clock(), result.status, result.duration, result.exit_code))
        return result
    finally:
        emitter.close()


async def _run_all(run: _Run, specs: Sequence[CheckSpec], started: float) -> None:
    config, state = run.config, run.state
    deadline = started + config.run_timeout if config.run_timeout is not None else None
    for index, spec in enumerate(specs, 1):
        if state.stopped_at is not None:
            run.skip(spec, f"not run: the server stopped responding during {state.stopped_at}")
            continue
        if deadline is not None and time.monotonic() >= deadline:
            run.skip(spec, f"not run: the run's time limit ({config.run_timeout:g} s) expired")
            continue
        note = _missing(spec, config)
        if note is not None:
            run.skip(spec, note)
            continue
        result = await run.run_one(spec, index, deadline)
        state.results.append(result)
        if result.server_stopped:
            state.stopped_at = f"{spec.rule} {spec.name}"


def seed_or_random(seed: int | None) -> int:
    """``seed``, or a fresh one (printed with the run so it can be replayed)."""
    return seed if seed is not None else random.randrange(100000)
