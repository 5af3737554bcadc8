"""What a check gets: its session, its own user ids, and the few helpers every check needs.

A check never sees another check's users: :meth:`CheckContext.id` gives ids unique to the run
and the check (``w04211-07-bob``). Registration waits for the socket's ``get-users`` but never
reports its absence (that is P3's job, so a server that breaks P3 fails P3 only).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wsprobe.core import SchemaSet
from wsprobe.scenario.findings import Finding, Severity
from wsprobe.scenario.frames import FrameRecord
from wsprobe.scenario.predicates import compile_where
from wsprobe.scenario.session import Actor, Session, Socket, StepFailed
from wsprobe.verify.config import VerifyConfig
from wsprobe.verify.registry import CheckSpec
from wsprobe.verify.result import CheckResult

__all__ = [
    "DELIVERY",
    "CheckContext",
    "Either",
    "RunState",
    "TypeIs",
    "UsersListed",
    "data_of",
    "fields",
    "user_ids",
]


@dataclass
class RunState:
    """What the run knows so far; ``late`` checks (schemas, coverage) read ``results``."""

    config: VerifyConfig
    schemas: SchemaSet
    prefix: str
    results: list[CheckResult]
    registration_answered: bool = True
    registration_misses: int = 0
    stopped_at: str | None = None


def data_of(frame: FrameRecord) -> dict[str, Any]:
    """The ``data`` object of a frame, or ``{}`` when it has none (or not an object)."""
    data = (frame.envelope or {}).get("data")
    return data if isinstance(data, dict) else {}


def user_ids(data: Any) -> list[Any]:
    """The ids of a ``get-users`` ``data``: strings, or the ``userId`` of ``{"userId"}`` objects."""
    if not isinstance(data, list):
        return []
    return [item.get("userId") if isinstance(item, dict) else item for item in data]


@dataclass(frozen=True, slots=True)
class UsersListed:
    """A ``where`` predicate: the ``get-users`` list holds (or lacks) every id of ``ids``."""

    ids: tuple[str, ...]
    present: bool = True

    def test(self, envelope: Any) -> bool:
        """Whether every id is listed (``present``) or none is."""
        listed = user_ids(envelope.get("data") if isinstance(envelope, dict) else None)
        return all((i in listed) is self.present for i in self.ids)

    def describe(self) -> str:
        """``data lists "a", "b"``."""
        names = ", ".join(json.dumps(i) for i in self.ids)
        return f"data {'lists' if self.present else 'does not list'} {names}"

    def explain(self, envelope: Any) -> str:
        """What the list held instead."""
        listed = user_ids(envelope.get("data") if isinstance(envelope, dict) else None)
        return f"data lists {json.dumps(listed)[:200]}, expected {self.describe()}"


@dataclass(frozen=True, slots=True)
class TypeIs:
    """A ``where`` predicate on the type itself, for checks that tolerate a misspelled type that
    another check reports (``receive-message`` or ``recieve-message``: C6 names the spelling)."""

    types: tuple[str, ...]

    def test(self, envelope: Any) -> bool:
        """Whether the frame's type is one of ``types``."""
        return isinstance(envelope, dict) and envelope.get("type") in self.types

    def describe(self) -> str:
        """``type in ["a", "b"]``."""
        return f"type in {json.dumps(list(self.types))}"

    def explain(self, envelope: Any) -> str:
        """The type it had."""
        got = envelope.get("type") if isinstance(envelope, dict) else None
        return f"type is {json.dumps(got)}, expected {self.describe()}"


#: ``receive-message`` as the chat checks accept it (C6 alone reports the misspelling)
DELIVERY = TypeIs(("receive-message", "recieve-message"))


class CheckContext:
    """The session of one check, its options and its helpers."""

    def __init__(self, session: Session, spec: CheckSpec, run: RunState, *, prefix: str) -> None:
        self.session = session
        self.spec = spec
        self.run = run
        self.config = run.config
        self.prefix = prefix
        self._markers = itertools.count(1)

    # -- options ------------------------------------------------------------------------------

    @property
    def severity(self) -> Severity:
        """Failure for a MUST check, warning for a SHOULD check."""
        return self.spec.severity

    @property
    def timeout(self) -> float:
        """Time limit of one expectation."""
        return self.config.timeout

    @property
    def quiet(self) -> float:
        """How long to listen for a frame that must not come."""
        return self.config.quiet

    # -- users and sockets --------------------------------------------------------------------

    def id(self, name: str) -> str:
        """The user id of actor ``name`` in this check: unique to the run and the check."""
        return f"{self.prefix}-{name}"

    def marker(self, what: str = "m") -> str:
        """A fresh value a check can recognise when the server relays it."""
        return f"{self.prefix}-{what}{next(self._markers)}"

    def registration(self, user_id: Any, *, form: str | None = None) -> dict[str, Any]:
        """``new-user-add`` for ``user_id`` in the form chosen by ``--register-form``."""
        if (form or self.config.register_form) == "data":
            return {"type": "new-user-add", "data": {"userId": user_id}}
        return {"type": "new-user-add", "userId": user_id}

    async def connect(self, actor: str, socket: str = "s1", **options: Any) -> Socket:
        """Open a socket of ``actor`` with the run's headers, Origin and subprotocols."""
        options.setdefault("origin", self.config.origin)
        options.setdefault("headers", dict(self.config.headers))
        options.setdefault("subprotocols", self.config.subprotocols)
        return await self.session.actor(actor).connect(socket, **options)

    async def register(self, sock: Socket, name: str | None = None) -> FrameRecord | None:
        """Send ``new-user-add`` for the socket's actor (or ``name``) and wait for a ``get-users``
        listing it; ``None`` when none came (never a finding: P3 reports that)."""
        user = self.id(name or sock.actor.name)
        await sock.send(self.registration(user))
        # once a registration went unanswered in this run, wait only briefly (P3 reports it)
        wait = self.quiet if self.run.registration_misses else self.timeout
        got = await sock.receive("get-users", [UsersListed((user,))], timeout=wait)
        if got is None:
            self.run.registration_misses += 1
        return got

    async def user(self, name: str, sockets: int = 1) -> Actor:
        """Actor ``name`` with ``sockets`` open sockets (``s1``, ``s2``...), each registered."""
        actor = self.session.actor(name)
        for i in range(1, sockets + 1):
            sock = await self.connect(name, f"s{i}")
            await self.register(sock)
        return actor

    async def users(self, *names: str, sockets: Sequence[int] = ()) -> list[Actor]:
        """Several users in turn (``sockets[i]`` sockets for the i-th, default one each)."""
        counts = list(sockets) + [1] * (len(names) - len(sockets))
        return [await self.user(n, k) for n, k in zip(names, counts, strict=True)]

    def sockets(self, *actors: Actor) -> list[Socket]:
        """Every socket of these actors."""
        return [s for a in actors for s in a.sockets.values()]

    # -- verdicts -----------------------------------------------------------------------------

    def finding(self, title: str, *, expected: str, actual: str,
                frames: Iterable[FrameRecord] = (), sock: Socket | None = None,
                severity: Severity | None = None, code: str = "rule") -> Finding:
        """Report a finding about the rule of this check (not fatal)."""
        return self.session.report(Finding(
            title=title, code=code, expected=expected, actual=actual,
            severity=severity or self.severity, rule=self.spec.rule,
            actor=sock.actor.name if sock else None, socket=sock.name if sock else None,
            frames=tuple(frames)))

    def fail(self, title: str, *, expected: str, actual: str,
             frames: Iterable[FrameRecord] = (), sock: Socket | None = None,
             code: str = "rule") -> StepFailed:
        """Report a finding; returns the exception that ends the check (``raise ctx.fail(...)``)."""
        return StepFailed(self.finding(title, expected=expected, actual=actual, frames=frames,
                                       sock=sock, code=code))


@dataclass(frozen=True, slots=True)
class Either:
    """A ``where`` predicate that holds when any of its alternatives (lists of predicates) does."""

    options: tuple[tuple[Any, ...], ...]

    def test(self, envelope: Any) -> bool:
        """Whether some alternative holds entirely."""
        return any(all(p.test(envelope) for p in option) for option in self.options)

    def describe(self) -> str:
        """``(a and b) or (c)``."""
        return " or ".join("(" + " and ".join(p.describe() for p in o) + ")"
                           for o in self.options)

    def explain(self, envelope: Any) -> str:
        """Why no alternative holds (the first one's reason)."""
        for p in self.options[0]:
            if not p.test(envelope):
                return str(p.explain(envelope))
        return self.describe()


def fields(where: Mapping[str, Any], *extra: Any) -> tuple[Any, ...]:
    """Predicates for ``{"data.text": "hi"}`` (see :mod:`wsprobe.scenario.predicates`), plus
    ``extra`` prepared ones (:data:`DELIVERY`, :class:`UsersListed`...)."""
    return (*extra, *compile_where(where))
