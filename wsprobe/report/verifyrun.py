"""A ``wsprobe verify`` (or ``run``) JSON report as tables, and per failed check a timeline of
its frames, one row per actor and socket."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from wsprobe.errors import InputError
from wsprobe.report.files import read_json
from wsprobe.report.svg import Chart, figure

__all__ = ["REPORT_FILES", "FailedCheck", "VerifyRun", "frame_timeline", "read_verify_run"]

#: names the JSON report of a verify or run may have, in the order they are looked for
REPORT_FILES = ("verify.json", "run.json", "fuzz.json", "wsprobe.json", "report.json")
_FRAME_COLUMNS = ["seq", "at", "actor", "socket", "direction", "type", "text", "problems"]
_SENT = ("client-to-server", "sent", "out", "->")


@dataclass(frozen=True, eq=False)
class FailedCheck:
    """A case that failed: its name, rule, what went wrong, and the frames it saw."""

    name: str
    rule: str | None
    status: str
    findings: tuple[str, ...]
    frames: pd.DataFrame


@dataclass(frozen=True, eq=False)
class VerifyRun:
    """A verify run: every case with its status, and the failed ones in detail."""

    path: Path
    source: Path
    summary: dict[str, Any]
    cases: pd.DataFrame  # name, rule, status
    failures: tuple[FailedCheck, ...]

    @property
    def name(self) -> str:
        """The folder's name."""
        return self.path.name

    @property
    def failed(self) -> int:
        """Cases that failed or errored."""
        return int(self.cases["status"].isin(["failed", "error"]).sum())

    @property
    def passed(self) -> int:
        """Cases that passed (warnings included)."""
        return int(self.cases["status"].isin(["passed", "warning"]).sum())


def find_report(folder: Path) -> Path | None:
    """The JSON report of a verify or run in ``folder``, if it has one."""
    for name in REPORT_FILES:
        path = folder / name
        if path.is_file():
            return path
    return None


def _frames(entries: Any, where: str) -> pd.DataFrame:
    if not isinstance(entries, list):
        return pd.DataFrame(columns=_FRAME_COLUMNS)
    rows = []
    for i, frame in enumerate(entries):
        if not isinstance(frame, dict):
            raise InputError(f"{where}: frame {i} should be an object, found {frame!r}")
        text = frame.get("text", frame.get("raw", frame.get("frame", "")))
        problems = frame.get("problems") or []
        rows.append({
            "seq": frame.get("seq", i),
            "at": frame.get("at", frame.get("time")),
            "actor": str(frame.get("actor", "?")),
            "socket": str(frame.get("socket", "")),
            "direction": str(frame.get("direction", "")),
            "type": str(frame.get("type") or ""),
            "text": text if isinstance(text, str) else str(text),
            "problems": len(problems) if isinstance(problems, list) else int(bool(problems)),
        })
    frame_table = pd.DataFrame(rows, columns=_FRAME_COLUMNS)
    frame_table["at"] = pd.to_numeric(frame_table["at"], errors="coerce")
    return frame_table.drop_duplicates("seq").sort_values("seq")


def _ndjson_frames(source: Path) -> dict[str, list[Any]]:
    """Every frame of ``<stem>.frames.ndjson`` next to the JSON report, by case name."""
    path = source.with_name(source.stem + ".frames.ndjson")
    by_case: dict[str, list[Any]] = {}
    if not path.is_file():
        return by_case
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                frame = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
            if isinstance(frame, dict) and isinstance(frame.get("case"), str):
                by_case.setdefault(frame["case"], []).append(frame)
    return by_case


def read_verify_run(folder: Path) -> VerifyRun:
    """Read the verify or run report in ``folder`` (and its frames file, when written)."""
    source = find_report(folder)
    if source is None:
        raise InputError(f"{folder}: no {' or '.join(REPORT_FILES)}")
    summary = read_json(source)
    all_frames = _ndjson_frames(source)
    cases = summary.get("cases")
    if not isinstance(cases, list):
        raise InputError(f"{source}: expected a list 'cases'")
    rows, failures = [], []
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or "status" not in case:
            raise InputError(f"{source}: cases[{i}] needs 'name' and 'status'")
        name = str(case.get("name", f"case {i}"))
        rule = case.get("rule")
        status = str(case["status"])
        rows.append({"name": name, "rule": rule, "status": status})
        if status not in ("failed", "error"):
            continue
        findings = [f for f in case.get("findings") or [] if isinstance(f, dict)]
        frame_lists = [all_frames.get(name) or case.get("frames") or []]
        frame_lists += [f.get("frames") or [] for f in findings]
        frames = _frames([fr for fl in frame_lists if isinstance(fl, list) for fr in fl],
                         f"{source}: cases[{i}]")
        titles = tuple(str(f.get("title", f.get("message", "?"))) for f in findings)
        if not titles and case.get("error"):
            titles = (str(case["error"]),)
        failures.append(FailedCheck(name, str(rule) if rule else None, status, titles, frames))
    table = pd.DataFrame(rows, columns=["name", "rule", "status"])
    return VerifyRun(folder, source, summary, table, tuple(failures))


def frame_timeline(check: FailedCheck, chart_id: str) -> Chart:
    """The frames of one failed check on a time axis, one row per actor/socket."""
    title = f"{check.rule + ': ' if check.rule else ''}{check.name}"
    frames = check.frames.dropna(subset=["at"])
    if frames.empty:
        return Chart(chart_id, title, None, "the report holds no frames for this check")
    frames = frames.assign(where=frames["actor"] + frames["socket"].map(
        lambda s: f"/{s}" if s else ""))
    lanes = list(dict.fromkeys(frames["where"]))
    t0 = float(frames["at"].min())
    width = min(max(4.0, 0.45 * len(frames) + 1.5), 14.0)
    height = 1.4 + 0.5 * len(lanes)
    with figure(chart_id, size=(width, height)) as (_, (ax,), out):
        for x, (_, row) in enumerate(frames.iterrows()):
            y = lanes.index(str(row["where"]))
            sent = str(row["direction"]) in _SENT
            color = "#d62728" if int(row["problems"]) else ("#1f77b4" if sent else "#2ca02c")
            ax.scatter([x], [y], marker=">" if sent else "<", s=42, color=color, zorder=3)
            ms = (float(row["at"]) - t0) * 1000
            ax.annotate(f"{row['type'] or 'frame'} +{ms:.0f}ms", (x, y), xytext=(2, 6),
                        textcoords="offset points", fontsize=6.5, rotation=35)
        ax.set_yticks(range(len(lanes)), lanes)
        ax.set_ylim(-0.6, len(lanes) - 0.1)
        ax.set_xlim(-0.5, len(frames) + 1.5)
        ax.set_xticks([])
        ax.set_xlabel("frames in order, labelled with type and ms since the check's first frame "
                      "(> sent, < received, red: invalid)")
    return Chart(chart_id, title, out[0])
