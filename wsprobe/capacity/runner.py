"""The capacity search over real load runs: each proposed user count is one ``wsprobe load`` run
(the load half's own launcher, users, summary and SLO evaluator), judged on its steady window.

A step is *held*, *broken* or *inconclusive* (:class:`~wsprobe.capacity.search.Verdict`): it
needs enough samples of every latency SLO's kinds in its window (1,000 for a p99); when a run ends
short, the step runs again for longer (up to ``max_step`` seconds), and a step still short is
inconclusive: the search moves up past it. The search stops early, and says why, when the target
refuses connections (exit 3), the load generator saturates during a window (exit 2) or the user
interrupts it (130); what held until then stands as a lower bound ("≥ N").
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wsprobe.capacity.result import CapacityResult, RepeatResult, StepRecord, write_result
from wsprobe.capacity.search import Search, SearchPlan, Verdict
from wsprobe.capacity.window import Window, min_samples, read_window
from wsprobe.errors import InputError, Interrupted
from wsprobe.load.config import LoadConfig
from wsprobe.load.launcher import Launch, launch
from wsprobe.load.slo import Slo, evaluate, parse_slo
from wsprobe.load.validity import generator_reasons

__all__ = ["CapacityConfig", "StepDone", "run_capacity"]

EXIT_OK, EXIT_BELOW, EXIT_INVALID, EXIT_TARGET, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


@dataclass(frozen=True, slots=True)
class CapacityConfig:
    """A capacity search: the load every step runs (``load``; its ``users``, ``duration`` and
    ``output`` are set per step), the SLOs, how to step, and how long to hold each step."""

    load: LoadConfig
    slos: tuple[str, ...]
    plan: SearchPlan = field(default_factory=SearchPlan)
    repeats: int = 3
    hold: float = 5.0
    settle: float = 1.0
    max_step: float = 60.0
    workers: int = 0
    output: Path = Path("capacity")
    min_samples: int | None = None
    auto_spawn: bool = False  # spawn each step's users within about 2 s (at least load's rate)

    def __post_init__(self) -> None:
        if not self.slos:
            raise InputError("capacity needs at least one --slo to search against")
        if self.repeats < 1:
            raise InputError(f"--repeat must be at least 1, got {self.repeats}")
        if self.hold <= 0 or self.max_step <= 0:
            raise InputError("--hold and --max-step must be positive")

    def parsed(self) -> tuple[Slo, ...]:
        """The SLOs, parsed by the load half's parser."""
        return tuple(parse_slo(text) for text in self.slos)


@dataclass(frozen=True, slots=True)
class StepDone:
    """A step was measured (for progress output)."""

    step: StepRecord
    folder: Path
    search_next: int | None


OnStep = Callable[[StepDone], None]


class _Stop(Exception):
    def __init__(self, reason: str, code: int) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


def _verdict(slos: tuple[Slo, ...], window: Window, need: int
             ) -> tuple[Verdict, tuple[str, ...], int]:
    """Held, broken or inconclusive, the SLOs broken (or why inconclusive), and the samples the
    verdict rests on (the fewest of any latency SLO's kinds)."""
    results = evaluate(slos, window.kinds)
    samples = _samples(slos, window)
    if samples is not None and samples < need:
        return (Verdict.INCONCLUSIVE,
                (f"{samples} samples in the window, fewer than the {need} the tail needs",),
                samples)
    broken = tuple(f"{r.slo.text} (measured {r.measured})" for r in results if not r.ok)
    return (Verdict.BROKEN if broken else Verdict.HELD), broken, samples or 0


def _samples(slos: tuple[Slo, ...], window: Window) -> int | None:
    """The fewest latency samples of any kind a latency SLO covers (None: only ratio SLOs)."""
    fewest: int | None = None
    for slo in slos:
        if slo.series == "ratio":
            continue
        scope = [k for k in window.kinds if slo.kind in ("all", k)]
        counts = [window.samples(k) for k in scope if window.samples(k)]
        least = min(counts) if counts else 0
        fewest = least if fewest is None else min(fewest, least)
    return fewest


def _check_run(folder: Path, code: int) -> dict[str, Any]:
    """The step run's summary; stops the search when the target broke."""
    path = folder / "summary.json"
    if not path.is_file():
        raise _Stop(f"the load run wrote no {path} (exit {code})", EXIT_INVALID)
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    target = summary.get("target", {})
    if not target.get("ok", True):
        named = "; ".join(target.get("broke") or []) or (
            f"{target.get('connect_failures')} failed connections, "
            f"{target.get('protocol_errors')} protocol errors")
        raise _Stop(f"the target broke at {summary['run']['users']} users: {named} ({folder})",
                    EXIT_TARGET)
    return summary


_GENERATOR = ("generator CPU", "scheduled sends", "scheduling lag")


def _generator_only(reason: str) -> bool:
    return any(mark in reason for mark in _GENERATOR)


def _check_generator(summary: dict[str, Any], window: Window, folder: Path) -> list[str]:
    """Stop when the generator distorted the figures *during the steady window*; returns notes.

    The load run judges its generator over the whole run, start-up and join burst included; the
    step's figures come from its steady window only, so it is judged again on the window's report
    intervals (:func:`wsprobe.load.validity.generator_reasons`: sustained CPU, or scheduled sends
    that left late). Transient scheduling lag is a note, never a stop. Any reason that is not
    about the generator (a worker that never reported, nothing sent) stops the search.
    """
    validity = summary.get("validity", {})
    reasons = [str(r) for r in validity.get("reasons") or []]
    notes = [str(n) for n in validity.get("notes") or []]
    users = summary.get("run", {}).get("users")
    stop = f"invalid measurement at {users} users, the load generator is the bottleneck"
    others = [r for r in reasons if not _generator_only(r)]
    if others:
        raise _Stop(f"invalid measurement at {users} users: {'; '.join(others)} ({folder})",
                    EXIT_INVALID)
    limits = validity.get("limits", {})
    max_cpu, max_lag = limits.get("max_cpu"), limits.get("max_lag_ms")
    end = window.start_s + window.length_s
    rows = [r for r in summary.get("series") or []
            if window.start_s < float(r.get("t", 0)) <= end + 1e-9]
    if max_cpu is None or max_lag is None:
        if reasons:
            raise _Stop(f"{stop}: {'; '.join(reasons)} ({folder})", EXIT_INVALID)
        return notes
    if not rows:  # no steady window yet (the join storm filled the run): held longer, not judged
        return [*notes, *(f"no steady window to judge: {r}" for r in reasons)]
    cpu = [float(r["cpu_max"]) for r in rows if r.get("cpu_max") is not None]
    sends = [(int(r.get("sends") or 0), int(r.get("late_sends") or 0)) for r in rows]
    found = generator_reasons(f"in the steady window {window.start_s:.1f}-{end:.1f} s", cpu,
                              sends, max_cpu=float(max_cpu), max_lag_ms=float(max_lag))
    if found:
        raise _Stop(f"{stop}: {'; '.join(found)} ({folder})", EXIT_INVALID)
    return notes + [f"over the whole run, not sustained in the steady window: {r}"
                    for r in reasons]


@dataclass(frozen=True, slots=True)
class _Measured:
    window: Window
    duration: float
    notes: tuple[str, ...]


def _measure(config: CapacityConfig, slos: tuple[Slo, ...], users: int, folder: Path,
             need: int) -> _Measured:
    """Run ``users`` until the window holds ``need`` samples, longer each time (up to
    ``max_step``): a step short of samples is inconclusive once it could hold no longer, or at
    once when the rate it measured could not give half of them within ``max_step``."""
    rate = max(config.load.spawn_rate, users / 2) if config.auto_spawn \
        else config.load.spawn_rate
    ramp = users / rate if rate > 0 else 0.0
    hold = config.hold
    while True:
        duration = ramp + config.settle + hold
        load = dataclasses.replace(config.load, users=users, duration=duration,
                                   spawn_rate=rate, output=str(folder), raw=True,
                                   slos=config.slos)
        try:
            code = launch(load, Launch(workers=config.workers), on_line=lambda line: None)
        except Interrupted:
            raise KeyboardInterrupt from None
        if code == EXIT_INTERRUPTED:
            raise _Stop(f"interrupted during the step at {users} users ({folder})",
                        EXIT_INTERRUPTED)
        summary = _check_run(folder, code)
        window = read_window(folder, summary, users=users, settle=config.settle)
        longest = config.max_step - ramp - config.settle
        if window.length_s < config.hold / 2 and hold < longest:
            # the join storm ate most of the run: run again with the steady window it lacked,
            # before judging anything on a window of a second or two
            hold = min(hold + 1.5 * (config.hold - window.length_s), longest)
            _clear(folder)
            continue
        notes = tuple(_check_generator(summary, window, folder))
        got = _samples(slos, window)
        if duration >= config.max_step and window.length_s <= 0:
            raise _Stop(f"no steady window at {users} users within --max-step "
                        f"{config.max_step:g} s: the join storm of the ramp-up never ended "
                        f"({folder})", EXIT_INVALID)
        if got is None or got >= need or duration >= config.max_step:
            return _Measured(window, duration, notes)
        per_s = got / window.length_s if window.length_s > 0 and got else 0.0
        if per_s and per_s * longest < need / 2:
            # even --max-step would give fewer than half the samples: inconclusive now
            return _Measured(window, duration, notes)
        wanted = need / per_s * 1.3 if per_s else hold * 4
        hold = min(max(wanted, hold * 1.5), longest)
        if hold <= 0:
            return _Measured(window, duration, notes)
        _clear(folder)


def _clear(folder: Path) -> None:
    """Remove a step run's files: the longer run that replaces it writes its own."""
    for stale in folder.iterdir():
        if stale.is_file():
            stale.unlink()


def run_capacity(config: CapacityConfig, *, on_step: OnStep | None = None) -> CapacityResult:
    """Search ``config.repeats`` times and write ``capacity.json`` and ``steps.csv``."""
    slos = config.parsed()
    need = config.min_samples or min_samples(slos)
    series = next((s.series for s in slos if s.series in ("actual", "scheduled")), "scheduled")
    started = time.time()
    steps: list[StepRecord] = []
    repeats: list[RepeatResult] = []
    stopped: str | None = None
    code = EXIT_OK
    for repeat in range(1, config.repeats + 1):
        search = Search(config.plan)
        rates: dict[int, float] = {}
        samples: dict[int, int] = {}
        index = 0
        try:
            while (users := search.next_users()) is not None:
                index += 1
                folder = config.output / "steps" / f"r{repeat}-s{index:02d}-{users}u"
                phase = search.phase.value
                t0 = time.time()
                measured = _measure(config, slos, users, folder, need)
                window = measured.window
                verdict, broken, samples[users] = _verdict(slos, window, need)
                record = StepRecord(repeat, index, phase, users, t0, window.length_s,
                                    window.deliveries_per_s, verdict is Verdict.HELD, broken,
                                    verdict is not Verdict.INCONCLUSIVE,
                                    window.stats(series), verdict.value, samples[users],
                                    measured.notes)
                steps.append(record)
                rates[users] = window.deliveries_per_s
                search.record(users, verdict)
                if on_step is not None:
                    on_step(StepDone(record, folder, search.next_users()))
        except _Stop as stop:
            stopped, code = stop.reason, stop.code
        except KeyboardInterrupt:
            stopped, code = "interrupted between steps", EXIT_INTERRUPTED
        found = search.result()
        repeats.append(RepeatResult(
            repeat, found.passing, found.failing,
            rates.get(found.passing) if found.passing else None, stopped,
            capped=found.capped,  # nothing broke (a stopped search included): "≥ passing"
            passing_samples=samples.get(found.passing) if found.passing else None,
            failing_samples=samples.get(found.failing) if found.failing else None,
            inconclusive=found.inconclusive))
        if stopped:
            break
    result = CapacityResult(
        target=config.load.url,
        slos=config.slos,
        repeats=tuple(repeats),
        steps=tuple(steps),
        started_at=started,
        duration_s=time.time() - started,
        exit_code=code if stopped else _exit_code(repeats),
        stopped=stopped,
        settings={"start": config.plan.start, "growth": config.plan.growth,
                  "step": config.plan.step, "max_users": config.plan.max_users,
                  "resolution": config.plan.resolution, "repeats": config.repeats,
                  "hold_s": config.hold, "settle_s": config.settle,
                  "max_step_s": config.max_step, "min_samples": need,
                  "latency_series": series,
                  "spawn_rate": "auto" if config.auto_spawn else config.load.spawn_rate,
                  "workers": config.workers},
    )
    write_result(result, config.output)
    return result


def _exit_code(repeats: list[RepeatResult]) -> int:
    """1 when some repeat found no user count that met every SLO but one broke them; 2 when a
    repeat judged nothing (every step inconclusive: too few samples); else 0."""
    if any(r.passing is None and r.failing is not None for r in repeats):
        return EXIT_BELOW
    if any(r.passing is None for r in repeats):
        return EXIT_INVALID
    return EXIT_OK
