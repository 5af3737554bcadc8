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

from wsprobe.load.client import ConnectFailed, WebSocketClient
from wsprobe.load.config import UserKind
from wsprobe.load.fanout import SocketId
from wsprobe.load.probe import Probe

__all__ = ["MARKER_LEN", "ProbeSocket", "SocketOwner", "status_marker"]

_loads = json.loads
QUEUE_LIMIT: Final = 1000
_BENIGN_ERRORS: Final = frozenset({"receiver-offline", "rate-limited"})
MARKER_LEN: Final = len("2026-01-01T00:00:00.000000001Z")


def status_marker(t_sched: int, seq: int) -> str:
    """``lastSeen`` marker: ISO 8601 of the scheduled time with nine fraction digits."""
    seconds, micros = divmod(t_sched, 1_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micros:06d}{seq % 1000:03d}Z"


class _UsersCache:
    """Parsed ``get-users`` lists and their differences, shared by the sockets of a process.

    A change of the online set reaches every registered socket with the same list: parsing it
    once per process instead of once per socket, and diffing each pair of lists once, makes a join
    storm cost O(1) per receiving socket instead of O(users). Sockets share the parsed sets too,
    so memory stays O(users), not O(users x sockets).
    """

    LIMIT: Final = 256

    def __init__(self) -> None:
        self.parsed: dict[bytes, frozenset[object]] = {}
        self._diffs: dict[tuple[frozenset[object], frozenset[object]],
                          tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def parse(self, data: bytes, body: list[Any]) -> frozenset[object]:
        try:
            ids = frozenset(body)  # strings only: one C call
        except TypeError:  # objects {"userId": ...}
            ids = frozenset(u.get("userId") if isinstance(u, dict) else u for u in body)
        if len(self.parsed) >= self.LIMIT:
            self.parsed.clear()
        self.parsed[data] = ids
        return ids

    def diff(self, before: frozenset[object], after: frozenset[object],
             prefix: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Marker keys of the users who joined and who left between two lists."""
        key = (before, after)
        found = self._diffs.get(key)
        if found is None:
            joined = tuple(f"j|{u}" for u in after - before
                           if type(u) is str and u.startswith(prefix))
            left = tuple(f"l|{u}" for u in before - after
                         if type(u) is str and u.startswith(prefix))
            if len(self._diffs) >= self.LIMIT:
                self._diffs.clear()
            found = self._diffs[key] = (joined, left)
        return found


_USERS = _UsersCache()


class SocketOwner(Protocol):
    """The user a socket belongs to (``wsprobe.load.users``)."""

    probe: Probe
    kind: UserKind
    uid: str
    left: bool
    online: frozenset[object]

    def on_signal(self, body: dict[str, Any], t: int) -> None:
        """A relayed call signal reached this user."""


class ProbeSocket:
    """One socket of a user: its client, its view of the online set, and its receipt handler."""

    __slots__ = ("client", "greenlet", "known", "primary", "probe", "queue", "sid", "user")

    def __init__(self, user: SocketOwner, primary: bool) -> None:
        self.user = user
        self.probe = user.probe
        self.sid = SocketId(user.probe.new_socket_id())
        self.primary = primary
        self.known: frozenset[object] | None = None
        self.client = WebSocketClient(user.probe.config.url, on_text=self.on_text)
        self.greenlet: gevent.Greenlet | None = None
        self.queue: list[bytes] = []

    def on_text(self, data: bytes, t: int) -> None:
        """Handle one text frame received at ``t`` (microseconds, before any parsing)."""
        try:
            self._on_text(data, t)
        except Exception as exc:  # a bug of ours must not pass for the server closing us
            self.probe.internal_error(f"{type(exc).__name__}: {exc} on {data[:80]!r}")

    def _on_text(self, data: bytes, t: int) -> None:
        probe = self.probe
        t += probe.offset_us
        ids = _USERS.parsed.get(data)
        if ids is not None:  # a get-users another socket of this process already parsed
            probe.sample("get-users", data)
            self.users(ids, t)
            return
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
            if type(body) is list:
                self.users(_USERS.parse(data, body), t)
            else:
                probe.protocol_errors += 1
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

    def users(self, ids: frozenset[object], t: int) -> None:
        """A ``get-users``: who appeared (joins) and who vanished (leaves) since the last one."""
        before = self.known
        self.known = ids
        if before is None:  # the answer to our own registration
            if self.user.uid not in ids:
                # P1/P3: a socket gets get-users only once registered, and then it lists the
                # socket's own user; anything else is a ghost list or an unsolicited frame
                probe = self.probe
                probe.protocol_errors += 1
                if len(probe.problems) < 20:
                    listed = ", ".join(sorted(map(str, ids))[:5])
                    probe.problems.append(
                        f"P3: the first get-users at a socket of {self.user.uid} does not list "
                        f"that user (it lists {listed or 'nobody'})")
            self.probe.tracker.socket_registered(self.sid, t)
            self.probe.registrations += 1
        elif before is not ids:
            joined, left = _USERS.diff(before, ids, self.probe.prefix)
            observed = self.probe.tracker.observed
            sid = self.sid
            for key in joined:
                observed(key, sid, t)
            for key in left:
                observed(key, sid, t)
        if self.primary:
            self.user.online = ids

    def send(self, frame: bytes) -> None:
        """Send a frame, or queue it while the socket is reconnecting (as the real client does)."""
        if self.client.open:
            try:
                self.client.send(frame)
                return
            except ConnectFailed:
                pass
        if len(self.queue) < QUEUE_LIMIT:
            self.queue.append(frame)

    def run(self) -> None:
        """Receive until the user leaves; reconnect after 5 s x attempt, up to 5 attempts.

        (The real client's policy; the user kind's ``reconnect_backoff`` and
        ``reconnect_attempts`` change it.)
        """
        probe = self.probe
        kind = self.user.kind
        attempt = 0
        while True:
            try:
                self.client.run()
            finally:
                probe.tracker.socket_closing(self.sid, probe.now())
            if self.user.left or probe.stopping:
                return
            probe.closed_by_server += 1  # the server closed or dropped us: not our doing
            while True:
                attempt += 1
                if attempt > kind.reconnect_attempts:
                    return
                gevent.sleep(kind.reconnect_backoff * attempt)
                if self.user.left:
                    return
                probe.reconnects += 1
                if self._reconnect():
                    attempt = 0
                    break

    def _reconnect(self) -> bool:
        """A new connection (a new receiver for the tracker), registered, with the queue sent."""
        probe = self.probe
        client = WebSocketClient(probe.config.url, on_text=self.on_text)
        self.client = client
        self.sid = SocketId(probe.new_socket_id())
        self.known = None
        probe.tracker.socket_opened(self.sid, self.user.uid)
        try:
            client.connect()
        except ConnectFailed as exc:
            probe.connect_failures += 1
            probe.refused += exc.refused
            probe.tracker.socket_closing(self.sid, probe.now())
            return False
        self.send(json.dumps({"type": "new-user-add", "userId": self.user.uid}).encode())
        queued, self.queue = self.queue, []
        for frame in queued:
            self.send(frame)
        return True
