"""A step is invalid when its generator distorted the figures during the steady window:
sustained CPU saturation, or scheduled sends leaving late. Scheduling lag alone is a note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wsprobe.capacity.runner import _check_generator, _Stop
from wsprobe.capacity.window import Window
from wsprobe.load.validity import generator_reasons

WINDOW = Window(start_s=1.5, length_s=2.0, kinds={}, deliveries=0)  # 1.5 s .. 3.5 s

Row = tuple[float, float, float, int, int]  # t, cpu, lag p99 ms, sends, late sends


def summary(reasons: list[str], rows: list[Row]) -> dict[str, Any]:
    """A step run's summary.json with these validity reasons and series rows."""
    return {"run": {"users": 40},
            "validity": {"valid": not reasons, "reasons": reasons, "notes": [],
                         "limits": {"max_cpu": 0.9, "max_lag_ms": 20.0}},
            "series": [{"t": t, "cpu_max": cpu, "lag_p99_max_ms": lag, "sends": sends,
                        "late_sends": late} for t, cpu, lag, sends, late in rows]}


START_UP = ["worker local: generator CPU 95% of a core on average over 1 s (limit 90%)"]
# a join burst: lag spikes at 80-90 ms, CPU stays low, every scheduled send leaves on time
JOIN_BURST = [(1.0, 0.95, 80.0, 40, 0), (2.0, 0.12, 27.0, 40, 0), (3.0, 0.3, 90.0, 40, 0),
              (4.0, 0.2, 90.0, 40, 1)]


@pytest.mark.parametrize(("reasons", "rows", "stops"), [
    ([], JOIN_BURST, None),
    (START_UP, JOIN_BURST, None),
    (START_UP, [(2.0, 0.95, 5.0, 40, 0), (3.0, 0.97, 6.0, 40, 0)], "CPU 96% of a core"),
    ([], [(2.0, 0.3, 5.0, 40, 3), (3.0, 0.3, 45.0, 40, 3)], "6 of 80 scheduled sends"),
    ([], [(2.0, 0.3, 90.0, 40, 9), (3.0, 0.3, 5.0, 40, 0), (3.5, 0.3, 5.0, 40, 0)], None),
    (START_UP, [(1.0, 0.3, 5.0, 9, 0), (5.0, 0.3, 5.0, 9, 0)], None),
    (["only 1 of 2 workers reported"], JOIN_BURST, "only 1 of 2 workers reported"),
], ids=["join-burst-lag-is-a-note", "busy-only-at-start-up", "sustained-cpu-in-window",
        "sends-left-late-in-window", "late-sends-in-one-burst-only", "no-interval-in-window-is-not-judged", "not-the-generator"])
def test_generator_judged_on_the_window(reasons: list[str], rows: list[Row],
                                        stops: str | None) -> None:
    """Start-up load and lag bursts are forgiven; sustained CPU or late sends are not."""
    if stops is None:
        _check_generator(summary(reasons, rows), WINDOW, Path("step"))
        return
    with pytest.raises(_Stop, match=stops) as stopped:
        _check_generator(summary(reasons, rows), WINDOW, Path("step"))
    assert stopped.value.code == 2


@pytest.mark.parametrize(("cpu", "sends", "expect"), [
    ([0.95, 0.2, 0.2], [(100, 0)], []),
    ([0.95, 0.95, 0.9], [(100, 0)], ["CPU 93%"]),
    ([0.2], [(1000, 50)], []),
    ([0.2], [(1000, 51)], ["51 of 1000 scheduled sends"]),
    ([0.2], [(10, 4)], []),
    ([0.2], [(10, 5)], ["5 of 10 scheduled sends"]),
    ([0.2], [(100, 60), (100, 0), (100, 0)], []),
    ([0.2], [(100, 60), (100, 6), (100, 0)], ["66 of 300 scheduled sends"]),
], ids=["one-busy-interval", "sustained", "5%-late", "over-5%-late", "four-late-of-ten",
        "five-late-of-ten", "one-burst-interval", "two-of-three-intervals"])
def test_generator_reasons(cpu: list[float], sends: list[tuple[int, int]],
                           expect: list[str]) -> None:
    """Sustained: CPU is the window's mean; late sends need over 5% of the window, at least
    five, in at least half of its intervals."""
    found = generator_reasons("w", cpu, sends, max_cpu=0.9, max_lag_ms=50)
    assert len(found) == len(expect)
    for words, reason in zip(expect, found, strict=True):
        assert words in reason
