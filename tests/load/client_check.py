"""Drive :class:`wsprobe.load.client.WebSocketClient` under gevent; print what happened as JSON.

Run as ``python client_check.py URL`` in a process of its own (gevent never enters pytest's).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import gevent  # noqa: E402

from wsprobe.load.client import ConnectFailed, WebSocketClient, now_us  # noqa: E402


def attempt(url: str) -> dict[str, Any]:
    try:
        WebSocketClient(url, on_text=lambda data, t: None).connect(timeout=5)
    except ConnectFailed as exc:
        return {"failed": True, "refused": exc.refused, "message": str(exc)}
    return {"failed": False}


def main(url: str) -> None:
    frames: list[dict[str, Any]] = []

    def on_text(data: bytes, t: int) -> None:
        frames.append({"message": json.loads(data), "age_us": now_us() - t, "t": t})

    client = WebSocketClient(url, on_text=on_text)
    before = now_us()
    client.connect()
    reader = gevent.spawn(client.run)
    client.send(json.dumps({"type": "new-user-add", "userId": "checker"}).encode())
    deadline = time.monotonic() + 5
    while not frames and time.monotonic() < deadline:
        gevent.sleep(0.01)
    gevent.sleep(1.0)  # several server pings: unanswered, the server would close us
    still_open = client.open
    client.close(1000)
    reader.join(timeout=5)
    parts = urlsplit(url)
    print(json.dumps({
        "types": [f["message"]["type"] for f in frames],
        "first": frames[0]["message"] if frames else None,
        "stamp_after_connect": bool(frames) and frames[0]["t"] >= before,
        "max_age_us": max((f["age_us"] for f in frames), default=None),
        "open_after_pings": still_open,
        "kernel_timestamps": client.kernel_timestamps,
        "close_code": client.close_code,
        "run_ended": reader.dead,
        "wrong_path": attempt(urlunsplit(parts._replace(path="/nope"))),
        "closed_port": attempt("ws://127.0.0.1:9/ws/ws"),
        "bad_url": attempt("http://x"),
    }))


def ticker(url: str) -> None:
    """Under a flood: how often a 0.25 s ticker greenlet runs in 2 s next to the receive loop."""
    frames = [0]

    def count(data: bytes, t: int) -> None:
        frames[0] += 1

    client = WebSocketClient(url, on_text=count)
    client.connect()
    gevent.spawn(client.run)
    ticks: list[float] = []
    start = time.monotonic()
    while time.monotonic() - start < 2:
        gevent.sleep(0.25)
        ticks.append(time.monotonic() - start)
    print(json.dumps({"ticks": len(ticks), "frames": frames[0]}))


if __name__ == "__main__":
    if sys.argv[2:] == ["ticker"]:
        ticker(sys.argv[1])
    else:
        main(sys.argv[1])
