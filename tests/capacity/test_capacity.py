"""``wsprobe capacity`` against real backends on loopback: the breaking point, early stops."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.capacity.slow_backend import slow_backend
from tests.load.conftest import terminate_when
from tests.report.browser import open_page
from tests.report.test_browser import assert_renders_offline

PER_USER_MS = 10.0
SLO_MS = 400.0
TRUE_CAPACITY = SLO_MS / PER_USER_MS  # 40 users: status fan-out latency is 10 ms x users
FAST_STEPS = ("--hold", "1s", "--settle", "0.3s", "--heartbeat", "0.25s", "--loss-timeout", "1s",
              "--max-lag", "250ms", "--quiet")


def wsprobe(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m wsprobe ARGS`` to the end."""
    return subprocess.run([sys.executable, "-m", "wsprobe", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def capacity_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """Two searches against a backend whose status fan-out takes 10 ms per online user."""
    out = tmp_path_factory.mktemp("capacity") / "slow"
    with slow_backend(PER_USER_MS) as url:
        done = wsprobe("capacity", url, "--slo", f"status.actual.p99<{SLO_MS:g}ms",
                       "--start", "30", "--growth", "1.34", "--resolution", "5%",
                       "--repeat", "2", *FAST_STEPS, "--output", str(out))
    return out, done.returncode, done.stdout + done.stderr


@pytest.mark.slow
def test_capacity_finds_the_breaking_point(capacity_run: tuple[Path, int, str]) -> None:
    """The capacity is within 15% of the true 40 users, with the spread over two repeats."""
    out, code, output = capacity_run
    assert code == 0, output
    capacity = json.loads((out / "capacity.json").read_text(encoding="utf-8"))["capacity"]
    assert abs(capacity["users"] - TRUE_CAPACITY) <= 0.15 * TRUE_CAPACITY, capacity
    assert capacity["users_min"] <= capacity["users"] <= capacity["users_max"]
    assert capacity["deliveries_per_s"] > 1000
    assert "capacity: " in output and "over 2 repeats" in output


@pytest.mark.slow
def test_every_step_is_recorded(capacity_run: tuple[Path, int, str]) -> None:
    """steps.csv: both repeats, steps below the capacity held, steps well above it broke."""
    out, _, _ = capacity_run
    with (out / "steps.csv").open(encoding="utf-8") as table:
        rows = [r for r in csv.DictReader(table) if r["kind"] == "status"]
    assert {r["repeat"] for r in rows} == {"1", "2"}
    for row in rows:
        users = int(row["users"])
        assert int(row["samples"]) >= 1000
        if users <= 0.85 * TRUE_CAPACITY:
            assert row["held"] == "True", row
        if users >= 1.1 * TRUE_CAPACITY:
            assert row["held"] == "False", row
            assert f"status.actual.p99<{SLO_MS:g}ms" in row["broken"]
    assert len(list((out / "steps").iterdir())) == len({(r["repeat"], r["step"]) for r in rows})


@pytest.mark.slow
def test_capacity_report_renders_in_chromium(capacity_run: tuple[Path, int, str],
                                             tmp_path: Path) -> None:
    """report.html of the capacity run: the curve with its knee and the throughput chart."""
    out, _, _ = capacity_run
    page = open_page(out / "report.html", tmp_path / "capacity-report.png")
    assert_renders_offline(page, ["run1-capacity-curve", "run1-capacity-throughput"])
    curve = " ".join(page.charts[0]["texts"])
    assert "knee: " in curve
    assert f"SLO status.actual.p99 < {SLO_MS:g} ms" in curve


def test_refused_target_stops_at_once(tmp_path: Path) -> None:
    """Nothing listens: exit 3 with the URL in the message, before any step."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"ws://127.0.0.1:{port}/ws/ws"
    done = wsprobe("capacity", url, "--slo", "status.p99<100ms", "--output",
                   str(tmp_path / "out"), timeout=60)
    assert done.returncode == 3, done.stderr
    assert url in done.stderr
    assert not (tmp_path / "out" / "steps").exists()


def test_saturated_generator_stops_early(tmp_path: Path) -> None:
    """A step whose generator is over its CPU limit is invalid: the search stops with exit 2."""
    out = tmp_path / "out"
    done = wsprobe("capacity", "--slo", "status.p99<1s", "--start", "60", "--max-cpu", "0.1",
                   "--repeat", "1", *FAST_STEPS, "--heartbeat", "0.2s", "--output", str(out),
                   timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "stopped early: invalid measurement at 60 users, the load generator" in done.stderr
    summary = json.loads((out / "capacity.json").read_text(encoding="utf-8"))
    assert summary["stopped"].startswith("invalid measurement")
    assert summary["exit_code"] == 2
    assert (out / "report.html").is_file()


@pytest.mark.parametrize(("args", "message"), [
    ([], "Missing option '--slo'"),
    (["--slo", "status.p99<<1ms"], "--slo 'status.p99<<1ms'"),
    (["--slo", "status.p99<1s", "--resolution", "150%"], "between 0% and 100%"),
], ids=["no-slo", "bad-slo", "bad-resolution"])
def test_bad_usage_exits_2(args: list[str], message: str, tmp_path: Path) -> None:
    """Bad usage: exit 2 with the reason, and no load started."""
    done = wsprobe("capacity", *args, "--output", str(tmp_path / "out"), timeout=60)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "out").exists()


def test_steps_short_of_samples_are_inconclusive_and_the_search_moves_up(tmp_path: Path) -> None:
    """Two users could never give 100 status samples within --max-step: inconclusive at once.
    Four could come close: held longer, then inconclusive. The search moves up, never down, and
    judges the first step with enough samples. Nothing breaks up to 8 users: capacity "≥ 8"."""
    out = tmp_path / "out"
    done = wsprobe("capacity", "--slo", "status.p99<5s", "--min-samples", "100", "--start", "2",
                   "--max-users", "8", "--repeat", "1", "--hold", "1s", "--settle", "0.3s",
                   "--max-step", "4s", "--heartbeat", "0.5s", "--loss-timeout", "1s",
                   "--max-lag", "250ms", "--no-report", "--output", str(out), timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    with (out / "steps.csv").open(encoding="utf-8") as table:
        steps = {int(r["users"]): r for r in csv.DictReader(table) if r["kind"] == "status"}
    assert steps[2]["verdict"] == "inconclusive" and steps[2]["held"] == "False"
    assert steps[4]["verdict"] == "inconclusive"
    assert float(steps[4]["duration_s"]) > float(steps[2]["duration_s"])  # held longer
    assert list(steps) == sorted(steps), "the search went down"
    assert steps[8]["verdict"] == "held" and int(steps[8]["verdict_samples"]) >= 100
    capacity = json.loads((out / "capacity.json").read_text(encoding="utf-8"))["capacity"]
    assert capacity["at_least"] is True and capacity["text"] == "≥ 8"
    assert "capacity: ≥ 8 users (nothing broke up to --max-users)" in done.stdout
    assert "inconclusive" in done.stderr


def test_interrupted_search_writes_what_it_measured(tmp_path: Path) -> None:
    """SIGTERM during a step: exit 130, capacity.json says the search was interrupted, the
    step's own folder is a complete (interrupted) load run, no traceback."""
    out = tmp_path / "out"
    code, stdout, err = terminate_when(
        [sys.executable, "-m", "wsprobe", "capacity", "--slo", "status.p99<1s", "--start", "5",
         "--repeat", "1", "--hold", "30s", "--heartbeat", "0.5s", "--no-report",
         "--output", str(out)], lambda: bool(list(out.glob("steps/*/deliveries-*.csv"))))
    assert code == 130, err
    assert "Traceback" not in stdout + err
    summary = json.loads((out / "capacity.json").read_text(encoding="utf-8"))
    assert summary["stopped"].startswith("interrupted during the step at 5 users")
    (step,) = (out / "steps").iterdir()
    assert json.loads((step / "summary.json").read_text(encoding="utf-8"))["run"]["interrupted"]
