"""Fan-out of ``wsprobe serve``: one status update to N sockets, on loopback.

Run: python benchmarks/bench_server_fanout.py [--sizes 100 1000 5000] [--users 10] [--budget 20]

For each N, a fresh ``wsprobe serve`` runs in its own process (:func:`wsprobe.server.spawn`, rate
limit and pings off: this measures fan-out, not the limiter). This process opens N receiver sockets
spread over ``--users`` users (one user per socket would make setup an O(N^2)-frame join storm,
which the load half measures; the status relay walks every socket of every other user either
way) plus one sender socket, with a minimal asyncio client that does the handshake itself and finds
the marker (``lastSeen``, a sequence number) in the received bytes without parsing frames or JSON,
so the receivers cost far less than the server.

Two figures per N:

- *latency*: time from writing one ``user-status-update`` to its delivery at the last of the N
  sockets, p50/p99/max over repeated updates (the next update is sent when all N have it);
- *server CPU*: CPU time of the server process per update during the latency rounds (user +
  system, from psutil), which the receivers' own work cannot inflate;
- *throughput*: ``--burst`` updates written back to back; deliveries per second = burst x N over the
  time from the first write to the last delivery at the last socket.

Bounded: at most ``--rounds`` updates and ``--budget`` seconds of rounds per size.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import statistics
import time
from dataclasses import dataclass

import psutil

from wsprobe.server import ServerConfig, spawn

MARKER = re.compile(rb'"lastSeen":(\d+)')


def client_frame(text: str) -> bytes:
    """A masked text frame (mask key 0000: valid, and the payload stays readable)."""
    payload = text.encode()
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
    header = b"\x81" + length
    return header + b"\0\0\0\0" + payload


class Round:
    """Waits until every receiver has seen sequence number ``target``."""

    def __init__(self, target: int, expected: int) -> None:
        self.target = target
        self.expected = expected
        self.arrived = 0
        self.last = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == self.expected:
            self.last = time.perf_counter()
            self.done.set_result(None)


class Socket(asyncio.Protocol):
    """A bare WebSocket client: handshake, masked text frames out, marker search in."""

    current: Round | None = None

    def __init__(self, host: str, port: int, path: str) -> None:
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: "
                        f"{base64.b64encode(os.urandom(16)).decode()}\r\n"
                        f"Sec-WebSocket-Version: 13\r\n\r\n").encode()
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.registered: asyncio.Future[None] = loop.create_future()
        self.head = b""
        self.tail = b""
        self.seen = -1
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if not self.opened.done():
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            status, _, data = self.head.partition(b"\r\n\r\n")
            if b" 101 " not in status.split(b"\r\n", 1)[0]:
                self.opened.set_exception(RuntimeError(status.decode(errors="replace")))
                return
            self.opened.set_result(None)
        chunk = self.tail + data
        self.tail = chunk[-48:]
        if not self.registered.done() and b'"get-users"' in chunk:
            self.registered.set_result(None)
        found = MARKER.findall(chunk)
        if found:
            seq = int(found[-1])
            current = Socket.current
            if seq > self.seen:
                if current is not None and self.seen < current.target <= seq:
                    current.arrive()
                self.seen = seq

    def send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(text))


@dataclass
class Figures:
    sockets: int
    rounds: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms: float
    burst: int
    deliveries_per_s: float


async def open_sockets(n: int, host: str, port: int, path: str) -> list[Socket]:
    loop = asyncio.get_running_loop()
    sockets: list[Socket] = []
    for start in range(0, n, 500):
        batch = [Socket(host, port, path) for _ in range(min(500, n - start))]
        await asyncio.gather(*(loop.create_connection(lambda s=s: s, host, port) for s in batch))
        await asyncio.wait_for(asyncio.gather(*(s.opened for s in batch)), 30)
        sockets += batch
    return sockets


def status(seq: int) -> str:
    return json.dumps({"type": "user-status-update",
                       "data": {"userId": "sender", "status": "online", "lastSeen": seq}})


async def measure(url: str, n: int, *, pid: int, users: int, rounds: int, budget: float,
                  burst: int) -> Figures:
    host, _, rest = url.removeprefix("ws://").partition(":")
    port_text, _, path = rest.partition("/")
    port = int(port_text)
    receivers = await open_sockets(n, host, port, "/" + path)
    # first socket of each user first: n_users announcements, then O(1) per further socket
    order = sorted(range(n), key=lambda i: (i >= users, i))
    for i in order:
        receivers[i].send(json.dumps({"type": "new-user-add", "userId": f"user{i % users}"}))
        if i < users:
            await asyncio.wait_for(receivers[i].registered, 10)
    await asyncio.wait_for(asyncio.gather(*(r.registered for r in receivers)), 60)
    [sender] = await open_sockets(1, host, port, "/" + path)
    sender.send(json.dumps({"type": "new-user-add", "userId": "sender"}))
    await asyncio.wait_for(sender.registered, 10)
    await asyncio.sleep(0.5)  # let the last get-users settle

    server = psutil.Process(pid)
    cpu_before = server.cpu_times()
    latencies: list[float] = []
    seq = 0
    deadline = time.perf_counter() + budget
    while len(latencies) < rounds and time.perf_counter() < deadline:
        seq += 1
        Socket.current = current = Round(seq, n)
        start = time.perf_counter()
        sender.send(status(seq))
        await asyncio.wait_for(current.done, 30)
        latencies.append(current.last - start)
    cpu_after = server.cpu_times()
    server_cpu = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system)

    Socket.current = current = Round(seq + burst, n)
    start = time.perf_counter()
    for i in range(1, burst + 1):
        sender.send(status(seq + i))
    await asyncio.wait_for(current.done, 120)
    elapsed = current.last - start
    Socket.current = None
    for s in [*receivers, sender]:
        if s.transport is not None:
            s.transport.close()

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return Figures(sockets=n, rounds=len(latencies), p50_ms=1000 * statistics.median(latencies),
                   p99_ms=1000 * p99, max_ms=1000 * latencies[-1],
                   server_cpu_ms=1000 * server_cpu / len(latencies), burst=burst,
                   deliveries_per_s=burst * n / elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--users", type=int, default=10, help="users the receivers belong to")
    parser.add_argument("--rounds", type=int, default=200, help="latency rounds per size, at most")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of rounds per size")
    parser.add_argument("--burst-deliveries", type=int, default=200_000,
                        help="deliveries in the throughput burst (updates = this / size)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(args.sizes) + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    results: list[Figures] = []
    for n in args.sizes:
        burst = max(10, args.burst_deliveries // n)
        config = ServerConfig(port=0, rate_limit=None, ping_interval=None)
        with spawn(config) as server:
            results.append(asyncio.run(measure(server.url, n, pid=server.pid,
                                               users=min(args.users, n),
                                               rounds=args.rounds, budget=args.budget,
                                               burst=burst)))
        r = results[-1]
        print(f"N={n}: {r.rounds} rounds, last delivery p50 {r.p50_ms:.2f} ms, "
              f"p99 {r.p99_ms:.2f} ms; {r.deliveries_per_s:,.0f} deliveries/s", flush=True)

    base = results[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nserver fan-out, {args.users} users, loopback, {os.cpu_count()} CPUs, "
          f"load average {load} (other work on the machine skews every figure)")
    print(f"{'sockets':>8} {'rounds':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'us/deliv':>9} {'srv cpu ms':>10} {'burst':>6} {'deliv/s':>10} {'vs first':>8}")
    for r in results:
        per = 1000 * r.p50_ms / r.sockets
        print(f"{r.sockets:>8} {r.rounds:>6} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.max_ms:>8.2f} "
              f"{per:>9.2f} {r.server_cpu_ms:>10.2f} {r.burst:>6} {r.deliveries_per_s:>10,.0f} "
              f"{r.deliveries_per_s / base.deliveries_per_s:>7.2f}x")


if __name__ == "__main__":
    main()
