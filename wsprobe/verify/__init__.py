"""``wsprobe verify``: the protocol conformance suite, one registered check per rule.

- :func:`verify` / :func:`verify_async`: run the suite, get a :class:`VerifyResult`.
- :func:`check`: register a check of your own (``async def f(ctx: CheckContext)``), loaded with
  ``--plugin MODULE`` or through the ``wsprobe.checks`` entry point group.
- :data:`REGISTRY`: every known check; ``REGISTRY.select(include, skip)`` takes names, rule ids
  and globs.

A check of your own, in ``mychecks.py`` (run it with ``wsprobe verify URL --plugin mychecks``,
or ship it with ``[project.entry-points."wsprobe.checks"] mine = "mychecks"``)::

    from wsprobe.verify import CheckContext, Level, check, fields

    @check("typing-relay", rule="Z1", level=Level.SHOULD,
           text="a typing indicator reaches the other party")
    async def typing_relay(ctx: CheckContext) -> None:
        alice, bob = await ctx.users("alice", "bob")      # connected and registered
        await alice.socket("s1").send({"type": "typing", "data": {"to": ctx.id("bob")}})
        await bob.expect("typing", fields({"data.from": ctx.id("alice")}))

A failed expectation is a finding with its evidence (the frames), reported under your rule; use
``ctx.fail(...)``/``ctx.finding(...)`` for verdicts of your own. ``ctx.id(name)`` gives ids that
no other check uses; ``ctx.session`` is the full :class:`wsprobe.scenario.Session`.
"""

from wsprobe.verify import checks as _checks  # noqa: F401  # registers our checks
from wsprobe.verify.api import select_checks, verify, verify_async
from wsprobe.verify.config import RegisterForm, VerifyConfig
from wsprobe.verify.context import DELIVERY, CheckContext, Either, TypeIs, UsersListed, fields
from wsprobe.verify.registry import (
    ENTRY_POINT_GROUP,
    REGISTRY,
    CheckName,
    CheckSpec,
    Level,
    Needs,
    Registry,
    check,
    load_plugins,
)
from wsprobe.verify.result import CheckResult, VerifyResult

__all__ = [
    "DELIVERY",
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "CheckContext",
    "CheckName",
    "CheckResult",
    "CheckSpec",
    "Either",
    "Level",
    "Needs",
    "RegisterForm",
    "Registry",
    "TypeIs",
    "UsersListed",
    "VerifyConfig",
    "VerifyResult",
    "check",
    "fields",
    "load_plugins",
    "select_checks",
    "verify",
    "verify_async",
]
