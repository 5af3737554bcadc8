"""The check registry: every check a named async function with a rule id, a level and plain words.

A check is registered with :func:`check` (ours in :mod:`wsprobe.verify.checks`, a user's in any
module loaded with ``--plugin MODULE`` or through the ``wsprobe.checks`` entry point group)::

    @check("message-delivery", rule="C1", level=Level.MUST, cost=3,
           text="a send-message reaches every open socket of the receiver once, and no one else")
    async def message_delivery(ctx: CheckContext) -> None: ...

Selection (``--check``/``--skip``) takes names, rule ids and globs of either (``C*``, ``signal-*``).
"""

from __future__ import annotations

import enum
import fnmatch
import importlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, NewType

from wsprobe.errors import InputError
from wsprobe.scenario.findings import Severity

if TYPE_CHECKING:
    from wsprobe.verify.context import CheckContext

__all__ = [
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "CheckFunction",
    "CheckName",
    "CheckSpec",
    "Level",
    "Needs",
    "Registry",
    "check",
    "load_plugins",
]

CheckName = NewType("CheckName", str)
CheckFunction = Callable[["CheckContext"], Awaitable[None]]
ENTRY_POINT_GROUP = "wsprobe.checks"


class Level(enum.StrEnum):
    """RFC 2119 level of a rule: a broken MUST fails the run, a broken SHOULD warns."""

    MUST = "MUST"
    SHOULD = "SHOULD"

    @property
    def severity(self) -> Severity:
        """The severity of this level's findings."""
        return Severity.FAILURE if self is Level.MUST else Severity.WARNING


class Needs(enum.StrEnum):
    """Inputs a check needs; without them it is skipped with a note saying which option to give."""

    ORIGINS = "origins"  # --allowed-origin and --foreign-origin
    TOKEN = "token"  # --token
    AGGRESSIVE = "aggressive"  # --aggressive (floods and oversized frames)
    IDLE = "idle"  # --idle SECONDS (how long to wait for the server's keepalive ping)


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A registered check.

    ``cost`` orders the run (cheap first; ties keep registration order); ``late`` checks run after
    every other one (they read the whole run). ``observes`` names the server-to-client types the
    check relies on, so coverage does not report a type twice when this check already failed.
    """

    name: CheckName
    rule: str
    level: Level
    text: str
    func: CheckFunction
    cost: int = 1
    needs: frozenset[Needs] = field(default=frozenset())
    observes: frozenset[str] = field(default=frozenset())
    late: bool = False
    origin: str = "wsprobe"

    @property
    def severity(self) -> Severity:
        """Failure for a MUST rule, warning for a SHOULD rule."""
        return self.level.severity


class Registry:
    """Checks by name, in registration order."""

    def __init__(self) -> None:
        self._checks: dict[CheckName, CheckSpec] = {}

    def add(self, spec: CheckSpec) -> CheckSpec:
        """Register ``spec``; a second check of the same name is an :class:`InputError`."""
        known = self._checks.get(spec.name)
        if known is not None and known.func is not spec.func:
            raise InputError(f"check {spec.name!r} is registered twice ({known.origin} and "
                             f"{spec.origin})")
        self._checks[spec.name] = spec
        return spec

    def discard(self, name: str) -> None:
        """Forget the check called ``name`` (if registered)."""
        self._checks.pop(CheckName(name), None)

    def __iter__(self) -> Iterator[CheckSpec]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, name: object) -> bool:
        return name in self._checks

    def get(self, name: str) -> CheckSpec:
        """The check called ``name``."""
        try:
            return self._checks[CheckName(name)]
        except KeyError:
            raise InputError(f"no check called {name!r}") from None

    def ordered(self) -> list[CheckSpec]:
        """Every check in run order: cheap first, ``late`` ones last."""
        position = {name: i for i, name in enumerate(self._checks)}
        return sorted(self._checks.values(), key=lambda s: (s.late, s.cost, position[s.name]))

    def select(self, include: Sequence[str] = (), skip: Sequence[str] = ()) -> list[CheckSpec]:
        """The checks ``include`` names (all when empty) minus those ``skip`` names, in run order.

        Each pattern matches a check's name or rule id, exactly or as a glob (``C*``); a pattern
        that matches nothing is an :class:`InputError` (a typo must not silently test less)."""
        for option, patterns in (("--check", include), ("--skip", skip)):
            for pattern in patterns:
                if not any(_matches(pattern, s) for s in self):
                    raise InputError(f"{option} {pattern!r} matches no check (known: "
                                     f"{', '.join(s.name for s in self.ordered())})")
        return [s for s in self.ordered()
                if (not include or any(_matches(p, s) for p in include))
                and not any(_matches(p, s) for p in skip)]


def _matches(pattern: str, spec: CheckSpec) -> bool:
    """A plain pattern is a name or a rule id (``c6`` too); a glob is case-sensitive, so ``C*``
    means the chat rules and ``c*`` the checks whose name starts with c."""
    p = pattern.strip()
    if not any(ch in p for ch in "*?["):
        return p == spec.name or p.upper() == spec.rule.upper()
    return any(fnmatch.fnmatchcase(v, p) for v in (spec.name, spec.rule))


REGISTRY = Registry()


def check(name: str, *, rule: str, level: Level = Level.MUST, text: str, cost: int = 5,
          needs: Iterable[Needs] = (), observes: Iterable[str] = (), late: bool = False,
          registry: Registry | None = None) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated ``async def f(ctx: CheckContext)`` as a check."""
    def decorate(func: CheckFunction) -> CheckFunction:
        (registry if registry is not None else REGISTRY).add(CheckSpec(
            name=CheckName(name), rule=rule, level=level, text=text, func=func, cost=cost,
            needs=frozenset(needs), observes=frozenset(observes), late=late,
            origin=getattr(func, "__module__", "?")))
        return func
    return decorate


def load_plugins(modules: Sequence[str] = (), *, entry_point_group: str | None = ENTRY_POINT_GROUP
                 ) -> list[str]:
    """Import ``modules`` (each registers its checks with :func:`check`) and every module of the
    ``wsprobe.checks`` entry point group. Returns what was loaded; a module that cannot be
    imported is an :class:`InputError` naming it."""
    loaded: list[str] = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise InputError(f"--plugin {name}: cannot import it ({exc})") from None
        loaded.append(name)
    if entry_point_group:
        for ep in entry_points(group=entry_point_group):
            try:
                ep.load()
            except ImportError as exc:
                raise InputError(f"entry point {ep.name} ({ep.value}) of {entry_point_group}: "
                                 f"cannot import it ({exc})") from None
            loaded.append(ep.value)
    return loaded
