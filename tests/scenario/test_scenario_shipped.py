"""The shipped scenarios pass against the reference backend and catch a backend that breaks
the rule they are about."""

from __future__ import annotations

import pytest

from tests.scenario import hubs
from wsprobe.resources import bundled_scenarios_dir
from wsprobe.scenario import FindingCode, Status, load_scenario
from wsprobe.server import Hub

from .conftest import SCHEMAS, play_scenario

BROKEN = [
    ("lifecycle", hubs.DropChat, "receive-message"),
    ("presence", hubs.Ghosts, "get-users"),
    ("chat", hubs.WrongUser, "receive-message"),
    ("calls", hubs.NoChannel, "agora-signal"),
    ("away", hubs.NoStatusRelay, "user-status-update"),
    ("reconnect", hubs.Ghosts, "get-users"),
]


def test_every_shipped_scenario_is_covered() -> None:
    """Each scenario file in scenarios/ has a broken backend it is shown to catch."""
    shipped = sorted(p.stem for p in bundled_scenarios_dir().glob("*.yaml"))
    assert shipped == sorted(name for name, _, _ in BROKEN)


@pytest.mark.parametrize(("name", "hub", "mtype"), BROKEN, ids=[b[0] for b in BROKEN])
def test_shipped_scenario_catches_broken_backend(name: str, hub: type[Hub], mtype: str) -> None:
    """Against the reference backend it passes; against the broken one it fails on ``mtype``."""
    scenario = load_scenario(bundled_scenarios_dir() / f"{name}.yaml", schemas=SCHEMAS)
    assert play_scenario(scenario, Hub).status is Status.PASSED
    result = play_scenario(scenario, hub, step_timeout=0.3)
    assert result.status is Status.FAILED
    first = result.failures[0]
    assert first.code in {FindingCode.TIMEOUT, FindingCode.CAPTURE}
    assert mtype in first.title
