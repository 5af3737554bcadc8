"""Is the server still there? A probe that connects and registers, used before the first check
(and by ``--wait-for``) and after each failing one, so that a server that crashed or stalled is
named at the check that caused it instead of giving every later check a time-out."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from wsprobe.core import SchemaSet
from wsprobe.scenario.session import Session, SocketState, StepFailed
from wsprobe.verify.config import VerifyConfig
from wsprobe.verify.context import UsersListed

__all__ = ["Probe", "probe", "wait_until_up"]


@dataclass(frozen=True, slots=True)
class Probe:
    """What a probe saw: the handshake (``refused`` says why not) and the registration answer."""

    connected: bool
    answered: bool
    refused: str | None = None
    status: int | None = None


async def probe(config: VerifyConfig, schemas: SchemaSet, user: str, *,
                form: str | None = None) -> Probe:
    """Open one socket, register ``user`` and wait for a ``get-users`` that lists it."""
    session = Session(config.target, schemas=schemas, step_timeout=config.timeout,
                      open_timeout=max(config.timeout, 2.0), close_timeout=0.5,
                      check_received=False, ssl_context=config.ssl_context())
    session.lenient = True
    async with session:
        sock = session.actor("probe").socket("s1")
        try:
            refusal = await sock.connect(origin=config.origin, headers=dict(config.headers),
                                         subprotocols=config.subprotocols, fatal=False)
        except StepFailed:
            refusal = None
        if refusal is not None or sock.state is not SocketState.OPEN:
            reason = refusal.reason if refusal else "the socket did not open"
            return Probe(False, False, reason, refusal.status if refusal else None)
        frame = ({"type": "new-user-add", "data": {"userId": user}}
                 if (form or config.register_form) == "data"
                 else {"type": "new-user-add", "userId": user})
        try:
            await sock.send(frame)
        except StepFailed:
            return Probe(True, False)
        got = await sock.receive("get-users", [UsersListed((user,))], timeout=config.timeout)
        return Probe(True, got is not None)
    return Probe(False, False, "the probe could not run")  # pragma: no cover  # swallowed step


async def wait_until_up(config: VerifyConfig, schemas: SchemaSet, user: str) -> Probe:
    """Probe until the handshake succeeds or ``config.wait_for`` seconds have passed."""
    deadline = time.monotonic() + config.wait_for
    delay = 0.1
    while True:
        seen = await probe(config, schemas, user)
        # an HTTP answer (e.g. 401, 403) is a server that is up and refusing: no point waiting
        if seen.connected or seen.status is not None or time.monotonic() + delay > deadline:
            return seen
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)
