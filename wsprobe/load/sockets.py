"""One socket of a simulated user: its client, its view of who is online, and its receipts.

:meth:`ProbeSocket.on_text` is called by the client for every text frame with the time the bytes
were read, before any parsing. It recognizes the markers of the five probe kinds and reports each
receipt to the process's :class:`~wsprobe.load.probe.Probe`; signals also go to the owning user
(who answers calls).
"""

from __future__ import annotations

import json
import time
from typing import Any, Final, Protocol

import gevent

from wsprobe.load.client import WebSocketClient
from wsprobe.load.fanout import SocketId
from wsprobe.load.probe import Probe

__all__ = ["MARKER_LEN", "ProbeSocket", "SocketOwner", "status_marker"]

_loads = json.loads
_BENIGN_ERRORS: Final = frozenset({"receiver-offline", "rate-limited"})
MARKER_LEN: Final = len("2026-01-01T00:00:00.000000001Z")


def status_marker(t_sched: int, seq: int) -> str:
    """``lastSeen`` marker: ISO 8601 of the scheduled time with nine fraction digits."""
    seconds, micros = divmod(t_sched, 1_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micros:06d}{seq % 1000:03d}Z"


class SocketOwner(Protocol):
    """The user a socket belongs to (``wsprobe.load.users``)."""

    probe: Probe
    uid: str
    left: bool
    online: set[object]

    def on_signal(self, body: dict[str, Any], t: int) -> None:
        """A relayed call signal reached this user."""


class ProbeSocket:
    """One socket of a user: its client, its view of the online set, and its receipt handler."""

    __slots__ = ("client", "greenlet", "known", "primary", "probe", "sid", "user")

    def __init__(self, user: SocketOwner, primary: bool) -> None:
        self.user = user
        self.probe = user.probe
        self.sid = SocketId(user.probe.new_socket_id())
        self.primary = primary
        self.known: set[object] | None = None
        self.client = WebSocketClient(user.probe.config.url, on_text=self.on_text)
        self.greenlet: gevent.Greenlet | None = None

    def on_text(self, data: bytes, t: int) -> None:
        probe = self.probe
        t += probe.offset_us
        try:
            msg = _loads(data)
            kind = msg["type"]
            body = msg.get("data")
        except (ValueError, TypeError, KeyError, AttributeError):
            probe.protocol_errors += 1
            if len(probe.problems) < 20:
                probe.problems.append(f"not a protocol message: {data[:120]!r}")
            return
        probe.sample(kind, data)
        if kind == "user-status-update":
            last_seen = body.get("lastSeen") if isinstance(body, dict) else None
            if type(last_seen) is str and len(last_seen) == MARKER_LEN:
                probe.tracker.received(f"s|{body.get('userId')}|{last_seen}", self.sid, t)
        elif kind == "get-users":
            self.users(body, t)
        elif kind == "receive-message":
            if isinstance(body, dict):
                mid = body.get("messageId")
                if not isinstance(mid, str):
                    text = body.get("text")
                    mid = text.rpartition(" ")[2] if isinstance(text, str) else None
                if mid is not None and mid.startswith(probe.prefix):
                    probe.tracker.received(f"c|{mid}", self.sid, t)
        elif kind == "agora-signal":
            if isinstance(body, dict):
                pid = body.get("probe")
                if isinstance(pid, str):
                    probe.tracker.received(f"g|{pid}", self.sid, t)
                    self.user.on_signal(body, t)
        elif kind == "error":
            code = body.get("code") if isinstance(body, dict) else None
            code = code if isinstance(code, str) else "?"
            probe.error(code)
            if code not in _BENIGN_ERRORS:
                probe.protocol_errors += 1

    def users(self, body: object, t: int) -> None:
        """A ``get-users``: who appeared (joins) and who vanished (leaves) since the last one."""
        if type(body) is not list:
            self.probe.protocol_errors += 1
            return
        try:
            ids = set(body)  # the common case: strings only; one C call
        except TypeError:  # objects {"userId": ...}
            ids = {u.get("userId") if isinstance(u, dict) else u for u in body}
        before = self.known
        self.known = ids
        if before is None:  # the answer to our own registration
            self.probe.tracker.socket_registered(self.sid, t)
        else:
            received = self.probe.tracker.received
            prefix = self.probe.prefix
            sid = self.sid
            for uid in ids - before:
                if type(uid) is str and uid.startswith(prefix):
                    received(f"j|{uid}", sid, t)
            for uid in before - ids:
                if type(uid) is str and uid.startswith(prefix):
                    received(f"l|{uid}", sid, t)
        if self.primary:
            self.user.online = ids

    def run(self) -> None:
        try:
            self.client.run()
        finally:
            if not self.user.left:  # the server closed or dropped us: not our doing
                self.probe.closed_by_server += 1
            self.probe.tracker.socket_closing(self.sid, self.probe.now())
