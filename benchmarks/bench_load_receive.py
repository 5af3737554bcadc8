"""Deliveries received and recorded per CPU-second in one load worker, vs gevent + websocket-client.

Run: python benchmarks/bench_load_receive.py [--sockets 100] [--frames 2000] [--rounds 2]

A blaster server (asyncio, its own process) sends the same status-relay frames to every socket as
fast as it can. Each receiver (gevent, its own process) opens the sockets, receives every frame and
does the load worker's whole per-delivery work: receipt time before parsing, JSON, the fan-out
tracker (the send records are known), two HdrHistogram records, a raw-CSV row and the sampled
schema check: ``wsprobe.load.sockets.ProbeSocket.on_text`` itself. Only the transport differs: wsprobe's client (websockets' sans-I/O ``ClientProtocol`` on a gevent socket)
or ``websocket-client`` under gevent's monkey-patching, one greenlet per socket in both.
Figures are deliveries per CPU-second of the receiver process; rounds alternate the two.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MARKER = "2026-01-01T00:00:00.{:06d}000Z"


def frame(i: int) -> str:
    return json.dumps({"type": "user-status-update",
                       "data": {"userId": "wp-bench-s-1", "status": "online",
                                "lastSeen": MARKER.format(i)}})


# -- server ---------------------------------------------------------------------------------------

def serve(sockets: int, frames: int) -> None:
    import asyncio

    from websockets.asyncio.server import broadcast
    from websockets.asyncio.server import serve as ws_serve

    async def main() -> None:
        conns: list[Any] = []
        ready = asyncio.Event()

        async def handler(ws: Any) -> None:
            conns.append(ws)
            if len(conns) == sockets:
                ready.set()
            await ws.wait_closed()

        async with ws_serve(handler, "127.0.0.1", 0, max_queue=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            print(port, flush=True)
            while True:
                await ready.wait()
                ready.clear()
                await asyncio.sleep(0.2)
                texts = [frame(i) for i in range(frames)]
                for i, text in enumerate(texts):
                    broadcast(conns, text)
                    if i % 20 == 0:
                        await asyncio.sleep(0)
                await asyncio.sleep(0.5)
                while conns and any(not c.close_code for c in conns):
                    await asyncio.sleep(0.05)
                conns.clear()

    asyncio.run(main())


# -- receivers ------------------------------------------------------------------------------------

def receive(kind: str, port: int, sockets: int, frames: int) -> None:
    from gevent import monkey

    monkey.patch_all()
    import gevent

    from wsprobe.load.config import LoadConfig
    from wsprobe.load.fanout import STATUS, Sent
    from wsprobe.load.probe import Probe

    url = f"ws://127.0.0.1:{port}/"
    out = Path(tempfile.mkdtemp())
    config = LoadConfig(url=url, users=1, spawn_rate=1, duration=1, loss_timeout=600,
                        late_after=600, output=str(out))
    probe = Probe(config, node="bench", raw_path=out / "deliveries-bench.csv")
    tracker = probe.tracker
    now = probe.now()
    for i in range(frames):
        tracker.sent(Sent(f"s|wp-bench-s-1|{MARKER.format(i)}", STATUS, "wp-bench-s-1", None,
                          now, now), local=True)
    total = sockets * frames
    done = gevent.event.Event()
    import random

    from wsprobe.load.config import UserKind
    from wsprobe.load.sockets import ProbeSocket
    from wsprobe.load.users import Session

    owner = Session(probe, UserKind(), random.Random(1))
    owner.uid = "receiver"

    def watch() -> None:  # stop the clock once every frame is recorded
        hist = probe.hists.get(STATUS, "actual")
        while hist.get_total_count() < total:
            gevent.sleep(0.01)
        done.set()

    # the worker's own receipt path: ProbeSocket.on_text (type dispatch, schema sampling,
    # tracker, two histogram records, raw CSV row); only the transport below differs
    socks = []
    for _ in range(sockets):
        sock = ProbeSocket(owner, primary=False)
        tracker.socket_opened(sock.sid, owner.uid)
        tracker.socket_registered(sock.sid, 0)
        socks.append(sock)
    if kind == "wsprobe":
        for sock in socks:
            sock.client.connect()
        start_cpu = time.process_time()
        start_wall = time.monotonic()
        for sock in socks:
            gevent.spawn(sock.client.run)
    else:
        import websocket  # websocket-client

        conns = [(websocket.create_connection(url), sock.on_text) for sock in socks]

        def pump(ws: Any, on_text: Any) -> None:
            recv_data, time_ns = ws.recv_data, time.time_ns
            for _ in range(frames):
                _, data = recv_data()
                on_text(data, time_ns() // 1000)

        start_cpu = time.process_time()
        start_wall = time.monotonic()
        for ws, on_text in conns:
            gevent.spawn(pump, ws, on_text)
    gevent.spawn(watch)
    done.wait(timeout=120)
    cpu = time.process_time() - start_cpu
    wall = time.monotonic() - start_wall
    probe.flush_raw()
    hist = probe.hists.get(STATUS, "actual")
    got = hist.get_total_count()
    print(json.dumps({"kind": kind, "deliveries": got, "cpu_s": cpu, "wall_s": wall,
                      "per_cpu_s": got / cpu, "recorded": got,
                      "protocol_errors": probe.protocol_errors}))
    sys.stdout.flush()
    os._exit(0)  # sockets close with the process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--role", default="main")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.role == "server":
        serve(args.sockets, args.frames)
        return
    if args.role in ("wsprobe", "websocket-client"):
        receive(args.role, args.port, args.sockets, args.frames)
        return
    me = [sys.executable, __file__, "--sockets", str(args.sockets), "--frames", str(args.frames)]
    server = subprocess.Popen([*me, "--role", "server"], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    port = server.stdout.readline().strip()
    results: dict[str, list[dict[str, Any]]] = {"wsprobe": [], "websocket-client": []}
    try:
        for _ in range(args.rounds):
            for kind, rows in results.items():
                proc = subprocess.run([*me, "--role", kind, "--port", port], capture_output=True,
                                      text=True, timeout=300, check=True)
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append(result)
                print(f"{kind:>17}: {result['deliveries']} deliveries, {result['cpu_s']:.2f} CPU-s, "
                      f"{result['per_cpu_s']:,.0f}/CPU-s (wall {result['wall_s']:.2f} s, "
                      f"{result['recorded']} recorded)")
    finally:
        server.terminate()
        server.wait()
    ours = max(r["per_cpu_s"] for r in results["wsprobe"])
    theirs = max(r["per_cpu_s"] for r in results["websocket-client"])
    print(f"best: wsprobe {ours:,.0f}/CPU-s, websocket-client {theirs:,.0f}/CPU-s, "
          f"ratio {ours / theirs:.2f}x (targets: >= 50,000/CPU-s and >= 1.5x)")


if __name__ == "__main__":
    main()
