"""What the load generator itself adds to a 1,000-receiver fan-out, against a minimal asyncio receiver.

Run: python benchmarks/bench_load_fanout.py [--receivers 1000] [--events 100] [--rate 10] [--rounds 2]

One reference server (its own process) serves the whole run. In each phase one receiver process
registers ``--receivers`` sockets as one user (so the server sends each status of another user to
all of them, without a join storm), and a second user on a socket of the same process sends
``--events`` statuses on an open-loop schedule at ``--rate`` per second. The latency of every
delivery is taken from the send to the receipt at each socket:

* ``wsprobe``: a load worker's own code: ``wsprobe.load.sockets`` on the gevent client, the
  fan-out tracker and its histogram (latency from the actual send), kernel receipt stamps;
* ``wsprobe-user``: the same with receipts stamped in user space when the read returns (as on
  platforms without ``SO_TIMESTAMPNS``);
* ``asyncio``: a minimal asyncio receiver: ``websockets.asyncio.client``, one task per socket,
  ``time.time_ns()`` on each message, JSON, one histogram record.

Phases alternate (wsprobe, wsprobe-user, asyncio, wsprobe, ...) against the same server. The
generator's overhead is wsprobe's worst p99 over the rounds minus asyncio's (target: <= 2 ms).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any


def _summary(hist: Any) -> dict[str, float]:
    from wsprobe.load.histograms import percentiles_ms

    stats = percentiles_ms(hist)
    return {k: stats[k] for k in ("count", "p50", "p90", "p99", "max")}  # type: ignore[misc]


def run_wsprobe(url: str, receivers: int, events: int, rate: float, *,
                kernel: bool = True) -> dict[str, Any]:
    from gevent import monkey

    monkey.patch_all()
    import gevent

    if not kernel:  # stamp receipts in user space, as on platforms without SO_TIMESTAMPNS
        import wsprobe.load.client

        wsprobe.load.client._kernel_timestamps = lambda sock: False

    from wsprobe.load.config import LoadConfig, UserKind
    from wsprobe.load.fanout import STATUS
    from wsprobe.load.probe import Probe
    from wsprobe.load.sockets import ProbeSocket
    from wsprobe.load.users import Session

    config = LoadConfig(url=url, users=2, spawn_rate=1, duration=1, loss_timeout=600,
                        late_after=600, raw=False)
    probe = Probe(config, node="bench", raw_path=None)
    import random

    receiver = Session(probe, UserKind(), random.Random(1))
    receiver.uid = "wp-bench-receiver"
    socks = []
    for n in range(receivers):
        sock = ProbeSocket(receiver, primary=n == 0)
        sock.client.connect(timeout=30)
        probe.tracker.socket_opened(sock.sid, receiver.uid)
        sock.greenlet = gevent.spawn(sock.run)
        socks.append(sock)
    receiver.sockets = socks
    register = json.dumps({"type": "new-user-add", "userId": receiver.uid}).encode()
    for sock in socks:
        sock.client.send(register)
    while any(s.known is None for s in socks):
        gevent.sleep(0.05)
    sender = Session(probe, UserKind(), random.Random(2))
    sender.uid = "wp-bench-sender"
    sock = ProbeSocket(sender, primary=True)
    sock.client.connect()
    probe.tracker.socket_opened(sock.sid, sender.uid)
    sock.greenlet = gevent.spawn(sock.run)
    sender.sockets = [sock]
    sock.client.send(json.dumps({"type": "new-user-add", "userId": sender.uid}).encode())
    while sock.known is None:
        gevent.sleep(0.05)
    gevent.sleep(1.0)  # the receivers' get-users for the sender's join
    probe.hists.reset()
    start = probe.now() + 200_000
    period = int(1e6 / rate)
    cpu0 = time.process_time()
    for i in range(events):
        t_sched = start + i * period
        gevent.sleep(max(t_sched - probe.now(), 0) / 1e6)
        sender.send_status("online", t_sched)
    deadline = time.monotonic() + 10
    hist = probe.hists.get(STATUS, "actual")
    while hist.get_total_count() < events * receivers and time.monotonic() < deadline:
        gevent.sleep(0.05)
    cpu = time.process_time() - cpu0
    return {**_summary(hist), "cpu_s": round(cpu, 2)}


def run_asyncio(url: str, receivers: int, events: int, rate: float) -> dict[str, Any]:
    import asyncio

    from websockets.asyncio.client import connect

    from wsprobe.load.histograms import new_histogram

    hist = new_histogram()
    sent: dict[str, int] = {}

    async def main() -> float:
        conns = [await connect(url, max_queue=None) for _ in range(receivers)]
        for ws in conns:
            await ws.send(json.dumps({"type": "new-user-add", "userId": "wp-bench-receiver"}))
        for ws in conns:
            json.loads(await ws.recv())  # the answer to the registration
        sender = await connect(url)
        await sender.send(json.dumps({"type": "new-user-add", "userId": "wp-bench-sender"}))
        await sender.recv()
        await asyncio.sleep(1.0)
        counting = asyncio.Event()

        async def pump(ws: Any) -> None:
            loads, time_ns, record = json.loads, time.time_ns, hist.record_value
            async for message in ws:
                t = time_ns() // 1000
                body = loads(message).get("data")
                if counting.is_set() and isinstance(body, dict):
                    t_send = sent.get(body.get("lastSeen", ""))
                    if t_send is not None:
                        record(max(t - t_send, 1))

        tasks = [asyncio.create_task(pump(ws)) for ws in conns]
        counting.set()
        cpu0 = time.process_time()
        start = time.time_ns() // 1000 + 200_000
        period = int(1e6 / rate)
        for i in range(events):
            t_sched = start + i * period
            await asyncio.sleep(max(t_sched - time.time_ns() // 1000, 0) / 1e6)
            marker = f"bench-{i}"
            text = json.dumps({"type": "user-status-update", "data": {
                "userId": "wp-bench-sender", "status": "online", "lastSeen": marker}})
            sent[marker] = time.time_ns() // 1000
            await sender.send(text)
        deadline = time.monotonic() + 10
        while hist.get_total_count() < events * receivers and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu0
        for task in tasks:
            task.cancel()
        return cpu

    cpu = asyncio.run(main())
    return {**_summary(hist), "cpu_s": round(cpu, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receivers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--role", default="main")
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.role != "main":
        if args.role == "asyncio":
            result = run_asyncio(args.url, args.receivers, args.events, args.rate)
        else:
            result = run_wsprobe(args.url, args.receivers, args.events, args.rate,
                                 kernel=args.role == "wsprobe")
        print(json.dumps(result), flush=True)
        return
    from wsprobe.server import ServerConfig, spawn

    results: dict[str, list[dict[str, Any]]] = {"wsprobe": [], "wsprobe-user": [], "asyncio": []}
    with spawn(ServerConfig(port=0, ping_interval=None, rate_limit=None)) as server:
        for _ in range(args.rounds):
            for role, rows in results.items():
                proc = subprocess.run(
                    [sys.executable, __file__, "--role", role, "--url", server.url,
                     "--receivers", str(args.receivers), "--events", str(args.events),
                     "--rate", str(args.rate)],
                    capture_output=True, text=True, timeout=600, check=False)
                if proc.returncode != 0:
                    sys.exit(proc.stderr[-3000:])
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append(result)
                print(f"{role:>12}: {result['count']} deliveries, p50 {result['p50']} ms, "
                      f"p90 {result['p90']} ms, p99 {result['p99']} ms, max {result['max']} ms, "
                      f"{result['cpu_s']} CPU-s")
    def worst(role: str) -> float:
        return max(r["p99"] for r in results[role])

    base = worst("asyncio")
    for role in ("wsprobe", "wsprobe-user"):
        print(f"worst p99 over rounds: {role} {worst(role)} ms vs asyncio {base} ms: generator "
              f"overhead at p99 {worst(role) - base:+.3f} ms (target <= 2 ms)")


if __name__ == "__main__":
    main()
