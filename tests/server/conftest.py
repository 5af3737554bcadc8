"""Real clients against a real ``wsprobe serve`` on 127.0.0.1 port 0, driven by ``asyncio.run``.

A test is a plain function that takes the ``serve`` fixture and hands it a coroutine::

    def test_something(serve):
        async def scenario(s: Session) -> None:
            alice = await s.user("alice")
            ...
        serve(scenario)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from wsprobe.server import Hub, HubFactory, RunningServer, ServerConfig, running

WAIT = 2.0  # time limit for a frame we expect
QUIET = 0.2  # window in which a frame we do not expect must not arrive

Frame = dict[str, Any]


class Client:
    """One socket: send frames, wait for the frames we expect, assert silence."""

    def __init__(self, conn: ClientConnection, name: str = "") -> None:
        self.conn = conn
        self.name = name

    async def send(self, frame: Frame | str | bytes) -> None:
        """Send a dict as JSON text, a str as text, bytes as a binary frame."""
        await self.conn.send(json.dumps(frame) if isinstance(frame, dict) else frame)

    async def recv(self, timeout: float = WAIT) -> Frame:
        """The next frame, parsed."""
        text = await asyncio.wait_for(self.conn.recv(), timeout)
        frame: Frame = json.loads(text)
        return frame

    async def expect(self, mtype: str, where: Callable[[Frame], bool] = lambda f: True,
                     timeout: float = WAIT) -> Frame:
        """Skip frames until one of ``mtype`` matching ``where`` arrives within ``timeout``."""
        async def hunt() -> Frame:
            while True:
                frame = await self.recv(timeout=timeout)
                if frame.get("type") == mtype and where(frame):
                    return frame
        try:
            return await asyncio.wait_for(hunt(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {mtype} frame within {timeout} s") from None

    async def drain(self, window: float = QUIET) -> list[Frame]:
        """Every frame that arrives within ``window`` seconds."""
        frames: list[Frame] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        while (left := deadline - loop.time()) > 0:
            try:
                frames.append(await self.recv(timeout=left))
            except TimeoutError:
                break
        return frames

    async def quiet(self, mtype: str | None = None, where: Callable[[Frame], bool] = lambda f: True,
                    window: float = QUIET) -> None:
        """Assert that no frame (of ``mtype``, matching ``where``) arrives within ``window`` s."""
        frames = [f for f in await self.drain(window)
                  if (mtype is None or f.get("type") == mtype) and where(f)]
        assert not frames, f"{self.name}: unexpected frames {frames}"

    async def register(self, user: str) -> Frame:
        """``new-user-add`` in the real client's form, then wait for our own ``get-users``."""
        await self.send({"type": "new-user-add", "userId": user})
        return await self.expect("get-users", lambda f: user in f["data"])

    async def closed(self, timeout: float = WAIT) -> int | None:
        """Wait until the server closes this socket; its close code."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(self.conn.recv(), timeout)
        return self.conn.close_code

    async def close(self, timeout: float = 0.5) -> None:
        """Close with 1000; drop the TCP connection if the handshake takes over ``timeout``."""
        try:
            await asyncio.wait_for(self.conn.close(), timeout)
        except TimeoutError:
            self.conn.transport.abort()


class Session:
    """The server under test and the clients a test opened (closed when the test ends)."""

    def __init__(self, server: RunningServer, stack: contextlib.AsyncExitStack) -> None:
        self.server = server
        self.url = server.url
        self.hub = server.hub
        self._stack = stack
        self._clients: list[Client] = []
        stack.push_async_callback(self._close_all)

    async def connect(self, name: str = "", url: str | None = None, **kwargs: Any) -> Client:
        conn = await connect(url or self.url, open_timeout=WAIT, close_timeout=WAIT, **kwargs)
        client = Client(conn, name)
        self._clients.append(client)
        return client

    async def _close_all(self) -> None:
        await asyncio.gather(*(c.close() for c in self._clients))

    async def user(self, user: str, **kwargs: Any) -> Client:
        """A new socket registered as ``user`` (its first ``get-users`` already consumed)."""
        client = await self.connect(user, **kwargs)
        await client.register(user)
        return client


Scenario = Callable[[Session], Awaitable[None]]


def run_scenario(scenario: Scenario, config: ServerConfig | None = None,
                 hub_factory: HubFactory = Hub) -> None:
    """Serve ``config`` (port 0 by default), run the scenario against it, shut everything down."""
    async def main() -> None:
        async with (running(config or ServerConfig(port=0), hub_factory) as server,
                    contextlib.AsyncExitStack() as stack):
            await asyncio.wait_for(scenario(Session(server, stack)), 20)
    asyncio.run(main())


@pytest.fixture
def serve() -> Callable[..., None]:
    """``serve(scenario, config=None, hub_factory=Hub)``: run one scenario against a server."""
    return run_scenario
