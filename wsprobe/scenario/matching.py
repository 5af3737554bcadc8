"""Which frame an expectation takes, and why the others did not match; no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from wsprobe.errors import InputError
from wsprobe.scenario.frames import FrameRecord
from wsprobe.scenario.predicates import FieldTest, PredicateError, compile_where

__all__ = ["Matcher", "Miss", "Mode", "Where", "describe_miss"]

Where = Mapping[str, Any] | Iterable[FieldTest]
"""A ``where``: a mapping of field paths to values or operators, or prepared tests."""
Mode = Literal["every", "any"]
"""Whether every socket of an expectation must get the frames, or any one."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """A message type (``None``: any frame) and predicates that must all hold."""

    type: str | None
    where: tuple[FieldTest, ...] = ()

    @classmethod
    def build(cls, type: str | None, where: Where = ()) -> Matcher:
        """From a ``where`` mapping or prepared predicates; a bad one is an :class:`InputError`."""
        try:
            return cls(type, compile_where(where))
        except PredicateError as exc:
            raise InputError(f"bad predicate: {exc}") from None

    def test(self, frame: FrameRecord) -> bool:
        """Whether the frame is of the type and satisfies every predicate."""
        if self.type is not None and frame.type != self.type:
            return False
        envelope = frame.envelope
        return all(p.test(envelope) for p in self.where) if self.where else True

    def describe(self) -> str:
        """``receive-message where data.text == "hi"``."""
        what = self.type or "any frame"
        if self.where:
            what += " where " + " and ".join(p.describe() for p in self.where)
        return what

    def why_not(self, frame: FrameRecord) -> str | None:
        """The first predicate a frame of the right type fails, explained; None otherwise."""
        if self.type is not None and frame.type != self.type:
            return None
        for p in self.where:
            if not p.test(frame.envelope):
                return p.explain(frame.envelope)
        return None


@dataclass(frozen=True, slots=True)
class Miss:
    """What arrived instead of the expected frame: a sentence and the evidence."""

    text: str
    frames: tuple[FrameRecord, ...]


def describe_miss(matcher: Matcher, queued: Sequence[FrameRecord], limit: int = 5) -> Miss:
    """Near misses first (right type, a predicate failed), then the other frames by type."""
    near = [(f, why) for f in queued if (why := matcher.why_not(f)) is not None]
    others = [f for f in queued if matcher.why_not(f) is None]
    parts: list[str] = []
    if near:
        shown = "; ".join(why for _, why in near[:3])
        more = f" (and {len(near) - 3} more)" if len(near) > 3 else ""
        parts.append(f"{len(near)} {matcher.type} that did not match: {shown}{more}")
    elif matcher.type is not None and others:
        parts.append(f"no {matcher.type} arrived")
    if others:
        kinds = Counter(f.type or "invalid frame" for f in others)
        parts.append("other frames: " + ", ".join(f"{n} {t}" for t, n in kinds.most_common()))
    frames = tuple(f for f, _ in near[:limit]) + tuple(others[-max(0, limit - len(near)):])
    return Miss("; ".join(parts), frames[:limit] if near else tuple(others[-limit:]))
