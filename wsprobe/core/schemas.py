"""The protocol as JSON Schemas: loading, local ``$ref`` resolution, compiled validators.

Layout of a schema folder (ours is ``schemas/`` at the repository root)::

    defs.json, envelope.json           shared pieces, reached through $ref
    client-to-server/<type>.json       one schema per message type a client sends
    server-to-client/<type>.json       one schema per message type a server sends

A user's folder (``--schemas DIR``) is laid over ours: a file at the same relative path replaces
ours, a new file adds a type. ``$ref`` is resolved through :mod:`referencing` from these files only;
nothing is ever fetched over the network. Validators are compiled once per type and direction.

Two implementations of draft 2020-12 share the work: ``jsonschema-rs`` (compiled, about 100 times
faster) answers "is this frame valid?" for every frame, and ``jsonschema`` explains the rare invalid
frame keyword by keyword, in plain words. A test keeps the two in agreement on generated frames.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema_rs
import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator
from referencing.jsonschema import DRAFT202012

from wsprobe.core.messages import Decoded, Direction, Message, MessageType, Problem, decode
from wsprobe.errors import InputError
from wsprobe.resources import bundled_schemas_dir

__all__ = ["BASE_URI", "SchemaLoadError", "SchemaSet", "load_schemas"]

BASE_URI = "https://wsprobe.invalid/schemas/"


class SchemaLoadError(InputError):
    """A schema file that cannot be used; names the file and the reason (exit 2)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Entry:
    path: Path
    contents: Any


def _read_folder(folder: Path) -> dict[str, _Entry]:
    if not folder.is_dir():
        raise SchemaLoadError(folder, "is not a folder of JSON Schemas")
    found: dict[str, _Entry] = {}
    for path in sorted(folder.rglob("*.json")):
        rel = path.relative_to(folder).as_posix()
        try:
            contents = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise SchemaLoadError(path, f"not UTF-8 text ({exc.reason})") from None
        except json.JSONDecodeError as exc:
            raise SchemaLoadError(
                path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        if not isinstance(contents, dict | bool):
            raise SchemaLoadError(path, "a JSON Schema must be an object or a boolean")
        try:
            Draft202012Validator.check_schema(contents)
        except jsonschema.exceptions.SchemaError as exc:
            where = "/" + "/".join(str(p) for p in exc.absolute_path)
            raise SchemaLoadError(path, f"not a valid draft 2020-12 schema at {where}: "
                                        f"{exc.message}") from None
        if isinstance(contents, dict) and "$id" not in contents:
            # a file without $id gets its path as base URI, so relative $refs resolve locally
            contents = {"$id": BASE_URI + rel, **contents}
        found[rel] = _Entry(path, contents)
    return found


def _refs(node: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield pointer + "/$ref", value
            else:
                yield from _refs(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{pointer}/{i}")


class SchemaSet:
    """Compiled validators for every message type in both directions."""

    def __init__(self, entries: Mapping[str, _Entry]) -> None:
        resources: list[tuple[str, referencing.Resource[Any]]] = []
        for rel, entry in entries.items():
            resource = DRAFT202012.create_resource(entry.contents)
            resources.append((BASE_URI + rel, resource))
            declared = resource.id()
            if declared and declared != BASE_URI + rel:
                resources.append((declared, resource))
        # referencing's default retrieve fails for any URI it was not given: no network, ever
        registry: referencing.Registry[Any] = referencing.Registry()
        self._registry = registry.with_resources(resources).crawl()
        for rel, entry in entries.items():
            self._check_refs(rel, entry)
        fast_registry = jsonschema_rs.Registry(resources=[
            (uri, resource.contents) for uri, resource in resources
        ])
        self._fast_registry = fast_registry
        self._contents: dict[tuple[Direction, str], Any] = {}
        self._validators: dict[tuple[Direction, str], Draft202012Validator] = {}
        self._fast: dict[tuple[Direction, str], jsonschema_rs.Validator] = {}
        self._paths: dict[tuple[Direction, str], Path] = {}
        for rel, entry in entries.items():
            folder, _, name = rel.partition("/")
            if folder not in {d.value for d in Direction} or "/" in name:
                continue
            key = (Direction(folder), name.removesuffix(".json"))
            self._validators[key] = Draft202012Validator(entry.contents, registry=self._registry)
            try:
                self._fast[key] = jsonschema_rs.Draft202012Validator(
                    entry.contents, registry=fast_registry, offline=True, base_uri=BASE_URI + rel
                )
            except (jsonschema_rs.ValidationError, ValueError) as exc:
                raise SchemaLoadError(entry.path, f"cannot be compiled: {exc}") from None
            self._paths[key] = entry.path
            self._contents[key] = entry.contents
        if not self._validators:
            raise SchemaLoadError(next(iter(entries.values())).path.parent if entries else ".",
                                  "no message schemas found (expected client-to-server/*.json "
                                  "and server-to-client/*.json)")

    def _check_refs(self, rel: str, entry: _Entry) -> None:
        resolver = self._registry.resolver(base_uri=BASE_URI + rel)
        for pointer, ref in _refs(entry.contents):
            try:
                resolver.lookup(ref)
            except referencing.exceptions.Unresolvable as exc:
                raise SchemaLoadError(entry.path, f"$ref {ref!r} at {pointer} does not resolve "
                                                  f"to a local schema ({type(exc).__name__})"
                                      ) from None

    def types(self, direction: Direction) -> frozenset[MessageType]:
        """Every message type that has a schema in ``direction``."""
        return frozenset(MessageType(t) for d, t in self._validators if d is direction)

    def schema_path(self, direction: Direction, mtype: str) -> Path | None:
        """The file that defines ``mtype`` in ``direction``, if any."""
        return self._paths.get((direction, mtype))

    def dereferenced(self, direction: Direction, mtype: str) -> Any:
        """The schema of ``mtype`` with every ``$ref`` inlined (for generators such as fuzzers)."""
        return jsonschema_rs.dereference(self._contents[(direction, mtype)],
                                         registry=self._fast_registry)

    def check(self, frame: str | bytes, direction: Direction, received_at: float) -> Decoded:
        """Decode a frame and validate it: the one call the runners make per frame."""
        decoded = decode(frame, direction, received_at)
        if decoded.message is None:
            return decoded
        problems = self.validate(decoded.message)
        if not problems:
            return decoded
        return Decoded(direction, decoded.raw, received_at, decoded.message, problems)

    def validate(self, message: Message) -> tuple[Problem, ...]:
        """Every problem of ``message`` against the schema of its type and direction."""
        key = (message.direction, message.type)
        fast = self._fast.get(key)
        if fast is None:
            return (self._unknown(message),)
        try:
            if fast.is_valid(message.envelope):
                return ()
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON): jsonschema-rs needs UTF-8
            pass
        validator = self._validators[key]
        try:
            errors = sorted(validator.iter_errors(message.envelope),
                            key=jsonschema.exceptions.relevance)
        except RecursionError:  # a value nested hundreds deep: too deep to explain, not a crash
            return (Problem("schema", "does not fit the schema (nested too deeply to explain)"),)
        # dict.fromkeys: one error per missing property repeats the whole `required` list
        return tuple(dict.fromkeys(_explain(errors)))

    def _unknown(self, message: Message) -> Problem:
        mine = self.types(message.direction)
        text = f"unknown {message.direction.value} message type {message.type!r}"
        close = difflib.get_close_matches(message.type, sorted(mine), n=1, cutoff=0.8)
        if close:
            text += f" (did you mean {close[0]!r}?)"
        else:
            other = Direction.SERVER if message.direction is Direction.CLIENT else Direction.CLIENT
            if message.type in self.types(other):
                text += f" (it is a {other.value} type)"
        return Problem("unknown-type", text, pointer="/type", keyword="enum")


def load_schemas(*overlays: Path | str, base: Path | str | None = None) -> SchemaSet:
    """Load the bundled schemas (or ``base``), then lay each folder of ``overlays`` over them."""
    entries = _read_folder(Path(base) if base is not None else bundled_schemas_dir())
    for folder in overlays:
        entries.update(_read_folder(Path(folder)))
    return SchemaSet(entries)


# -- plain-words explanations of jsonschema errors ----------------------------------------------

def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _explain(errors: Iterable[jsonschema.exceptions.ValidationError]) -> Iterator[Problem]:
    for err in errors:
        pointer = _pointer(err.absolute_path)
        keyword = str(err.validator)
        value: Any = err.validator_value
        instance = err.instance
        if keyword == "required" and isinstance(instance, dict):
            for name in value:
                if name not in instance:
                    yield Problem("schema", f"{name!r} is required", f"{pointer}/{name}", keyword)
            continue
        if keyword == "type":
            expected = " or ".join(value) if isinstance(value, list) else value
            text = f"must be {expected}, got {_kind(instance)}"
        elif keyword == "const":
            text = f"must be {_short(value)}, got {_short(instance)}"
        elif keyword == "enum":
            text = f"must be one of {', '.join(map(_short, value))}; got {_short(instance)}"
        elif keyword == "minLength" and value == 1:
            text = "must not be empty"
        elif keyword in {"anyOf", "oneOf"} and err.context:
            text = "fits none of the allowed forms: " + " | ".join(_branches(err))
        else:
            text = err.message
        yield Problem("schema", text, pointer, keyword)


def _branches(err: jsonschema.exceptions.ValidationError) -> Iterator[str]:
    """The most telling failure of each alternative of an anyOf/oneOf, in plain words."""
    by_branch: dict[Any, list[jsonschema.exceptions.ValidationError]] = {}
    for sub in err.context or ():
        by_branch.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
    for subs in by_branch.values():
        best = jsonschema.exceptions.best_match(subs)
        inner = next(_explain([best]))
        yield f"{inner.pointer or '/'} {inner.message}"
