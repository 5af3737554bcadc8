"""Fan-out bookkeeping with no I/O: sends and receipts in, per-receiver outcomes out.

Every probe event has one sender and a set of receivers that must see it. The tracker is told
about the sockets of this process (when each registered, when it began to close), about every
event sent anywhere in the run (:meth:`FanoutTracker.sent`, possibly late, relayed from another
worker) and about every receipt of a marker at a local socket (:meth:`FanoutTracker.received`).
A receipt may arrive before its send record; it waits for it.

Rules, all on one reference clock in microseconds:

* a local socket is **expected** to receive an event when it registered before the event was sent,
  belongs to another user than the sender (and to the target user for ``chat`` and ``signal``),
  and did not begin to close within ``late_after`` of the send;
* the first copy at a socket is a delivery, classified once the event is finalized
  (``loss_timeout`` after the send, or at :meth:`FanoutTracker.finalize_all`): at an expected
  socket it is ``delivered``, or ``late`` when it came later than ``late_after`` (``late`` is
  counted among the delivered too); at any other socket it is ``optional``;
* every further copy at a socket is a ``duplicate``, except for ``join`` and ``leave``: those are
  states read from ``get-users`` lists (:meth:`FanoutTracker.observed`), delivered by the first
  list at a socket that shows the change; every later list that shows it again (a server that
  re-broadcasts the list on every change, or sends one list per socket) restates the state and is
  no copy at all, so a correct server has no duplicates whichever broadcast policy it follows;
* an expected socket without a copy when the event is finalized is ``lost``;
* a receipt whose send record never arrives within ``loss_timeout`` of its receipt, or that came
  more than ``skew`` before the send it names (the same user id leaving and coming back on a
  reconnect), is ``unmatched``; a smaller negative latency (clock offsets across hosts) is counted
  as ``negative`` and recorded as 0.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final, NewType

__all__ = [
    "KINDS",
    "Counts",
    "Delivery",
    "EventOutcome",
    "FanoutTracker",
    "Kind",
    "Sent",
    "SocketId",
]

Kind = NewType("Kind", str)
SocketId = NewType("SocketId", int)

JOIN: Final = Kind("join")
LEAVE: Final = Kind("leave")
STATUS: Final = Kind("status")
CHAT: Final = Kind("chat")
SIGNAL: Final = Kind("signal")
KINDS: Final[tuple[Kind, ...]] = (JOIN, LEAVE, STATUS, CHAT, SIGNAL)


@dataclass(frozen=True, slots=True)
class Sent:
    """One probe event as sent: its marker key, kind, sender, optional target user and times."""

    key: str
    kind: Kind
    sender: str
    target: str | None
    t_sched: int
    t_send: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """The first copy of an event at one socket (or its loss, with ``t_recv`` of ``None``)."""

    kind: Kind
    key: str
    socket: SocketId
    t_send: int
    t_sched: int
    t_recv: int | None
    status: str  # delivered | late | optional | lost | duplicate

    @property
    def latency(self) -> int | None:
        """Microseconds from the actual send, or ``None`` for a loss."""
        return None if self.t_recv is None else self.t_recv - self.t_send

    @property
    def latency_sched(self) -> int | None:
        """Microseconds from the scheduled send, or ``None`` for a loss."""
        return None if self.t_recv is None else self.t_recv - self.t_sched


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What became of one event at the sockets of this process."""

    key: str
    kind: Kind
    t_send: int
    expected: int
    delivered: int
    lost: int
    last_recv: int | None  # reference-clock time of the last first-copy here, if any


@dataclass(slots=True)
class Counts:
    """Running counters of one kind (all integers, merged across workers by addition)."""

    events: int = 0
    expected: int = 0
    delivered: int = 0
    lost: int = 0
    duplicates: int = 0
    late: int = 0
    optional: int = 0
    negative: int = 0

    def add(self, other: Counts) -> None:
        """Add another set of counters into this one."""
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain mapping, in declaration order."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class _Socket:
    user: str
    registered_at: int | None = None
    closing_at: int | None = None


@dataclass(slots=True)
class _Event:
    key: str
    sent: Sent | None = None
    firsts: dict[SocketId, int] = field(default_factory=dict)
    created: int = 0
    early_duplicates: list[tuple[SocketId, int]] = field(default_factory=list)
    # copies beyond the first, seen before the send record


RecordLatency = Callable[[Kind, int, int], None]
"""Called with (kind, latency from actual send, latency from scheduled send) per first copy."""


class FanoutTracker:
    """Per-process fan-out bookkeeping: which local socket got which event, when, how often."""

    def __init__(
        self,
        *,
        late_after: int,
        loss_timeout: int,
        record: RecordLatency,
        on_delivery: Callable[[Delivery], None] | None = None,
        skew: int = 100_000,
    ) -> None:
        self.late_after = late_after
        self.skew = skew
        self.loss_timeout = loss_timeout
        self.counts: dict[Kind, Counts] = {kind: Counts() for kind in KINDS}
        self.unmatched = 0
        self._record = record
        self._on_delivery = on_delivery
        self._sockets: dict[SocketId, _Socket] = {}
        self._by_user: dict[str, list[SocketId]] = {}
        self._events: dict[str, _Event] = {}
        self._deadlines: list[tuple[int, str]] = []

    # sockets -----------------------------------------------------------------------------

    def socket_opened(self, socket: SocketId, user: str) -> None:
        """A local socket of ``user`` exists (not yet registered)."""
        self._sockets[socket] = _Socket(user)
        self._by_user.setdefault(user, []).append(socket)

    def socket_registered(self, socket: SocketId, t: int) -> None:
        """The socket got the answer to its registration at ``t``."""
        sock = self._sockets.get(socket)
        if sock is not None and sock.registered_at is None:
            sock.registered_at = t

    def socket_closing(self, socket: SocketId, t: int) -> None:
        """The socket began to close (or was found closed) at ``t``."""
        sock = self._sockets.get(socket)
        if sock is not None and sock.closing_at is None:
            sock.closing_at = t

    def forget_closed(self, before: int) -> None:
        """Drop sockets that closed before ``before`` (no pending event can still need them)."""
        gone = [
            s for s, sock in self._sockets.items()
            if sock.closing_at is not None and sock.closing_at < before
        ]
        for socket in gone:
            user = self._sockets.pop(socket).user
            peers = self._by_user[user]
            peers.remove(socket)
            if not peers:
                del self._by_user[user]

    @property
    def open_sockets(self) -> int:
        """Local sockets that have not begun to close."""
        return sum(1 for sock in self._sockets.values() if sock.closing_at is None)

    # events ------------------------------------------------------------------------------

    def sent(self, sent: Sent, *, local: bool) -> None:
        """An event was sent (by this process when ``local``, else relayed from another)."""
        if local:
            self.counts[sent.kind].events += 1
        event = self._events.get(sent.key)
        if event is None:
            event = self._events[sent.key] = _Event(sent.key, created=sent.t_send)
        elif event.sent is not None:
            return  # the same send record twice (relayed back to its origin): ignore
        stale = [s for s, t_recv in event.firsts.items() if t_recv < sent.t_send - self.skew]
        if stale:  # the same marker seen long before this send: another event (a reconnect)
            self.unmatched += len(stale)
            for socket in stale:
                del event.firsts[socket]
        event.sent = sent
        for socket, t_recv in event.early_duplicates:
            self._duplicate(sent, socket, t_recv)
        event.early_duplicates.clear()
        heapq.heappush(self._deadlines, (sent.t_send + self.loss_timeout, sent.key))
        for socket, t_recv in event.firsts.items():
            self._first_copy(sent, socket, t_recv)

    def received(self, key: str, socket: SocketId, t_recv: int) -> None:
        """A local socket received the marker ``key`` at ``t_recv`` (taken before parsing)."""
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = _Event(key, created=t_recv)
            heapq.heappush(self._deadlines, (t_recv + self.loss_timeout, key))
        firsts = event.firsts
        if socket in firsts:
            sent = event.sent
            if sent is not None:
                self._duplicate(sent, socket, t_recv)
            else:
                event.early_duplicates.append((socket, t_recv))
            return
        firsts[socket] = t_recv
        if event.sent is not None:
            self._first_copy(event.sent, socket, t_recv)

    def observed(self, key: str, socket: SocketId, t_recv: int) -> None:
        """A ``get-users`` list at a local socket showed the state change ``key`` (a join or a
        leave) at ``t_recv``; only the first showing at a socket counts (see the module doc)."""
        event = self._events.get(key)
        if event is None or socket not in event.firsts:
            self.received(key, socket, t_recv)

    def _first_copy(self, sent: Sent, socket: SocketId, t_recv: int) -> None:
        latency = t_recv - sent.t_send
        if latency < 0:
            self.counts[sent.kind].negative += 1
            latency = 0
        self._record(sent.kind, latency, max(t_recv - sent.t_sched, latency))

    def _duplicate(self, sent: Sent, socket: SocketId, t_recv: int) -> None:
        self.counts[sent.kind].duplicates += 1
        if self._on_delivery is not None:
            self._on_delivery(Delivery(sent.kind, sent.key, socket, sent.t_send, sent.t_sched,
                                       t_recv, "duplicate"))

    # finalization ------------------------------------------------------------------------

    def due(self, now: int) -> list[EventOutcome]:
        """Finalize every event whose deadline has passed at ``now``."""
        outcomes: list[EventOutcome] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, key = heapq.heappop(deadlines)
            event = self._events.get(key)
            if event is None:
                continue  # already finalized through an earlier deadline
            outcome = self._finalize(event)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def finalize_all(self) -> list[EventOutcome]:
        """Finalize every pending event now (end of run)."""
        outcomes = [o for e in list(self._events.values()) if (o := self._finalize(e)) is not None]
        self._deadlines.clear()
        return outcomes

    def pending(self) -> int:
        """Events still waiting for their deadline."""
        return len(self._events)

    def incomplete(self) -> int:
        """Pending events that some open, registered, expected local socket has not yet seen."""
        return sum(1 for e in self._events.values() if e.sent is None or self._missing(e))

    def _missing(self, event: _Event) -> bool:
        assert event.sent is not None
        return any(
            socket not in event.firsts and self._sockets[socket].closing_at is None
            for socket in self._expected(event.sent)
        )

    def _expected(self, sent: Sent) -> Iterable[SocketId]:
        if sent.target is None:
            candidates: Iterable[SocketId] = self._sockets
        else:
            candidates = self._by_user.get(sent.target, ())
        sockets = self._sockets
        horizon = sent.t_send + self.late_after
        for socket in candidates:
            sock = sockets[socket]
            if (
                sock.user != sent.sender
                and sock.registered_at is not None
                and sock.registered_at < sent.t_send
                and (sock.closing_at is None or sock.closing_at > horizon)
            ):
                yield socket

    def _finalize(self, event: _Event) -> EventOutcome | None:
        del self._events[event.key]
        sent = event.sent
        if sent is None:
            self.unmatched += len(event.firsts) + len(event.early_duplicates)
            return None
        counts = self.counts[sent.kind]
        firsts = event.firsts
        expected_at = set(self._expected(sent))
        expected = len(expected_at)
        delivered = late = 0
        emit = self._on_delivery
        for socket, t_recv in firsts.items():
            if socket in expected_at:
                delivered += 1
                status = "late" if t_recv - sent.t_send > self.late_after else "delivered"
                late += status == "late"
            else:
                status = "optional"
            if emit is not None:
                emit(Delivery(sent.kind, sent.key, socket, sent.t_send, sent.t_sched, t_recv,
                              status))
        if emit is not None:
            for socket in expected_at.difference(firsts):
                emit(Delivery(sent.kind, sent.key, socket, sent.t_send, sent.t_sched, None,
                              "lost"))
        counts.expected += expected
        counts.delivered += delivered
        counts.late += late
        counts.lost += expected - delivered
        counts.optional += len(firsts) - delivered
        return EventOutcome(
            key=sent.key,
            kind=sent.kind,
            t_send=sent.t_send,
            expected=expected,
            delivered=delivered,
            lost=expected - delivered,
            last_recv=max(firsts.values()) if firsts else None,
        )
