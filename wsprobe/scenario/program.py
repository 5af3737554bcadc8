"""Play a loaded :class:`Scenario` on a :class:`Session`: one step after another, then teardown."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wsprobe.errors import InputError
from wsprobe.scenario.findings import Finding, FindingCode, Severity
from wsprobe.scenario.model import (
    Close,
    Connect,
    Drop,
    Every,
    Expect,
    ExpectClose,
    ExpectNone,
    Parallel,
    Reconnect,
    Scenario,
    Send,
    Step,
    Wait,
    WhereSpec,
)
from wsprobe.scenario.predicates import (
    MISSING,
    FieldTest,
    Predicate,
    PredicateError,
    lookup,
    split_path,
)
from wsprobe.scenario.session import Session, Socket, SocketState, StepFailed
from wsprobe.scenario.templates import TemplateContext, TemplateError

__all__ = ["PlayOptions", "play", "step_label"]


@dataclass(frozen=True, slots=True)
class PlayOptions:
    """How to play a scenario: heartbeat interval (``every`` without an interval), the whole-run
    time limit, the seed of generated values, and ``--var`` values (they win over the file's)."""

    heartbeat: float = 30.0
    run_timeout: float | None = None
    seed: int | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)


def _who(actor: str, socket: str | None) -> str:
    return f"{actor}/{socket}" if socket else actor


def _where_text(where: Sequence[WhereSpec]) -> str:
    def show(spec: WhereSpec) -> str:
        operand = json.dumps(spec.operand, ensure_ascii=False)
        return f"{spec.path} {spec.op} {operand}" if spec.op != "eq" else f"{spec.path}={operand}"
    return (" where " + ", ".join(map(show, where))) if where else ""


def step_label(step: Step) -> str:
    """A short human description of a step, as written (before templating)."""
    match step:
        case Connect():
            return f"connect {_who(step.actor, step.socket)}" + (
                " (expect refusal)" if step.expect_refused else "")
        case Close():
            return f"close {_who(step.actor, step.socket)} ({step.code})"
        case Drop():
            return f"drop {_who(step.actor, step.socket)}"
        case Reconnect():
            return f"reconnect {_who(step.actor, step.socket)}"
        case Send():
            what = (step.frame.get("type") if isinstance(step.frame, dict) else None) or "raw"
            return f"{_who(step.actor, step.socket)} sends {what}"
        case Expect():
            verb = "captures" if step.capture else "expects"
            many = f" x{step.count}" if step.count > 1 else ""
            return (f"{_who(step.actor, step.socket)} {verb} {step.type or 'a frame'}{many}"
                    f"{_where_text(step.where)}")
        case ExpectNone():
            return (f"{_who(step.actor, step.socket)} gets no {step.type or 'frame'}"
                    f"{_where_text(step.where)}")
        case ExpectClose():
            return f"{_who(step.actor, step.socket)} is closed by the server"
        case Wait():
            return f"wait {step.seconds:g} s"
        case Every():
            return f"every {'heartbeat' if step.interval is None else f'{step.interval:g} s'}"
        case Parallel():
            return f"parallel ({len(step.branches)} branches)"


class _Player:
    def __init__(self, scenario: Scenario, session: Session, options: PlayOptions) -> None:
        self.scenario = scenario
        self.session = session
        self.options = options
        variables = {**scenario.variables, **options.variables}
        try:
            self.ctx = TemplateContext(variables, seed=options.seed, clock=session.clock)
        except TemplateError as exc:
            raise InputError(f"{scenario.path}: vars: {exc}") from None
        self.background: list[asyncio.Task[None]] = []
        for name, spec in scenario.actors.items():
            actor = session.actor(name)
            for sock in spec.sockets:
                actor.socket(sock)

    def render(self, value: Any, step: Step) -> Any:
        try:
            return self.ctx.render(value)
        except TemplateError as exc:
            raise InputError(f"{step.loc}: {exc}") from None

    async def run(self) -> None:
        session = self.session
        limit = self.options.run_timeout or self.scenario.run_timeout
        try:
            async with asyncio.timeout(limit) as scope:
                try:
                    await self.steps(self.scenario.steps, "")
                except StepFailed:
                    pass
                finally:
                    await self.stop_background()
        except TimeoutError:
            if not scope.expired():
                raise
            at = session.last_started
            session.report(Finding(
                title=f"the scenario did not finish within its time limit of {limit:g} s",
                code=FindingCode.RUN_TIMEOUT, expected=f"all steps done within {limit:g} s",
                actual=f"still at step {at.index} ({at.label})" if at else "not started",
                step=f"step {at.index}: {at.label}" if at else None,
                location=at.location if at else None, actor=at.actor if at else None))
        if session.unreachable is not None or not self.scenario.teardown:
            return
        session.lenient = True
        for i, step in enumerate(self.scenario.teardown, 1):
            with contextlib.suppress(StepFailed):
                await self.step(step, f"teardown.{i}")

    async def stop_background(self) -> None:
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError, StepFailed):
                await task
        self.background.clear()

    async def steps(self, steps: Sequence[Step], prefix: str) -> None:
        for i, step in enumerate(steps, 1):
            await self.step(step, f"{prefix}{i}")

    async def step(self, step: Step, index: str) -> None:
        actor = getattr(step, "actor", None)
        async with self.session.step(step.kind, step_label(step), actor=actor,
                                     location=str(step.loc), index=index):
            await self._do(step, index)

    def sockets(self, actor: str, socket: str | None, *, open_only: bool = False
                ) -> list[Socket]:
        spec = self.scenario.actors[actor]
        names = [socket] if socket else list(spec.sockets)
        found = [self.session.actor(actor).socket(n) for n in names]
        return [s for s in found if s.state is SocketState.OPEN] if open_only else found

    async def _do(self, step: Step, index: str) -> None:
        session = self.session
        match step:
            case Connect():
                await self.connect(step)
            case Close():
                for sock in self.sockets(step.actor, step.socket):
                    await sock.close(step.code, step.reason)
            case Drop():
                for sock in self.sockets(step.actor, step.socket):
                    await sock.drop()
            case Reconnect():
                for sock in self.sockets(step.actor, step.socket):
                    await sock.reconnect(open_timeout=step.timeout)
            case Send():
                await self.send(step)
            case Expect():
                await self.expect(step)
            case ExpectNone():
                where = self.predicates(step, step.where)
                targets = self.targets(step.actor, step.socket)
                await session.expect_none(targets, step.type, where, within=step.within,
                                          severity=step.severity,
                                          fatal=step.severity is Severity.FAILURE)
            case ExpectClose():
                for sock in self.sockets(step.actor, step.socket):
                    await sock.expect_close(step.codes or None, timeout=step.timeout,
                                            severity=step.severity,
                                            fatal=step.severity is Severity.FAILURE)
            case Wait():
                await asyncio.sleep(step.seconds)
            case Every():
                if step.background:
                    self.background.append(asyncio.create_task(self.repeat(step, index)))
                else:
                    await self.repeat(step, index)
            case Parallel():
                await self.parallel(step, index)

    async def connect(self, step: Connect) -> None:
        spec = self.scenario.actors[step.actor]
        for sock in self.sockets(step.actor, step.socket):
            query = self.render({**spec.query, **(step.query or {})}, step)
            headers = self.render({**spec.headers, **(step.headers or {})}, step)
            url = self.render(step.url or spec.url, step)
            origin = self.render(step.origin or spec.origin, step)
            await sock.connect(
                str(url) if url else None, path=step.path or spec.path, query=query or None,
                headers={k: str(v) for k, v in headers.items()} or None,
                origin=str(origin) if origin else None,
                subprotocols=step.subprotocols if step.subprotocols is not None
                else spec.subprotocols,
                # a connect is a step: its handshake is bounded like any other step
                open_timeout=self.session.timeout_or_default(step.timeout),
                expect_refused=step.expect_refused)

    async def send(self, step: Send) -> None:
        if step.socket == "*":
            targets = self.sockets(step.actor, None, open_only=True)
            if not targets:
                raise InputError(f"{step.loc}: {step.actor} has no open socket to send on")
        else:
            targets = [self.sockets(step.actor, step.socket)[0]]
        for sock in targets:
            if step.raw is not None:
                await sock.send(str(self.render(step.raw, step)), check=False)
            else:
                await sock.send(self.render(step.frame, step), check=True)

    def targets(self, actor: str, socket: str | None) -> list[Socket]:
        if socket:
            return self.sockets(actor, socket)
        live = [s for s in self.sockets(actor, None)
                if s.state is SocketState.OPEN or s.closed_by == "server"]
        if not live:
            raise InputError(f"{actor} has no connected socket to expect on")
        return live

    def predicates(self, step: Step, where: Sequence[WhereSpec]) -> list[FieldTest]:
        out: list[FieldTest] = []
        for spec in where:
            try:
                out.append(Predicate.build(spec.path, spec.op, self.render(spec.operand, step)))
            except PredicateError as exc:
                raise InputError(f"{spec.loc}: bad predicate on {spec.path}: {exc}") from None
        return out

    async def expect(self, step: Expect) -> None:
        where = self.predicates(step, step.where)
        order = [self.predicates(step, w) for w in step.order] if step.order else None
        got = await self.session.expect(self.targets(step.actor, step.socket), step.type, where,
                                        timeout=step.timeout, count=step.count, mode=step.mode,
                                        order=order, severity=step.severity,
                                        fatal=step.severity is Severity.FAILURE)
        first = next((frames[0] for frames in got.values() if frames), None)
        if not step.capture or first is None:
            return
        for capture in step.capture:
            value = lookup(first.envelope, split_path(capture.path))
            if value is MISSING:
                raise StepFailed(self.session.report(Finding(
                    title=f"cannot capture {capture.name}: {capture.path} is missing from the "
                          f"{first.type} that {first.where} received",
                    code=FindingCode.CAPTURE, expected=f"{capture.path} present",
                    actual=first.text(), actor=first.actor, socket=first.socket,
                    frames=(first,))))
            self.ctx.set(capture.name, value)

    async def repeat(self, step: Every, index: str) -> None:
        interval = step.interval if step.interval is not None else self.options.heartbeat
        n = 0
        while step.times is None or n < step.times:
            if n:
                await asyncio.sleep(interval)
            n += 1
            await self.steps(step.steps, f"{index}.{n}.")

    async def parallel(self, step: Parallel, index: str) -> None:
        results = await asyncio.gather(
            *(self.steps(branch, f"{index}.{b}.") for b, branch in enumerate(step.branches, 1)),
            return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for exc in failures:
            if not isinstance(exc, StepFailed):
                raise exc
        if failures:
            raise failures[0]


async def play(scenario: Scenario, session: Session, options: PlayOptions) -> None:
    """Run the scenario's steps and teardown on ``session``; findings land on the session."""
    await _Player(scenario, session, options).run()
