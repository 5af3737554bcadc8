"""Predicates on fields of a received message: the ``where`` of ``expect``, with no I/O.

A ``where`` maps a dotted path (``data.userId``, ``data.0``, ``userId``) to either a plain value
(equality) or a mapping of operators, all of which must hold::

    {"data.status": {"in": ["online", "away"]}, "data.text": {"matches": "^hi"}, "userId": "bob"}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

__all__ = ["MISSING", "OPERATORS", "FieldTest", "Predicate", "PredicateError", "compile_where",
           "lookup", "split_path"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


class PredicateError(ValueError):
    """A predicate that cannot be built (unknown operator, bad regex, wrong operand)."""


def split_path(path: str) -> tuple[str, ...]:
    """``"data.users.0"`` -> ``("data", "users", "0")``; an empty part is an error."""
    parts = tuple(path.split("."))
    if not path or any(not p for p in parts):
        raise PredicateError(f"bad field path {path!r} (use dots between names: data.userId)")
    return parts


def lookup(value: Any, parts: Iterable[str]) -> Any:
    """The value at a path in a JSON value, or :data:`MISSING`."""
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(
                part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _contains(actual: Any, item: Any) -> bool:
    if isinstance(actual, list):
        return any(_same(x, item) for x in actual)
    if isinstance(actual, str) and isinstance(item, str):
        return item in actual
    if isinstance(actual, dict):
        return item in actual
    return False


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda actual, operand: _number(actual) and op(actual, operand)


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda actual, operand: actual is not MISSING and _same(actual, operand),
    "ne": lambda actual, operand: actual is not MISSING and not _same(actual, operand),
    "present": lambda actual, operand: (actual is not MISSING) is operand,
    "in": lambda actual, operand: any(_same(actual, x) for x in operand),
    "not_in": lambda actual, operand: actual is not MISSING and not any(
        _same(actual, x) for x in operand),
    "matches": lambda actual, operand: isinstance(actual, str) and operand.search(actual)
    is not None,
    "lt": _compare(lambda a, b: a < b),
    "le": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b),
    "ge": _compare(lambda a, b: a >= b),
    "contains": _contains,
    "not_contains": lambda actual, operand: actual is not MISSING and not _contains(
        actual, operand),
    "length": lambda actual, operand: isinstance(actual, list | str | dict) and len(
        actual) == operand,
}
OPERATORS: Final = frozenset(_TESTS)
_WORDS = {"eq": "==", "ne": "!=", "in": "in", "not_in": "not in", "matches": "matches",
          "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "contains": "contains",
          "not_contains": "does not contain", "length": "has length"}


def _short(value: Any) -> str:
    if isinstance(value, re.Pattern):
        return f"/{value.pattern}/"
    if value is MISSING:
        return "missing"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


class FieldTest(Protocol):
    """The plug-in point of ``where``: anything with these three methods can be passed in a
    sequence instead of a mapping (``wsprobe verify`` adds its own, e.g. "lists these users")."""

    def test(self, envelope: Any) -> bool:
        """Whether the message envelope satisfies the test."""

    def describe(self) -> str:
        """The test in words: ``data.status in ["online"]``."""

    def explain(self, envelope: Any) -> str:
        """Why an envelope fails it, with the value seen."""


@dataclass(frozen=True, slots=True)
class Predicate:
    """``path op operand``: one test on one field of a message envelope."""

    path: str
    op: str
    operand: Any

    @classmethod
    def build(cls, path: str, op: str, operand: Any) -> Predicate:
        """Check the operator and its operand; compile a regex; raise :class:`PredicateError`."""
        split_path(path)
        if op not in _TESTS:
            known = ", ".join(sorted(_TESTS))
            raise PredicateError(f"unknown operator {op!r} (use one of {known})")
        if op == "present" and not isinstance(operand, bool):
            raise PredicateError("'present' takes true or false")
        if op in {"in", "not_in"} and not isinstance(operand, list):
            raise PredicateError(f"{op!r} takes a list")
        if op in {"lt", "le", "gt", "ge"} and not _number(operand):
            raise PredicateError(f"{op!r} takes a number, got {_short(operand)}")
        if op == "length" and (not isinstance(operand, int) or isinstance(operand, bool)):
            raise PredicateError("'length' takes a whole number")
        if op == "matches":
            if not isinstance(operand, str):
                raise PredicateError("'matches' takes a regular expression as a string")
            try:
                operand = re.compile(operand)
            except re.error as exc:
                raise PredicateError(f"bad regular expression {operand!r}: {exc}") from None
        return cls(path, op, operand)

    def test(self, envelope: Any) -> bool:
        """Whether the envelope satisfies this predicate."""
        return bool(_TESTS[self.op](lookup(envelope, split_path(self.path)), self.operand))

    def describe(self) -> str:
        """``data.status in ["online", "away"]``."""
        if self.op == "present":
            return f"{self.path} is {'present' if self.operand else 'absent'}"
        return f"{self.path} {_WORDS[self.op]} {_short(self.operand)}"

    def explain(self, envelope: Any) -> str:
        """Why the envelope fails: ``data.status is "away", expected in ["online"]``."""
        actual = lookup(envelope, split_path(self.path))
        return f"{self.path} is {_short(actual)}, expected {self.describe()}"


def compile_where(where: Mapping[str, Any] | Iterable[FieldTest]) -> tuple[FieldTest, ...]:
    """Build predicates from a ``where`` mapping (or pass prepared tests through)."""
    if not isinstance(where, Mapping):
        return tuple(where)
    out: list[FieldTest] = []
    for path, spec in where.items():
        if isinstance(spec, Mapping):
            if not spec:
                raise PredicateError(f"{path}: an empty mapping of operators")
            out.extend(Predicate.build(path, str(op), operand) for op, operand in spec.items())
        else:
            out.append(Predicate.build(path, "eq", spec))
    return tuple(out)
