"""Frames in, messages out: decoding of one WebSocket frame of the protocol, with no I/O.

A frame that is not a protocol message (binary, not UTF-8, not JSON, not an object, no ``type``)
is a :class:`Problem`, never an exception.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any, NewType

__all__ = [
    "Decoded",
    "Direction",
    "Message",
    "MessageType",
    "Problem",
    "decode",
]

MessageType = NewType("MessageType", str)


class Direction(enum.StrEnum):
    """Who sent a frame: the client (to the server) or the server (to a client)."""

    CLIENT = "client-to-server"
    SERVER = "server-to-client"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a frame.

    ``code`` names the kind (``binary``, ``invalid-utf8``, ``invalid-json``, ``not-object``,
    ``missing-type``, ``unknown-type``, ``schema``); ``pointer`` is the JSON pointer of the
    offending value (``""`` for the whole frame); ``keyword`` the schema keyword that failed.
    """

    code: str
    message: str
    pointer: str = ""
    keyword: str | None = None

    def __str__(self) -> str:
        where = self.pointer or "/"
        kw = f" [{self.keyword}]" if self.keyword else ""
        return f"{where}{kw}: {self.message}"


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded protocol message: its envelope as parsed and where it came from."""

    type: MessageType
    direction: Direction
    envelope: dict[str, Any]
    raw: str
    received_at: float

    @property
    def data(self) -> Any:
        """The ``data`` member, or ``None`` when absent."""
        return self.envelope.get("data")

    @property
    def user_id(self) -> str | None:
        """The top-level ``userId``, if it is a string."""
        value = self.envelope.get("userId")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Decoded:
    """The outcome of decoding one frame: a message when it has one, and every problem found."""

    direction: Direction
    raw: str | bytes
    received_at: float
    message: Message | None = None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the frame is a message with no problem at all."""
        return self.message is not None and not self.problems


def _fail(frame: str | bytes, direction: Direction, at: float, problem: Problem) -> Decoded:
    return Decoded(direction=direction, raw=frame, received_at=at, problems=(problem,))


def decode(frame: str | bytes, direction: Direction, received_at: float) -> Decoded:
    """Decode one frame. ``bytes`` is a binary frame, which the protocol does not allow."""
    if isinstance(frame, bytes | bytearray | memoryview):
        return _fail(
            bytes(frame), direction, received_at,
            Problem("binary", f"binary frame of {len(frame)} bytes; the protocol uses text frames"),
        )
    try:
        envelope = json.loads(frame)
    except json.JSONDecodeError as exc:
        return _fail(
            frame, direction, received_at,
            Problem("invalid-json", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"),
        )
    except RecursionError:
        return _fail(frame, direction, received_at,
                     Problem("invalid-json", "not JSON that can be read: nested too deeply"))
    except ValueError as exc:  # e.g. an integer of more than 4300 digits (sys.int_info)
        return _fail(frame, direction, received_at,
                     Problem("invalid-json", f"not JSON that can be read: {exc}"[:200]))
    if not isinstance(envelope, dict):
        kind = type(envelope).__name__ if envelope is not None else "null"
        problem = Problem("not-object", f"a frame must be a JSON object, got {_json_kind(kind)}")
        return _fail(frame, direction, received_at, problem)
    mtype = envelope.get("type")
    if not isinstance(mtype, str) or not mtype:
        msg = ("'type' is missing" if "type" not in envelope
               else f"'type' must be a non-empty string, got {json.dumps(mtype)[:60]}")
        return _fail(frame, direction, received_at,
                     Problem("missing-type", msg, pointer="/type", keyword="required"))
    message = Message(MessageType(mtype), direction, envelope, frame, received_at)
    return Decoded(direction=direction, raw=frame, received_at=received_at, message=message)


def _json_kind(python_name: str) -> str:
    return {"list": "an array", "str": "a string", "int": "a number", "float": "a number",
            "bool": "a boolean", "null": "null"}.get(python_name, python_name)
