"""A fuzz case as a value: what one fresh socket sends, and what kind of answer is correct.

A case is replayable on its own: it names the user id its socket registers with (if any) and every
frame it sends, byte for byte where bytes matter. :func:`case_to_json` and :func:`case_from_json`
give the file format of ``wsprobe fuzz --replay`` (version 1, documented in ``docs``-style on
:func:`case_to_json`).
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from wsprobe.errors import InputError

__all__ = [
    "CASE_FORMAT",
    "Expect",
    "FuzzCase",
    "WireFrame",
    "case_from_json",
    "case_to_json",
]

CASE_FORMAT = "wsprobe-fuzz-case/1"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_OPCODE_NAMES = {OP_CONT: "continuation", OP_TEXT: "text", OP_BINARY: "binary",
                 OP_CLOSE: "close", OP_PING: "ping", OP_PONG: "pong"}


class Expect(enum.StrEnum):
    """What a correct server does with the case's frames (protocol.md R1, R2)."""

    #: a valid message: served; the socket stays open
    VALID = "valid"
    #: bad input: an ``error`` frame or a close with 1002/1003/1007/1008/1009, never silence
    INVALID = "invalid"
    #: over a size limit the server may or may not have: served, or an error, or 1008/1009
    LIMIT = "limit"
    #: a ping: a pong with the same payload (RFC 6455 5.5.2, protocol.md section 1)
    PONG = "pong"
    #: a close frame: the server closes too; nothing else is required
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class WireFrame:
    """One frame as the fuzzer writes it: any opcode, payload, FIN, RSV bits, masked or not."""

    opcode: int
    payload: bytes
    fin: bool = True
    rsv: int = 0
    masked: bool = True

    @classmethod
    def text(cls, text: str) -> WireFrame:
        """A text frame of ``text`` in UTF-8."""
        return cls(OP_TEXT, text.encode("utf-8"))

    def describe(self, limit: int = 120) -> str:
        """``text {"type":...}`` or ``binary 12 bytes: 00ff...``, for reports."""
        name = _OPCODE_NAMES.get(self.opcode, f"opcode 0x{self.opcode:X}")
        flags = [f for f, on in (("FIN=0", not self.fin), (f"RSV={self.rsv}", self.rsv),
                                 ("unmasked", not self.masked)) if on]
        head = name + (f" [{' '.join(flags)}]" if flags else "")
        body: str
        if self.opcode in (OP_TEXT, OP_CONT):
            try:
                body = self.payload.decode("utf-8")
            except UnicodeDecodeError:
                body = f"<{len(self.payload)} bytes, not UTF-8: {self.payload[:24].hex()}>"
        else:
            body = f"<{len(self.payload)} bytes: {self.payload[:24].hex()}>"
        if len(body) > limit:
            body = f"{body[:limit - 20]}... ({len(self.payload)} bytes)"
        return f"{head} {body}"


@dataclass(frozen=True, slots=True)
class FuzzCase:
    """The frames one fresh socket sends (after registering as ``user`` when it is set)."""

    group: str
    frames: tuple[WireFrame, ...]
    expect: Expect
    user: str | None = None
    label: str = ""
    notes: tuple[str, ...] = field(default=())
    #: the JSON value of a one-message case, for shrinking (not part of the replay file)
    envelope: Any = field(default=None, compare=False, repr=False)

    def size(self) -> int:
        """Bytes sent, plus frames: the order in which smaller cases are preferred."""
        return sum(len(f.payload) + 2 for f in self.frames)

    def describe(self, limit: int = 200) -> str:
        """One line per frame."""
        return "\n".join(f.describe(limit) for f in self.frames)


def case_to_json(case: FuzzCase, *, finding: dict[str, Any] | None = None,
                 seed: int | None = None, target: str | None = None) -> dict[str, Any]:
    """The replay file of a case: text frames as text when UTF-8, else base64.

    ``{"format": "wsprobe-fuzz-case/1", "group", "label", "expect", "user", "frames": [
    {"opcode": 1, "text": "...", "fin": true, "rsv": 0, "masked": true} |
    {"opcode": 2, "base64": "..."}], "finding": {...}, "seed", "target"}``.
    """
    frames: list[dict[str, Any]] = []
    for f in case.frames:
        entry: dict[str, Any] = {"opcode": f.opcode}
        try:
            entry["text"] = f.payload.decode("utf-8")
        except UnicodeDecodeError:
            entry["base64"] = base64.b64encode(f.payload).decode("ascii")
        if not f.fin:
            entry["fin"] = False
        if f.rsv:
            entry["rsv"] = f.rsv
        if not f.masked:
            entry["masked"] = False
        frames.append(entry)
    out: dict[str, Any] = {"format": CASE_FORMAT, "group": case.group, "label": case.label,
                           "expect": case.expect.value, "user": case.user, "frames": frames}
    if case.notes:
        out["notes"] = list(case.notes)
    if finding is not None:
        out["finding"] = finding
    if seed is not None:
        out["seed"] = seed
    if target is not None:
        out["target"] = target
    return out


def case_from_json(data: Any, source: str = "<case>") -> FuzzCase:
    """Read a replay file's contents; a malformed file is an :class:`InputError` naming a field."""
    def bad(where: str, what: str) -> InputError:
        return InputError(f"{source}: {where}: {what}")

    if not isinstance(data, dict):
        raise bad("/", "a fuzz case file holds one JSON object")
    if data.get("format") != CASE_FORMAT:
        raise bad("/format", f"expected {CASE_FORMAT!r}, got {data.get('format')!r}")
    try:
        expect = Expect(str(data.get("expect")))
    except ValueError:
        raise bad("/expect", f"must be one of {', '.join(e.value for e in Expect)}") from None
    user = data.get("user")
    if user is not None and not isinstance(user, str):
        raise bad("/user", "must be a string or null")
    raw_frames = data.get("frames")
    if not isinstance(raw_frames, list) or not raw_frames:
        raise bad("/frames", "must be a non-empty array")
    frames = []
    for i, entry in enumerate(raw_frames):
        where = f"/frames/{i}"
        if not isinstance(entry, dict):
            raise bad(where, "must be an object")
        opcode = entry.get("opcode")
        if not isinstance(opcode, int) or isinstance(opcode, bool) or not 0 <= opcode <= 15:
            raise bad(f"{where}/opcode", "must be an integer from 0 to 15")
        if isinstance(entry.get("text"), str):
            payload = entry["text"].encode("utf-8", "surrogatepass")
        elif isinstance(entry.get("base64"), str):
            try:
                payload = base64.b64decode(entry["base64"], validate=True)
            except ValueError:
                raise bad(f"{where}/base64", "is not valid base64") from None
        else:
            raise bad(where, "needs 'text' (a string) or 'base64'")
        fin, rsv, masked = entry.get("fin", True), entry.get("rsv", 0), entry.get("masked", True)
        if not isinstance(fin, bool) or not isinstance(masked, bool):
            raise bad(where, "'fin' and 'masked' must be booleans")
        if not isinstance(rsv, int) or isinstance(rsv, bool) or not 0 <= rsv <= 7:
            raise bad(f"{where}/rsv", "must be an integer from 0 to 7")
        frames.append(WireFrame(opcode, payload, fin, rsv, masked))
    label = data.get("label", "")
    notes = data.get("notes", [])
    return FuzzCase(group=str(data.get("group", "replay")), frames=tuple(frames), expect=expect,
                    user=user, label=label if isinstance(label, str) else "",
                    notes=tuple(str(n) for n in notes) if isinstance(notes, list) else ())


def dumps_case(case: FuzzCase, **extra: Any) -> str:
    """The replay file's text."""
    return json.dumps(case_to_json(case, **extra), ensure_ascii=False, indent=2) + "\n"
