"""``wsprobe serve`` options and the ways to run it: in a loop, in a thread, in a process."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
from typing import Any

import pytest
import trustme
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as sync_connect

import wsprobe.server
from wsprobe.errors import InputError
from wsprobe.server import BackgroundServer, ServerConfig, ServerStartError, running, spawn

URL_LINE = re.compile(r"^ws://127\.0\.0\.1:\d+/ws/ws$")


def register_sync(url: str, user: str, **kwargs: Any) -> list[str]:
    """Register over a blocking client; the get-users list it answers."""
    with sync_connect(url, open_timeout=2, **kwargs) as ws:
        ws.send(json.dumps({"type": "new-user-add", "userId": user}))
        users: list[str] = json.loads(ws.recv(timeout=2))["data"]
        return users


def test_other_path_gets_404(serve):
    """Only --path serves WebSockets; any other path is refused with HTTP 404."""
    async def scenario(s) -> None:
        base = s.url.removesuffix("/chat/socket")
        for path in ("/", "/ws/ws", "/chat", "/chat/socket/extra", "/CHAT/socket"):
            with pytest.raises(InvalidStatus) as refused:
                await s.connect(url=base + path)
            assert refused.value.response.status_code == 404
        custom = await s.connect()
        await custom.register("alice")
    serve(scenario, ServerConfig(port=0, path="/chat/socket"))


def test_allowed_origin_accepts_listed_and_absent_origins(serve):
    """Listed Origins and clients without Origin get in; an unlisted one gets 403."""
    async def scenario(s) -> None:
        for origin in ("https://a.example", "https://b.example"):
            ok = await s.connect(origin=origin)
            await ok.register(origin)
        await (await s.connect()).register("cli")
        with pytest.raises(InvalidStatus) as refused:
            await s.connect(origin="https://a.example.evil")
        assert refused.value.response.status_code == 403
    serve(scenario, ServerConfig(port=0, allowed_origins=("https://a.example",
                                                          "https://b.example")))


def test_server_answers_pings(serve):
    """The server answers a client's ping with a pong (RFC 6455)."""
    async def scenario(s) -> None:
        client = await s.user("alice")
        latency = await asyncio.wait_for(client.conn.ping(), 2)
        await asyncio.wait_for(latency, 2)
    serve(scenario)


def test_silent_client_is_closed_after_two_ping_intervals(serve):
    """A client that stops answering pings is closed and leaves the user list."""
    async def scenario(s) -> None:
        alice = await s.user("alice", ping_interval=None)
        bob = await s.user("bob", ping_interval=None)
        bob.conn.transport.pause_reading()  # bob's pings go unanswered
        frame = await alice.expect("get-users", lambda f: "bob" not in f["data"], timeout=3)
        assert frame["data"] == ["alice"]
    serve(scenario, ServerConfig(port=0, ping_interval=0.2))


def test_tls_with_a_test_ca(tmp_path, serve):
    """--certfile/--keyfile serve wss://, trusted through the test CA."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(certfile)
    cert.private_key_pem.write_to_path(keyfile)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def scenario(s) -> None:
        assert s.url.startswith("wss://127.0.0.1:")
        alice = await s.user("alice", ssl=client_ctx)
        await alice.send({"type": "send-message",
                          "data": {"receiverId": "alice", "text": "tls", "chatId": "c"}})
        assert (await alice.expect("receive-message"))["data"]["text"] == "tls"
        with pytest.raises(ssl.SSLCertVerificationError):
            await s.connect(ssl=ssl.create_default_context())  # not trusting the test CA
    serve(scenario, ServerConfig(port=0, certfile=certfile, keyfile=keyfile))


def test_bad_certificate_is_an_input_error(tmp_path):
    """A certificate file that is not a certificate is reported with its path."""
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")

    async def main() -> None:
        async with running(ServerConfig(port=0, certfile=bogus)):
            pass

    with pytest.raises(InputError, match=r"bogus\.pem"):
        asyncio.run(main())


def test_busy_port_is_an_input_error():
    """Listening on a port in use is reported as bad input, not a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()

        async def main() -> None:
            async with running(ServerConfig(port=taken.getsockname()[1])):
                pass

        with pytest.raises(InputError, match="cannot listen"):
            asyncio.run(main())


def test_background_server_serves_sync_callers():
    """BackgroundServer yields a URL a blocking client can use, and stops on exit."""
    with BackgroundServer(ServerConfig(port=0)) as url:
        assert URL_LINE.match(url)
        assert register_sync(url, "alice") == ["alice"]
    with pytest.raises(OSError):
        register_sync(url, "bob")


def test_background_server_reports_startup_failure(tmp_path):
    """A server that cannot start raises in the caller's thread."""
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("x")
    with pytest.raises(InputError), BackgroundServer(ServerConfig(port=0, certfile=bogus)):
        pass


def test_cli_prints_url_alone_and_exits_0_on_sigterm():
    """The CLI prints its URL alone on stdout, serves it, and SIGTERM exits 0."""
    with spawn(ServerConfig(port=0, token="t0k")) as server:
        assert URL_LINE.match(server.url)
        assert register_sync(server.url + "?token=t0k", "alice") == ["alice"]
        with pytest.raises(InvalidStatus):
            register_sync(server.url, "bob")
        assert server.stop() == 0
        assert server.process.stdout is not None
        assert "serving" in server.log()
        assert "Traceback" not in server.log()


def test_cli_exits_0_on_sigint():
    """SIGINT shuts the server down cleanly with exit code 0."""
    with spawn() as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(10) == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--keyfile", "pyproject.toml"], "keyfile needs certfile"),
    (["--certfile", "pyproject.toml"], "cannot use certificate"),
    (["--path", "ws"], "path must start with '/'"),
    (["--token", ""], "--token must not be empty"),
    (["--port", "70000"], "70000"),
], ids=["key-without-cert", "bad-cert", "relative-path", "empty-token", "port-range"])
def test_cli_bad_options_exit_2_without_traceback(args, message):
    """Bad options exit 2 with a one-line reason and no traceback."""
    done = subprocess.run([sys.executable, "-m", "wsprobe", "serve", "--port", "0", *args],
                          capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_config_cli_args_round_trip():
    """ServerConfig.cli_args() parses back into the same config."""
    from wsprobe.cli.serve import command
    config = ServerConfig(host="::1", port=0, path="/x", allowed_origins=("https://a", "https://b"),
                          token="t", max_size=1000, rate_limit=7.5, ping_interval=None)
    params = command.make_context("serve", config.cli_args()).params
    assert params["allowed_origins"] == config.allowed_origins
    assert (params["host"], params["port"], params["path"], params["token"]) == ("::1", 0, "/x", "t")
    assert (params["max_size"], params["rate_limit"], params["ping_interval"]) == (1000, 7.5, 0)
    assert config.url(1234) == "ws://[::1]:1234/x"


def test_defaults_free_port_in_python_fixed_port_on_the_cli():
    """ServerConfig() picks a free port; `wsprobe serve` alone listens on 8765."""
    from wsprobe.cli.serve import command
    assert ServerConfig().port == 0
    assert command.make_context("serve", []).params["port"] == 8765


def test_public_api_is_pinned():
    """The package's public names are deliberate and sorted."""
    assert wsprobe.server.__all__ == sorted(wsprobe.server.__all__)
    assert {"BackgroundServer", "Hub", "ServerConfig", "ServerProcess", "running",
            "spawn"} <= set(wsprobe.server.__all__)
    for name in wsprobe.server.__all__:
        assert getattr(wsprobe.server, name) is not None


def test_async_running_in_callers_loop():
    """running() serves in the caller's event loop and exposes the hub."""
    async def main() -> None:
        async with running(ServerConfig(port=0)) as server, connect(server.url) as ws:
            await ws.send('{"type":"new-user-add","userId":"alice"}')
            assert json.loads(await asyncio.wait_for(ws.recv(), 2))["data"] == ["alice"]
            assert server.hub.online() == ("alice",)
    asyncio.run(main())


def test_spawn_reports_a_server_that_cannot_start(tmp_path):
    """spawn() raises ServerStartError carrying the server's own message."""
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("x")
    with pytest.raises(ServerStartError, match="cannot use certificate"):
        spawn(ServerConfig(port=0, certfile=bogus))


def test_server_package_imports_nothing_heavy():
    """Importing wsprobe.server pulls in none of locust, gevent, pandas, click or rich."""
    code = ("import sys, wsprobe.server; "
            "print(','.join(m for m in ('locust', 'gevent', 'pandas', 'click', 'rich') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30, check=True)
    assert done.stdout.strip() == ""
