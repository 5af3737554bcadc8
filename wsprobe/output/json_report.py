"""``--report json``: one JSON document with every case and finding of the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wsprobe.output.serialize import case_dict, iso
from wsprobe.scenario.events import (
    CaseFinished,
    Event,
    FrameSeen,
    RunFinished,
    RunStarted,
)

__all__ = ["JsonReport"]


class JsonReport:
    """Collects the run and writes it to ``path`` when the stream ends (also when interrupted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc: dict[str, Any] = {"cases": [], "frames": 0, "status": "interrupted",
                                    "interrupted": True}

    def handle(self, event: Event) -> None:
        """Take one event."""
        if isinstance(event, RunStarted):
            self.doc |= {"tool": event.tool, "target": event.target, "seed": event.seed,
                         "started": iso(event.at)}
        elif isinstance(event, FrameSeen):
            self.doc["frames"] += 1
        elif isinstance(event, CaseFinished):
            self.doc["cases"].append(case_dict(event))
        elif isinstance(event, RunFinished):
            self.doc |= {"status": event.status.value, "exit_code": event.exit_code,
                         "duration": round(event.duration, 4),
                         "interrupted": event.interrupted, "finished": iso(event.at)}

    def close(self) -> None:
        """Write the document."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.doc, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
