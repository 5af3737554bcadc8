"""A session: named actors with real sockets, one queue of received frames per socket.

The programmatic face of the scenario engine; YAML scenarios and ``wsprobe verify`` checks are
both written against it::

    async with Session(url, schemas=schemas, emit=handler.handle) as session:
        alice, bob = session.actor("alice"), session.actor("bob")
        a = await alice.connect()
        await a.send({"type": "new-user-add", "userId": "alice"})
        await a.expect("get-users", where={"data": {"contains": "alice"}})
        await bob.expect_none("receive-message", within=0.3)

Every frame sent or received is validated and becomes a :class:`FrameRecord` event. An expectation
that fails becomes a :class:`Finding` (recorded on the session and emitted); a *fatal* one then
raises :class:`StepFailed`, which the session's ``async with`` swallows, so a check simply stops.
A server that closes, stalls or refuses gives a finding at the step where it happened, never a
hang: every wait has a time limit. Mistakes in the script itself raise :class:`InputError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any

from wsprobe.core import Direction, SchemaSet, load_schemas
from wsprobe.errors import InputError
from wsprobe.scenario.events import (
    CaseRef,
    Event,
    FindingReported,
    FrameSeen,
    Status,
    StepFinished,
    StepRef,
    StepStarted,
    status_of,
)
from wsprobe.scenario.findings import Finding, FindingCode, Severity
from wsprobe.scenario.frames import ActorName, FrameRecord, SocketName
from wsprobe.scenario.matching import Matcher, Mode, Where, describe_miss
from wsprobe.scenario.socket import Refusal, Socket, SocketState, StepFailed

__all__ = ["Actor", "Mode", "Refusal", "Session", "Socket", "SocketState", "StepFailed", "Where"]

_current_step: contextvars.ContextVar[StepRef | None] = contextvars.ContextVar(
    "wsprobe_step", default=None)


class Actor:
    """A named participant (one user) with one or more sockets."""

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.name = ActorName(name)
        self.sockets: dict[str, Socket] = {}

    def __repr__(self) -> str:
        return f"<Actor {self.name} {list(self.sockets)}>"

    def socket(self, name: str = "main") -> Socket:
        """The socket called ``name`` (created, unconnected, on first use)."""
        if name not in self.sockets:
            self.sockets[name] = Socket(self, name)
        return self.sockets[name]

    def open_sockets(self) -> list[Socket]:
        """The sockets that are open now, in the order they were first named."""
        return [s for s in self.sockets.values() if s.state is SocketState.OPEN]

    async def connect(self, socket: str = "main", url: str | None = None,
                      **options: Any) -> Socket:
        """Connect the socket ``socket`` (see :meth:`Socket.connect`) and return it."""
        sock = self.socket(socket)
        await sock.connect(url, **options)
        return sock

    def _targets(self, verb: str) -> list[Socket]:
        if not self.sockets or all(s.state is SocketState.NEW for s in self.sockets.values()):
            raise InputError(f"{self.name} cannot {verb}: none of its sockets is connected")
        live = [s for s in self.sockets.values()
                if s.state is SocketState.OPEN or s.closed_by == "server"]
        if not live:
            raise InputError(f"{self.name} cannot {verb}: all its sockets were closed "
                             "by the scenario")
        return live

    async def expect(self, type: str | None, where: Where = (), *, timeout: float | None = None,
                     count: int = 1, mode: Mode = "every", fatal: bool = True,
                     severity: Severity = Severity.FAILURE, title: str | None = None,
                     order: Sequence[Where] | None = None
                     ) -> dict[SocketName, tuple[FrameRecord, ...]]:
        """``every`` socket (or ``any`` one) of the actor gets ``count`` matching frames."""
        return await self.session.expect(self._targets("expect"), type, where, timeout=timeout,
                                         count=count, mode=mode, fatal=fatal, severity=severity,
                                         title=title, order=order)

    async def expect_none(self, type: str | None, where: Where = (), *,
                          within: float | None = None, fatal: bool = True,
                          severity: Severity = Severity.FAILURE, title: str | None = None
                          ) -> bool:
        """No socket of the actor gets a matching frame for ``within`` seconds."""
        return await self.session.expect_none(self._targets("expect"), type, where,
                                              within=within, fatal=fatal, severity=severity,
                                              title=title)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close every socket of the actor."""
        for sock in list(self.sockets.values()):
            await sock.close(code, reason)

    async def drop(self) -> None:
        """Drop every open socket of the actor (a network cut)."""
        for sock in self.open_sockets():
            await sock.drop()


class Session:
    """Actors, their sockets, the frames and the findings of one case (a scenario or a check)."""

    def __init__(
        self, url: str, *, schemas: SchemaSet | None = None, case: CaseRef | None = None,
        emit: Callable[[Event], None] | None = None, step_timeout: float = 5.0,
        open_timeout: float = 5.0, close_timeout: float = 2.0, quiet_period: float = 0.5,
        check_received: bool = True, check_sent: bool = False, max_size: int | None = 2**24,
        clock: Callable[[], float] = time.time, ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.ssl_context = ssl_context  # for wss:// (a test CA, or no verification)
        self.schemas = schemas if schemas is not None else load_schemas()
        self.case = case or CaseRef("session")
        self.step_timeout = step_timeout
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.quiet_period = quiet_period
        self.check_received = check_received
        self.check_sent = check_sent
        self.max_size = max_size
        self.clock = clock
        self.actors: dict[str, Actor] = {}
        self.findings: list[Finding] = []
        self.frames: list[FrameRecord] = []
        self.connected_once = False
        self.unreachable: Finding | None = None
        self.lenient = False
        self.cond = asyncio.Condition()
        self._emit = emit or (lambda event: None)
        self._seq = itertools.count(1)
        self._steps = itertools.count(1)
        self._last_step: StepRef | None = None
        self.last_started: StepRef | None = None  # kept when a time limit cancels the step
        self._step_findings: dict[int, list[Finding]] = {}

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool:
        await self.shutdown()
        return exc_type is not None and issubclass(exc_type, StepFailed)

    def actor(self, name: str) -> Actor:
        """The actor called ``name`` (created on first use)."""
        if name not in self.actors:
            self.actors[name] = Actor(self, name)
        return self.actors[name]

    def sockets(self) -> list[Socket]:
        """Every socket of every actor."""
        return [s for a in self.actors.values() for s in a.sockets.values()]

    # -- steps, findings, frames --------------------------------------------------------------

    def current_step(self) -> StepRef | None:
        """The step running in this task, or the last one started."""
        return _current_step.get() or self._last_step

    def current_step_label(self) -> str | None:
        """``step 4``: names the current step in messages."""
        step = self.current_step()
        return f"step {step.index}" if step else None

    @contextlib.asynccontextmanager
    async def step(self, kind: str, label: str, *, actor: str | None = None,
                   location: str | None = None, index: str | None = None
                   ) -> AsyncIterator[StepRef]:
        """Run a block as one step: emits step started/finished, attributes findings to it."""
        ref = StepRef(index or str(next(self._steps)), kind, label, actor, location)
        token = _current_step.set(ref)
        self._last_step = self.last_started = ref
        mine: list[Finding] = []
        self._step_findings[id(ref)] = mine
        started = time.monotonic()
        self._emit(StepStarted(self.clock(), self.case, ref))
        status = Status.PASSED
        try:
            yield ref
        except StepFailed:
            status = Status.FAILED
            raise
        except BaseException:
            status = Status.ERROR
            raise
        finally:
            _current_step.reset(token)
            self._last_step = _current_step.get()
            del self._step_findings[id(ref)]
            if status is Status.PASSED:
                status = status_of(mine)
            self._emit(StepFinished(self.clock(), self.case, ref, status,
                                    time.monotonic() - started))

    def op_step(self, kind: str, label: str, actor: str | None
                ) -> contextlib.AbstractAsyncContextManager[StepRef]:
        """The enclosing step if there is one, else a new step for this one operation."""
        current = _current_step.get()
        if current is not None:
            return contextlib.nullcontext(current)
        return self.step(kind, label, actor=actor)

    def report(self, finding: Finding) -> Finding:
        """Record a finding (filling in the current step) and emit it."""
        step = self.current_step()
        if step is not None:
            finding = replace(finding, step=finding.step or f"step {step.index}: {step.label}",
                              location=finding.location or step.location)
            bucket = self._step_findings.get(id(step))
            if bucket is not None:
                bucket.append(finding)
        self.findings.append(finding)
        self._emit(FindingReported(self.clock(), self.case, finding))
        return finding

    def record(self, sock: Socket, data: str | bytes, direction: Direction, *,
               check: bool | None = None) -> FrameRecord:
        """Validate a frame, keep it, emit it; an invalid received frame is a finding."""
        at = self.clock()
        decoded = self.schemas.check(data, direction, at)
        frame = FrameRecord(next(self._seq), at, sock.actor.name, sock.name, decoded)
        self.frames.append(frame)
        self._emit(FrameSeen(self.case, frame, self.current_step()))
        if decoded.problems:
            received = direction is Direction.SERVER
            if received and self.check_received:
                self.report(Finding(
                    title=f"{sock.label} received an invalid {frame.type or 'frame'}: "
                          f"{decoded.problems[0]}",
                    code=FindingCode.INVALID_FRAME, expected="a frame valid for its schema",
                    actual="; ".join(map(str, decoded.problems)), actor=sock.actor.name,
                    socket=sock.name, frames=(frame,)))
            elif not received and (self.check_sent if check is None else check):
                self.report(Finding(
                    title=f"{sock.label} sent an invalid {frame.type or 'frame'}: "
                          f"{decoded.problems[0]}",
                    code=FindingCode.INVALID_FRAME, severity=Severity.WARNING,
                    expected="the scenario to send valid frames",
                    actual="; ".join(map(str, decoded.problems)), actor=sock.actor.name,
                    socket=sock.name, frames=(frame,)))
        return frame

    def timeout_or_default(self, timeout: float | None) -> float:
        """``timeout``, or the session's per-step time limit."""
        return self.step_timeout if timeout is None else timeout

    # -- waiting for frames -------------------------------------------------------------------

    async def await_frames(self, sockets: Sequence[Socket], matcher: Matcher, count: int,
                           timeout: float, mode: Mode) -> dict[Socket, list[FrameRecord]]:
        """Take matching frames from the sockets' queues, waiting up to ``timeout``:
        ``count`` on every socket, or ``count`` in all from any. Returns what was taken."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        got: dict[Socket, list[FrameRecord]] = {s: [] for s in sockets}
        async with self.cond:
            while True:
                for sock in sockets:
                    need = count - (len(got[sock]) if mode == "every"
                                    else sum(map(len, got.values())))
                    if need <= 0:
                        continue
                    keep: list[FrameRecord] = []
                    for frame in sock.inbox:
                        if need > 0 and matcher.test(frame):
                            got[sock].append(frame)
                            need -= 1
                        else:
                            keep.append(frame)
                    sock.inbox[:] = keep
                if mode == "every":
                    pending = [s for s in sockets if len(got[s]) < count]
                else:
                    pending = list(sockets) if sum(map(len, got.values())) < count else []
                if not pending or all(s.state is not SocketState.OPEN for s in pending):
                    return got
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return got
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self.cond.wait()

    async def expect(self, sockets: Sequence[Socket], type: str | None, where: Where = (), *,
                     timeout: float | None = None, count: int = 1, mode: Mode = "every",
                     fatal: bool = True, severity: Severity = Severity.FAILURE,
                     title: str | None = None, order: Sequence[Where] | None = None
                     ) -> dict[SocketName, tuple[FrameRecord, ...]]:
        """``expect`` over several sockets; see :meth:`Socket.expect` and :meth:`Actor.expect`.

        ``order``: one ``where`` per frame; the frames that match ``type`` and ``where`` must
        come in this order (``count`` is then the length of ``order``)."""
        matcher = Matcher.build(type, where)
        steps = [Matcher.build(type, w) for w in order] if order is not None else None
        if steps is not None:
            count = len(steps)
        if count < 1:
            raise InputError(f"count must be 1 or more, got {count}")
        names = ", ".join(s.label for s in sockets)
        actor = sockets[0].actor.name if sockets else None
        async with self.op_step("expect", f"{names} expect {matcher.describe()}", actor):
            for sock in sockets:
                sock.require("expect")
            limit = self.timeout_or_default(timeout)
            got = await self.await_frames(sockets, matcher, count, limit, mode)
            failed: list[Finding] = []
            missing = [s for s in sockets if len(got[s]) < count] if mode == "every" else (
                list(sockets) if sum(map(len, got.values())) < count else [])
            for sock in missing if mode == "every" else missing[:1]:
                have = len(got[sock]) if mode == "every" else sum(map(len, got.values()))
                failed.append(self._miss(sock if mode == "every" else None, sockets, matcher,
                                         count=count, have=have, limit=limit,
                                         severity=severity, title=title))
            if steps is not None and not failed:
                failed += self._check_order(sockets, got, matcher, steps, severity=severity,
                                            title=title)
            if failed and fatal:
                raise StepFailed(failed[0])
            return {s.name: tuple(got[s]) for s in sockets}

    def _check_order(self, sockets: Sequence[Socket], got: Mapping[Socket, list[FrameRecord]],
                     matcher: Matcher, steps: Sequence[Matcher], *, severity: Severity,
                     title: str | None) -> list[Finding]:
        found: list[Finding] = []
        for sock in sockets:
            frames = got[sock]
            for i, (frame, want) in enumerate(zip(frames, steps, strict=False), 1):
                if want.test(frame):
                    continue
                found.append(self.report(Finding(
                    title=title or f"{sock.label} received {matcher.type or 'frames'} out of "
                                   f"order: #{i} is not {want.describe()}",
                    code=FindingCode.OUT_OF_ORDER,
                    expected=" then ".join(w.describe() for w in steps),
                    actual=f"#{i}: {want.why_not(frame) or frame.text()}", severity=severity,
                    actor=sock.actor.name, socket=sock.name, frames=tuple(frames))))
                break
        return found

    def _miss(self, sock: Socket | None, sockets: Sequence[Socket], matcher: Matcher, *,
              count: int, have: int, limit: float, severity: Severity, title: str | None
              ) -> Finding:
        targets = [sock] if sock is not None else list(sockets)
        who = sock.label if sock is not None else "any of " + ", ".join(s.label for s in sockets)
        closed = [s for s in targets if s.state is SocketState.CLOSED]
        want = matcher.describe() + (f" (x{count}, got {have})" if count > 1 else "")
        miss = describe_miss(matcher, [f for s in targets for f in s.inbox])
        if closed and len(closed) == len(targets):
            for s in closed:
                s.close_reported = True
            actual = "; ".join(f"{s.label} was {s.describe_close()}" for s in closed)
            if miss.text:
                actual += f"; before that it received {miss.text}"
            return self.report(Finding(
                title=title or f"{who} was {closed[0].describe_close()} before it received "
                               f"{matcher.type or 'a frame'}",
                code=FindingCode.CLOSED, expected=want, actual=actual, severity=severity,
                actor=targets[0].actor.name, socket=sock.name if sock else None,
                frames=miss.frames))
        return self.report(Finding(
            title=title or f"{who} did not receive {want} within {limit:g} s",
            code=FindingCode.TIMEOUT, expected=want,
            actual=miss.text or "nothing arrived (the server stayed silent)", severity=severity,
            actor=targets[0].actor.name, socket=sock.name if sock else None,
            frames=miss.frames))

    async def expect_none(self, sockets: Sequence[Socket], type: str | None, where: Where = (),
                          *, within: float | None = None, fatal: bool = True,
                          severity: Severity = Severity.FAILURE, title: str | None = None
                          ) -> bool:
        """No socket gets a matching frame for ``within`` s; returns True when none came."""
        matcher = Matcher.build(type, where)
        names = ", ".join(s.label for s in sockets)
        actor = sockets[0].actor.name if sockets else None
        limit = self.quiet_period if within is None else within
        async with self.op_step("expect_none", f"{names} get no {matcher.describe()}", actor):
            for sock in sockets:
                sock.require("expect")
            got = await self.await_frames(sockets, matcher, 1, limit, "any")
            seen = [(s, f) for s, frames in got.items() for f in frames]
            if not seen:
                return True
            sock, frame = seen[0]
            finding = self.report(Finding(
                title=title or f"{sock.label} received {frame.type or 'a frame'} it must not get",
                code=FindingCode.UNEXPECTED_FRAME,
                expected=f"no {matcher.describe()} within {limit:g} s",
                actual=frame.text(), severity=severity, actor=sock.actor.name,
                socket=sock.name, frames=(frame,)))
            if fatal:
                raise StepFailed(finding)
            return False

    async def shutdown(self) -> None:
        """Close every open socket; one finding for server closes nobody has reported."""
        unreported = [s for s in self.sockets() if s.state is SocketState.CLOSED
                      and s.closed_by == "server" and not s.close_reported]
        if unreported:
            for s in unreported:
                s.close_reported = True
            self.report(Finding(
                title="; ".join(f"{s.label} was {s.describe_close()}" for s in unreported),
                code=FindingCode.CLOSED, expected="sockets stay open until the scenario closes "
                                                  "them", actual=f"{len(unreported)} closed",
                actor=unreported[0].actor.name, socket=unreported[0].name))
        await asyncio.gather(*(s._shutdown() for s in self.sockets()))
