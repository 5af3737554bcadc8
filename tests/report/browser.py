"""Open a page in headless Chromium over the DevTools protocol: console errors, network requests,
what each chart rendered, and a full-page screenshot.

Chromium (Debian's ``chromium``) is started with ``--remote-debugging-port=0``; the DevTools URL it
prints on stderr is reached with the ``websockets`` sync client. Nothing but ``file:`` and
``data:`` URLs may be requested: the report must work offline.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

__all__ = ["CHROMIUM", "PageReport", "open_page"]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run",
          "--disable-default-apps", "--mute-audio", "--remote-debugging-port=0")

# per chart: is it an inline SVG, its rendered size, and how many marks (paths, lines) it drew
_CHARTS_JS = """
JSON.stringify(Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const svg = f.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : null;
  return {id: f.id, missing: f.classList.contains('missing'),
          width: box ? box.width : 0, height: box ? box.height : 0,
          marks: svg ? svg.querySelectorAll('path, line, polyline, use').length : 0,
          texts: svg ? Array.from(svg.querySelectorAll('text')).map(t => t.textContent) : [],
          note: (f.querySelector('.note') || {}).textContent || null};
}))
"""


@dataclass
class PageReport:
    """What the browser saw."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""


class _Session:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30) -> dict[str, Any]:
        ident = next(self.ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 30) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            self.events.append(event)
            if event.get("method") == method:
                return event


def _devtools_url(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        match = re.search(r"DevTools listening on (ws://\S+)", line)
        if match:
            return match.group(1)
    raise RuntimeError(f"chromium printed no DevTools URL (exit {proc.poll()})")


def _errors(events: list[dict[str, Any]]) -> list[str]:
    out = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append(" ".join(str(a.get("value", a.get("description"))) for a in
                                params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            out.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            out.append(str(params["entry"].get("text")))
    return out


def open_page(page: Path, screenshot: Path, *, width: int = 1100) -> PageReport:
    """Load ``page`` in headless Chromium, save a full-page PNG to ``screenshot``."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    # Chromium's helper processes may still write to the profile for a moment after the browser
    # exits; a profile that cannot be removed at once is not a failure of the page under test.
    with tempfile.TemporaryDirectory(prefix="wsprobe-chromium-",
                                     ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen([CHROMIUM, *_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            url = _devtools_url(proc)
            with connect(url, max_size=None, open_timeout=30) as ws:
                return _drive(_Session(ws), page, screenshot, width)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


def _drive(cdp: _Session, page: Path, screenshot: Path, width: int) -> PageReport:
    target = cdp.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = cdp.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        cdp.call(f"{domain}.enable", session=session)
    cdp.call("Emulation.setDeviceMetricsOverride",
             {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
             session=session)
    cdp.events.clear()
    cdp.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
    cdp.wait_event("Page.loadEventFired")
    report = PageReport()
    charts = cdp.call("Runtime.evaluate", {"expression": _CHARTS_JS, "returnByValue": True},
                      session=session)
    report.charts = json.loads(charts["result"]["value"])
    title = cdp.call("Runtime.evaluate", {"expression": "document.title",
                                          "returnByValue": True}, session=session)
    report.title = str(title["result"]["value"])
    height = cdp.call("Runtime.evaluate", {
        "expression": "document.documentElement.scrollHeight", "returnByValue": True},
        session=session)["result"]["value"]
    cdp.call("Emulation.setDeviceMetricsOverride",
             {"width": width, "height": int(height), "deviceScaleFactor": 1, "mobile": False},
             session=session)
    shot = cdp.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                    session=session)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    report.console_errors = _errors(cdp.events)
    report.requests = [e["params"]["request"]["url"] for e in cdp.events
                       if e.get("method") == "Network.requestWillBeSent"]
    return report
