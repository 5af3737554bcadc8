"""Fixtures of the hostile-server tests: ``wsprobe`` in a subprocess with a hard time limit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Wsprobe = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def wsprobe(tmp_path: Path) -> Wsprobe:
    """Run ``python -m wsprobe ARGS`` in tmp_path; a hang fails the test instead of the suite."""
    def run(*args: str, timeout: float = 45.0) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([sys.executable, "-m", "wsprobe", *args], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or b"")[-2000:] if isinstance(exc.stdout, bytes) else exc.stdout
            pytest.fail(f"wsprobe {' '.join(args)} hung for more than {timeout} s; "
                        f"its output so far: {out!r}")
    return run
