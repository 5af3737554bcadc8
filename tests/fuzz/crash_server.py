"""A small /ws/ws backend that dies on one malformed ``data`` shape (for ``wsprobe fuzz`` tests).

``python crash_server.py PORT [MIN]``: the process exits with code 70 when a ``send-message``
carries a ``data.text`` that is a list of at least MIN items (default 1). Everything else is
served well enough for the fuzzer's canary: registration, delivery, ``error`` frames.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

USERS: dict[str, set[ServerConnection]] = {}


def _frame(mtype: str, data: Any) -> str:
    return json.dumps({"type": mtype, "data": data})


async def _error(ws: ServerConnection, code: str) -> None:
    await ws.send(_frame("error", {"code": code, "message": code}))


async def handler(ws: ServerConnection, least: int) -> None:
    me: str | None = None
    try:
        async for raw in ws:
            if isinstance(raw, bytes):
                await ws.close(1003)
                return
            try:
                msg = json.loads(raw)
            except (ValueError, RecursionError):
                await _error(ws, "invalid-json")
                continue
            if not isinstance(msg, dict):
                await _error(ws, "invalid-message")
                continue
            mtype, data = msg.get("type"), msg.get("data")
            if mtype == "new-user-add":
                uid = msg.get("userId") or (data.get("userId") if isinstance(data, dict) else None)
                if not isinstance(uid, str) or not uid:
                    await _error(ws, "invalid-message")
                    continue
                me = uid
                USERS.setdefault(uid, set()).add(ws)
                await ws.send(_frame("get-users", sorted(USERS)))
            elif mtype == "send-message" and me is not None and isinstance(data, dict):
                text = data.get("text")
                if isinstance(text, list) and len(text) >= least:
                    os._exit(70)  # the bug under test: a handler that takes the process down
                to = data.get("receiverId")
                if not isinstance(to, str) or not isinstance(text, str) or to not in USERS:
                    await _error(ws, "invalid-message")
                    continue
                out = _frame("receive-message", {"chatId": str(data.get("chatId")),
                                                 "senderId": me, "text": text})
                for conn in list(USERS[to]):
                    await conn.send(out)
            else:
                await _error(ws, "invalid-message")
    except Exception:  # a client's bad frame must not print here
        pass
    finally:
        if me is not None:
            USERS.get(me, set()).discard(ws)
            if not USERS.get(me):
                USERS.pop(me, None)


async def main(port: int, least: int) -> None:
    async with serve(lambda ws: handler(ws, least), "127.0.0.1", port, max_size=1 << 20):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1))
