"""Heavy imports stay at their edge: pandas only in the report, locust and gevent only in load
processes (style.md 7, ARCHITECTURE.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = "import sys; import {module}; print(sorted(m for m in {names!r} if m in sys.modules))"


@pytest.mark.parametrize(("module", "absent"), [
    ("wsprobe.report", ("locust", "gevent")),
    ("wsprobe.cli.report", ("locust", "gevent", "pandas", "matplotlib")),
    ("wsprobe.capacity.runner", ("locust", "gevent", "pandas", "matplotlib")),
    ("wsprobe.cli.capacity", ("locust", "gevent", "pandas", "matplotlib")),
], ids=["report", "report-cli", "capacity", "capacity-cli"])
def test_import_pulls_in_nothing_heavy(module: str, absent: tuple[str, ...]) -> None:
    """Importing the module loads none of the listed packages."""
    code = PROBE.format(module=module, names=absent)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
