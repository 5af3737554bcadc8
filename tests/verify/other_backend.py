"""A /ws/ws backend written the way many real ones are, independent of wsprobe's server code.

One plain ``websockets`` handler and module-level dicts, no schemas. Its choices differ from the
reference backend where the protocol leaves room: ``get-users`` lists ``{"userId": ...}``
objects, a relayed signal names its sender only in ``data.senderId``, and bad input gets an
error frame whose text is the exception. It has one real bug: chat deliveries are typed
``recieve-message``.

    python -m tests.verify.other_backend [--port 8766]   # prints its URL
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

clients: dict[ServerConnection, str] = {}  # socket -> user id
sockets: dict[str, set[ServerConnection]] = defaultdict(set)  # user id -> its sockets
calls: dict[str, set[str]] = defaultdict(set)  # user id -> peers in an accepted call


def out(kind: str, data: Any, **top: Any) -> str:
    return json.dumps({"type": kind, **top, "data": data})


def user_list() -> str:
    return out("get-users", [{"userId": u} for u, s in sockets.items() if s])


def fail(ws: ServerConnection, code: str, why: str) -> None:
    broadcast([ws], out("error", {"code": code, "message": why}))


def everyone_but(user: str | None) -> list[ServerConnection]:
    return [ws for ws, u in clients.items() if u != user]


def on_message(ws: ServerConnection, msg: dict[str, Any]) -> None:
    kind, data = msg.get("type"), msg.get("data")
    me = clients.get(ws)
    if kind == "new-user-add":
        uid = msg.get("userId") or (data or {}).get("userId")
        if not isinstance(uid, str) or not uid:
            return fail(ws, "invalid-message", "userId must be a non-empty string")
        first = not sockets[uid]
        clients[ws] = uid
        sockets[uid].add(ws)
        if first:
            broadcast(list(clients), user_list())
        else:
            broadcast([ws], user_list())
        return None
    if me is None:
        return fail(ws, "not-registered", "register first")
    if not isinstance(data, dict):
        return fail(ws, "invalid-message", "data must be an object")
    if kind == "user-status-update":
        if data.get("status") not in ("online", "away", "offline"):
            return fail(ws, "invalid-message", "bad status")
        broadcast(everyone_but(me), out("user-status-update", {**data, "userId": me}))
    elif kind == "send-message":
        to = data.get("receiverId")
        if not all(isinstance(data.get(k), str) for k in ("receiverId", "text", "chatId")):
            return fail(ws, "invalid-message", "receiverId, text and chatId are required")
        if not sockets.get(to):
            return fail(ws, "receiver-offline", f"{to} is offline")
        # the bug: the type is misspelled, as in the tutorial this code was copied from
        broadcast(sockets[to], out("recieve-message", {**data, "senderId": me}))
    elif kind == "agora-signal":
        action, to = data.get("action"), data.get("targetId")
        if not isinstance(action, str) or not isinstance(to, str):
            return fail(ws, "invalid-message", "action and targetId are required")
        if action == "call-request" and not (data.get("channel") and data.get("callType")):
            return fail(ws, "invalid-message", "call-request needs channel and callType")
        if not sockets.get(to):
            return fail(ws, "receiver-offline", f"{to} is offline")
        if action == "call-accepted":
            calls[me].add(to)
            calls[to].add(me)
        elif action in ("call-ended", "call-rejected", "call-cancelled"):
            calls[me].discard(to)
            calls[to].discard(me)
        broadcast(sockets[to], out("agora-signal", {**data, "senderId": me}))
    else:
        fail(ws, "unknown-type", f"unknown type {kind!r}")
    return None


def on_close(ws: ServerConnection) -> None:
    me = clients.pop(ws, None)
    if me is None:
        return
    sockets[me].discard(ws)
    if sockets[me]:
        return
    del sockets[me]
    broadcast(list(clients), user_list())
    broadcast(list(clients), out("user-status-update", {"userId": me, "status": "offline"}))
    for peer in calls.pop(me, set()):
        calls[peer].discard(me)
        broadcast(sockets.get(peer, ()), out("agora-signal", {
            "action": "call-ended", "reason": "peer-disconnected", "targetId": peer,
            "senderId": me}))


async def handler(ws: ServerConnection) -> None:
    try:
        async for raw in ws:
            if isinstance(raw, bytes):
                await ws.close(1003, "text frames only")
                return
            try:
                msg = json.loads(raw)
            except ValueError as exc:
                fail(ws, "invalid-json", str(exc))
                continue
            if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                fail(ws, "invalid-message", "a message is an object with a type")
                continue
            on_message(ws, msg)
    except ConnectionClosed:
        pass
    finally:
        on_close(ws)


@asynccontextmanager
async def serving(port: int = 0, *, gate: Any = None,
                  on_open: Any = None) -> AsyncIterator[str]:
    """Run the backend on 127.0.0.1; yields its URL. ``gate`` is a websockets
    ``process_request`` hook; ``on_open(ws)`` runs first for each socket and may close it."""
    clients.clear()
    sockets.clear()
    calls.clear()

    async def opened(ws: ServerConnection) -> None:
        if on_open is None or not await on_open(ws):
            await handler(ws)

    async with serve(opened, "127.0.0.1", port, max_size=1 << 20,
                     process_request=gate) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ws/ws"


async def main(port: int) -> None:
    async with serving(port) as url:
        print(url, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8766)
    asyncio.run(main(parser.parse_args().port))
