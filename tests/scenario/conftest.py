"""Helpers for the scenario engine's tests: play YAML text against a real backend on port 0."""

from __future__ import annotations

import asyncio
import contextlib
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from tests.scenario.servers import mini_server
from wsprobe.core import SchemaSet, load_schemas
from wsprobe.output import Recorder
from wsprobe.scenario import CaseResult, Scenario, Session, parse_scenario, run_scenarios_async
from wsprobe.server import Hub, ServerConfig, running

SCHEMAS: SchemaSet = load_schemas()
T = TypeVar("T")


@contextlib.asynccontextmanager
async def backend(hub: type[Hub] | None = None, fault: str | None = None,
                  **config: Any) -> AsyncIterator[str]:
    """The reference backend (optionally a broken ``Hub`` subclass) or a ``MiniRelay`` fault."""
    if fault is not None:
        async with mini_server(fault) as url:
            yield url
        return
    async with running(ServerConfig(port=0, **config), hub or Hub) as server:
        yield server.url


def play(text: str, *, hub: type[Hub] | None = None, fault: str | None = None,
         recorder: Recorder | None = None, **options: Any) -> CaseResult:
    """Play a YAML scenario (dedented) against a fresh backend; return its result."""
    scenario = parse_scenario(textwrap.dedent(text), "test.yaml", schemas=SCHEMAS)
    return play_scenario(scenario, hub, fault=fault, recorder=recorder, **options)


def play_scenario(scenario: Scenario, hub: type[Hub] | None = None, *, fault: str | None = None,
                  recorder: Recorder | None = None, **options: Any) -> CaseResult:
    """Play a loaded scenario against a fresh backend; return its result."""
    options.setdefault("heartbeat", 0.05)
    options.setdefault("step_timeout", 0.5)

    async def main() -> CaseResult:
        async with backend(hub, fault) as url:
            run = await run_scenarios_async([scenario], url, schemas=SCHEMAS,
                                            handlers=[recorder] if recorder else [], **options)
            return run.cases[0]

    return asyncio.run(main())


def session_test(body: Callable[[Session], Awaitable[T]], *, hub: type[Hub] | None = None,
                 fault: str | None = None, **options: Any) -> tuple[Session, T | None]:
    """Run ``body(session)`` against a fresh backend; returns the session and the body's value."""
    options.setdefault("step_timeout", 0.5)
    holder: list[T] = []

    async def main() -> Session:
        async with backend(hub, fault) as url:
            async with Session(url, schemas=SCHEMAS, **options) as session:
                holder.append(await body(session))
            return session

    session = asyncio.run(main())
    return session, (holder[0] if holder else None)


def pytest_configure(config: pytest.Config) -> None:
    """Load pytester for the plugin's tests (``pytest_plugins`` is refused outside the root)."""
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture(scope="session")
def schemas() -> SchemaSet:
    """The bundled schemas, loaded once."""
    return SCHEMAS
