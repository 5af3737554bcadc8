"""Predicates, templates and durations: values in, answers out, no sockets."""

from __future__ import annotations

from typing import Any

import pytest

from wsprobe.scenario.loader import parse_duration
from wsprobe.scenario.predicates import Predicate, PredicateError, compile_where
from wsprobe.scenario.templates import TemplateContext, TemplateError

ENVELOPE = {"type": "receive-message", "userId": "bob",
            "data": {"text": "hi there", "n": 3, "flag": True, "users": ["a", "b"],
                     "nested": {"x": 1}}}

CASES = [
    ("data.text", "eq", "hi there", True),
    ("data.text", "eq", "hi", False),
    ("data.n", "eq", 3.0, True),
    ("data.flag", "eq", 1, False),  # JSON: true is not 1
    ("data.missing", "eq", None, False),
    ("data.text", "ne", "x", True),
    ("data.text", "present", True, True),
    ("data.missing", "present", False, True),
    ("data.missing", "present", True, False),
    ("userId", "in", ["alice", "bob"], True),
    ("userId", "not_in", ["alice", "bob"], False),
    ("data.text", "matches", "^hi", True),
    ("data.text", "matches", "^there", False),
    ("data.n", "gt", 2, True),
    ("data.n", "lt", 3, False),
    ("data.n", "le", 3, True),
    ("data.text", "ge", 0, False),  # not a number
    ("data.users", "contains", "b", True),
    ("data.users", "not_contains", "b", False),
    ("data.text", "contains", "there", True),
    ("data.users", "length", 2, True),
    ("data.users.1", "eq", "b", True),
    ("data.users.5", "present", False, True),
    ("data.nested", "eq", {"x": 1}, True),
]


@pytest.mark.parametrize(("path", "op", "operand", "expected"), CASES,
                         ids=[f"{p}-{o}-{e}" for p, o, _, e in CASES])
def test_predicate(path: str, op: str, operand: Any, expected: bool) -> None:
    """Each operator answers as documented on a literal envelope."""
    assert Predicate.build(path, op, operand).test(ENVELOPE) is expected


BAD = [
    ("data.x", "nope", 1, "unknown operator 'nope'"),
    ("data.x", "matches", "([", "bad regular expression"),
    ("data.x", "gt", "3", "takes a number"),
    ("data.x", "in", "abc", "takes a list"),
    ("data..x", "eq", 1, "bad field path"),
    ("data.x", "present", "yes", "true or false"),
]


@pytest.mark.parametrize(("path", "op", "operand", "message"), BAD,
                         ids=[b[3] for b in BAD])
def test_bad_predicate(path: str, op: str, operand: Any, message: str) -> None:
    """A predicate that cannot work is refused with the reason."""
    with pytest.raises(PredicateError, match=message):
        Predicate.build(path, op, operand)


def test_explain_names_actual_value() -> None:
    """A failing predicate explains itself with the value it saw."""
    (pred,) = compile_where({"data.text": {"matches": "^bye"}})
    assert pred.explain(ENVELOPE) == 'data.text is "hi there", expected data.text matches /^bye/'


def test_templates_keep_types_and_are_seeded() -> None:
    """A whole-string reference keeps its JSON type; the same seed gives the same ids."""
    a = TemplateContext({"me": "alice-${run_id}", "n": 5}, seed=7)
    b = TemplateContext({}, seed=7)
    assert a.render("${n}") == 5
    assert a.render("n=${n}") == "n=5"
    assert a.variables["me"] == f"alice-{b.run_id}"
    assert a.render("${uuid}") == b.render("${uuid}")
    assert a.render("${seq}-${seq}") == "1-2"
    assert a.render("$${literal}") == "${literal}"
    assert isinstance(a.render("${now_ms}"), int)
    with pytest.raises(TemplateError, match="unknown variable"):
        a.render({"k": "${nobody}"})


@pytest.mark.parametrize(("text", "seconds"), [(2, 2.0), ("1.5", 1.5), ("100ms", 0.1),
                                               ("2s", 2.0), ("1m", 60.0)],
                         ids=["int", "text", "ms", "s", "m"])
def test_durations(text: Any, seconds: float) -> None:
    """Durations are seconds, with ms/s/m units."""
    assert parse_duration(text) == pytest.approx(seconds)
