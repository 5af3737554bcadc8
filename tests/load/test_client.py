"""The gevent WebSocket client against the reference server, in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from wsprobe.server import ServerConfig, spawn

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def outcome() -> dict[str, Any]:
    """One client session against a server that pings every 0.2 s."""
    with spawn(ServerConfig(port=0, ping_interval=0.2)) as server:
        proc = subprocess.run([sys.executable, str(HERE / "client_check.py"), server.url],
                              capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_registers_and_receives_text(outcome: dict[str, Any]) -> None:
    """Registration is answered with get-users, stamped on receipt, handed over as bytes."""
    assert outcome["types"][0] == "get-users"
    assert outcome["first"]["data"] == ["checker"]
    assert outcome["stamp_after_connect"] is True
    assert 0 <= outcome["max_age_us"] < 1_000_000


@pytest.mark.skipif(sys.platform != "linux", reason="SO_TIMESTAMPNS is Linux's")
def test_receipts_carry_kernel_timestamps(outcome: dict[str, Any]) -> None:
    """On Linux the kernel stamps arrivals, so a busy generator does not delay the stamp."""
    assert outcome["kernel_timestamps"] is True


def test_answers_pings_and_closes_with_1000(outcome: dict[str, Any]) -> None:
    """Server pings are answered (the server keeps us); close is a clean 1000 handshake."""
    assert outcome["open_after_pings"] is True
    assert outcome["close_code"] == 1000
    assert outcome["run_ended"] is True


@pytest.mark.parametrize(
    ("case", "refused"),
    [("wrong_path", True), ("closed_port", False), ("bad_url", False)],
    ids=["handshake-refused", "connection-refused", "not-a-websocket-url"],
)
def test_connect_failures(outcome: dict[str, Any], case: str, refused: bool) -> None:
    """A refused handshake, a closed port and a bad URL each fail with a clear error."""
    attempt = outcome[case]
    assert attempt["failed"] is True
    assert attempt["refused"] is refused
    assert attempt["message"]


def test_receive_loop_yields_under_a_flood(tmp_path: Path) -> None:
    """A server flooding the socket cannot starve timers and other greenlets of the worker."""
    server = subprocess.Popen([sys.executable, str(HERE / "broken_server.py"), "--flood"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        proc = subprocess.run([sys.executable, str(HERE / "client_check.py"), url, "ticker"],
                              capture_output=True, text=True, timeout=15, check=True)
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    result = json.loads(proc.stdout)
    assert result["frames"] > 10_000  # it was a flood, and it was received
    assert result["ticks"] >= 6  # 8 ticks of 0.25 s in 2 s; starved, none would come
