"""Run ``wsprobe verify`` against real servers on 127.0.0.1 port 0 (a broken hub, or another
backend), through the Python API, in the test's own event loop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from wsprobe.output import Recorder
from wsprobe.server import Hub, HubFactory, ServerConfig, running
from wsprobe.verify import REGISTRY, VerifyConfig, VerifyResult, select_checks, verify_async

#: quick time limits: a failing expectation costs 1 s, a "must not come" window 0.2 s
FAST = {"timeout": 1.0, "quiet": 0.2}


def config_for(url: str, **options: Any) -> VerifyConfig:
    """A verify config for ``url`` with the tests' quick time limits."""
    return VerifyConfig(url=url, given_url=url, seed=options.pop("seed", 7), **{**FAST, **options})


async def verify_url(url: str, **options: Any) -> tuple[VerifyResult, Recorder]:
    """Verify ``url`` with ``options`` (fields of VerifyConfig); the result and its events."""
    recorder = Recorder()
    result = await verify_async(config_for(url, **options), handlers=[recorder])
    return result, recorder


def verify_hub(hub: HubFactory = Hub, server: ServerConfig | None = None, **options: Any
               ) -> VerifyResult:
    """Serve ``hub`` on port 0 (with ``server`` options) and verify it."""
    async def main() -> VerifyResult:
        config = dataclasses.replace(server or ServerConfig(), port=0)
        async with running(config, hub) as srv:
            result, _ = await verify_url(srv.url, **options)
            return result
    return asyncio.run(main())


def neighbours(name: str, around: int = 1) -> tuple[str, ...]:
    """``name`` and the checks just before and after it in run order (a partial run that still
    shows the neighbours unaffected), as exact names."""
    import wsprobe.verify.checks  # noqa: F401  # registers the checks

    order = [s.name for s in REGISTRY.ordered() if not s.late]
    if name not in order:
        return (name,)
    i = order.index(name)
    return tuple(order[max(0, i - around): i + around + 1])


@pytest.fixture
def verify_against() -> Callable[..., VerifyResult]:
    """``verify_against(hub, server=None, **options)``: verify a server that runs ``hub``."""
    return verify_hub


def names(specs: Sequence[Any]) -> list[str]:
    """The names of ``specs``."""
    return [s.name for s in specs]


def all_checks(**options: Any) -> list[str]:
    """wsprobe's own checks that a run with ``options`` would select."""
    specs = select_checks(config_for("ws://127.0.0.1:1/ws/ws", **options))
    return [s.name for s in specs if s.origin.startswith("wsprobe.verify.checks")]
