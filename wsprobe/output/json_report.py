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
    StepFinished,
)

__all__ = ["JsonReport"]


class JsonReport:
    """Collects the run and writes it to ``path`` when the stream ends (also when interrupted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc: dict[str, Any] = {"cases": [], "frames": 0, "status": "interrupted",
                                    "interrupted": True}
        self._steps: dict[str, list[dict[str, Any]]] = {}

    def handle(self, event: Event) -> None:
        """Take one event."""
        if isinstance(event, RunStarted):
            self.doc |= {"tool": event.tool, "target": event.target, "seed": event.seed,
                         "started": iso(event.at)}
        elif isinstance(event, FrameSeen):
            self.doc["frames"] += 1
        elif isinstance(event, StepFinished):
            step = event.step
            self._steps.setdefault(event.case.name, []).append({
                "index": step.index, "kind": step.kind, "label": step.label,
                "actor": step.actor, "location": step.location,
                "status": event.status.value, "duration": round(event.duration, 4)})
        elif isinstance(event, CaseFinished):
            self.doc["cases"].append(case_dict(event)
                                     | {"steps": self._steps.pop(event.case.name, [])})
        elif isinstance(event, RunFinished):
            self.doc |= {"status": event.status.value, "exit_code": event.exit_code,
                         "duration": round(event.duration, 4),
                         "interrupted": event.interrupted, "finished": iso(event.at)}

    def close(self) -> None:
        """Write the document."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.doc, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
