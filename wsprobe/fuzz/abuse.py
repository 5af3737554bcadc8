"""Frame-level abuse: what no schema describes (no I/O).

Invalid JSON, invalid UTF-8 in a text frame, binary frames, oversized frames, fragmentation right
and wrong, control frames right and wrong (RFC 6455 sections 5.4, 5.5, 7.4). Each group has a fixed
list of cases (:data:`COVERAGE`) and a hypothesis strategy for more (:func:`strategy`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from hypothesis import strategies as st

from wsprobe.core import Direction, SchemaSet
from wsprobe.fuzz.cases import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Expect,
    FuzzCase,
    WireFrame,
)
from wsprobe.fuzz.messages import FUZZ_USER

__all__ = ["COVERAGE", "FRAME_GROUPS", "SAMPLE", "strategy"]

#: a valid message that a server delivers back to the fuzz socket itself
SAMPLE = json.dumps({"type": "send-message",
                     "data": {"receiverId": FUZZ_USER, "text": "fragment", "chatId": "wsprobe"}},
                    separators=(",", ":"))
_SAMPLE = SAMPLE.encode()

FRAME_GROUPS = ("frames/json", "frames/utf8", "frames/binary", "frames/size",
                "frames/fragmented", "frames/control")


def _case(group: str, label: str, expect: Expect, *frames: WireFrame) -> FuzzCase:
    return FuzzCase(group=group, frames=frames, expect=expect, user=FUZZ_USER, label=label)


def _text(group: str, label: str, text: str) -> FuzzCase:
    return _case(group, label, Expect.INVALID, WireFrame.text(text))


def _close_payload(code: int, reason: bytes = b"") -> bytes:
    return code.to_bytes(2, "big") + reason


_INVALID_JSON = {
    "empty frame": "",
    "whitespace": " \n\t",
    "truncated": SAMPLE[: len(SAMPLE) // 2],
    "trailing garbage": SAMPLE + "}}",
    "two objects": SAMPLE + SAMPLE,
    "single quotes": SAMPLE.replace('"', "'"),
    "NaN": '{"type":"send-message","data":NaN}',
    "BOM first": "\ufeff" + SAMPLE,
    "NUL first": "\x00" + SAMPLE,
    "a bare string": '"send-message"',
    "null": "null",
    "an array": f"[{SAMPLE}]",
    "a number": "1",
    "unclosed string": '{"type":"send-message',
    "deep arrays": "[" * 30_000 + "]" * 30_000,
    "deep objects": '{"a":' * 10_000 + "1" + "}" * 10_000,
    "5000 digits": '{"type":"send-message","data":' + "9" * 5_000 + "}",
    "1e999": '{"type":"send-message","data":1e999}',
    "type missing": '{"data":{}}',
    "type null": '{"type":null}',
    "type number": '{"type":1}',
    "type empty": '{"type":""}',
    "type unknown": '{"type":"wsprobe-unknown"}',
    "type misspelt": '{"type":"recieve-message","data":{}}',
    "server type": '{"type":"get-users","data":[]}',
    "type with spaces": '{"type":" send-message "}',
    "type upper case": '{"type":"SEND-MESSAGE","data":{}}',
}
_INVALID_UTF8 = {
    "0xff": b"\xff",
    "lone continuation byte": b'{"type":"\x80"}',
    "overlong slash": b'{"type":"\xc0\xaf"}',
    "encoded surrogate": b'{"type":"\xed\xa0\x80"}',
    "truncated sequence": b'{"type":"\xe2\x82"}',
    "above U+10FFFF": b'{"type":"\xf4\x90\x80\x80"}',
    "valid JSON then 0xfe": _SAMPLE + b"\xfe",
}

_UNMASKED = WireFrame(OP_TEXT, _SAMPLE, masked=False)
_HALF = len(_SAMPLE) // 2


def _coverage() -> tuple[FuzzCase, ...]:
    out: list[FuzzCase] = []
    for label, text in _INVALID_JSON.items():
        out.append(_text("frames/json", label, text))
    for label, data in _INVALID_UTF8.items():
        out.append(_case("frames/utf8", label, Expect.INVALID, WireFrame(OP_TEXT, data)))
    for label, data in {"empty": b"", "JSON as binary": _SAMPLE, "bytes": bytes(range(256))
                        }.items():
        out.append(_case("frames/binary", label, Expect.INVALID, WireFrame(OP_BINARY, data)))
    for size in (64 * 1024 + 1, 1 << 20, 4 << 20):
        big = json.dumps({"type": "send-message", "data": {
            "receiverId": FUZZ_USER, "chatId": "wsprobe", "text": "x" * size}})
        out.append(_case("frames/size", f"{len(big)} bytes", Expect.LIMIT, WireFrame.text(big)))
    out.append(_case("frames/size", "4 MiB binary", Expect.INVALID,
                     WireFrame(OP_BINARY, b"\0" * (4 << 20))))
    g = "frames/fragmented"
    out += [
        _case(g, "two fragments", Expect.VALID, WireFrame(OP_TEXT, _SAMPLE[:_HALF], fin=False),
              WireFrame(OP_CONT, _SAMPLE[_HALF:])),
        _case(g, "one byte per fragment", Expect.VALID,
              WireFrame(OP_TEXT, _SAMPLE[:1], fin=False),
              *(WireFrame(OP_CONT, _SAMPLE[i:i + 1], fin=False) for i in range(1, len(_SAMPLE))),
              WireFrame(OP_CONT, b"")),
        _case(g, "ping between fragments", Expect.VALID,
              WireFrame(OP_TEXT, _SAMPLE[:_HALF], fin=False), WireFrame(OP_PING, b"mid"),
              WireFrame(OP_CONT, _SAMPLE[_HALF:])),
        _case(g, "UTF-8 character split across fragments", Expect.VALID,
              WireFrame(OP_TEXT, _SAMPLE.replace(b"fragment", "\u00e9t\u00e9".encode())[:63],
                        fin=False),
              WireFrame(OP_CONT, _SAMPLE.replace(b"fragment", "\u00e9t\u00e9".encode())[63:])),
        _case(g, "continuation without a start", Expect.INVALID, WireFrame(OP_CONT, _SAMPLE)),
        _case(g, "new text frame inside a fragmented one", Expect.INVALID,
              WireFrame(OP_TEXT, _SAMPLE[:_HALF], fin=False), WireFrame(OP_TEXT, _SAMPLE)),
        _case(g, "fragmented message never finished", Expect.INVALID,
              WireFrame(OP_TEXT, _SAMPLE[:_HALF], fin=False)),
        _case(g, "binary continued as text", Expect.INVALID,
              WireFrame(OP_BINARY, _SAMPLE[:_HALF], fin=False),
              WireFrame(OP_CONT, _SAMPLE[_HALF:])),
    ]
    g = "frames/control"
    out += [
        _case(g, "ping", Expect.PONG, WireFrame(OP_PING, b"wsprobe")),
        _case(g, "empty ping", Expect.PONG, WireFrame(OP_PING, b"")),
        _case(g, "ping of 125 bytes", Expect.PONG, WireFrame(OP_PING, b"p" * 125)),
        _case(g, "unsolicited pong", Expect.VALID, WireFrame(OP_PONG, b"unsolicited")),
        _case(g, "ping of 126 bytes", Expect.INVALID, WireFrame(OP_PING, b"p" * 126)),
        _case(g, "fragmented ping", Expect.INVALID, WireFrame(OP_PING, b"p", fin=False)),
        _case(g, "close 1000", Expect.CLOSE, WireFrame(OP_CLOSE, _close_payload(1000, b"bye"))),
        _case(g, "empty close", Expect.CLOSE, WireFrame(OP_CLOSE, b"")),
        _case(g, "close with a one-byte payload", Expect.INVALID, WireFrame(OP_CLOSE, b"\x03")),
        _case(g, "close reason not UTF-8", Expect.INVALID,
              WireFrame(OP_CLOSE, _close_payload(1000, b"\xff\xfe"))),
        *(_case(g, f"close code {code}", Expect.INVALID, WireFrame(OP_CLOSE, _close_payload(code)))
          for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000)),
        *(_case(g, f"reserved opcode 0x{op:X}", Expect.INVALID, WireFrame(op, _SAMPLE))
          for op in (0x3, 0x7, 0xB, 0xF)),
        *(_case(g, f"RSV bits {rsv}", Expect.INVALID, WireFrame(OP_TEXT, _SAMPLE, rsv=rsv))
          for rsv in (1, 2, 4)),
        _case(g, "unmasked frame", Expect.INVALID, _UNMASKED),
    ]
    return tuple(out)


COVERAGE: tuple[FuzzCase, ...] = _coverage()


def _json_strategy(schemas: SchemaSet) -> st.SearchStrategy[FuzzCase]:
    def cut(at: int, junk: str) -> FuzzCase:
        text = SAMPLE[:at] + junk + SAMPLE[at:]
        valid = schemas.check(text, Direction.CLIENT, 0.0).ok  # junk inside a string is valid
        return _case("frames/json", "mangled JSON", Expect.VALID if valid else Expect.INVALID,
                     WireFrame.text(text))
    return st.builds(cut, st.integers(0, len(SAMPLE)),
                     st.text(alphabet='{}[]",:\\ 0e-.tfn\x00', min_size=1, max_size=4))


def _utf8_strategy(schemas: SchemaSet) -> st.SearchStrategy[FuzzCase]:
    def insert(at: int, junk: bytes) -> FuzzCase:
        data = _SAMPLE[:at] + junk + _SAMPLE[at:]
        return _case("frames/utf8", "bytes inserted", Expect.INVALID, WireFrame(OP_TEXT, data))
    bad = st.sampled_from([b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xff", b"\xe2\x82", b"\xf8"])
    return st.builds(insert, st.integers(0, len(_SAMPLE)), bad)


def _binary_strategy(schemas: SchemaSet) -> st.SearchStrategy[FuzzCase]:
    return st.binary(max_size=512).map(
        lambda b: _case("frames/binary", "random bytes", Expect.INVALID, WireFrame(OP_BINARY, b)))


def _size_strategy(schemas: SchemaSet) -> st.SearchStrategy[FuzzCase]:
    def big(size: int, binary: bool) -> FuzzCase:
        return _case("frames/size", f"{size} bytes", Expect.INVALID if binary else Expect.LIMIT,
                     WireFrame(OP_BINARY if binary else OP_TEXT, b"x" * size))
    return st.builds(big, st.integers(64 * 1024 + 1, 2 << 20), st.booleans())


def _fragmented_strategy(schemas: SchemaSet) -> st.SearchStrategy[FuzzCase]:
    def split(cuts: list[int], ping_at: int | None) -> FuzzCase:
        points = sorted({c for c in cuts if 0 < c < len(_SAMPLE)})
        parts = [_SAMPLE[a:b] for a, b in zip([0, *points], [*points, len(_SAMPLE)], strict=True)]
        frames = [WireFrame(OP_TEXT if i == 0 else OP_CONT, p, fin=i == len(parts) - 1)
                  for i, p in enumerate(parts)]
        if ping_at is not None:
            frames.insert(min(ping_at, len(frames)), WireFrame(OP_PING, b"mid"))
        return _case("frames/fragmented", f"{len(parts)} fragments", Expect.VALID, *frames)
    return st.builds(split, st.lists(st.integers(1, len(_SAMPLE) - 1), max_size=8),
                     st.none() | st.integers(0, 8))


def _control_strategy(schemas: SchemaSet) -> st.SearchStrategy[FuzzCase]:
    def ping(data: bytes) -> FuzzCase:
        expect = Expect.PONG if len(data) <= 125 else Expect.INVALID
        return _case("frames/control", f"ping of {len(data)} bytes", expect,
                     WireFrame(OP_PING, data))

    def close(code: int, reason: str) -> FuzzCase:
        ok = code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014) or \
            3000 <= code <= 4999
        payload = _close_payload(code, reason.encode())
        expect = Expect.CLOSE if ok and len(payload) <= 125 else Expect.INVALID
        return _case("frames/control", f"close {code}", expect, WireFrame(OP_CLOSE, payload))

    def opcode(op: int) -> FuzzCase:
        return _case("frames/control", f"reserved opcode 0x{op:X}", Expect.INVALID,
                     WireFrame(op, _SAMPLE))
    return st.one_of(st.builds(ping, st.binary(max_size=140)),
                     st.builds(close, st.integers(0, 65535), st.text(max_size=20)),
                     st.builds(opcode, st.sampled_from([3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])))


_STRATEGIES: dict[str, Callable[[SchemaSet], st.SearchStrategy[FuzzCase]]] = {
    "frames/json": _json_strategy,
    "frames/utf8": _utf8_strategy,
    "frames/binary": _binary_strategy,
    "frames/size": _size_strategy,
    "frames/fragmented": _fragmented_strategy,
    "frames/control": _control_strategy,
}


def strategy(group: str, schemas: SchemaSet) -> st.SearchStrategy[FuzzCase]:
    """More cases of a frame group, drawn by hypothesis (which also shrinks them)."""
    return _STRATEGIES[group](schemas)
