"""Fixtures for load tests: servers in processes of their own, and load runs as subprocesses.

gevent (the load side) and asyncio (the servers) never share a process, and neither runs in the
pytest process: every Locust run is ``python -m wsprobe load`` in a subprocess.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wsprobe.server import ServerConfig, spawn

HERE = Path(__file__).parent


@dataclass
class Run:
    """A finished load run: its exit code, output folder, summary and stderr."""

    code: int
    out: Path
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.out / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def reference_url() -> Iterator[str]:
    """The reference backend, in a process of its own, with no rate limit."""
    with spawn(ServerConfig(port=0, rate_limit=None)) as server:
        yield server.url


@pytest.fixture
def broken_server() -> Iterator[Callable[..., str]]:
    """Start ``broken_server.py`` with options; yields a starter that returns the URL."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> str:
        proc = subprocess.Popen([sys.executable, str(HERE / "broken_server.py"), *args],
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(15)
        assert line and line[0].startswith("ws://"), "broken server did not start"
        return line[0].strip()

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


# short runs: users spawn within a second, statuses every second, quick timeouts
FAST = ["--headless", "--quiet", "--duration", "3s", "--heartbeat", "1s", "--loss-timeout", "1.5s",
        "--late-after", "0.5s", "--max-lag", "250ms", "--max-cpu", "1.0"]


@pytest.fixture
def run_load(tmp_path: Path) -> Callable[..., Run]:
    """Run ``wsprobe load`` with arguments in a subprocess; outputs go under ``tmp_path``."""
    counter = iter(range(100))

    def run(*args: str, timeout: float = 90) -> Run:
        out = tmp_path / f"run{next(counter)}"
        proc = subprocess.run(
            [sys.executable, "-m", "wsprobe", "load", *args, "--output", str(out)],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        return Run(proc.returncode, out, proc.stdout, proc.stderr)

    return run


def terminate_when(argv: list[str], ready: Callable[[], bool], *, wait: float = 60
                   ) -> tuple[int, str, str]:
    """Run ``argv``, send it SIGTERM once ``ready()`` (or after ``wait`` seconds), and return its
    exit code, stdout and stderr; the process is killed if it outlives the test's patience."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not ready():
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        stdout, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, stdout, err
