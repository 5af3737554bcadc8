"""The pump: :class:`~wsprobe.server.hub.Hub` over ``websockets``' asyncio server.

It only moves frames: each received frame goes to the hub, each :class:`Send` the hub returns goes
out through :func:`websockets.asyncio.server.broadcast`, which writes to every recipient without
waiting, so one slow client never delays the others. The HTTP gate (path, Origin, token) answers
before the WebSocket opens. A bug in the hub is logged and never stops the server (R1).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.datastructures import MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from wsprobe.errors import InputError
from wsprobe.server.config import ServerConfig
from wsprobe.server.frames import Action, Close, Send, SocketId
from wsprobe.server.hub import Hub
from wsprobe.server.ratelimit import RateLimit

__all__ = ["HubFactory", "RunningServer", "running"]

log = logging.getLogger("wsprobe.server")


class HubFactory(Protocol):
    """Builds the hub a server runs: :class:`Hub` itself or any subclass of it."""

    def __call__(self, *, rate_limit: RateLimit | None = None) -> Hub: ...


@dataclass(frozen=True, slots=True)
class RunningServer:
    """A server that is listening: where to reach it and the hub it runs."""

    url: str
    port: int
    config: ServerConfig
    hub: Hub


class _Pump:
    def __init__(self, config: ServerConfig, hub: Hub) -> None:
        self.config = config
        self.hub = hub
        self.connections: dict[SocketId, ServerConnection] = {}
        self._ids = itertools.count(1)

    def gate(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the handshake: 404 for another path, 403 for a foreign Origin, 401 for a token."""
        url = urlsplit(request.path)
        if url.path != self.config.path:
            return connection.respond(HTTPStatus.NOT_FOUND, f"no WebSocket at {url.path}\n")
        allowed = self.config.allowed_origins
        if allowed:
            try:
                origin = request.headers.get("Origin")
            except MultipleValuesError:
                return connection.respond(HTTPStatus.FORBIDDEN, "several Origin headers\n")
            if origin is not None and origin not in allowed:
                log.info("refused Origin %r", origin)
                return connection.respond(HTTPStatus.FORBIDDEN, f"Origin {origin} not allowed\n")
        token = self.config.token
        if token is not None:
            given = parse_qs(url.query).get("token", [""])[-1]
            if not hmac.compare_digest(given.encode(), token.encode()):
                return connection.respond(HTTPStatus.UNAUTHORIZED, "missing or wrong token\n")
        return None

    async def handle(self, connection: ServerConnection) -> None:
        """One socket's life: open, every frame, close; the hub decides what goes out."""
        sock = SocketId(next(self._ids))
        self.connections[sock] = connection
        loop = asyncio.get_running_loop()
        try:
            await self.apply(self._call(self.hub.open, sock))
            async for frame in connection:
                await self.apply(self._call(self.hub.receive, sock, frame, loop.time()))
        except ConnectionClosed:
            pass
        finally:
            del self.connections[sock]
            await self.apply(self._call(self.hub.close, sock))

    def _call(self, verb: Callable[..., list[Action]], *args: object) -> list[Action]:
        try:
            return verb(*args)
        except Exception:
            log.exception("hub failed on %s%r; carrying on", getattr(verb, "__name__", verb), args)
            return []

    async def apply(self, actions: list[Action]) -> None:
        """Carry out the hub's actions in order: sends without waiting, then closes."""
        limit = self.config.max_backlog
        for action in actions:
            if isinstance(action, Send):
                try:
                    payload = action.text.encode()
                except UnicodeEncodeError:  # a lone surrogate from a hub that bypassed encode()
                    log.error("not sending a frame that is not valid UTF-8: %.200r", action.text)
                    continue
                conns = self.connections
                targets = [conns[s] for s in action.to if s in conns]
                broadcast(targets, payload, text=True)
                if limit:
                    for target in targets:
                        if target.transport.get_write_buffer_size() > limit:
                            self._drop_slow(target)
            elif isinstance(action, Close):
                connection = self.connections.get(action.sock)
                if connection is not None:
                    await connection.close(action.code, action.reason)

    def _drop_slow(self, connection: ServerConnection) -> None:
        """A client that reads so slowly that its backlog exceeds the limit is disconnected."""
        log.warning("dropping %s: more than %d bytes waiting to be sent",
                    connection.remote_address, self.config.max_backlog)
        connection.transport.abort()


def ssl_context(config: ServerConfig) -> ssl.SSLContext | None:
    """The TLS context for ``wss://``, or None; a bad certificate or key is an input error."""
    if config.certfile is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.certfile, config.keyfile)
    except (OSError, ssl.SSLError) as exc:
        files = f"{config.certfile}" + (f", {config.keyfile}" if config.keyfile else "")
        raise InputError(f"cannot use certificate {files}: {exc}") from None
    return context


@asynccontextmanager
async def running(config: ServerConfig | None = None,
                  hub_factory: HubFactory = Hub) -> AsyncIterator[RunningServer]:
    """Serve ``config`` in the running event loop until the block ends.

    ``async with running(ServerConfig(port=0)) as server: ... server.url ...``
    """
    config = config if config is not None else ServerConfig()
    hub = hub_factory(rate_limit=config.rate_limit_policy())
    pump = _Pump(config, hub)
    interval = config.ping_interval or None
    try:
        server = await serve(
            pump.handle, config.host, config.port,
            process_request=pump.gate,
            max_size=config.max_size,
            ping_interval=interval,
            ping_timeout=2 * interval if interval else None,
            # a client that stopped answering gets one more interval to acknowledge the close
            close_timeout=min(10.0, interval) if interval else 10.0,
            compression=None,  # per-socket deflate would multiply the cost of every fan-out
            ssl=ssl_context(config),
            backlog=4096,  # a join storm must not overflow the accept queue (SYN retries: 1 s)
        )
    except OSError as exc:
        raise InputError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
                         ) from None
    async with server:
        port = int(server.sockets[0].getsockname()[1])
        url = config.url(port)
        log.info("serving %s", url)
        yield RunningServer(url=url, port=port, config=config, hub=hub)
