"""Properties of the capacity search for any capacity and noise model within its assumptions.

The oracle stands for a server and a measurement: every count up to ``capacity`` holds, every
count beyond ``capacity * (1 + band)`` breaks, and counts in between (the noisy band) go either
way, as drawn by Hypothesis. Counts below ``few_samples`` cannot be judged (too few samples in
any step the caller may hold: *inconclusive*), whatever the server does there.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from wsprobe.capacity.search import Search, SearchPlan, Verdict

plans = st.builds(
    SearchPlan,
    start=st.integers(1, 200),
    growth=st.sampled_from([1.1, 1.34, 1.5, 2.0, 3.0]),
    step=st.none() | st.integers(5, 500),
    max_users=st.just(5_000),
    resolution=st.sampled_from([0.01, 0.05, 0.1, 0.25]),
)


def run(plan: SearchPlan, capacity: int, band: float, few_samples: int,
        noise: st.DataObject | None) -> tuple[Search, list[tuple[int, Verdict]]]:
    search = Search(plan)
    tried: list[tuple[int, Verdict]] = []
    while (users := search.next_users()) is not None:
        assert len(tried) <= plan.max_users + 1, "the search does not end"
        if users < few_samples:
            verdict = Verdict.INCONCLUSIVE
        elif users <= capacity:
            verdict = Verdict.HELD
        elif users > capacity * (1 + band) or noise is None:
            verdict = Verdict.BROKEN
        else:
            verdict = noise.draw(st.sampled_from([Verdict.HELD, Verdict.BROKEN]))
        tried.append((users, verdict))
        search.record(users, verdict)
    return search, tried


@settings(max_examples=400, deadline=None)
@given(plan=plans, capacity=st.integers(1, 4_000))
def test_exact_capacity_within_resolution(plan: SearchPlan, capacity: int) -> None:
    """A noiseless server: the result brackets the capacity within --resolution of the lower
    count, and the passing count is the capacity itself whenever the step size allows."""
    search, tried = run(plan, capacity, 0.0, 0, None)
    result = search.result()
    if capacity < plan.start and plan.start > 1:
        assert result.failing is not None
    if result.failing is None:  # capped: nothing above the capacity was ever tried
        assert max(u for u, _ in tried) == plan.max_users <= capacity
        assert result.capped and result.passing == plan.max_users
        return
    passing = result.passing or 0
    assert passing <= capacity < result.failing
    assert result.failing - passing <= max(1, math.floor(plan.resolution * passing))
    assert len({u for u, _ in tried}) == len(tried), "a count was measured twice"


@settings(max_examples=400, deadline=None)
@given(plan=plans, capacity=st.integers(1, 3_000), band=st.sampled_from([0.0, 0.05, 0.2]),
       few_samples=st.integers(0, 400), noise=st.data())
def test_never_above_a_broken_step_and_inconclusive_never_lowers(
        plan: SearchPlan, capacity: int, band: float, few_samples: int,
        noise: st.DataObject) -> None:
    """Whatever the noise: the passing count held, is below every step that broke, and is
    within the resolution of the smallest failure unless an inconclusive step lies between;
    an inconclusive step never sends the search down, and never counts as held or broken."""
    search, tried = run(plan, capacity, band, few_samples, noise)
    result = search.result()
    broken = [u for u, v in tried if v is Verdict.BROKEN]
    held = [u for u, v in tried if v is Verdict.HELD]
    assert result.passing == (max(held) if held else None)
    assert result.failing == (min(broken) if broken else None)
    if result.passing is not None and broken:
        assert result.passing < min(broken)
    for index, (users, verdict) in enumerate(tried[:-1]):
        if verdict is Verdict.INCONCLUSIVE:
            assert tried[index + 1][0] > users, "an inconclusive step sent the search down"
    if result.passing is not None and result.failing is not None:
        between = [u for u, v in tried if v is Verdict.INCONCLUSIVE
                   and result.passing < u < result.failing]
        if not between:
            assert result.failing - result.passing <= max(
                1, math.floor(plan.resolution * result.passing))
    if result.passing is None and result.failing is not None and not result.inconclusive:
        assert result.failing == 1  # nothing held: the search went all the way down to 1 user
