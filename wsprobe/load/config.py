"""The frozen configuration of one load run, shared by the CLI, the master and every worker.

It travels between processes as JSON (``config.json`` in the output folder), so every field is
a plain value. Times are seconds.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wsprobe.errors import InputError

__all__ = ["LoadConfig", "UserKind", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)?\s*$")
_SCALE = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str | float, *, what: str = "duration") -> float:
    """``"30s"``, ``"100ms"``, ``"2m"``, ``"1h"`` or a plain number of seconds, as seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise InputError(f"{what}: must not be negative, got {text}")
        return float(text)
    match = _DURATION.match(str(text))
    if match is None:
        raise InputError(f"{what}: expected a duration like 30s, 100ms or 2m, got {text!r}")
    return float(match.group(1)) * _SCALE[match.group(2)]


@dataclass(frozen=True, slots=True)
class UserKind:
    """How one kind of simulated user behaves (``protocol.md`` section 3), with its weight."""

    name: str = "user"
    weight: int = 1
    sockets: int = 1
    connect_wait: float = 0.1
    heartbeat: float = 30.0
    focus_flips_per_min: float = 0.5
    away_for: float = 5.0
    chats_per_min: float = 1.0
    calls_per_min: float = 0.2
    call_accept: float = 0.8
    call_answer_after: float = 0.5
    call_duration: float = 5.0
    session: float = 0.0  # 0: stay for the whole run; else leave and rejoin as a new user
    rejoin_after: float = 1.0
    reconnect_backoff: float = 5.0  # a dropped socket reconnects after this x attempt ...
    reconnect_attempts: int = 5  # ... up to this many times (0: never)


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """Everything a master or worker process needs to run its part of a load run."""

    url: str
    users: int
    spawn_rate: float
    duration: float
    kinds: tuple[UserKind, ...] = (UserKind(),)
    run_id: str = "run"
    output: str = "."
    late_after: float = 1.0
    loss_timeout: float = 5.0
    report_interval: float = 1.0
    max_cpu: float = 0.9
    max_lag: float = 0.05
    raw: bool = True
    slos: tuple[str, ...] = ()
    workers: int = 0
    same_clock: bool = True
    headless: bool = True
    web_host: str = "127.0.0.1"
    web_port: int = 8089
    allow_remote: bool = False
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The config as JSON text."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LoadConfig:
        """Read a config written by :meth:`to_json`."""
        data = json.loads(text)
        data["kinds"] = tuple(UserKind(**k) for k in data["kinds"])
        data["slos"] = tuple(data["slos"])
        return cls(**data)

    @classmethod
    def read(cls, path: Path) -> LoadConfig:
        """Read ``config.json``."""
        return cls.from_json(path.read_text(encoding="utf-8"))
