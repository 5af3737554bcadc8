"""``wsprobe run``: exit codes, reports, options, bundled backend, interruption."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.scenario import hubs
from wsprobe.cli import main
from wsprobe.resources import bundled_scenarios_dir
from wsprobe.server import BackgroundServer, Hub, ServerConfig

SHIPPED = sorted(p.stem for p in bundled_scenarios_dir().glob("*.yaml"))

CHAT = textwrap.dedent("""\
    actors: {alice: {query: {token: "${token}"}}, bob: {query: {token: "${token}"}}}
    steps:
      - connect: alice
      - connect: bob
      - send: {actor: alice, frame: {type: new-user-add, userId: alice}}
      - send: {actor: bob, frame: {type: new-user-add, userId: bob}}
      - expect: {actor: alice, type: get-users, where: {data: {contains: bob}}}
      - send: {actor: alice, frame: {type: send-message, data: {receiverId: bob, text: hi, chatId: c}}}
      - expect: {actor: bob, type: receive-message, where: {data.text: hi}}
    """)


def wsprobe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def chat_file(tmp_path: Path) -> Path:
    """A small chat scenario that needs --var token=..."""
    path = tmp_path / "chat.yaml"
    path.write_text(CHAT)
    return path


@pytest.fixture(scope="module")
def drop_chat() -> Iterator[str]:
    """A backend (in a thread) whose chat relay drops every message; token ``t``."""
    with BackgroundServer(ServerConfig(port=0, token="t"), hubs.DropChat) as url:
        yield url


@pytest.fixture(scope="module")
def reference() -> Iterator[str]:
    """The reference backend in a thread; token ``t``."""
    with BackgroundServer(ServerConfig(port=0, token="t"), Hub) as url:
        yield url


def test_shipped_scenarios_pass_with_bundled_backend(capsys: pytest.CaptureFixture[str]) -> None:
    """No URL: the reference backend is started, and every shipped scenario passes."""
    code, out, _ = wsprobe(capsys, "run", *SHIPPED, "--heartbeat", "0.05", "--no-progress")
    assert code == 0, out
    assert f"{len(SHIPPED)} passed" in out


def test_failing_run_exit_1(capsys: pytest.CaptureFixture[str], chat_file: Path,
                            drop_chat: str) -> None:
    """A finding gives exit 1 and a report naming the step and its place."""
    code, out, _ = wsprobe(capsys, "run", str(chat_file), drop_chat, "--var", "token=t",
                           "--step-timeout", "0.3")
    assert code == 1
    assert f"at       {chat_file}:9:5" in out
    assert "FAILURE bob/main did not receive receive-message" in out


def test_var_reaches_the_handshake(capsys: pytest.CaptureFixture[str], chat_file: Path,
                                   reference: str) -> None:
    """--var token=... fills ?token= (the server requires it)."""
    assert wsprobe(capsys, "run", str(chat_file), reference, "--var", "token=t")[0] == 0


@pytest.mark.parametrize("token", ["wrong", ""], ids=["wrong-token", "empty-token"])
def test_refused_handshake_exit_3(capsys: pytest.CaptureFixture[str], chat_file: Path,
                                  reference: str, token: str) -> None:
    """A refused handshake at the first connect is exit 3 (unreachable), not a finding."""
    code, out, _ = wsprobe(capsys, "run", str(chat_file), reference, "--var", f"token={token}")
    assert code == 3
    assert "HTTP 401" in out


def test_unreachable_exit_3(capsys: pytest.CaptureFixture[str], chat_file: Path) -> None:
    """Nothing listening: exit 3."""
    code, out, _ = wsprobe(capsys, "run", str(chat_file), "ws://127.0.0.1:9/ws/ws",
                           "--var", "token=t")
    assert code == 3
    assert "connection refused" in out


@pytest.mark.parametrize(("args", "message"), [
    (["run", "{chat}"], "unknown variable ${{token}}"),
    (["run", "{bad}"], "{bad}:3:5: unknown step 'expct'"),
    (["run", "nosuch"], "nosuch: no such scenario file (bundled scenarios: away, calls"),
    (["run", "{chat}", "--var", "token"], "--var 'token': write KEY=VALUE"),
    (["run", "{chat}", "--var", "token=t", "--report", "xml"], "--report: unknown kind 'xml'"),
    (["run", "{chat}", "--var", "token=t", "--schemas", "{schemas}"], "not valid JSON"),
    (["run", "{chat}", "http://x"], "bad URL 'http://x'"),
], ids=["missing-var", "bad-step", "unknown-scenario", "bad-var", "bad-report", "bad-schema",
        "bad-url"])
def test_bad_input_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, chat_file: Path,
                          args: list[str], message: str) -> None:
    """Bad usage or input: exit 2 and one line on stderr naming the place."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("actors: {a: }\nsteps:\n  - expct: {actor: a}\n")
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "broken.json").write_text("{nope")
    subs = {"chat": str(chat_file), "bad": str(bad), "schemas": str(schemas)}
    code, out, err = wsprobe(capsys, *(a.format(**subs) for a in args))
    assert code == 2
    assert message.format(**subs) in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_reports_written(capsys: pytest.CaptureFixture[str], tmp_path: Path, chat_file: Path,
                         reference: str) -> None:
    """--report json,junit,ndjson writes the three files under --output."""
    out_dir = tmp_path / "out"
    code, _, err = wsprobe(capsys, "run", str(chat_file), reference, "--var", "token=t",
                           "--report", "json,junit,ndjson", "--output", str(out_dir))
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "run.frames.ndjson", "run.json", "run.junit.xml"]
    assert json.loads((out_dir / "run.json").read_text())["status"] == "passed"
    assert "reports written" in err


def test_interrupt_exit_130_with_reports(tmp_path: Path, reference: str) -> None:
    """SIGINT mid-run: exit 130, and the reports hold what was recorded."""
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(CHAT.replace("  - expect: {actor: bob, type: receive-message, "
                                     "where: {data.text: hi}}", "  - wait: 30s"))
    out_dir = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wsprobe", "run", str(scenario), reference, "--var", "token=t",
         "--report", "json,ndjson", "--output", str(out_dir), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    frames = out_dir / "run.frames.ndjson"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (
            not frames.exists() or len(frames.read_text().splitlines()) < 5):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    doc = json.loads((out_dir / "run.json").read_text())
    assert doc["interrupted"] is True
    assert len(frames.read_text().splitlines()) >= 5


def test_wss_with_cafile(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """wss://: --cafile trusts a private CA; without it the handshake fails (exit 3)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(certfile)
    cert.private_key_pem.write_to_path(keyfile)
    ca.cert_pem.write_to_path(cafile)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(CHAT)
    config = ServerConfig(port=0, token="t", certfile=certfile, keyfile=keyfile)
    with BackgroundServer(config) as url:
        assert url.startswith("wss://")
        args = ["run", str(scenario), url, "--var", "token=t", "--no-progress"]
        assert wsprobe(capsys, *args, "--cafile", str(cafile))[0] == 0
        assert wsprobe(capsys, *args, "--insecure")[0] == 0
        code, out, _ = wsprobe(capsys, *args)
        assert code == 3
        assert "CERTIFICATE_VERIFY_FAILED" in out
