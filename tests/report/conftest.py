"""Real run folders for the report tests: short headless ``wsprobe load`` runs on loopback, one
against the reference backend and one against a deliberately slowed backend, plus a ``wsprobe run``
against a backend that drops chat messages (a failed check with frames)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.capacity.slow_backend import slow_backend

LOAD_ARGS = ("--headless", "--users", "16", "--spawn-rate", "100", "--duration", "3s",
             "--workers", "0", "--heartbeat", "0.25s", "--loss-timeout", "1s", "--slo", "status.p99<500ms",
             "--quiet")


def wsprobe(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m wsprobe ARGS`` to the end."""
    return subprocess.run([sys.executable, "-m", "wsprobe", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


def _load(out: Path, *url: str) -> Path:
    done = wsprobe("load", *url, *LOAD_ARGS, "--output", str(out))
    assert (out / "summary.json").is_file(), done.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s load run of 16 users against the bundled reference backend."""
    return _load(tmp_path_factory.mktemp("runs") / "base")


@pytest.fixture(scope="session")
def slowed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same load against a backend that delays each status fan-out by 4 ms per user."""
    with slow_backend(4.0) as url:
        return _load(tmp_path_factory.mktemp("runs") / "slowed", url)


@pytest.fixture(scope="session")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``wsprobe run scenarios/chat.yaml`` against a backend that never delivers chat."""
    out = tmp_path_factory.mktemp("runs") / "chat-dropped"
    scenario = Path(__file__).parents[2] / "scenarios" / "chat.yaml"
    with slow_backend(0.0, drop_chat=True) as url:
        done = wsprobe("run", str(scenario), url, "--report", "json,ndjson", "--output",
                       str(out), "--no-progress", "--step-timeout", "1")
    assert done.returncode == 1, done.stderr[-3000:]
    return out
