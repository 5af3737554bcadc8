"""Every check can fail: a server that breaks exactly its rule fails that check and no other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.verify import broken
from tests.verify.conftest import all_checks, neighbours, verify_hub
from wsprobe.scenario.events import Status
from wsprobe.server import Hub, HubFactory, ServerConfig
from wsprobe.verify import REGISTRY, Level
from wsprobe.verify.runner import _exit_code


@dataclass(frozen=True)
class Broken:
    """A server that breaks the rule of ``check``; ``full`` runs the whole suite against it."""

    check: str
    hub: HubFactory = Hub
    server: ServerConfig = field(default_factory=ServerConfig)
    options: dict[str, Any] = field(default_factory=dict)
    full: bool = False


TABLE = [
    pytest.param(Broken("registration-answer", broken.SilentToExtraSockets, full=True),
                 marks=pytest.mark.slow, id="P3-registration-answer"),
    Broken("user-list", broken.ListsEverySocket),
    Broken("multi-socket-online", broken.OneSocketIsTheUser),
    Broken("bad-registration", broken.RegistersAnything),
    Broken("status-relay", broken.StatusToFirstSocketOnly),
    Broken("status-impersonation", broken.StatusTrustsBody),
    Broken("offline-status", broken.NoOfflineStatus),
    Broken("message-delivery", broken.DeliversToOneSocket),
    Broken("message-sender", broken.SenderFromBody),
    Broken("message-order", broken.SwapsBursts),
    Broken("unregistered-send", broken.AnonymousMayWrite),
    Broken("offline-receiver", broken.NoReceiverOffline),
    Broken("receive-message-spelling", broken.Misspelled, full=True),
    Broken("signal-relay", broken.SignalDropsFields),
    Broken("signal-sender-fields", broken.SignalSenderInDataOnly),
    Broken("signal-impersonation", broken.SignalTrustsBody, full=True),
    Broken("call-request-incomplete", broken.RelaysIncompleteCalls),
    Broken("call-peer-disconnect", broken.ForgetsCalls),
    Broken("drop-mid-call", broken.FreezesAfterDroppedCall, full=True),
    Broken("bad-input-isolation", broken.ErrorsToEveryone),
    Broken("bad-input-answer", broken.DropsBadInputSilently),
    Broken("connection-burst", broken.StallsAfterTwenty),
    Broken("clean-close", broken.ClosesOnOffline),
    Broken("frames-valid", broken.ErrorsWithoutMessage, full=True),
    Broken("origin-allow-list", options={"allowed_origin": "https://app.example",
                                         "foreign_origin": "https://evil.example"}),
    Broken("token-required", options={"token": "s3cret"}, full=True),
    Broken("frame-size-limit", server=ServerConfig(max_size=8 * 1024 * 1024),
           options={"aggressive": True, "max_frame": 1024 * 1024}),
    Broken("rate-limit", server=ServerConfig(rate_limit=None), options={"aggressive": True}),
    Broken("server-pings", server=ServerConfig(ping_interval=None), options={"idle": 0.8}),
]
# ping-pong and coverage need a server other than a hub subclass: see test_verify_transport.py


def _case(entry: Any) -> Broken:
    return entry.values[0] if hasattr(entry, "values") else entry


def test_table_covers_every_check_but_two():
    """Every registered check has a broken server in the table (two have tests of their own)."""
    covered = {_case(b).check for b in TABLE} | {"ping-pong", "coverage"}
    assert covered == set(all_checks())


@pytest.mark.parametrize("case", TABLE, ids=[f"{REGISTRY.get(_case(b).check).rule}-"
                                             f"{_case(b).check}" for b in TABLE])
def test_broken_rule_is_named_alone(case: Broken):
    """Verify names exactly the broken check (a failure for MUST, a warning for SHOULD)."""
    spec = REGISTRY.get(case.check)
    options = dict(case.options)
    if not case.full:
        options["checks"] = neighbours(case.check)
    result = verify_hub(case.hub, case.server, **options)
    outcome = result.check(case.check)
    if spec.level is Level.SHOULD:
        assert _exit_code(result.checks, strict=True) == 1  # what --strict makes of it
    if spec.level is Level.MUST:
        assert result.failed == {case.check}, [(c.name, c.reason) for c in result.checks
                                               if c.status is not Status.PASSED]
        assert result.warned == frozenset()
        assert result.exit_code == 1
    else:
        assert result.warned == {case.check}, [(c.name, c.reason) for c in result.checks
                                               if c.status is not Status.PASSED]
        assert result.failed == frozenset()
        assert result.exit_code == 0
    assert outcome.findings and all(f.rule == spec.rule for f in outcome.findings)
    assert f"--check {case.check}" in outcome.rerun
    if case.full:
        ran = {c.name for c in result.checks if c.status is not Status.SKIPPED}
        stopped = [c.name for c in result.checks if c.server_stopped]
        assert len(ran) >= 25 or stopped == [case.check]


def test_strict_server_that_closes_on_bad_input_passes_everything():
    """Closing a misbehaving socket with 1008 is allowed: no check may call it a failure."""
    result = verify_hub(broken.ClosesOnBadInput)
    assert result.exit_code == 0, [(c.name, c.reason) for c in result.checks if c.reason
                                   and c.status is not Status.SKIPPED]
    assert result.warned == frozenset()
