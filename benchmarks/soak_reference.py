"""Soak of the reference backend: 1,000 sockets for 10 minutes with the real client's behaviour.

Starts ``wsprobe serve`` on a free loopback port, runs ``wsprobe load`` against it (its defaults
are the real client's: ``online`` heartbeat every 30 s, focus flips, chats and calls; two sockets
per user as a browser tab opens), samples the server's resident memory every few seconds, and
reports memory growth and lost deliveries. Bounded: the load stops by itself after ``--minutes``
and the server is stopped at the end, whatever happens.

    python benchmarks/soak_reference.py                 # 1,000 sockets, 10 minutes
    python benchmarks/soak_reference.py --minutes 2     # shorter

Memory figures: ``idle`` before any client, ``ramped`` once every socket is open, ``steady end``
just before the clients leave, ``after`` once every client has left; the steady-state slope (MB
per minute, least squares over the steady phase) is the growth figure, ``after - idle`` what
stays behind.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from wsprobe.server import ServerConfig, spawn


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 1e6


class Sampler(threading.Thread):
    """Samples a process's RSS (MB) every ``every`` seconds until stopped."""

    def __init__(self, pid: int, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._stop_event = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.samples.append((time.monotonic() - self.t0, _rss_mb(self.pid)))
            except psutil.Error:
                return
            self._stop_event.wait(self.every)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    if var == 0:
        return None
    return 60 * sum((t - mx) * (v - my) for t, v in points) / var


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--sockets-per-user", type=int, default=2)
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users per second")
    parser.add_argument("--workers", type=int, default=None, help="load worker processes")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    users = max(1, args.sockets // args.sockets_per_user)
    out = args.output or Path(tempfile.mkdtemp(prefix="soak-"))
    ramp_s = users / args.spawn_rate
    duration_s = args.minutes * 60
    if duration_s <= ramp_s + 30:
        parser.error(f"--minutes too short: the ramp-up alone takes {ramp_s:.0f} s")

    with spawn(ServerConfig(port=0)) as server:
        time.sleep(1.0)
        idle = _rss_mb(server.pid)
        sampler = Sampler(server.pid, args.every)
        sampler.start()
        argv = [sys.executable, "-m", "wsprobe", "load", server.url, "-u", str(users),
                "--sockets-per-user", str(args.sockets_per_user), "-r", str(args.spawn_rate),
                "-d", f"{int(duration_s)}s", "--headless", "-q", "-o", str(out / "load"),
                "--no-raw"]
        if args.workers is not None:
            argv += ["--workers", str(args.workers)]
        started = time.monotonic()
        load = subprocess.run(argv, capture_output=True, text=True,
                              timeout=duration_s + 300, check=False)
        wall = time.monotonic() - started
        time.sleep(2 * args.every)  # the server settles after every client left
        sampler.stop()
        after = _rss_mb(server.pid)
        server_log = server.log()

    samples = sampler.samples
    steady = [(t, v) for t, v in samples if ramp_s + 10 <= t <= duration_s - 5]
    slope = _slope(steady)
    ramped = steady[0][1] if steady else None
    steady_end = steady[-1][1] if steady else None
    summary_path = out / "load" / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    result = {
        "sockets": users * args.sockets_per_user, "users": users, "minutes": args.minutes,
        "load_exit": load.returncode, "wall_s": round(wall, 1),
        "rss_mb": {"idle": round(idle, 1), "ramped": ramped and round(ramped, 1),
                   "max": round(max(v for _, v in samples), 1) if samples else None,
                   "steady_end": steady_end and round(steady_end, 1), "after": round(after, 1)},
        "steady_slope_mb_per_min": round(slope, 3) if slope is not None else None,
        "server_log_tail": server_log.strip().splitlines()[-5:],
    }
    if summary is not None:
        result["deliveries"] = {
            kind: {k: c.get(k) for k in ("events", "expected", "delivered", "lost", "duplicates",
                                         "late", "delivered_pct")}
            for kind, c in summary["kinds"].items()}
        result["totals"] = {k: summary["totals"].get(k) for k in
                            ("expected", "delivered", "lost", "lost_pct", "late")}
        result["valid"] = summary["validity"]["valid"]
        result["invalid_reasons"] = summary["validity"]["reasons"]
        result["target_ok"] = summary["target"]["ok"]
        result["peak_sockets"] = summary["run"].get("peak_sockets")
    else:
        result["load_stderr"] = load.stderr[-2000:]
    (out / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {out / 'soak.json'}", file=sys.stderr)
    return 0 if load.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
