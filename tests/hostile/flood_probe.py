"""Does wsprobe.load's client let other greenlets run while a server floods it? (a subprocess)

``python flood_probe.py URL`` connects one :class:`wsprobe.load.client.WebSocketClient`, runs its
receive loop in a greenlet next to a ticker greenlet, and prints how often the ticker ran in 2 s.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402  # after monkey-patching, as gevent requires
import time  # noqa: E402

import gevent  # noqa: E402

from wsprobe.load.client import WebSocketClient  # noqa: E402


def main(url: str) -> None:
    ticks: list[float] = []

    def ticker() -> None:
        start = time.monotonic()
        while time.monotonic() - start < 2:
            gevent.sleep(0.25)
            ticks.append(time.monotonic() - start)

    client = WebSocketClient(url, on_text=lambda data, t: None)
    client.connect()
    gevent.spawn(client.run)
    gevent.spawn(ticker).join(timeout=5)
    print(len(ticks), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
