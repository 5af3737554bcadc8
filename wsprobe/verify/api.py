"""The Python API of ``wsprobe verify``: :func:`verify` (blocking) and :func:`verify_async`.

::

    result = verify("ws://127.0.0.1:8080/ws/ws", skip=("X*",))
    assert result.exit_code == 0, result.failed

With ``url=None`` the bundled reference backend is started on a free loopback port with its
security gates on (a token, an Origin allow-list, its frame size and rate limits) and pinging every
second, and the run gets the matching inputs (``token``, ``allowed_origin``/``foreign_origin``,
``aggressive``, ``idle``), so that the out-of-the-box run exercises X1 to X3 and T3 too. Inputs
given explicitly win.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Iterable
from typing import Any

from wsprobe.core import SchemaSet, load_schemas
from wsprobe.scenario.events import EventHandler
from wsprobe.verify.config import VerifyConfig
from wsprobe.verify.registry import REGISTRY, CheckSpec, Registry, load_plugins
from wsprobe.verify.result import VerifyResult
from wsprobe.verify.runner import run_checks, seed_or_random

__all__ = ["bundled_security", "bundled_target", "select_checks", "verify", "verify_async"]

BUNDLED = "ws://bundled.invalid/ws/ws"  # stands for "start the reference backend" in a config
_BUNDLED_PING_INTERVAL = 1.0  # the bundled backend pings every second: T3 waits 2.5 s, not 35


def select_checks(config: VerifyConfig, registry: Registry | None = None) -> list[CheckSpec]:
    """Load ``config.plugins`` (and the ``wsprobe.checks`` entry points), then select."""
    import wsprobe.verify.checks  # noqa: F401  # registers wsprobe's own checks

    load_plugins(config.plugins)
    return (registry or REGISTRY).select(config.checks, config.skip)


@contextlib.asynccontextmanager
async def bundled_target(config: VerifyConfig) -> AsyncIterator[VerifyConfig]:
    """``config`` itself, or (when it names no URL) pointed at a reference backend started for
    the run on a free loopback port."""
    if config.given_url is not None:
        yield config
        return
    from wsprobe.server import ServerConfig, running

    config = bundled_security(config)
    server_config = ServerConfig(
        port=0, allowed_origins=(config.allowed_origin,) if config.allowed_origin else (),
        token=config.token, ping_interval=_BUNDLED_PING_INTERVAL)
    async with running(server_config) as server:
        yield dataclasses.replace(config, url=server.url)


def bundled_security(config: VerifyConfig) -> VerifyConfig:
    """The security inputs for a run against the bundled backend (it enforces all of them)."""
    return dataclasses.replace(
        config,
        token=config.token or secrets.token_urlsafe(12),
        allowed_origin=config.allowed_origin or "https://app.wsprobe.invalid",
        foreign_origin=config.foreign_origin or "https://evil.wsprobe.invalid",
        aggressive=True,
        idle=config.idle or _BUNDLED_PING_INTERVAL * 2.5,
    )


async def verify_async(config: VerifyConfig, *, handlers: Iterable[EventHandler] = (),
                       schemas: SchemaSet | None = None, registry: Registry | None = None,
                       specs: list[CheckSpec] | None = None) -> VerifyResult:
    """Run the checks ``config`` selects (or ``specs``) and return the result; the event stream
    goes to ``handlers``, which are closed at the end."""
    schemas = schemas if schemas is not None else load_schemas(
        *([config.schemas_dir] if config.schemas_dir is not None else []))
    specs = specs if specs is not None else select_checks(config, registry)
    async with bundled_target(config) as target:
        return await run_checks(target, specs, schemas=schemas, handlers=handlers)


def verify(url: str | None = None, *, handlers: Iterable[EventHandler] = (),
           registry: Registry | None = None, **options: Any) -> VerifyResult:
    """Verify ``url`` (``None``: the bundled reference backend) with ``options`` named as the
    fields of :class:`VerifyConfig` (``checks``, ``skip``, ``timeout``, ``token``...)."""
    options["seed"] = seed_or_random(options.get("seed"))
    config = VerifyConfig(url=url or BUNDLED, given_url=url, **options)
    return asyncio.run(verify_async(config, handlers=handlers, registry=registry))
