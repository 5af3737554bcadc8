"""``wsprobe report RUN_DIR``: report.html, summary.csv and summary.md from real run folders."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from wsprobe.cli import main
from wsprobe.report import read_run, write_report

LOAD_CHARTS = ("latency-vs-users", "latency-over-time", "latency-distribution",
               "delivery-ratios", "connections", "send-lag", "generator-cpu")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``wsprobe ARGV`` in this process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_load_report_has_every_chart_inline(base_run: Path, tmp_path: Path) -> None:
    """Each load chart is an inline SVG; nothing is fetched from anywhere (no script, no URL)."""
    files = write_report([base_run], output=tmp_path)
    html = files.html.read_text(encoding="utf-8")
    for chart in LOAD_CHARTS:
        assert re.search(rf'<figure class="chart" id="run1-{chart}"[^>]*><figcaption>[^<]*'
                         rf'</figcaption><svg', html), chart
    assert "<script" not in html
    assert not re.search(r'(src|href)\s*=\s*"(?!#)', html)
    assert not re.search(r"url\((?!#)", html)
    assert "@import" not in html


def test_summary_csv_carries_the_run_figures(base_run: Path, tmp_path: Path) -> None:
    """summary.csv holds summary.json's percentiles and ratios, one metric per row."""
    files = write_report([base_run], output=tmp_path)
    with files.csv.open(encoding="utf-8") as table:
        rows = {r["metric"]: r for r in csv.DictReader(table)}
    summary = json.loads((base_run / "summary.json").read_text(encoding="utf-8"))
    status = summary["kinds"]["status"]
    assert float(rows["status.p99"]["value"]) == status["latency_ms"]["actual"]["p99"]
    assert float(rows["status.scheduled.p99"]["value"]) == \
        status["latency_ms"]["scheduled"]["p99"]
    assert float(rows["status.delivered"]["value"]) == pytest.approx(
        status["delivered"] / status["expected"])
    assert rows["status.p99"]["unit"] == "ms"
    assert rows["status.p99"]["better"] == "lower"
    assert list(rows["status.p99"]) == ["run", "metric", "value", "unit", "better", "gate"]


def test_markdown_summary_states_verdict_and_slo(base_run: Path, tmp_path: Path) -> None:
    """summary.md names the run, its SLO with the measured value, and a per-kind table."""
    text = write_report([base_run], output=tmp_path).markdown.read_text(encoding="utf-8")
    assert f"**{base_run.name}**: SLOs met" in text
    assert "`status.p99<500ms` (measured " in text
    assert "| status |" in text


def test_verify_report_shows_frames_of_failed_check(failed_run: Path, tmp_path: Path) -> None:
    """A failed check gets a per-actor timeline of its frames and its finding in the summary."""
    files = write_report([failed_run], output=tmp_path)
    html = files.html.read_text(encoding="utf-8")
    assert re.search(r'id="run1-timeline-1"[^>]*><figcaption>[^<]*chat</figcaption><svg', html)
    for lane in ("alice/main", "bob/web", "bob/mobile"):
        assert lane in html
    assert "did not receive receive-message" in files.markdown.read_text(encoding="utf-8")
    run = read_run(failed_run)
    assert run.failures[0].frames["type"].tolist().count("send-message") == 3  # type: ignore[union-attr]


def test_several_runs_get_an_overview(base_run: Path, slowed_run: Path, tmp_path: Path) -> None:
    """Two runs in one report: an overview table with a column per run."""
    html = write_report([base_run, slowed_run], output=tmp_path).html.read_text(encoding="utf-8")
    assert "<h2>Overview</h2>" in html
    assert f"<th>{base_run.name}</th><th>{slowed_run.name}</th>" in html
    assert 'id="run2-latency-over-time"' in html


def test_cli_report_is_the_default_subcommand(base_run: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """``wsprobe report RUN -o DIR`` writes the files and prints the Markdown summary."""
    code, out, _ = run_cli(capsys, "report", str(base_run), "-o", str(tmp_path / "r"))
    assert code == 0
    assert "### wsprobe report" in out
    assert {p.name for p in (tmp_path / "r").iterdir()} == {"report.html", "summary.csv",
                                                           "summary.md"}


def _broken(base: Path, tmp: Path, how: str) -> tuple[Path, str]:
    run = tmp / "run"
    if how == "missing":
        return run, f"{run}: no such run folder"
    shutil.copytree(base, run)
    if how == "not-a-run":
        (run / "summary.json").unlink()
        return run, f"{run}: not a run folder"
    if how == "bad-json":
        (run / "summary.json").write_text('{\n  "kinds": {,\n}', encoding="utf-8")
        return run, f"{run / 'summary.json'}:2:13: invalid JSON"
    if how == "no-kinds":
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        del summary["kinds"]
        (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
        return run, f"{run / 'summary.json'}: no per-kind results"
    deliveries = next(run.glob("deliveries-*.csv"))
    deliveries.write_text("kind,key\nstatus,k1\n", encoding="utf-8")
    return run, f"{deliveries}: missing column(s) t_send_us"


@pytest.mark.parametrize("how", ["missing", "not-a-run", "bad-json", "no-kinds", "bad-csv"])
def test_bad_run_folder_exits_2_naming_the_file(base_run: Path, tmp_path: Path, how: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A missing or malformed run folder is exit 2 with the file (and line) in the message."""
    run, message = _broken(base_run, tmp_path, how)
    code, _, err = run_cli(capsys, "report", str(run))
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_several_runs_need_an_output_folder(base_run: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs without -o: exit 2 saying where the report should go is missing."""
    code, _, err = run_cli(capsys, "report", str(base_run), str(base_run))
    assert code == 2
    assert "--output" in err


def test_run_without_raw_deliveries_still_reports(base_run: Path, tmp_path: Path) -> None:
    """--no-raw runs: latency charts fall back to summary.json; send lag says what is missing."""
    run = tmp_path / "no-raw"
    shutil.copytree(base_run, run)
    for path in run.glob("deliveries-*.csv"):
        path.unlink()
    html = write_report([run]).html.read_text(encoding="utf-8")
    for chart in ("latency-vs-users", "latency-over-time", "latency-distribution"):
        assert re.search(rf'id="run1-{chart}"[^>]*><figcaption>[^<]*</figcaption><svg', html)
    assert re.search(r'class="chart missing" id="run1-send-lag">.*no scheduled send times',
                     html)
