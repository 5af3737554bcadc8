"""Transport (protocol.md section 1): pings are answered (T1), closes carry proper codes (T2),
idle clients are pinged (T3).

T1 to T3 are wsprobe's ids for these rules of section 1; handshakes probed outside a session
(X1, X2) also use :func:`handshake` from here.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.frames import Frame, Opcode
from websockets.typing import Origin, Subprotocol

from wsprobe.verify.context import CheckContext
from wsprobe.verify.registry import Level, Needs, check

__all__ = ["Handshake", "handshake"]


@dataclass(frozen=True, slots=True)
class Handshake:
    """How a handshake went: ``accepted``, else the HTTP ``status`` (if any) and why."""

    accepted: bool
    status: int | None = None
    reason: str = ""


async def open_raw(ctx: CheckContext, url: str, origin: str | None) -> ClientConnection:
    """A bare websockets connection with the run's headers, subprotocols and TLS settings."""
    tls = ctx.config.ssl_context()
    return await connect(
        url, origin=Origin(origin) if origin else None,
        additional_headers=Headers(list(ctx.config.headers)) if ctx.config.headers else None,
        subprotocols=[Subprotocol(p) for p in ctx.config.subprotocols] or None,
        open_timeout=max(ctx.timeout, 2.0), ping_interval=None, close_timeout=1.0, proxy=None,
        ssl=tls)  # None for ws://; for wss:// always a context (see VerifyConfig.ssl_context)


async def handshake(ctx: CheckContext, url: str, origin: str | None) -> Handshake:
    """Try the opening handshake on ``url`` with ``origin``; close again if it was accepted."""
    try:
        ws = await open_raw(ctx, url, origin)
    except InvalidStatus as exc:
        status = exc.response.status_code
        return Handshake(False, status, f"refused with HTTP {status}")
    except (OSError, TimeoutError, WebSocketException, EOFError) as exc:
        return Handshake(False, None, f"{type(exc).__name__}: {exc}")
    await ws.close()
    return Handshake(True)


@check("ping-pong", rule="T1", cost=1,
       text="the server answers a WebSocket ping with a pong (RFC 6455)")
async def ping_pong(ctx: CheckContext) -> None:
    """Ping a registered socket and an unregistered one; each must get its pong in time."""
    for registered in (False, True):
        try:
            ws = await open_raw(ctx, ctx.config.target, ctx.config.origin)
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise ctx.fail("could not open a socket to ping", expected="an open WebSocket",
                           actual=f"{type(exc).__name__}: {exc}") from None
        try:
            if registered:
                await ws.send(f'{{"type": "new-user-add", "userId": "{ctx.id("alice")}"}}')
            started = time.monotonic()
            try:
                pong = await ws.ping(b"wsprobe")
                async with asyncio.timeout(ctx.timeout):
                    await pong
            except (TimeoutError, WebSocketException) as exc:
                what = "registered" if registered else "fresh"
                raise ctx.fail(f"a ping on a {what} socket got no pong within "
                               f"{ctx.timeout:g} s",
                               expected="a pong frame with the ping's payload",
                               actual=f"{type(exc).__name__} after "
                                      f"{time.monotonic() - started:.2f} s") from None
        finally:
            await ws.close()


@check("clean-close", rule="T2", cost=1,
       text="a normal close uses code 1000: a client that says 'offline' and closes with 1000 "
            "gets the server's close frame with 1000, not a dropped connection or an error code")
async def clean_close(ctx: CheckContext) -> None:
    """alice leaves the way the real client does: status offline, then close 1000."""
    alice, _bob = await ctx.users("alice", "bob")
    sock = alice.socket("s1")
    await sock.send({"type": "user-status-update",
                     "data": {"userId": ctx.id("alice"), "status": "offline"}})
    # give the server the time to react to 'offline' (returns at once if it closes the socket)
    await sock.receive("x-wsprobe-nothing", timeout=ctx.quiet)
    sock.close_reported = True  # judged below, with the code
    await sock.close(1000)
    if sock.close_code != 1000:
        raise ctx.fail(f"alice closed with 1000 and the close ended with {sock.close_code} "
                       f"({sock.describe_close()})",
                       expected="the server's close frame with code 1000",
                       actual=sock.describe_close(), sock=sock)


@check("server-pings", rule="T3", level=Level.SHOULD, cost=8, needs={Needs.IDLE},
       text="the server pings idle clients (real servers every 30 s), so that dead connections "
            "are noticed")
async def server_pings(ctx: CheckContext) -> None:
    """A registered socket stays silent for up to --idle seconds, watching for a ping."""
    ws = await open_raw(ctx, ctx.config.target, ctx.config.origin)
    pinged = asyncio.Event()
    answer = ws.protocol.recv_frame

    def watch(frame: Frame) -> None:
        if frame.opcode is Opcode.PING:
            pinged.set()
        answer(frame)  # the pong goes out as usual

    setattr(ws.protocol, "recv_frame", watch)  # noqa: B010  # a spy on one connection only
    try:
        await ws.send(f'{{"type": "new-user-add", "userId": "{ctx.id("idle")}"}}')
        started = time.monotonic()
        try:
            async with asyncio.timeout(ctx.config.idle):
                await pinged.wait()
        except TimeoutError:
            ctx.finding(f"an idle socket got no ping from the server in {ctx.config.idle:g} s",
                        expected="a WebSocket ping from the server while the client is idle",
                        actual=f"no ping in {time.monotonic() - started:.1f} s")
    finally:
        await ws.close()
