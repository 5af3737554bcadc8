"""The capacity search with no I/O: user counts in, verdicts in, a bracketed breaking point out."""

from __future__ import annotations

import pytest

from wsprobe.capacity.result import CapacityResult, RepeatResult
from wsprobe.capacity.search import Phase, Search, SearchPlan, Verdict
from wsprobe.capacity.window import min_samples
from wsprobe.load.slo import parse_slo


def search_against(plan: SearchPlan, capacity: int) -> tuple[Search, list[int]]:
    """Run the search against an oracle that holds up to ``capacity`` users."""
    search = Search(plan)
    tried = []
    while (users := search.next_users()) is not None:
        tried.append(users)
        search.record(users, users <= capacity)
    return search, tried


@pytest.mark.parametrize("capacity", [1, 7, 10, 19, 40, 41, 333, 9_999],
                         ids=lambda c: f"{c}-users")
def test_search_brackets_the_breaking_point(capacity: int) -> None:
    """The last passing count is the capacity, within the resolution, and the next one broke."""
    plan = SearchPlan(start=10, growth=2.0, resolution=0.05)
    search, tried = search_against(plan, capacity)
    result = search.result()
    assert result.passing is not None
    assert result.failing is not None
    assert result.passing <= capacity < result.failing
    assert result.failing - result.passing <= max(1, int(0.05 * result.passing))
    assert search.phase is Phase.DONE
    assert len(tried) == len(set(tried))


def test_steps_then_bisects() -> None:
    """Doubling from 10 until 80 breaks, then halving the 40..80 interval."""
    _, tried = search_against(SearchPlan(start=10, growth=2.0, resolution=0.05), 55)
    assert tried == [10, 20, 40, 80, 60, 50, 55, 57]


def test_additive_steps() -> None:
    """--step adds users instead of multiplying."""
    _, tried = search_against(SearchPlan(start=5, step=5, resolution=0.2), 17)
    assert tried[:5] == [5, 10, 15, 20, 17]


def test_first_step_breaking_bisects_down() -> None:
    """When the first step breaks, the search goes below it."""
    search, tried = search_against(SearchPlan(start=10), 3)
    assert tried[:3] == [10, 5, 2]
    assert search.result().passing == 3


def test_nothing_holds() -> None:
    """Even one user breaks the SLO: no passing count."""
    search, _ = search_against(SearchPlan(start=4), 0)
    assert search.result().passing is None
    assert search.result().failing == 1


def test_capped_at_max_users() -> None:
    """Every step holds up to --max-users: the result says the capacity is at least that."""
    search, tried = search_against(SearchPlan(start=10, max_users=50), 1_000)
    assert tried == [10, 20, 40, 50]
    assert search.result().capped
    assert search.result().passing == 50


def test_verdict_for_another_count_is_refused() -> None:
    """Recording a verdict for a count the search did not propose is a bug in the caller."""
    search = Search(SearchPlan(start=10))
    with pytest.raises(ValueError, match="expected a verdict for 10 users"):
        search.record(11, True)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start": 0}, "at least 1 user"),
    ({"growth": 1.0}, "growth must be more than 1"),
    ({"step": 0}, "step must be at least 1"),
    ({"start": 20, "max_users": 10}, "below the start"),
    ({"resolution": 0}, "resolution"),
], ids=["start", "growth", "step", "max", "resolution"])
def test_bad_plans(kwargs: dict[str, float], message: str) -> None:
    """Impossible plans are refused with the reason."""
    with pytest.raises(ValueError, match=message):
        SearchPlan(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("slos", "need"), [
    (["status.p99<100ms"], 1_000),
    (["status.p99.9<100ms"], 10_000),
    (["status.p90<100ms"], 100),
    (["status.p50<10ms", "chat.p99<50ms"], 1_000),
    (["chat.delivered>=99%"], 20),
    (["status.max<1s"], 1_000),
], ids=["p99", "p99.9", "p90", "mixed", "ratio-only", "max"])
def test_samples_a_tail_needs(slos: list[str], need: int) -> None:
    """Ten samples beyond the percentile: 1,000 for a p99."""
    assert min_samples(parse_slo(s) for s in slos) == need


def test_capacity_is_the_median_with_spread() -> None:
    """Three repeats: the median capacity, the min..max spread, the median rate."""
    result = CapacityResult(
        target="ws://127.0.0.1:1/ws/ws", slos=("status.p99<100ms",), steps=(),
        repeats=(RepeatResult(1, 38, 40, 4000.0), RepeatResult(2, 41, 43, 4500.0),
                 RepeatResult(3, 39, 41, 4200.0)),
        started_at=0.0, duration_s=1.0, exit_code=0)
    assert result.capacity_users() == 39
    assert result.spread_users() == (38, 41)
    assert result.capacity_rate() == 4200.0
    assert result.as_json()["capacity"] == {"users": 39, "users_min": 38, "users_max": 41,
                                            "deliveries_per_s": 4200.0, "at_least": False,
                                            "text": "39"}


def test_capped_search_reports_at_least() -> None:
    """A repeat that reached --max-users without a broken step: the capacity is "≥ N"."""
    result = CapacityResult(
        target="ws://127.0.0.1:1/ws/ws", slos=("status.p99<100ms",), steps=(),
        repeats=(RepeatResult(1, 40, None, 4000.0, capped=True),),
        started_at=0.0, duration_s=1.0, exit_code=0)
    assert result.capacity_text() == "≥ 40"
    assert result.as_json()["capacity"]["at_least"] is True


def test_inconclusive_steps_move_up_never_down() -> None:
    """Too few samples at 10 and 20 users proves nothing: the search steps on to 40 and 80,
    bisects between 40 (held) and 80 (broken), and never goes below an inconclusive step."""
    search = Search(SearchPlan(start=10, growth=2.0, resolution=0.05))
    verdicts = {10: Verdict.INCONCLUSIVE, 20: Verdict.INCONCLUSIVE}
    tried = []
    while (users := search.next_users()) is not None:
        tried.append(users)
        search.record(users, verdicts.get(users, Verdict.HELD if users <= 55 else
                                          Verdict.BROKEN))
    assert tried == [10, 20, 40, 80, 60, 50, 55, 57]
    result = search.result()
    assert (result.passing, result.failing, result.inconclusive) == (55, 57, (10, 20))


def test_all_inconclusive_up_to_the_cap_judges_nothing() -> None:
    """Never enough samples: no passing count, no failing one, no capacity claimed."""
    search = Search(SearchPlan(start=10, max_users=40))
    while (users := search.next_users()) is not None:
        search.record(users, Verdict.INCONCLUSIVE)
    result = search.result()
    assert (result.passing, result.failing, result.capped) == (None, None, False)
    assert result.inconclusive == (10, 20, 40)
