"""Running one case against the server: the fuzzed socket, the sync message, the canary.

The fuzzed socket registers (unless the case is a registration), sends the case's frames, then a
*sync* message the server delivers back to it (``send-message`` to itself with a fresh marker).
Servers answer one socket's frames in order, so every answer to the case has come once the marker
is back: an ``error`` before it means the bad input was answered, nothing before it a silent drop.

After the case a fresh *canary* connects, registers and sends a message to the long-lived
*observer*; the observer must receive it. Every wait is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import ssl
from dataclasses import dataclass
from typing import Any

from wsprobe.core import Direction, SchemaSet
from wsprobe.errors import UnreachableError
from wsprobe.fuzz.cases import Expect, FuzzCase
from wsprobe.fuzz.messages import FUZZ_USER
from wsprobe.fuzz.target import Target
from wsprobe.fuzz.verdict import Canary, CanaryState, Observation
from wsprobe.fuzz.wire import ClosedByServer, HandshakeFailed, Incoming, RawSocket, encode_frame

__all__ = ["OBSERVER_USER", "ProbeSettings", "Prober"]

OBSERVER_USER = "wsprobe-observer"
_MAX_BAD = 5


def _frame(mtype: str, data: Any = None, user_id: str | None = None) -> str:
    envelope: dict[str, Any] = {"type": mtype}
    if user_id is not None:
        envelope["userId"] = user_id
    if data is not None:
        envelope["data"] = data
    return json.dumps(envelope, separators=(",", ":"))


def _chat(to: str, text: str) -> str:
    return _frame("send-message", {"receiverId": to, "text": text, "chatId": "wsprobe-fuzz"})


def _delivered_text(text: str) -> str | None:
    try:
        envelope = json.loads(text)
    except ValueError:
        return None
    if not isinstance(envelope, dict) or envelope.get("type") != "receive-message":
        return None
    data = envelope.get("data")
    value = data.get("text") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _registered_id(case: FuzzCase) -> str | None:
    """The id a valid registration frame registers (top-level ``userId``, else ``data.userId``)."""
    try:
        envelope = json.loads(case.frames[0].payload)
    except ValueError:
        return None
    if not isinstance(envelope, dict):
        return None
    data = envelope.get("data")
    for candidate in (envelope.get("userId"), data.get("userId") if isinstance(data, dict)
                      else None):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _is_error(text: str) -> bool:
    try:
        envelope = json.loads(text)
    except ValueError:
        return False
    return isinstance(envelope, dict) and envelope.get("type") == "error"


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Time limits and connection options of the probe."""

    timeout: float = 5.0
    answer_timeout: float = 2.0
    ssl_context: ssl.SSLContext | None = None
    origin: str | None = None


class Prober:
    """Runs cases against ``target`` with one observer kept open across cases."""

    def __init__(self, target: Target, schemas: SchemaSet, settings: ProbeSettings) -> None:
        self.target = target
        self.schemas = schemas
        self.settings = settings
        self._observer: RawSocket | None = None
        self._observer_task: asyncio.Task[None] | None = None
        self._observer_closed: ClosedByServer | None = None
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._bad: list[str] = []
        self._ids = itertools.count(1)

    async def _connect(self) -> RawSocket:
        s = self.settings
        return await RawSocket.connect(self.target.url, timeout=s.timeout,
                                       ssl_context=s.ssl_context, origin=s.origin)

    async def start(self) -> None:
        """Open the observer; the target is unreachable when that fails."""
        try:
            await self.open_observer()
        except (OSError, TimeoutError, HandshakeFailed) as exc:
            raise UnreachableError(f"cannot open a WebSocket at {self.target.url}: "
                                   f"{_reason(exc)}") from None

    async def open_observer(self) -> None:
        """(Re)connect and register the observer."""
        await self.close_observer()
        sock = await self._connect()
        await sock.send_text(_frame("new-user-add", user_id=OBSERVER_USER),
                             timeout=self.settings.timeout)
        self._observer = sock
        self._observer_closed = None
        self._observer_task = asyncio.create_task(self._observe(sock))

    async def close_observer(self) -> None:
        """Close the observer, if open."""
        task, sock = self._observer_task, self._observer
        self._observer_task = self._observer = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if sock is not None:
            await sock.close(timeout=0.5)

    async def _observe(self, sock: RawSocket) -> None:
        while True:
            got = await sock.recv(3600.0)
            if isinstance(got, ClosedByServer):
                self._observer_closed = got
                for pending in self._waiting.values():
                    if not pending.done():
                        pending.set_result(None)
                return
            if isinstance(got, Incoming):
                text = self._check(got)
                marker = _delivered_text(text) if text is not None else None
                waiter = self._waiting.get(marker) if marker is not None else None
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    def _check(self, got: Incoming) -> str | None:
        if got.is_pong:
            return None
        text = got.text()
        if text is None:
            if len(self._bad) < _MAX_BAD:
                kind = "binary" if not got.is_text else "text that is not UTF-8"
                self._bad.append(f"a {kind} frame of {len(got.payload)} bytes")
            return None
        decoded = self.schemas.check(text, Direction.SERVER, 0.0)
        if not decoded.ok and len(self._bad) < _MAX_BAD:
            problems = "; ".join(str(p) for p in decoded.problems[:3])
            self._bad.append(f"{text[:200]} -- {problems}")
        return text

    async def run(self, case: FuzzCase) -> Observation:
        """Run ``case`` on a fresh socket, then the canary; never raises for the server's sake."""
        n = next(self._ids)
        self._bad = []
        observer_before = self._observer_closed
        fields = await self._run_case(case, n)
        canary = await self._canary(n)
        observer_closed = self._observer_closed if observer_before is None else None
        return Observation(case=case, canary=canary, observer_closed=observer_closed,
                           bad_frames=tuple(self._bad), server_exit=self.target.exit_info()
                           if canary.state is not CanaryState.OK else None, **fields)

    async def _run_case(self, case: FuzzCase, n: int) -> dict[str, Any]:
        s = self.settings
        try:
            sock = await self._connect()
        except (OSError, TimeoutError, HandshakeFailed) as exc:
            return {"connect_error": _reason(exc)}
        answers: list[str] = []
        pongs: list[bytes] = []
        errors = 0
        synced = stalled = False
        marker = f"wsprobe-sync-{n}"
        try:
            if case.user is not None:
                await sock.send_text(_frame("new-user-add", user_id=case.user), timeout=s.timeout)
            for frame in case.frames:
                data = encode_frame(frame.opcode, frame.payload, fin=frame.fin, rsv=frame.rsv,
                                    mask=frame.masked)
                await sock.send_raw(data, timeout=s.answer_timeout + len(data) / 50e6)
            if case.expect is not Expect.CLOSE:
                me = case.user or (_registered_id(case) if case.expect is Expect.VALID else None)
                if me is None:
                    me = FUZZ_USER
                    await sock.send_text(_frame("new-user-add", user_id=me), timeout=s.timeout)
                await sock.send_text(_chat(me, marker), timeout=s.timeout)
        except TimeoutError:
            stalled = True
        except (ConnectionError, OSError, ssl.SSLError):
            pass  # the server closed the connection: what it said is read below
        loop = asyncio.get_running_loop()
        deadline = loop.time() + s.answer_timeout
        closed: ClosedByServer | None = None
        while not stalled:
            got = await sock.recv(max(0.0, deadline - loop.time()))
            if got is None:
                break
            if isinstance(got, ClosedByServer):
                closed = got
                break
            if got.is_pong:
                pongs.append(got.payload)
                continue
            text = self._check(got)
            if text is None:
                continue
            if _delivered_text(text) == marker:
                synced = True
                break
            answers.append(text[:300])
            errors += _is_error(text)
        await sock.close(timeout=0.5)
        return {"answers": tuple(answers), "errors": errors, "pongs": tuple(pongs),
                "closed": closed, "synced": synced, "send_stalled": stalled}

    async def _canary(self, n: int) -> Canary:
        s = self.settings
        if self._observer is None or self._observer_closed is not None:
            try:
                await self.open_observer()
            except (OSError, TimeoutError, HandshakeFailed) as exc:
                return _canary_failed(exc, "the observer could not reconnect")
        try:
            sock = await self._connect()
        except (OSError, TimeoutError, HandshakeFailed) as exc:
            return _canary_failed(exc, "a new client could not connect")
        marker = f"wsprobe-canary-{n}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[marker] = future
        try:
            await sock.send_text(_frame("new-user-add", user_id=f"wsprobe-canary-{n}"),
                                 timeout=s.timeout)
            await sock.send_text(_chat(OBSERVER_USER, marker), timeout=s.timeout)
            await asyncio.wait_for(future, s.timeout)
        except TimeoutError:
            return Canary(CanaryState.STALLED, f"a new client registered and sent a message to "
                                               f"another user; it was not delivered within "
                                               f"{s.timeout} s")
        except (ConnectionError, OSError, ssl.SSLError) as exc:
            return Canary(CanaryState.STOPPED, f"a new client's connection broke: {_reason(exc)}")
        finally:
            self._waiting.pop(marker, None)
            await sock.close(timeout=0.5)
        if self._observer_closed is not None:
            closed = self._observer_closed
            return Canary(CanaryState.OK, f"the observer closed with {closed.code}")
        return Canary(CanaryState.OK)

    async def baseline(self) -> Canary:
        """The canary alone, with no case before it: does the server work at all?"""
        return await self._canary(next(self._ids))

    async def stop(self) -> None:
        """Close the observer."""
        await self.close_observer()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer within the time limit"
    if isinstance(exc, HandshakeFailed):
        return exc.reason
    return str(exc) or type(exc).__name__


def _canary_failed(exc: BaseException, what: str) -> Canary:
    if isinstance(exc, TimeoutError):
        return Canary(CanaryState.STALLED, f"{what}: no handshake within the time limit")
    if isinstance(exc, HandshakeFailed) and exc.status is not None:
        return Canary(CanaryState.REFUSED, f"{what}: {exc.reason}")
    return Canary(CanaryState.STOPPED, f"{what}: {_reason(exc)}")
