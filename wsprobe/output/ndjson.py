"""``--report ndjson``: one line per frame (time, actor, socket, direction, validation result).

Lines are written and flushed as frames happen, so an interrupted run keeps every frame seen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from wsprobe.output.serialize import frame_dict
from wsprobe.scenario.events import Event, FrameSeen

__all__ = ["NdjsonFrames"]


class NdjsonFrames:
    """Streams frames to ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def handle(self, event: Event) -> None:
        """Write a line for each frame event."""
        if not isinstance(event, FrameSeen):
            return
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8")
        line = frame_dict(event.frame, event.case)
        if event.step is not None:
            line["step"] = event.step.index
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file (creating it empty if no frame was seen)."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            return
        self._file.close()
