"""A handler that keeps every event in memory (for tests and for programs)."""

from __future__ import annotations

from wsprobe.scenario.events import Event

__all__ = ["Recorder"]


class Recorder:
    """Keeps events in order; ``closed`` tells whether the stream ended."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.closed = False

    def handle(self, event: Event) -> None:
        """Keep the event."""
        self.events.append(event)

    def close(self) -> None:
        """Note that the stream ended."""
        self.closed = True

    def of(self, kind: type[Event]) -> list[Event]:
        """The events of one class."""
        return [e for e in self.events if isinstance(e, kind)]
