"""The schema folder: in step with its README, overridable by users, broken files named clearly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.core.schema_table import render
from wsprobe.core import BASE_URI, Direction, SchemaLoadError, load_schemas
from wsprobe.resources import bundled_schemas_dir

SCHEMAS = bundled_schemas_dir()
C, S = Direction.CLIENT, Direction.SERVER


def test_readme_table_matches_schema_files() -> None:
    """schemas/README.md lists every type, direction and required field exactly as the files say."""
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    assert render(SCHEMAS) in readme, "regenerate with: python tests/core/schema_table.py"


@pytest.mark.parametrize("path", sorted(SCHEMAS.rglob("*.json")), ids=lambda p: p.name)
def test_each_file_is_a_2020_12_schema_with_its_own_id(path: Path) -> None:
    """Every file declares draft 2020-12 and an $id equal to its path under the base URI."""
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == BASE_URI + path.relative_to(SCHEMAS).as_posix()


def _write(folder: Path, rel: str, content: str | dict[str, object]) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_user_folder_adds_a_type(tmp_path: Path) -> None:
    """A new file in the user's folder adds a message type, reusing our defs through $ref."""
    _write(tmp_path, "server-to-client/typing.json", {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "required": ["data"],
        "properties": {"data": {"type": "object", "required": ["userId"],
                                "properties": {"userId": {"$ref": "../defs.json#/$defs/userId"}}}},
    })
    schemas = load_schemas(tmp_path)
    assert "typing" in schemas.types(S)
    assert schemas.check('{"type":"typing","data":{"userId":"a"}}', S, 0).ok
    (problem,) = schemas.check('{"type":"typing","data":{"userId":""}}', S, 0).problems
    assert (problem.pointer, problem.keyword) == ("/data/userId", "minLength")


def test_user_folder_overrides_ours(tmp_path: Path) -> None:
    """A file at the same path replaces ours: here a backend whose get-users sends objects only."""
    _write(tmp_path, "server-to-client/get-users.json", {
        "properties": {"data": {"type": "array", "items": {"type": "object"}}},
    })
    schemas = load_schemas(tmp_path)
    assert schemas.check('{"type":"get-users","data":[{"userId":"a"}]}', S, 0).ok
    assert not schemas.check('{"type":"get-users","data":["a"]}', S, 0).ok
    assert schemas.schema_path(S, "get-users") == tmp_path / "server-to-client/get-users.json"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"type": "object",\n  "required": ["a"],,}', r"not valid JSON: .* at line 2 column"),
        ('{"type": "strnig"}', r"not a valid draft 2020-12 schema at /type"),
        ('{"minLength": -1}', r"not a valid draft 2020-12 schema at /minLength"),
        ('{"$ref": "nowhere.json"}', r"\$ref 'nowhere.json' at /\$ref does not resolve"),
        ('{"$ref": "https://example.com/remote.json"}', r"does not resolve to a local schema"),
        ("[1]", r"must be an object or a boolean"),
    ],
    ids=["invalid-json", "bad-type-name", "negative-minLength", "dangling-ref", "remote-ref",
         "not-a-schema"],
)
def test_broken_schema_file_is_named_with_reason(tmp_path: Path, content: str, reason: str) -> None:
    """A broken file stops loading with its path and the reason; remote $refs are never fetched."""
    path = _write(tmp_path, "server-to-client/get-users.json", content)
    with pytest.raises(SchemaLoadError) as info:
        load_schemas(tmp_path)
    assert info.value.path == path
    assert re.search(reason, str(info.value)), str(info.value)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    """--schemas pointing nowhere is exit-2 input error naming the folder."""
    with pytest.raises(SchemaLoadError, match="is not a folder"):
        load_schemas(tmp_path / "nope")


def test_folder_without_message_schemas_is_an_input_error(tmp_path: Path) -> None:
    """A base folder with no message schemas at all is reported, not silently accepted."""
    _write(tmp_path, "defs.json", {"$defs": {}})
    with pytest.raises(SchemaLoadError, match="no message schemas found"):
        load_schemas(base=tmp_path)
