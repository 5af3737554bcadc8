"""docs/protocol.md is the contract every check cites: its rule tables and `verify --list` agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wsprobe.verify import REGISTRY, Level

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
ROW = re.compile(r"^\|\s*([A-Z]\d)\s*\|\s*(MUST|SHOULD)\s*\|(.*)\|\s*$")


def _rules() -> dict[str, tuple[Level, str]]:
    rules: dict[str, tuple[Level, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rule, level, text = match.groups()
            assert rule not in rules, f"{rule} has two rows in docs/protocol.md"
            rules[rule] = (Level(level), text)
    return rules


def test_doc_has_every_rule_of_every_section():
    """The doc states P1-P6, C1-C6, S1-S4, R1-R3, X1-X3 and wsprobe's T1-T3, F1-F2."""
    expected = ({f"P{i}" for i in range(1, 7)} | {f"C{i}" for i in range(1, 7)}
                | {f"S{i}" for i in range(1, 5)} | {f"R{i}" for i in range(1, 4)}
                | {f"X{i}" for i in range(1, 4)} | {"T1", "T2", "T3", "F1", "F2"})
    assert set(_rules()) == expected


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda s: f"{s.rule}-{s.name}")
def test_every_check_cites_a_rule_of_the_doc_at_its_level(spec):
    """A check's rule id is in the doc; a MUST check tests a MUST rule, a SHOULD check a SHOULD
    rule or the SHOULD clause of a MUST rule (S1's "SHOULD in both places")."""
    rules = _rules()
    assert spec.rule in rules, f"{spec.name} cites {spec.rule}, which docs/protocol.md lacks"
    level, text = rules[spec.rule]
    if spec.level is Level.MUST:
        assert level is Level.MUST
    else:
        assert level is Level.SHOULD or "SHOULD" in text


def test_every_rule_of_the_doc_has_a_check():
    """No rule of the doc goes unchecked by `wsprobe verify`."""
    assert set(_rules()) <= {spec.rule for spec in REGISTRY}


def test_readme_and_schema_readme_link_the_doc():
    """The README and schemas/README.md point at the copy in the repository, not outside it."""
    root = DOC.parents[1]
    assert "docs/protocol.md" in (root / "README.md").read_text(encoding="utf-8")
    schemas = (root / "schemas" / "README.md").read_text(encoding="utf-8")
    assert "../docs/protocol.md" in schemas
    assert "shared/protocol.md" not in schemas
