"""Options of a verify run: wss:// with a test CA, the registration form, --strict, selection."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import trustme

from tests.verify import broken
from tests.verify.conftest import verify_hub, verify_url
from wsprobe.core import Message
from wsprobe.errors import InputError
from wsprobe.server import Hub, ServerConfig, UserId, running
from wsprobe.verify import REGISTRY, Level, Registry, check, verify


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A test CA (trustme) and a certificate for 127.0.0.1 signed by it: (ca.pem, server.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(folder / "server.pem"))
    return folder / "ca.pem", folder / "server.pem"


@pytest.mark.parametrize(("options", "code"), [
    ({"cafile": "CA"}, 0),
    ({"insecure": True}, 0),
    ({}, 3),
], ids=["cafile", "insecure", "untrusted"])
def test_wss_with_a_test_ca(tls: tuple[Path, Path], options: dict[str, object], code: int):
    """wss://: trusted through --cafile, or unchecked with --insecure; else the handshake fails
    (exit 3) with the certificate named."""
    ca, pem = tls
    options = {k: (ca if v == "CA" else v) for k, v in options.items()}

    async def main() -> None:
        async with running(ServerConfig(port=0, certfile=pem)) as server:
            assert server.url.startswith("wss://")
            result, _ = await verify_url(server.url, checks=("P3", "T1", "X2"), token=None,
                                         **options)
        assert result.exit_code == code, (result.error, [c.reason for c in result.checks])
        if code == 3:
            assert result.error is not None and "certificate" in result.error.lower()
    asyncio.run(main())


class DataFormOnly(Hub):
    """Reads the id of new-user-add from data.userId only (breaks 'MUST accept top-level')."""

    def registered_id(self, message: Message) -> UserId | None:
        data = message.data
        value = data.get("userId") if isinstance(data, dict) else None
        return UserId(value) if isinstance(value, str) and value else None


def test_register_form_hint_and_option():
    """A server that only reads data.userId fails P3 with a hint; --register-form data then
    tests everything else."""
    top = verify_hub(DataFormOnly, checks=("registration-answer",))
    assert top.failed == {"registration-answer"}
    titles = [f.title for f in top.check("registration-answer").findings]
    assert any("--register-form data" in t for t in titles), titles
    data = verify_hub(DataFormOnly, register_form="data",
                      checks=("registration-answer", "user-list", "message-delivery"))
    assert data.exit_code == 0, [c.reason for c in data.checks]


def test_strict_turns_a_warning_into_exit_1():
    """A broken SHOULD rule is a warning (exit 0), and exit 1 under --strict."""
    lenient = verify_hub(broken.NoOfflineStatus, checks=("offline-status",))
    strict = verify_hub(broken.NoOfflineStatus, checks=("offline-status",), strict=True)
    assert (lenient.exit_code, strict.exit_code) == (0, 1)
    assert strict.warned == {"offline-status"}


def test_full_suite_against_the_reference_backend_is_clean():
    """The whole suite (X probes and T3 included) against wsprobe serve: exit 0, no warnings,
    nothing skipped. (Its speed is measured by benchmarks/bench_verify.py, not asserted here.)"""
    result = verify(None, token="s3cret", allowed_origin="https://a.example",
                    foreign_origin="https://b.example")
    assert result.exit_code == 0, [(c.name, c.reason) for c in result.checks if c.reason]
    assert result.warned == frozenset() and result.skipped == frozenset()


def _spec(name: str, rule: str, cost: int = 5, late: bool = False) -> Registry:
    registry = Registry()

    @check(name, rule=rule, text="t", cost=cost, late=late, registry=registry)
    async def body(ctx: object) -> None:
        """Nothing."""

    return registry


@pytest.mark.parametrize(("include", "skip", "expected"), [
    ((), (), ["registration-answer", "ping-pong", "clean-close", "message-delivery",
              "message-sender", "user-list"]),
    (("C*",), (), ["message-delivery", "message-sender"]),
    (("P*", "T1"), ("P1",), ["registration-answer", "ping-pong"]),
    (("message-*",), ("C2",), ["message-delivery"]),
], ids=["all", "rule-glob", "mixed", "name-glob"])
def test_selection_by_name_rule_and_glob(include: tuple[str, ...], skip: tuple[str, ...],
                                         expected: list[str]):
    """--check/--skip take names, rule ids and globs; the run order stays cheap-first."""
    registry = Registry()
    for spec in REGISTRY:
        if spec.name in {"registration-answer", "ping-pong", "clean-close", "message-delivery",
                         "message-sender", "user-list"}:
            registry.add(spec)
    assert [s.name for s in registry.select(include, skip)] == expected


def test_registry_orders_cheap_first_and_late_last():
    """Cheap checks run first, late ones (reading the whole run) last."""
    registry = Registry()
    for name, cost, late in (("late", 0, True), ("slow", 9, False), ("quick", 1, False)):
        for spec in _spec(name, "Z9", cost, late):
            registry.add(spec)
    assert [s.name for s in registry.ordered()] == ["quick", "slow", "late"]


def test_registering_two_checks_under_one_name_is_an_error():
    """A plug-in cannot silently replace a check."""
    registry = _spec("twice", "Z1")
    with pytest.raises(InputError, match="registered twice"):
        for spec in _spec("twice", "Z2"):
            registry.add(spec)


def test_every_check_has_rule_level_and_words():
    """Every registered check of wsprobe names a rule of protocol.md and says it in words."""
    rules = {s.rule for s in REGISTRY if s.origin.startswith("wsprobe.")}
    expected = {f"P{i}" for i in range(1, 7)} | {f"C{i}" for i in range(1, 7)} | {
        f"S{i}" for i in range(1, 5)} | {f"R{i}" for i in range(1, 4)} | {
        f"X{i}" for i in range(1, 4)} | {"T1", "T2", "T3", "F1", "F2"}
    assert rules == expected
    for spec in REGISTRY:
        assert spec.level in (Level.MUST, Level.SHOULD) and len(spec.text) > 30


def test_a_rate_limited_burst_makes_c3_inconclusive_not_failed():
    """A server whose rate limit cuts C3's burst short gets a warning, not a false failure."""
    result = verify_hub(server=ServerConfig(rate_limit=2.0), checks=("message-order",))
    assert result.failed == frozenset() and result.warned == {"message-order"}
    assert "could not be judged" in result.check("message-order").reason


def test_rerun_command_repeats_the_options_but_no_secret():
    """The rerun line keeps the run's options and seed, but never a token or Authorization."""
    from wsprobe.verify import VerifyConfig

    config = VerifyConfig(url="ws://h:1/ws/ws", given_url="ws://h:1/ws/ws", token="s3cret",
                          headers=(("Authorization", "Bearer abc"), ("X-Tenant", "t1")),
                          timeout=1.5, register_form="data", seed=9, aggressive=True)
    line = config.rerun("message-order")
    assert line.startswith("wsprobe verify ws://h:1/ws/ws --check message-order")
    for part in ("--timeout 1.5", "--register-form data", "--seed 9", "--aggressive",
                 "'X-Tenant: t1'", "'Authorization: ***'", '--token "$WSPROBE_TOKEN"'):
        assert part in line
    assert "s3cret" not in line and "abc" not in line
    assert config.shown == "ws://h:1/ws/ws?token=***"


def test_a_crashing_plugin_check_is_a_tool_error_not_a_finding():
    """A check that raises is reported as an error of the check (exit 2), others still run."""
    import dataclasses

    from tests.verify.conftest import config_for
    from wsprobe.verify import verify_async

    registry = Registry()

    @check("crashes", rule="Z7", text="t", registry=registry)
    async def crashes(ctx: object) -> None:
        """Raises."""
        raise KeyError("oops")

    async def main() -> None:
        async with running(ServerConfig(port=0)) as server:
            config = config_for(server.url)
            specs = [*registry, REGISTRY.get("ping-pong")]
            result = await verify_async(dataclasses.replace(config), specs=specs)
        assert result.exit_code == 2
        assert "the check itself crashed: KeyError" in (result.check("crashes").note or "")
        assert result.check("ping-pong").status.value == "passed"
    asyncio.run(main())
