"""Security: X1 to X3 of protocol.md section 5, checked where the backend is configured for them.

X1 needs ``--allowed-origin`` and ``--foreign-origin``, X2 ``--token``; the X3 probes flood the
server or send an oversized frame, so they run only with ``--aggressive``. (The identity rules
C2, P5 and S1 are checked by ``message-sender``, ``status-impersonation`` and
``signal-impersonation``.)
"""

from __future__ import annotations

from wsprobe.scenario.matching import Matcher
from wsprobe.scenario.session import Socket, SocketState
from wsprobe.verify.checks.transport import handshake
from wsprobe.verify.context import CheckContext, UsersListed
from wsprobe.verify.registry import Level, Needs, check

__all__: list[str] = []


def _open(sock: Socket) -> bool:
    return sock.state is SocketState.OPEN


async def _accepted_anyway(ctx: CheckContext, actor: str, url: str, origin: str | None,
                           what: str) -> None:
    """The handshake was accepted: does the socket get to register and hear anything?"""
    sock = await ctx.connect(actor, url=url, origin=origin, fatal=False)
    if not _open(sock):
        return
    user = ctx.id(actor)
    ctx.session.lenient = True  # the server may close it at once: that is a refusal too
    try:
        await sock.send(ctx.registration(user))
        got = await sock.receive("get-users", [UsersListed((user,))], timeout=ctx.timeout)
    finally:
        ctx.session.lenient = False
    sock.close_reported = True
    if got is None and not _open(sock):
        return  # accepted, then closed before it could register or receive anything
    happened = ("registered and received the user list" if got is not None
                else "was kept open (not refused)")
    raise ctx.fail(f"{what}: the handshake was accepted and the socket {happened}",
                   expected="the handshake refused (HTTP 401/403), or the socket closed before "
                            "it can register or receive anything",
                   actual=f"HTTP 101; {happened}", frames=(got,) if got else (), sock=sock)


@check("origin-allow-list", rule="X1", cost=1, needs={Needs.ORIGINS},
       text="with an Origin allow-list, a handshake from another Origin is refused "
            "(cross-site WebSocket hijacking)")
async def origin_allow_list(ctx: CheckContext) -> None:
    """Open the socket as a page of the foreign Origin would, then as the allowed one."""
    config = ctx.config
    assert config.foreign_origin is not None and config.allowed_origin is not None
    foreign = await handshake(ctx, config.target, config.foreign_origin)
    if foreign.accepted:
        await _accepted_anyway(ctx, "foreign-page", config.target, config.foreign_origin,
                               f"a page on {config.foreign_origin} can act as a user")
    allowed = await handshake(ctx, config.target, config.allowed_origin)
    if not allowed.accepted:
        ctx.finding(f"the allowed Origin {config.allowed_origin} was refused too "
                    f"({allowed.reason}): is --allowed-origin right?",
                    expected="the allowed Origin accepted", actual=allowed.reason,
                    code="setup")


@check("token-required", rule="X2", cost=1, needs={Needs.TOKEN},
       text="with authentication on, a socket without valid credentials (?token=) is refused "
            "before it can register or receive anything")
async def token_required(ctx: CheckContext) -> None:
    """Connect without a token and with a wrong one; both must be turned away."""
    config = ctx.config
    assert config.token is not None
    for actor, url, what in (("no-token", config.with_token(None), "without a token"),
                             ("wrong-token", config.with_token(f"wrong-{config.token}"),
                              "with a wrong token")):
        tried = await handshake(ctx, url, config.origin)
        if tried.accepted:
            await _accepted_anyway(ctx, actor, url, config.origin,
                                   f"a client {what} gets in")


async def _answer_to_abuse(ctx: CheckContext, sock: Socket, codes: set[str]) -> str | None:
    got = await ctx.session.await_frames(
        [sock], Matcher.build("error", {"data.code": {"in": sorted(codes)}}), 1, ctx.timeout,
        "every")
    sock.close_reported = True
    if got[sock]:
        return None
    if sock.state is SocketState.CLOSED and sock.close_code in {1008, 1009, 1013}:
        return None
    if sock.state is SocketState.CLOSED:
        return f"the socket was {sock.describe_close()}"
    return "it was accepted: no error and no close"


@check("frame-size-limit", rule="X3", level=Level.SHOULD, cost=6, needs={Needs.AGGRESSIVE},
       observes={"error"},
       text="a maximum frame size exists: an oversized frame is refused (close 1009, or error "
            "too-large)")
async def frame_size_limit(ctx: CheckContext) -> None:
    """Send one frame of --max-frame bytes (4 MiB by default) to a user who is not online."""
    sock = (await ctx.user("mallory")).socket("s1")
    ctx.session.lenient = True  # the server may close the socket while the frame goes out
    size = ctx.config.max_frame
    frame = ('{"type": "send-message", "data": {"receiverId": "' + ctx.id("nobody")
             + '", "chatId": "big", "text": "')
    frame += "x" * max(0, size - len(frame) - 4) + '"}}'
    await sock.send(frame, check=False)
    answer = await _answer_to_abuse(ctx, sock, {"too-large"})
    if answer is not None:
        ctx.finding(f"a frame of {len(frame):,} bytes was not refused: {answer}",
                    expected="close 1009 (or 1008), or error too-large", actual=answer,
                    sock=sock)


@check("rate-limit", rule="X3", level=Level.SHOULD, cost=6, needs={Needs.AGGRESSIVE},
       observes={"error"},
       text="a per-socket rate limit exists: a flood of messages gets error rate-limited or a "
            "close (1008 or 1013)")
async def rate_limit(ctx: CheckContext) -> None:
    """Send --flood status updates (400 by default) as fast as possible on one socket."""
    sock = (await ctx.user("mallory")).socket("s1")
    me = ctx.id("mallory")
    ctx.session.lenient = True  # the server may close the socket in the middle of the flood
    for i in range(ctx.config.flood):
        if sock.state is not SocketState.OPEN:
            break
        await sock.send({"type": "user-status-update",
                         "data": {"userId": me, "status": "online", "lastSeen": i}})
    answer = await _answer_to_abuse(ctx, sock, {"rate-limited"})
    if answer is not None:
        ctx.finding(f"{ctx.config.flood} messages in a burst were not limited: {answer}",
                    expected="error rate-limited, or a close with 1008 or 1013", actual=answer,
                    sock=sock)
