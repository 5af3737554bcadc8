"""Per-socket rate limiting (protocol.md X3) as a token bucket fed by the caller's clock."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RateLimit", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``rate`` messages per second on average, with bursts of up to ``burst`` messages."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a rate limit needs rate > 0 and burst >= 1, got {self}")

    @classmethod
    def per_second(cls, rate: float) -> RateLimit:
        """``rate`` messages per second with a burst of two seconds' worth (at least 10)."""
        return cls(rate=rate, burst=max(2.0 * rate, 10.0))


class TokenBucket:
    """A bucket that starts full; each message takes one token; tokens refill at ``rate``/s."""

    __slots__ = ("_last", "_limit", "_tokens")

    def __init__(self, limit: RateLimit) -> None:
        self._limit = limit
        self._tokens = limit.burst
        self._last: float | None = None

    def take(self, now: float) -> bool:
        """Take one token at time ``now`` (seconds, any monotonic origin); False when empty."""
        if self._last is not None and now > self._last:
            self._tokens = min(self._limit.burst,
                               self._tokens + (now - self._last) * self._limit.rate)
        if self._last is None or now > self._last:
            self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
