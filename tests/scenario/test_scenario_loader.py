"""Scenario files are checked before anything is sent; each mistake is one line naming its place."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from wsprobe.errors import InputError
from wsprobe.resources import bundled_scenarios_dir
from wsprobe.scenario import ScenarioError, load_scenario, parse_scenario
from wsprobe.scenario.model import Connect, Every, Expect, Parallel, Send

from .conftest import SCHEMAS

GOOD = """\
name: ok
vars: {alice: alice-1}
actors:
  alice: {sockets: [chat, status]}
  bob:
steps:
  - connect: alice
  - send: {actor: alice/chat, frame: {type: new-user-add, userId: "${alice}"}}
  - expect: {actor: alice, type: get-users, where: {data: {contains: "${alice}"}}, capture: {first: data.0}}
  - parallel:
      - connect: bob
      - [{wait: 10ms}, {send: {actor: alice, socket: status, raw: "${first}"}}]
  - every: {interval: heartbeat, times: 2, steps: [{wait: 1ms}]}
teardown:
  - close: alice
"""


def test_good_file_builds_steps() -> None:
    """A correct file becomes typed steps that remember where they were written."""
    scenario = parse_scenario(GOOD, "ok.yaml", schemas=SCHEMAS)
    kinds = [type(s) for s in scenario.steps]
    assert kinds == [Connect, Send, Expect, Parallel, Every]
    expect = scenario.steps[2]
    assert isinstance(expect, Expect)
    assert str(expect.loc) == "ok.yaml:9:5"
    assert expect.capture[0].name == "first"
    assert scenario.actors["alice"].sockets == ("chat", "status")
    assert scenario.actors["bob"].sockets == ("main",)


ERRORS = [
    ("syntax", "actors: {alice: {}\nsteps: []\n", r"t\.yaml:2:\d+: YAML syntax error"),
    ("unknown-top-key", "actors: {a: }\nstep: []\n",
     r"t\.yaml:2:1: unknown key 'step' in a scenario \(did you mean 'steps'\?\)"),
    ("unknown-step", "actors: {a: }\nsteps:\n  - conect: a\n",
     r"t\.yaml:3:5: unknown step 'conect' \(did you mean 'connect'\?\)"),
    ("unknown-actor", "actors: {alice: }\nsteps:\n  - connect: alise\n",
     r"t\.yaml:3:14: unknown actor 'alise' \(did you mean 'alice'\?\)"),
    ("unknown-socket", "actors: {a: {sockets: [chat]}}\nsteps:\n  - close: a/caht\n",
     r"t\.yaml:3:12: actor 'a' has no socket 'caht' \(did you mean 'chat'\?\)"),
    ("wrong-step-key", "actors: {a: }\nsteps:\n  - expect: {actor: a, type: get-users, timout: 1}\n",
     r"t\.yaml:3:41: unknown key 'timout' in expect \(did you mean 'timeout'\?\)"),
    ("bad-operator", "actors: {a: }\nsteps:\n  - expect: {actor: a, type: get-users, where: {data: {has: x}}}\n",
     r"t\.yaml:3:56: unknown key 'has' in the predicate on data"),
    ("bad-regex", "actors: {a: }\nsteps:\n  - expect: {actor: a, type: receive-message, where: {data.text: {matches: '(['}}}\n",
     r"t\.yaml:3:76: bad predicate on data\.text: bad regular expression"),
    ("missing-field", "actors: {a: }\nsteps:\n  - expect: {actor: a, type: receive-message, where: {data.reciverId: b}}\n",
     r"t\.yaml:3:55: receive-message has no field data\.reciverId: .*did you mean 'receiverId'"),
    ("unknown-type", "actors: {a: }\nsteps:\n  - expect: {actor: a, type: recieve-message}\n",
     r"t\.yaml:3:30: unknown server-to-client type 'recieve-message' \(did you mean 'receive-message'\?\)"),
    ("unknown-variable", "actors: {a: }\nsteps:\n  - send: {actor: a, frame: {type: x, userId: '${alise}'}}\n",
     r"t\.yaml:3:29: unknown variable \$\{alise\}"),
    ("duplicate-key", "actors: {a: }\nsteps:\n  - send: {actor: a, actor: a, raw: x}\n",
     r"t\.yaml:3:22: 'actor' appears twice in send"),
    ("every-without-times", "actors: {a: }\nsteps:\n  - every: {steps: [{wait: 1}]}\n",
     r"t\.yaml:3:12: every needs 'times'"),
    ("bad-duration", "actors: {a: }\nsteps:\n  - wait: soon\n",
     r"t\.yaml:3:11: not a duration: 'soon'"),
    ("send-both", "actors: {a: }\nsteps:\n  - send: {actor: a, raw: x, frame: {}}\n",
     r"t\.yaml:3:11: send needs exactly one of 'frame'"),
    ("no-steps", "actors: {a: }\n", r"t\.yaml:1:1: a scenario needs 'steps'"),
    ("empty", "", r"t\.yaml:1:1: the file is empty"),
]


@pytest.mark.parametrize(("text", "pattern"), [(t, p) for _, t, p in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_name_their_place(text: str, pattern: str) -> None:
    """Each mistake is one line, starting with file:line:column."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "t.yaml", schemas=SCHEMAS)
    message = str(info.value)
    assert "\n" not in message
    assert info.match(pattern)


def test_var_from_command_line_is_known() -> None:
    """A variable given with --var may be used without being declared in the file."""
    text = "actors: {a: }\nsteps:\n  - send: {actor: a, raw: '${token}'}\n"
    parse_scenario(text, "t.yaml", schemas=SCHEMAS, variables=["token"])


def test_absent_field_may_be_anything() -> None:
    """``present: false`` on an undeclared field is allowed (checking a server leaks nothing)."""
    text = ("actors: {a: }\nsteps:\n  - expect: {actor: a, type: receive-message, "
            "where: {data.password: {present: false}}}\n")
    parse_scenario(text, "t.yaml", schemas=SCHEMAS)


def test_missing_file(tmp_path: Path) -> None:
    """A file that does not exist is an input error naming it."""
    with pytest.raises(InputError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")


@pytest.mark.parametrize("path", sorted(bundled_scenarios_dir().glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_bundled_scenarios_load(path: Path) -> None:
    """Every shipped scenario passes the checks."""
    scenario = load_scenario(path, schemas=SCHEMAS)
    assert scenario.steps
    assert scenario.description


def test_error_in_nested_step_names_inner_place() -> None:
    """A mistake inside a parallel block points at the inner step."""
    text = textwrap.dedent("""\
        actors: {a: }
        steps:
          - parallel:
              - connect: a
              - [{wait: 1ms}, {drop: zed}]
        """)
    with pytest.raises(ScenarioError, match=r"t\.yaml:5:30: unknown actor 'zed'"):
        parse_scenario(text, "t.yaml", schemas=SCHEMAS)
