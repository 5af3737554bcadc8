"""Service-level objectives on a run's summary: ``status.p99<100ms``, ``chat.delivered>=99.9%``.

Syntax: ``KIND.METRIC OP VALUE[UNIT]``.

* ``KIND``: ``join``, ``leave``, ``status``, ``chat``, ``signal`` or ``all`` (every kind at once).
* Latency metrics ``p50``, ``p90``, ``p99``, ``p99.9``, ``max``, ``mean`` use latency from the
  **scheduled** send (the honest one: a stalled server cannot hide as fewer sends); prefix with
  ``actual.`` (``status.actual.p99``) for latency from the actual send, or ``last.`` for the time
  from the send to an event's last receiver. Units ``us``, ``ms`` (default), ``s``.
* Ratio metrics ``delivered``, ``lost``, ``duplicates``, ``late`` are percentages of the expected
  deliveries (``%`` optional).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from wsprobe.errors import InputError

__all__ = ["Slo", "SloResult", "evaluate", "parse_slo"]

_KINDS: Final = ("join", "leave", "status", "chat", "signal", "all")
_LATENCY: Final = ("p50", "p90", "p99", "p99.9", "max", "mean")
_RATIOS: Final = ("delivered", "lost", "duplicates", "late")
_OPS: Final[dict[str, Callable[[float, float], bool]]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_SLO = re.compile(
    r"^\s*(?P<kind>[a-z]+)\.(?:(?P<series>actual|scheduled|last)\.)?(?P<metric>[a-z0-9.]+?)"
    r"\s*(?P<op><=|>=|<|>)\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>us|ms|s|%)?\s*$"
)
_TO_MS: Final = {"us": 1e-3, "ms": 1.0, "s": 1e3, None: 1.0}


@dataclass(frozen=True, slots=True)
class Slo:
    """One objective: a kind, a series and metric, a comparison and a threshold."""

    text: str
    kind: str
    series: str  # scheduled | actual | last | ratio
    metric: str
    op: str
    threshold: float  # milliseconds or percent


@dataclass(frozen=True, slots=True)
class SloResult:
    """An objective checked against a summary: the measured value and whether it held."""

    slo: Slo
    measured: float | None
    ok: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON form for ``summary.json``."""
        unit = "%" if self.slo.series == "ratio" else "ms"
        return {
            "slo": self.slo.text,
            "kind": self.slo.kind,
            "series": self.slo.series,
            "metric": self.slo.metric,
            "op": self.slo.op,
            "threshold": self.slo.threshold,
            "unit": unit,
            "measured": self.measured,
            "ok": self.ok,
        }


def parse_slo(text: str) -> Slo:
    """Parse one ``--slo`` value; a clear :class:`InputError` says what is wrong."""
    match = _SLO.match(text)
    if match is None:
        raise InputError(
            f"--slo {text!r}: expected KIND.METRIC<VALUE, e.g. 'status.p99<100ms' "
            "or 'chat.delivered>=99.9%'"
        )
    kind, metric, unit = match["kind"], match["metric"], match["unit"]
    if kind not in _KINDS:
        raise InputError(f"--slo {text!r}: unknown kind {kind!r} (one of {', '.join(_KINDS)})")
    value = float(match["value"])
    if metric in _RATIOS:
        if match["series"] is not None or unit not in (None, "%"):
            raise InputError(f"--slo {text!r}: {metric} is a percentage, e.g. {metric}>=99.9%")
        return Slo(text, kind, "ratio", metric, match["op"], value)
    if metric not in _LATENCY:
        known = ", ".join((*_LATENCY, *_RATIOS))
        raise InputError(f"--slo {text!r}: unknown metric {metric!r} (one of {known})")
    if unit == "%":
        raise InputError(f"--slo {text!r}: {metric} is a latency, e.g. {metric}<100ms")
    series = match["series"] or "scheduled"
    return Slo(text, kind, series, metric, match["op"], value * _TO_MS[unit])


def _measure(slo: Slo, kinds: Mapping[str, Any]) -> float | None:
    if slo.series == "ratio":
        expected = sum(kinds[k]["expected"] for k in kinds)
        count = sum(kinds[k][slo.metric] for k in kinds)
        return None if expected == 0 else round(100.0 * count / expected, 4)
    values = [kinds[k]["latency_ms"][slo.series][slo.metric] for k in kinds]
    present = [v for v in values if v is not None]
    if not present:
        return None
    return float(max(present))


def evaluate(slos: tuple[Slo, ...], kinds: Mapping[str, Any]) -> list[SloResult]:
    """Check objectives against ``summary.json``'s ``kinds`` mapping.

    An objective on a kind with no measurement fails (nothing measured proves nothing). For
    ``all``, a latency objective is checked on the worst kind and a ratio on all kinds pooled.
    """
    results = []
    for slo in slos:
        scope = kinds if slo.kind == "all" else {slo.kind: kinds[slo.kind]}
        measured = _measure(slo, scope)
        ok = measured is not None and _OPS[slo.op](measured, slo.threshold)
        results.append(SloResult(slo, measured, ok))
    return results
