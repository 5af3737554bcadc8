"""X1 and X2 against backends whose Origin or token checks are there but wrong."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.http11 import Request, Response

from tests.verify import other_backend
from tests.verify.conftest import verify_url

ALLOWED, FOREIGN = "https://app.example", "https://app.example.evil.example"


def prefix_origin_gate(connection: ServerConnection, request: Request) -> Response | None:
    """The classic bug: the allow-list is checked with startswith()."""
    origin = request.headers.get("Origin")
    if origin is not None and not origin.startswith(ALLOWED):
        return connection.respond(403, "bad origin\n")
    return None


def lax_token_gate(connection: ServerConnection, request: Request) -> Response | None:
    """Another classic: a wrong token is refused, but no token at all gets through."""
    token = parse_qs(urlsplit(request.path).query).get("token")
    if token is not None and token[-1] != "s3cret":
        return connection.respond(401, "bad token\n")
    return None


def run(gate: Any = None, on_open: Any = None, **options: Any) -> Any:
    async def main() -> Any:
        async with other_backend.serving(gate=gate, on_open=on_open) as url:
            result, _ = await verify_url(url, **options)
            return result
    return asyncio.run(main())


def test_origin_allow_list_matched_by_prefix_fails_x1():
    """An Origin that merely starts with the allowed one gets in: X1 fails, with the socket's
    registration as evidence."""
    result = run(prefix_origin_gate, allowed_origin=ALLOWED, foreign_origin=FOREIGN,
                 checks=("X1", "P3", "T1"))
    assert result.failed == {"origin-allow-list"}
    x1 = result.check("origin-allow-list")
    assert "registered and received the user list" in x1.reason
    assert any(fr.type == "get-users" for f in x1.findings for fr in f.frames)


def test_missing_token_let_through_fails_x2():
    """A server that refuses a wrong token but not a missing one fails X2 ("without a token")."""
    result = run(lax_token_gate, token="s3cret", checks=("X2", "P3", "C1"))
    assert result.failed == {"token-required"}
    assert "without a token" in result.check("token-required").reason


def test_closing_an_unauthenticated_socket_at_once_passes_x2():
    """Accepting the handshake but closing (1008) before anything is sent also keeps X2."""
    async def close_without_token(ws: ServerConnection) -> bool:
        assert ws.request is not None
        if parse_qs(urlsplit(ws.request.path).query).get("token") != ["s3cret"]:
            await ws.close(1008, "token required")
            return True
        return False

    result = run(on_open=close_without_token, token="s3cret", checks=("X2", "P3"))
    assert result.exit_code == 0, [c.reason for c in result.checks]
