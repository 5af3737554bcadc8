"""ARCHITECTURE.md's import rules, checked on the source: every import, lazy ones included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wsprobe"
LEAVES = {"errors", "resources", "targets"}

# package -> wsprobe packages it may import (besides itself and the leaf modules)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "server": {"core"},
    "scenario": {"core"},
    "output": {"scenario", "core"},
    "verify": {"scenario", "output", "core", "server"},
    "fuzz": {"scenario", "output", "core"},
    "load": {"core"},
    "capacity": {"load", "report", "core"},
    "report": set(),
}
HEAVY = {"locust": {"load"}, "gevent": {"load"}, "pandas": {"report"}, "matplotlib": {"report"}}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _sources(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    """Each package's wsprobe imports stay within its row of ARCHITECTURE.md."""
    allowed = ALLOWED[package] | LEAVES | {package}
    wrong = {
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _sources(package)
        for name in _imports(path)
        if name.startswith("wsprobe.") and name.split(".")[1] not in allowed
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("module", sorted(HEAVY))
def test_heavy_libraries_stay_at_their_edge(module: str) -> None:
    """locust and gevent only in load; pandas and matplotlib only in report."""
    users = {
        path.relative_to(PACKAGE).parts[0]
        for path in PACKAGE.rglob("*.py")
        if any(name == module or name.startswith(module + ".") for name in _imports(path))
    }
    assert users <= HEAVY[module], users
