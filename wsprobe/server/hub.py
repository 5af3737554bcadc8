"""The protocol's state machine (protocol.md sections 1 to 5), with no I/O.

Three verbs, as in ``websockets.protocol``: :meth:`Hub.open` when a socket opens,
:meth:`Hub.receive` for each frame it sends (text, or bytes for a binary frame) and
:meth:`Hub.close` when it is gone. Each returns the :data:`~wsprobe.server.frames.Action` list the
pump must carry out, in order. Sockets are opaque ids; the hub never sees a connection or a clock
(``now`` is passed in, in seconds of any monotonic origin, for rate limiting).

Every protocol behaviour is one small method that a subclass may override to break exactly one
rule (for tests of checkers): :meth:`~Hub.users_frame` (P1), :meth:`~Hub.register` (P2, P3),
:meth:`~Hub.registered_id` (P4), :meth:`~Hub.relay_status` (P5), :meth:`~Hub.offline_status`
(P6), :meth:`~Hub.deliver_message` (C1 to C5), :meth:`~Hub.relay_signal` (S1, S2),
:meth:`~Hub.track_call` and :meth:`~Hub.end_calls` (S3), :meth:`~Hub.reject` (R1, R2),
:meth:`~Hub.admit` (X3), :meth:`~Hub.user_left` (what happens when a user's last socket closes).
A subclass handles a new message type with ``handlers = {**Hub.handlers, "typing": "on_typing"}``
and a method ``on_typing(sock, user, message) -> list[Action]`` (the type needs a schema).

Decisions where the protocol leaves room:

- **Identity is the connection's.** A socket registers once. ``new-user-add`` again with the same
  id is answered with ``get-users`` (P3) and changes nothing; with a different id it gets
  ``error`` ``forbidden`` and the socket keeps its first identity. Body ids (``senderId``,
  ``data.userId`` of a status) are overwritten with the registered id, never relayed as given.
- **Busy.** A ``call-request`` to a user who is already in an accepted call is relayed like any
  other signal: S1 says a signal reaches its target, with no exception, and the callee's client
  owns the decision (it answers ``call-rejected`` with ``reason: "busy"``, which is relayed back).
  The hub tracks every accepted call of a user, so a second accepted call is tracked too.
- **Calls.** ``call-accepted`` from B to A makes A and B parties of an accepted call (on
  ``channel`` if given); ``call-ended``, ``call-rejected`` or ``call-cancelled`` between them ends
  it. When a party's last socket closes, the other party's sockets get ``agora-signal``
  ``{"action": "call-ended", "reason": "peer-disconnected", "targetId", "senderId", "channel"}``
  with the gone party's id in top-level ``userId`` (S3). Unanswered requests are not tracked.
- **Unreachable targets.** ``send-message`` (C5) and ``agora-signal`` to a user with no open
  socket get ``error`` ``receiver-offline``.
- **Who hears what.** ``get-users`` goes to every registered socket when the online set changes,
  and only to the registering socket when a known user adds a socket. A status update goes to
  every socket of every *other* online user; ``offline`` (P6) to every remaining registered socket.
- **Bad input** (R1, R2): invalid JSON gets ``invalid-json``; a non-object, a missing ``type`` or
  schema-invalid data ``invalid-message``; an unknown type ``unknown-type``; every other frame of
  an unregistered socket ``not-registered``; a frame over the rate limit ``rate-limited`` (and is
  dropped). A binary frame closes the socket with 1003; invalid UTF-8 (1007) and oversized frames
  (1009) are closed by the ``websockets`` layer before they reach the hub.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, cast

from wsprobe.core import Decoded, Direction, Message, SchemaSet, load_schemas
from wsprobe.server.frames import Action, Close, Send, SocketId, UserId, encode
from wsprobe.server.ratelimit import RateLimit, TokenBucket

__all__ = ["Hub", "default_schemas"]

# Problem.code of wsprobe.core -> error code of protocol.md section 4
_ERROR_CODES = {
    "invalid-json": "invalid-json",
    "not-object": "invalid-message",
    "missing-type": "invalid-message",
    "unknown-type": "unknown-type",
    "schema": "invalid-message",
}
_MAX_ERROR_TEXT = 500

Handler = Callable[[SocketId, "UserId | None", Message], list[Action]]


@functools.cache
def default_schemas() -> SchemaSet:
    """The bundled schemas, loaded and compiled once per process."""
    return load_schemas()


class Hub:
    """Presence, chat and call signalling for any number of users with several sockets each."""

    #: message type -> name of the method that handles it (``(sock, user, message) -> actions``)
    handlers: ClassVar[dict[str, str]] = {
        "new-user-add": "on_new_user_add",
        "user-status-update": "relay_status",
        "send-message": "deliver_message",
        "agora-signal": "relay_signal",
    }
    #: types a socket may send before it registers
    open_types: ClassVar[frozenset[str]] = frozenset({"new-user-add"})
    #: signal actions that end a call between the two parties
    call_end_actions: ClassVar[frozenset[str]] = frozenset(
        {"call-ended", "call-rejected", "call-cancelled", "call-canceled"}
    )

    def __init__(self, *, rate_limit: RateLimit | None = None,
                 schemas: SchemaSet | None = None) -> None:
        self.rate_limit = rate_limit
        self.schemas = schemas if schemas is not None else default_schemas()
        self._user_of: dict[SocketId, UserId | None] = {}
        self._buckets: dict[SocketId, TokenBucket] = {}
        self._sockets: dict[UserId, dict[SocketId, None]] = {}  # online users, in order of arrival
        self._calls: dict[UserId, dict[UserId, str | None]] = {}  # party -> {peer: channel}

    # -- the three verbs --------------------------------------------------------------------

    def open(self, sock: SocketId) -> list[Action]:
        """A socket opened; nothing is sent until it registers."""
        self._user_of[sock] = None
        if self.rate_limit is not None:
            self._buckets[sock] = TokenBucket(self.rate_limit)
        return []

    def receive(self, sock: SocketId, frame: str | bytes, now: float) -> list[Action]:
        """A frame arrived on ``sock`` at ``now``: validate it and dispatch it by type."""
        if sock not in self._user_of:
            self.open(sock)
        if not self.admit(sock, now):
            return [self.error(sock, "rate-limited", "too many messages; slow down")]
        decoded = self.schemas.check(frame, Direction.CLIENT, now)
        message = decoded.message
        if message is None or decoded.problems:
            return self.reject(sock, decoded)
        name = self.handlers.get(message.type)
        if name is None:
            return [self.error(sock, "unknown-type",
                               f"this server does not handle {message.type!r}", message.type)]
        user = self._user_of[sock]
        if user is None and message.type not in self.open_types:
            return [self.error(sock, "not-registered",
                               f"send new-user-add before {message.type!r}", message.type)]
        handler = cast(Handler, getattr(self, name))
        return handler(sock, user, message)

    def close(self, sock: SocketId) -> list[Action]:
        """``sock`` is gone. A user stays online while any of its sockets is open (P2)."""
        user = self._user_of.pop(sock, None)
        self._buckets.pop(sock, None)
        if user is None:
            return []
        sockets = self._sockets[user]
        del sockets[sock]
        if sockets:
            return []
        del self._sockets[user]
        return self.user_left(user)

    # -- queries ----------------------------------------------------------------------------

    def online(self) -> tuple[UserId, ...]:
        """Users with at least one open registered socket, in order of arrival."""
        return tuple(self._sockets)

    def sockets_of(self, user: str) -> tuple[SocketId, ...]:
        """The open sockets registered as ``user``."""
        return tuple(self._sockets.get(UserId(user), ()))

    def user_of(self, sock: SocketId) -> UserId | None:
        """The user ``sock`` registered as, if any."""
        return self._user_of.get(sock)

    def peers_of(self, user: str) -> frozenset[UserId]:
        """The users ``user`` is in an accepted call with."""
        return frozenset(self._calls.get(UserId(user), ()))

    def registered_sockets(self, *, but: str | None = None) -> tuple[SocketId, ...]:
        """Every registered socket, except those of user ``but``."""
        return tuple(s for u, socks in self._sockets.items() if u != but for s in socks)

    # -- presence ---------------------------------------------------------------------------

    def on_new_user_add(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        """``new-user-add``: register the socket, once, under the id the frame carries."""
        new = self.registered_id(message)
        if new is None:
            return [self.error(sock, "invalid-message",
                               "new-user-add needs a non-empty string id in 'userId' or "
                               "'data.userId'", message.type)]
        if user is not None and user != new:
            return [self.error(sock, "forbidden",
                               f"this socket is registered as {user!r}; open another socket "
                               f"to register as {new!r}", message.type)]
        return self.register(sock, new)

    def registered_id(self, message: Message) -> UserId | None:
        """P4: the id to register, from top-level ``userId`` or ``data.userId``; None if invalid."""
        data = message.data
        for candidate in (message.envelope.get("userId"),
                          data.get("userId") if isinstance(data, dict) else None):
            if isinstance(candidate, str) and candidate:
                return UserId(candidate)
        return None

    def register(self, sock: SocketId, user: UserId) -> list[Action]:
        """P2, P3: add the socket to its user; tell everyone if the user just came online."""
        self._user_of[sock] = user
        sockets = self._sockets.get(user)
        if sockets is None:
            self._sockets[user] = {sock: None}
            return self.announce_users()
        sockets[sock] = None
        return [Send((sock,), self.users_frame())]

    def users_frame(self) -> str:
        """P1: the ``get-users`` frame: every online user once, as strings."""
        return encode("get-users", list(self._sockets))

    def announce_users(self) -> list[Action]:
        """P1: ``get-users`` to every registered socket (the online set changed)."""
        return _send(self.registered_sockets(), self.users_frame())

    def relay_status(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        """P5: relay a status to every socket of every other online user, with the sender's id."""
        assert user is not None
        data = dict(message.data)
        data["userId"] = user
        return _send(self.registered_sockets(but=user), encode("user-status-update", data))

    def user_left(self, user: UserId) -> list[Action]:
        """The last socket of ``user`` closed: new user list (P1), ``offline`` (P6), calls (S3)."""
        return [*self.announce_users(), *self.offline_status(user), *self.end_calls(user)]

    def offline_status(self, user: UserId) -> list[Action]:
        """P6: ``user-status-update`` ``offline`` for ``user`` to every remaining socket."""
        frame = encode("user-status-update", {"userId": user, "status": "offline"})
        return _send(self.registered_sockets(), frame)

    # -- chat -------------------------------------------------------------------------------

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        """C1 to C5: ``receive-message`` to every socket of the receiver, sender from the socket."""
        assert user is not None
        data = dict(message.data)
        targets = self.sockets_of(data["receiverId"])
        if not targets:
            return [self.error(sock, "receiver-offline",
                               f"user {data['receiverId']!r} is not online", message.type)]
        data["senderId"] = user
        return [Send(targets, encode("receive-message", data))]

    # -- call signalling --------------------------------------------------------------------

    def relay_signal(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        """S1, S2: relay ``data`` unchanged to every socket of ``targetId``, plus the sender id."""
        assert user is not None
        data: dict[str, Any] = dict(message.data)
        if data["action"] == "call-request" and not (data.get("channel") and data.get("callType")):
            return [self.error(sock, "invalid-message",
                               "a call-request needs 'channel' and 'callType'", message.type)]
        target = UserId(data["targetId"])
        targets = self.sockets_of(target)
        if not targets:
            return [self.error(sock, "receiver-offline", f"user {target!r} is not online",
                               message.type)]
        self.track_call(user, target, data)
        data["senderId"] = user
        return [Send(targets, encode("agora-signal", data, user_id=user))]

    def track_call(self, user: UserId, peer: UserId, data: dict[str, Any]) -> None:
        """S3 bookkeeping: ``call-accepted`` starts a call, an ending action ends it."""
        action = data["action"]
        if user == peer:
            return
        if action == "call-accepted":
            channel = data.get("channel")
            channel = channel if isinstance(channel, str) else None
            self._calls.setdefault(user, {})[peer] = channel
            self._calls.setdefault(peer, {})[user] = channel
        elif action in self.call_end_actions:
            self._forget_call(user, peer)

    def end_calls(self, user: UserId) -> list[Action]:
        """S3: the other party of each accepted call of ``user`` gets ``call-ended``."""
        actions: list[Action] = []
        for peer, channel in list(self._calls.get(user, {}).items()):
            self._forget_call(user, peer)
            data: dict[str, Any] = {"action": "call-ended", "reason": "peer-disconnected",
                                    "targetId": peer, "senderId": user}
            if channel is not None:
                data["channel"] = channel
            actions += _send(self.sockets_of(peer), encode("agora-signal", data, user_id=user))
        return actions

    def _forget_call(self, a: UserId, b: UserId) -> None:
        for x, y in ((a, b), (b, a)):
            peers = self._calls.get(x)
            if peers is not None:
                peers.pop(y, None)
                if not peers:
                    del self._calls[x]

    # -- robustness -------------------------------------------------------------------------

    def admit(self, sock: SocketId, now: float) -> bool:
        """X3: False when ``sock`` is over its rate limit at ``now``."""
        bucket = self._buckets.get(sock)
        return bucket is None or bucket.take(now)

    def reject(self, sock: SocketId, decoded: Decoded) -> list[Action]:
        """R1, R2: answer a frame that is not a valid message: ``error`` or a close code."""
        first = decoded.problems[0]
        if first.code == "binary":
            return [Close(sock, 1003, "binary frames are not accepted")]
        if first.code == "invalid-utf8":
            return [Close(sock, 1007, "invalid UTF-8")]
        ref = decoded.message.type if decoded.message is not None else None
        text = "; ".join(str(p) for p in decoded.problems)
        return [self.error(sock, _ERROR_CODES.get(first.code, "invalid-message"), text, ref)]

    def error(self, sock: SocketId, code: str, message: str, ref: str | None = None) -> Send:
        """An ``error`` frame ``{code, message, ref?}`` for ``sock``."""
        if len(message) > _MAX_ERROR_TEXT:
            message = message[:_MAX_ERROR_TEXT - 3] + "..."
        data = {"code": code, "message": message}
        if ref is not None:
            data["ref"] = ref[:100]
        return Send((sock,), encode("error", data))


def _send(to: Iterable[SocketId], text: str) -> list[Action]:
    recipients = tuple(to)
    return [Send(recipients, text)] if recipients else []
