"""``wsprobe serve``: run the reference backend until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

import click

from wsprobe.errors import InputError
from wsprobe.server import ServerConfig, running
from wsprobe.server.config import DEFAULT_PORT

__all__ = ["command"]

log = logging.getLogger("wsprobe.server")

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="TCP port; 0 picks a free one (the URL line tells which).")
@click.option("--path", default="/ws/ws", show_default=True,
              help="WebSocket path; any other path gets HTTP 404.")
@click.option("--allowed-origin", "allowed_origins", multiple=True, metavar="ORIGIN",
              help="Accept browsers only from this Origin (repeatable); others get HTTP 403. "
                   "Clients that send no Origin are accepted.")
@click.option("--token", default=None, help="Require ?token=TOKEN in the URL; else HTTP 401.")
@click.option("--max-size", type=click.IntRange(min=1), default=64 * 1024, show_default=True,
              help="Largest frame accepted, in bytes; a bigger one closes the socket with 1009.")
@click.option("--rate-limit", type=click.FloatRange(min=0), default=50.0, show_default=True,
              help="Messages per second per socket (bursts of 2 s worth); excess gets "
                   "error rate-limited. 0 disables.")
@click.option("--ping-interval", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds between keepalive pings; a client silent for two intervals is "
                   "closed. 0 disables.")
@click.option("--certfile", type=_FILE, default=None, help="PEM certificate chain: serve wss://.")
@click.option("--keyfile", type=_FILE, default=None,
              help="PEM private key, if not in --certfile.")
@click.option("--max-backlog", type=click.IntRange(min=0), default=8 * 1024 * 1024,
              show_default=True,
              help="Disconnect a client that lets this many bytes pile up unsent (it reads too "
                   "slowly). 0 disables.")
@click.option("-v", "--verbose", count=True, help="Log every connection (-v) and more (-vv).")
@click.pass_context
def command(ctx: click.Context, *, host: str, port: int, path: str,
            allowed_origins: tuple[str, ...], token: str | None, max_size: int,
            rate_limit: float, ping_interval: float, certfile: Path | None,
            keyfile: Path | None, max_backlog: int, verbose: int) -> None:
    """Run the reference /ws/ws backend; print its URL alone on one line of stdout when ready.

    Logs go to stderr. SIGINT or SIGTERM closes every socket (1001) and exits 0.
    """
    if token == "":
        raise InputError("--token must not be empty")
    try:
        config = ServerConfig(
            host=host, port=port, path=path, allowed_origins=allowed_origins, token=token,
            max_size=max_size, rate_limit=rate_limit or None,
            ping_interval=ping_interval or None, certfile=certfile, keyfile=keyfile,
            max_backlog=max_backlog,
        )
    except ValueError as exc:
        raise InputError(f"wsprobe serve: {exc}") from None
    logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.DEBUG if verbose > 1 else logging.INFO)
    logging.getLogger("websockets").setLevel(logging.INFO if verbose else logging.WARNING)
    # asyncio warns once per write to a socket whose peer just vanished; the close follows
    logging.getLogger("asyncio").addFilter(
        lambda record: verbose > 0 or not record.getMessage().startswith("socket.send() raised"))
    asyncio.run(_serve(config))
    ctx.exit(0)


async def _serve(config: ServerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
            loop.add_signal_handler(signum, stop.set)
    async with running(config) as server:
        click.echo(server.url)
        sys.stdout.flush()
        await stop.wait()
        log.info("shutting down")
