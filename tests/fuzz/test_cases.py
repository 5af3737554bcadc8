"""The replay file format: what is written reads back identical; a malformed file names its field."""

from __future__ import annotations

import json

import pytest

from wsprobe.errors import InputError
from wsprobe.fuzz import CASE_FORMAT, Expect, FuzzCase, WireFrame, case_from_json, case_to_json

CASES = [
    FuzzCase("send-message/invalid", (WireFrame.text('{"type":"send-message","data":{"text":[0,0]}}'),),
             Expect.INVALID, user="wsprobe-fuzz", label="fields replaced"),
    FuzzCase("frames/utf8", (WireFrame(1, b'{"type":"\xff"}'),), Expect.INVALID, user="u"),
    FuzzCase("frames/control", (WireFrame(0x9, b"p", fin=False), WireFrame(1, b"x", rsv=4, masked=False)),
             Expect.INVALID),
    FuzzCase("new-user-add/valid", (WireFrame.text('{"type":"new-user-add","userId":"\u00e9\U0001f4a5"}'),),
             Expect.VALID),
]


@pytest.mark.parametrize("case", CASES, ids=["text", "invalid-utf8", "flags", "unicode"])
def test_round_trip(case: FuzzCase) -> None:
    """A case written as JSON text reads back equal, byte for byte."""
    text = json.dumps(case_to_json(case, finding={"code": "x"}, seed=1, target="ws://h/ws/ws"))
    assert case_from_json(json.loads(text)) == case


def test_invalid_utf8_is_base64() -> None:
    """A payload that is not UTF-8 is stored as base64, readable text otherwise."""
    frames = case_to_json(CASES[1])["frames"]
    assert frames == [{"opcode": 1, "base64": "eyJ0eXBlIjoi/yJ9"}]
    assert case_to_json(CASES[0])["frames"][0]["text"].startswith('{"type"')


GOOD = case_to_json(CASES[0])


@pytest.mark.parametrize(("change", "where"), [
    ({"format": "other/1"}, "/format"),
    ({"expect": "maybe"}, "/expect"),
    ({"user": 3}, "/user"),
    ({"frames": []}, "/frames"),
    ({"frames": [{"opcode": 16, "text": ""}]}, "/frames/0/opcode"),
    ({"frames": [{"opcode": 1}]}, "/frames/0"),
    ({"frames": [{"opcode": 2, "base64": "!!"}]}, "/frames/0/base64"),
    ({"frames": [{"opcode": 1, "text": "", "rsv": 9}]}, "/frames/0/rsv"),
], ids=["format", "expect", "user", "no-frames", "opcode", "no-payload", "base64", "rsv"])
def test_malformed_file_names_the_field(change: dict[str, object], where: str) -> None:
    """Each malformed field is an InputError naming the file and the JSON pointer."""
    with pytest.raises(InputError, match=f"case.json: {where}: "):
        case_from_json({**GOOD, **change}, "case.json")


def test_format_constant() -> None:
    """The file format is versioned."""
    assert GOOD["format"] == CASE_FORMAT == "wsprobe-fuzz-case/1"
