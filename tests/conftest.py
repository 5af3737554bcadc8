"""Suite-wide settings: a run that collects no tests is a failure, never a green CI."""

from __future__ import annotations

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Exit 5 when nothing ran, even if every collected test was deselected or skipped."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or session.config.option.collectonly:
        return
    ran = sum(len(reporter.stats.get(k, [])) for k in ("passed", "failed", "error", "xfailed",
                                                      "xpassed"))
    if ran == 0 and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
