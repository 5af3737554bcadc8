"""pytest plugin (entry point ``pytest11: wsprobe``): scenario files as tests, and fixtures.

- Files named ``scenario_*.yaml`` or ``*.wsprobe.yaml`` (ini ``wsprobe_scenario_patterns``) are
  collected; each is one test item, played against ``--wsprobe-url`` or, without it, the bundled
  reference backend started once on a free loopback port.
- ``wsprobe_server``: the URL of that bundled backend (started on first use, for the session).
- ``wsprobe_url``: ``--wsprobe-url`` if given, else ``wsprobe_server``.
- ``wsprobe_run``: ``wsprobe_run(path_or_scenario, url=None, **options) -> CaseResult``.

It is loaded by every pytest run in an environment where wsprobe is installed, so it imports
nothing heavy until one of its fixtures or items is used.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr  # the type pytest.Item.repr_failure returns

    from wsprobe.core import SchemaSet
    from wsprobe.scenario.runner import CaseResult
    from wsprobe.server import BackgroundServer

__all__ = ["ScenarioFailed", "ScenarioFile", "ScenarioItem"]

_SERVER: pytest.StashKey[BackgroundServer] = pytest.StashKey()
_SCHEMAS: pytest.StashKey[SchemaSet] = pytest.StashKey()
_PATTERNS = ["scenario_*.yaml", "*.wsprobe.yaml"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--wsprobe-url``, ``--wsprobe-heartbeat``, ``--wsprobe-step-timeout``."""
    group = parser.getgroup("wsprobe", "wsprobe scenarios")
    group.addoption("--wsprobe-url", default=None, metavar="URL",
                    help="Backend to play scenario files against (default: start wsprobe's "
                         "reference backend on a free loopback port).")
    group.addoption("--wsprobe-heartbeat", type=float, default=0.2, metavar="SECONDS",
                    help="Interval of 'every' blocks with interval 'heartbeat' (default 0.2).")
    group.addoption("--wsprobe-step-timeout", type=float, default=5.0, metavar="SECONDS",
                    help="Time limit of each scenario step (default 5).")
    parser.addini("wsprobe_scenario_patterns", type="args", default=_PATTERNS,
                  help="File name patterns collected as wsprobe scenarios.")


def _bundled_url(config: pytest.Config) -> str:
    server = config.stash.get(_SERVER, None)
    if server is None:
        from wsprobe.server import BackgroundServer, ServerConfig

        server = BackgroundServer(ServerConfig(port=0))
        server.start()
        config.stash[_SERVER] = server
    return server.url


def _schemas(config: pytest.Config) -> SchemaSet:
    schemas = config.stash.get(_SCHEMAS, None)
    if schemas is None:
        from wsprobe.core import load_schemas

        schemas = config.stash[_SCHEMAS] = load_schemas()
    return schemas


def _url(config: pytest.Config) -> str:
    url: str | None = config.getoption("wsprobe_url")
    return url or _bundled_url(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the bundled backend if it was started."""
    server = config.stash.get(_SERVER, None)
    if server is not None:
        server.stop()
        del config.stash[_SERVER]


@pytest.fixture(scope="session")
def wsprobe_server(request: pytest.FixtureRequest) -> str:
    """The ``ws://`` URL of wsprobe's reference backend, started once on a free port."""
    return _bundled_url(request.config)


@pytest.fixture(scope="session")
def wsprobe_url(request: pytest.FixtureRequest) -> str:
    """The backend under test: ``--wsprobe-url``, or the reference backend."""
    return _url(request.config)


@pytest.fixture
def wsprobe_run(request: pytest.FixtureRequest) -> Callable[..., CaseResult]:
    """Play a scenario (file or :class:`~wsprobe.scenario.Scenario`) and return its result."""
    config = request.config

    def run(scenario: Any, url: str | None = None, **options: Any) -> CaseResult:
        from wsprobe.scenario.runner import run_scenario

        options.setdefault("heartbeat", config.getoption("wsprobe_heartbeat"))
        options.setdefault("step_timeout", config.getoption("wsprobe_step_timeout"))
        return run_scenario(scenario, url or _url(config), **options)

    return run


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    """Collect scenario files by name."""
    patterns: list[str] = parent.config.getini("wsprobe_scenario_patterns")
    if any(fnmatch.fnmatch(file_path.name, p) for p in patterns):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFailed(Exception):
    """A collected scenario had findings (or could not run)."""

    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.case.name)
        self.result = result


class ScenarioFile(pytest.File):
    """A scenario file: one item."""

    def collect(self) -> Iterator[ScenarioItem]:
        """The file's single scenario."""
        yield ScenarioItem.from_parent(self, name=self.path.name.split(".")[0])


class ScenarioItem(pytest.Item):
    """Plays one scenario file; fails with its findings."""

    def runtest(self) -> None:
        """Load (checked first), play, fail on any failure finding or error."""
        from wsprobe.scenario.loader import load_scenario
        from wsprobe.scenario.runner import run_scenario

        config = self.config
        schemas = _schemas(config)
        scenario = load_scenario(self.path, schemas=schemas)  # checked before a server starts
        result = run_scenario(scenario, _url(config), schemas=schemas,
                              heartbeat=config.getoption("wsprobe_heartbeat"),
                              step_timeout=config.getoption("wsprobe_step_timeout"))
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | TerminalRepr:
        """Findings as text; a scenario-file error as its one line."""
        from wsprobe.errors import WsprobeError
        from wsprobe.output.text import finding_text

        exc = excinfo.value
        if isinstance(exc, ScenarioFailed):
            result = exc.result
            parts = [f"scenario {result.case.name!r} {result.status.value}"
                     + (f": {result.error}" if result.error else "")]
            parts += [finding_text(f) for f in result.findings]
            return "\n\n".join(parts)
        if isinstance(exc, WsprobeError):
            return f"error: {exc}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the item comes from, for pytest's report."""
        return self.path, 0, f"wsprobe scenario {self.name}"
