"""The pytest plugin: scenario files as test items, fixtures, and staying out of the way."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from tests.scenario import hubs
from wsprobe.server import BackgroundServer, ServerConfig

CHAT = textwrap.dedent("""\
    actors: {alice: {}, bob: {}}
    steps:
      - connect: alice
      - connect: bob
      - send: {actor: alice, frame: {type: new-user-add, userId: alice}}
      - send: {actor: bob, frame: {type: new-user-add, userId: bob}}
      - expect: {actor: alice, type: get-users, where: {data: {contains: bob}}}
      - send: {actor: alice, frame: {type: send-message, data: {receiverId: bob, text: hi, chatId: c}}}
      - expect: {actor: bob, type: receive-message, where: {data.text: hi}}
    """)


@pytest.fixture(scope="module")
def drop_chat() -> Iterator[str]:
    """A backend whose chat relay drops every message."""
    with BackgroundServer(ServerConfig(port=0), hubs.DropChat) as url:
        yield url


def test_scenario_files_are_collected_and_pass(pytester: pytest.Pytester) -> None:
    """scenario_*.yaml and *.wsprobe.yaml are items, played against the bundled backend."""
    pytester.makefile(".yaml", scenario_chat=CHAT)
    pytester.makefile(".wsprobe.yaml", lobby=CHAT)
    pytester.makefile(".yaml", notes="not: a scenario\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*lobby.wsprobe.yaml::lobby PASSED*",
                                 "*scenario_chat.yaml::scenario_chat PASSED*"])


def test_failing_scenario_shows_findings(pytester: pytest.Pytester, drop_chat: str) -> None:
    """Against --wsprobe-url of a broken backend the item fails with its findings as text."""
    pytester.makefile(".yaml", scenario_chat=CHAT)
    result = pytester.runpytest(f"--wsprobe-url={drop_chat}", "--wsprobe-step-timeout=0.3")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*scenario 'scenario_chat' failed*",
        "FAILURE: bob/main did not receive receive-message where data.text == \"hi\" within 0.3 s",
        "  at:       *scenario_chat.yaml:9:5",
    ])


def test_bad_scenario_file_is_one_line(pytester: pytest.Pytester) -> None:
    """A scenario file with a mistake fails with the one-line error naming the place."""
    pytester.makefile(".yaml", scenario_bad="actors: {a: }\nsteps:\n  - expct: {actor: a}\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["error: *scenario_bad.yaml:3:5: unknown step 'expct'*"])
    assert "Traceback" not in result.stdout.str()


def test_fixtures(pytester: pytest.Pytester) -> None:
    """wsprobe_server / wsprobe_url give a live URL; wsprobe_run returns a result."""
    pytester.makefile(".yaml", chat=CHAT)
    pytester.makepyfile(textwrap.dedent("""\
        def test_run(wsprobe_run, wsprobe_url, wsprobe_server):
            assert wsprobe_url == wsprobe_server and wsprobe_url.startswith("ws://127.0.0.1:")
            result = wsprobe_run("chat.yaml")
            assert result.passed and result.findings == ()
            assert any(f.type == "receive-message" for f in result.frames)
        """))
    pytester.runpytest().assert_outcomes(passed=1)


def test_plugin_imports_cheaply() -> None:
    """Loading the plugin (every pytest run does) imports no engine, server or websockets."""
    code = ("import sys, wsprobe.pytest_plugin; "
            "print(sorted(m for m in ('wsprobe.scenario', 'wsprobe.server', 'websockets', "
            "'yaml', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
