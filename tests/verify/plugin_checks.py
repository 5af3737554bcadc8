"""A user's own check, loaded with ``--plugin tests.verify.plugin_checks``."""

from __future__ import annotations

from wsprobe.verify import CheckContext, Level, check, fields


@check("echo-status", rule="Z1", level=Level.SHOULD, cost=1, observes={"user-status-update"},
       text="a status with a custom lastSeen marker is relayed with the marker untouched")
async def echo_status(ctx: CheckContext) -> None:
    """alice sends a status with a marker; bob gets the marker back unchanged."""
    alice, bob = await ctx.users("alice", "bob")
    marker = ctx.marker("plugin")
    await alice.socket("s1").send({"type": "user-status-update",
                                   "data": {"userId": ctx.id("alice"), "status": "away",
                                            "lastSeen": marker}})
    await bob.expect("user-status-update", fields({"data.lastSeen": marker}))
