"""Every rule of protocol.md section 5, with real clients against ``wsprobe serve`` on port 0."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from wsprobe.server import Hub, Send, ServerConfig

SIGNAL = {"action": "call-request", "targetId": "bob", "channel": "c-42", "callType": "video",
          "timestamp": 1764115200000, "sdp": {"v": 0, "lines": ["a", "b"]}}


def chat(receiver: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "send-message", "data": {"receiverId": receiver, "text": text,
                                             "chatId": "c1", **extra}}


def signal(**data: Any) -> dict[str, Any]:
    return {"type": "agora-signal", "data": data}


# -- presence --------------------------------------------------------------------------------

def test_P1_get_users_lists_every_online_user_once_and_no_ghosts(serve):
    """get-users lists each online user once, and drops a user whose sockets all closed."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob1 = await s.user("bob")
        await s.user("bob")  # a second socket of bob: bob is still listed once
        frame = await alice.expect("get-users", lambda f: "bob" in f["data"])
        assert frame["data"] == ["alice", "bob"]
        carol = await s.user("carol")
        frame = await alice.expect("get-users", lambda f: "carol" in f["data"])
        assert sorted(frame["data"]) == ["alice", "bob", "carol"]
        await bob1.expect("get-users", lambda f: "carol" in f["data"])
        await carol.close()
        frame = await bob1.expect("get-users", lambda f: "carol" not in f["data"])
        assert sorted(frame["data"]) == ["alice", "bob"]
    serve(scenario)


def test_P2_user_stays_online_while_any_socket_is_open(serve):
    """Closing one of two sockets of a user keeps the user online; closing both does not."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob1 = await s.user("bob")
        bob2 = await s.user("bob")
        await alice.drain()
        await bob1.close()
        await alice.quiet()  # no get-users without bob, no offline
        late = await s.connect("late")
        frame = await late.register("late")
        assert sorted(frame["data"]) == ["alice", "bob", "late"]
        await bob2.close()
        frame = await alice.expect("get-users", lambda f: "bob" not in f["data"])
        assert sorted(frame["data"]) == ["alice", "late"]
    serve(scenario)


def test_P3_each_socket_gets_get_users_after_its_own_new_user_add(serve):
    """The first socket, a second socket of the same user and a repeated registration each get one."""
    async def scenario(s) -> None:
        first = await s.connect("first")
        await first.send({"type": "new-user-add", "userId": "alice"})
        assert (await first.recv()) == {"type": "get-users", "data": ["alice"]}
        second = await s.connect("second")
        await second.send({"type": "new-user-add", "userId": "alice"})
        assert (await second.recv()) == {"type": "get-users", "data": ["alice"]}
        await first.quiet()  # the online set did not change
        await second.send({"type": "new-user-add", "userId": "alice"})
        assert (await second.recv()) == {"type": "get-users", "data": ["alice"]}
    serve(scenario)


@pytest.mark.parametrize("frame", [
    {"type": "new-user-add", "userId": ""},
    {"type": "new-user-add"},
    {"type": "new-user-add", "userId": 42},
    {"type": "new-user-add", "userId": None},
    {"type": "new-user-add", "data": {"userId": ""}},
    {"type": "new-user-add", "data": {}},
], ids=["empty", "missing", "number", "null", "data-empty", "data-missing"])
def test_P4_invalid_id_registers_nothing(serve, frame):
    """new-user-add with an empty, missing or non-string id registers nothing and gets an error."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bad = await s.connect("bad")
        await bad.send(frame)
        error = await bad.expect("error")
        assert error["data"]["code"] == "invalid-message"
        assert error["data"]["ref"] == "new-user-add"
        await alice.quiet("get-users")
        assert s.hub.online() == ("alice",)
        await bad.send(chat("alice", "hi"))
        assert (await bad.expect("error"))["data"]["code"] == "not-registered"
    serve(scenario)


def test_P4_accepts_data_user_id_form(serve):
    """new-user-add with the id in data.userId registers too (SHOULD)."""
    async def scenario(s) -> None:
        client = await s.connect()
        await client.send({"type": "new-user-add", "data": {"userId": "dana"}})
        assert (await client.recv()) == {"type": "get-users", "data": ["dana"]}
    serve(scenario)


def test_P5_status_relayed_to_every_other_user_with_registered_id(serve):
    """A status reaches every socket of every other user, with the sender's registered id."""
    async def scenario(s) -> None:
        alice1 = await s.user("alice")
        alice2 = await s.user("alice")
        bob1 = await s.user("bob")
        bob2 = await s.user("bob")
        carol = await s.user("carol")
        for c in (alice1, alice2, bob1, bob2, carol):
            await c.drain(0.05)
        await alice1.send({"type": "user-status-update",
                           "data": {"userId": "mallory", "status": "away", "lastSeen": 17}})
        for receiver in (bob1, bob2, carol):
            frame = await receiver.expect("user-status-update")
            assert frame["data"] == {"userId": "alice", "status": "away", "lastSeen": 17}
            await receiver.quiet("user-status-update")  # exactly once
        await alice1.quiet()
        await alice2.quiet()
    serve(scenario)


def test_P6_offline_status_when_last_socket_closes(serve):
    """Others get user-status-update offline when a user's last socket closes, not before."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob1 = await s.user("bob")
        bob2 = await s.user("bob")
        await alice.drain(0.05)
        await bob1.close()
        await alice.quiet("user-status-update")
        await bob2.close()
        frame = await alice.expect("user-status-update")
        assert frame["data"] == {"userId": "bob", "status": "offline"}
    serve(scenario)


# -- chat ------------------------------------------------------------------------------------

def test_C1_delivered_once_to_every_socket_of_receiver_and_no_one_else(serve):
    """A message reaches each of the receiver's sockets exactly once; no cross-talk."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob1 = await s.user("bob")
        bob2 = await s.user("bob")
        bob3 = await s.user("bob")
        carol = await s.user("carol")
        for c in (alice, bob1, bob2, bob3, carol):
            await c.drain(0.05)
        await alice.send(chat("bob", "hi bob", messageId="m-1"))
        for bob in (bob1, bob2, bob3):
            frame = await bob.expect("receive-message")
            assert frame["data"]["text"] == "hi bob"
            assert frame["data"]["messageId"] == "m-1"
            await bob.quiet("receive-message")
        await carol.quiet()
        await alice.quiet()
    serve(scenario)


@pytest.mark.parametrize("body_sender", [None, "alice", "mallory"], ids=["absent", "same", "forged"])
def test_C2_sender_id_is_the_registered_id(serve, body_sender):
    """receive-message.senderId is the sending socket's id, whatever the body says."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        extra = {} if body_sender is None else {"senderId": body_sender}
        await alice.send(chat("bob", "who am I", **extra))
        frame = await bob.expect("receive-message")
        assert frame["data"]["senderId"] == "alice"
    serve(scenario)


def test_C3_messages_arrive_in_order(serve):
    """Messages from one sender to one receiver arrive in the order sent, at each socket."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob1 = await s.user("bob")
        bob2 = await s.user("bob")
        for i in range(60):
            await alice.send(chat("bob", str(i)))
        for bob in (bob1, bob2):
            texts = [(await bob.expect("receive-message"))["data"]["text"] for _ in range(60)]
            assert texts == [str(i) for i in range(60)]
    serve(scenario)


def test_C4_unregistered_socket_cannot_send(serve):
    """A socket that has not registered gets error not-registered and delivers nothing."""
    async def scenario(s) -> None:
        bob = await s.user("bob")
        anon = await s.connect("anon")
        await anon.send(chat("bob", "psst"))
        error = await anon.expect("error")
        assert error["data"]["code"] == "not-registered"
        assert error["data"]["ref"] == "send-message"
        await bob.quiet("receive-message")
    serve(scenario)


def test_C5_message_to_offline_user_gets_receiver_offline(serve):
    """A message to a user with no open socket gets error receiver-offline."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        await alice.send(chat("nobody", "hello?"))
        error = await alice.expect("error")
        assert error["data"] == {"code": "receiver-offline", "message": error["data"]["message"],
                                 "ref": "send-message"}
    serve(scenario)


def test_C6_delivery_type_is_spelled_receive_message(serve):
    """The delivery's type is exactly 'receive-message', never 'recieve-message'."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        await bob.drain(0.05)
        await alice.send(chat("bob", "spelling"))
        frame = await bob.recv()
        assert frame["type"] == "receive-message"
    serve(scenario)


# -- call signalling -------------------------------------------------------------------------

def test_S1_signal_reaches_every_target_socket_unchanged_with_sender_id(serve):
    """agora-signal reaches each socket of targetId only, data unchanged plus the sender id twice."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob1 = await s.user("bob")
        bob2 = await s.user("bob")
        carol = await s.user("carol")
        for c in (alice, bob1, bob2, carol):
            await c.drain(0.05)
        await alice.send(signal(**SIGNAL))
        for bob in (bob1, bob2):
            frame = await bob.expect("agora-signal")
            assert frame == {"type": "agora-signal", "userId": "alice",
                             "data": {**SIGNAL, "senderId": "alice"}}
            await bob.quiet("agora-signal")
        await carol.quiet()
        await alice.quiet()
    serve(scenario)


@pytest.mark.parametrize("missing", ["channel", "callType"])
def test_S2_call_request_without_channel_or_call_type_is_not_relayed(serve, missing):
    """A call-request without channel or callType gets invalid-message and reaches no one."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        data = {k: v for k, v in SIGNAL.items() if k != missing}
        await alice.send(signal(**data))
        error = await alice.expect("error")
        assert error["data"]["code"] == "invalid-message"
        assert error["data"]["ref"] == "agora-signal"
        await bob.quiet("agora-signal")
    serve(scenario)


def test_S3_peer_disconnect_ends_accepted_call(serve):
    """When a party of an accepted call drops, the other gets call-ended peer-disconnected."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob1 = await s.user("bob")
        bob2 = await s.user("bob")
        await alice.send(signal(**SIGNAL))
        await bob1.expect("agora-signal")
        await bob1.send(signal(action="call-accepted", targetId="alice", channel="c-42"))
        await alice.expect("agora-signal", lambda f: f["data"]["action"] == "call-accepted")
        await alice.close()
        for bob in (bob1, bob2):
            frame = await bob.expect("agora-signal", lambda f: f["data"]["action"] == "call-ended")
            assert frame["userId"] == "alice"
            assert frame["data"]["reason"] == "peer-disconnected"
            assert frame["data"]["senderId"] == "alice"
            assert frame["data"]["channel"] == "c-42"
    serve(scenario)


def test_S3_no_call_ended_after_call_ended_or_without_acceptance(serve):
    """A call already ended, or never accepted, sends no call-ended when a party drops."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        carol = await s.user("carol")
        await alice.send(signal(**SIGNAL))
        await bob.send(signal(action="call-accepted", targetId="alice", channel="c-42"))
        await bob.send(signal(action="call-ended", targetId="alice", channel="c-42"))
        await alice.expect("agora-signal", lambda f: f["data"]["action"] == "call-ended")
        await carol.send(signal(**{**SIGNAL, "targetId": "alice", "channel": "c-7"}))
        await alice.expect("agora-signal", lambda f: f["data"]["channel"] == "c-7")
        await alice.close()
        ended = {"action": "call-ended", "reason": "peer-disconnected"}
        for other in (bob, carol):
            await other.quiet("agora-signal", lambda f: f["data"].items() >= ended.items())
    serve(scenario)


def test_S4_server_keeps_serving_after_party_drops_mid_call(serve):
    """After a party drops mid-call, the other party and newcomers are served as usual."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        carol = await s.user("carol")
        await alice.send(signal(**SIGNAL))
        await bob.send(signal(action="call-accepted", targetId="alice", channel="c-42"))
        await alice.expect("agora-signal")
        alice.conn.transport.abort()  # no closing handshake: a dropped network
        await bob.expect("agora-signal", lambda f: f["data"]["action"] == "call-ended")
        dave = await s.user("dave")
        await bob.send(chat("carol", "still here"))
        assert (await carol.expect("receive-message"))["data"]["text"] == "still here"
        await dave.send(signal(**{**SIGNAL, "targetId": "bob"}))
        assert (await bob.expect("agora-signal"))["userId"] == "dave"
    serve(scenario)


# -- robustness ------------------------------------------------------------------------------

BAD_FRAMES = [
    ("invalid-json", "{not json", "invalid-json"),
    ("not-object", "[1, 2, 3]", "invalid-message"),
    ("string", '"hello"', "invalid-message"),
    ("missing-type", '{"data": {}}', "invalid-message"),
    ("empty-type", '{"type": ""}', "invalid-message"),
    ("unknown-type", '{"type": "launch-missiles", "data": {}}', "unknown-type"),
    ("server-type", '{"type": "get-users", "data": []}', "unknown-type"),
    ("schema-invalid", '{"type": "send-message", "data": {"receiverId": 5, "text": "x"}}',
     "invalid-message"),
    ("bad-status", '{"type": "user-status-update", "data": {"userId": "x", "status": "zzz"}}',
     "invalid-message"),
    ("deep", "[" * 100_00 + "]" * 100_00, "invalid-json"),
]
BAD_CLOSES = [
    ("binary", b"\x00\x01binary", 1003),
    ("oversized", '{"type":"send-message","data":{"text":"' + "x" * 70_000 + '"}}', 1009),
]


@pytest.mark.parametrize(("frame", "code"), [(f, c) for _, f, c in BAD_FRAMES],
                         ids=[i for i, _, _ in BAD_FRAMES])
def test_R1_R2_bad_frame_gets_error_and_disturbs_no_one(serve, frame, code):
    """A bad frame gets an error with its code, keeps the socket open and disturbs no one."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        await bob.drain(0.05)
        await alice.send(frame)
        error = await alice.expect("error")
        assert error["data"]["code"] == code
        assert error["data"]["message"]
        await bob.quiet()
        await alice.send(chat("bob", "after"))  # same socket still served
        assert (await bob.expect("receive-message"))["data"]["text"] == "after"
    serve(scenario)


@pytest.mark.parametrize(("frame", "close_code"), [(f, c) for _, f, c in BAD_CLOSES],
                         ids=[i for i, _, _ in BAD_CLOSES])
def test_R1_R2_binary_or_oversized_frame_closes_with_code(serve, frame, close_code):
    """A binary frame closes with 1003, an oversized one with 1009; everyone else carries on."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        carol = await s.user("carol")
        await alice.send(frame)
        assert await alice.closed() == close_code
        await bob.expect("get-users", lambda f: "alice" not in f["data"])
        await bob.send(chat("carol", "fine"))
        assert (await carol.expect("receive-message"))["data"]["text"] == "fine"
        await s.user("alice")  # and alice may come back
    serve(scenario)


def test_R1_R2_invalid_utf8_closes_with_1007(serve):
    """A text frame that is not UTF-8 closes that socket with 1007; the server carries on."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        # bypass the client's encoding: a text frame with raw invalid bytes
        alice.conn.protocol.send_text(b'{"type":"new-user-add","userId":"\xff\xfe"}')
        alice.conn.send_data()
        assert await alice.closed() == 1007
        await bob.expect("get-users", lambda f: "alice" not in f["data"])
        await s.user("carol")
    serve(scenario)


def test_R3_accepts_connections_and_registrations_at_all_times(serve):
    """200 sockets connect and register concurrently while a silent client reads nothing."""
    async def scenario(s) -> None:
        sleeper = await s.user("sleeper")  # never reads again: its buffer fills, no one waits
        alice = await s.user("alice")
        users = [f"u{i}" for i in range(200)]
        clients = await asyncio.gather(*(s.connect(u) for u in users))
        await asyncio.gather(*(c.register(u) for c, u in zip(clients, users, strict=True)))
        frame = await alice.expect("get-users", lambda f: len(f["data"]) == 202)
        assert set(frame["data"]) == {"sleeper", "alice", *users}
        await clients[0].send(chat("u199", "through"))
        assert (await clients[199].expect("receive-message"))["data"]["text"] == "through"
        assert sleeper.conn.close_code is None
    serve(scenario)


# -- security --------------------------------------------------------------------------------

ORIGINS = ServerConfig(port=0, allowed_origins=("https://chat.example",))


def test_X1_foreign_origin_refused(serve):
    """With an Origin allow-list, a handshake from another Origin is refused with 403."""
    async def scenario(s) -> None:
        with pytest.raises(InvalidStatus) as refused:
            await s.connect(origin="https://evil.example")
        assert refused.value.response.status_code == 403
        ok = await s.connect(origin="https://chat.example")
        await ok.register("alice")
    serve(scenario, ORIGINS)


def test_X2_missing_or_wrong_token_refused_before_open(serve):
    """With --token, no token or a wrong one is refused with 401 before the WebSocket opens."""
    async def scenario(s) -> None:
        for url in (s.url, s.url + "?token=wrong", s.url + "?token="):
            with pytest.raises(InvalidStatus) as refused:
                await s.connect(url=url)
            assert refused.value.response.status_code == 401
        ok = await s.connect(url=s.url + "?token=s3cret")
        await ok.register("alice")
    serve(scenario, ServerConfig(port=0, token="s3cret"))


def test_X3_frame_size_limit(serve):
    """A frame over --max-size closes the socket with 1009; one just under is served."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        room = 1024 - len(json.dumps(chat("bob", "")))
        await alice.send(chat("bob", "x" * (room - 1)))  # 1,023 bytes
        assert (await bob.expect("receive-message"))["data"]["text"].startswith("x")
        await alice.send(chat("bob", "x" * 1024))
        assert await alice.closed() == 1009
    serve(scenario, ServerConfig(port=0, max_size=1024))


def test_X3_rate_limit(serve):
    """Past the per-socket burst, frames get error rate-limited and are not delivered."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        for i in range(40):  # burst is max(2 * 5, 10) = 10, minus the registration
            await alice.send(chat("bob", str(i)))
        limited: list[dict[str, Any]] = []
        delivered: list[dict[str, Any]] = []
        for _ in range(10):  # until every one of the 40 is accounted for (at most ~2 s)
            limited += [f for f in await alice.drain(0.1) if f["type"] == "error"]
            delivered += [f for f in await bob.drain(0.1) if f["type"] == "receive-message"]
            if len(limited) + len(delivered) >= 40:
                break
        assert all(f["data"]["code"] == "rate-limited" for f in limited)
        assert 9 <= len(delivered) < 20  # the burst, plus what 5/s refills meanwhile
        assert len(delivered) + len(limited) == 40
    serve(scenario, ServerConfig(port=0, rate_limit=5))


def test_R3_slow_reader_is_dropped_and_never_delays_others(serve):
    """A client that stops reading under heavy traffic is dropped; others are served meanwhile."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        sleeper = await s.user("sleeper")
        await alice.expect("get-users", lambda f: "sleeper" in f["data"])
        sleeper.conn.transport.pause_reading()
        big = "z" * 60_000
        for i in range(300):  # 18 MB for the sleeper: more than the kernel buffers hold
            await alice.send(chat("sleeper", big, messageId=str(i)))
            if i == 150:
                await alice.send(chat("bob", "meanwhile"))
                assert (await bob.expect("receive-message"))["data"]["text"] == "meanwhile"
        frame = await alice.expect("get-users", lambda f: "sleeper" not in f["data"])
        assert frame["data"] == ["alice", "bob"]
    serve(scenario, ServerConfig(port=0, rate_limit=None, max_backlog=1024 * 1024))


class _CrashingHub(Hub):
    def relay_status(self, sock, user, message):
        raise RuntimeError("bug in a subclass")


def test_R1_a_hub_failure_is_logged_and_the_server_carries_on(serve, caplog):
    """An exception inside the hub is logged; that socket and the others keep working."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        await alice.send({"type": "user-status-update", "data": {"userId": "alice", "status": "away"}})
        await alice.send(chat("bob", "still here"))
        assert (await bob.expect("receive-message"))["data"]["text"] == "still here"
    serve(scenario, hub_factory=_CrashingHub)
    assert "bug in a subclass" in caplog.text



class _SurrogateHub(Hub):
    def relay_status(self, sock, user, message):
        unencodable = Send(self.registered_sockets(), '{"type":"x","data":"\ud800"}')
        return [unencodable, *super().relay_status(sock, user, message)]


def test_R1_a_frame_that_is_not_utf8_is_skipped_not_fatal(serve):
    """A hub that returns text with a lone surrogate: that frame is skipped, the rest goes out."""
    async def scenario(s) -> None:
        alice = await s.user("alice")
        bob = await s.user("bob")
        await alice.send({"type": "user-status-update", "data": {"userId": "alice", "status": "away"}})
        assert (await bob.expect("user-status-update"))["data"]["status"] == "away"
        await alice.send(chat("bob", "and more"))
        assert (await bob.expect("receive-message"))["data"]["text"] == "and more"
    serve(scenario, hub_factory=_SurrogateHub)
