"""Reading the files a run wrote, with errors that name the file (and line) that is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from wsprobe.errors import InputError

__all__ = ["read_csv", "read_json", "require_dir"]


def require_dir(path: Path) -> Path:
    """``path`` as a run folder, or an :class:`InputError` saying what is wrong with it."""
    if not path.exists():
        raise InputError(f"{path}: no such run folder")
    if not path.is_dir():
        raise InputError(f"{path}: not a folder (give the folder a run wrote, not a file in it)")
    return path


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; a clear error for a missing, unreadable or malformed file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


def read_csv(path: Path, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV file as a frame; ``required`` columns must be present (the error names the file)."""
    try:
        frame = pd.read_csv(path, low_memory=False)
    except FileNotFoundError:
        raise InputError(f"{path}: missing") from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=list(required))
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} "
                         f"(found: {', '.join(map(str, frame.columns)) or 'none'})")
    return frame
