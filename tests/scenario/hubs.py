"""Reference hubs that each break one rule, for showing that a step fails when it should."""

from __future__ import annotations

import json

from wsprobe.core import Decoded, Message
from wsprobe.server import Action, Hub, Send, SocketId, UserId


class DropChat(Hub):
    """Chat messages vanish (a dropped relay)."""

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        return []


class WrongUser(Hub):
    """Chat messages go to everyone except the receiver."""

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        actions = super().deliver_message(sock, user, message)
        receiver = message.data["receiverId"]
        return [Send(self.registered_sockets(but=receiver), a.text)
                if isinstance(a, Send) else a for a in actions]


class NoStatusRelay(Hub):
    """Status updates are never relayed (the heartbeat goes nowhere)."""

    def relay_status(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        return []


class Ghosts(Hub):
    """A user whose sockets are gone stays in the list (nobody is told)."""

    def user_left(self, user: UserId) -> list[Action]:
        return []


class FirstSocketOnly(Hub):
    """Only the first socket of a user gets chat messages."""

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        actions = super().deliver_message(sock, user, message)
        return [Send(a.to[:1], a.text) if isinstance(a, Send) else a for a in actions]


class Reversed(Hub):
    """Messages are held and delivered in reverse order, three at a time."""

    held: list[list[Action]]

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        self.__dict__.setdefault("held", [])
        self.held.append(super().deliver_message(sock, user, message))
        if len(self.held) < 3:
            return []
        out = [a for batch in reversed(self.held) for a in batch]
        self.held.clear()
        return out


class NoChannel(Hub):
    """Relayed signals lose their ``channel``."""

    def relay_signal(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        actions = super().relay_signal(sock, user, message)
        out: list[Action] = []
        for action in actions:
            if isinstance(action, Send) and '"agora-signal"' in action.text:
                frame = json.loads(action.text)
                frame["data"].pop("channel", None)
                out.append(Send(action.to, json.dumps(frame)))
            else:
                out.append(action)
        return out


class KeepsBinary(Hub):
    """A binary frame gets an error instead of a close (R2 says close with 1003)."""

    def reject(self, sock: SocketId, decoded: Decoded) -> list[Action]:
        if decoded.problems and decoded.problems[0].code == "binary":
            return [self.error(sock, "invalid-message", "binary")]
        return super().reject(sock, decoded)
