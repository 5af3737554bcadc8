"""Does a message type have this field? Walks a JSON Schema file (and its local ``$ref``s).

Used by the loader so that ``where: {data.reciverId: bob}`` is an error at load time, with a
suggestion, instead of an expectation that can never be met.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["field_problem"]

_Node = tuple[Any, Path]


def _load(path: Path, cache: dict[Path, Any]) -> Any:
    if path not in cache:
        try:
            cache[path] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cache[path] = True  # unreadable here: treat as open, the core reports broken files
    return cache[path]


def _resolve(ref: str, base: Path, cache: dict[Path, Any]) -> _Node | None:
    target, _, pointer = ref.partition("#")
    if "://" in target:
        return None
    path = (base.parent / target).resolve() if target else base
    node = _load(path, cache)
    for raw in (p for p in pointer.split("/") if p):
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node, path


def _expand(node: _Node, cache: dict[Path, Any], depth: int = 0) -> Iterator[_Node]:
    schema, base = node
    if not isinstance(schema, dict) or depth > 20:
        return
    yield schema, base
    if isinstance(schema.get("$ref"), str):
        target = _resolve(schema["$ref"], base, cache)
        if target is not None:
            yield from _expand(target, cache, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            yield from _expand((sub, base), cache, depth + 1)
    for key in ("then", "else"):
        if key in schema:
            yield from _expand((schema[key], base), cache, depth + 1)


def field_problem(schema_file: Path, parts: Sequence[str]) -> str | None:
    """Why ``parts`` (a field path) cannot exist in messages of this schema, or None."""
    cache: dict[Path, Any] = {}
    path = schema_file.resolve()
    current: list[_Node] = [(_load(path, cache), path)]
    for depth, part in enumerate(parts):
        expanded = [n for node in current for n in _expand(node, cache)]
        following: list[_Node] = []
        declared: set[str] = set()
        has_info = False
        for schema, base in expanded:
            if part.isdigit():
                if "items" in schema or "prefixItems" in schema:
                    has_info = True
                    prefix = schema.get("prefixItems") or []
                    item = prefix[int(part)] if int(part) < len(prefix) else schema.get("items")
                    if item is not None and item is not False:
                        following.append((item, base))
            elif isinstance(schema.get("properties"), dict):
                has_info = True
                declared.update(schema["properties"])
                if part in schema["properties"]:
                    following.append((schema["properties"][part], base))
        if not has_info:
            return None  # nothing declared here: any field may exist
        if not following:
            where = ".".join(parts[: depth + 1])
            if part.isdigit():
                return f"{where}: this value is not a list"
            close = difflib.get_close_matches(part, sorted(declared), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else (
                f" (it has: {', '.join(sorted(declared))})")
            return f"{where}: no such field in this message type{hint}"
        current = following
    return None
