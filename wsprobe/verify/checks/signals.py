"""Call signalling: S1 to S4 of protocol.md section 5."""

from __future__ import annotations

import json
from typing import Any

from wsprobe.scenario.frames import FrameRecord
from wsprobe.verify.context import CheckContext, UsersListed, data_of, fields
from wsprobe.verify.registry import Level, check

__all__: list[str] = []


def _signal(ctx: CheckContext, to: str, action: str, **data: Any) -> dict[str, Any]:
    return {"type": "agora-signal", "data": {"action": action, "targetId": ctx.id(to), **data}}


def _call_request(ctx: CheckContext, to: str, channel: str) -> dict[str, Any]:
    return _signal(ctx, to, "call-request", channel=channel, callType="video",
                   timestamp=1764115200000, sdp=f"v=0 o=- {channel}",
                   extra={"nested": [1, 2, {"k": "v"}]})


def _senders(frame: FrameRecord) -> tuple[Any, Any]:
    envelope = frame.envelope or {}
    data = envelope.get("data")
    return envelope.get("userId"), data.get("senderId") if isinstance(data, dict) else None


@check("signal-relay", rule="S1", cost=2, observes={"agora-signal"},
       text="an agora-signal reaches every open socket of targetId and no one else, with data "
            "unchanged and the sender's registered id in top-level userId or data.senderId")
async def signal_relay(ctx: CheckContext) -> None:
    """alice calls bob (2 sockets) with extra fields; carol and alice hear nothing."""
    alice, bob, carol = await ctx.users("alice", "bob", "carol", sockets=(1, 2, 1))
    channel = ctx.marker("chan")
    sent = _call_request(ctx, "bob", channel)
    await alice.socket("s1").send(sent)
    got = await bob.expect("agora-signal", {"data.channel": channel},
                           title="a socket of the call's target did not get the signal")
    me = ctx.id("alice")
    for frames in got.values():
        frame = frames[0]
        data = dict(data_of(frame))
        sender = data.pop("senderId", None)
        if data != sent["data"]:
            changed = sorted(k for k in {*data, *sent["data"]}
                             if data.get(k, "<absent>") != sent["data"].get(k, "<absent>"))
            raise ctx.fail(f"the relayed signal's data was changed ({', '.join(changed)})",
                           expected=json.dumps(sent["data"]), actual=json.dumps(data),
                           frames=(frame,))
        top, _ = _senders(frame)
        if me not in (top, sender):
            raise ctx.fail("the relayed signal does not name its sender: neither top-level "
                           f"userId nor data.senderId is {me!r}",
                           expected=f"userId or data.senderId == {me!r}",
                           actual=f"userId {top!r}, data.senderId {sender!r}", frames=(frame,))
    await ctx.session.expect_none(ctx.sockets(alice, carol), "agora-signal",
                                  {"data.channel": channel}, within=ctx.quiet,
                                  title="the signal reached a user it was not for")


@check("signal-sender-fields", rule="S1", level=Level.SHOULD, cost=2, observes={"agora-signal"},
       text="a relayed agora-signal names its sender both in top-level userId and in "
            "data.senderId")
async def signal_sender_fields(ctx: CheckContext) -> None:
    """alice calls bob; the relay should carry alice's id in both places."""
    alice, bob = await ctx.users("alice", "bob")
    channel = ctx.marker("chan")
    await alice.socket("s1").send(_call_request(ctx, "bob", channel))
    frame = await bob.socket("s1").receive("agora-signal", {"data.channel": channel},
                                           timeout=ctx.timeout)
    if frame is None:
        return  # not relayed at all: signal-relay reports it
    me = ctx.id("alice")
    top, sender = _senders(frame)
    if (top == me) != (sender == me):
        where, missing = ("userId", "data.senderId") if top == me else ("data.senderId",
                                                                        "userId")
        raise ctx.fail(f"the relayed signal names its sender only in {where}, not in {missing}",
                       expected=f"userId and data.senderId == {me!r}",
                       actual=f"userId {top!r}, data.senderId {sender!r}", frames=(frame,))


@check("signal-impersonation", rule="S1", cost=2, observes={"agora-signal"},
       text="a relayed agora-signal carries the sender's registered id, never another user's "
            "id claimed in the body (top-level userId or data.senderId)")
async def signal_impersonation(ctx: CheckContext) -> None:
    """alice signals bob while claiming to be carol, in both places."""
    alice, bob, _carol = await ctx.users("alice", "bob", "carol")
    channel, victim, me = ctx.marker("chan"), ctx.id("carol"), ctx.id("alice")
    forged = _call_request(ctx, "bob", channel)
    forged["userId"] = victim
    forged["data"]["senderId"] = victim
    await alice.socket("s1").send(forged)
    frame = await bob.socket("s1").receive("agora-signal", {"data.channel": channel},
                                           timeout=ctx.timeout)
    if frame is None:
        return  # rejected or not relayed: both are allowed
    top, sender = _senders(frame)
    claimed = [name for name, value in (("userId", top), ("data.senderId", sender))
               if value is not None and value != me]
    if claimed:
        raise ctx.fail(f"alice posed as carol: the relayed signal carries {claimed[0]} "
                       f"{victim!r} taken from the body", expected=f"sender ids == {me!r}",
                       actual=f"userId {top!r}, data.senderId {sender!r}", frames=(frame,))


@check("call-request-incomplete", rule="S2", cost=2, observes={"agora-signal"},
       text="a call-request without channel or without callType is not relayed")
async def call_request_incomplete(ctx: CheckContext) -> None:
    """alice sends bob a call-request without channel, then one without callType."""
    alice, bob = await ctx.users("alice", "bob")
    tags = (ctx.marker("nochan"), ctx.marker("notype"))
    out = alice.socket("s1")
    ctx.session.lenient = True  # closing the socket of a client that sent bad input is allowed
    out.close_reported = True
    await out.send(_signal(ctx, "bob", "call-request", callType="video", probe=tags[0]),
                   check=False)
    await out.send(_signal(ctx, "bob", "call-request", channel=tags[1], probe=tags[1]),
                   check=False)
    await bob.expect_none("agora-signal", {"data.probe": {"in": list(tags)}}, within=ctx.quiet,
                          title="an incomplete call-request was relayed")


async def _accepted_call(ctx: CheckContext, caller: Any, callee: Any, channel: str) -> None:
    await caller.socket("s1").send(_call_request(ctx, callee.name, channel))
    await callee.expect("agora-signal", {"data.action": "call-request", "data.channel": channel},
                        mode="any")
    await callee.socket("s1").send(_signal(ctx, caller.name, "call-accepted", channel=channel))
    await caller.expect("agora-signal", {"data.action": "call-accepted",
                                         "data.channel": channel}, mode="any")


@check("call-peer-disconnect", rule="S3", level=Level.SHOULD, cost=3,
       observes={"agora-signal"},
       text="if a party of an accepted call disconnects before call-ended, the other party gets "
            "agora-signal call-ended with reason peer-disconnected")
async def call_peer_disconnect(ctx: CheckContext) -> None:
    """alice and bob (2 sockets) are in a call; alice's connection is cut."""
    alice, bob = await ctx.users("alice", "bob", sockets=(1, 2))
    await _accepted_call(ctx, alice, bob, ctx.marker("call"))
    await alice.drop()
    await bob.expect("agora-signal", {"data.action": "call-ended",
                                      "data.reason": "peer-disconnected"},
                     title="bob's call partner vanished and bob was not told call-ended "
                           "(peer-disconnected)")


@check("drop-mid-call", rule="S4", cost=7, observes={"agora-signal", "receive-message"},
       text="the server keeps serving everyone after any party drops mid-call")
async def drop_mid_call(ctx: CheckContext) -> None:
    """alice drops in the middle of a call with bob; bob, carol and a newcomer carry on."""
    alice, bob, carol = await ctx.users("alice", "bob", "carol", sockets=(2, 1, 1))
    await _accepted_call(ctx, alice, bob, ctx.marker("call"))
    await alice.drop()
    text = ctx.marker("after")
    await bob.socket("s1").send({"type": "send-message",
                                 "data": {"receiverId": ctx.id("carol"), "text": text,
                                          "chatId": ctx.marker("chat")}})
    await carol.expect(None, fields({"data.text": text}),
                       title="after alice dropped mid-call, bob's message to carol was lost")
    channel = ctx.marker("chan")
    await carol.socket("s1").send(_call_request(ctx, "bob", channel))
    await bob.expect("agora-signal", {"data.channel": channel},
                     title="after alice dropped mid-call, carol could not call bob")
    dave = await ctx.connect("dave")
    await dave.send(ctx.registration(ctx.id("dave")))
    await dave.expect("get-users", [UsersListed((ctx.id("dave"),))],
                      title="after alice dropped mid-call, a new user could not register")
