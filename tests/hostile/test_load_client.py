"""The load generator's receive loop under a flood: other greenlets still run (timers, the
run's duration), so ``wsprobe load`` cannot hang on a flooding server (found by this suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .servers import Behaviour, HostileServer

PROBE = Path(__file__).with_name("flood_probe.py")


def test_receive_loop_yields_under_a_flood() -> None:
    """A ticker greenlet keeps ticking while a server floods the client's socket."""
    with HostileServer(Behaviour.FLOOD) as url:
        try:
            done = subprocess.run([sys.executable, str(PROBE), url], capture_output=True,
                                  text=True, timeout=6, check=False)
        except subprocess.TimeoutExpired:
            pytest.fail("the ticker never ran: the receive loop starved every other greenlet")
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 6
