"""The groups a fuzz run works through: per message type valid and invalid, then frame abuse.

A :class:`Group` has a deterministic list of cases (run first, most telling first) and a
hypothesis strategy for the rest of its budget. Message groups come from the schemas, so a user's
``--schemas`` folder with other types gets fuzzed the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from wsprobe.core import Direction, SchemaSet
from wsprobe.fuzz import abuse
from wsprobe.fuzz.cases import FuzzCase
from wsprobe.fuzz.messages import (
    FUZZ_USER,
    KIND_VALUES,
    ODD_STRINGS,
    USER_ID_FIELDS,
    Path,
    RawJSON,
    TypeSpec,
    coverage,
    drop,
    message_case,
    nested,
    put,
    spec_of,
)

__all__ = ["Group", "groups"]


@dataclass(frozen=True, slots=True)
class Group:
    """A named family of cases with its share of the budget (``weight``)."""

    name: str
    description: str
    weight: int
    coverage: tuple[FuzzCase, ...]
    strategy: Callable[[], st.SearchStrategy[FuzzCase]]
    spec: TypeSpec | None = None  # the message type of a message group (for shrinking)


def _json_values() -> st.SearchStrategy[Any]:
    leaves = (st.none() | st.booleans() | st.integers()
              | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
    return st.recursive(leaves, lambda c: st.lists(c, max_size=3)
                        | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=8)


def _pin_ids(envelope: Any, paths: tuple[Path, ...]) -> Any:
    for path in paths:
        if path[-1] in USER_ID_FIELDS:
            node: Any = envelope
            for name in path[:-1]:
                node = node.get(name) if isinstance(node, dict) else None
            if isinstance(node, dict) and path[-1] in node:
                envelope = put(envelope, path, FUZZ_USER)
    return envelope


def _valid(schemas: SchemaSet, spec: TypeSpec, group: str) -> st.SearchStrategy[FuzzCase]:
    envelopes = from_schema(spec.schema)
    # the registration must name the fuzz socket's id; other types aim at it half of the time
    pin = st.just(True) if spec.registers else st.booleans()

    def build(envelope: Any, pinned: bool, ascii_only: bool) -> FuzzCase:
        if pinned:
            envelope = _pin_ids(envelope, spec.paths)
        return message_case(schemas, spec, group, envelope, "generated", ascii_only=ascii_only)
    return st.builds(build, envelopes, pin, st.booleans())


def _invalid(schemas: SchemaSet, spec: TypeSpec, group: str) -> st.SearchStrategy[FuzzCase]:
    paths = st.sampled_from(spec.paths)
    mutations: list[st.SearchStrategy[tuple[str, Callable[[Any], Any]]]] = [
        st.builds(lambda p, v: (f"{'.'.join(p)} replaced", lambda e: put(e, p, v)),
                  paths, st.sampled_from(list(KIND_VALUES.values())) | _json_values()),
        st.builds(lambda p, d: (f"{'.'.join(p)} nested {d} deep", lambda e: put(e, p, nested(d))),
                  paths, st.integers(1, 40_000)),
        st.builds(lambda p, v: (f"{'.'.join(p)} as a number", lambda e: put(e, p, RawJSON(v))),
                  paths, st.sampled_from(["1e999", "-0", "1" * 5000, "1e-999", "1.0e+308"])),
    ]
    if spec.required:
        mutations.append(st.builds(lambda p: (f"without {'.'.join(p)}", lambda e: drop(e, p)),
                                   st.sampled_from(spec.required)))
    if spec.strings:
        texts = (st.sampled_from(ODD_STRINGS) | st.text()
                 | st.integers(0, 70_000).map(lambda n: "x" * n))
        mutations.append(st.builds(
            lambda p, v: (f"{'.'.join(p)} as odd text", lambda e: put(e, p, v)),
            st.sampled_from(spec.strings), texts))
    mutations.append(st.builds(
        lambda p, k, v: (f"extra field {k!r}", lambda e: put(e, (*p, k), v)),
        st.sampled_from(spec.objects), st.text(max_size=10), _json_values()))
    # many fields of the wrong type at once; shrinking then finds the one that matters
    fields = tuple(p for p in spec.paths if len(p) > 1) or spec.paths

    def scramble(values: list[Any]) -> tuple[str, Callable[[Any], Any]]:
        def change(envelope: Any) -> Any:
            for path, value in zip(fields, values, strict=True):
                envelope = put(envelope, path, value)
            return envelope
        return ("fields replaced", change)
    scrambled = st.lists(_json_values(), min_size=len(fields), max_size=len(fields)).map(scramble)
    mutations += [scrambled, scrambled]
    bases = st.just(spec.minimal) | from_schema(spec.schema).map(
        lambda e: _pin_ids(e, spec.paths))

    def build(base: Any, mutation: tuple[str, Callable[[Any], Any]], more: list[
            tuple[str, Callable[[Any], Any]]], ascii_only: bool) -> FuzzCase:
        label, change = mutation
        envelope = change(base)
        for extra_label, extra in more:
            envelope = extra(envelope)
            label += f", {extra_label}"
        return message_case(schemas, spec, group, envelope, label, ascii_only=ascii_only)
    one = st.one_of(mutations)
    return st.builds(build, bases, one, st.lists(one, max_size=2), st.booleans())


def groups(schemas: SchemaSet) -> list[Group]:
    """Every group, message types in name order, then the frame groups."""
    out: list[Group] = []
    for mtype in sorted(schemas.types(Direction.CLIENT)):
        spec = spec_of(schemas, mtype)
        out.append(Group(f"{mtype}/valid", f"valid {mtype} messages generated from the schema",
                         1, (), functools.partial(_valid, schemas, spec, f"{mtype}/valid"),
                         spec))
        out.append(Group(f"{mtype}/invalid", f"{mtype} with wrong types, missing and extra fields,"
                         " boundary lengths, deep nesting, odd Unicode", 4,
                         tuple(coverage(schemas, spec, f"{mtype}/invalid")),
                         functools.partial(_invalid, schemas, spec, f"{mtype}/invalid"), spec))
    descriptions = {
        "frames/json": "invalid JSON, non-objects, missing or unknown types",
        "frames/utf8": "invalid UTF-8 in text frames",
        "frames/binary": "binary frames",
        "frames/size": "oversized frames",
        "frames/fragmented": "fragmented messages, right and wrong",
        "frames/control": "ping, pong and close frames, right and wrong; reserved opcodes and bits",
    }
    for name in abuse.FRAME_GROUPS:
        cases = tuple(c for c in abuse.COVERAGE if c.group == name)
        out.append(Group(name, descriptions[name], 1, cases,
                         functools.partial(abuse.strategy, name, schemas)))
    return out
