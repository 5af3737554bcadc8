"""One load process's measuring state: tracker, histograms, raw log, and its interval reports.

The users of a process (``wsprobe.load.users``) feed it sends and receipts; the process entry
(``wsprobe.load.process``) ships :meth:`Probe.interval_report` to the master every interval.
Nothing here does network I/O; the raw-deliveries CSV is the only file it writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, Final

from wsprobe.core import Direction, SchemaSet, load_schemas
from wsprobe.load.client import now_us
from wsprobe.load.clock import OffsetEstimator
from wsprobe.load.config import LoadConfig
from wsprobe.load.fanout import KINDS, Counts, Delivery, EventOutcome, FanoutTracker, Kind, Sent
from wsprobe.load.histograms import KindHistograms

__all__ = ["RAW_COLUMNS", "OnEvent", "Probe"]

RAW_COLUMNS: Final = (
    "kind",
    "key",
    "socket",
    "t_send_us",
    "t_sched_us",
    "t_recv_us",
    "latency_us",
    "latency_sched_us",
    "status",
)

OnEvent = Callable[[EventOutcome], None]
SAMPLE_FIRST: Final = 20  # frames of each type validated in full at the start
SAMPLE_EVERY: Final = 1000  # then one frame in this many
MAX_PROBLEMS: Final = 20


class Probe:
    """Measuring state of one process (one Locust worker, or the single local process)."""

    def __init__(self, config: LoadConfig, *, node: str, raw_path: Path | None) -> None:
        self.config = config
        self.node = node
        self.offset_us = 0
        self.hists = KindHistograms()
        self._raw: IO[str] | None = None
        # how to run a blocking file write: at once by default; the process entry passes a
        # one-thread pool so that a big flush (a join storm's rows) never stalls the sends
        self.run_blocking: Callable[[Callable[[], None]], None] = lambda write: write()
        self._rows: list[str] = []
        if raw_path is not None:
            self._raw = raw_path.open("w", encoding="utf-8", buffering=1 << 20)
            self._raw.write(",".join(RAW_COLUMNS) + "\n")
        self.tracker = FanoutTracker(
            late_after=int(config.late_after * 1e6),
            loss_timeout=int(config.loss_timeout * 1e6),
            record=self.hists.record,
            on_delivery=self._row if self._raw is not None else None,
        )
        self.clock = OffsetEstimator()
        self.draining = False
        self.stopping = False  # interrupted: closes from now on are ours, not the server's
        self.outbox: list[tuple[Any, ...]] = []
        self.errors: dict[str, int] = {}
        self.connect_failures = 0
        self.refused = 0
        self.protocol_errors = 0
        self.closed_by_server = 0
        self.reconnects = 0  # reconnect attempts after the server closed or dropped a socket
        self.registrations = 0  # sockets whose new-user-add got its get-users answer
        self.kernel_timestamps: bool | None = None  # set by the first socket that connects
        self.problems: list[str] = []  # plain words, the first MAX_PROBLEMS only
        self.internal_errors = 0
        self.problems_internal: list[str] = []
        self._schemas: SchemaSet | None = None
        self._seen_types: dict[str, int] = {}
        self.users = 0
        # scheduled sends (the open-loop plan) and those that left later than --max-lag
        self.sends = 0
        self.late_sends = 0
        self._late_after_us = int(config.max_lag * 1e6)
        self._send_lag_max = 0
        self._reported_sends = (0, 0)
        self._reported: dict[Kind, Counts] = {k: Counts() for k in KINDS}
        self._reported_unmatched = 0
        self._reported_errors: dict[str, int] = {}
        self._reported_failures = (0, 0, 0, 0, 0)
        self._reported_problems = 0
        self._sockets = itertools.count(1)
        self._user_ids = itertools.count(1)
        self._user_serials = itertools.count(1)
        self.prefix = "wp-"  # every wsprobe user; a remote worker may have its own run id

    # identities --------------------------------------------------------------------------

    def new_user_id(self) -> str:
        """A user id unique in the run (the run's prefix marks our own users)."""
        return f"wp-{self.config.run_id}-{self.node}-{next(self._user_ids)}"

    def new_user_serial(self) -> int:
        """A number per simulated user of this process, in the order they start."""
        return next(self._user_serials)

    def new_socket_id(self) -> int:
        """A socket id unique in this process."""
        return next(self._sockets)

    def now(self) -> int:
        """Microseconds on the run's reference clock (the master's)."""
        return now_us() + self.offset_us

    # sends and receipts --------------------------------------------------------------------

    def publish(self, sent: Sent) -> None:
        """An event this process sent: count it, and queue it for the other workers."""
        self.tracker.sent(sent, local=True)
        self.outbox.append(
            (sent.key, sent.kind, sent.sender, sent.target, sent.t_sched, sent.t_send)
        )

    def scheduled(self, t_sched: int, t_now: int) -> None:
        """A scheduled action is about to send at ``t_now``, planned for ``t_sched``: the offered
        load falls short of the plan when actions leave later than ``max_lag``."""
        self.sends += 1
        lag = t_now - t_sched
        if lag > self._late_after_us:
            self.late_sends += 1
        self._send_lag_max = max(self._send_lag_max, lag)

    def relayed(self, records: Iterable[list[Any]]) -> None:
        """Send records of other workers."""
        sent = self.tracker.sent
        for key, kind, sender, target, t_sched, t_send in records:
            sent(Sent(key, Kind(kind), sender, target, t_sched, t_send), local=False)

    def sample(self, kind: str, frame: bytes) -> None:
        """Validate a sample of received frames against the protocol's schemas (``core``).

        Full validation of every frame would cost more than the rest of the receive path, so the
        first frames of each type and then one in ``SAMPLE_EVERY`` are checked. A problem makes
        the target count as broken (exit 3).
        """
        seen = self._seen_types.get(kind, 0) + 1
        self._seen_types[kind] = seen
        if seen > SAMPLE_FIRST and seen % SAMPLE_EVERY:
            return
        if self._schemas is None:
            self._schemas = load_schemas()
        text = frame.decode("utf-8", "replace")  # a text frame's payload (UTF-8 checked)
        decoded = self._schemas.check(text, Direction.SERVER, 0.0)
        if decoded.problems:
            self.protocol_errors += 1
            if len(self.problems) < MAX_PROBLEMS:
                self.problems.append(f"{decoded.problems[0]} in {text[:120]}")

    def internal_error(self, message: str) -> None:
        """The generator itself failed on a frame (the run becomes invalid)."""
        self.internal_errors += 1
        if len(self.problems_internal) < MAX_PROBLEMS:
            self.problems_internal.append(message)

    def error(self, code: str) -> None:
        """The server answered one of our frames with an ``error`` of ``code``."""
        self.errors[code] = self.errors.get(code, 0) + 1

    def take_outbox(self) -> list[tuple[Any, ...]]:
        """The send records queued since the last call."""
        out, self.outbox = self.outbox, []
        return out

    # raw log -----------------------------------------------------------------------------

    def _row(self, d: Delivery) -> None:
        if d.t_recv is None:
            self._rows.append(f"{d.kind},{d.key},{d.socket},{d.t_send},{d.t_sched},,,,lost\n")
        else:
            self._rows.append(
                f"{d.kind},{d.key},{d.socket},{d.t_send},{d.t_sched},{d.t_recv},"
                f"{d.t_recv - d.t_send},{d.t_recv - d.t_sched},{d.status}\n"
            )

    def flush_raw(self) -> None:
        """Write the rows gathered so far (called every interval, so a crash loses little)."""
        raw = self._raw
        if raw is not None and self._rows:
            text = "".join(self._rows)
            self._rows.clear()

            def write() -> None:
                raw.write(text)
                raw.flush()

            self.run_blocking(write)

    def close(self) -> None:
        """Flush and close the raw log."""
        self.flush_raw()
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    # reports -----------------------------------------------------------------------------

    def interval_report(
        self, *, final: bool, monitor: dict[str, Any], on_event: OnEvent | None = None
    ) -> dict[str, Any]:
        """Counter deltas, encoded interval histograms and finalized events since the last call."""
        now = self.now()
        tracker = self.tracker
        outcomes = tracker.finalize_all() if final else tracker.due(now)
        events = []
        for o in outcomes:
            events.append((o.key, o.kind, o.t_send, o.last_recv, o.expected, o.delivered))
            if on_event is not None:
                on_event(o)
        tracker.forget_closed(now - 3 * tracker.loss_timeout)
        counts: dict[str, dict[str, int]] = {}
        for kind in KINDS:
            current, before = tracker.counts[kind], self._reported[kind]
            delta = {k: v - getattr(before, k) for k, v in current.as_dict().items()}
            counts[kind] = delta
            before.add(Counts(**delta))
        unmatched = tracker.unmatched - self._reported_unmatched
        self._reported_unmatched = tracker.unmatched
        errors = {
            code: n - self._reported_errors.get(code, 0)
            for code, n in self.errors.items()
            if n != self._reported_errors.get(code, 0)
        }
        self._reported_errors = dict(self.errors)
        failures = (self.connect_failures, self.refused, self.protocol_errors,
                    self.closed_by_server, self.reconnects)
        before_f = self._reported_failures
        self._reported_failures = failures
        problems_from = self._reported_problems
        self._reported_problems = len(self.problems)
        sends = (self.sends - self._reported_sends[0],
                 self.late_sends - self._reported_sends[1], self._send_lag_max)
        self._reported_sends = (self.sends, self.late_sends)
        self._send_lag_max = 0
        hists = self.hists.encode()
        self.hists.reset()
        self.flush_raw()
        clock = self.clock.estimate()
        return {
            "node": self.node,
            "t_end": now,
            "final": final,
            "users": self.users,
            "sockets": tracker.open_sockets,
            "pending": tracker.pending(),
            "incomplete": tracker.incomplete() if self.draining else tracker.pending(),
            "counts": counts,
            "unmatched": unmatched,
            "hists": hists,
            "events": events,
            "monitor": monitor,
            "sends": {"count": sends[0], "late": sends[1], "lag_max_us": sends[2]},
            "clock": None
            if clock is None or self.config.same_clock
            else {"offset_us": clock.offset_us, "uncertainty_us": clock.uncertainty_us},
            "errors": errors,
            "connect_failures": failures[0] - before_f[0],
            "refused": failures[1] - before_f[1],
            "protocol_errors": failures[2] - before_f[2],
            "closed_by_server": failures[3] - before_f[3],
            "reconnects": failures[4] - before_f[4],
            "problems": self.problems[problems_from:],
            "internal_errors": self.internal_errors,
            "registrations": self.registrations,  # cumulative
            "internal_problems": self.problems_internal[:3],
            "timestamps": {True: "kernel", False: "user", None: None}[self.kernel_timestamps],
        }

    def totals(self) -> dict[str, Any]:
        """This process's own cumulative counters (written to ``worker-<node>.json``)."""
        return {
            "node": self.node,
            "kinds": {kind: self.tracker.counts[kind].as_dict() for kind in KINDS},
            "unmatched": self.tracker.unmatched,
            "errors": dict(self.errors),
            "connect_failures": self.connect_failures,
            "refused": self.refused,
            "protocol_errors": self.protocol_errors,
            "closed_by_server": self.closed_by_server,
        }
