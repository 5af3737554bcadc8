"""Plain parts of the load half: profiles, clock offsets, histograms and merging reports."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from wsprobe.errors import InputError
from wsprobe.load.aggregate import Aggregator
from wsprobe.load.clock import OffsetEstimator
from wsprobe.load.config import LoadConfig, UserKind, parse_duration
from wsprobe.load.fanout import KINDS, STATUS
from wsprobe.load.histograms import KindHistograms, new_histogram, percentiles_ms, values_at
from wsprobe.load.profile import load_profile

PROFILE = """\
users: 50
duration: 2m
sockets-per-user: 3
heartbeat: 10s
kinds:
  - name: chatty
    weight: 3
    chats-per-minute: 6
  - name: caller
    calls-per-minute: 2
    sockets-per-user: 1
"""


def test_profile_sets_run_defaults_and_kinds(tmp_path: Path) -> None:
    """Top-level behaviour applies to every kind unless the kind overrides it."""
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    profile = load_profile(path)
    assert profile.run == {"users": 50, "duration": 120.0}
    chatty, caller = profile.kinds
    assert (chatty.name, chatty.weight, chatty.sockets, chatty.heartbeat, chatty.chats_per_min) \
        == ("chatty", 3, 3, 10.0, 6)
    assert (caller.weight, caller.sockets, caller.calls_per_min) == (1, 1, 2)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("users: 5\nheartbeat: soon\n", ":2 heartbeat: expected a duration"),
        ("kinds:\n  - name: a\n    chats-per-minute: -1\n", ":3 kinds[0].chats-per-minute"),
        ("kinds:\n  - name: a\n    wings: 2\n", ":3 kinds[0].wings: unknown user setting"),
        ("users: [1\n", "not valid YAML"),
        ("speed: 3\n", ":1 speed: unknown setting"),
    ],
    ids=["bad-duration", "negative-rate", "unknown-kind-key", "broken-yaml", "unknown-key"],
)
def test_profile_errors_name_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    """Mistakes in a profile name the file, the line and the field."""
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.yaml") as info:
        load_profile(path)
    assert where in str(info.value)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30.0), ("100ms", 0.1), ("2m", 120.0),
                                                ("1.5", 1.5), ("250us", 0.00025)],
                         ids=["s", "ms", "m", "bare", "us"])
def test_durations(text: str, seconds: float) -> None:
    """Durations read with their unit."""
    assert parse_duration(text) == pytest.approx(seconds)


def test_config_round_trips_through_json() -> None:
    """The config a master writes is the config a worker reads."""
    config = LoadConfig(url="ws://127.0.0.1:1/ws/ws", users=3, spawn_rate=1.0, duration=5.0,
                        kinds=(UserKind(name="a", sockets=2),), slos=("status.p99<1s",))
    assert LoadConfig.from_json(config.to_json()) == config


def test_clock_offset_from_the_least_delayed_exchange() -> None:
    """The offset comes from the exchange with the least delay, within half that delay."""
    est = OffsetEstimator()
    # worker clock is 5 ms behind the master; one-way delays 1 ms and 7 ms
    est.add(t0=0, t1=5_000 + 1_000, t2=5_000 + 1_100, t3=2_100)
    est.add(t0=10_000, t1=15_000 + 7_000, t2=15_000 + 7_100, t3=10_000 + 7_100 + 300)
    estimate = est.estimate()
    assert estimate is not None
    assert abs(estimate.offset_us - 5_000) <= estimate.uncertainty_us
    assert estimate.uncertainty_us == 1_000
    assert estimate.samples == 2


def test_vectorized_percentiles_equal_hdrh() -> None:
    """The numpy percentile walk answers exactly what hdrh's own walk answers."""
    hist = new_histogram()
    rng = random.Random(1)
    for _ in range(20_000):
        hist.record_value(int(rng.lognormvariate(7, 2)) + 1)
    pcts = [0.0, 50.0, 90.0, 99.0, 99.9, 100.0]
    assert values_at(hist, pcts) == [hist.get_value_at_percentile(p) for p in pcts]
    assert percentiles_ms(hist)["mean"] == round(hist.get_mean_value() / 1000, 3)


def _report(node: str, t_end: int, hists: KindHistograms, events: list[tuple[object, ...]],
            delivered: int) -> dict[str, object]:
    zero = dict.fromkeys(("events", "expected", "delivered", "lost", "duplicates", "late",
                          "optional", "negative"), 0)
    counts = {k: dict(zero) for k in KINDS}
    counts[STATUS] = {**zero, "expected": delivered, "delivered": delivered}
    return {"node": node, "t_end": t_end, "users": 1, "sockets": 1, "pending": 0,
            "incomplete": 0, "counts": counts, "unmatched": 0, "hists": hists.encode(),
            "events": events, "monitor": {"cpu": 0.1, "lag": None}, "clock": None,
            "errors": {}, "connect_failures": 0, "refused": 0, "protocol_errors": 0}


def test_aggregator_merges_workers_without_loss() -> None:
    """Histograms and counters add up; an event's last receiver is the latest over workers."""
    agg = Aggregator(t0=0, interval=1.0, loss_timeout=1.0)
    a, b = KindHistograms(), KindHistograms()
    for value in range(1, 301):
        a.record(STATUS, value * 10, value * 11)
    for value in range(1, 201):
        b.record(STATUS, value * 1000, value * 1000)
    agg.add(_report("w1", 1_000_000, a, [("k", STATUS, 0, 4_000, 2, 2)], delivered=300))
    agg.add(_report("w2", 1_000_000, b, [("k", STATUS, 0, 9_000, 1, 1)], delivered=200))
    agg.finish(10_000_000)
    assert agg.hists.get(STATUS, "actual").get_total_count() == 500
    assert agg.hists.get(STATUS, "actual").get_max_value() == \
        new_histogram().get_highest_equivalent_value(200_000)
    last = agg.hists.get(STATUS, "last")
    assert last.get_total_count() == 1
    assert last.get_max_value() == last.get_highest_equivalent_value(9_000)
    assert agg.totals[STATUS].delivered == 500
    assert agg.series[0]["users"] == 2 and agg.series[0]["kinds"][STATUS]["deliveries"] == 500


def test_public_surface_is_pinned() -> None:
    """wsprobe.load exports exactly its plain (gevent-free) building blocks, sorted."""
    import wsprobe.load

    assert wsprobe.load.__all__ == [
        "KINDS", "Counts", "FanoutTracker", "Kind", "LoadConfig", "Sent", "Slo", "SloResult",
        "UserKind", "evaluate", "parse_duration", "parse_slo",
    ]
    assert wsprobe.load.__all__ == sorted(wsprobe.load.__all__, key=lambda n: (n != n.upper(), n))
