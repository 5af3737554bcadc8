"""Wall time of the whole `wsprobe verify` suite against the bundled reference backend.

Run: python benchmarks/bench_verify.py [--runs 5]
Each run is the README's main-job command (`wsprobe verify`, every check, server pings and the
security probes included) in a fresh process; prints each wall time and the median.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "wsprobe", "verify", "--no-progress"],
                              capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        verdict = done.stdout.strip().splitlines()[-1]
        print(f"{times[-1]:6.2f} s  exit {done.returncode}  {verdict}")
    print(f"median {statistics.median(times):.2f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
