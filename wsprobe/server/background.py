"""The reference backend for synchronous callers: a thread with an event loop of its own."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from wsprobe.server.app import HubFactory, running
from wsprobe.server.config import ServerConfig
from wsprobe.server.hub import Hub

__all__ = ["BackgroundServer"]


class BackgroundServer:
    """Run a server in a daemon thread: ``with BackgroundServer(config) as url: ...``.

    :meth:`start` returns once the server listens (or raises what stopped it from listening);
    :meth:`stop` closes every connection (code 1001) and joins the thread.
    """

    def __init__(self, config: ServerConfig | None = None, hub_factory: HubFactory = Hub, *,
                 start_timeout: float = 10.0) -> None:
        self.config = config if config is not None else ServerConfig()
        self.hub_factory = hub_factory
        self.start_timeout = start_timeout
        self._url: str | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The ``ws[s]://`` URL served; only while running."""
        if self._url is None:
            raise RuntimeError("the background server is not running")
        return self._url

    def start(self) -> str:
        """Start serving and return the URL."""
        if self._thread is not None:
            return self.url
        self._thread = threading.Thread(target=self._run, name="wsprobe-serve", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.start_timeout):
            raise TimeoutError(f"the server did not start within {self.start_timeout} s")
        if self._failure is not None:
            self._thread.join()
            self._thread = None
            raise self._failure
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=30)
        self._thread = None
        self._url = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to the thread that called start()
            self._failure = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        async with running(self.config, self.hub_factory) as server:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._url = server.url
            self._ready.set()
            await self._stop.wait()
