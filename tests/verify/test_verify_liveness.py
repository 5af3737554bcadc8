"""A server that dies, stalls, refuses or is not there yet: named once, never a cascade."""

from __future__ import annotations

import asyncio
import contextlib
import time

from tests.verify.conftest import verify_url
from wsprobe.core import Decoded
from wsprobe.scenario.events import CaseFinished, RunFinished, Status
from wsprobe.server import Action, Hub, ServerConfig, SocketId, running


def test_server_that_dies_is_named_at_the_check_that_killed_it():
    """A backend that shuts down on a binary frame: the check that sent it is where the server
    stopped responding; every later check is reported as not run, quickly."""
    async def main() -> None:
        died = asyncio.Event()

        class DiesOnBinary(Hub):
            def reject(self, sock: SocketId, decoded: Decoded) -> list[Action]:
                if decoded.problems[0].code == "binary":
                    died.set()
                return super().reject(sock, decoded)

        async with contextlib.AsyncExitStack() as stack:
            server = await stack.enter_async_context(
                running(ServerConfig(port=0), DiesOnBinary))

            async def kill() -> None:
                await died.wait()
                await stack.aclose()  # the listening socket and every connection go away

            killer = asyncio.create_task(kill())
            started = time.monotonic()
            result, events = await verify_url(server.url)
            took = time.monotonic() - started
            await killer
        stopped = [c for c in result.checks if c.server_stopped]
        assert [c.name for c in stopped] == ["bad-input-answer"]
        assert stopped[0].status is Status.FAILED
        assert "stopped responding" in stopped[0].reason or any(
            "stopped responding" in f.title for f in stopped[0].findings)
        after = result.checks[result.checks.index(stopped[0]) + 1:]
        assert after and all(c.status is Status.SKIPPED for c in after)
        assert all("stopped responding during R2 bad-input-answer" in (c.note or "")
                   for c in after)
        assert result.exit_code == 1
        assert took < 10
        finished = [e for e in events.events if isinstance(e, CaseFinished)]
        assert len(finished) == len(result.checks)
        assert isinstance(events.events[-1], RunFinished)
    asyncio.run(main())


def test_unreachable_target_is_exit_3_and_nothing_else():
    """Nothing listens: exit 3, every check not run, one reason."""
    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        result, _ = await verify_url(f"ws://127.0.0.1:{port}/ws/ws")
        assert result.exit_code == 3
        assert result.error is not None and "refused" in result.error
        assert all(c.status is Status.SKIPPED for c in result.checks)
    asyncio.run(main())


def test_refused_handshake_is_exit_3_with_the_status():
    """A server that wants a token and gets none: exit 3, and the reason says HTTP 401."""
    async def main() -> None:
        async with running(ServerConfig(port=0, token="s3cret")) as server:
            result, _ = await verify_url(server.url)
        assert result.exit_code == 3
        assert result.error is not None and "401" in result.error
    asyncio.run(main())


def test_wait_for_retries_until_the_server_is_up():
    """--wait-for: a server that starts 0.5 s after verify is still verified."""
    async def main() -> None:
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()

        async def start_late() -> None:
            await asyncio.sleep(0.5)
            async with running(ServerConfig(port=port)):
                await asyncio.sleep(5)

        late = asyncio.create_task(start_late())
        result, _ = await verify_url(f"ws://127.0.0.1:{port}/ws/ws", wait_for=5.0,
                                     checks=("registration-answer",))
        late.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await late
        assert result.exit_code == 0, result.error
    asyncio.run(main())


class Mute(Hub):
    """Accepts every socket and never answers."""

    def receive(self, sock: SocketId, frame: str | bytes, now: float) -> list[Action]:
        return []


def test_run_time_limit_stops_the_run_and_names_where():
    """--run-timeout: the check running when it expires says so; the rest are not run."""
    async def main() -> None:
        async with running(ServerConfig(port=0), Mute) as server:
            started = time.monotonic()
            result, _ = await verify_url(server.url, run_timeout=1.5, timeout=1.0)
            took = time.monotonic() - started
        timed_out = [c for c in result.checks
                     if any(f.code == "run-timeout" for f in c.findings)]
        assert len(timed_out) == 1
        later = result.checks[result.checks.index(timed_out[0]) + 1:]
        assert later and all("time limit" in (c.note or "") for c in later)
        assert result.exit_code == 1
        assert took < 4
    asyncio.run(main())
