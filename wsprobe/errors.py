"""Errors of the tool or its input (never findings about the system under test).

Each class carries the process exit code the CLI maps it to, as click does.
Findings about a backend are values (:class:`wsprobe.core.Problem` and the checks' findings),
not exceptions.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "InputError",
    "Interrupted",
    "UnreachableError",
    "WsprobeError",
]


class WsprobeError(Exception):
    """Base of every error wsprobe raises on purpose; ``exit_code`` is what the CLI exits with."""

    exit_code: ClassVar[int] = 2


class InputError(WsprobeError):
    """Bad usage or bad input: a malformed schema, scenario, profile, URL or option (exit 2)."""

    exit_code: ClassVar[int] = 2


class UnreachableError(WsprobeError):
    """The target refused the connection or the WebSocket handshake (exit 3)."""

    exit_code: ClassVar[int] = 3


class Interrupted(WsprobeError):
    """The user interrupted the run (exit 130); partial results have been written."""

    exit_code: ClassVar[int] = 130
