"""Derive the schemas/README.md table from the schema files (shared by the test and the docs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DIRECTIONS = ("client-to-server", "server-to-client")


def _fields(node: dict[str, Any]) -> list[str]:
    top = [f for f in node.get("required", []) if f != "type"]
    data = node.get("properties", {}).get("data", {})
    inner = [f"data.{f}" for f in data.get("required", [])] if isinstance(data, dict) else []
    if inner and "data" in top:
        top.remove("data")
    return top + inner


def required_fields(schema: dict[str, Any]) -> str:
    """Required fields of a message schema in the README's notation."""
    parts = [f"`{f}`" for f in _fields(schema)]
    if "anyOf" in schema:
        options = [" + ".join(f"`{f}`" for f in _fields(alt)) for alt in schema["anyOf"]]
        parts.append("one of " + " or ".join(options))
    data = schema.get("properties", {}).get("data", {})
    then = data.get("then", {}) if isinstance(data, dict) else {}
    if then.get("required"):
        cond = data["if"]["properties"]
        (key, value), = ((k, v["const"]) for k, v in cond.items())
        extra = ", ".join(f"`data.{f}`" for f in then["required"])
        parts.append(f"{extra} when `data.{key}` is `{value}`")
    return ", ".join(parts)


def table_rows(folder: Path) -> list[tuple[str, str, str]]:
    """(type, direction, required fields) for every message schema, sorted."""
    rows = []
    for direction in DIRECTIONS:
        for path in sorted((folder / direction).glob("*.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            rows.append((path.stem, direction, required_fields(schema)))
    return sorted(rows)


def render(folder: Path) -> str:
    """The Markdown table as it must appear in schemas/README.md."""
    lines = ["| type | direction | required fields |", "|---|---|---|"]
    lines += [f"| `{t}` | {d} | {r} |" for t, d, r in table_rows(folder)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(Path(__file__).resolve().parents[2] / "schemas"))
