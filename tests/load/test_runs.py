"""Whole load runs: Locust in subprocesses against real servers on loopback."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.load.conftest import FAST, Run, terminate_when
from wsprobe.load.fanout import KINDS
from wsprobe.load.launcher import free_port

pytestmark = pytest.mark.slow

MIX = ["--chats-per-minute", "60", "--calls-per-minute", "30", "--focus-flips-per-minute", "20"]


def _accounted(run: Run) -> dict[str, Counter[str]]:
    """Raw CSV rows per kind and status, from every worker's file."""
    rows: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for path in run.out.glob("deliveries-*.csv"):
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                rows[row["kind"]][row["status"]] += 1
    return rows


def test_headless_run_without_url_accounts_for_every_delivery(run_load: Callable[..., Run]) -> None:
    """No URL: the bundled backend is started; every expected delivery is delivered and logged."""
    run = run_load(*FAST, "--users", "12", "--spawn-rate", "6", "--sockets-per-user", "2",
                   "--workers", "0", "--slo", "status.p99<5s", *MIX)
    assert run.code == 0, run.stderr
    summary = run.summary
    for name in ("summary.json", "histograms.json", "config.json", "deliveries-local.csv",
                 "locust_stats.csv", "worker-local.json", "report.html", "summary.csv",
                 "summary.md"):
        assert (run.out / name).exists(), name
    assert summary["validity"]["valid"] and summary["target"]["ok"]
    rows = _accounted(run)
    for kind in KINDS:
        k = summary["kinds"][kind]
        assert k["events"] > 0, kind
        assert k["expected"] > 0, kind
        assert k["lost"] == 0 and k["duplicates"] == 0, (kind, k)
        assert k["delivered"] == k["expected"], kind
        copies = k["delivered"] + k["optional"]
        assert k["latency_ms"]["actual"]["count"] == copies, kind
        assert k["latency_ms"]["scheduled"]["count"] == copies, kind
        assert rows[kind]["delivered"] + rows[kind]["late"] == k["delivered"], kind
        assert rows[kind]["late"] == k["late"], kind
        assert rows[kind]["optional"] == k["optional"], kind
        assert rows[kind]["lost"] == 0 and rows[kind]["duplicate"] == 0, kind
    assert summary["kinds"]["status"]["latency_ms"]["scheduled"]["p99"] >= \
        summary["kinds"]["status"]["latency_ms"]["actual"]["p50"]
    assert summary["run"]["peak_sockets"] == 2 * summary["run"]["peak_users"]
    assert summary["series"] and summary["series"][-1]["t"] > 0
    assert summary["slo"][0]["ok"] is True
    hists = json.loads((run.out / "histograms.json").read_text(encoding="utf-8"))
    assert set(hists["histograms"]) == set(KINDS)
    assert "fanout" in (run.out / "locust_stats.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "code", "verdict"),
    [
        (["--slo", "status.p99<1us"], 1, "slo-broken"),
        (["--max-lag", "1us"], 2, "invalid"),
    ],
    ids=["unmeetable-slo-exits-1", "saturated-generator-exits-2"],
)
def test_verdicts(run_load: Callable[..., Run], reference_url: str, extra: list[str], code: int,
                  verdict: str) -> None:
    """An unmeetable objective exits 1; a generator over its lag limit exits 2 (invalid)."""
    run = run_load(reference_url, *FAST, "--users", "6", "--spawn-rate", "6", "--workers", "0",
                   *extra)
    assert run.code == code, run.stderr
    assert run.summary["verdict"] == verdict


def test_master_and_two_workers_merge_to_the_sum_of_workers(
    run_load: Callable[..., Run], reference_url: str
) -> None:
    """Merged counts equal the sum of what each worker counted itself; receipts cross workers."""
    run = run_load(reference_url, *FAST, "--users", "12", "--spawn-rate", "6", "--workers", "2",
                   *MIX)
    assert run.code == 0, run.stderr
    summary = run.summary
    own = [json.loads((run.out / f"worker-w{i}.json").read_text(encoding="utf-8")) for i in (1, 2)]
    for kind in KINDS:
        for field, merged in summary["kinds"][kind].items():
            if isinstance(merged, int):
                assert merged == sum(w["kinds"][kind][field] for w in own), (kind, field)
        assert summary["kinds"][kind]["lost"] == 0, kind
        k = summary["kinds"][kind]
        assert k["latency_ms"]["actual"]["count"] == k["delivered"] + k["optional"], kind
    assert all(w["kinds"]["status"]["delivered"] > 0 for w in own)
    assert summary["run"]["workers"] == 2
    assert sorted(summary["workers"]) == ["w1", "w2"]


def test_dropped_relays_show_as_lost(run_load: Callable[..., Run],
                                     broken_server: Callable[..., str]) -> None:
    """A server that drops a quarter of status relays: about a quarter of them are lost."""
    url = broken_server("--drop", "0.25")
    run = run_load(url, *FAST, "--users", "10", "--spawn-rate", "10", "--workers", "0",
                   "--slo", "status.delivered>=99%")
    assert run.code == 1, run.stderr
    status = run.summary["kinds"]["status"]
    assert status["expected"] > 100
    assert 0.12 < status["lost"] / status["expected"] < 0.4
    assert status["lost"] + status["delivered"] == status["expected"]
    assert run.summary["kinds"]["join"]["lost"] == 0
    assert _accounted(run)["status"]["lost"] == status["lost"]


def test_delayed_fanout_shows_in_percentiles(run_load: Callable[..., Run],
                                             broken_server: Callable[..., str]) -> None:
    """A server that holds every relay for 80 ms: the median latency is at least 80 ms."""
    url = broken_server("--delay", "0.08")
    run = run_load(url, *FAST, "--users", "8", "--spawn-rate", "8", "--workers", "0",
                   "--chats-per-minute", "60")
    assert run.code == 0, run.stderr
    for kind in ("status", "chat", "join"):
        latency = run.summary["kinds"][kind]["latency_ms"]["actual"]
        assert 80 <= latency["p50"] < 200, (kind, latency)


def _master_and_worker(url: str, tmp_path: Path, *master_args: str
                       ) -> tuple[subprocess.Popen[str], str, subprocess.CompletedProcess[str]]:
    """``wsprobe load --master`` and ``--worker`` started apart, as on two hosts; the master is
    killed if it outlives the test's patience."""
    common = [url, *FAST, "--master-port", str(free_port())]
    master = subprocess.Popen(
        [sys.executable, "-m", "wsprobe", "load", *common, "--master", *master_args,
         "--output", str(tmp_path / "master")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        worker = subprocess.run(
            [sys.executable, "-m", "wsprobe", "load", *common, "--worker",
             "--output", str(tmp_path / "worker")],
            capture_output=True, text=True, timeout=90, check=False)
        _, err = master.communicate(timeout=60)
    finally:
        if master.poll() is None:
            master.kill()
            master.communicate()
    return master, err, worker


def test_master_and_worker_started_apart_estimate_clock_offsets(
    reference_url: str, tmp_path: Path
) -> None:
    """--master and --worker (as on two hosts) exchange clocks; offsets come with uncertainty."""
    master, err, worker = _master_and_worker(
        reference_url, tmp_path, "--expect-workers", "1", "--users", "8", "--spawn-rate", "8")
    assert master.returncode == 0, err
    config = json.loads((tmp_path / "master" / "config.json").read_text(encoding="utf-8"))
    assert config["extra"]["master_bind"] == "127.0.0.1"  # a loopback target: local workers
    assert worker.returncode == 0, worker.stderr
    summary = json.loads((tmp_path / "master" / "summary.json").read_text(encoding="utf-8"))
    clock = summary["run"]["clock"]
    assert clock["same_host"] is False
    ((node, estimate),) = clock["workers"].items()
    # one host really: the true offset is 0, which must lie within the stated uncertainty
    assert abs(estimate["offset_us"]) <= estimate["uncertainty_us"] + 1000
    assert list((tmp_path / "worker").glob(f"deliveries-{node}.csv"))
    assert summary["kinds"]["status"]["delivered"] > 0
    assert summary["kinds"]["status"]["lost"] == 0


def test_server_breaking_the_protocol_exits_3(run_load: Callable[..., Run],
                                              broken_server: Callable[..., str]) -> None:
    """A server that relays chat as 'recieve-message': the target broke the protocol (exit 3)."""
    url = broken_server("--misspell")
    run = run_load(url, *FAST, "--users", "6", "--spawn-rate", "6", "--workers", "0",
                   "--chats-per-minute", "120")
    assert run.code == 3, run.stderr
    target = run.summary["target"]
    assert target["ok"] is False and target["protocol_errors"] > 0
    assert any("recieve-message" in p for p in target["problems"])
    assert run.summary["kinds"]["chat"]["lost"] == run.summary["kinds"]["chat"]["expected"] > 0


def test_dropped_sockets_reconnect_and_count_against_the_target(
    run_load: Callable[..., Run], broken_server: Callable[..., str], tmp_path: Path
) -> None:
    """A server that closes sockets: they reconnect and go on receiving; the target broke (3)."""
    url = broken_server("--kick", "1.0")
    profile = tmp_path / "p.yaml"
    profile.write_text("reconnect-backoff: 0.2s\n", encoding="utf-8")
    run = run_load(url, *FAST, "--profile", str(profile), "--users", "6", "--spawn-rate", "6",
                   "--workers", "0")
    assert run.code == 3, run.stderr
    summary = run.summary
    assert summary["target"]["closed_by_server"] == 4
    assert summary["target"]["connect_failures"] == 0
    assert summary["target"]["broke"] == ["4 sockets closed by the server"]
    # most of the sockets closed at once: said at once (even with --quiet), named in the summary
    assert "the target looks down: 4 sockets closed by the server" in run.stderr
    assert summary["target"]["down"]["closed_by_server"] == 4
    # each dropped user came back: 4 more registrations than users, so 4 more sockets
    assert summary["run"]["peak_users"] == 6
    status = summary["kinds"]["status"]
    assert status["lost"] == 0 and status["delivered"] > 0


def test_terminated_run_writes_what_it_measured(reference_url: str, tmp_path: Path) -> None:
    """SIGTERM ends the run with 130 and writes summary.json (marked interrupted), the report and
    the final table from what was measured; the folder is a run `wsprobe report` accepts, and no
    log holds a traceback."""
    out = tmp_path / "out"
    deliveries = out / "deliveries-local.csv"

    def measured() -> bool:
        return deliveries.exists() and len(deliveries.read_text(encoding="utf-8").split()) > 5

    code, stdout, err = terminate_when(
        [sys.executable, "-m", "wsprobe", "load", reference_url, *FAST, "--duration", "60s",
         "--users", "6", "--spawn-rate", "6", "--workers", "0", "--output", str(out)], measured)
    assert code == 130, err
    assert "interrupted" in err and str(out) in err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["interrupted"] is True and summary["exit_code"] == 130
    assert summary["verdict"] == "interrupted"
    assert summary["kinds"]["status"]["delivered"] > 0
    assert (out / "report.html").is_file()
    assert "verdict: interrupted" in stdout and "status" in stdout
    for log in [*out.glob("*.log"), *out.glob("*.err")]:
        assert "Traceback" not in log.read_text(encoding="utf-8"), log
    report = subprocess.run([sys.executable, "-m", "wsprobe", "report", str(out)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert report.returncode == 0, report.stderr


def test_reused_output_folder_is_refused_unless_overwrite(reference_url: str,
                                                          tmp_path: Path) -> None:
    """-o naming a folder that holds another run: exit 2, nothing touched; --overwrite replaces
    it, and none of the old run's files (a worker's deliveries) leak into the new one."""
    out = tmp_path / "run0"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")
    stale = out / "deliveries-w9.csv"
    stale.write_text("kind,key\n", encoding="utf-8")
    argv = [sys.executable, "-m", "wsprobe", "load", reference_url, *FAST, "--users", "2",
            "--workers", "0", "--output", str(out)]
    refused = subprocess.run(argv, capture_output=True, text=True, timeout=90, check=False)
    assert refused.returncode == 2
    assert "already holds a run" in refused.stderr and "--overwrite" in refused.stderr
    assert stale.exists() and (out / "summary.json").read_text(encoding="utf-8") == "{}"
    done = subprocess.run([*argv, "--overwrite"], capture_output=True, text=True, timeout=90,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert not stale.exists()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["files"]["deliveries"] == ["deliveries-local.csv"]
def test_worker_with_other_user_kinds_is_refused(reference_url: str, tmp_path: Path) -> None:
    """A remote worker whose behaviour differs from the master's stops the run with exit 2."""
    master, err, worker = _master_and_worker(reference_url, tmp_path,
                                             "--chats-per-minute", "5")
    assert master.returncode == 2, err
    assert "same --profile" in err
    assert worker.returncode == 0, worker.stderr


def test_flooding_server_ends_in_time_as_a_broken_target(
    run_load: Callable[..., Run], broken_server: Callable[..., str]
) -> None:
    """get-users frames before registration, without the user: P3 broken (exit 3), in time."""
    url = broken_server("--flood")
    started = time.monotonic()
    run = run_load(url, *FAST, "--users", "2", "--spawn-rate", "2", "--workers", "0",
                   timeout=60)
    assert run.code == 3, run.stderr
    assert time.monotonic() - started < 30
    assert any(p.startswith("local: P3:") for p in run.summary["target"]["problems"])


def test_server_rebroadcasting_get_users_on_every_change_has_no_duplicates(
    run_load: Callable[..., Run], broken_server: Callable[..., str]
) -> None:
    """A correct server that sends the whole get-users list after every frame and close (many
    lists that repeat the same set): joins and leaves are each delivered once per socket."""
    url = broken_server("--rebroadcast")
    # users join over 2 s, leave after 2 s each (so the others see them go) and rejoin
    run = run_load(url, *FAST, "--users", "8", "--spawn-rate", "4", "--duration", "5s",
                   "--session", "2s", "--workers", "0", "--sockets-per-user", "2", *MIX)
    assert run.code == 0, run.stderr
    kinds = run.summary["kinds"]
    assert kinds["leave"]["expected"] > 0 and kinds["join"]["expected"] > 0
    for kind in KINDS:
        assert kinds[kind]["duplicates"] == 0, (kind, kinds[kind])
        assert kinds[kind]["lost"] == 0, (kind, kinds[kind])
    assert _accounted(run)["leave"]["duplicate"] == 0


def test_slow_get_users_answers_are_measured_not_fatal(
    run_load: Callable[..., Run], broken_server: Callable[..., str]
) -> None:
    """A server whose get-users lists (registration answers too) take 2.5 s: the run goes on,
    warns, and counts the joins the others saw late or never as late or lost; not exit 3."""
    url = broken_server("--slow-users", "2.5")
    run = run_load(url, *FAST, "--users", "4", "--spawn-rate", "1", "--duration", "8s",
                   "--loss-timeout", "2s", "--workers", "0")
    assert run.code == 0, run.stderr
    assert "did not answer a registration with get-users within 2 s" in run.stderr
    join = run.summary["kinds"]["join"]
    assert run.summary["target"]["ok"] is True
    assert join["expected"] > 0 and join["late"] + join["lost"] > 0, join
    assert _accounted(run)["join"]["late"] == join["late"]
