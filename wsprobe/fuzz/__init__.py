"""Schema-driven fuzzing of a ``/ws/ws`` backend: generated frames, a canary, shrinking, replay.

``wsprobe fuzz`` builds a :class:`Fuzzer` from a :class:`Target` (a URL, the bundled backend or a
``--server-cmd``), a :class:`Prober` and the :func:`groups` of the schemas, then calls
:meth:`Fuzzer.run` (or :meth:`Fuzzer.replay` for a saved :class:`FuzzCase`). Findings are values
(:class:`FuzzFinding`); the run emits the same event stream as ``wsprobe run`` and ``verify``.
"""

from wsprobe.fuzz.cases import (
    CASE_FORMAT,
    Expect,
    FuzzCase,
    WireFrame,
    case_from_json,
    case_to_json,
    dumps_case,
)
from wsprobe.fuzz.engine import Budget, Fuzzer, FuzzFinding, FuzzResult
from wsprobe.fuzz.groups import Group, groups
from wsprobe.fuzz.probe import OBSERVER_USER, Prober, ProbeSettings
from wsprobe.fuzz.target import CommandServer, RemoteServer, Target
from wsprobe.fuzz.verdict import ACCEPTED_CLOSE_CODES, Canary, CanaryState, Observation, judge
from wsprobe.fuzz.wire import ClosedByServer, HandshakeFailed, Incoming, RawSocket, encode_frame

__all__ = [
    "ACCEPTED_CLOSE_CODES",
    "CASE_FORMAT",
    "OBSERVER_USER",
    "Budget",
    "Canary",
    "CanaryState",
    "ClosedByServer",
    "CommandServer",
    "Expect",
    "FuzzCase",
    "FuzzFinding",
    "FuzzResult",
    "Fuzzer",
    "Group",
    "HandshakeFailed",
    "Incoming",
    "Observation",
    "ProbeSettings",
    "Prober",
    "RawSocket",
    "RemoteServer",
    "Target",
    "WireFrame",
    "case_from_json",
    "case_to_json",
    "dumps_case",
    "encode_frame",
    "groups",
    "judge",
]
