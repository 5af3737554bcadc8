"""The YAML load profile: run settings, user behaviour and mixes of user kinds.

```yaml
users: 200
duration: 30s
sockets-per-user: 2          # defaults for every kind
heartbeat: 30s
kinds:
  - name: chatty
    weight: 3
    chats-per-minute: 6
  - name: caller
    weight: 1
    calls-per-minute: 2
```

Every mistake is an :class:`~wsprobe.errors.InputError` naming the file, line and field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from wsprobe.errors import InputError
from wsprobe.load.config import UserKind, parse_duration

__all__ = ["BEHAVIOUR_KEYS", "Profile", "load_profile", "make_kind"]

# profile key -> (UserKind field, kind of value)
BEHAVIOUR_KEYS: Final[dict[str, tuple[str, str]]] = {
    "sockets-per-user": ("sockets", "count"),
    "connect-wait": ("connect_wait", "duration"),
    "heartbeat": ("heartbeat", "duration"),
    "focus-flips-per-minute": ("focus_flips_per_min", "rate"),
    "away-for": ("away_for", "duration"),
    "chats-per-minute": ("chats_per_min", "rate"),
    "calls-per-minute": ("calls_per_min", "rate"),
    "call-accept": ("call_accept", "fraction"),
    "call-answer-after": ("call_answer_after", "duration"),
    "call-duration": ("call_duration", "duration"),
    "session": ("session", "duration"),
    "rejoin-after": ("rejoin_after", "duration"),
    "reconnect-backoff": ("reconnect_backoff", "duration"),
    "reconnect-attempts": ("reconnect_attempts", "whole"),
}
RUN_KEYS: Final[dict[str, str]] = {
    "users": "count",
    "spawn-rate": "rate",
    "duration": "duration",
    "late-after": "duration",
    "loss-timeout": "duration",
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A parsed profile: run settings (by profile key) and user kinds."""

    run: dict[str, float] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)  # UserKind field -> value
    kinds: tuple[UserKind, ...] = ()


def _value(raw: object, how: str, where: str) -> float:
    if how == "duration":
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise InputError(f"{where}: expected a duration like 30s, got {raw!r}")
        return parse_duration(raw, what=where)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InputError(f"{where}: expected a number, got {raw!r}")
    if how == "count" and (not isinstance(raw, int) or raw < 1):
        raise InputError(f"{where}: expected a whole number of at least 1, got {raw!r}")
    if how == "whole" and not isinstance(raw, int):
        raise InputError(f"{where}: expected a whole number, got {raw!r}")
    if how == "fraction" and not 0 <= raw <= 1:
        raise InputError(f"{where}: expected a fraction between 0 and 1, got {raw!r}")
    if raw < 0:
        raise InputError(f"{where}: must not be negative, got {raw!r}")
    return raw


def _lines(node: yaml.Node, path: tuple[object, ...] = ()) -> dict[tuple[object, ...], int]:
    """Line number (1-based) of every mapping key and sequence item, by path."""
    out: dict[tuple[object, ...], int] = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, key.value)
            out.update(_lines(value, sub))
            out[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out.update(_lines(item, (*path, index)))
    return out


def make_kind(name: str, weight: int, behaviour: Mapping[str, Any]) -> UserKind:
    """A user kind from field values (``UserKind`` field names)."""
    return dataclasses.replace(UserKind(name=name, weight=weight), **behaviour)


def load_profile(path: Path) -> Profile:
    """Parse a profile file; errors name the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read profile: {exc.strerror}") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{line}: not valid YAML: {exc}") from None
    if data is None:
        return Profile()
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: a load profile is a mapping of settings")
    lines = _lines(node) if node is not None else {}

    def where(*field_path: object) -> str:
        line = lines.get(field_path)
        name = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in field_path)
        return f"{path}:{line} {name}".replace(".[", "[") if line else f"{path} {name}"

    run: dict[str, float] = {}
    defaults: dict[str, Any] = {}
    for key, raw in data.items():
        if key in RUN_KEYS:
            run[key] = _value(raw, RUN_KEYS[key], where(key))
        elif key in BEHAVIOUR_KEYS:
            name, how = BEHAVIOUR_KEYS[key]
            defaults[name] = _value(raw, how, where(key))
        elif key != "kinds":
            known = ", ".join(sorted([*RUN_KEYS, *BEHAVIOUR_KEYS, "kinds"]))
            raise InputError(f"{where(key)}: unknown setting {key!r} (known: {known})")
    kinds: list[UserKind] = []
    raw_kinds = data.get("kinds", [])
    if not isinstance(raw_kinds, list):
        raise InputError(f"{where('kinds')}: expected a list of user kinds")
    for index, entry in enumerate(raw_kinds):
        if not isinstance(entry, dict):
            raise InputError(f"{where('kinds', index)}: a user kind is a mapping")
        name = entry.get("name", f"kind{index + 1}")
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(
                f"{where('kinds', index, 'name')}: expected an identifier, got {name!r}"
            )
        weight = entry.get("weight", 1)
        _value(weight, "count", where("kinds", index, "weight"))
        behaviour = dict(defaults)
        for key, raw in entry.items():
            if key in ("name", "weight"):
                continue
            if key not in BEHAVIOUR_KEYS:
                known = ", ".join(sorted([*BEHAVIOUR_KEYS, "name", "weight"]))
                raise InputError(
                    f"{where('kinds', index, key)}: unknown user setting {key!r} (known: {known})"
                )
            field_name, how = BEHAVIOUR_KEYS[key]
            behaviour[field_name] = _value(raw, how, where("kinds", index, key))
        kinds.append(make_kind(name, int(weight), behaviour))
    if len({k.name for k in kinds}) != len(kinds):
        raise InputError(f"{where('kinds')}: user kind names must be unique")
    return Profile(run=run, defaults=defaults, kinds=tuple(kinds))
