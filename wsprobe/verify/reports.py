"""``--report json,junit,ndjson`` for verify: the shared handlers of :mod:`wsprobe.output`, with
each check's level, rule in plain words and rerun command added to its entry."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path

from wsprobe.errors import InputError
from wsprobe.output import JsonReport, JUnitReport, NdjsonFrames
from wsprobe.scenario.events import CaseFinished, Event, EventHandler
from wsprobe.verify.registry import CheckSpec

__all__ = ["VerifyJUnit", "VerifyJson", "verify_report_handlers"]


class VerifyJson(JsonReport):
    """``verify.json``: the run, and per check its ``level``, ``rule_text`` and ``rerun``."""

    def __init__(self, path: Path, specs: Mapping[str, CheckSpec], rerun: Mapping[str, str]
                 ) -> None:
        super().__init__(path)
        self.specs = specs
        self.rerun = rerun

    def handle(self, event: Event) -> None:
        """Take one event."""
        super().handle(event)
        if isinstance(event, CaseFinished):
            spec = self.specs.get(event.case.name)
            entry = self.doc["cases"][-1]
            if spec is not None:
                entry |= {"level": spec.level.value, "rule_text": spec.text}
            entry["rerun"] = self.rerun.get(event.case.name)


class VerifyJUnit(JUnitReport):
    """``verify.junit.xml``: one test case per check; a failure's text ends with the rule in
    plain words and the command that reruns the check."""

    def __init__(self, path: Path, specs: Mapping[str, CheckSpec], rerun: Mapping[str, str]
                 ) -> None:
        super().__init__(path)
        self.specs = specs
        self.rerun = rerun

    def close(self) -> None:
        """Write the document, then add each check's rule and rerun command to it."""
        super().close()
        tree = ET.parse(self.path)
        by_title = {f"{s.rule} {s.name}": s for s in self.specs.values()}
        for elem in tree.getroot().iter("testcase"):
            spec = by_title.get(elem.get("name", ""))
            if spec is None:
                continue
            elem.set("classname", f"wsprobe.verify.{spec.rule}")
            for child in elem:
                if child.tag in {"failure", "error"}:
                    child.text = (f"{child.text or ''}\n\nrule: {spec.rule} {spec.level.value}: "
                                  f"{spec.text}\nrerun: {self.rerun.get(spec.name, '')}")
        tree.write(self.path, encoding="utf-8", xml_declaration=True)


def verify_report_handlers(kinds: Iterable[str], folder: Path, specs: Iterable[CheckSpec],
                           rerun: Mapping[str, str]) -> list[EventHandler]:
    """Handlers writing ``verify.json``, ``verify.junit.xml`` and ``verify.frames.ndjson``."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--output: {folder} exists and is not a folder")
    by_name: dict[str, CheckSpec] = {s.name: s for s in specs}
    made: dict[str, EventHandler] = {
        "json": VerifyJson(folder / "verify.json", by_name, rerun),
        "junit": VerifyJUnit(folder / "verify.junit.xml", by_name, rerun),
        "ndjson": NdjsonFrames(folder / "verify.frames.ndjson"),
    }
    return [made[k] for k in kinds]
