"""Does ``wsprobe capacity`` find the breaking point of a backend whose latency grows with users?

Run: python benchmarks/bench_capacity_knee.py [--per-user-ms 5] [--slo-ms 200] [--repeat 3]

The backend (``tests/capacity/slow_backend.py``, its own process) is the reference hub with every
status fan-out sent ``per-user-ms x N`` ms late (N: users online), on a timer, so the fan-out
latency is that line and nothing else: the true capacity at ``status.actual.p99 < slo-ms`` is
``slo-ms / per-user-ms`` users (a little less, by the base loopback latency). The search runs
with the defaults a user would pick (doubling from ``--start``, 5% resolution, 3 repeats) and
prints the capacity, the spread across repeats, the error against the true value (target: within
15%) and how long the search took.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.capacity.slow_backend import slow_backend


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-user-ms", type=float, default=5.0)
    parser.add_argument("--slo-ms", type=float, default=200.0)
    parser.add_argument("--start", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--heartbeat", default="0.25s")
    args = parser.parse_args()
    true = args.slo_ms / args.per_user_ms
    with tempfile.TemporaryDirectory() as tmp, slow_backend(args.per_user_ms) as url:
        out = Path(tmp) / "capacity"
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "wsprobe", "capacity", url,
             "--slo", f"status.actual.p99<{args.slo_ms:g}ms", "--start", str(args.start),
             "--repeat", str(args.repeat), "--hold", "2s", "--settle", "0.5s",
             "--heartbeat", args.heartbeat, "--loss-timeout", "1s", "--max-lag", "100ms",
             "--no-report", "--output", str(out)],
            capture_output=True, text=True, check=False)
        took = time.monotonic() - started
        print(done.stderr.strip())
        if done.returncode != 0:
            print(f"capacity exited {done.returncode}")
            return 1
        summary = json.loads((out / "capacity.json").read_text(encoding="utf-8"))
    cap = summary["capacity"]
    repeats = len(summary["repeats"])
    error = (cap["users"] - true) / true
    print(json.dumps({
        "true_users": true, "capacity_users": cap["users"],
        "spread": [cap["users_min"], cap["users_max"]], "error": round(error, 4),
        "deliveries_per_s": round(cap["deliveries_per_s"]), "repeats": repeats,
        "search_s": round(took, 1), "within_15pct": abs(error) <= 0.15,
    }, indent=2))
    return 0 if abs(error) <= 0.15 else 1


if __name__ == "__main__":
    sys.exit(main())
