"""What the hub asks the I/O layer to do: values only, no sockets.

A socket is an opaque :data:`SocketId` handed out by the pump; a user is a :data:`UserId`.
The hub answers every event with a list of :data:`Action`: a :class:`Send` of one text frame to
some sockets, or a :class:`Close` of one socket with a close code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NewType

__all__ = ["Action", "Close", "Send", "SocketId", "UserId", "encode"]

SocketId = NewType("SocketId", int)
UserId = NewType("UserId", str)


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``text`` as one text frame to every socket of ``to``, in this order."""

    to: tuple[SocketId, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    """Close ``sock`` with ``code`` (RFC 6455 section 7.4) and a short ``reason``."""

    sock: SocketId
    code: int
    reason: str = ""


Action = Send | Close


def encode(mtype: str, data: Any, user_id: str | None = None) -> str:
    """One protocol frame as compact JSON text: ``{"type", "userId"?, "data"}``."""
    envelope: dict[str, Any] = {"type": mtype}
    if user_id is not None:
        envelope["userId"] = user_id
    envelope["data"] = data
    text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (a client's "\ud800" escape): keep it escaped
            text = json.dumps(envelope, ensure_ascii=True, separators=(",", ":"))
    return text
