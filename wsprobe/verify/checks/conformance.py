"""Checks over the whole run: every frame fits its schema (F1), every declared type was seen (F2).

Both run last. A problem is reported once, at the check that proves it: F1 leaves out schema
problems already shown in a failed check's evidence, and F2 leaves out types that a failed or
skipped check was there to provoke.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wsprobe.core import Direction
from wsprobe.scenario.events import Status
from wsprobe.scenario.findings import Severity
from wsprobe.scenario.frames import FrameRecord
from wsprobe.verify.context import DELIVERY, CheckContext, fields
from wsprobe.verify.registry import REGISTRY, Level, check

__all__: list[str] = []

Signature = tuple[str, str | None, str, str | None, str]


def _signatures(frame: FrameRecord) -> list[Signature]:
    return [(frame.direction.value, frame.type, p.code, p.keyword,
             re.sub(r"/\d+", "/*", p.pointer)) for p in frame.problems]


def _excused(ctx: CheckContext) -> set[Signature]:
    """Schema problems already in the evidence of a check that failed."""
    return {sig for r in ctx.run.results if r.status in {Status.FAILED, Status.ERROR}
            for f in r.findings for frame in f.frames for sig in _signatures(frame)}


async def _conversation(ctx: CheckContext) -> None:
    """One of each server-to-client type, awaited without judging (the rule checks judge)."""
    alice, bob = await ctx.users("alice", "bob", sockets=(2, 1))
    out, inbox, wait = alice.socket("s1"), bob.socket("s1"), ctx.timeout
    await out.send({"type": "user-status-update",
                    "data": {"userId": ctx.id("alice"), "status": "away"}})
    await inbox.receive("user-status-update", timeout=wait)
    text = ctx.marker("valid")
    await out.send({"type": "send-message", "data": {"receiverId": ctx.id("bob"), "text": text,
                                                     "chatId": ctx.marker("chat")}})
    await inbox.receive(None, fields({"data.text": text}, DELIVERY), timeout=wait)
    channel = ctx.marker("chan")
    await out.send({"type": "agora-signal",
                    "data": {"action": "call-request", "targetId": ctx.id("bob"),
                             "channel": channel, "callType": "audio"}})
    await inbox.receive("agora-signal", timeout=wait)
    await out.send({"type": "send-message", "data": {"receiverId": ctx.id("nobody"),
                                                     "text": "?", "chatId": "c"}})
    await out.receive("error", timeout=wait)
    await bob.close()
    await out.receive("get-users", timeout=wait)
    ctx.session.lenient = True  # last: a server may close a socket that sends an unknown type
    out.close_reported = True
    await out.send({"type": "x-wsprobe-unknown", "data": {}}, check=False)
    await out.receive("error", timeout=wait)


def _report(ctx: CheckContext, frames: Iterable[FrameRecord], excused: set[Signature]) -> None:
    seen: dict[Signature, list[FrameRecord]] = {}
    for frame in frames:
        for sig in _signatures(frame):
            if sig not in excused:
                seen.setdefault(sig, []).append(frame)
    for sig, examples in seen.items():
        first = examples[0]
        problem = next(p for p, s in zip(first.problems, _signatures(first), strict=True)
                       if s == sig)
        received = sig[0] == Direction.SERVER.value
        what = "the server sent" if received else "wsprobe sent (your --schemas reject it)"
        ctx.finding(f"{what} an invalid {first.type or 'frame'}: {problem}"
                    + (f" ({len(examples)} frames)" if len(examples) > 1 else ""),
                    expected=f"a frame valid for the {sig[0]} schema of {first.type!r}",
                    actual="; ".join(map(str, first.problems)), frames=examples[:3],
                    severity=None if received else Severity.WARNING, code="invalid-frame")


@check("frames-valid", rule="F1", cost=1, late=True,
       text="every frame the server sends fits the JSON Schema of its type and direction "
            "(protocol.md sections 2 and 4), in this check's conversation and in every check "
            "that passed")
async def frames_valid(ctx: CheckContext) -> None:
    """Hold a conversation with every server type, then validate what the run received."""
    await _conversation(ctx)
    excused = _excused(ctx)
    mine = list(ctx.session.frames)
    theirs = [f for r in ctx.run.results if r.status in {Status.PASSED, Status.WARNING}
              for f in r.frames if f.direction is Direction.SERVER]
    received = [f for f in [*mine, *theirs] if f.direction is Direction.SERVER]
    _report(ctx, received, excused)
    _report(ctx, [f for f in mine if f.direction is Direction.CLIENT
                  and f.type != "x-wsprobe-unknown"], set())


@check("coverage", rule="F2", level=Level.SHOULD, cost=2, late=True,
       text="the run observed every server-to-client type the schemas declare, and proved "
            "something (frames came, not only errors)")
async def coverage(ctx: CheckContext) -> None:
    """Compare the types the server sent during the run with the declared ones."""
    results = ctx.run.results
    received = [f for r in results for f in r.frames if f.direction is Direction.SERVER]
    if not received:
        raise ctx.fail("the run proves nothing: the server sent no frame at all",
                       expected="answers to registrations, messages and signals",
                       actual="no frame from the server in any check")
    kinds = {f.type for f in received}
    if kinds <= {"error", None}:
        ctx.finding("the run proves little: every frame the server sent was an error or "
                    "invalid", expected="get-users, deliveries and relays",
                    actual=f"{len(received)} frames, all errors or invalid",
                    frames=received[:3])
    # a type is excused when a check there to provoke it did not pass or did not run
    passed = {r.name for r in results if r.status is Status.PASSED}
    excused = {t for spec in REGISTRY if spec.name not in passed for t in spec.observes}
    declared = ctx.run.schemas.types(Direction.SERVER)
    for mtype in sorted(declared - kinds - excused):
        ctx.finding(f"{mtype!r} was never sent by the server during the run, so it is untested",
                    expected=f"at least one {mtype} frame (declared in the schemas)",
                    actual=f"types seen: {', '.join(sorted(t for t in kinds if t))}")
