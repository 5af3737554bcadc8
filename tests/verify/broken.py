"""Reference hubs that each break exactly one rule, to prove that every check can fail.

Each class overrides one behaviour of :class:`wsprobe.server.Hub`; its docstring says which rule
it breaks and how, the way a real backend gets it wrong.
"""

from __future__ import annotations

from typing import Any

from wsprobe.core import Decoded, Message
from wsprobe.server import Action, Close, Hub, Send, SocketId, UserId, encode


class SilentToExtraSockets(Hub):
    """P3: a user's 2nd and 3rd socket get no get-users (the online set did not change)."""

    def register(self, sock: SocketId, user: UserId) -> list[Action]:
        if self.sockets_of(user):
            self._user_of[sock] = user
            self._sockets[user][sock] = None
            return []
        return super().register(sock, user)


class ListsEverySocket(Hub):
    """P1: get-users names a user once per open socket (a list built from connections)."""

    def users_frame(self) -> str:
        return encode("get-users", [u for u, socks in self._sockets.items() for _ in socks])


class OneSocketIsTheUser(Hub):
    """P2: closing any socket of a user takes the user offline."""

    def close(self, sock: SocketId) -> list[Action]:
        user = self.user_of(sock)
        actions = super().close(sock)
        if user is not None and self.sockets_of(user):
            for other in self.sockets_of(user):
                self._user_of[other] = None
            del self._sockets[user]
            return self.user_left(user)
        return actions


class RegistersAnything(Hub):
    """P4: new-user-add registers whatever id it carries, even "" or a number."""

    def reject(self, sock: SocketId, decoded: Decoded) -> list[Action]:
        message = decoded.message
        if message is not None and message.type == "new-user-add":
            data = message.data if isinstance(message.data, dict) else {}
            raw = message.envelope.get("userId", data.get("userId"))
            return self.register(sock, UserId(raw if isinstance(raw, str) else str(raw)))
        return super().reject(sock, decoded)


class StatusToFirstSocketOnly(Hub):
    """P5: a status is relayed to one socket per user, not to all of them."""

    def relay_status(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        assert user is not None
        data = {**message.data, "userId": user}
        firsts = [self.sockets_of(u)[0] for u in self.online() if u != user]
        return [Send(tuple(firsts), encode("user-status-update", data))] if firsts else []


class StatusTrustsBody(Hub):
    """P5: the relayed status carries the data.userId the body claims."""

    def relay_status(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        assert user is not None
        data = {"userId": user, **message.data}
        return [Send(self.registered_sockets(but=user), encode("user-status-update", data))]


class NoOfflineStatus(Hub):
    """P6: nobody is told that a user went offline."""

    def offline_status(self, user: UserId) -> list[Action]:
        return []


class DeliversToOneSocket(Hub):
    """C1: a message reaches only the receiver's first socket."""

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        actions = super().deliver_message(sock, user, message)
        return [Send(a.to[:1], a.text) if isinstance(a, Send) else a for a in actions]


class SenderFromBody(Hub):
    """C2: receive-message.senderId is taken from the body when the body has one."""

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        actions = super().deliver_message(sock, user, message)
        claimed = message.data.get("senderId")
        if claimed is None:
            return actions
        return [Send(a.to, a.text.replace(f'"senderId":"{user}"', f'"senderId":"{claimed}"'))
                if isinstance(a, Send) else a for a in actions]


class SwapsBursts(Hub):
    """C3: from the third message between two users on, messages arrive in swapped pairs
    (as when a server hands each message to a worker pool)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts: dict[tuple[str, str], int] = {}
        self.held: dict[tuple[str, str], list[Action]] = {}

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        actions = super().deliver_message(sock, user, message)
        pair = (str(user), str(message.data["receiverId"]))
        n = self.counts[pair] = self.counts.get(pair, 0) + 1
        if n >= 3 and n % 2 == 1:
            self.held[pair] = actions
            return []
        return actions + self.held.pop(pair, [])


class AnonymousMayWrite(Hub):
    """C4: a socket that never registered can send messages (as "anonymous")."""

    open_types = frozenset({"new-user-add", "send-message"})

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        return super().deliver_message(sock, user or UserId("anonymous"), message)


class NoReceiverOffline(Hub):
    """C5: a message to an offline user vanishes without an error."""

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        if not self.sockets_of(message.data["receiverId"]):
            return []
        return super().deliver_message(sock, user, message)


class Misspelled(Hub):
    """C6: deliveries are typed recieve-message (the old tutorial's spelling)."""

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        actions = super().deliver_message(sock, user, message)
        return [Send(a.to, a.text.replace('"receive-message"', '"recieve-message"'))
                if isinstance(a, Send) else a for a in actions]


class SignalDropsFields(Hub):
    """S1: the relayed signal keeps only the fields the server knows (sdp and extras are lost)."""

    def relay_signal(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        known = {"action", "targetId", "channel", "callType", "timestamp", "reason"}
        data = {k: v for k, v in message.data.items() if k in known}
        trimmed = Message(message.type, message.direction, {**message.envelope, "data": data},
                          message.raw, message.received_at)
        return super().relay_signal(sock, user, trimmed)


class SignalSenderInDataOnly(Hub):
    """S1 (SHOULD both): the relayed signal names its sender in data.senderId only."""

    def relay_signal(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        actions = super().relay_signal(sock, user, message)
        return [Send(a.to, a.text.replace(f'"userId":"{user}",', "", 1))
                if isinstance(a, Send) and a.text.startswith('{"type":"agora-signal"') else a
                for a in actions]


class SignalTrustsBody(Hub):
    """S1: the relayed signal carries the sender ids the body claims."""

    def relay_signal(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        claimed = message.data.get("senderId") or message.envelope.get("userId")
        return super().relay_signal(sock, UserId(claimed) if claimed else user, message)


class RelaysIncompleteCalls(Hub):
    """S2: a call-request without channel or callType is relayed anyway."""

    def reject(self, sock: SocketId, decoded: Decoded) -> list[Action]:
        message = decoded.message
        if message is not None and message.type == "agora-signal" and isinstance(
                message.data, dict) and "targetId" in message.data:
            targets = self.sockets_of(message.data["targetId"])
            user = self.user_of(sock)
            return [Send(targets, encode("agora-signal", {**message.data, "senderId": user},
                                         user_id=user))] if targets else []
        return super().reject(sock, decoded)


class ForgetsCalls(Hub):
    """S3: when a party vanishes, the other party is not told the call ended."""

    def end_calls(self, user: UserId) -> list[Action]:
        return []


class FreezesAfterDroppedCall(Hub):
    """S4: when a party of an accepted call drops while others are online, the server stops
    serving anyone (a deadlock in the call bookkeeping): every frame is ignored from then on."""

    frozen = False

    def end_calls(self, user: UserId) -> list[Action]:
        if self.peers_of(user) and len(self.online()) >= 2:
            self.frozen = True
        return super().end_calls(user)

    def receive(self, sock: SocketId, frame: str | bytes, now: float) -> list[Action]:
        return [] if self.frozen else super().receive(sock, frame, now)


class ErrorsToEveryone(Hub):
    """R1: the error for one socket's bad input goes to every registered socket."""

    def reject(self, sock: SocketId, decoded: Decoded) -> list[Action]:
        actions = super().reject(sock, decoded)
        everyone = tuple({*self.registered_sockets(), sock})
        return [Send(everyone, a.text) if isinstance(a, Send) else a for a in actions]


class DropsBadInputSilently(Hub):
    """R2: bad input is dropped without an answer (no error, no close)."""

    def reject(self, sock: SocketId, decoded: Decoded) -> list[Action]:
        return []

    def receive(self, sock: SocketId, frame: str | bytes, now: float) -> list[Action]:
        actions = super().receive(sock, frame, now)
        return [a for a in actions if not (isinstance(a, Send) and '"type":"error"' in a.text
                                           and ('"unknown-type"' in a.text))]


class StallsAfterTwenty(Hub):
    """R3: registrations beyond 20 open sockets are silently ignored (a capacity stall)."""

    def register(self, sock: SocketId, user: UserId) -> list[Action]:
        if len(self.registered_sockets()) >= 20:
            return []
        return super().register(sock, user)


class ClosesOnOffline(Hub):
    """T2: a client that says 'offline' is thrown out with 1011 instead of a clean close."""

    def relay_status(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        if message.data.get("status") == "offline":
            return [Close(sock, 1011, "bye")]
        return super().relay_status(sock, user, message)


class ErrorsWithoutMessage(Hub):
    """F1: error frames lack the required 'message' field."""

    def error(self, sock: SocketId, code: str, message: str, ref: str | None = None) -> Send:
        return Send((sock,), encode("error", {"code": code}))


class ClosesOnBadInput(Hub):
    """Not broken: a strict server that closes (1008) a socket sending anything invalid,
    unknown or unregistered instead of answering with an error (R2 allows it)."""

    closing_codes = frozenset({"invalid-json", "invalid-message", "unknown-type",
                               "not-registered"})

    def receive(self, sock: SocketId, frame: str | bytes, now: float) -> list[Action]:
        actions = super().receive(sock, frame, now)
        for action in actions:
            if isinstance(action, Send) and action.to == (sock,) and any(
                    f'"code":"{code}"' in action.text for code in self.closing_codes):
                return [Close(sock, 1008, "bad input")]
        return actions
