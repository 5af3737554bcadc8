"""A backend whose fan-out latency grows with the number of users, for capacity tests.

The reference :class:`~wsprobe.server.Hub`, subclassed so that every status relay (the O(N)
fan-out) goes out ``per_user_ms * N`` milliseconds late, N being the users online. The delay is a
timer, not a blocking sleep, so the latency is that function of N and nothing else (no queueing):
with ``status.actual.p99<T``, the true capacity is ``T / per_user_ms`` users (less the base
latency of a loopback delivery, about a millisecond).

Run it in its own process: ``python slow_backend.py --per-user-ms 1.25``; it prints its URL.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
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
    """The reference hub, with status relays delayed by ``per_user`` seconds per online user."""

    per_user = 0.001

    def __init__(self, *, rate_limit: RateLimit | None = None) -> None:
        super().__init__(rate_limit=rate_limit)

    def relay_status(self, sock: SocketId, user: UserId | None,
                     message: Message) -> list[Action]:
        actions = super().relay_status(sock, user, message)
        return [Later(self.per_user * len(self.online()), actions)]  # type: ignore[list-item]


async def main(per_user_ms: float) -> None:
    SlowHub.per_user = per_user_ms / 1000
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-user-ms", type=float, required=True)
    asyncio.run(main(parser.parse_args().per_user_ms))
    sys.exit(0)
