"""Which kind of run a folder holds (load, capacity, verify), and reading it."""

from __future__ import annotations

from pathlib import Path

from wsprobe.errors import InputError
from wsprobe.report.caprun import CapacityRun, read_capacity_run
from wsprobe.report.files import require_dir
from wsprobe.report.loadrun import LoadRun, read_load_run
from wsprobe.report.verifyrun import REPORT_FILES, VerifyRun, find_report, read_verify_run

__all__ = ["Run", "read_run", "verdict"]

Run = LoadRun | CapacityRun | VerifyRun


def read_run(folder: Path) -> Run:
    """Read the run in ``folder``: capacity (``capacity.json``), load (``summary.json``) or
    verify (a JSON report); an :class:`InputError` names what is missing or malformed."""
    require_dir(folder)
    if (folder / "capacity.json").is_file():
        return read_capacity_run(folder)
    if (folder / "summary.json").is_file():
        return read_load_run(folder)
    if find_report(folder) is not None:
        return read_verify_run(folder)
    raise InputError(f"{folder}: not a run folder (no capacity.json, summary.json or "
                     f"{', '.join(REPORT_FILES)})")


def verdict(run: Run) -> tuple[str, str]:
    """A one-word verdict and its CSS class: ``passed``, ``failed`` or ``invalid``."""
    if isinstance(run, LoadRun):
        if not run.valid:
            return "invalid measurement", "invalid"
        broken = [s for s in run.slos if not s.passed]
        if broken:
            return f"{len(broken)} SLO(s) broken", "failed"
        return ("SLOs met" if run.slos else "no SLO given"), "passed"
    if isinstance(run, CapacityRun):
        if run.stopped:
            return "stopped early", "invalid"
        users = run.capacity.get("users")
        return (f"capacity {users:g} users" if isinstance(users, int | float)
                else "no capacity found"), "passed" if users is not None else "failed"
    if run.failed:
        return f"{run.failed} check(s) failed", "failed"
    return "all checks passed", "passed"
