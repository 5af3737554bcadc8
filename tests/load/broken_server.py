"""A reference hub behind a pump that drops or delays fan-out: ``python broken_server.py --drop 0.2``.

The protocol logic is the reference :class:`wsprobe.server.Hub`; only delivery is broken:
``--drop P`` loses each relayed ``user-status-update`` at each receiver with probability P, and
``--delay S`` holds every relay (status, chat, signal, ``get-users`` broadcasts) for S seconds
before sending; ``--misspell`` relays chat as ``recieve-message``; ``--kick S`` closes the first
four load sockets S seconds after they register; ``--flood`` sends ``get-users`` frames to every
socket as fast as it takes them; ``--rebroadcast`` (a correct policy, not a broken one) sends
a fresh ``get-users`` to every registered socket after every frame it handles and every close,
as servers that broadcast the list "on every change" do; ``--slow-users S`` sends every
``get-users`` (registration answers too) S seconds late. Prints its URL on one line, then serves until terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

from wsprobe.server import Close, Hub, Send, SocketId


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drop", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--kick", type=float, default=0.0,
                        help="close the first four load sockets this long after they register (1011)")
    parser.add_argument("--flood", action="store_true",
                        help="send get-users frames to every socket as fast as it takes them")
    parser.add_argument("--slow-users", type=float, default=0.0,
                        help="send every get-users (registration answers too) this late")
    parser.add_argument("--rebroadcast", action="store_true",
                        help="send get-users to every registered socket after every change")
    parser.add_argument("--misspell", action="store_true",
                        help="relay chat as 'recieve-message' (the old tutorial's typo)")
    args = parser.parse_args()
    hub = Hub()
    conns: dict[SocketId, ServerConnection] = {}
    ids = itertools.count(1)
    rng = random.Random(7)
    loop = asyncio.get_running_loop()
    kicked: set[SocketId] = set()

    def send(action: Send) -> None:
        targets = [conns[s] for s in action.to if s in conns]
        if args.drop and '"user-status-update"' in action.text and '"lastSeen"' in action.text:
            targets = [c for c in targets if rng.random() >= args.drop]
        text = action.text
        if args.misspell:
            text = text.replace('"receive-message"', '"recieve-message"')
        broadcast(targets, text)

    async def apply(actions: list[object], *, relay: bool) -> None:
        for action in actions:
            if isinstance(action, Send):
                if args.slow_users and action.text.startswith('{"type":"get-users"'):
                    loop.call_later(args.slow_users, send, action)
                elif args.delay and relay:
                    loop.call_later(args.delay, send, action)
                else:
                    send(action)
            elif isinstance(action, Close) and action.sock in conns:
                await conns[action.sock].close(action.code, action.reason)

    async def handle(connection: ServerConnection) -> None:
        sock = SocketId(next(ids))
        conns[sock] = connection
        if args.flood:  # raw unmasked text frames, 200 per write, as fast as the socket drains
            payload = b'{"type":"get-users","data":["flood"]}'
            batch = (b"\x81" + bytes([len(payload)]) + payload) * 200
            transport = connection.transport
            while not transport.is_closing():
                transport.write(batch)
                while transport.get_write_buffer_size() > 1 << 20:
                    await asyncio.sleep(0.001)
            return
        await apply(hub.open(sock), relay=False)
        try:
            async for frame in connection:
                if args.kick and len(kicked) < 4 and sock not in kicked and '"wp-' in str(frame):
                    kicked.add(sock)
                    loop.call_later(args.kick,
                                    lambda c=connection: asyncio.ensure_future(c.close(1011)))
                actions = hub.receive(sock, frame, loop.time())
                # the answer to a socket's own registration is not a relay
                own = [a for a in actions if isinstance(a, Send) and a.to == (sock,)]
                await apply(own, relay=False)
                await apply([a for a in actions if a not in own], relay=True)
                if args.rebroadcast and hub.user_of(sock) is not None:
                    await apply(hub.announce_users(), relay=True)
        except ConnectionClosed:
            pass
        finally:
            del conns[sock]
            await apply(hub.close(sock), relay=True)
            if args.rebroadcast:
                await apply(hub.announce_users(), relay=True)

    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(f"ws://127.0.0.1:{port}/ws/ws", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
