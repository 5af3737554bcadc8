"""Messages from the schemas: the smallest valid one per type, and ways to break it (no I/O).

Every field name comes from the schema files: :func:`spec_of` walks a dereferenced schema for the
paths it declares (``("data", "text")``), their JSON types and which are required. Mutations are
pure functions on an envelope (a ``dict``); the schemas then say whether the result is still valid,
so a case's expected answer is never guessed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wsprobe.core import Direction, SchemaSet
from wsprobe.fuzz.cases import Expect, FuzzCase, WireFrame

__all__ = [
    "FUZZ_USER",
    "KIND_VALUES",
    "ODD_STRINGS",
    "USER_ID_FIELDS",
    "Path",
    "RawJSON",
    "TypeSpec",
    "drop",
    "message_case",
    "nested",
    "put",
    "serialize",
    "spec_of",
]

#: the id every fuzz socket registers with; id fields of generated messages point at it, so a
#: message reaches the server's deepest handler (delivery to an online user) instead of an error
FUZZ_USER = "wsprobe-fuzz"
#: field names that hold a user id (protocol.md sections 3 and 4)
USER_ID_FIELDS = frozenset({"userId", "receiverId", "targetId", "senderId"})
#: the simplest value of each JSON type: wrong-type mutations start here
KIND_VALUES: dict[str, Any] = {"null": None, "boolean": False, "number": 0, "string": "",
                               "array": [], "object": {}, "one-item array": [None],
                               "one-key object": {"": None}}
#: strings that break naive text handling
ODD_STRINGS = (
    "\x00",  # NUL
    "\ud800",  # a lone surrogate (sent as the JSON escape \ud800)
    "\u202eevil\u202c\U0001f4a5",  # right-to-left override, emoji
    "\ufeff\ufffe\uffff",  # BOM, non-characters
    "e\u0301\u0301\u0301\u0301",  # stacked combining marks
    "\u2028\u2029",  # line and paragraph separators (break JavaScript string literals)
)

Path = tuple[str, ...]


class RawJSON(str):
    """JSON text spliced into a message as it is (numbers Python cannot print, ``1e999``)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """One client message type: its schema, its paths, and its smallest valid envelope."""

    mtype: str
    schema: Any
    paths: tuple[Path, ...]
    required: tuple[Path, ...]
    strings: tuple[Path, ...]
    objects: tuple[Path, ...]
    minimal: dict[str, Any]
    registers: bool  # the message is a registration: send it on an unregistered socket


def _types(node: dict[str, Any]) -> set[str]:
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    values = [node["const"]] if "const" in node else node.get("enum", [])
    kinds = set()
    for value in values:
        kinds.add({bool: "boolean", int: "number", float: "number", str: "string",
                   list: "array", dict: "object", type(None): "null"}.get(type(value), "string"))
    return kinds


def _walk(node: Any, path: Path, found: dict[Path, set[str]], required: set[Path]) -> None:
    if not isinstance(node, dict):
        return
    found.setdefault(path, set()).update(_types(node))
    for name, child in (node.get("properties") or {}).items():
        _walk(child, (*path, name), found, required)
    for name in node.get("required") or ():
        required.add((*path, name))
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(key) or ():
            _walk(branch, path, found, set() if key != "allOf" else required)
    for key in ("then", "else"):
        _walk(node.get(key), path, found, set())


def _minimal(node: Any, path: Path) -> Any:
    if not isinstance(node, dict):
        return None
    if "const" in node:
        return copy.deepcopy(node["const"])
    if node.get("enum"):
        return copy.deepcopy(node["enum"][0])
    kinds = _types(node)
    props: dict[str, Any] = {}
    required: list[str] = []
    for part in [node, *(node.get("allOf") or ()), *(node.get("anyOf") or ())[:1],
                 *(node.get("oneOf") or ())[:1]]:
        if isinstance(part, dict):
            for name, sub in (part.get("properties") or {}).items():
                props.setdefault(name, sub)  # the type's own definition wins over the envelope's
            required += [r for r in part.get("required") or () if r not in required]
    if "object" in kinds or props or required:
        return {name: _minimal(props.get(name, {}), (*path, name)) for name in required}
    if "string" in kinds or not kinds:
        if path and path[-1] in USER_ID_FIELDS:
            return FUZZ_USER
        return "x" * int(node.get("minLength", 0))
    if "number" in kinds or "integer" in kinds:
        return 0
    if "array" in kinds:
        return []
    if "boolean" in kinds:
        return False
    return None


def spec_of(schemas: SchemaSet, mtype: str) -> TypeSpec:
    """Walk the schema of client message ``mtype`` for its paths and smallest valid envelope."""
    schema = schemas.dereferenced(Direction.CLIENT, mtype)
    found: dict[Path, set[str]] = {}
    required: set[Path] = set()
    _walk(schema, (), found, required)
    paths = tuple(sorted((p for p in found if p), key=lambda p: (len(p), p)))
    minimal = _minimal(schema, ())
    if not isinstance(minimal, dict):
        minimal = {}
    minimal["type"] = mtype
    if _problems(schemas, minimal):
        # the structural guess missed a rule (an if/then, a pattern): fill id fields and retry
        for path in paths:
            if path[-1] in USER_ID_FIELDS and path not in required:
                minimal = put(minimal, path, FUZZ_USER)
                if not _problems(schemas, minimal):
                    break
    strings = tuple(p for p in paths if "string" in found[p])
    objects = tuple([(), *(p for p in paths if "object" in found[p])])
    registers = mtype == "new-user-add"
    return TypeSpec(mtype, schema, paths, tuple(sorted(required)), strings, objects, minimal,
                    registers)


def _problems(schemas: SchemaSet, envelope: dict[str, Any]) -> bool:
    return not schemas.check(json.dumps(envelope), Direction.CLIENT, 0.0).ok


def put(envelope: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A copy of ``envelope`` with ``value`` at ``path`` (missing parents become objects)."""
    out = copy.deepcopy(envelope)
    node: Any = out
    for name in path[:-1]:
        child = node.get(name) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            child = {}
            node[name] = child
        node = child
    node[path[-1]] = value
    return out


def drop(envelope: dict[str, Any], path: Path) -> dict[str, Any]:
    """A copy of ``envelope`` without ``path``."""
    out = copy.deepcopy(envelope)
    node: Any = out
    for name in path[:-1]:
        node = node.get(name) if isinstance(node, dict) else None
        if node is None:
            return out
    if isinstance(node, dict):
        node.pop(path[-1], None)
    return out


def nested(depth: int, leaf: Any = None) -> RawJSON:
    """``[[[...leaf...]]]`` ``depth`` arrays deep, as raw JSON (too deep for json.dumps)."""
    return RawJSON("[" * depth + json.dumps(leaf) + "]" * depth)


_SPLICE = re.compile(r'"\\u2063wsprobe-raw-(\d+)\\u2063"')


def serialize(envelope: Any, *, ascii_only: bool = False) -> str:
    """JSON text of ``envelope``; lone surrogates are always escaped, :class:`RawJSON` spliced."""
    raws: list[str] = []

    def mark(node: Any) -> Any:
        if isinstance(node, RawJSON):
            raws.append(str(node))
            return f"\u2063wsprobe-raw-{len(raws) - 1}\u2063"
        if isinstance(node, dict):
            return {k: mark(v) for k, v in node.items()}
        if isinstance(node, list):
            return [mark(v) for v in node]
        return node

    marked = mark(envelope)
    text = json.dumps(marked, ensure_ascii=True)
    if not ascii_only:
        try:
            text = json.dumps(marked, ensure_ascii=False)
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: keep the escaped form
            text = json.dumps(marked, ensure_ascii=True)
    if raws:
        text = _SPLICE.sub(lambda m: raws[int(m.group(1))],
                           text.replace("\u2063", "\\u2063"))
    return text


def message_case(schemas: SchemaSet, spec: TypeSpec, group: str, envelope: Any, label: str, *,
                 ascii_only: bool = False) -> FuzzCase:
    """A case sending ``envelope`` as one text frame; the schemas decide valid or invalid."""
    text = serialize(envelope, ascii_only=ascii_only)
    valid = schemas.check(text, Direction.CLIENT, 0.0).ok
    return FuzzCase(group=group, frames=(WireFrame.text(text),),
                    expect=Expect.VALID if valid else Expect.INVALID,
                    user=None if spec.registers else FUZZ_USER, label=label, envelope=envelope)


def coverage(schemas: SchemaSet, spec: TypeSpec, group: str) -> Iterator[FuzzCase]:
    """Deterministic negative cases, most telling first: each path with each wrong JSON type,
    each required field missing, then boundary lengths, deep nesting, odd Unicode, big numbers."""
    base = spec.minimal
    paths = [p for p in spec.paths if p != ("type",)] + [("type",)]
    for path in paths:
        for kind, value in KIND_VALUES.items():
            yield message_case(schemas, spec, group, put(base, path, value),
                               f"{'.'.join(path)} as {kind}")
    for path in spec.required:
        yield message_case(schemas, spec, group, drop(base, path),
                           f"without {'.'.join(path)}")
    for path in spec.objects:
        yield message_case(schemas, spec, group, put(base, (*path, "wsprobeExtra"), {"a": [1]}),
                           f"extra field in {'.'.join(path) or 'envelope'}")
    for path in spec.strings:
        for size in (0, 60_000):
            yield message_case(schemas, spec, group, put(base, path, "x" * size),
                               f"{'.'.join(path)} of {size} characters")
    for path in paths:
        for depth in (1_000, 30_000):
            yield message_case(schemas, spec, group, put(base, path, nested(depth)),
                               f"{'.'.join(path)} nested {depth} deep")
    for path in spec.strings:
        for odd in ODD_STRINGS[:3]:
            yield message_case(schemas, spec, group, put(base, path, odd),
                               f"{'.'.join(path)} as {odd.encode('unicode_escape').decode()}")
    for path in paths:
        for raw in ("1e999", "9" * 5_000):
            yield message_case(schemas, spec, group, put(base, path, RawJSON(raw)),
                               f"{'.'.join(path)} as the number {raw[:12]}")
