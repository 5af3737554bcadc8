"""A scenario as values: actors, steps and where each came from in its file; no I/O.

Templated parts (frames, predicate operands, URLs) stay as written and are rendered when the step
runs, so captured values and fresh ids are available to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from wsprobe.scenario.findings import Severity

__all__ = [
    "ActorSpec",
    "Capture",
    "Close",
    "Connect",
    "Drop",
    "Every",
    "Expect",
    "ExpectClose",
    "ExpectNone",
    "Location",
    "Parallel",
    "Reconnect",
    "Scenario",
    "Send",
    "Step",
    "Wait",
    "WhereSpec",
]


@dataclass(frozen=True, slots=True)
class Location:
    """``file:line:column`` of a node of a scenario file (1-based)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class WhereSpec:
    """One predicate as written: ``path``, operator, operand (maybe templated)."""

    path: str
    op: str
    operand: Any
    loc: Location


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """An actor: its sockets (the first is its default) and connection defaults."""

    name: str
    sockets: tuple[str, ...] = ("main",)
    url: str | None = None
    path: str | None = None
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    origin: str | None = None
    subprotocols: tuple[str, ...] = ()
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Connect:
    """Open one socket, or every declared socket of the actor when ``socket`` is None."""

    loc: Location
    actor: str
    socket: str | None = None
    url: str | None = None
    path: str | None = None
    query: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    origin: str | None = None
    subprotocols: tuple[str, ...] | None = None
    timeout: float | None = None
    expect_refused: bool = False
    kind: Literal["connect"] = "connect"


@dataclass(frozen=True, slots=True)
class Close:
    """Close one socket, or every socket of the actor."""

    loc: Location
    actor: str
    socket: str | None = None
    code: int = 1000
    reason: str = ""
    kind: Literal["close"] = "close"


@dataclass(frozen=True, slots=True)
class Drop:
    """Abort one socket (or all of the actor's) without a close frame."""

    loc: Location
    actor: str
    socket: str | None = None
    kind: Literal["drop"] = "drop"


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Connect a socket again (or every socket of the actor) with its last options."""

    loc: Location
    actor: str
    socket: str | None = None
    timeout: float | None = None
    kind: Literal["reconnect"] = "reconnect"


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``frame`` (JSON, templated) or ``raw`` text; ``socket="*"`` sends on every open one."""

    loc: Location
    actor: str
    socket: str | None = None
    frame: Any = None
    raw: str | None = None
    kind: Literal["send"] = "send"


@dataclass(frozen=True, slots=True)
class Capture:
    """Save a field of the matched frame as a variable."""

    name: str
    path: str
    loc: Location


@dataclass(frozen=True, slots=True)
class Expect:
    """Frames of ``type`` satisfying ``where`` arrive on the socket, or on every/any of the
    actor's open sockets when ``socket`` is None; optionally capture fields of the first.
    ``order``: the frames taken must satisfy these predicates in turn. A ``warning`` severity
    reports a broken SHOULD and lets the scenario go on."""

    loc: Location
    actor: str
    type: str | None
    socket: str | None = None
    where: tuple[WhereSpec, ...] = ()
    timeout: float | None = None
    count: int = 1
    mode: Literal["every", "any"] = "every"
    capture: tuple[Capture, ...] = ()
    order: tuple[tuple[WhereSpec, ...], ...] | None = None
    severity: Severity = Severity.FAILURE
    kind: Literal["expect"] = "expect"


@dataclass(frozen=True, slots=True)
class ExpectNone:
    """No frame of ``type`` satisfying ``where`` arrives for ``within`` seconds."""

    loc: Location
    actor: str
    type: str | None
    socket: str | None = None
    where: tuple[WhereSpec, ...] = ()
    within: float | None = None
    severity: Severity = Severity.FAILURE
    kind: Literal["expect_none"] = "expect_none"


@dataclass(frozen=True, slots=True)
class ExpectClose:
    """The server closes the socket (with one of ``codes``) within ``timeout``."""

    loc: Location
    actor: str
    socket: str | None = None
    codes: tuple[int, ...] = ()
    timeout: float | None = None
    severity: Severity = Severity.FAILURE
    kind: Literal["expect_close"] = "expect_close"


@dataclass(frozen=True, slots=True)
class Wait:
    """Pause (the real client waits about 100 ms between connecting and registering)."""

    loc: Location
    seconds: float
    kind: Literal["wait"] = "wait"


@dataclass(frozen=True, slots=True)
class Every:
    """Run ``steps`` ``times`` times, ``interval`` apart (None: the runner's heartbeat).

    ``background``: run alongside the steps that follow until the main steps end."""

    loc: Location
    steps: tuple[Step, ...]
    times: int | None
    interval: float | None = None
    background: bool = False
    kind: Literal["every"] = "every"


@dataclass(frozen=True, slots=True)
class Parallel:
    """Run branches (each a list of steps) at the same time; all must pass."""

    loc: Location
    branches: tuple[tuple[Step, ...], ...]
    kind: Literal["parallel"] = "parallel"


Step = (Connect | Close | Drop | Reconnect | Send | Expect | ExpectNone | ExpectClose | Wait
        | Every | Parallel)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A whole scenario file."""

    name: str
    path: str
    actors: dict[str, ActorSpec]
    steps: tuple[Step, ...]
    teardown: tuple[Step, ...] = ()
    description: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    step_timeout: float | None = None
    run_timeout: float | None = None
