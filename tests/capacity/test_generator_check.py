"""A step is invalid when its generator was the bottleneck during the steady window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wsprobe.capacity.runner import _check_generator, _Stop
from wsprobe.capacity.window import Window

WINDOW = Window(start_s=1.5, length_s=2.0, kinds={}, deliveries=0)  # 1.5 s .. 3.5 s


def summary(reasons: list[str], rows: list[tuple[float, float, float]]) -> dict[str, Any]:
    """A step run's summary.json with these validity reasons and (t, cpu, lag) series rows."""
    return {"run": {"users": 40},
            "validity": {"valid": not reasons, "reasons": reasons,
                         "limits": {"max_cpu": 0.9, "max_lag_ms": 20.0}},
            "series": [{"t": t, "cpu_max": cpu, "lag_p99_max_ms": lag} for t, cpu, lag in rows]}


START_UP = ["worker local: scheduling lag p99 70.7 ms (limit 20.0 ms)"]
CALM = [(1.0, 0.95, 80.0), (2.0, 0.3, 5.0), (3.0, 0.3, 6.0), (4.0, 0.2, 90.0)]


@pytest.mark.parametrize(("reasons", "rows", "stops"), [
    ([], CALM, None),
    (START_UP, CALM, None),
    (START_UP, [(2.0, 0.3, 5.0), (3.0, 0.3, 45.0)], "in the steady window at 3.0 s"),
    (START_UP, [(2.0, 0.95, 5.0)], "CPU 95% of a core"),
    (START_UP, [(1.0, 0.3, 5.0), (5.0, 0.3, 5.0)], "the load generator is the bottleneck"),
    (["only 1 of 2 workers reported"], CALM, "only 1 of 2 workers reported"),
], ids=["valid", "busy-only-at-start-up", "lag-in-window", "cpu-in-window",
        "no-interval-in-window", "not-the-generator"])
def test_generator_judged_on_the_window(reasons: list[str], rows: list[tuple[float, float, float]],
                                        stops: str | None) -> None:
    """Start-up load outside the window is forgiven; any interval over a limit inside is not."""
    if stops is None:
        _check_generator(summary(reasons, rows), WINDOW, Path("step"))
        return
    with pytest.raises(_Stop, match=stops) as stopped:
        _check_generator(summary(reasons, rows), WINDOW, Path("step"))
    assert stopped.value.code == 2
