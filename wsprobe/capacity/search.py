"""The capacity search itself, with no I/O: which user count to try next, given what held so far.

It steps the number of users up (times ``growth``, or plus ``step``) until a step breaks an SLO,
then bisects between the last step that met every SLO and the first that broke one, until the two
are within ``resolution`` of each other. The caller measures each proposed user count and gives
its verdict: ``while (users := search.next_users()) is not None: search.record(users, verdict)``.

A step is *held* (every SLO met, on enough samples), *broken* (an SLO missed, on enough samples)
or *inconclusive* (too few samples to judge, however long the caller held it). An inconclusive
step proves nothing either way, so it never bounds the result: the search moves *up* past it
(more users give more samples per second), never down.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

__all__ = ["Phase", "Search", "SearchPlan", "SearchResult", "Verdict"]


class Phase(enum.StrEnum):
    """Where the search is: stepping users up, or bisecting between a pass and a failure."""

    STEP = "step"
    BISECT = "bisect"
    DONE = "done"


class Verdict(enum.StrEnum):
    """What one measured step showed."""

    HELD = "held"
    BROKEN = "broken"
    INCONCLUSIVE = "inconclusive"


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

    def close_enough(self, passing: int, failing: int) -> bool:
        """Whether a passing and a failing count bracket the capacity tightly enough: they
        differ by at most ``resolution`` of the *passing* (lower) count, and at least 1 user."""
        return failing - passing <= max(1, math.floor(self.resolution * passing))


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The outcome: the largest user count that held and the smallest that broke.

    ``passing`` is None when no count held; ``failing`` is None when nothing broke up to
    ``max_users`` (the capacity is then *at least* ``passing``: see :attr:`capped`).
    """

    passing: int | None
    failing: int | None
    tried: tuple[tuple[int, Verdict], ...]

    @property
    def capped(self) -> bool:
        """Nothing broke: the capacity is at least the largest count that held."""
        return self.failing is None and self.passing is not None

    @property
    def inconclusive(self) -> tuple[int, ...]:
        """The counts that were too short of samples to judge."""
        return tuple(users for users, verdict in self.tried if verdict is Verdict.INCONCLUSIVE)


class Search:
    """Propose user counts and take verdicts until the breaking point is bracketed tightly."""

    def __init__(self, plan: SearchPlan) -> None:
        self.plan = plan
        self.phase = Phase.STEP
        self._lo = 0  # largest count that held (0: none yet)
        self._floor = 0  # largest count that held or was inconclusive: bisect above it
        self._hi: int | None = None  # smallest count that broke
        self._next: int | None = plan.start
        self._tried: list[tuple[int, Verdict]] = []

    def next_users(self) -> int | None:
        """The user count to measure next, or None when the search is over."""
        return self._next

    def record(self, users: int, verdict: Verdict | bool) -> None:
        """The verdict of ``users`` (``True``/``False``: held/broken); decides the next count."""
        if users != self._next:
            raise ValueError(f"expected a verdict for {self._next} users, got {users}")
        if isinstance(verdict, bool):
            verdict = Verdict.HELD if verdict else Verdict.BROKEN
        self._tried.append((users, verdict))
        if verdict is Verdict.BROKEN:
            self._hi = users if self._hi is None else min(self._hi, users)
        else:  # every proposal lies below the smallest failure, so this raises the floor
            self._floor = max(self._floor, users)
            if verdict is Verdict.HELD:
                self._lo = max(self._lo, users)
        if self.phase is Phase.STEP and verdict is not Verdict.BROKEN:
            self._next = self.plan.after(users) if users < self.plan.max_users else None
        else:
            self.phase = Phase.BISECT
            self._next = self._midpoint()
        if self._next is None:
            self.phase = Phase.DONE

    def _midpoint(self) -> int | None:
        """Halfway between the floor (the last count held, or inconclusive above it) and the
        smallest failure, until the two are within the resolution."""
        hi = self._hi
        if hi is None or self.plan.close_enough(self._floor, hi):
            return None
        return (self._floor + hi) // 2

    def result(self) -> SearchResult:
        """What the search found so far (final once :meth:`next_users` returns None)."""
        return SearchResult(self._lo or None, self._hi, tuple(self._tried))
