"""``wsprobe load`` refuses bad input before starting anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wsprobe.cli import main


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["ws://10.1.2.3:80/ws/ws"], 2, "--allow-remote"),
        (["ws://example.com/ws/ws"], 2, "not a loopback address"),
        (["http://127.0.0.1/"], 2, "ws:// or wss://"),
        (["--slo", "status.p99<fast"], 2, "expected KIND.METRIC"),
        (["--master", "--worker"], 2, "exclude each other"),
        (["ws://127.0.0.1:9/ws/ws"], 3, "127.0.0.1:9"),
    ],
    ids=["private-address", "public-host", "not-websocket", "bad-slo", "master-and-worker",
         "target-refuses"],
)
def test_refusals(args: list[str], code: int, words: str, tmp_path: Path,
                  capsys: pytest.CaptureFixture[str]) -> None:
    """Non-loopback targets, bad options and an unreachable target exit early and clearly."""
    with pytest.raises(SystemExit) as info:
        main(["load", *args, "--headless", "-o", str(tmp_path / "out")])
    assert info.value.code == code
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_profile_error_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad profile is reported with file and line, exit 2."""
    profile = tmp_path / "p.yaml"
    profile.write_text("users: 3\nkinds:\n  - name: x\n    calls-per-minute: lots\n",
                       encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["load", "ws://127.0.0.1:9/ws/ws", "--profile", str(profile)])
    assert info.value.code == 2
    assert "p.yaml:4 kinds[0].calls-per-minute" in capsys.readouterr().err


def test_cli_process_never_imports_locust_or_gevent() -> None:
    """Building a run in the CLI process leaves locust and gevent to the processes it starts."""
    code = ("import sys, wsprobe.cli.load, wsprobe.load, wsprobe.load.launcher, "
            "wsprobe.load.aggregate, wsprobe.load.summary; "
            "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"
