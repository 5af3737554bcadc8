"""``wsprobe verify`` on the command line: the main job, options, reports and exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from wsprobe.cli import main
from wsprobe.server import BackgroundServer, Hub, ServerConfig, SocketId
from wsprobe.verify import REGISTRY


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``wsprobe verify ARGS`` in-process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as info:
        main(["verify", *args, "--no-progress"])
    out = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out.out, out.err


def test_verify_alone_checks_the_bundled_backend_and_passes(capsys: pytest.CaptureFixture[str]):
    """`wsprobe verify` with no URL starts the reference backend with its gates on and runs every
    check, security and server pings included, and exits 0."""
    code, out, _ = run_cli(["--timeout", "1"], capsys)
    assert code == 0, out
    assert "started the bundled reference backend" in out
    assert "PASSED: 31 passed ·" in out
    assert "skipped" not in out
    assert "FAILED" not in out and "warning" not in out.split("PASSED")[-1]


def test_list_names_every_check(capsys: pytest.CaptureFixture[str]):
    """--list prints one line per check: rule, level, name, plain words."""
    code, out, _ = run_cli(["--list"], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == len([s for s in REGISTRY if s.origin.startswith("wsprobe.")])
    assert any(line.startswith("C6  MUST") and "receive-message-spelling" in line
               for line in lines)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--check", "nope"], "--check 'nope' matches no check"),
        (["--skip", "Q*"], "--skip 'Q*' matches no check"),
        (["http://127.0.0.1:1/"], "ws:// or wss://"),
        (["--report", "xml"], "unknown kind 'xml'"),
        (["ws://127.0.0.1:1/ws/ws", "--cafile", __file__], "for wss:// URLs"),
        (["--allowed-origin", "https://a.example"], "--foreign-origin"),
        (["--header", "no colon"], "'Name: value'"),
        (["--plugin", "tests.verify.no_such_module"], "cannot import"),
        (["--schemas", "/nonexistent/schemas"], "not a folder of JSON Schemas"),
    ],
    ids=["unknown-check", "unknown-skip", "not-websocket", "bad-report", "cafile-on-ws",
         "half-of-x1", "bad-header", "bad-plugin", "bad-schemas"],
)
def test_bad_usage_is_exit_2_with_a_clear_line(args: list[str], words: str,
                                               capsys: pytest.CaptureFixture[str]):
    """Bad options, patterns, plug-ins and schema folders exit 2 and say what is wrong."""
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert words in out + err
    assert "Traceback" not in out + err


def test_nothing_tested_is_exit_2(capsys: pytest.CaptureFixture[str]):
    """A run whose every selected check is skipped (X1 with no Origin inputs) proves nothing: exit 2."""
    from wsprobe.server import BackgroundServer, ServerConfig

    with BackgroundServer(ServerConfig()) as url:
        code, out, err = run_cli([url, "--check", "X1"], capsys)
    assert code == 2
    assert "nothing tested" in out + err


def test_unreachable_target_is_exit_3(capsys: pytest.CaptureFixture[str]):
    """Nothing listening: exit 3 and one line saying so."""
    code, _, err = run_cli(["ws://127.0.0.1:9/ws/ws", "--timeout", "0.5"], capsys)
    assert code == 3
    assert "cannot test ws://127.0.0.1:9/ws/ws" in err


def test_reports_json_junit_ndjson(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """--report writes verify.json (with rule words and rerun), JUnit with one testcase per check,
    and every frame as NDJSON; `wsprobe report` can read the folder."""
    out_dir = tmp_path / "out"
    code, _, err = run_cli(["--check", "P*", "--check", "T1", "--report", "json,junit,ndjson",
                            "--output", str(out_dir), "--seed", "42"], capsys)
    assert code == 0
    assert "reports written" in err
    doc = json.loads((out_dir / "verify.json").read_text())
    assert doc["tool"] == "verify" and doc["exit_code"] == 0 and doc["seed"] == 42
    assert len(doc["cases"]) == 8
    first = doc["cases"][0]
    assert first["level"] in {"MUST", "SHOULD"} and first["rule_text"]
    assert first["rerun"].startswith("wsprobe verify --check ") and "--seed 42" in first["rerun"]
    suite = ET.parse(out_dir / "verify.junit.xml").getroot()
    assert suite.get("tests") == "8" and suite.get("failures") == "0"
    assert {tc.get("name") for tc in suite.iter("testcase")} >= {"P3 registration-answer",
                                                                 "T1 ping-pong"}
    lines = (out_dir / "verify.frames.ndjson").read_text().splitlines()
    assert len(lines) > 20 and json.loads(lines[0])["direction"] in {"client-to-server",
                                                                     "server-to-client"}
    from wsprobe.report.verifyrun import read_verify_run

    run = read_verify_run(out_dir)
    assert run.passed == 8 and run.failed == 0


class Mute(Hub):
    """Accepts everything, answers nothing: every check waits for its time limit."""

    def receive(self, sock: SocketId, frame: str | bytes, now: float) -> list:  # type: ignore[type-arg]
        return []


def test_interrupt_writes_the_partial_report_and_exits_130(tmp_path: Path):
    """SIGINT in the middle of a run: exit 130, and verify.json says interrupted."""
    out_dir = tmp_path / "out"
    with BackgroundServer(ServerConfig(port=0), Mute) as url:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wsprobe", "verify", url, "--report", "json", "--output",
             str(out_dir), "--no-progress", "--timeout", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("wsprobe verify")  # the run has started
        time.sleep(1.5)  # the first check (1 s time-outs against a mute server) is under way
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    doc = json.loads((out_dir / "verify.json").read_text())
    assert doc["interrupted"] is True and doc["exit_code"] == 130
    assert doc["cases"], "the checks that finished are in the report"


def test_plugin_check_runs_with_its_rule(capsys: pytest.CaptureFixture[str]):
    """--plugin MODULE loads a user's check; it runs and is reported under its own rule."""
    try:
        code, out, _ = run_cli(["--plugin", "tests.verify.plugin_checks", "--check", "Z1"],
                               capsys)
    finally:
        REGISTRY.discard("echo-status")
    assert code == 0, out
    assert "Z1" in out and "echo-status" in out and "1 passed" in out


def test_token_and_origins_configure_the_bundled_backend(capsys: pytest.CaptureFixture[str]):
    """With no URL, --token and the Origins configure the bundled backend: X1 and X2 pass."""
    code, out, _ = run_cli(["--token", "s3cret", "--allowed-origin", "https://app.example",
                            "--foreign-origin", "https://evil.example", "--check", "X1",
                            "--check", "X2", "--check", "P3"], capsys)
    assert code == 0, out
    assert "3 passed" in out
    assert "s3cret" not in out, "the token never reaches the console"


def test_failing_run_shows_evidence_and_writes_it(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]):
    """A broken rule: exit 1; the console and the JUnit failure carry the rule in words, the
    frame that proves it and the command that reruns the check."""
    from tests.verify.broken import Misspelled

    with BackgroundServer(ServerConfig(port=0), Misspelled) as url:
        code, out, _ = run_cli([url, "--check", "C*", "--report", "junit,json", "--output",
                                str(tmp_path)], capsys)
    assert code == 1
    assert "FAILED C6 receive-message-spelling" in out
    assert '<- {"type":"recieve-message"' in out
    assert f"rerun     wsprobe verify {url} --check receive-message-spelling" in out
    case = next(tc for tc in ET.parse(tmp_path / "verify.junit.xml").getroot().iter("testcase")
                if tc.get("name") == "C6 receive-message-spelling")
    failure = case.find("failure")
    assert failure is not None and failure.text is not None
    assert "recieve-message" in failure.text
    assert "rule: C6 MUST: the delivery type is spelled receive-message" in failure.text
    assert "rerun: wsprobe verify" in failure.text
    doc = json.loads((tmp_path / "verify.json").read_text())
    c6 = next(c for c in doc["cases"] if c["rule"] == "C6")
    assert c6["status"] == "failed" and c6["findings"][0]["frames"][0]["actor"] == "bob"
