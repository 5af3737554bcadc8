"""wsprobe never hangs and never crashes on a hostile server (issue 7, part 2).

Every command (fuzz, run, verify, load) meets every hostile server of :mod:`.servers`: it must end
within its time limit with the right exit code, write what it recorded, and print no traceback.
3 when no WebSocket opens; 1 when it opens and the server misbehaves (``load`` says 3 for a
protocol break too, as its help says); 0 when what the command asked for still works (a server
that ignores pings is fine for a short scenario).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import Wsprobe
from .servers import Behaviour, HostileServer

B = Behaviour
SCENARIO = """\
name: hostile
actors:
  alice: {}
  bob: {}
steps:
  - connect: alice
  - send: {actor: alice, frame: {type: new-user-add, userId: alice}}
  - expect: {actor: alice, type: get-users, where: {data: {contains: alice}}}
  - connect: bob
  - send: {actor: bob, frame: {type: new-user-add, userId: bob}}
  - expect: {actor: bob, type: get-users, where: {data: {contains: bob}}}
"""

COMMANDS = {
    "fuzz": ["fuzz", "{url}", "--max-time", "2", "--shrink-time", "2", "--timeout", "1",
             "--answer-timeout", "0.5", "--recover-time", "1", "--no-progress", "--report",
             "json", "--output", "out"],
    "run": ["run", "scenario.yaml", "{url}", "--step-timeout", "0.5", "--timeout", "4",
            "--no-progress", "--report", "json", "--output", "out"],
    "verify": ["verify", "{url}", "--timeout", "0.5", "--run-timeout", "3", "--report", "json",
               "--output", "out", "--check", "P3", "--check", "R1", "--check", "T1"],
    "load": ["load", "{url}", "-u", "2", "-d", "1s", "--headless", "--workers", "0", "-q",
             "-o", "out", "--loss-timeout", "500ms"],
}
#: the time each command may take, past its own limits, before the test calls it a hang
LIMITS = {"fuzz": 15.0, "run": 12.0, "verify": 15.0, "load": 25.0}
REPORTS = {"fuzz": "out/fuzz.json", "run": "out/run.json", "verify": "out/verify.json"}

HANDSHAKE = {B.CLOSE_MID_HANDSHAKE: 3, B.NEVER_HANDSHAKE: 3, B.HTTP_ERROR: 3}
EXPECTED: dict[str, dict[Behaviour, int]] = {
    "fuzz": {**HANDSHAKE, B.GARBAGE: 1, B.NON_JSON: 1, B.BINARY: 1, B.ENORMOUS: 1, B.FLOOD: 1,
             B.STOP_READING: 1, B.NO_PONG: 1, B.DIE_MID_RUN: 1},
    "run": {**HANDSHAKE, B.GARBAGE: 1, B.NON_JSON: 1, B.BINARY: 1, B.ENORMOUS: 1, B.FLOOD: 1,
            B.STOP_READING: 1, B.NO_PONG: 0, B.DIE_MID_RUN: 1},
    "verify": {**HANDSHAKE, B.GARBAGE: 1, B.NON_JSON: 1, B.BINARY: 1, B.ENORMOUS: 1, B.FLOOD: 1,
               B.STOP_READING: 1, B.NO_PONG: 1, B.DIE_MID_RUN: 1},
    "load": {**HANDSHAKE, B.GARBAGE: 3, B.NON_JSON: 3, B.BINARY: 3, B.ENORMOUS: 3, B.FLOOD: 3,
             B.STOP_READING: 3, B.NO_PONG: 0, B.DIE_MID_RUN: 3},
}
SLOW = {"verify", "load"}


def _survives(command: str, behaviour: Behaviour, code: int, folder: Path) -> str | None:
    """Run ``command`` against a fresh ``behaviour`` server in ``folder``; what went wrong, if
    anything, in one line."""
    folder.mkdir()
    (folder / "scenario.yaml").write_text(SCENARIO)
    with HostileServer(behaviour) as url:
        args = [a.replace("{url}", url) for a in COMMANDS[command]]
        started = time.monotonic()
        try:
            done = subprocess.run([sys.executable, "-m", "wsprobe", *args], cwd=folder,
                                  capture_output=True, text=True, timeout=LIMITS[command] + 5,
                                  check=False)
        except subprocess.TimeoutExpired:
            return f"hung for more than {LIMITS[command] + 5} s"
        took = time.monotonic() - started
    output = done.stdout + done.stderr
    if "Traceback" in output:
        return "printed a traceback: " + output[output.index("Traceback"):][:1500]
    if done.returncode != code:
        return f"exit {done.returncode}, expected {code}: {output[-800:]}"
    if took > LIMITS[command]:
        return f"took {took:.1f} s (limit {LIMITS[command]} s)"
    report = REPORTS.get(command)
    if report is not None and code != 3:
        doc = json.loads((folder / report).read_text())
        if doc["exit_code"] != code:
            return f"its report says exit {doc['exit_code']}"
    if command == "load" and code != 3 and not any((folder / "out").iterdir()):
        return "load wrote nothing"
    return None


@pytest.mark.parametrize("command", [
    pytest.param(c, marks=[pytest.mark.slow] if c in SLOW else []) for c in EXPECTED])
def test_command_survives_every_hostile_server(tmp_path: Path, command: str) -> None:
    """Against each hostile server the command ends in time, with the right exit code and a
    report, and no traceback (the servers run three at a time; each is its own process pair)."""
    table = EXPECTED[command]
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {b: pool.submit(_survives, command, b, c, tmp_path / b.value)
                   for b, c in table.items()}
        problems = {b.value: f.result() for b, f in futures.items()}
    broken = {b: p for b, p in problems.items() if p is not None}
    assert not broken, "\n".join(f"{command} vs {b}: {p}" for b, p in broken.items())


@pytest.mark.parametrize("command", ["fuzz", "run", "verify"])
def test_tls_handshake_that_never_finishes(wsprobe: Wsprobe, tmp_path: Path,
                                           command: str) -> None:
    """wss:// to a server that accepts TCP and never answers the TLS handshake: exit 3, in time."""
    (tmp_path / "scenario.yaml").write_text(SCENARIO)
    with HostileServer(B.NEVER_HANDSHAKE) as url:
        args = [a.replace("{url}", url.replace("ws://", "wss://")) for a in COMMANDS[command]]
        args.append("--insecure")
        done = wsprobe(*args, timeout=LIMITS[command] + 20)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 3, done.stdout + done.stderr
