"""``--report junit``: JUnit XML, one ``testcase`` per case (a scenario, or a check by rule)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from wsprobe.output.text import finding_text
from wsprobe.scenario.events import CaseFinished, Event, RunFinished, RunStarted, Status

__all__ = ["JUnitReport"]


class JUnitReport:
    """Collects finished cases; writes ``path`` when the stream ends."""

    def __init__(self, path: Path, suite: str = "wsprobe") -> None:
        self.path = path
        self.suite = suite
        self.cases: list[CaseFinished] = []
        self.duration = 0.0
        self.target = ""

    def handle(self, event: Event) -> None:
        """Take one event."""
        if isinstance(event, RunStarted):
            self.target = event.target
            self.suite = f"wsprobe {event.tool}"
        elif isinstance(event, CaseFinished):
            self.cases.append(event)
        elif isinstance(event, RunFinished):
            self.duration = event.duration

    def close(self) -> None:
        """Write the XML document."""
        count = {s: sum(c.status is s for c in self.cases) for s in Status}
        suite = ET.Element("testsuite", {
            "name": self.suite, "tests": str(len(self.cases)),
            "failures": str(count[Status.FAILED]), "errors": str(count[Status.ERROR]),
            "skipped": str(count[Status.SKIPPED]), "time": f"{self.duration:.3f}"})
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "target", "value": self.target})
        for case in self.cases:
            ref = case.case
            elem = ET.SubElement(suite, "testcase", {
                "name": f"{ref.rule} {ref.name}" if ref.rule else ref.name,
                "classname": ref.source or self.suite, "time": f"{case.duration:.3f}"})
            details = "\n\n".join(finding_text(f) for f in case.findings)
            if case.status is Status.FAILED:
                first = next(f for f in case.findings if f.severity.value == "failure")
                failure = ET.SubElement(elem, "failure", {"message": first.title,
                                                          "type": first.code})
                failure.text = details
            elif case.status is Status.ERROR:
                error = ET.SubElement(elem, "error", {"message": case.error or "error"})
                error.text = details or case.error
            elif case.status is Status.SKIPPED:
                ET.SubElement(elem, "skipped", {"message": case.error or "skipped"})
            elif details:
                ET.SubElement(elem, "system-out").text = details
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suite).write(self.path, encoding="utf-8", xml_declaration=True)
