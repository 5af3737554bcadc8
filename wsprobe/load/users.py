"""Locust users that behave like the real client (``protocol.md`` section 3) and carry probes.

A user opens its sockets, waits about 100 ms, registers every socket, announces ``online``, then
follows an open-loop schedule: the status heartbeat, focus flips (``away`` then ``online``), chats
to online users, calls (request, accept or reject, end), and optionally leaves and rejoins as a new
user. Each action has a scheduled time computed from the previous *scheduled* time, never from when
the previous send finished, so a stalled server shows as latency from the scheduled send.

Every event carries a marker the server relays untouched; receipts of markers at this process's
sockets go to the :class:`~wsprobe.load.probe.Probe` with the time taken before parsing.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections.abc import Callable
from typing import Any, ClassVar

import gevent
from gevent.event import Event
from locust import User, constant, task
from locust.exception import StopUser

from wsprobe.load.client import ConnectFailed
from wsprobe.load.config import UserKind
from wsprobe.load.fanout import CHAT, JOIN, LEAVE, SIGNAL, STATUS, Sent
from wsprobe.load.probe import Probe
from wsprobe.load.sockets import ProbeSocket, status_marker

__all__ = ["ProtocolUser", "Session", "user_classes"]

_dumps = json.dumps


Action = Callable[[int], None]


class Session:
    """One identity of a user, from joining to leaving, with its open-loop schedule."""

    def __init__(self, probe: Probe, kind: UserKind, rng: random.Random) -> None:
        self.probe = probe
        self.kind = kind
        self.rng = rng
        self.uid = probe.new_user_id()
        self.sockets: list[ProbeSocket] = []
        self.online: frozenset[object] = frozenset()  # the latest get-users (shared)
        self.status = "online"
        self.schedule: list[tuple[int, int, Action]] = []
        self.wake = Event()
        self._seq = itertools.count()
        self._answered: set[str] = set()
        self.in_call = False
        self.left = False

    # schedule ----------------------------------------------------------------------------

    def at(self, t_sched: int, action: Action) -> None:
        """Schedule ``action`` at ``t_sched`` (reference-clock microseconds)."""
        first = not self.schedule or t_sched < self.schedule[0][0]
        heapq.heappush(self.schedule, (t_sched, next(self._seq), action))
        if first:
            self.wake.set()

    def after_exp(self, t: int, per_min: float, action: Action) -> None:
        """Schedule ``action`` after an exponential gap (a Poisson process of ``per_min``)."""
        if per_min > 0:
            self.at(t + int(self.rng.expovariate(per_min / 60.0) * 1e6), action)

    def run_schedule(self) -> None:
        """Run actions at their scheduled times until the session ends or the run drains."""
        probe = self.probe
        while not self.left:
            if probe.draining or not self.schedule:
                gevent.sleep(0.5)
                continue
            t_sched = self.schedule[0][0]
            delay = (t_sched - probe.now()) / 1e6
            if delay > 0:
                self.wake.clear()
                self.wake.wait(delay)
                continue
            _, _, action = heapq.heappop(self.schedule)
            probe.scheduled(t_sched, probe.now())
            action(t_sched)

    # joining and leaving -----------------------------------------------------------------

    def join(self, t_start: int) -> None:
        """Open every socket, wait about 100 ms, register each, announce ``online``."""
        probe, kind = self.probe, self.kind
        for index in range(kind.sockets):
            sock = ProbeSocket(self, primary=index == 0)
            probe.tracker.socket_opened(sock.sid, self.uid)  # frames may come with the handshake
            try:
                sock.client.connect()
            except ConnectFailed as exc:
                probe.connect_failures += 1
                probe.refused += exc.refused
                probe.tracker.socket_closing(sock.sid, probe.now())
                self.left = True
                self.close_all()
                raise StopUser() from None
            if probe.kernel_timestamps is None:
                probe.kernel_timestamps = sock.client.kernel_timestamps
            sock.greenlet = gevent.spawn(sock.run)
            self.sockets.append(sock)
        t_sched = t_start + int(kind.connect_wait * 1e6)
        gevent.sleep(max(t_sched - probe.now(), 0) / 1e6)
        frame = _dumps({"type": "new-user-add", "userId": self.uid}).encode()
        t_send = probe.now()
        probe.publish(Sent(f"j|{self.uid}", JOIN, self.uid, None, t_sched, t_send))
        for sock in self.sockets:
            self.send(sock, frame)
        self.send_status("online", t_sched)
        if kind.heartbeat > 0:
            phase = int(self.rng.uniform(0, kind.heartbeat) * 1e6)
            self.at(t_sched + phase, self.heartbeat)
        self.after_exp(t_sched, kind.focus_flips_per_min, self.blur)
        self.after_exp(t_sched, kind.chats_per_min, self.chat)
        self.after_exp(t_sched, kind.calls_per_min, self.call)
        if kind.session > 0:
            self.at(t_sched + int(kind.session * 1e6), self.end)

    def leave(self, t_sched: int) -> None:
        """Send ``offline``, then close every socket with 1000."""
        if self.left:
            return
        self.left = True
        probe = self.probe
        live = [s for s in self.sockets if s.client.open]
        for sock in self.sockets:
            sock.queue.clear()
        if live:
            self.send_status("offline", t_sched)
            t_send = probe.now()
            for sock in live:
                probe.tracker.socket_closing(sock.sid, t_send)
            probe.publish(Sent(f"l|{self.uid}", LEAVE, self.uid, None, t_sched, t_send))
        self.close_all()

    def close_all(self) -> None:
        """Close every socket with 1000 and wait briefly for the server to close TCP."""
        for sock in self.sockets:
            sock.client.close(1000)
        greenlets = [s.greenlet for s in self.sockets if s.greenlet is not None]
        gevent.joinall(greenlets, timeout=2.0)
        for sock in self.sockets:
            sock.client.abort()

    def end(self, t_sched: int) -> None:
        """The session is over: leave (the user rejoins as someone new)."""
        self.leave(t_sched)

    # sends -------------------------------------------------------------------------------

    def send(self, sock: ProbeSocket, frame: bytes) -> None:
        sock.send(frame)

    def send_status(self, status: str, t_sched: int) -> None:
        self.status = status if status != "offline" else self.status
        marker = status_marker(t_sched, next(self._seq))
        frame = _dumps(
            {
                "type": "user-status-update",
                "data": {"userId": self.uid, "status": status, "lastSeen": marker},
            }
        ).encode()
        probe = self.probe
        t_send = probe.now()
        probe.publish(Sent(f"s|{self.uid}|{marker}", STATUS, self.uid, None, t_sched, t_send))
        self.send(self.sockets[0], frame)

    def heartbeat(self, t_sched: int) -> None:
        self.send_status(self.status, t_sched)
        self.at(t_sched + int(self.kind.heartbeat * 1e6), self.heartbeat)

    def blur(self, t_sched: int) -> None:
        self.send_status("away", t_sched)
        self.at(t_sched + int(self.kind.away_for * 1e6), self.focus)

    def focus(self, t_sched: int) -> None:
        self.send_status("online", t_sched)
        self.after_exp(t_sched, self.kind.focus_flips_per_min, self.blur)

    def peer(self) -> str | None:
        """A random other online wsprobe user, if any."""
        prefix, me = self.probe.prefix, self.uid
        peers = [u for u in self.online if type(u) is str and u != me and u.startswith(prefix)]
        return self.rng.choice(peers) if peers else None

    def chat(self, t_sched: int) -> None:
        self.after_exp(t_sched, self.kind.chats_per_min, self.chat)
        target = self.peer()
        if target is None:
            return
        mid = f"{self.uid}.{next(self._seq)}"
        chat_id = "~".join(sorted((self.uid, target)))
        frame = _dumps(
            {
                "type": "send-message",
                "data": {
                    "senderId": self.uid,
                    "receiverId": target,
                    "chatId": chat_id,
                    "text": f"wsprobe {mid}",
                    "messageId": mid,
                },
            }
        ).encode()
        probe = self.probe
        t_send = probe.now()
        probe.publish(Sent(f"c|{mid}", CHAT, self.uid, target, t_sched, t_send))
        self.send(self.sockets[0], frame)

    def signal(self, t_sched: int, target: str, action: str, **extra: Any) -> str:
        pid = f"{self.uid}.{next(self._seq)}"
        data = {"action": action, "targetId": target, **extra,
                "timestamp": t_sched // 1000, "probe": pid}
        frame = _dumps({"type": "agora-signal", "data": data}).encode()
        probe = self.probe
        t_send = probe.now()
        probe.publish(Sent(f"g|{pid}", SIGNAL, self.uid, target, t_sched, t_send))
        self.send(self.sockets[-1], frame)
        return pid

    def call(self, t_sched: int) -> None:
        self.after_exp(t_sched, self.kind.calls_per_min, self.call)
        target = None if self.in_call else self.peer()
        if target is None:
            return
        self.in_call = True
        channel = f"call-{self.uid}-{next(self._seq)}"
        self.signal(t_sched, target, "call-request", channel=channel, callType="video")
        # give up on an unanswered call after a while
        self.at(t_sched + int((self.kind.call_answer_after + 10) * 1e6), self.call_timeout)

    def call_timeout(self, t_sched: int) -> None:
        self.in_call = False

    def on_signal(self, body: dict[str, Any], t: int) -> None:
        """React to a relayed signal once per probe (the user has several sockets)."""
        pid = body["probe"]
        if pid in self._answered or self.left:
            return
        self._answered.add(pid)
        if len(self._answered) > 10_000:
            self._answered.clear()
        action = body.get("action")
        peer = body.get("senderId")
        channel = body.get("channel", "")
        if not isinstance(peer, str):
            return
        kind = self.kind
        if action == "call-request":
            reply = "call-accepted" if self.rng.random() < kind.call_accept else "call-rejected"
            t_reply = t + int(kind.call_answer_after * 1e6)
            self.at(t_reply, lambda ts: self.answer(ts, peer, reply, channel))
        elif action == "call-accepted":
            t_end = t + int(kind.call_duration * 1e6)
            self.at(t_end, lambda ts: self.hang_up(ts, peer, channel))
        elif action == "call-rejected":
            self.in_call = False

    def answer(self, t_sched: int, peer: str, reply: str, channel: str) -> None:
        self.signal(t_sched, peer, reply, channel=channel)

    def hang_up(self, t_sched: int, peer: str, channel: str) -> None:
        self.signal(t_sched, peer, "call-ended", channel=channel)
        self.in_call = False


class ProtocolUser(User):
    """A simulated person; subclasses set :attr:`behaviour` (one per user kind of the profile)."""

    abstract = True
    behaviour: ClassVar[UserKind] = UserKind()
    wait_time = constant(0)

    def on_start(self) -> None:
        self.probe: Probe = self.environment.wsprobe_probe
        seed = self.probe.config.seed
        serial = self.probe.new_user_serial()
        self.rng = random.Random(None if seed is None else f"{seed}:{self.probe.node}:{serial}")
        self.session: Session | None = None
        self.probe.users += 1
        self._start_session(self.probe.now())

    def _start_session(self, t_start: int) -> None:
        self.session = Session(self.probe, self.behaviour, self.rng)
        self.session.join(t_start)

    @task
    def live(self) -> None:
        """Follow the schedule; after a session ends, rejoin as a new user."""
        while True:
            session = self.session
            assert session is not None
            session.run_schedule()
            t_rejoin = self.probe.now() + int(self.behaviour.rejoin_after * 1e6)
            gevent.sleep(self.behaviour.rejoin_after)
            while self.probe.draining:
                gevent.sleep(0.5)
            self._start_session(t_rejoin)

    def on_stop(self) -> None:
        self.probe.users -= 1
        if self.session is not None:
            self.session.leave(self.probe.now())


def user_classes(kinds: tuple[UserKind, ...]) -> list[type[ProtocolUser]]:
    """One Locust user class per user kind, weighted as the profile says."""
    return [
        type(kind.name, (ProtocolUser,),
             {"behaviour": kind, "weight": kind.weight, "abstract": False})
        for kind in kinds
    ]
