"""Fan-out load: Locust users on a gevent WebSocket client, measuring delivery at every receiver.

Only this package imports locust and gevent, and only in the modules that run inside the load
processes (``client``, ``users``, ``monitor``, ``probe``, ``process``). The modules imported here
are plain Python: the CLI can build a run's configuration without monkey-patching itself.
"""

from wsprobe.load.config import LoadConfig, UserKind, parse_duration
from wsprobe.load.fanout import KINDS, Counts, FanoutTracker, Kind, Sent
from wsprobe.load.slo import Slo, SloResult, evaluate, parse_slo

__all__ = [
    "KINDS",
    "Counts",
    "FanoutTracker",
    "Kind",
    "LoadConfig",
    "Sent",
    "Slo",
    "SloResult",
    "UserKind",
    "evaluate",
    "parse_duration",
    "parse_slo",
]
