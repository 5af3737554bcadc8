"""Does ``wsprobe capacity`` find the breaking point of a backend whose latency grows with users?

Run: python benchmarks/bench_capacity_knee.py [--per-user-ms 2.5] [--slo-ms 100] [--repeat 3]

The backend (``tests/capacity/slow_backend.py``, its own process) is the reference hub with every
status fan-out sent ``per-user-ms x N`` ms late (N: users online, so the delay grows linearly
with the recipients), on a timer, so the fan-out latency is that line and nothing else: the true
capacity at ``status.p99 < slo-ms`` (latency from the *scheduled* send, the README's SLO) is
``slo-ms / per-user-ms`` users (a little less, by the base loopback latency). The search runs
with the defaults a user would pick (doubling from ``--start``, 5% resolution, 3 repeats) at a
heartbeat that leaves the generator unsaturated, and prints the capacity, the spread across
repeats, the error against the true value (target: within 15%), how long the search took,
whether any validity stop happened, and the busiest generator CPU and late sends of any step.
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
    parser.add_argument("--per-user-ms", type=float, default=2.5)
    parser.add_argument("--slo-ms", type=float, default=100.0)
    parser.add_argument("--start", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--heartbeat", default="1s")
    args = parser.parse_args()
    true = args.slo_ms / args.per_user_ms
    with tempfile.TemporaryDirectory() as tmp, slow_backend(args.per_user_ms) as url:
        out = Path(tmp) / "capacity"
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "wsprobe", "capacity", url,
             "--slo", f"status.p99<{args.slo_ms:g}ms", "--start", str(args.start),
             "--repeat", str(args.repeat), "--hold", "2s", "--settle", "0.5s",
             "--heartbeat", args.heartbeat, "--loss-timeout", "1s",
             "--no-report", "--output", str(out)],
            capture_output=True, text=True, check=False)
        took = time.monotonic() - started
        print(done.stderr.strip())
        print(done.stdout.strip())
        if done.returncode != 0:
            print(f"capacity exited {done.returncode}")
            return 1
        summary = json.loads((out / "capacity.json").read_text(encoding="utf-8"))
        cpu, late, sends = 0.0, 0, 0
        for step in (out / "steps").iterdir():
            validity = json.loads((step / "summary.json").read_text(encoding="utf-8"))["validity"]
            for worker in validity["workers"].values():
                cpu = max(cpu, worker["cpu_mean"] or 0.0)
                late += worker["late_sends"]
                sends += worker["sends"]
    cap = summary["capacity"]
    repeats = len(summary["repeats"])
    error = (cap["users"] - true) / true
    print(json.dumps({
        "true_users": true, "capacity_users": cap["users"],
        "spread": [cap["users_min"], cap["users_max"]], "error": round(error, 4),
        "deliveries_per_s": round(cap["deliveries_per_s"]), "repeats": repeats,
        "search_s": round(took, 1), "within_15pct": abs(error) <= 0.15,
        "stopped": summary["stopped"], "busiest_step_cpu_mean": round(cpu, 3),
        "late_sends": late, "scheduled_sends": sends,
    }, indent=2))
    return 0 if abs(error) <= 0.15 else 1


if __name__ == "__main__":
    sys.exit(main())
