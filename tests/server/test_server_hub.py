"""The hub alone: literal frames in, actions out; no sockets, no clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wsprobe.server import Close, Hub, RateLimit, Send, SocketId, UserId, encode
from wsprobe.server.frames import Action

A1, A2, B1, B2, C1, X = (SocketId(i) for i in (1, 2, 3, 4, 5, 9))


def hub_with(*registrations: tuple[SocketId, str], hub: Hub | None = None) -> Hub:
    hub = hub or Hub()
    for sock, user in registrations:
        hub.open(sock)
        hub.receive(sock, json.dumps({"type": "new-user-add", "userId": user}), 0.0)
    return hub


def frames(actions: list[Action]) -> list[tuple[tuple[SocketId, ...], dict[str, Any]]]:
    out = []
    for action in actions:
        assert isinstance(action, Send)
        out.append((action.to, json.loads(action.text)))
    return out


def test_first_registration_answers_get_users_to_that_socket():
    """new-user-add -> get-users with that user, to the registering socket."""
    hub = Hub()
    hub.open(A1)
    actions = hub.receive(A1, '{"type":"new-user-add","userId":"alice"}', 0.0)
    assert actions == [Send((A1,), '{"type":"get-users","data":["alice"]}')]


def test_new_user_is_announced_to_every_registered_socket():
    """A user coming online sends get-users to every socket of every user, itself included."""
    hub = hub_with((A1, "alice"), (A2, "alice"))
    hub.open(B1)
    actions = hub.receive(B1, '{"type":"new-user-add","data":{"userId":"bob"}}', 0.0)
    assert frames(actions) == [((A1, A2, B1), {"type": "get-users", "data": ["alice", "bob"]})]


def test_second_socket_of_known_user_only_tells_that_socket():
    """A known user's new socket gets get-users; no one else hears of it."""
    hub = hub_with((A1, "alice"), (B1, "bob"))
    hub.open(A2)
    actions = hub.receive(A2, '{"type":"new-user-add","userId":"alice"}', 0.0)
    assert frames(actions) == [((A2,), {"type": "get-users", "data": ["alice", "bob"]})]


def test_registering_as_someone_else_is_forbidden():
    """A registered socket cannot switch identity."""
    hub = hub_with((A1, "alice"))
    actions = hub.receive(A1, '{"type":"new-user-add","userId":"bob"}', 0.0)
    [(_, error)] = frames(actions)
    assert error["data"]["code"] == "forbidden"
    assert hub.user_of(A1) == "alice"
    assert hub.online() == ("alice",)


def test_status_relay_skips_the_senders_own_sockets_and_uses_registered_id():
    """user-status-update goes to other users' sockets only, with the registered id."""
    hub = hub_with((A1, "alice"), (A2, "alice"), (B1, "bob"), (C1, "carol"))
    frame = '{"type":"user-status-update","data":{"userId":"zed","status":"away"}}\n'
    assert frames(hub.receive(A1, frame, 0.0)) == [
        ((B1, C1), {"type": "user-status-update", "data": {"userId": "alice", "status": "away"}}),
    ]


def test_chat_goes_to_every_socket_of_the_receiver_with_sender_from_socket():
    """send-message -> receive-message to each of bob's sockets, senderId overwritten."""
    hub = hub_with((A1, "alice"), (B1, "bob"), (B2, "bob"), (C1, "carol"))
    frame = ('{"type":"send-message","data":{"senderId":"carol","receiverId":"bob",'
             '"text":"hi","chatId":"c1"}}')
    assert frames(hub.receive(A1, frame, 0.0)) == [
        ((B1, B2), {"type": "receive-message",
                    "data": {"senderId": "alice", "receiverId": "bob", "text": "hi",
                             "chatId": "c1"}}),
    ]


def test_signal_is_relayed_with_sender_id_in_both_places():
    """agora-signal keeps data, adds data.senderId and top-level userId."""
    hub = hub_with((A1, "alice"), (B1, "bob"))
    frame = '{"type":"agora-signal","data":{"action":"ice","targetId":"bob","sdp":"x"}}'
    assert hub.receive(A1, frame, 0.0) == [Send((B1,), encode(
        "agora-signal", {"action": "ice", "targetId": "bob", "sdp": "x", "senderId": "alice"},
        user_id="alice"))]


def test_last_socket_closing_announces_offline_and_ends_calls():
    """Closing the last socket: get-users, offline status, call-ended to the call peer."""
    hub = hub_with((A1, "alice"), (A2, "alice"), (B1, "bob"))
    hub.receive(B1, '{"type":"agora-signal","data":{"action":"call-accepted","targetId":"alice",'
                    '"channel":"ch"}}', 0.0)
    assert hub.peers_of("alice") == {"bob"}
    assert hub.close(A1) == []
    assert frames(hub.close(A2)) == [
        ((B1,), {"type": "get-users", "data": ["bob"]}),
        ((B1,), {"type": "user-status-update", "data": {"userId": "alice", "status": "offline"}}),
        ((B1,), {"type": "agora-signal", "userId": "alice",
                 "data": {"action": "call-ended", "reason": "peer-disconnected",
                          "targetId": "bob", "senderId": "alice", "channel": "ch"}}),
    ]
    assert hub.peers_of("bob") == frozenset()


@pytest.mark.parametrize("ending", ["call-ended", "call-rejected", "call-cancelled"])
def test_ending_actions_forget_the_call(ending):
    """call-ended, call-rejected and call-cancelled end a tracked call."""
    hub = hub_with((A1, "alice"), (B1, "bob"))
    hub.receive(B1, '{"type":"agora-signal","data":{"action":"call-accepted","targetId":"alice"}}',
                0.0)
    hub.receive(A1, json.dumps({"type": "agora-signal",
                                "data": {"action": ending, "targetId": "bob"}}), 0.0)
    assert hub.peers_of("alice") == frozenset()
    assert [a for a in hub.close(A1) if "call-ended" in getattr(a, "text", "")] == []


@pytest.mark.parametrize(("frame", "code", "ref"), [
    ("{nope", "invalid-json", None),
    ("[]", "invalid-message", None),
    ("null", "invalid-message", None),
    ('{"data":1}', "invalid-message", None),
    ('{"type":7}', "invalid-message", None),
    ('{"type":"recieve-message","data":{}}', "unknown-type", "recieve-message"),
    ('{"type":"send-message","data":{"text":"x"}}', "invalid-message", "send-message"),
    ('{"type":"agora-signal","data":{"action":"call-request","targetId":"b"}}', "invalid-message",
     "agora-signal"),
    ('{"type":"user-status-update","data":{"userId":"a","status":"online"}}', "not-registered",
     "user-status-update"),
    ('{"type":"new-user-add","userId":""}', "invalid-message", "new-user-add"),
], ids=["json", "array", "null", "no-type", "type-number", "unknown", "schema", "call-request",
        "unregistered", "empty-id"])
def test_bad_frames_get_the_protocols_error_codes(frame, code, ref):
    """Each kind of bad frame gets an error with its code and the offending type as ref."""
    hub = Hub()
    hub.open(X)
    [(to, error)] = frames(hub.receive(X, frame, 0.0))
    assert to == (X,)
    assert error["type"] == "error"
    data = error["data"]
    assert data["code"] == code
    assert data.get("ref") == ref
    assert data["message"]
    assert hub.online() == ()


def test_binary_frame_closes_with_1003():
    """A binary frame is answered with a close 1003."""
    hub = Hub()
    hub.open(X)
    assert hub.receive(X, b"\x00", 0.0) == [Close(X, 1003, "binary frames are not accepted")]


def test_rate_limit_is_a_token_bucket_on_the_callers_clock():
    """Burst of 10 at once, then one more per 1/rate seconds."""
    hub = Hub(rate_limit=RateLimit(rate=5, burst=10))
    hub.open(X)
    ping = '{"type":"user-status-update","data":{"userId":"a","status":"online"}}'
    def code_at(now: float) -> str:
        [(_, error)] = frames(hub.receive(X, ping, now))
        return error["data"]["code"]

    assert [code_at(100.0) for _ in range(12)] == ["not-registered"] * 10 + ["rate-limited"] * 2
    assert code_at(100.2) == "not-registered"
    assert code_at(100.2) == "rate-limited"


def test_a_subclass_breaks_exactly_one_behaviour():
    """Overriding one method (here: the users list) changes that frame and nothing else."""
    class GhostHub(Hub):
        def users_frame(self) -> str:
            return encode("get-users", [*self.online(), "ghost"])

    hub = hub_with((A1, "alice"), hub=GhostHub())
    hub.open(B1)
    [(to, frame)] = frames(hub.receive(B1, '{"type":"new-user-add","userId":"bob"}', 0.0))
    assert to == (A1, B1)
    assert frame["data"] == ["alice", "bob", "ghost"]
    chat = '{"type":"send-message","data":{"receiverId":"bob","text":"t","chatId":"c"}}'
    assert frames(hub.receive(A1, chat, 0.0))[0][0] == (B1,)


def test_receive_on_unknown_socket_opens_it():
    """A frame from a socket the hub was not told about is handled as if it had opened."""
    hub = Hub()
    actions = hub.receive(X, '{"type":"new-user-add","userId":"u"}', 0.0)
    assert frames(actions) == [((X,), {"type": "get-users", "data": ["u"]})]
    assert hub.sockets_of(UserId("u")) == (X,)
