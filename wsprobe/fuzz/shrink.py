"""Greedy shrinking of a failing case by its structure (no I/O; the caller runs candidates).

Hypothesis shrinks the cases it generated. The fixed cases (and a case whose hypothesis shrinking
ran out of time) are shrunk here: for a message, each value of the JSON envelope is removed or
replaced by a simpler one (``null``, ``false``, ``0``, ``""``, ``[]``, ``{}``, ``[null]``, its
first half); for raw frames, frames are dropped and payloads halved. A candidate is kept when it
still shows the same finding; every kept candidate is strictly smaller, so shrinking ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from wsprobe.core import SchemaSet
from wsprobe.fuzz.cases import FuzzCase, WireFrame
from wsprobe.fuzz.messages import RawJSON, TypeSpec, message_case, serialize

__all__ = ["candidates", "shrink"]

_SIMPLE: tuple[Any, ...] = (None, False, 0, "", [], {}, [None])


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _with(root: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(root, dict):
        out = dict(root)
        if delete and not rest:
            del out[head]
        else:
            out[head] = _with(root[head], rest, value, delete=delete)
        return out
    items = list(root)
    if delete and not rest:
        del items[head]
    else:
        items[head] = _with(items[head], rest, value, delete=delete)
    return items


def _simpler(value: Any) -> Iterator[Any]:
    yield from _SIMPLE
    if isinstance(value, str) and not isinstance(value, RawJSON) and len(value) > 1:
        yield value[: len(value) // 2]
    if isinstance(value, list) and len(value) > 1:
        yield value[: len(value) // 2]
        yield value[:1]


def _plain(node: Any) -> Any:
    """``node`` with every :class:`RawJSON` that Python can read replaced by its value when that
    prints the same (``[null]``), so its parts can be shrunk too."""
    if isinstance(node, RawJSON):
        try:
            value = json.loads(node)
        except (ValueError, RecursionError):
            return node
        return value if json.dumps(value) == str(node) else node
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _envelopes(envelope: Any) -> Iterator[Any]:
    envelope = _plain(envelope)
    size = len(serialize(envelope))
    seen: set[str] = set()
    for path, value in list(_paths(envelope)):
        if path == ("type",) and isinstance(value, str):
            continue  # the message type stays: a shrunk case still names what it sends
        if path:
            yield_delete = _with(envelope, path, None, delete=True)
            text = serialize(yield_delete)
            if len(text) < size and text not in seen:
                seen.add(text)
                yield yield_delete
        for simple in _simpler(value):
            candidate = _with(envelope, path, simple)
            text = serialize(candidate)
            if len(text) < size and text not in seen:
                seen.add(text)
                yield candidate


def _frames(case: FuzzCase) -> Iterator[FuzzCase]:
    frames = case.frames
    if len(frames) > 1:
        for i in range(len(frames)):
            yield replace(case, frames=frames[:i] + frames[i + 1:], envelope=None)
    for i, frame in enumerate(frames):
        if len(frame.payload) > 1:
            half = WireFrame(frame.opcode, frame.payload[: len(frame.payload) // 2], frame.fin,
                             frame.rsv, frame.masked)
            yield replace(case, frames=(*frames[:i], half, *frames[i + 1:]), envelope=None)


def candidates(case: FuzzCase, schemas: SchemaSet, spec: TypeSpec | None) -> Iterator[FuzzCase]:
    """Smaller variants of ``case``, simplest changes first."""
    if case.envelope is not None and spec is not None:
        for envelope in _envelopes(case.envelope):
            smaller = message_case(schemas, spec, case.group, envelope, case.label)
            yield replace(smaller, label=f"{case.label} (shrunk)".replace(" (shrunk) (shrunk)",
                                                                          " (shrunk)"))
    else:
        yield from _frames(case)


def shrink(case: FuzzCase, still_fails: Callable[[FuzzCase], bool], *, schemas: SchemaSet,
           spec: TypeSpec | None, deadline: float) -> tuple[FuzzCase, int]:
    """The smallest variant of ``case`` that ``still_fails``, and how many candidates were run."""
    best, runs = case, 0
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for candidate in candidates(best, schemas, spec):
            if time.monotonic() >= deadline:
                break
            if candidate.size() >= best.size() and candidate.envelope is None:
                continue
            runs += 1
            if still_fails(candidate):
                best, improved = candidate, True
                break
    return best, runs
