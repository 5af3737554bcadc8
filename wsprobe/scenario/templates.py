"""Templated values: ``${name}`` in any string of a frame or a predicate, with no I/O.

Names are the scenario's variables, captured values and built-ins: ``uuid`` (a new id each use,
from the seeded generator), ``seq`` (1, 2, 3, ... per run), ``run_id`` (8 hex digits, fixed for
the run), ``now`` (ISO 8601 UTC) and ``now_ms`` (epoch milliseconds). A string that is exactly one
``${name}`` takes the value's own JSON type; ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["BUILTINS", "TemplateContext", "TemplateError", "names_in"]

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_REF = re.compile(r"\$\$\{|\$\{(" + _NAME + r")\}")
_WHOLE = re.compile(r"\$\{(" + _NAME + r")\}")
BUILTINS: Final = frozenset({"uuid", "seq", "run_id", "now", "now_ms"})


class TemplateError(ValueError):
    """A template names a variable that does not exist."""


def names_in(value: Any) -> Iterator[str]:
    """Every ``${name}`` used anywhere in a JSON-like value (keys included)."""
    if isinstance(value, str):
        for match in _REF.finditer(value):
            if match.group(1):
                yield match.group(1)
    elif isinstance(value, list):
        for item in value:
            yield from names_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from names_in(key)
            yield from names_in(item)


class TemplateContext:
    """Variables of one run plus the seeded generators behind the built-ins."""

    def __init__(self, variables: Mapping[str, Any] | None = None, *, seed: int | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.rng = random.Random(seed)
        self.variables: dict[str, Any] = {}
        self._seq = 0
        self._clock = clock
        self.run_id = f"{self.rng.getrandbits(32):08x}"
        for name, value in (variables or {}).items():
            self.variables[name] = self.render(value)

    def set(self, name: str, value: Any) -> None:
        """Define or replace a variable (a captured value)."""
        self.variables[name] = value

    def _now(self) -> datetime:
        ts = self._clock() if self._clock else datetime.now(UTC).timestamp()
        return datetime.fromtimestamp(ts, UTC)

    def _value(self, name: str) -> Any:
        if name in self.variables:
            return self.variables[name]
        if name == "uuid":
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if name == "seq":
            self._seq += 1
            return self._seq
        if name == "run_id":
            return self.run_id
        if name == "now":
            return self._now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if name == "now_ms":
            return int(self._now().timestamp() * 1000)
        raise TemplateError(f"unknown variable ${{{name}}}")

    def render(self, value: Any) -> Any:
        """``value`` with every ``${name}`` replaced, recursively through lists and mappings."""
        if isinstance(value, str):
            whole = _WHOLE.fullmatch(value)
            if whole:
                return self._value(whole.group(1))
            return _REF.sub(self._sub, value)
        if isinstance(value, list):
            return [self.render(v) for v in value]
        if isinstance(value, dict):
            return {str(self.render(k)): self.render(v) for k, v in value.items()}
        return value

    def _sub(self, match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "${"
        value = self._value(match.group(1))
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
