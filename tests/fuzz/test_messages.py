"""Messages from the schemas: paths, smallest valid envelopes, serialisation, coverage cases."""

from __future__ import annotations

import json

import pytest

from wsprobe.core import Direction, load_schemas
from wsprobe.fuzz import Expect, groups
from wsprobe.fuzz.messages import FUZZ_USER, RawJSON, coverage, nested, serialize, spec_of

SCHEMAS = load_schemas()
TYPES = sorted(SCHEMAS.types(Direction.CLIENT))


@pytest.mark.parametrize("mtype", TYPES)
def test_minimal_envelope_is_valid(mtype: str) -> None:
    """The smallest envelope built from each schema passes that schema."""
    spec = spec_of(SCHEMAS, mtype)
    assert SCHEMAS.check(json.dumps(spec.minimal), Direction.CLIENT, 0.0).ok, spec.minimal


def test_paths_come_from_the_schema() -> None:
    """send-message's paths, required fields and id fields are read from its schema file."""
    spec = spec_of(SCHEMAS, "send-message")
    assert ("data", "text") in spec.paths and ("data", "messageId") in spec.paths
    assert set(spec.required) == {("type",), ("data",), ("data", "receiverId"), ("data", "text"),
                                  ("data", "chatId")}
    assert spec.minimal["data"]["receiverId"] == FUZZ_USER
    assert not spec.registers and spec_of(SCHEMAS, "new-user-add").registers


@pytest.mark.parametrize(("value", "text"), [
    ({"a": RawJSON("1e999")}, '{"a": 1e999}'),
    ({"a": nested(3)}, '{"a": [[[null]]]}'),
    ({"a": "\ud800"}, '{"a": "\\ud800"}'),
    ({"a": "\u00e9"}, '{"a": "\u00e9"}'),
    ({"a": "\u2063", "b": RawJSON("1")}, '{"a": "\\u2063", "b": 1}'),
], ids=["raw-number", "nested", "lone-surrogate", "non-ascii", "marker-char"])
def test_serialize(value: object, text: str) -> None:
    """Raw JSON is spliced in; lone surrogates are escaped so the frame stays valid UTF-8."""
    out = serialize(value)
    assert out == text
    out.encode("utf-8")


def test_coverage_expectations_follow_the_schemas() -> None:
    """A coverage case is expected valid exactly when the schema accepts its frame."""
    spec = spec_of(SCHEMAS, "user-status-update")
    cases = list(coverage(SCHEMAS, spec, "g"))
    assert len(cases) > 50
    for case in cases:
        ok = SCHEMAS.check(case.frames[0].payload.decode(), Direction.CLIENT, 0.0).ok
        assert case.expect is (Expect.VALID if ok else Expect.INVALID), case.label
    labels = {c.label for c in cases}
    assert {"data.status as array", "without data.userId", "data.userId nested 1000 deep"} <= labels


def test_groups_cover_every_type_and_frame_abuse() -> None:
    """One valid and one invalid group per client type, then the frame groups."""
    names = [g.name for g in groups(SCHEMAS)]
    assert names[:2] == ["agora-signal/valid", "agora-signal/invalid"]
    assert {"frames/json", "frames/utf8", "frames/binary", "frames/size", "frames/fragmented",
            "frames/control"} <= set(names)
    assert len(names) == 2 * len(TYPES) + 6
