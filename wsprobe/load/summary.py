"""``summary.json`` and ``histograms.json`` of a load run, and its progress lines.

The layout of ``summary.json`` is documented field by field in ``reports/README.md``; capacity
search and reports read it, so its ``schema`` string changes whenever a field changes meaning.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from wsprobe import __version__
from wsprobe.load.aggregate import Aggregator
from wsprobe.load.config import LoadConfig
from wsprobe.load.fanout import KINDS, Counts
from wsprobe.load.histograms import SERIES, percentiles_ms, values_at
from wsprobe.load.slo import evaluate, parse_slo
from wsprobe.load.validity import MAX_LATE_SENDS, generator_reasons

__all__ = ["SCHEMA", "build_summary", "exit_code_of", "progress_line", "target_down",
           "write_outputs"]

SCHEMA: Final = "wsprobe.load.summary/1"
EXIT_OK, EXIT_SLO, EXIT_INVALID, EXIT_TARGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _iso(us: int) -> str:
    seconds, micros = divmod(us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros // 1000:03d}Z"


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 4)


def _kind_entry(counts: Counts, agg: Aggregator, kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = counts.as_dict()
    entry["delivered_pct"] = _pct(counts.delivered, counts.expected)
    entry["lost_pct"] = _pct(counts.lost, counts.expected)
    entry["latency_ms"] = {
        series: percentiles_ms(agg.hists.get(kind, series))  # type: ignore[arg-type]
        for series in SERIES
    }
    return entry


def _validity(config: LoadConfig, agg: Aggregator, finals: Mapping[str, Any],
              workers: int, kinds: Mapping[str, Any], *, ramp_down_s: float) -> dict[str, Any]:
    """Whether the generator distorted the figures (:mod:`wsprobe.load.validity`): CPU over the
    run, start-up interval aside; late sends over the steady part (after every user joined and
    settled, before the ramp-down), so a join burst's lag is reported but forgiven."""
    reasons: list[str] = []
    notes: list[str] = []
    per_node: dict[str, Any] = {}
    for name, state in sorted(agg.nodes.items()):
        cpu = state.cpu[1:] or state.cpu  # the first interval includes start-up
        cpu_mean = sum(cpu) / len(cpu) if cpu else None
        lag = state.lag
        lag_p99 = values_at(lag, [99])[0] / 1000 if lag.get_total_count() else None
        lag_max = lag.get_max_value() / 1000 if lag.get_total_count() else None
        per_node[name] = {
            "cpu_mean": None if cpu_mean is None else round(cpu_mean, 4),
            "cpu_max": round(max(cpu), 4) if cpu else None,
            "lag_p99_ms": lag_p99,
            "lag_max_ms": lag_max,
            "sends": state.sends,
            "late_sends": state.late_sends,
            "send_lag_max_ms": round(state.send_lag_max_us / 1000, 3),
            "reports": state.reports,
        }
        reasons += generator_reasons(f"worker {name}", cpu, [], max_cpu=config.max_cpu,
                                     max_lag_ms=config.max_lag * 1000)
        if lag_p99 is not None and lag_p99 > config.max_lag * 1000 and state.timestamps == "user":
            reasons.append(f"worker {name}: scheduling lag p99 {lag_p99:.1f} ms (limit "
                           f"{config.max_lag * 1000:g} ms) with receipts stamped in user space")
        elif lag_p99 is not None and lag_p99 > config.max_lag * 1000:
            notes.append(f"worker {name}: scheduling lag p99 {lag_p99:.1f} ms (over "
                         f"{config.max_lag * 1000:g} ms; receipts are kernel-stamped, and "
                         f"{state.late_sends} of {state.sends} scheduled sends left late)")
    steady_from = config.users / config.spawn_rate + max(k.connect_wait for k in config.kinds) + 1
    steady = [r for r in agg.series
              if steady_from <= r["t"] - config.report_interval and r["t"] <= ramp_down_s + 1e-9]
    steady = steady or agg.series
    sends = [(int(r.get("sends", 0)), int(r.get("late_sends", 0))) for r in steady]
    reasons += generator_reasons(
        f"{steady[0]['t'] - config.report_interval:g}-{steady[-1]['t']:g} s" if steady else "run",
        [], sends, max_cpu=config.max_cpu, max_lag_ms=config.max_lag * 1000)
    for name, state in sorted(agg.nodes.items()):
        if state.internal_errors:
            first = state.internal_problems[0] if state.internal_problems else "?"
            reasons.append(f"worker {name}: the generator failed on {state.internal_errors} "
                           f"frames (first: {first})")
    if len(agg.nodes) < workers:
        reasons.append(f"only {len(agg.nodes)} of {workers} workers reported")
    missing = sorted(set(agg.nodes) - set(finals))
    if missing:
        reasons.append(f"no final report from {', '.join(missing)}")
    if sum(k["events"] for k in kinds.values()) == 0:
        reasons.append("no event was sent: nothing was measured")
    return {
        "valid": not reasons,
        "reasons": reasons,
        "notes": notes,
        "limits": {"max_cpu": config.max_cpu, "max_lag_ms": config.max_lag * 1000,
                   "max_late_sends": MAX_LATE_SENDS},
        "steady": {"from_s": round(steady_from, 3), "to_s": ramp_down_s,
                   "sends": sum(n for n, _ in sends), "late_sends": sum(k for _, k in sends)},
        "workers": per_node,
    }


def _target(agg: Aggregator) -> dict[str, Any]:
    errors: dict[str, int] = {}
    for state in agg.nodes.values():
        for code, n in state.errors.items():
            errors[code] = errors.get(code, 0) + n
    connect_failures = sum(s.connect_failures for s in agg.nodes.values())
    refused = sum(s.refused for s in agg.nodes.values())
    protocol_errors = sum(s.protocol_errors for s in agg.nodes.values())
    closed = sum(s.closed_by_server for s in agg.nodes.values())
    registrations = sum(s.registrations for s in agg.nodes.values())
    opened = max((row["sockets"] for row in agg.series), default=0) or connect_failures
    unanswered = registrations == 0 and opened > 0 and connect_failures < opened
    broke = []  # each way the target broke, named (the reasons for exit 3)
    if refused:
        broke.append(f"{refused} connections refused")
    if connect_failures - refused:
        broke.append(f"{connect_failures - refused} connections failed")
    if closed:
        broke.append(f"{closed} sockets closed by the server")
    if protocol_errors:
        broke.append(f"{protocol_errors} protocol violations")
    if unanswered:  # slow answers are measured (late or lost joins); none at all is P3 broken
        broke.append("no socket's new-user-add was ever answered with get-users (P3)")
    return {
        "ok": connect_failures == 0 and protocol_errors == 0 and closed == 0 and not unanswered,
        "registrations": registrations,
        "broke": broke,
        "down": target_down(agg.series),
        "closed_by_server": closed,
        "reconnects": sum(s.reconnects for s in agg.nodes.values()),
        "problems": [f"{name}: {p}" for name, s in sorted(agg.nodes.items()) for p in s.problems],
        "connect_failures": connect_failures,
        "refused": refused,
        "protocol_errors": protocol_errors,
        "errors": errors,
    }


def target_down(series: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first interval in which the target looked dead: most open sockets closed by the
    server, or connections refused; None if it never did."""
    open_before = 0
    for row in series:
        closed, refused = row.get("closed_by_server", 0), row.get("refused", 0)
        if refused or (closed and closed * 2 >= max(open_before, 1)):
            return {"at_s": row["t"], "closed_by_server": closed, "refused": refused,
                    "connect_failures": row.get("connect_failures", 0),
                    "reconnects": row.get("reconnects", 0), "sockets_before": open_before}
        open_before = row.get("sockets", 0)
    return None


def exit_code_of(summary: Mapping[str, Any]) -> int:
    """3 target broke, 2 invalid measurement, 1 an SLO broken, 0 ok (first that applies)."""
    if not summary["target"]["ok"]:
        return EXIT_TARGET
    if not summary["validity"]["valid"]:
        return EXIT_INVALID
    if any(not r["ok"] for r in summary["slo"]):
        return EXIT_SLO
    return EXIT_OK


def build_summary(
    config: LoadConfig,
    agg: Aggregator,
    *,
    finals: Mapping[str, Any],
    started_us: int,
    ramp_down_us: int,
    ended_us: int,
    locust_stats: Any,
    workers: int,
    interrupted_us: int | None = None,
) -> dict[str, Any]:
    """The whole ``summary.json`` document (``interrupted_us``: when Ctrl-C or SIGTERM ended the
    run early; the summary then holds what was measured until then, marked interrupted)."""
    kinds: dict[str, Any] = {kind: _kind_entry(agg.totals[kind], agg, kind) for kind in KINDS}
    total = Counts()
    for kind in KINDS:
        total.add(agg.totals[kind])
    slos = tuple(parse_slo(text) for text in config.slos)
    clocks = {
        name: {"offset_us": s.clock_offset_us, "uncertainty_us": s.clock_uncertainty_us}
        for name, s in sorted(agg.nodes.items())
        if s.clock_offset_us is not None
    }
    uncertainty = max((c["uncertainty_us"] or 0 for c in clocks.values()), default=0)
    summary: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "wsprobe", "version": __version__},
        "run": {
            "id": config.run_id,
            "url": config.url,
            "started": _iso(started_us),
            "duration_s": config.duration,
            "ramp_down_s": round((ramp_down_us - started_us) / 1e6, 3),
            "wall_s": round((ended_us - started_us) / 1e6, 3),
            "interrupted": interrupted_us is not None,
            "interrupted_at_s": None if interrupted_us is None
            else round((interrupted_us - started_us) / 1e6, 3),
            "users": config.users,
            "spawn_rate": config.spawn_rate,
            "peak_users": max((row["users"] for row in agg.series), default=0),
            "peak_sockets": max((row["sockets"] for row in agg.series), default=0),
            "workers": workers,
            "late_after_ms": config.late_after * 1000,
            "loss_timeout_ms": config.loss_timeout * 1000,
            "user_kinds": [
                {
                    "name": k.name,
                    "weight": k.weight,
                    "sockets_per_user": k.sockets,
                    "heartbeat_s": k.heartbeat,
                    "focus_flips_per_min": k.focus_flips_per_min,
                    "chats_per_min": k.chats_per_min,
                    "calls_per_min": k.calls_per_min,
                    "session_s": k.session,
                    "reconnect_backoff_s": k.reconnect_backoff,
                    "reconnect_attempts": k.reconnect_attempts,
                }
                for k in config.kinds
            ],
            "timestamps": {name: s.timestamps for name, s in sorted(agg.nodes.items())},
            "clock": {
                "same_host": config.same_clock,
                "workers": clocks,
                "max_uncertainty_ms": uncertainty / 1000,
            },
        },
        "kinds": kinds,
        "totals": {
            **total.as_dict(),
            "delivered_pct": _pct(total.delivered, total.expected),
            "lost_pct": _pct(total.lost, total.expected),
        },
        "unmatched": agg.unmatched,
        "workers": {
            name: {
                "kinds": {k: s.counts[k].as_dict() for k in KINDS},
                "unmatched": s.unmatched,
                "own_totals": finals.get(name),
            }
            for name, s in sorted(agg.nodes.items())
        },
        "target": _target(agg),
        "locust": {
            "requests": locust_stats.total.num_requests,
            "failures": locust_stats.total.num_failures,
        },
        "series": agg.series,
        "files": {},
    }
    summary["validity"] = _validity(config, agg, finals, workers, kinds,
                                    ramp_down_s=summary["run"]["ramp_down_s"])
    summary["slo"] = [r.as_dict() for r in evaluate(slos, kinds)]
    code = exit_code_of(summary)
    summary["verdict"] = {0: "ok", 1: "slo-broken", 2: "invalid", 3: "target-broken"}[code]
    if interrupted_us is not None:  # the verdict is of the part that ran; the exit is 130
        code = EXIT_INTERRUPTED
        summary["verdict_until_interrupted"] = summary["verdict"]
        summary["verdict"] = "interrupted"
    summary["exit_code"] = code
    return summary


def write_outputs(out: Path, agg: Aggregator, summary: dict[str, Any]) -> None:
    """Write ``histograms.json`` and ``summary.json`` (listing every file of the run)."""
    hists = {
        kind: {
            series: agg.hists.get(kind, series).encode().decode("ascii")
            for series in SERIES
        }
        for kind in KINDS
    }
    (out / "histograms.json").write_text(
        json.dumps({"unit": "us", "significant_digits": 3, "histograms": hists}, indent=2),
        encoding="utf-8",
    )
    summary["files"] = {
        "summary": "summary.json",
        "histograms": "histograms.json",
        "config": "config.json",
        "deliveries": sorted(p.name for p in out.glob("deliveries-*.csv")),
        "worker_totals": sorted(p.name for p in out.glob("worker-*.json")),
        "locust_stats": sorted(p.name for p in out.glob("locust_*.csv")),
        "logs": sorted(p.name for p in out.glob("locust-*.log")),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")


def progress_line(agg: Aggregator, users: int, elapsed: float) -> dict[str, Any]:
    """One progress line: users, sockets, the target's health so far, and per kind what is known
    already, on the final table's basis (latency from the *scheduled* send, every copy received
    so far; delivered and lost are counted once an event is final, ``loss_timeout`` after it)."""
    kinds = {}
    for kind in KINDS:
        counts = agg.totals[kind]
        hist = agg.hists.get(kind, "scheduled")
        received = hist.get_total_count()
        if counts.events or received:
            stats = percentiles_ms(hist)
            kinds[kind] = {
                "events": counts.events,
                "received": received,
                "delivered": counts.delivered,
                "lost": counts.lost,
                "duplicates": counts.duplicates,
                "p50": stats["p50"] if received else None,
                "p99": stats["p99"] if received else None,
                "max": stats["max"] if received else None,
            }
    nodes = agg.nodes.values()
    return {
        "type": "progress",
        "elapsed": round(elapsed, 1),
        "users": users,
        "sockets": sum(s.sockets for s in nodes),
        "cpu": {n: (s.cpu[-1] if s.cpu else None) for n, s in sorted(agg.nodes.items())},
        "target": {"closed_by_server": sum(s.closed_by_server for s in nodes),
                   "refused": sum(s.refused for s in nodes),
                   "connect_failures": sum(s.connect_failures for s in nodes),
                   "reconnects": sum(s.reconnects for s in nodes),
                   "protocol_errors": sum(s.protocol_errors for s in nodes)},
        "kinds": kinds,
    }
