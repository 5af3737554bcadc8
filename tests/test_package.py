"""The package as users meet it: console script, imports kept at the edge, a wheel that carries its data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import wsprobe
from wsprobe.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def test_core_imports_nothing_heavy() -> None:
    """Importing the core pulls in none of locust, gevent, click, pandas or rich (style.md 7)."""
    code = (
        "import sys, wsprobe.core, wsprobe.errors, wsprobe.resources; "
        "print(sorted(m for m in ('locust', 'gevent', 'click', 'pandas', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_imports_no_locust_or_pandas() -> None:
    """`wsprobe --help` lists every command without importing locust (gevent patching) or pandas."""
    code = (
        "import sys; from wsprobe.cli import cli; import click; "
        "ctx = click.Context(cli); names = cli.list_commands(ctx); "
        "print(sorted(m for m in ('locust', 'gevent', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_and_module_entry_point() -> None:
    """`python -m wsprobe --version` prints the package version."""
    out = subprocess.run([sys.executable, "-m", "wsprobe", "--version"],
                         capture_output=True, text=True, check=True)
    assert wsprobe.__version__ in out.stdout


def test_unknown_command_is_usage_error() -> None:
    """A mistyped subcommand is a usage error (exit 2) that names it."""
    result = CliRunner().invoke(cli, ["verfiy"])
    assert result.exit_code == 2
    assert "verfiy" in result.output


@pytest.mark.slow
def test_wheel_carries_schemas_and_scenarios(tmp_path: Path) -> None:
    """A built wheel, unpacked away from the checkout, finds its bundled schemas and scenarios."""
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                   cwd=ROOT, check=True, capture_output=True)
    (wheel,) = tmp_path.glob("wsprobe-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "wsprobe/_data/schemas/client-to-server/new-user-add.json" in names
    assert any(n.startswith("wsprobe/_data/scenarios/") for n in names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import wsprobe.resources as r, wsprobe.core as c; "
        "print(r.bundled_schemas_dir()); print(len(c.load_schemas().types(c.Direction.SERVER)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(site), "PATH": "/usr/bin"})
    schemas_dir, count = out.stdout.split()
    assert Path(schemas_dir) == site / "wsprobe" / "_data" / "schemas"
    assert int(count) >= 5
