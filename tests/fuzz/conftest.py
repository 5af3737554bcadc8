"""Fixtures of the fuzz tests: running ``wsprobe`` in a subprocess with a hard time limit."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CRASH_SERVER = Path(__file__).with_name("crash_server.py")

Wsprobe = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def crash_command(port: int, least: int) -> str:
    """The --server-cmd of a server that exits when send-message data.text is a list."""
    return f"{sys.executable} {CRASH_SERVER} {port} {least}"


@pytest.fixture
def wsprobe(tmp_path: Path) -> Wsprobe:
    """Run ``python -m wsprobe ARGS`` in tmp_path; a hang fails the test, a traceback too."""
    def run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run([sys.executable, "-m", "wsprobe", *args], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"wsprobe {' '.join(args)} hung for {timeout} s:\n{exc.stderr!r}")
        assert "Traceback" not in done.stderr + done.stdout, done.stderr
        return done
    return run
