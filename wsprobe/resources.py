"""Where the bundled ``schemas/`` and ``scenarios/`` live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_scenarios_dir", "bundled_schemas_dir"]

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # A wheel carries them inside the package (pyproject: force-include); a checkout or an
    # editable install has them at the repository root, one level above the package.
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"wsprobe's bundled {name}/ folder is missing (looked in {_PACKAGE})")


def bundled_schemas_dir() -> Path:
    """The folder of the protocol's JSON Schemas shipped with wsprobe."""
    return _find("schemas")


def bundled_scenarios_dir() -> Path:
    """The folder of the scenarios shipped with wsprobe."""
    return _find("scenarios")
