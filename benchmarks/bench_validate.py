"""Messages validated per second by the core (decode + schema validation), on typical frames.

Run: python benchmarks/bench_validate.py [--seconds 3]
Prints frames/s for a mix of valid frames of every type and for invalid ones, on one core, and,
side by side, the same valid frames through the pure-Python jsonschema validators alone (what the
core would cost without jsonschema-rs answering the yes/no question).
"""

from __future__ import annotations

import argparse
import time

from wsprobe.core import Direction, decode, load_schemas

C, S = Direction.CLIENT, Direction.SERVER
VALID = [
    ('{"type":"new-user-add","userId":"alice"}', C),
    ('{"type":"user-status-update","data":{"userId":"alice","status":"online","lastSeen":"2026-11-25T10:00:00Z"}}', C),
    ('{"type":"send-message","data":{"senderId":"alice","receiverId":"bob","text":"hello there","chatId":"c1","messageId":"m-1"}}', C),
    ('{"type":"agora-signal","data":{"action":"call-request","targetId":"bob","channel":"c-42","callType":"video","timestamp":1764115200000}}', C),
    ('{"type":"get-users","data":["alice","bob","carol","dave","erin"]}', S),
    ('{"type":"user-status-update","data":{"userId":"alice","status":"away"}}', S),
    ('{"type":"receive-message","data":{"chatId":"c1","senderId":"alice","text":"hello there"}}', S),
    ('{"type":"agora-signal","userId":"alice","data":{"action":"call-accepted","targetId":"bob","channel":"c-42","senderId":"alice"}}', S),
]
INVALID = [
    ('{"type":"send-message","data":{"receiverId":5,"text":"hi"}}', C),
    ('{"type":"recieve-message","data":{}}', S),
    ('{not json', S),
]


def rate(frames: list[tuple[str, Direction]], seconds: float) -> float:
    schemas = load_schemas()
    check = schemas.check
    n = 0
    start = time.process_time()
    deadline = start + seconds
    while time.process_time() < deadline:
        for frame, direction in frames:
            check(frame, direction, 0.0)
        n += len(frames)
    return n / (time.process_time() - start)


def rate_python_only(frames: list[tuple[str, Direction]], seconds: float) -> float:
    schemas = load_schemas()
    validators = schemas._validators  # the explaining implementation, used here for every frame
    n = 0
    start = time.process_time()
    deadline = start + seconds
    while time.process_time() < deadline:
        for frame, direction in frames:
            message = decode(frame, direction, 0.0).message
            assert message is not None
            validators[(direction, message.type)].is_valid(message.envelope)
        n += len(frames)
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    valid = rate(VALID, args.seconds)
    python_only = rate_python_only(VALID, args.seconds)
    print(f"valid frames:   {valid:>10,.0f} per CPU-second")
    print(f"invalid frames: {rate(INVALID, args.seconds):>10,.0f} per CPU-second (explained)")
    print(f"valid frames, jsonschema alone: {python_only:>10,.0f} per CPU-second "
          f"(core is {valid / python_only:.1f}x faster)")


if __name__ == "__main__":
    main()
