"""Every frame a session sends or receives, as a value: who, when, which way, and what was wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NewType

from wsprobe.core import Decoded, Direction, Message, Problem

__all__ = ["ActorName", "FrameRecord", "SocketName"]

ActorName = NewType("ActorName", str)
SocketName = NewType("SocketName", str)


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One frame on one socket: ``seq`` orders a session's frames, ``at`` is wall-clock time."""

    seq: int
    at: float
    actor: ActorName
    socket: SocketName
    decoded: Decoded

    @property
    def direction(self) -> Direction:
        """``client-to-server`` (sent by the scenario) or ``server-to-client`` (received)."""
        return self.decoded.direction

    @property
    def raw(self) -> str | bytes:
        """The frame as it was on the wire."""
        return self.decoded.raw

    @property
    def message(self) -> Message | None:
        """The decoded message, when the frame is one."""
        return self.decoded.message

    @property
    def type(self) -> str | None:
        """The message type, when the frame has one."""
        return self.decoded.message.type if self.decoded.message else None

    @property
    def envelope(self) -> dict[str, Any] | None:
        """The JSON object of the frame, when it is one."""
        return self.decoded.message.envelope if self.decoded.message else None

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What the schemas found wrong with the frame (empty when valid)."""
        return self.decoded.problems

    @property
    def where(self) -> str:
        """``actor/socket``, the way reports name a socket."""
        return f"{self.actor}/{self.socket}"

    def text(self, limit: int = 300) -> str:
        """The frame as text for reports, cut to ``limit`` characters."""
        raw = self.raw
        text = raw if isinstance(raw, str) else f"<binary {len(raw)} bytes: {raw[:32].hex()}>"
        text = text.rstrip("\n")
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def arrow(self) -> str:
        """One line for reports: ``alice/main <- {"type": ...}``."""
        sign = "->" if self.direction is Direction.CLIENT else "<-"
        return f"{self.where} {sign} {self.text()}"
