"""Verify against a backend wsprobe did not write: the report names exactly what is broken."""

from __future__ import annotations

import asyncio

from tests.verify import other_backend
from tests.verify.conftest import verify_url
from wsprobe.core import Direction
from wsprobe.scenario.events import Status


def test_other_backend_report_names_the_bug_and_nothing_that_holds():
    """The misspelled delivery type fails C6 with the frame as evidence; the sender named only in
    data.senderId is a SHOULD warning; every other check passes (objects in get-users too)."""
    async def main() -> None:
        async with other_backend.serving() as url:
            result, _ = await verify_url(url)
        assert result.failed == {"receive-message-spelling"}
        assert result.warned == {"signal-sender-fields"}
        assert result.exit_code == 1
        c6 = result.check("receive-message-spelling")
        evidence = [fr for f in c6.findings for fr in f.frames]
        assert evidence and evidence[0].type == "recieve-message"
        assert evidence[0].direction is Direction.SERVER
        assert "recieve-message" in c6.reason
        ran = {c.name for c in result.checks if c.status is not Status.SKIPPED}
        assert len(ran) == 26
    asyncio.run(main())


def test_other_backend_without_a_rate_limit_gets_an_x3_warning():
    """--aggressive: its frame size limit (1 MiB) holds; the missing rate limit is a warning."""
    async def main() -> None:
        async with other_backend.serving() as url:
            result, _ = await verify_url(url, checks=("X3",), aggressive=True,
                                         max_frame=2 * 1024 * 1024)
        assert result.check("frame-size-limit").status is Status.PASSED
        assert result.warned == {"rate-limit"}
    asyncio.run(main())
