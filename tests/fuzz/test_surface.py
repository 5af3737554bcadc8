"""wsprobe.fuzz's public surface, and what importing it pulls in."""

from __future__ import annotations

import subprocess
import sys

import wsprobe.fuzz


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted (constants first, as ruff sorts it) and every name in it exists."""
    names = wsprobe.fuzz.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(wsprobe.fuzz, n) for n in names)


def test_import_stays_light() -> None:
    """Importing the fuzz package pulls in neither the server, the CLI, locust, gevent nor pandas."""
    code = ("import sys, wsprobe.fuzz; print(','.join(m for m in ('wsprobe.server', 'click', "
            "'locust', 'gevent', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == ""
