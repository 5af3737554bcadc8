"""``wsprobe fuzz`` end to end, in subprocesses: clean runs, crashes found, shrunk and replayed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import trustme

from wsprobe.server import BackgroundServer, ServerConfig

from .conftest import Wsprobe, crash_command, free_port


def test_clean_run_against_the_bundled_backend(wsprobe: Wsprobe, tmp_path: Path) -> None:
    """A small budget against the reference backend finds nothing; every report is written."""
    done = wsprobe("fuzz", "--max-cases", "80", "--seed", "1", "--no-progress",
                   "--report", "json,junit,ndjson", "--output", "out")
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads((tmp_path / "out/fuzz.json").read_text())
    assert doc["tool"] == "fuzz" and doc["status"] == "passed" and doc["seed"] == 1
    assert len(doc["cases"]) == 14
    suite = ET.parse(tmp_path / "out/fuzz.junit.xml").getroot()
    assert len(suite.findall(".//testcase")) == 14
    assert (tmp_path / "out/fuzz.frames.ndjson").exists()
    assert "seed 1" in done.stderr
    assert not (tmp_path / "out/findings").exists()


@pytest.mark.slow
def test_finds_shrinks_and_replays_a_crash(wsprobe: Wsprobe, tmp_path: Path) -> None:
    """A server that exits on a list in data.text: found, shrunk to one item, replayed."""
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/ws"
    command = crash_command(port, 1)
    done = wsprobe("fuzz", url, "--server-cmd", command, "--group", "send-message/invalid",
                   "--max-cases", "120", "--seed", "2", "--no-progress", "--output", "out")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the server stopped after this case" in done.stdout
    assert "the server exited with code 70" in done.stdout
    saved = tmp_path / "out/findings/send-message-invalid--server-stopped.json"
    case = json.loads(saved.read_text())
    assert case["frames"] == [{"opcode": 1, "text": '{"type": "send-message", "data": {"text": [0]}}'}]
    assert case["finding"]["code"] == "server-stopped"

    again = wsprobe("fuzz", "--replay", str(saved), url, "--server-cmd", command, "--no-progress")
    assert again.returncode == 1, again.stdout + again.stderr
    assert "the server exited with code 70" in again.stdout
    fixed = wsprobe("fuzz", "--replay", str(saved), "--no-progress")  # the reference backend
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


@pytest.mark.slow
def test_default_budget_finds_a_crash_hypothesis_must_shrink(wsprobe: Wsprobe,
                                                             tmp_path: Path) -> None:
    """Issue 7's bar: with the default budget, a crash on a list of 2+ items in data.text (which
    no fixed case sends) is found by generation, shrunk by hypothesis, and its file replays it."""
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/ws"
    command = crash_command(port, 2)
    done = wsprobe("fuzz", url, "--server-cmd", command, "--seed", "3", "--no-progress",
                   "--output", "out", timeout=240)
    assert done.returncode == 1, done.stdout + done.stderr
    saved = tmp_path / "out/findings/send-message-invalid--server-stopped.json"
    (frame,) = json.loads(saved.read_text())["frames"]
    data = json.loads(frame["text"])["data"]
    assert isinstance(data["text"], list) and len(data["text"]) == 2
    assert len(frame["text"]) <= 60, frame["text"]
    again = wsprobe("fuzz", "--replay", str(saved), url, "--server-cmd", command, "--no-progress")
    assert again.returncode == 1, again.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["ws://192.0.2.1/ws/ws"], "only loopback targets"),
    (["http://127.0.0.1/ws/ws"], "must start with ws://"),
    (["--server-cmd", "true"], "--server-cmd needs the URL"),
    (["--replay", "missing.json"], "--replay missing.json"),
    (["--group", "nope"], "--group nope: no such group"),
    (["--report", "pdf"], "unknown kind 'pdf'"),
    (["--max-time", "0"], "must be more than 0"),
], ids=["remote", "scheme", "cmd-without-url", "missing-replay", "group", "report", "max-time"])
def test_bad_usage_exits_2(wsprobe: Wsprobe, args: list[str], needle: str) -> None:
    """Bad usage is one clear line and exit 2, before anything is sent."""
    done = wsprobe("fuzz", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert needle in done.stderr


def test_malformed_replay_file_names_the_field(wsprobe: Wsprobe, tmp_path: Path) -> None:
    """A replay file with a bad frame names the file and the JSON pointer (exit 2)."""
    (tmp_path / "case.json").write_text(json.dumps(
        {"format": "wsprobe-fuzz-case/1", "expect": "invalid", "frames": [{"opcode": 1}]}))
    done = wsprobe("fuzz", "--replay", "case.json")
    assert done.returncode == 2
    assert "case.json: /frames/0: needs 'text'" in done.stderr


def test_unreachable_exits_3(wsprobe: Wsprobe) -> None:
    """Nothing listening at the URL: exit 3 with the reason."""
    done = wsprobe("fuzz", f"ws://127.0.0.1:{free_port()}/ws/ws", "--no-progress")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "cannot open a WebSocket" in done.stderr


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A test CA (its PEM) and a server certificate for 127.0.0.1 (cert and key in one PEM)."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(folder / "ca.pem")
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        folder / "server.pem")
    return folder / "ca.pem", folder / "server.pem"


@pytest.mark.parametrize(("extra", "code"), [
    (["--cafile", "CA"], 0), (["--insecure"], 0), ([], 3),
], ids=["test-ca", "insecure", "untrusted"])
def test_wss(wsprobe: Wsprobe, tls: tuple[Path, Path], extra: list[str], code: int) -> None:
    """wss:// with a certificate from a test CA: trusted with --cafile or --insecure, else exit 3."""
    ca, pem = tls
    args = [str(ca) if a == "CA" else a for a in extra]
    with BackgroundServer(ServerConfig(port=0, certfile=pem)) as url:
        done = wsprobe("fuzz", url, *args, "--max-cases", "30", "--group", "frames/",
                       "--no-progress")
    assert done.returncode == code, done.stdout + done.stderr
    if code == 3:
        assert "CERTIFICATE_VERIFY_FAILED" in done.stderr


def test_interrupt_writes_partial_reports(tmp_path: Path) -> None:
    """SIGINT mid-run: exit 130 and the JSON report says interrupted."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wsprobe", "fuzz", "--max-cases", "100000", "--no-progress",
         "--report", "json", "--output", "out"], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        line = process.stdout.readline()  # the run's first line: the backend is up
        assert "wsprobe fuzz" in line
        time.sleep(1.0)  # let it fuzz: the interrupt must land mid-group
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    doc = json.loads((tmp_path / "out/fuzz.json").read_text())
    assert doc["interrupted"] is True and doc["exit_code"] == 130
