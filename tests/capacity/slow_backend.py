"""A backend whose fan-out latency grows with the number of users, for capacity tests.

The reference :class:`~wsprobe.server.Hub`, subclassed so that every status relay (the O(N)
fan-out) goes out ``per_user_ms * N`` milliseconds late, N being the users online. The delay is a
timer, not a blocking sleep, so the latency is that function of N and nothing else (no queueing):
with ``status.actual.p99<T``, the true capacity is ``T / per_user_ms`` users (less the base
latency of a loopback delivery, about a millisecond).

Run it in its own process: ``python slow_backend.py --per-user-ms 1.25``; it prints its URL.
:func:`slow_backend` does that for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from wsprobe.core import Message
from wsprobe.server import Action, Close, Hub, RateLimit, Send, SocketId, UserId


@dataclass(frozen=True, slots=True)
class Later:
    """Actions to carry out after ``delay`` seconds."""

    delay: float
    actions: list[Action]


class SlowHub(Hub):
    """The reference hub, with status relays delayed by ``per_user`` seconds per online user
    (and, with ``drop_chat``, chat messages never delivered: a C1 failure)."""

    per_user = 0.001
    drop_chat = False

    def __init__(self, *, rate_limit: RateLimit | None = None) -> None:
        super().__init__(rate_limit=rate_limit)

    def relay_status(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        actions = super().relay_status(sock, user, message)
        return [Later(self.per_user * len(self.online()), actions)]  # type: ignore[list-item]

    def deliver_message(self, sock: SocketId, user: UserId | None,
                        message: Message) -> list[Action]:
        return [] if self.drop_chat else super().deliver_message(sock, user, message)


async def main(per_user_ms: float, *, drop_chat: bool = False) -> None:
    SlowHub.per_user = per_user_ms / 1000
    SlowHub.drop_chat = drop_chat
    hub = SlowHub()
    connections: dict[SocketId, ServerConnection] = {}
    ids = itertools.count(1)
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def send(actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Later):
                loop.call_later(action.delay, send, action.actions)
            elif isinstance(action, Send):
                broadcast([connections[s] for s in action.to if s in connections], action.text)
            elif isinstance(action, Close) and action.sock in connections:
                task = loop.create_task(connections[action.sock].close(action.code,
                                                                        action.reason))
                closing.add(task)
                task.add_done_callback(closing.discard)

    async def handle(connection: ServerConnection) -> None:
        sock = SocketId(next(ids))
        connections[sock] = connection
        send(hub.open(sock))
        try:
            async for frame in connection:
                send(hub.receive(sock, frame, loop.time()))
        except ConnectionClosed:
            pass
        finally:
            del connections[sock]
            send(hub.close(sock))

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with serve(handle, "127.0.0.1", 0, compression=None, backlog=4096) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"ws://127.0.0.1:{port}/ws/ws", flush=True)
        await stop.wait()


@contextlib.contextmanager
def slow_backend(per_user_ms: float, *, drop_chat: bool = False) -> Iterator[str]:
    """Run this backend in a process of its own; yields its URL, stops it at the end."""
    argv = [sys.executable, __file__, "--per-user-ms", str(per_user_ms)]
    if drop_chat:
        argv.append("--drop-chat")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("ws://"):
            raise RuntimeError(f"slow backend did not start (exit {proc.poll()})")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-user-ms", type=float, required=True)
    parser.add_argument("--drop-chat", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.per_user_ms, drop_chat=args.drop_chat))
    sys.exit(0)
