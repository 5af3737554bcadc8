"""Decoding frames into messages: anything that is not a protocol message is a problem, not a crash."""

from __future__ import annotations

import pytest

from wsprobe.core import Direction, decode

C, S = Direction.CLIENT, Direction.SERVER


@pytest.mark.parametrize(
    ("frame", "code", "pointer"),
    [
        (b"\x00\x01", "binary", ""),
        ("{not json", "invalid-json", ""),
        ("", "invalid-json", ""),
        ("[1, 2]", "not-object", ""),
        ('"text"', "not-object", ""),
        ("null", "not-object", ""),
        ('{"data": {}}', "missing-type", "/type"),
        ('{"type": ""}', "missing-type", "/type"),
        ('{"type": 7}', "missing-type", "/type"),
        ("[" * 100_000 + "]" * 100_000, "invalid-json", ""),
    ],
    ids=["binary", "invalid-json", "empty", "array", "string", "null", "no-type", "empty-type",
         "number-type", "deep-nesting"],
)
def test_non_messages_are_problems(frame: str | bytes, code: str, pointer: str) -> None:
    """A frame that is not a JSON object with a string type decodes to exactly one problem."""
    decoded = decode(frame, S, 1.5)
    assert decoded.message is None
    assert [(p.code, p.pointer) for p in decoded.problems] == [(code, pointer)]
    assert not decoded.ok
    assert decoded.received_at == 1.5


def test_message_keeps_envelope_raw_text_direction_and_time() -> None:
    """A decoded message carries its type, data, top-level userId, raw text and receive time."""
    raw = '{"type":"new-user-add","userId":"alice","extra":1}\n'
    decoded = decode(raw, C, 12.25)
    msg = decoded.message
    assert msg is not None
    assert (msg.type, msg.direction, msg.user_id, msg.data) == ("new-user-add", C, "alice", None)
    assert msg.raw == raw
    assert msg.received_at == 12.25
    assert msg.envelope["extra"] == 1


def test_invalid_json_message_gives_line_and_column() -> None:
    """The plain-words message of invalid JSON says where the JSON broke."""
    (problem,) = decode('{"type": "get-users",\n "data": [}', S, 0).problems
    assert "line 2 column" in problem.message
