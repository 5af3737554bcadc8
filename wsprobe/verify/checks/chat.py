"""Chat: C1 to C6 of protocol.md section 5 (who gets a message, from whom, in which order).

Deliveries are awaited as ``receive-message`` *or* ``recieve-message``: the misspelling is C6's
finding alone, so a server that only misspells the type fails C6 and nothing else.
"""

from __future__ import annotations

from typing import Any

from wsprobe.scenario.findings import Severity
from wsprobe.scenario.matching import Matcher
from wsprobe.scenario.session import Socket
from wsprobe.verify.context import DELIVERY, CheckContext, Either, data_of, fields
from wsprobe.verify.registry import Level, check

__all__: list[str] = []


def _message(ctx: CheckContext, to: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "send-message",
            "data": {"receiverId": ctx.id(to), "text": text, "chatId": f"{ctx.prefix}-chat",
                     **extra}}


@check("message-delivery", rule="C1", cost=2, observes={"receive-message"},
       text="a send-message is delivered as receive-message to every open socket of "
            "receiverId, exactly once per socket, and to no other user (no cross-talk)")
async def message_delivery(ctx: CheckContext) -> None:
    """alice writes to bob (3 sockets); carol and alice's other socket listen for cross-talk."""
    alice, bob, carol = await ctx.users("alice", "bob", "carol", sockets=(2, 3, 1))
    text = ctx.marker("hello")
    await alice.socket("s1").send(_message(ctx, "bob", text))
    mine = fields({"data.text": text}, DELIVERY)
    await bob.expect(None, mine, title="a socket of the receiver did not get the message")
    await ctx.session.expect_none(ctx.sockets(alice, bob, carol), None, mine, within=ctx.quiet,
                                  title="the message was delivered twice to a socket, or to a "
                                        "user it was not for")


@check("message-sender", rule="C2", cost=2, observes={"receive-message"},
       text="receive-message.senderId is the id the sending socket registered with; a body "
            "senderId that differs is rejected (error) or overwritten, never relayed as given")
async def message_sender(ctx: CheckContext) -> None:
    """alice writes to bob without a senderId, then claiming to be carol."""
    alice, bob, _carol = await ctx.users("alice", "bob", "carol")
    me, out, inbox = ctx.id("alice"), alice.socket("s1"), bob.socket("s1")
    plain = ctx.marker("plain")
    await out.send(_message(ctx, "bob", plain))
    got = await inbox.expect(None, fields({"data.text": plain}, DELIVERY),
                             title="bob did not get alice's message")
    _same_sender(ctx, got[0], me, "a message sent without a senderId")
    forged = ctx.marker("forged")
    await out.send(_message(ctx, "bob", forged, senderId=ctx.id("carol")))
    answer = Either(((*fields({"data.text": forged}), DELIVERY),
                     tuple(fields({"type": "error"}))))
    frames = await ctx.session.await_frames([inbox, out], _matcher(answer), 1, ctx.timeout,
                                            "any")
    for frame in (f for fs in frames.values() for f in fs):
        if frame.type != "error":
            _same_sender(ctx, frame, me, "a message whose body claimed carol's senderId")


def _matcher(where: Any) -> Matcher:
    return Matcher.build(None, [where])


def _same_sender(ctx: CheckContext, frame: Any, me: str, what: str) -> None:
    sender = data_of(frame).get("senderId")
    if sender != me:
        raise ctx.fail(f"{what} was delivered with senderId {sender!r}, not the sender's "
                       f"registered id {me!r}", expected=f"data.senderId == {me!r}",
                       actual=f"data.senderId is {sender!r}", frames=(frame,))


@check("message-order", rule="C3", cost=3, observes={"receive-message"},
       text="messages from one sender to one receiver arrive in the order sent")
async def message_order(ctx: CheckContext) -> None:
    """alice sends 12 numbered messages at once; both of bob's sockets get them in order."""
    alice, bob = await ctx.users("alice", "bob", sockets=(1, 2))
    texts = [ctx.marker("n") for _ in range(12)]
    out = alice.socket("s1")
    for text in texts:
        await out.send(_message(ctx, "bob", text))
    mine = Matcher.build(None, [DELIVERY, *fields({"data.chatId": f"{ctx.prefix}-chat"})])
    inboxes = list(bob.sockets.values())
    got = await ctx.session.await_frames(inboxes, mine, len(texts), ctx.timeout, "every")
    limited = [f for f in out.inbox if f.type == "error"
               and data_of(f).get("code") == "rate-limited"]
    for sock in inboxes:
        frames = got[sock]
        order = [data_of(f).get("text") for f in frames]
        if order == texts:
            continue
        if limited:  # a burst the server's rate limit (X3) cut short says nothing about order
            ctx.finding("C3 could not be judged: the server rate-limited a burst of "
                        f"{len(texts)} messages", expected="12 deliveries to judge",
                        actual=f"{len(frames)} arrived; alice got error rate-limited",
                        frames=limited[:2], severity=Severity.WARNING, code="inconclusive")
            return
        if len(frames) < len(texts):
            raise ctx.fail(f"{sock.label} got {len(frames)} of {len(texts)} messages",
                           expected=f"all {len(texts)} messages, in the order sent",
                           actual=f"texts in arrival order: {order}", frames=frames, sock=sock)
        first = next(i for i, (a, b) in enumerate(zip(order, texts, strict=True)) if a != b)
        sent_as = texts.index(str(order[first])) + 1 if order[first] in texts else "?"
        raise ctx.fail(f"{sock.label} got alice's messages out of order: #{first + 1} is "
                       f"{order[first]!r}, sent as #{sent_as}",
                       expected="the order sent: " + ", ".join(texts[first:first + 3]) + " ...",
                       actual="arrival order: " + ", ".join(map(str, order[first:first + 3]))
                              + " ...", frames=frames[first:first + 3], sock=sock)


@check("unregistered-send", rule="C4", cost=2,
       text="a socket that has not registered cannot send: its send-message, status and "
            "signals are answered with error not-registered or ignored, never relayed")
async def unregistered_send(ctx: CheckContext) -> None:
    """A socket that never registered writes to bob, signals him and changes status."""
    bob = await ctx.user("bob")
    anon = await ctx.connect("anon")
    ctx.session.lenient = True  # the server may close a socket that sends before registering
    text, lastseen, channel = ctx.marker("anon"), ctx.marker("seen"), ctx.marker("chan")
    await anon.send(_message(ctx, "bob", text, senderId=ctx.id("anon")))
    await anon.send({"type": "user-status-update",
                     "data": {"userId": ctx.id("anon"), "status": "online",
                              "lastSeen": lastseen}})
    await anon.send({"type": "agora-signal",
                     "data": {"action": "call-request", "targetId": ctx.id("bob"),
                              "channel": channel, "callType": "audio"}})
    relayed = Either((fields({"data.text": text}), fields({"data.lastSeen": lastseen}),
                      fields({"data.channel": channel})))
    await bob.expect_none(None, [relayed], within=ctx.quiet,
                          title="a socket that never registered got its frames relayed")
    anon.close_reported = True  # closing an unregistered sender is allowed


@check("offline-receiver", rule="C5", level=Level.SHOULD, cost=2, observes={"error"},
       text="a message to a user who is not online gets error receiver-offline")
async def offline_receiver(ctx: CheckContext) -> None:
    """alice writes to a user who never connected."""
    alice = await ctx.user("alice")
    await alice.socket("s1").send(_message(ctx, "nobody", ctx.marker()))
    await alice.expect("error", {"data.code": "receiver-offline"},
                       title="a message to an offline user got no error receiver-offline")


@check("receive-message-spelling", rule="C6", cost=2, observes={"receive-message"},
       text="the delivery type is spelled receive-message (not recieve-message, the "
            "misspelling of an old tutorial)")
async def receive_message_spelling(ctx: CheckContext) -> None:
    """alice writes to bob; the delivery must be typed receive-message."""
    alice, bob = await ctx.users("alice", "bob")
    text = ctx.marker("spell")
    await alice.socket("s1").send(_message(ctx, "bob", text))
    inbox: Socket = bob.socket("s1")
    got = await inbox.receive(None, fields({"data.text": text}, DELIVERY), timeout=ctx.timeout)
    if got is not None and got.type != "receive-message":
        raise ctx.fail(f"the server delivers chat messages as {got.type!r}: the type is "
                       "'receive-message' (i before e), clients listening for it get nothing",
                       expected='a frame of type "receive-message"',
                       actual=f"type {got.type!r}", frames=(got,), sock=inbox)
