"""Validation against the bundled schemas: the protocol's own examples pass, broken frames say why."""

from __future__ import annotations

import pytest

from wsprobe.core import Direction, SchemaSet, load_schemas

C, S = Direction.CLIENT, Direction.SERVER


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return load_schemas()


# protocol.md section 6, frame by frame, plus the tolerances real traffic needs
VALID = [
    (C, '{"type":"new-user-add","userId":"alice"}'),
    (C, '{"type":"new-user-add","data":{"userId":"alice"}}'),
    (S, '{"type":"get-users","data":["alice"]}'),
    (S, '{"type":"get-users","data":["alice","bob"]}'),
    (S, '{"type":"get-users","data":[{"userId":"alice"},{"userId":"bob"}]}'),
    (S, '{"type":"get-users","data":[]}'),
    (C, '{"type":"user-status-update","data":{"userId":"alice","status":"away"}}'),
    (S, '{"type":"user-status-update","data":{"userId":"alice","status":"away"}}'),
    (C, '{"type":"user-status-update","data":{"userId":"a","status":"online","lastSeen":1764115200000}}'),
    (C, '{"type":"send-message","data":{"senderId":"alice","receiverId":"bob","text":"hi","chatId":"c1"}}'),
    (S, '{"type":"receive-message","data":{"chatId":"c1","senderId":"alice","text":"hi"}}'),
    (C, '{"type":"agora-signal","data":{"action":"call-request","targetId":"bob","channel":"c-42","callType":"video","timestamp":1764115200000}}'),
    (S, '{"type":"agora-signal","userId":"alice","data":{"action":"call-request","targetId":"bob","channel":"c-42","callType":"video","timestamp":1764115200000,"senderId":"alice"}}'),
    (C, '{"type":"agora-signal","data":{"action":"call-accepted","targetId":"alice","channel":"c-42"}}'),
    (S, '{"type":"agora-signal","userId":"bob","data":{"action":"call-accepted","targetId":"alice","channel":"c-42","senderId":"bob"}}'),
    (C, '{"type":"agora-signal","data":{"action":"offer","targetId":"bob","sdp":"v=0..."}}'),
    (S, '{"type":"agora-signal","data":{"action":"call-ended","reason":"peer-disconnected","senderId":"bob"}}'),
    (S, '{"type":"error","data":{"code":"receiver-offline","message":"bob is offline","ref":"send-message"}}'),
    (S, '{"type":"get-users","data":["alice"]}\n'),
    (S, '{"data":["alice"],"type":"get-users","unknownTopLevel":true}'),
]


@pytest.mark.parametrize(("direction", "frame"), VALID, ids=[f"{i:02d}" for i in range(len(VALID))])
def test_protocol_examples_are_valid(schemas: SchemaSet, direction: Direction, frame: str) -> None:
    """Every example frame of protocol.md and every documented tolerance validates cleanly."""
    decoded = schemas.check(frame, direction, 0.0)
    assert decoded.problems == ()
    assert decoded.ok


INVALID = [
    ("empty-user-id", C, '{"type":"new-user-add","userId":""}', "/userId", "minLength"),
    ("no-user-id", C, '{"type":"new-user-add","data":{}}', "", "anyOf"),
    ("numeric-user-id", C, '{"type":"new-user-add","userId":5}', "/userId", "type"),
    ("bad-status", S, '{"type":"user-status-update","data":{"userId":"a","status":"busy"}}', "/data/status", "enum"),
    ("chat-no-chatId", C, '{"type":"send-message","data":{"receiverId":"b","text":"hi"}}', "/data/chatId", "required"),
    ("chat-numeric-receiver", C, '{"type":"send-message","data":{"receiverId":1,"text":"t","chatId":"c"}}', "/data/receiverId", "type"),
    ("receive-no-sender", S, '{"type":"receive-message","data":{"chatId":"c","text":"t"}}', "/data/senderId", "required"),
    ("call-request-no-channel", C, '{"type":"agora-signal","data":{"action":"call-request","targetId":"b","callType":"video"}}', "/data/channel", "required"),
    ("call-type-fax", C, '{"type":"agora-signal","data":{"action":"call-request","targetId":"b","channel":"c","callType":"fax"}}', "/data/callType", "enum"),
    ("relayed-signal-no-sender", S, '{"type":"agora-signal","data":{"action":"call-request"}}', "", "anyOf"),
    ("get-users-empty-id", S, '{"type":"get-users","data":["a",""]}', "/data/1", "anyOf"),
    ("get-users-object-data", S, '{"type":"get-users","data":{"a":1}}', "/data", "type"),
    ("error-unknown-code", S, '{"type":"error","data":{"code":"oops","message":"m"}}', "/data/code", "enum"),
    ("status-no-data", C, '{"type":"user-status-update"}', "/data", "required"),
]


@pytest.mark.parametrize(("direction", "frame", "pointer", "keyword"),
                         [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_frames_name_pointer_and_keyword(
    schemas: SchemaSet, direction: Direction, frame: str, pointer: str, keyword: str
) -> None:
    """Each broken frame is reported with the JSON pointer of the bad value and the failed keyword."""
    problems = schemas.check(frame, direction, 0.0).problems
    assert (pointer, keyword) in [(p.pointer, p.keyword) for p in problems], problems
    assert all(p.code == "schema" and p.message for p in problems)


def test_every_problem_is_reported_once(schemas: SchemaSet) -> None:
    """Two missing fields give two problems, not one and not four."""
    frame = '{"type":"agora-signal","data":{"action":"call-request","targetId":"b"}}'
    problems = schemas.check(frame, C, 0.0).problems
    assert sorted(p.pointer for p in problems) == ["/data/callType", "/data/channel"]


def test_plain_words_messages(schemas: SchemaSet) -> None:
    """Messages read as sentences about the value, not as schema dumps."""
    frame = '{"type":"user-status-update","data":{"userId":"a","status":"busy"}}'
    (problem,) = schemas.check(frame, S, 0.0).problems
    assert problem.message == 'must be one of "online", "away", "offline"; got "busy"'
    (missing,) = schemas.check('{"type":"new-user-add","userId":""}', C, 0.0).problems
    assert missing.message == "must not be empty"


def test_misspelled_receive_message_is_named(schemas: SchemaSet) -> None:
    """The old tutorial's `recieve-message` is an unknown type with a did-you-mean hint (C6)."""
    (problem,) = schemas.check('{"type":"recieve-message","data":{}}', S, 0.0).problems
    assert problem.code == "unknown-type"
    assert "did you mean 'receive-message'" in problem.message


def test_type_of_the_other_direction_is_named(schemas: SchemaSet) -> None:
    """A server that sends `send-message` is told it is a client-to-server type."""
    frame = '{"type":"send-message","data":{"receiverId":"b","text":"t","chatId":"c"}}'
    (problem,) = schemas.check(frame, S, 0.0).problems
    assert problem.code == "unknown-type"
    assert "client-to-server type" in problem.message


def test_known_types_per_direction(schemas: SchemaSet) -> None:
    """The bundled set declares the protocol's types in each direction and nothing else."""
    assert schemas.types(C) == {"new-user-add", "user-status-update", "send-message", "agora-signal"}
    assert schemas.types(S) == {"get-users", "user-status-update", "receive-message",
                                "agora-signal", "error"}
