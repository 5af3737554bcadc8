"""Fan-out accounting for any mix of sockets, sends and receipts (Hypothesis).

Every first copy of an event at a socket is classified exactly once, as delivered, late or
optional; every further copy is a duplicate; every expected socket without a copy is lost. The
counters add up to the rows of the raw log, and a late row is logged as late.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from wsprobe.load.fanout import KINDS, Delivery, FanoutTracker, Kind, Sent, SocketId

MS = 1000
LATE_AFTER = 50 * MS
USERS = ("u1", "u2", "u3", "u4")

sockets = st.lists(
    st.tuples(st.sampled_from(USERS), st.none() | st.integers(0, 100 * MS),
              st.none() | st.integers(0, 400 * MS)),
    min_size=1, max_size=8)
events = st.lists(
    st.tuples(st.sampled_from(KINDS), st.sampled_from(USERS), st.none() | st.sampled_from(USERS),
              st.integers(0, 200 * MS), st.integers(0, 20 * MS), st.booleans()),
    min_size=1, max_size=6)
# (event index, socket index, delay after the send, whether the send record comes after it)
receipts = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 7), st.integers(-5 * MS, 150 * MS)),
                    max_size=40)


@settings(max_examples=300, deadline=None)
@given(sockets=sockets, events=events, receipts=receipts)
def test_every_copy_is_classified_once_and_totals_add_up(
        sockets: list[tuple[str, int | None, int | None]],
        events: list[tuple[Kind, str, str | None, int, int, bool]],
        receipts: list[tuple[int, int, int]]) -> None:
    rows: list[Delivery] = []
    recorded: list[tuple[Kind, int, int]] = []
    tracker = FanoutTracker(late_after=LATE_AFTER, loss_timeout=10_000 * MS,
                            record=lambda k, a, s: recorded.append((k, a, s)),
                            on_delivery=rows.append)
    for index, (user, registered, closing) in enumerate(sockets):
        tracker.socket_opened(SocketId(index), user)
        if registered is not None:
            tracker.socket_registered(SocketId(index), registered)
        if closing is not None:
            tracker.socket_closing(SocketId(index), closing)
    sends = [Sent(f"e{i}", kind, sender, target, t, t + lag)
             for i, (kind, sender, target, t, lag, _) in enumerate(events)]
    deferred = [send for send, event in zip(sends, events, strict=True) if event[5]]
    for send in sends:
        if send not in deferred:
            tracker.sent(send, local=True)
    copies: Counter[tuple[str, int]] = Counter()
    for event, sock, delay in receipts:
        if event < len(sends) and sock < len(sockets):
            send = sends[event]
            tracker.received(send.key, SocketId(sock), send.t_send + max(delay, 0))
            copies[send.key, sock] += 1
    for send in deferred:  # relayed from another worker after its receipts
        tracker.sent(send, local=False)
    tracker.finalize_all()

    by_copy = Counter((r.key, int(r.socket)) for r in rows if r.status != "lost")
    assert by_copy == copies, "a copy was logged more or less than once"
    firsts = Counter((r.key, int(r.socket)) for r in rows
                     if r.status in ("delivered", "late", "optional"))
    assert set(firsts.values()) <= {1}, "a first copy was classified twice"
    assert set(firsts) == set(copies)
    lost = {(r.key, int(r.socket)) for r in rows if r.status == "lost"}
    assert not lost & set(firsts), "a socket both lost and received an event"
    for row in rows:
        if row.status == "late":
            assert row.t_recv is not None and row.t_recv - row.t_send > LATE_AFTER
        if row.status == "delivered":
            assert row.t_recv is not None and row.t_recv - row.t_send <= LATE_AFTER
    status = Counter((r.kind, r.status) for r in rows)
    for kind in KINDS:
        c = tracker.counts[kind]
        assert c.delivered == status[kind, "delivered"] + status[kind, "late"]
        assert c.late == status[kind, "late"]
        assert c.lost == status[kind, "lost"]
        assert c.optional == status[kind, "optional"]
        assert c.duplicates == status[kind, "duplicate"]
        assert c.delivered + c.lost == c.expected
        assert c.late <= c.delivered
        assert sum(1 for k, _, _ in recorded if k == kind) == c.delivered + c.optional
    assert tracker.unmatched == 0 and tracker.pending() == 0
