"""Start and watch the processes of a load run (no locust or gevent in this process).

:func:`launch` writes ``config.json``, starts the master (or the single local process) and the
workers as ``python -m wsprobe.load.process`` subprocesses, passes each progress line to a
callback, and returns the exit code the master decided. :func:`preflight` checks that the target
accepts a connection and a registration before any load is started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from wsprobe.errors import InputError, Interrupted, UnreachableError
from wsprobe.load.config import LoadConfig
from wsprobe.targets import is_loopback

__all__ = ["Launch", "check_loopback", "free_port", "launch", "preflight"]

OnLine = Callable[[dict[str, Any]], None]


def check_loopback(url: str, *, allow_remote: bool) -> None:
    """Refuse a non-loopback target unless ``allow_remote`` (our own runs stay on loopback)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise InputError(f"target {url!r}: expected a ws:// or wss:// URL with a host")
    host = parts.hostname
    if not is_loopback(url) and not allow_remote:
        raise InputError(
            f"target {host!r} is not a loopback address; load against another host needs "
            "--allow-remote (make sure you own it)"
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def preflight(url: str, *, timeout: float = 5.0) -> str | None:
    """Connect and register a probe user before any load starts.

    A refused connection or handshake, a close after registering, or an answer that is not JSON
    raise :class:`UnreachableError` (exit 3), each named. A ``get-users`` answer slower than
    ``timeout`` (the run's ``--loss-timeout``) is *not* fatal: under load, slow answers are the
    measurement (late or lost joins); the returned note says so. None when all went well.
    """
    from websockets.exceptions import (
        ConnectionClosed,
        InvalidHandshake,
        InvalidURI,
        WebSocketException,
    )
    from websockets.sync.client import connect

    try:
        ws = connect(url, open_timeout=max(timeout, 5.0), close_timeout=1)
    except TimeoutError:
        raise UnreachableError(f"{url}: no handshake within {max(timeout, 5.0):g} s") from None
    except InvalidURI as exc:
        raise InputError(f"target {url!r}: {exc}") from None
    except InvalidHandshake as exc:
        raise UnreachableError(f"{url}: refused the handshake: {exc}") from None
    except (OSError, WebSocketException) as exc:
        raise UnreachableError(f"{url}: connection refused or failed: {exc}") from None
    try:
        with ws:
            me = f"wsprobe-preflight-{os.getpid()}"
            ws.send(json.dumps({"type": "new-user-add", "userId": me}))
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                frame = ws.recv(timeout=left)
                try:
                    message = json.loads(frame)
                except ValueError:
                    raise UnreachableError(
                        f"{url}: protocol violation: answered registration with a frame that is "
                        f"not JSON: {frame!r:.80}") from None
                if isinstance(message, dict) and message.get("type") == "get-users":
                    return None
    except TimeoutError:
        return (f"{url} did not answer a registration with get-users within {timeout:g} s "
                "(--loss-timeout): the run goes on and counts slow answers as late or lost joins")
    except (ConnectionClosed, OSError) as exc:
        raise UnreachableError(f"{url}: closed the connection after new-user-add ({exc})") \
            from None


@dataclass(slots=True)
class Launch:
    """How to split the run into processes."""

    workers: int  # 0: one local process
    role: str = "auto"  # auto | master | worker
    master_host: str = "127.0.0.1"
    master_port: int | None = None
    node: str | None = None


def _argv(config_path: Path, role: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "wsprobe.load.process", "--config", str(config_path),
            "--role", role, *extra]


@contextlib.contextmanager
def _processes(argvs: list[list[str]], out: Path) -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    logs: list[TextIO] = []  # stderr of each process
    try:
        for index, argv in enumerate(argvs):
            err = (out / f"process-{index}.err").open("w", encoding="utf-8")
            logs.append(err)
            procs.append(
                subprocess.Popen(argv, stdout=subprocess.PIPE if index == 0 else subprocess.DEVNULL,
                                 stderr=err, text=True)
            )
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in logs:
            stream.close()
        for path in out.glob("process-*.err"):
            if path.stat().st_size == 0:
                path.unlink()


def launch(config: LoadConfig, plan: Launch, *, on_line: OnLine) -> int:
    """Run the processes of one load run to the end; returns the master's exit code."""
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "config.json"
    config_path.write_text(config.to_json(), encoding="utf-8")
    port = plan.master_port or free_port()
    if plan.role == "worker":
        node = plan.node or f"{socket.gethostname()}-{os.getpid()}"
        argvs = [_argv(config_path, "worker", "--node", node, "--master-host", plan.master_host,
                       "--master-port", str(port))]
    elif plan.workers == 0 and plan.role != "master":
        argvs = [_argv(config_path, "local")]
    else:
        expect = max(plan.workers, 1)
        argvs = [_argv(config_path, "master", "--master-port", str(port),
                       "--expect-workers", str(expect))]
        if plan.role != "master":
            argvs += [
                _argv(config_path, "worker", "--node", f"w{i + 1}", "--master-host", "127.0.0.1",
                      "--master-port", str(port))
                for i in range(expect)
            ]
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        with _processes(argvs, out) as procs:
            code, rc = _follow(procs[0], out, on_line)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if plan.role == "worker":
        return rc
    if code is None:
        err = out / "process-0.err"
        detail = err.read_text(encoding="utf-8")[-2000:] if err.exists() else ""
        raise InputError(f"the load master exited with code {rc} before finishing\n{detail}")
    return code


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a run like Ctrl-C: children stopped, partial output


def _follow(head: subprocess.Popen[str], out: Path, on_line: OnLine) -> tuple[int | None, int]:
    """Pass the head process's lines on until it exits; its ``done`` code and exit status.

    On Ctrl-C or SIGTERM the head is told to stop (SIGTERM): it ends the run at once and writes
    what it measured, marked interrupted, and its ``done`` line says 130. A second interrupt, or a
    head that ends without one, gives up waiting (:class:`Interrupted`).
    """
    code: int | None = None
    errors: list[str] = []

    def read() -> None:
        nonlocal code
        if head.stdout is None:
            return
        for raw in head.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("type") == "done":
                code = int(line["exit"])
            elif line.get("type") == "error":
                errors.append(str(line.get("message")))
            on_line(line)

    try:
        read()
        rc = head.wait()
    except KeyboardInterrupt:
        try:
            if head.poll() is None:
                head.send_signal(signal.SIGTERM)
            read()
            rc = head.wait()
        except KeyboardInterrupt:
            code = None
        if code is None:
            raise Interrupted("interrupted; partial results are in " + str(out)) from None
        return 130, rc
    if code is None and errors:
        raise InputError("; ".join(errors))
    return code, rc
