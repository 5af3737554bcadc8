"""The reference backend of the ``/ws/ws`` protocol: ``wsprobe serve`` and its Python API.

- :class:`Hub`: the protocol's state machine, with no I/O; subclass it to break one rule.
- :func:`running`: ``async with running(config) as server:`` serves in the caller's event loop.
- :class:`BackgroundServer`: ``with BackgroundServer(config) as url:`` serves from a thread.
- :func:`spawn`: ``with spawn(config) as proc:`` serves from a ``python -m wsprobe serve`` process.
"""

from wsprobe.server.app import HubFactory, RunningServer, running
from wsprobe.server.background import BackgroundServer
from wsprobe.server.config import ServerConfig
from wsprobe.server.frames import Action, Close, Send, SocketId, UserId, encode
from wsprobe.server.hub import Hub, default_schemas
from wsprobe.server.process import ServerProcess, ServerStartError, spawn
from wsprobe.server.ratelimit import RateLimit, TokenBucket

__all__ = [
    "Action",
    "BackgroundServer",
    "Close",
    "Hub",
    "HubFactory",
    "RateLimit",
    "RunningServer",
    "Send",
    "ServerConfig",
    "ServerProcess",
    "ServerStartError",
    "SocketId",
    "TokenBucket",
    "UserId",
    "default_schemas",
    "encode",
    "running",
    "spawn",
]
