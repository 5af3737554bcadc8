"""Idle connections one load worker holds open, and the memory each one costs.

Run: python benchmarks/bench_load_idle.py [--connections 10000]

Starts the reference server (its own process, no pings, no rate limit) and one gevent process that
opens the connections with wsprobe's client, each with its receiving greenlet running (as a load
worker holds them), then reports the growth of the process's resident memory per connection and
checks every connection is still open after a pause. The file-descriptor limit is raised to the
hard limit first. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def hold(url: str, connections: int) -> None:
    from gevent import monkey

    monkey.patch_all()
    import gc

    import gevent
    import psutil
    from gevent.pool import Pool

    from wsprobe.load.client import WebSocketClient

    proc = psutil.Process()
    clients: list[WebSocketClient] = []
    greenlets = []
    # warm up imports and one connection so the baseline holds the libraries
    warm = WebSocketClient(url, on_text=lambda data, t: None)
    warm.connect()
    gc.collect()
    before = proc.memory_info().rss

    def open_one(_: int) -> None:
        client = WebSocketClient(url, on_text=lambda data, t: None)
        client.connect(timeout=30)
        clients.append(client)
        greenlets.append(gevent.spawn(client.run))

    start = time.monotonic()
    Pool(200).map(open_one, range(connections))
    opened = time.monotonic() - start
    gevent.sleep(2)
    gc.collect()
    after = proc.memory_info().rss
    alive = sum(1 for c in clients if c.open) + 0
    still_running = sum(1 for g in greenlets if not g.dead)
    print(json.dumps({
        "connections": len(clients), "alive": alive, "readers": still_running,
        "open_s": round(opened, 2), "rss_before_mib": round(before / 2**20, 1),
        "rss_after_mib": round(after / 2**20, 1),
        "bytes_per_connection": (after - before) / max(len(clients), 1),
    }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--hold", default=None)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.hold:
        hold(args.hold, args.connections)
        return
    if hard < args.connections + 500:
        sys.exit(f"the open-file hard limit is {hard}; {args.connections} connections need more")
    from wsprobe.server import ServerConfig, spawn

    with spawn(ServerConfig(port=0, ping_interval=None, rate_limit=None)) as server:
        proc = subprocess.run([sys.executable, __file__, "--connections", str(args.connections),
                               "--hold", server.url], capture_output=True, text=True,
                              timeout=600, check=False)
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    per = result["bytes_per_connection"] / 1024
    print(f"{result['connections']} connections opened in {result['open_s']} s, "
          f"{result['alive']} open and {result['readers']} readers running after 2 s; "
          f"RSS {result['rss_before_mib']} -> {result['rss_after_mib']} MiB: "
          f"{per:.1f} KiB per connection (target <= 16 KiB)")


if __name__ == "__main__":
    main()
