"""SLO parsing and evaluation against a summary's kinds."""

from __future__ import annotations

from typing import Any

import pytest

from wsprobe.errors import InputError
from wsprobe.load.slo import evaluate, parse_slo


def _kinds(p99: float | None, delivered: int, expected: int) -> dict[str, Any]:
    latency = {"p50": 1.0, "p90": 2.0, "p99": p99, "p99.9": p99, "max": p99, "mean": 1.0}
    entry = {"expected": expected, "delivered": delivered, "lost": expected - delivered,
             "duplicates": 0, "late": 0,
             "latency_ms": {"actual": latency, "scheduled": latency, "last": latency}}
    return {k: entry for k in ("join", "leave", "status", "chat", "signal")}


@pytest.mark.parametrize(
    ("text", "series", "metric", "op", "threshold"),
    [
        ("status.p99<100ms", "scheduled", "p99", "<", 100.0),
        ("chat.delivered>=99.9%", "ratio", "delivered", ">=", 99.9),
        ("join.actual.p99.9<=2s", "actual", "p99.9", "<=", 2000.0),
        ("all.last.max<500us", "last", "max", "<", 0.5),
        ("signal.lost<1", "ratio", "lost", "<", 1.0),
    ],
    ids=["percentile", "ratio", "actual-series-seconds", "all-kinds-microseconds", "bare-percent"],
)
def test_parse(text: str, series: str, metric: str, op: str, threshold: float) -> None:
    """Each form parses into series, metric, comparison and a threshold in ms or percent."""
    slo = parse_slo(text)
    assert (slo.series, slo.metric, slo.op, slo.threshold) == (series, metric, op, threshold)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("status<100ms", "expected KIND.METRIC"),
        ("presence.p99<1ms", "unknown kind"),
        ("status.p42<1ms", "unknown metric"),
        ("status.p99<1%", "is a latency"),
        ("chat.delivered>=99ms", "is a percentage"),
    ],
    ids=["no-metric", "bad-kind", "bad-metric", "latency-in-percent", "ratio-in-ms"],
)
def test_parse_errors(text: str, words: str) -> None:
    """A malformed objective is an input error that says what is wrong."""
    with pytest.raises(InputError, match=words):
        parse_slo(text)


@pytest.mark.parametrize(
    ("text", "p99", "ok"),
    [
        ("status.p99<100ms", 50.0, True),
        ("status.p99<100ms", 150.0, False),
        ("status.p99<100ms", None, False),
        ("chat.delivered>=99.9%", 1.0, False),
        ("all.lost<=0.5%", 1.0, True),
    ],
    ids=["met", "broken", "nothing-measured-fails", "ratio-broken", "pooled-ratio-met"],
)
def test_evaluate(text: str, p99: float | None, ok: bool) -> None:
    """Objectives hold or break on the measured value; no measurement never passes."""
    kinds = _kinds(p99, delivered=998 if "delivered" in text else 1000, expected=1000)
    (result,) = evaluate((parse_slo(text),), kinds)
    assert result.ok is ok
