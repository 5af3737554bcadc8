"""Presence: P1 to P6 of protocol.md section 5 (who is online, and who hears about it)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from wsprobe.core import Direction
from wsprobe.scenario.frames import FrameRecord
from wsprobe.verify.context import CheckContext, UsersListed, fields, user_ids
from wsprobe.verify.registry import Level, check

__all__: list[str] = []


@check("registration-answer", rule="P3", cost=1, observes={"get-users"},
       text="each socket receives a get-users right after its own new-user-add, also the 2nd "
            "and 3rd socket of a user who is already online")
async def registration_answer(ctx: CheckContext) -> None:
    """Register four sockets (three of one user) and wait for each one's own get-users."""
    missed: list[str] = []
    evidence: list[FrameRecord] = []
    for actor, name, which in (("alice", "s1", "first"), ("alice", "s2", "2nd"),
                               ("alice", "s3", "3rd"), ("bob", "s1", "first")):
        sock = await ctx.connect(actor, name)
        user = ctx.id(actor)
        sent = await sock.send(ctx.registration(user))
        # after one miss the others get a short wait: one time-out is proof enough
        got = await sock.receive("get-users", [UsersListed((user,))],
                                 timeout=ctx.quiet if missed else ctx.timeout)
        if got is None:
            ctx.run.registration_misses += 1  # later checks then wait briefly for their own
            missed.append(f"{sock.label} ({which} socket of its user)")
            evidence.extend([*([sent] if sent else []), *sock.inbox[-2:]])
            if name == "s1" and actor == "alice":
                await _hint_other_form(ctx)
                return
    if missed:
        raise ctx.fail(f"{', '.join(missed)} got no get-users after its own new-user-add",
                       expected="a get-users naming the user, right after each new-user-add",
                       actual=f"nothing within {ctx.timeout:g} s on {len(missed)} of 4 sockets",
                       frames=evidence)


async def _hint_other_form(ctx: CheckContext) -> None:
    """The server ignored our form of new-user-add: does it answer the other one?"""
    ctx.finding("the first socket got no get-users after its new-user-add",
                expected="a get-users naming the user", actual=f"nothing within "
                                                               f"{ctx.timeout:g} s",
                frames=ctx.session.frames[-1:])
    other = "data" if ctx.config.register_form == "top" else "top"
    sock = await ctx.connect("alice-other-form")
    user = ctx.id("alice-other-form")
    await sock.send(ctx.registration(user, form=other))
    got = await sock.receive("get-users", [UsersListed((user,))], timeout=ctx.timeout)
    if got is not None:
        must = ("a server MUST accept the top-level form" if other == "data" else
                "this server only takes the top-level form")
        ctx.finding(f"the server answers new-user-add only with {other}.userId "
                    f"({must}; to test the rest, run with --register-form {other})"
                    if other == "data" else
                    f"the server answers new-user-add only with a top-level userId (run with "
                    f"--register-form {other})",
                    expected=f"get-users after new-user-add in the {ctx.config.register_form} "
                             "form", actual=f"get-users only after the {other} form",
                    frames=(got,), sock=sock)


def _list_problems(ids: list[Any]) -> list[str]:
    problems = []
    twice = sorted(str(i) for i, n in Counter(json.dumps(i) for i in ids).items() if n > 1)
    if twice:
        problems.append(f"listed more than once: {', '.join(twice)}")
    bad = [i for i in ids if not isinstance(i, str) or not i]
    if bad:
        problems.append(f"empty or non-string ids: {json.dumps(bad)}")
    return problems


@check("user-list", rule="P1", cost=2, observes={"get-users"},
       text="get-users lists every online user exactly once, with no empty or missing ids and "
            "no user that has no open socket (no ghosts), within the time limit after any change")
async def user_list(ctx: CheckContext) -> None:
    """alice (2 sockets) and bob online; carol joins, then bob leaves: check every list."""
    alice, bob = await ctx.users("alice", "bob", sockets=(2, 1))
    everyone = ctx.sockets(alice, bob)
    carol_sock = await ctx.connect("carol")
    ids = (ctx.id("alice"), ctx.id("bob"), ctx.id("carol"))
    await carol_sock.send(ctx.registration(ids[2]))
    await ctx.session.expect([*everyone, carol_sock], "get-users", [UsersListed(ids)],
                             title="a registered socket was not sent the new list when carol "
                                   "came online")
    await bob.close()
    rest = [*alice.open_sockets(), carol_sock]
    await ctx.session.expect(rest, "get-users", [UsersListed((ids[1],), present=False)],
                             title="bob left but the user list still names him (a ghost)")
    for frame in ctx.session.frames:
        if frame.direction is Direction.SERVER and frame.type == "get-users":
            for problem in _list_problems(user_ids((frame.envelope or {}).get("data"))):
                raise ctx.fail(f"a get-users list is wrong: {problem}",
                               expected="every online user exactly once, as non-empty strings",
                               actual=problem, frames=(frame,))


@check("multi-socket-online", rule="P2", cost=2, observes={"get-users"},
       text="a user stays online while any of its sockets is open: closing (or losing) one of "
            "several sockets does not remove the user")
async def multi_socket_online(ctx: CheckContext) -> None:
    """alice has 3 sockets; closing one and dropping another must not take her offline."""
    alice, bob = await ctx.users("alice", "bob", sockets=(3, 1))
    alice_id = ctx.id("alice")
    gone = [UsersListed((alice_id,), present=False)]
    await alice.socket("s1").close()
    await alice.socket("s2").drop()
    await bob.expect_none("get-users", gone, within=ctx.quiet,
                          title="alice closed 1 of 3 sockets and the server dropped her from "
                                "the user list")
    await bob.expect_none("user-status-update", {"data.userId": alice_id,
                                                 "data.status": "offline"}, within=0.01,
                          title="alice closed 1 of 3 sockets and the server announced her "
                                "offline")
    carol = await ctx.connect("carol")
    await carol.send(ctx.registration(ctx.id("carol")))
    await carol.expect("get-users", [UsersListed((ctx.id("carol"), alice_id))],
                       title="a newcomer's user list does not name alice, who still has an "
                             "open socket")


_BAD_IDS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("empty userId", {"type": "new-user-add", "userId": ""}),
    ("no id at all", {"type": "new-user-add"}),
    ("a number as userId", {"type": "new-user-add", "userId": 4242}),
    ("empty data.userId", {"type": "new-user-add", "data": {"userId": ""}}),
    ("null userId", {"type": "new-user-add", "userId": None}),
)


@dataclass(frozen=True, slots=True)
class _ListsBadId:
    """A get-users that lists an id no valid registration could have made."""

    def test(self, envelope: Any) -> bool:
        ids = user_ids(envelope.get("data") if isinstance(envelope, dict) else None)
        return any(i in ("", None, 4242, "4242", "None", "null", "undefined")
                   or not isinstance(i, str) for i in ids)

    def describe(self) -> str:
        return 'data lists "", null, 4242 or a non-string id'

    def explain(self, envelope: Any) -> str:
        return f"data is {json.dumps(envelope.get('data'))[:200]}"


@check("bad-registration", rule="P4", cost=2, observes={"get-users"},
       text="a new-user-add with an empty, missing or non-string id registers nothing")
async def bad_registration(ctx: CheckContext) -> None:
    """Five malformed new-user-add frames; nobody may see a user list naming such an id."""
    bob = await ctx.user("bob")
    socks = [await ctx.connect("mallory", f"s{i}") for i in range(1, len(_BAD_IDS) + 1)]
    for sock, (_, frame) in zip(socks, _BAD_IDS, strict=True):
        await sock.send(frame, check=False)
    await ctx.session.expect_none([*socks, *ctx.sockets(bob)], "get-users", [_ListsBadId()],
                                  within=ctx.quiet,
                                  title="a malformed new-user-add registered a user")
    for sock in socks:  # closing a socket that sent garbage is allowed (R2)
        sock.close_reported = True


@check("status-relay", rule="P5", cost=2, observes={"user-status-update"},
       text="a user-status-update is relayed to the sockets of every other online user, "
            "carrying the id the sender registered with (every heartbeat, not only the first)")
async def status_relay(ctx: CheckContext) -> None:
    """alice (2 sockets) goes away, then beats 'online' three times; bob (2) and carol hear
    every one of them on every socket."""
    alice, bob, carol = await ctx.users("alice", "bob", "carol", sockets=(2, 2, 1))
    me = ctx.id("alice")
    others = ctx.sockets(bob, carol)
    away = ctx.marker("away")
    await alice.socket("s1").send({"type": "user-status-update",
                                   "data": {"userId": me, "status": "away", "lastSeen": away}})
    await ctx.session.expect(others, "user-status-update",
                             {"data.userId": me, "data.status": "away"},
                             title="alice's status 'away' was not relayed to every socket of "
                                   "every other online user")
    beats = [ctx.marker("beat") for _ in range(3)]
    for i, beat in enumerate(beats):
        if i:
            await asyncio.sleep(ctx.config.heartbeat)  # the real client's 30 s, compressed
        await alice.socket("s2").send({"type": "user-status-update",
                                       "data": {"userId": me, "status": "online",
                                                "lastSeen": beat}})
    await ctx.session.expect(others, "user-status-update",
                             {"data.userId": me, "data.status": "online"}, count=3,
                             title="not every 'online' heartbeat of alice was relayed to every "
                                   "other socket")


@check("status-impersonation", rule="P5", cost=2, observes={"user-status-update"},
       text="a relayed user-status-update carries the id the sender registered with, never "
            "another user's id claimed in the body")
async def status_impersonation(ctx: CheckContext) -> None:
    """alice sends a status that claims to be bob's; nobody may hear bob go away."""
    alice, _bob, carol = await ctx.users("alice", "bob", "carol")
    victim = ctx.id("bob")
    await alice.socket("s1").send({"type": "user-status-update",
                                   "data": {"userId": victim, "status": "away",
                                            "lastSeen": ctx.marker()}})
    await ctx.session.expect_none(
        ctx.sockets(carol, _bob), "user-status-update", {"data.userId": victim},
        within=ctx.quiet, title="alice set bob's status: the server relayed the id claimed in "
                                "the body instead of the id alice registered with")


@check("offline-status", rule="P6", level=Level.SHOULD, cost=2,
       observes={"user-status-update"},
       text="when a user's last socket closes, the others get user-status-update 'offline'")
async def offline_status(ctx: CheckContext) -> None:
    """alice closes both her sockets; bob hears that she went offline."""
    alice, bob = await ctx.users("alice", "bob", sockets=(2, 1))
    await alice.close()
    await bob.expect("user-status-update", fields({"data.userId": ctx.id("alice"),
                                                   "data.status": "offline"}),
                     title="alice closed her last socket and bob was not told she is offline")
