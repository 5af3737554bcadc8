"""Fan-out load: Locust users on a gevent WebSocket client, measuring delivery at every receiver.

Only this package imports locust and gevent, and only in the modules that run inside the load
processes: ``client`` (websockets' sans-I/O protocol on a gevent socket), ``sockets`` (receipts),
``users`` (Locust users and their open-loop schedule), ``monitor``, ``probe`` and ``process`` (the
``python -m wsprobe.load.process`` entry). Everything else is plain Python with no I/O or only
files: ``fanout`` (who had to receive what, and what became of it), ``histograms``, ``aggregate``
(the master's lossless merge), ``clock``, ``slo``, ``summary``, ``config``, ``profile``, and
``launcher``, which the CLI uses to start the processes without monkey-patching itself.
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
