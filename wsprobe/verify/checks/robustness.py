"""Robustness: R1 to R3 of protocol.md section 5 (bad input, and staying up for everyone)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from wsprobe.scenario.matching import Matcher
from wsprobe.scenario.session import Socket, SocketState
from wsprobe.verify.context import CheckContext, fields
from wsprobe.verify.registry import Level, check

__all__: list[str] = []

#: close codes that properly answer bad input (R2): unsupported data, invalid payload, policy,
#: too big
ANSWER_CODES = frozenset({1003, 1007, 1008, 1009})


@dataclass(frozen=True, slots=True)
class BadInput:
    """One frame that is not a valid message, and what it is, in words."""

    what: str
    frame: str | bytes


BAD_INPUTS = (
    BadInput("invalid JSON", '{"type": "send-message", "data": {"text": '),
    BadInput("a JSON array instead of an object", '["new-user-add", {"userId": "x"}]'),
    BadInput("an object without 'type'", '{"data": {"receiverId": "x", "text": "hi"}}'),
    BadInput("an unknown type", '{"type": "x-wsprobe-unknown", "data": {}}'),
    BadInput("a send-message with schema-invalid data",
             '{"type": "send-message", "data": {"receiverId": 42, "text": null}}'),
    BadInput("a binary frame", b"\x00\x01wsprobe binary\xff"),
)


async def _send_bad(ctx: CheckContext, index: int, bad: BadInput) -> Socket:
    sock = await ctx.connect("mallory", f"s{index}")
    await ctx.register(sock, "mallory")
    await sock.send(bad.frame, check=False)
    return sock


async def _answer(ctx: CheckContext, sock: Socket, wait: float) -> str | None:
    """``None`` when ``sock`` got an ``error`` or a proper close code, else what happened."""
    got = await ctx.session.await_frames([sock], Matcher.build("error"), 1, wait, "every")
    sock.close_reported = True  # a close is this check's to judge, not a surprise
    if got[sock]:
        return None
    if sock.state is SocketState.CLOSED:
        if sock.close_code in ANSWER_CODES:
            return None
        return f"it was {sock.describe_close()} (expected 1003, 1007, 1008 or 1009)"
    return f"nothing came back within {wait:g} s (a silent drop)"


@check("bad-input-answer", rule="R2", level=Level.SHOULD, cost=4, observes={"error"},
       text="invalid JSON, a non-object, a missing or unknown type, schema-invalid data or a "
            "binary frame gets an error (connection kept) or a close with 1003, 1007, 1008 or "
            "1009, not a silent drop or a close without a code")
async def bad_input_answer(ctx: CheckContext) -> None:
    """Each kind of bad input on a socket of its own, all at once; judge each answer."""
    socks = await asyncio.gather(*(_send_bad(ctx, i, b) for i, b in enumerate(BAD_INPUTS, 1)))
    answers = await asyncio.gather(*(_answer(ctx, s, ctx.timeout) for s in socks))
    for sock, bad, answer in zip(socks, BAD_INPUTS, answers, strict=True):
        if answer is not None:
            sent = [f for f in ctx.session.frames if f.socket == sock.name
                    and f.actor == sock.actor.name]
            ctx.finding(f"{bad.what} got no proper answer: {answer}",
                        expected="an error frame, or a close with 1003/1007/1008/1009",
                        actual=answer, frames=sent[-3:], sock=sock)


@check("bad-input-isolation", rule="R1", cost=4, observes={"receive-message"},
       text="bad input (invalid JSON, a non-object, a missing or unknown type, invalid data, a "
            "binary frame) never stops the server and never affects other sockets")
async def bad_input_isolation(ctx: CheckContext) -> None:
    """bob and carol chat while mallory sends every kind of bad input; nothing may touch them."""
    bob, carol = await ctx.users("bob", "carol")
    socks = await asyncio.gather(*(_send_bad(ctx, i, b) for i, b in enumerate(BAD_INPUTS, 1)))
    await asyncio.gather(*(_answer(ctx, s, ctx.quiet) for s in socks))
    text = ctx.marker("still-there")
    await carol.socket("s1").send({"type": "send-message",
                                   "data": {"receiverId": ctx.id("bob"), "text": text,
                                            "chatId": ctx.marker("chat")}})
    await bob.expect(None, fields({"data.text": text}),
                     title="after another socket sent bad input, bob no longer gets messages")
    await ctx.session.expect_none(ctx.sockets(bob, carol), "error", within=0.05,
                                  title="bob or carol got an error for input they never sent")
    dave = await ctx.connect("dave")
    if await ctx.register(dave) is None:
        raise ctx.fail("after bad input, a new user got no answer to new-user-add",
                       expected="a get-users naming the new user", actual="nothing came",
                       sock=dave)


@check("connection-burst", rule="R3", cost=5, observes={"get-users"},
       text="the server accepts new connections and registrations at all times: 24 users "
            "connecting at once are all registered")
async def connection_burst(ctx: CheckContext) -> None:
    """24 users connect and register at the same moment; each must get its own get-users."""
    async def join(i: int) -> tuple[Socket, str | None]:
        sock = await ctx.connect(f"u{i:02d}", fatal=False)  # a refusal is its own finding
        if sock.state is not SocketState.OPEN:
            return sock, "not connected"
        return sock, None if await ctx.register(sock) is not None else "no get-users"

    joined = await asyncio.gather(*(join(i) for i in range(1, 25)))
    missing = [(s, why) for s, why in joined if why is not None]
    if missing:
        raise ctx.fail(f"{len(missing)} of 24 users connecting at once were not registered "
                       f"within {ctx.timeout:g} s",
                       expected="a get-users naming each user on its own socket",
                       actual="; ".join(f"{s.label}: {why}" for s, why in missing[:6])
                              + (" ..." if len(missing) > 6 else ""))
