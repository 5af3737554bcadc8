"""jsonschema-rs (the fast yes/no) and jsonschema (the explanations) agree on every frame.

The core asks jsonschema-rs whether a frame is valid and asks jsonschema why it is not; if the two
ever disagreed, a bad frame would pass silently or a good one would fail with no reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from wsprobe.core import Direction, Message, MessageType, load_schemas

SCHEMAS = load_schemas()
KEYS = sorted((d, t) for d in Direction for t in SCHEMAS.types(d))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _mutations(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid envelope with one key of it (or of its data) dropped or replaced."""
    def mutate(draw: st.DrawFn) -> dict[str, Any]:
        doc = json.loads(json.dumps(valid))
        target = doc["data"] if isinstance(doc.get("data"), dict) and draw(st.booleans()) else doc
        keys = sorted(target) or ["x"]
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = draw(json_values)
        return doc
    return st.composite(mutate)()


def _agree(direction: Direction, mtype: str, envelope: dict[str, Any]) -> None:
    message = Message(MessageType(mtype), direction, envelope, json.dumps(envelope), 0.0)
    fast_says_valid = not SCHEMAS.validate(message)
    slow = SCHEMAS._validators[(direction, mtype)]  # the explaining implementation
    assert fast_says_valid == slow.is_valid(envelope), envelope


@pytest.mark.parametrize(("direction", "mtype"), KEYS, ids=[f"{d.value}/{t}" for d, t in KEYS])
def test_fast_and_explaining_validators_agree(direction: Direction, mtype: str) -> None:
    """On generated valid frames and on their one-key mutations, both validators give one verdict."""
    strategy = from_schema(SCHEMAS.dereferenced(direction, mtype))

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        valid = data.draw(strategy)
        _agree(direction, mtype, valid)
        _agree(direction, mtype, data.draw(_mutations(valid)))

    check()
