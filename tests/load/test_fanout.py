"""The fan-out tracker with no I/O: sends, receipts and socket lifetimes in, outcomes out."""

from __future__ import annotations

import pytest

from wsprobe.load.fanout import CHAT, LEAVE, STATUS, Delivery, FanoutTracker, Sent, SocketId

MS = 1000


def _tracker() -> tuple[FanoutTracker, list[tuple[str, int, int]], list[Delivery]]:
    recorded: list[tuple[str, int, int]] = []
    rows: list[Delivery] = []
    tracker = FanoutTracker(late_after=500 * MS, loss_timeout=2000 * MS,
                            record=lambda k, a, s: recorded.append((k, a, s)),
                            on_delivery=rows.append)
    # alice has sockets 1 and 2, bob socket 3, carol socket 4; all registered at t=0
    for sock, user in ((1, "alice"), (2, "alice"), (3, "bob"), (4, "carol")):
        tracker.socket_opened(SocketId(sock), user)
        tracker.socket_registered(SocketId(sock), 0)
    return tracker, recorded, rows


def test_broadcast_delivered_everywhere_but_the_sender() -> None:
    """A status from alice is expected at bob and carol, not at alice's own sockets."""
    tracker, recorded, _ = _tracker()
    tracker.sent(Sent("s1", STATUS, "alice", None, 10 * MS, 11 * MS), local=True)
    tracker.received("s1", SocketId(3), 14 * MS)
    tracker.received("s1", SocketId(4), 15 * MS)
    outcomes = tracker.due(11 * MS + 2000 * MS)
    assert [(o.expected, o.delivered, o.lost, o.last_recv) for o in outcomes] == [(2, 2, 0, 15 * MS)]
    assert recorded == [(STATUS, 3 * MS, 4 * MS), (STATUS, 4 * MS, 5 * MS)]
    assert tracker.counts[STATUS].as_dict() == {
        "events": 1, "expected": 2, "delivered": 2, "lost": 0, "duplicates": 0, "late": 0,
        "optional": 0, "negative": 0}


@pytest.mark.parametrize(
    ("receipts", "field", "value"),
    [
        ([(3, 14)], "lost", 1),
        ([(3, 14), (4, 15), (4, 16)], "duplicates", 1),
        ([(3, 14), (4, 900)], "late", 1),
        ([(3, 14), (4, 15), (1, 15)], "optional", 1),
    ],
    ids=["missing-receiver-is-lost", "second-copy-is-duplicate", "slow-copy-is-late",
         "copy-at-sender-is-optional"],
)
def test_receiver_outcomes(receipts: list[tuple[int, int]], field: str, value: int) -> None:
    """Each receiver's copies are classified: lost, duplicate, late or optional."""
    tracker, _, _ = _tracker()
    tracker.sent(Sent("s1", STATUS, "alice", None, 10 * MS, 11 * MS), local=True)
    for sock, t in receipts:
        tracker.received("s1", SocketId(sock), t * MS)
    tracker.finalize_all()
    counts = tracker.counts[STATUS]
    assert getattr(counts, field) == value
    assert counts.delivered + counts.lost == counts.expected


def test_receipt_before_send_record_waits_for_it() -> None:
    """A receipt relayed before its send record (another worker's event) is matched later."""
    tracker, recorded, _ = _tracker()
    tracker.received("c1", SocketId(3), 20 * MS)
    tracker.received("c1", SocketId(3), 21 * MS)
    assert recorded == []
    tracker.sent(Sent("c1", CHAT, "alice", "bob", 10 * MS, 12 * MS), local=False)
    assert recorded == [(CHAT, 8 * MS, 10 * MS)]
    tracker.finalize_all()
    counts = tracker.counts[CHAT]
    assert (counts.events, counts.expected, counts.delivered, counts.duplicates) == (0, 1, 1, 1)


def test_sockets_registered_after_or_closing_during_the_send_are_not_expected() -> None:
    """A socket that registered after the send, or began closing right after it, may miss it."""
    tracker, _, _ = _tracker()
    tracker.socket_opened(SocketId(5), "dave")
    tracker.socket_registered(SocketId(5), 12 * MS)
    tracker.socket_closing(SocketId(4), 100 * MS)
    tracker.sent(Sent("s1", STATUS, "alice", None, 10 * MS, 11 * MS), local=True)
    tracker.received("s1", SocketId(3), 14 * MS)
    (outcome,) = tracker.finalize_all()
    assert (outcome.expected, outcome.delivered, outcome.lost) == (1, 1, 0)


def test_unmatched_receipt_and_negative_latency_are_counted() -> None:
    """A marker never sent is unmatched; a receipt before the send (clock skew) is negative."""
    tracker, recorded, _ = _tracker()
    tracker.received("ghost", SocketId(3), 5 * MS)
    tracker.sent(Sent("c1", CHAT, "alice", "bob", 10 * MS, 10 * MS), local=True)
    tracker.received("c1", SocketId(3), 9 * MS)
    assert tracker.due(5 * MS + 2000 * MS) == []
    assert tracker.unmatched == 1
    assert tracker.counts[CHAT].negative == 1
    assert recorded == [(CHAT, 0, 0)]


def test_lost_deliveries_are_logged_as_rows() -> None:
    """The raw log gets one row per first copy and one per loss."""
    tracker, _, rows = _tracker()
    tracker.sent(Sent("c1", CHAT, "carol", "alice", 10 * MS, 10 * MS), local=True)
    tracker.received("c1", SocketId(1), 13 * MS)
    tracker.finalize_all()
    assert [(r.socket, r.status, r.latency) for r in rows] == [(1, "delivered", 3 * MS),
                                                                (2, "lost", None)]


def test_receipt_long_before_the_send_is_another_event() -> None:
    """A marker seen well before the send naming it (a reconnect's leave) is not its delivery."""
    tracker, recorded, _ = _tracker()
    tracker.received("l|alice", SocketId(3), 10 * MS)
    tracker.sent(Sent("l|alice", STATUS, "alice", None, 900 * MS, 900 * MS), local=True)
    tracker.received("l|alice", SocketId(3), 902 * MS)
    tracker.finalize_all()
    assert tracker.unmatched == 1
    assert recorded == [(STATUS, 2 * MS, 2 * MS)]
    assert tracker.counts[STATUS].duplicates == 0


def test_a_state_shown_again_is_not_a_duplicate() -> None:
    """A leave seen in one get-users list and again in later lists (a server re-broadcasting on
    every change, or one whose lists arrive out of order) is delivered once, duplicated never."""
    tracker, _, rows = _tracker()
    tracker.sent(Sent("l|alice", LEAVE, "alice", None, 10 * MS, 10 * MS), local=True)
    for t in (12, 15, 40):
        tracker.observed("l|alice", SocketId(3), t * MS)
    tracker.received("l|alice", SocketId(4), 13 * MS)
    tracker.received("l|alice", SocketId(4), 14 * MS)  # a message kind's second copy would be one
    tracker.finalize_all()
    counts = tracker.counts[LEAVE]
    assert (counts.delivered, counts.duplicates) == (2, 1)
    assert [r.status for r in rows if r.socket == 3] == ["delivered"]
