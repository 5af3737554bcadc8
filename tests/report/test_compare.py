"""``wsprobe report compare BASE NEW``: a regression gate for CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.test_report_files import run_cli
from wsprobe.report.compare import regressed
from wsprobe.report.metrics import Better, Metric


def test_same_run_is_no_regression(base_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run compared with itself: every change is 0% and the exit code is 0."""
    code, out, _ = run_cli(capsys, "report", "compare", str(base_run), str(base_run))
    assert code == 0
    assert "no regression past 10%" in out
    assert "REGRESSED" not in out


def test_slowed_server_is_a_regression(base_run: Path, slowed_run: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Against a server that delays fan-out, status latency regresses: exit 1, named."""
    md = tmp_path / "compare.md"
    code, out, err = run_cli(capsys, "report", "compare", str(base_run), str(slowed_run),
                             "--markdown", str(md))
    assert code == 1
    assert "regression(s) past 10%" in err
    for metric in ("status.p50", "status.p99", "status.scheduled.p99"):
        line = next(line for line in out.splitlines() if line.startswith(metric + " "))
        assert line.endswith("REGRESSED"), line
    assert "❌ regressed" in md.read_text(encoding="utf-8")


def test_improvement_is_not_flagged(base_run: Path, slowed_run: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The pair the other way round: status latency improves, with a negative change, unflagged.

    (The two backends differ in more than the delay, so other kinds may still move either way.)
    """
    _, out, _ = run_cli(capsys, "report", "compare", str(slowed_run), str(base_run))
    for metric in ("status.p50", "status.p99", "status.scheduled.p99"):
        line = next(line for line in out.splitlines() if line.startswith(metric + " "))
        assert " -" in line, line
        assert "REGRESSED" not in line, line


def test_huge_tolerance_lets_the_slowdown_pass(base_run: Path, slowed_run: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """--tolerance is honoured: at 100000% even the slowed run passes."""
    code, _, _ = run_cli(capsys, "report", "compare", str(base_run), str(slowed_run),
                         "--tolerance", "100000%", "--latency-floor", "1s")
    assert code == 2  # past the 1000% limit: a usage error, not silently accepted
    code, _, _ = run_cli(capsys, "report", "compare", str(base_run), str(slowed_run),
                         "--tolerance", "900%", "--latency-floor", "1s")
    assert code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--tolerance", "ten"], "--tolerance: expected a percentage"),
    (["--latency-floor", "fast"], "--latency-floor: expected a duration"),
], ids=["tolerance", "floor"])
def test_bad_options_exit_2(base_run: Path, args: list[str], message: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """Unreadable options: exit 2 with the option named."""
    code, _, err = run_cli(capsys, "report", "compare", str(base_run), str(base_run), *args)
    assert code == 2
    assert message in err


def test_different_kinds_of_run_exit_2(base_run: Path, failed_run: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A load run cannot be compared with a verify run: exit 2 naming both folders."""
    code, _, err = run_cli(capsys, "report", "compare", str(base_run), str(failed_run))
    assert code == 2
    assert str(base_run) in err
    assert str(failed_run) in err


def test_missing_new_run_exits_2(base_run: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A NEW folder that does not exist: exit 2 naming it."""
    code, _, err = run_cli(capsys, "report", "compare", str(base_run), str(tmp_path / "nope"))
    assert code == 2
    assert f"{tmp_path / 'nope'}: no such run folder" in err


def _m(value: float | None, unit: str = "ms", better: Better = Better.LOWER,
       floor: float = 1.0, *, gate: bool = True, samples: float | None = None) -> Metric:
    return Metric("x", value, unit, better, floor, gate, samples, 1_000)


@pytest.mark.parametrize(("old", "new", "expected"), [
    (_m(10.0), _m(12.0), True),
    (_m(10.0), _m(10.9), False),
    (_m(1.0), _m(1.8), False),
    (_m(10.0), _m(8.0), False),
    (_m(10.0, gate=False), _m(50.0, gate=False), False),
    (_m(0.999, "ratio", Better.HIGHER, 0.001), _m(0.99, "ratio", Better.HIGHER, 0.001), True),
    (_m(1.0, "ratio", Better.HIGHER, 0.001), _m(0.9995, "ratio", Better.HIGHER, 0.001), False),
    (_m(0.0, "ratio", Better.LOWER, 0.001), _m(0.02, "ratio", Better.LOWER, 0.001), True),
    (_m(40.0, "users", Better.HIGHER), _m(30.0, "users", Better.HIGHER), True),
    (_m(40.0, "users", Better.HIGHER), _m(38.0, "users", Better.HIGHER), False),
    (_m(5.0, "/s", Better.NEITHER), _m(50.0, "/s", Better.NEITHER), False),
    (_m(5.0), _m(None), True),
    (_m(10.0, samples=5_000), _m(50.0, samples=40), False),
    (_m(10.0, samples=5_000), _m(50.0, samples=5_000), True),
], ids=["latency-up-20pct", "latency-up-9pct", "below-floor", "latency-down", "not-gating",
        "delivered-down", "delivered-within-floor", "losses-appear", "capacity-down-25pct",
        "capacity-down-5pct", "neither-way", "figure-vanished", "p99-of-40-samples",
        "p99-of-5000-samples"])
def test_regression_rule(old: Metric, new: Metric, expected: bool) -> None:
    """Worse by more than 10% and the noise floor, on enough samples; ratios by shortfall."""
    assert regressed(old, new, 0.10) is expected


def _capacity(folder: Path, users: int, rate: float) -> Path:
    from wsprobe.capacity.result import (
        CapacityResult,
        KindStats,
        RepeatResult,
        StepRecord,
        write_result,
    )

    stats = {"status": KindStats(1500, 1.0, 50.0, 80.0, 95.0, 99.0, 99.5)}
    steps = tuple(StepRecord(1, i, "step", u, 0.0, 2.0, rate, u <= users, (), True, stats)
                  for i, u in enumerate((users, users + 1), 1))
    write_result(CapacityResult("ws://127.0.0.1:1/ws/ws", ("status.p99<100ms",),
                                (RepeatResult(1, users, users + 1, rate),), steps, 0.0, 1.0, 0),
                 folder)
    return folder


def test_capacity_drop_is_a_regression(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Capacity from 40 to 30 users regresses; from 40 to 39 is within 10%."""
    base = _capacity(tmp_path / "base", 40, 5000.0)
    code, out, _ = run_cli(capsys, "report", "compare", str(base),
                           str(_capacity(tmp_path / "worse", 30, 3000.0)))
    assert code == 1
    assert next(line for line in out.splitlines()
                if line.startswith("capacity.users ")).endswith("REGRESSED")
    code, _, _ = run_cli(capsys, "report", "compare", str(base),
                         str(_capacity(tmp_path / "same", 39, 4900.0)))
    assert code == 0
