"""The capacity search itself, with no I/O: which user count to try next, given what held so far.

It steps the number of users up (times ``growth``, or plus ``step``) until a step breaks an SLO,
then bisects between the last step that met every SLO and the first that broke one, until the two
are within ``resolution`` of each other. The caller measures each proposed user count and reports
whether it held: ``while (users := search.next_users()) is not None: search.record(users, ok)``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = ["Phase", "Search", "SearchPlan", "SearchResult"]


class Phase(enum.StrEnum):
    """Where the search is: stepping users up, or bisecting between a pass and a failure."""

    STEP = "step"
    BISECT = "bisect"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How to step and when to stop.

    ``step`` (users added per step) replaces ``growth`` (factor per step) when given. Bisection
    stops when the failing and passing user counts differ by at most ``resolution`` times the
    passing one (and at least one user).
    """

    start: int = 10
    growth: float = 2.0
    step: int | None = None
    max_users: int = 10_000
    resolution: float = 0.05

    def __post_init__(self) -> None:
        if self.start < 1:
            raise ValueError(f"the first step needs at least 1 user, got {self.start}")
        if self.step is None and self.growth <= 1:
            raise ValueError(f"growth must be more than 1, got {self.growth}")
        if self.step is not None and self.step < 1:
            raise ValueError(f"step must be at least 1 user, got {self.step}")
        if self.max_users < self.start:
            raise ValueError(f"max users ({self.max_users}) is below the start ({self.start})")
        if not 0 < self.resolution < 1:
            raise ValueError(f"resolution must be between 0 and 1, got {self.resolution}")

    def after(self, users: int) -> int:
        """The user count of the step after one with ``users``, capped at ``max_users``."""
        grown = users + self.step if self.step is not None else math.ceil(users * self.growth)
        return min(max(grown, users + 1), self.max_users)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The outcome: the largest user count that held and the smallest that broke.

    ``passing`` is None when even the smallest count tried broke an SLO; ``failing`` is None when
    every step held up to ``max_users`` (the capacity is at least that).
    """

    passing: int | None
    failing: int | None
    tried: tuple[tuple[int, bool], ...]

    @property
    def capped(self) -> bool:
        """Every step held: the capacity is at least the largest count tried."""
        return self.failing is None


class Search:
    """Propose user counts and take verdicts until the breaking point is bracketed tightly."""

    def __init__(self, plan: SearchPlan) -> None:
        self.plan = plan
        self.phase = Phase.STEP
        self._lo = 0  # largest count that held (0: none yet)
        self._hi: int | None = None  # smallest count that broke
        self._next: int | None = plan.start
        self._tried: list[tuple[int, bool]] = []

    def next_users(self) -> int | None:
        """The user count to measure next, or None when the search is over."""
        return self._next

    def record(self, users: int, held: bool) -> None:
        """Whether ``users`` met every SLO; decides the next count."""
        if users != self._next:
            raise ValueError(f"expected a verdict for {self._next} users, got {users}")
        self._tried.append((users, held))
        if held:
            self._lo = max(self._lo, users)
        else:
            self._hi = users if self._hi is None else min(self._hi, users)
        if self.phase is Phase.STEP and held:
            self._next = self.plan.after(users) if users < self.plan.max_users else None
        else:
            self.phase = Phase.BISECT
            self._next = self._midpoint()
        if self._next is None:
            self.phase = Phase.DONE

    def _midpoint(self) -> int | None:
        hi = self._hi
        if hi is None:
            return None
        lo = self._lo
        if hi - lo <= max(1, math.floor(self.plan.resolution * lo)):
            return None
        return (lo + hi) // 2

    def result(self) -> SearchResult:
        """What the search found so far (final once :meth:`next_users` returns None)."""
        return SearchResult(self._lo or None, self._hi, tuple(self._tried))
