"""A load process: ``python -m wsprobe.load.process --config config.json --role ROLE``.

Roles: ``local`` (one process, users and master in one), ``master`` (no users; merges the workers'
reports and writes the outputs), ``worker`` (users; reports to the master). Importing this module
imports locust, which monkey-patches the process for gevent: it only ever runs in a process of
its own, started by ``wsprobe load``.

The master (or local process) prints one JSON object per line on stdout: ``progress`` lines during
the run and a final ``done`` line with the exit code; ``wsprobe load`` renders them.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402  # after monkey-patching, as locust requires
import dataclasses  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from gevent.threadpool import ThreadPool  # noqa: E402
from locust import User, events  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.runners import STATE_STOPPED, LocalRunner, MasterRunner, WorkerRunner  # noqa: E402
from locust.stats import PERCENTILES_TO_REPORT, StatsCSVFileWriter, stats_history  # noqa: E402

from wsprobe.load.aggregate import Aggregator  # noqa: E402
from wsprobe.load.client import now_us  # noqa: E402
from wsprobe.load.config import LoadConfig  # noqa: E402
from wsprobe.load.fanout import EventOutcome  # noqa: E402
from wsprobe.load.monitor import Monitor  # noqa: E402
from wsprobe.load.probe import OnEvent, Probe  # noqa: E402
from wsprobe.load.summary import build_summary, progress_line, write_outputs  # noqa: E402
from wsprobe.load.users import user_classes  # noqa: E402

log = logging.getLogger("wsprobe.load")

MSG_INTERVAL = "wsprobe:interval"
MSG_SENDS = "wsprobe:sends"
MSG_PING = "wsprobe:ping"
MSG_PONG = "wsprobe:pong"
MSG_DRAIN = "wsprobe:drain"
MSG_FLUSH = "wsprobe:flush"
MSG_FINAL = "wsprobe:final"
MSG_HELLO = "wsprobe:hello"


def _behaviour(config: LoadConfig) -> list[dict[str, Any]]:
    """What must be equal on the master and every worker: the user kinds (Locust's classes)."""
    return [dataclasses.asdict(kind) for kind in config.kinds]


class LostDeliveries(Exception):
    """Locust failure entry: some expected receivers never got the event."""


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _feed_locust(env: Environment) -> OnEvent:
    """Locust's statistics get one request per event: the time to this worker's last receiver."""

    def on_event(o: EventOutcome) -> None:
        if o.last_recv is None and o.expected == 0:
            return
        to_last = 0.0 if o.last_recv is None else (o.last_recv - o.t_send) / 1000
        env.events.request.fire(  # type: ignore[no-untyped-call]  # locust's EventHook
            request_type="fanout",
            name=o.kind,
            response_time=to_last,
            response_length=o.delivered,
            exception=LostDeliveries(f"{o.lost} of {o.expected} lost") if o.lost else None,
            context={},
        )

    return on_event


# -- the side with users ------------------------------------------------------------------------


class UserSide:
    """Probe and monitor of a process that runs users, and its interval reports."""

    def __init__(self, env: Environment, config: LoadConfig, node: str, out: Path) -> None:
        self.env = env
        self.config = config
        raw = out / f"deliveries-{node}.csv" if config.raw else None
        self.probe = Probe(config, node=node, raw_path=raw)
        # the raw log is written by one thread of its own, in order, off the hub
        self.writer = ThreadPool(1)
        self.probe.run_blocking = self._write_later
        self._closed = False
        env.wsprobe_probe = self.probe  # type: ignore[attr-defined]  # read by the users
        self.monitor = Monitor()
        self.on_event = _feed_locust(env)
        self.finished = False

    def _write_later(self, write: Callable[[], None]) -> None:
        self.writer.spawn(write)

    def close(self) -> None:
        """Finish the queued raw-log writes, then flush and close the log (once)."""
        if self._closed:
            return
        self._closed = True
        self.writer.join()
        self.probe.run_blocking = lambda write: write()
        self.probe.close()
        self.writer.kill()

    def report(self, *, final: bool = False) -> dict[str, Any]:
        """This interval's report (``final``: finalize every pending event first)."""
        return self.probe.interval_report(
            final=final, monitor=self.monitor.interval(), on_event=self.on_event
        )


def run_worker(env: Environment, config: LoadConfig, *, node: str, out: Path,
               master_host: str, master_port: int) -> int:
    """Run users for a master: relay sends, answer clock pings, report every interval."""
    runner: WorkerRunner = env.create_worker_runner(master_host, master_port)
    side = UserSide(env, config, node, out)
    probe = side.probe

    def on_sends(environment: Environment, msg: Any) -> None:
        if msg.data["node"] != node:
            probe.relayed(msg.data["records"])

    def on_pong(environment: Environment, msg: Any) -> None:
        d = msg.data
        if d["node"] == node:
            probe.clock.add(d["t0"], d["t1"], d["t2"], now_us())
            estimate = probe.clock.estimate()
            if estimate is not None and not config.same_clock:
                probe.offset_us = estimate.offset_us

    def on_drain(environment: Environment, msg: Any) -> None:
        probe.draining = True

    def on_flush(environment: Environment, msg: Any) -> None:
        if side.finished:
            return
        side.finished = True
        runner.send_message(MSG_INTERVAL, side.report(final=True))
        totals = probe.totals()
        (out / f"worker-{node}.json").write_text(json.dumps(totals, indent=2), encoding="utf-8")
        runner.send_message(MSG_FINAL, totals)
        side.close()

    def on_interrupt() -> None:  # Ctrl-C reaches the whole group: the master ends the run
        probe.stopping = True

    gevent.signal_handler(signal.SIGINT, on_interrupt)
    runner.register_message(MSG_SENDS, on_sends)
    runner.register_message(MSG_PONG, on_pong)
    runner.register_message(MSG_DRAIN, on_drain)
    runner.register_message(MSG_FLUSH, on_flush)
    side.monitor.start()

    runner.send_message(MSG_HELLO, {"node": node, "kinds": _behaviour(config)})

    def loop() -> None:
        tick = 0
        while not side.finished:
            gevent.sleep(0.2)
            tick += 1
            records = probe.take_outbox()
            if records:
                runner.send_message(MSG_SENDS, {"node": node, "records": records})
            if tick % 5 == 1:
                runner.send_message(MSG_PING, {"node": node, "t0": now_us()})
            if tick % max(int(config.report_interval / 0.2), 1) == 0 and not side.finished:
                runner.send_message(MSG_INTERVAL, side.report())

    gevent.spawn(loop)
    runner.greenlet.join()
    side.close()
    return 0


# -- the side that merges ---------------------------------------------------------------------


def run_master(env: Environment, config: LoadConfig, out: Path, *, local: bool,
               bind_port: int, expect_workers: int) -> int:
    """Run the whole run's timeline, merge every report and write the outputs; the exit code."""
    t0 = now_us()
    agg = Aggregator(t0=t0, interval=config.report_interval, loss_timeout=config.loss_timeout)
    finals: dict[str, dict[str, Any]] = {}
    side: UserSide | None = None
    runner: LocalRunner | MasterRunner
    if local:
        runner = env.create_local_runner()
        side = UserSide(env, config, "local", out)
        side.monitor.start()
    else:
        runner = env.create_master_runner(config.extra.get("master_bind", "127.0.0.1"), bind_port)

        def on_interval(environment: Environment, msg: Any) -> None:
            agg.add(msg.data)

        def on_sends(environment: Environment, msg: Any) -> None:
            runner.send_message(MSG_SENDS, msg.data)

        def on_ping(environment: Environment, msg: Any) -> None:
            t1 = now_us()
            runner.send_message(
                MSG_PONG, {**msg.data, "t1": t1, "t2": now_us()}, client_id=msg.node_id
            )

        def on_final(environment: Environment, msg: Any) -> None:
            finals[msg.data["node"]] = msg.data

        runner.register_message(MSG_INTERVAL, on_interval)
        runner.register_message(MSG_SENDS, on_sends)
        runner.register_message(MSG_PING, on_ping)
        hellos: dict[str, list[dict[str, Any]]] = {}

        def on_hello(environment: Environment, msg: Any) -> None:
            hellos[msg.data["node"]] = msg.data["kinds"]

        runner.register_message(MSG_FINAL, on_final)
        runner.register_message(MSG_HELLO, on_hello)

    stop = Event()
    interrupted: list[int] = []

    def on_signal() -> None:  # Ctrl-C or SIGTERM: end the run now and write what was measured
        if not interrupted:
            interrupted.append(now_us())
            if side is not None:
                side.probe.stopping = True
            stop.set()

    gevent.signal_handler(signal.SIGINT, on_signal)
    gevent.signal_handler(signal.SIGTERM, on_signal)
    csv_writer = StatsCSVFileWriter(env, PERCENTILES_TO_REPORT, str(out / "locust"), True)
    csv_greenlet = gevent.spawn(csv_writer.stats_writer)
    gevent.spawn(stats_history, runner)
    web_url = None
    if not config.headless:
        env.create_web_ui(config.web_host, config.web_port, stats_csv_writer=csv_writer)
        web_url = f"http://{config.web_host}:{config.web_port}"

    def local_loop() -> None:
        assert side is not None
        while not side.finished:
            gevent.sleep(config.report_interval)
            if not side.finished:
                agg.add(side.report())

    if local:
        gevent.spawn(local_loop)
    else:
        assert isinstance(runner, MasterRunner)
        deadline = now_us() + 60_000_000
        while len(runner.clients.ready) < expect_workers or len(hellos) < expect_workers:
            if interrupted:
                _emit({"type": "error", "message": "interrupted while waiting for workers"})
                runner.quit()
                return 130
            if now_us() > deadline:
                _emit({"type": "error", "message": f"only {len(runner.clients.ready)} of "
                       f"{expect_workers} workers connected within 60 s"})
                runner.quit()
                return 2
            gevent.sleep(0.1)
        differ = sorted(node for node, kinds in hellos.items() if kinds != _behaviour(config))
        if differ:
            _emit({"type": "error", "message": f"worker(s) {', '.join(differ)} run other user "
                   "kinds than the master: give every host the same --profile and behaviour "
                   "flags"})
            runner.quit()
            return 2

    started = now_us()
    _emit({"type": "start", "web_ui": web_url, "workers": expect_workers, "t0": t0})
    runner.start(config.users, config.spawn_rate)

    def progress() -> None:
        while True:
            gevent.sleep(config.report_interval)
            _emit(progress_line(agg, runner.user_count, (now_us() - started) / 1e6))

    progress_greenlet = gevent.spawn(progress)
    # the duration counts from the start of spawning (a master's start() blocks while it spawns)
    stop.wait(max(started + int(config.duration * 1e6) - now_us(), 0) / 1e6)

    # ramp down at the spawn rate: leaving users are measured by those who stay
    ramp_start = now_us()
    if not interrupted:
        runner.start(0, config.spawn_rate)
        ramp_deadline = ramp_start + int((config.users / config.spawn_rate + 15) * 1e6)
        stop.wait(0.5)
        while runner.user_count > 0 and now_us() < ramp_deadline and not interrupted:
            stop.wait(0.1)
    runner.stop()
    stop_deadline = now_us() + 15_000_000
    while runner.state != STATE_STOPPED and now_us() < stop_deadline:
        gevent.sleep(0.1)
    # drain: wait until every pending event is delivered or times out
    drain_start = now_us()
    if side is not None:
        side.probe.draining = True
    else:
        runner.send_message(MSG_DRAIN)
    reports_at_drain = {n: s.reports for n, s in agg.nodes.items()}
    drain_deadline = drain_start + int(min(config.loss_timeout, 5.0 if interrupted else 1e9)
                                       * 1e6)
    while now_us() < drain_deadline:
        gevent.sleep(0.1)
        if side is not None:
            if side.probe.tracker.incomplete() == 0:
                break
        elif all(s.reports >= reports_at_drain.get(n, 0) + 2 for n, s in agg.nodes.items()) \
                and agg.incomplete == 0:
            break
    # final reports
    if side is not None:
        side.finished = True
        agg.add(side.report(final=True))
        totals = side.probe.totals()
        finals["local"] = totals
        (out / "worker-local.json").write_text(json.dumps(totals, indent=2), encoding="utf-8")
        side.close()
        side.monitor.stop()
    else:
        runner.send_message(MSG_FLUSH)
        final_deadline = now_us() + 15_000_000
        while len(finals) < len(agg.nodes) and now_us() < final_deadline:
            gevent.sleep(0.1)
    progress_greenlet.kill(block=False)
    agg.finish(now_us())
    ended = now_us()
    gevent.sleep(1.1)  # let Locust's CSV writer write the final rows
    summary = build_summary(
        config,
        agg,
        finals=finals,
        started_us=started,
        ramp_down_us=ramp_start,
        ended_us=ended,
        locust_stats=runner.stats,
        workers=1 if local else expect_workers,
        interrupted_us=interrupted[0] if interrupted else None,
    )
    write_outputs(out, agg, summary)
    csv_greenlet.kill(block=True)
    csv_writer.close_files()
    runner.quit()
    _emit({"type": "done", "exit": summary["exit_code"], "output": str(out)})
    return int(summary["exit_code"])


def main(argv: list[str] | None = None) -> int:
    """Entry point of one load process."""
    parser = argparse.ArgumentParser(prog="python -m wsprobe.load.process")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--role", choices=["local", "master", "worker"], required=True)
    parser.add_argument("--node", default="w0")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--expect-workers", type=int, default=1)
    args = parser.parse_args(argv)
    sys.argv = sys.argv[:1]  # Locust's web UI parses sys.argv for its own options
    config = LoadConfig.read(args.config)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    name = "local" if args.role == "local" else ("master" if args.role == "master" else args.node)
    logging.basicConfig(
        filename=out / f"locust-{name}.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    classes: list[type[User]] = list(user_classes(config.kinds))
    env = Environment(user_classes=classes, events=events, stop_timeout=None)
    if args.role == "worker":
        return run_worker(env, config, node=args.node, out=out, master_host=args.master_host,
                          master_port=args.master_port)
    return run_master(env, config, out, local=args.role == "local", bind_port=args.master_port,
                      expect_workers=args.expect_workers)


if __name__ == "__main__":
    sys.exit(main())
