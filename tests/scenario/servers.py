"""Small real WebSocket backends for the engine's tests: a correct relay and ones that misbehave.

Each runs on 127.0.0.1 port 0. ``MiniRelay`` speaks just enough of the protocol for the tests;
a ``fault`` makes it break one rule: ``drop-relay`` (chat and signals never delivered),
``wrong-user`` (messages delivered to everyone but the receiver), ``stall`` (stops answering
after the first registration), ``close`` (closes every socket with 1011 on the first chat
message), ``refuse`` (HTTP 403 handshake), ``refuse-after-N`` (HTTP 503 once N connections were
accepted), ``bad-frames`` (``recieve-message`` instead of
``receive-message``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response


class MiniRelay:
    """The protocol's core relays, with an optional fault."""

    def __init__(self, fault: str | None = None) -> None:
        self.fault = fault
        self.users: dict[ServerConnection, str] = {}
        self.stalled = False

    def online(self) -> list[str]:
        return sorted(set(self.users.values()))

    async def broadcast(self, frame: dict[str, Any], sockets: list[ServerConnection]) -> None:
        text = json.dumps(frame)
        for ws in sockets:
            with contextlib.suppress(Exception):
                await ws.send(text)

    def sockets_of(self, user: str) -> list[ServerConnection]:
        return [ws for ws, u in self.users.items() if u == user]

    async def handler(self, ws: ServerConnection) -> None:
        try:
            async for raw in ws:
                if self.stalled:
                    continue
                await self.on_frame(ws, json.loads(raw))
        except Exception:
            pass
        finally:
            user = self.users.pop(ws, None)
            if user is not None and user not in self.users.values():
                await self.broadcast({"type": "get-users", "data": self.online()},
                                     list(self.users))

    async def on_frame(self, ws: ServerConnection, msg: dict[str, Any]) -> None:
        mtype, data = msg.get("type"), msg.get("data") or {}
        if mtype == "new-user-add":
            self.users[ws] = msg.get("userId") or data.get("userId")
            await self.broadcast({"type": "get-users", "data": self.online()}, list(self.users))
            if self.fault == "stall":
                self.stalled = True
        elif mtype == "user-status-update":
            me = self.users[ws]
            others = [s for s, u in self.users.items() if u != me]
            await self.broadcast({"type": "user-status-update",
                                  "data": {"userId": me, "status": data["status"]}}, others)
        elif mtype == "send-message":
            if self.fault == "close":
                for s in list(self.users):
                    await s.close(1011, "boom")
                return
            if self.fault == "drop-relay":
                return
            kind = "recieve-message" if self.fault == "bad-frames" else "receive-message"
            out = {"type": kind, "data": {"chatId": data["chatId"], "text": data["text"],
                                          "senderId": self.users[ws]}}
            receiver = data["receiverId"]
            targets = ([s for s, u in self.users.items() if u != receiver]
                       if self.fault == "wrong-user" else self.sockets_of(receiver))
            await self.broadcast(out, targets)
        elif mtype == "agora-signal":
            if self.fault == "drop-relay":
                return
            me = self.users[ws]
            await self.broadcast({"type": "agora-signal", "userId": me,
                                  "data": {**data, "senderId": me}},
                                 self.sockets_of(data["targetId"]))


def _refuse(connection: ServerConnection, request: Request) -> Response:
    return connection.respond(403, "forbidden\n")


def _refuse_after(n: int) -> Callable[[ServerConnection, Request], Response | None]:
    accepted = itertools.count(1)

    def gate(connection: ServerConnection, request: Request) -> Response | None:
        if next(accepted) > n:
            return connection.respond(503, "no more connections\n")
        return None

    return gate


@contextlib.asynccontextmanager
async def mini_server(fault: str | None = None) -> AsyncIterator[str]:
    """Run a ``MiniRelay`` on a free loopback port; yields its ``ws://`` URL."""
    relay = MiniRelay(fault)
    process_request: Callable[[ServerConnection, Request], Response | None] | None = None
    if fault == "refuse":
        process_request = _refuse
    elif fault and fault.startswith("refuse-after-"):
        process_request = _refuse_after(int(fault.rsplit("-", 1)[1]))
    async with serve(relay.handler, "127.0.0.1", 0, process_request=process_request,
                     ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/ws"


async def closed_port() -> str:
    """A URL on a loopback port where nothing listens."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return f"ws://127.0.0.1:{port}/ws/ws"
