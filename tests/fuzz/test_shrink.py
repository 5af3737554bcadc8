"""The structural shrinker: smaller cases that keep failing, simplest values first."""

from __future__ import annotations

import time

from wsprobe.core import load_schemas
from wsprobe.fuzz import Expect, FuzzCase, WireFrame
from wsprobe.fuzz.messages import message_case, nested, spec_of
from wsprobe.fuzz.shrink import shrink

SCHEMAS = load_schemas()
SPEC = spec_of(SCHEMAS, "send-message")


def _text_of(case: FuzzCase) -> str:
    return case.frames[0].payload.decode()


def test_shrinks_a_nested_list_to_one_item() -> None:
    """A failure that needs a non-empty list in data.text shrinks to the smallest such message."""
    envelope = {"type": "send-message", "userId": "x" * 40,
                "data": {"receiverId": "bob", "chatId": "c" * 30, "text": nested(50, "deep"),
                         "extra": {"a": [1, 2, 3]}}}
    start = message_case(SCHEMAS, SPEC, "g", envelope, "big")

    def fails(case: FuzzCase) -> bool:
        data = case.envelope.get("data") if isinstance(case.envelope, dict) else None
        text = data.get("text") if isinstance(data, dict) else None
        return (isinstance(text, list) and len(text) >= 1) or "[[" in _text_of(case)

    best, runs = shrink(start, fails, schemas=SCHEMAS, spec=SPEC, deadline=time.monotonic() + 10)
    assert _text_of(best) == '{"type": "send-message", "data": {"text": [0]}}'
    assert best.label == "big (shrunk)" and best.expect is Expect.INVALID
    assert 0 < runs < 400


def test_shrinks_raw_frames_by_dropping_and_halving() -> None:
    """Raw frame cases lose frames and payload bytes while the failure holds."""
    start = FuzzCase("frames/control", (WireFrame(0x1, b"a" * 64), WireFrame(0x9, b"p" * 100),
                                         WireFrame(0x1, b"b" * 64)), Expect.INVALID)

    def fails(case: FuzzCase) -> bool:
        return any(f.opcode == 0x9 and len(f.payload) >= 10 for f in case.frames)

    best, _ = shrink(start, fails, schemas=SCHEMAS, spec=None, deadline=time.monotonic() + 10)
    assert best.frames == (WireFrame(0x9, b"p" * 12),)


def test_stops_at_the_deadline() -> None:
    """A deadline in the past runs no candidate at all."""
    start = FuzzCase("g", (WireFrame(0x1, b"x" * 100),), Expect.INVALID)
    best, runs = shrink(start, lambda _: True, schemas=SCHEMAS, spec=None,
                        deadline=time.monotonic() - 1)
    assert (best, runs) == (start, 0)
