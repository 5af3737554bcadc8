"""One WebSocket connection of an actor: connect, send, a queue of received frames, close.

Waiting for frames is the session's job (:meth:`Session.await_frames`), so that an expectation
can span several sockets; a socket only moves bytes and records what happened to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import enum
import json
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException
from websockets.typing import Origin, Subprotocol

from wsprobe.core import Direction
from wsprobe.errors import InputError
from wsprobe.scenario.findings import Finding, FindingCode, Severity
from wsprobe.scenario.frames import FrameRecord, SocketName
from wsprobe.scenario.matching import Matcher, Where

if TYPE_CHECKING:
    from wsprobe.scenario.session import Actor

__all__ = ["Refusal", "Socket", "SocketState", "StepFailed"]


class StepFailed(Exception):
    """A fatal expectation failed; its finding is already recorded. ``Session`` swallows it."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.title)
        self.finding = finding


class SocketState(enum.StrEnum):
    """Where a socket is in its life."""

    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A connection attempt that gave no open WebSocket; ``status``: the HTTP status, if any."""

    status: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class _Options:
    url: str
    headers: tuple[tuple[str, str], ...]
    origin: str | None
    subprotocols: tuple[str, ...]
    open_timeout: float


def _with(url: str, path: str | None, query: Mapping[str, Any] | None) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"ws", "wss"}:
        raise InputError(f"bad URL {url!r}: it must start with ws:// or wss://")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if query:
        pairs = [(k, v) for k, v in pairs if k not in query]
        pairs += [(str(k), str(v)) for k, v in query.items()]
    return urlunsplit((parts.scheme, parts.netloc, path if path is not None else parts.path,
                       urlencode(pairs), parts.fragment))


def _tls(context: ssl.SSLContext | None, url: str) -> dict[str, Any]:
    # websockets refuses an ssl argument for ws://; for wss:// without one it verifies normally
    return {"ssl": context} if context is not None and url.startswith("wss:") else {}


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no handshake answer in time (the server accepted TCP but did not answer)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


class Socket:
    """One WebSocket connection of an actor, with its own queue of received frames."""

    def __init__(self, actor: Actor, name: str) -> None:
        self.actor = actor
        self.session = actor.session
        self.name = SocketName(name)
        self.state = SocketState.NEW
        self.inbox: list[FrameRecord] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed_by: Literal["server", "client", "drop"] | None = None
        self.closed_during: str | None = None
        self.close_reported = False
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._options: _Options | None = None

    @property
    def label(self) -> str:
        """``actor/socket``."""
        return f"{self.actor.name}/{self.name}"

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, if any."""
        return self._ws.subprotocol if self._ws is not None else None

    def __repr__(self) -> str:
        return f"<Socket {self.label} {self.state.value}>"

    # -- connection ---------------------------------------------------------------------------

    async def connect(
        self, url: str | None = None, *, path: str | None = None,
        query: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        origin: str | None = None, subprotocols: Sequence[str] = (),
        open_timeout: float | None = None, expect_refused: bool = False, fatal: bool = True,
    ) -> Refusal | None:
        """Open the socket. Returns the :class:`Refusal` when refused (a finding unless
        ``expect_refused``), else ``None``; with ``expect_refused`` an accepted handshake is a
        finding. Refusal before any socket of the session ever opened marks it unreachable."""
        if self.state is SocketState.OPEN:
            raise InputError(f"{self.label} is already connected")
        options = _Options(
            url=_with(url or self.session.url, path, query),
            headers=tuple((headers or {}).items()), origin=origin,
            subprotocols=tuple(subprotocols),
            open_timeout=open_timeout if open_timeout is not None else self.session.open_timeout)
        self._options = options
        async with self.session.op_step("connect", f"connect {self.label}", self.actor.name):
            return await self._open(options, expect_refused=expect_refused, fatal=fatal)

    async def reconnect(self, *, open_timeout: float | None = None) -> Refusal | None:
        """Connect again with the options of the last ``connect`` (an open socket is dropped)."""
        if self._options is None:
            raise InputError(f"{self.label} cannot reconnect: it was never connected")
        async with self.session.op_step("reconnect", f"reconnect {self.label}", self.actor.name):
            if self.state is SocketState.OPEN:
                await self._abort()
            options = self._options
            if open_timeout is not None:
                options = replace(options, open_timeout=open_timeout)
            return await self._open(options, expect_refused=False, fatal=True)

    async def _open(self, options: _Options, *, expect_refused: bool, fatal: bool
                    ) -> Refusal | None:
        session = self.session
        refusal: Refusal | None = None
        try:
            ws = await connect(
                options.url, origin=Origin(options.origin) if options.origin else None,
                additional_headers=Headers(list(options.headers)) if options.headers else None,
                subprotocols=[Subprotocol(p) for p in options.subprotocols] or None,
                open_timeout=options.open_timeout, ping_interval=None,
                close_timeout=session.close_timeout, proxy=None, max_size=session.max_size,
                **_tls(session.ssl_context, options.url))
        except InvalidURI as exc:
            raise InputError(f"bad URL {options.url!r}: {exc}") from None
        except InvalidStatus as exc:
            status = exc.response.status_code
            refusal = Refusal(status, f"handshake refused with HTTP {status}")
        except (OSError, TimeoutError, WebSocketException, EOFError) as exc:
            refusal = Refusal(None, _why(exc))
        if refusal is not None:
            if expect_refused:
                return refusal
            finding = session.report(Finding(
                title=f"{self.label} could not connect to {options.url}: {refusal.reason}",
                code=FindingCode.REFUSED, expected="an open WebSocket", actual=refusal.reason,
                actor=self.actor.name, socket=self.name))
            if not session.connected_once and session.unreachable is None:
                session.unreachable = finding
            if fatal:
                raise StepFailed(finding)
            return refusal
        self._ws = ws
        self.state = SocketState.OPEN
        self.inbox.clear()
        self.close_code, self.close_reason, self.closed_by = None, "", None
        self.closed_during, self.close_reported = None, False
        session.connected_once = True
        # a fresh context: frames the reader sees belong to the step running when they arrive
        self._reader = asyncio.create_task(self._read(ws), name=f"wsprobe-read-{self.label}",
                                           context=contextvars.Context())
        if expect_refused:
            finding = session.report(Finding(
                title=f"{self.label}: the server accepted a handshake it should have refused",
                code=FindingCode.ACCEPTED, expected="the handshake refused",
                actual="HTTP 101, WebSocket open", actor=self.actor.name, socket=self.name))
            if fatal:
                raise StepFailed(finding)
        return None

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for data in ws:
                await self._received(data)
        except ConnectionClosed:
            pass
        except Exception as exc:
            self.close_reason = _why(exc)
        finally:
            if self.closed_by is None:
                self.closed_by = "server"
                self.closed_during = self.session.current_step_label()
            self.close_code = ws.close_code if ws.close_code is not None else 1006
            self.close_reason = self.close_reason or (ws.close_reason or "")
            self.state = SocketState.CLOSED
            async with self.session.cond:
                self.session.cond.notify_all()

    async def _received(self, data: str | bytes) -> None:
        record = self.session.record(self, data, Direction.SERVER)
        async with self.session.cond:
            self.inbox.append(record)
            self.session.cond.notify_all()

    def describe_close(self) -> str:
        """``closed by the server with code 1011 ("boom") during step 4 (send ...)``."""
        who = {"server": "the server", "client": "the scenario", "drop": "a drop (no close frame)"}
        code = self.close_code
        text = f"closed by {who.get(self.closed_by or 'server')}"
        if self.closed_by != "drop":
            text += f" with code {code}" + (" (no close frame)" if code == 1006 else "")
            if self.close_reason:
                text += f" {self.close_reason!r}"
        if self.closed_during:
            text += f" during {self.closed_during}"
        return text

    # -- sending ------------------------------------------------------------------------------

    def require(self, verb: str) -> None:
        if self.state is SocketState.NEW:
            raise InputError(f"{self.label} cannot {verb}: it is not connected yet "
                             "(connect it first)")
        if self.state is SocketState.CLOSED and self.closed_by != "server":
            raise InputError(f"{self.label} cannot {verb}: it was {self.describe_close()}")

    def _closed_finding(self, doing: str, frames: Sequence[FrameRecord] = ()) -> Finding:
        self.close_reported = True
        return self.session.report(Finding(
            title=f"{self.label} was {self.describe_close()} while {doing}",
            code=FindingCode.CLOSED, expected="the socket to stay open",
            actual=self.describe_close(), actor=self.actor.name, socket=self.name,
            frames=tuple(frames)))

    async def send(self, message: Any, *, check: bool | None = None) -> FrameRecord | None:
        """Send a frame: ``str`` as is, ``bytes`` as a binary frame, anything else as JSON.

        ``check`` (default: the session's ``check_sent``) makes a schema problem of the sent
        frame a warning finding. Sending on a socket the server closed is a finding.
        """
        data = message if isinstance(message, str | bytes) else json.dumps(
            message, ensure_ascii=False)
        preview = data if isinstance(data, str) else f"<{len(data)} bytes>"
        async with self.session.op_step("send", f"{self.label} sends {preview[:60]}",
                                        self.actor.name):
            if self.state is SocketState.CLOSED and self.session.lenient:
                return None
            self.require("send")
            if self.state is not SocketState.OPEN or self._ws is None:
                raise StepFailed(self._closed_finding("sending"))
            try:
                async with asyncio.timeout(self.session.step_timeout):
                    await self._ws.send(data)
            except ConnectionClosed:
                await self._settle()
                if self.session.lenient:
                    return None
                raise StepFailed(self._closed_finding("sending")) from None
            except TimeoutError:
                raise StepFailed(self.session.report(Finding(
                    title=f"{self.label} could not send within {self.session.step_timeout:g} s "
                          "(the server stopped reading)", code=FindingCode.TIMEOUT,
                    expected="the frame to be written", actual="the write blocked",
                    actor=self.actor.name, socket=self.name))) from None
            return self.session.record(self, data, Direction.CLIENT, check=check)

    async def _settle(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), self.session.close_timeout)

    # -- expecting ----------------------------------------------------------------------------

    async def expect(self, type: str | None, where: Where = (), *, timeout: float | None = None,
                     count: int = 1, fatal: bool = True, severity: Severity = Severity.FAILURE,
                     title: str | None = None, order: Sequence[Where] | None = None
                     ) -> tuple[FrameRecord, ...]:
        """Take the first ``count`` frames of ``type`` in this socket's queue that satisfy
        ``where`` (waiting up to ``timeout``); fewer is a finding. Returns the frames taken.
        ``order``: one ``where`` per frame, which the frames taken must satisfy in turn."""
        got = await self.session.expect([self], type, where, timeout=timeout, count=count,
                                        mode="every", fatal=fatal, severity=severity, title=title,
                                        order=order)
        return got.get(self.name, ())

    async def expect_none(self, type: str | None, where: Where = (), *,
                          within: float | None = None, fatal: bool = True,
                          severity: Severity = Severity.FAILURE, title: str | None = None
                          ) -> bool:
        """No frame of ``type`` satisfying ``where`` arrives (or is queued) for ``within`` s."""
        return await self.session.expect_none([self], type, where, within=within, fatal=fatal,
                                              severity=severity, title=title)

    async def receive(self, type: str | None = None, where: Where = (), *,
                      timeout: float | None = None) -> FrameRecord | None:
        """Take the first matching frame within ``timeout``, or ``None``: never a finding."""
        self.require("receive")
        matcher = Matcher.build(type, where)
        got = await self.session.await_frames([self], matcher, 1,
                                              self.session.timeout_or_default(timeout), "every")
        frames = got[self]
        return frames[0] if frames else None

    async def expect_close(self, codes: Iterable[int] | None = None, *,
                           timeout: float | None = None, fatal: bool = True,
                           severity: Severity = Severity.FAILURE) -> int | None:
        """The server closes this socket within ``timeout`` (with one of ``codes``, if given).

        Returns the close code (1006 when the connection ended without a close frame)."""
        wanted = tuple(codes) if codes is not None else None
        label = f"{self.label} is closed by the server" + (
            f" with {' or '.join(map(str, wanted))}" if wanted else "")
        async with self.session.op_step("expect_close", label, self.actor.name):
            self.require("expect a close")
            limit = self.session.timeout_or_default(timeout)
            async with self.session.cond:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(limit):
                        await self.session.cond.wait_for(
                            lambda: self.state is SocketState.CLOSED)
            if self.state is not SocketState.CLOSED:
                finding = self.session.report(Finding(
                    title=f"{self.label} was not closed by the server within {limit:g} s",
                    code=FindingCode.NOT_CLOSED, severity=severity,
                    expected=label, actual="the socket is still open",
                    actor=self.actor.name, socket=self.name))
            elif wanted and self.close_code not in wanted:
                self.close_reported = True
                finding = self.session.report(Finding(
                    title=f"{self.label} was {self.describe_close()}, expected code "
                          f"{' or '.join(map(str, wanted))}", code=FindingCode.CLOSED,
                    severity=severity, expected=label, actual=self.describe_close(),
                    actor=self.actor.name, socket=self.name))
            else:
                self.close_reported = True
                return self.close_code
            if fatal:
                raise StepFailed(finding)
            return self.close_code

    # -- closing ------------------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with a close frame (a no-op on a socket already closed or never opened)."""
        async with self.session.op_step("close", f"close {self.label} ({code})", self.actor.name):
            if self.state is SocketState.CLOSED and self.closed_by == "server" and not (
                    self.close_reported or self.session.lenient):
                self._closed_finding("the scenario went on")
                return
            if self.state is not SocketState.OPEN or self._ws is None:
                return
            self.closed_by = "client"
            self.closed_during = self.session.current_step_label()
            with contextlib.suppress(WebSocketException, OSError):
                await self._ws.close(code, reason)
            await self._settle()

    async def drop(self) -> None:
        """Vanish without a close frame, as a network cut does: abort the TCP connection."""
        async with self.session.op_step("drop", f"drop {self.label}", self.actor.name):
            if self.state is SocketState.OPEN:
                await self._abort()

    async def _abort(self) -> None:
        if self._ws is None:
            return
        self.closed_by = "drop"
        self.closed_during = self.session.current_step_label()
        self._ws.transport.abort()
        await self._settle()

    async def _shutdown(self) -> None:
        if self.state is SocketState.OPEN and self._ws is not None:
            self.closed_by = "client"
            with contextlib.suppress(WebSocketException, OSError, TimeoutError):
                async with asyncio.timeout(self.session.close_timeout):
                    await self._ws.close(1000)
            if self.state is SocketState.OPEN:
                self._ws.transport.abort()
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
