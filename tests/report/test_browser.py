"""report.html in a real headless Chromium: no console error, nothing fetched, every chart drawn."""

from __future__ import annotations

from pathlib import Path

from tests.report.browser import PageReport, open_page
from tests.report.test_report_files import LOAD_CHARTS
from wsprobe.report import write_report


def assert_renders_offline(page: PageReport, expected: list[str]) -> None:
    """No console error, only the file itself requested, each expected chart drawn with marks."""
    assert page.console_errors == []
    assert all(url.startswith(("file:", "data:")) for url in page.requests), page.requests
    drawn = {c["id"]: c for c in page.charts}
    assert sorted(drawn) == sorted(expected)
    for chart in page.charts:
        assert not chart["missing"], f"{chart['id']}: {chart['note']}"
        assert chart["width"] > 300, chart["id"]
        assert chart["height"] > 100, chart["id"]
        assert chart["marks"] >= 10, chart["id"]


def test_load_report_renders_in_chromium(base_run: Path, tmp_path: Path) -> None:
    """The load report: every chart is an SVG with axes and data; a screenshot is saved."""
    files = write_report([base_run], output=tmp_path)
    shot = tmp_path / "load-report.png"
    page = open_page(files.html, shot)
    assert_renders_offline(page, [f"run1-{c}" for c in LOAD_CHARTS])
    assert page.title == f"wsprobe report: {base_run.name}"
    texts = {c["id"]: " ".join(c["texts"]) for c in page.charts}
    assert "status p99" in texts["run1-latency-over-time"]
    assert "99%" in texts["run1-latency-distribution"]
    assert shot.stat().st_size > 20_000


def test_verify_report_renders_in_chromium(failed_run: Path, tmp_path: Path) -> None:
    """The verify report: the failed check's frame timeline renders with its actors."""
    files = write_report([failed_run], output=tmp_path)
    page = open_page(files.html, tmp_path / "verify-report.png")
    assert_renders_offline(page, ["run1-timeline-1"])
    assert "bob/web" in page.charts[0]["texts"]


def test_browser_check_sees_errors_and_fetches(tmp_path: Path) -> None:
    """The check can fail: a console error and a request to the network are both reported."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><title>bad</title></head><body>'
                    '<img src="http://192.0.2.1/x.png"><script>console.error("boom")</script>'
                    '<figure class="chart missing" id="c"><p class="note">none</p></figure>'
                    "</body></html>", encoding="utf-8")
    seen = open_page(page, tmp_path / "bad.png")
    assert "boom" in " ".join(seen.console_errors)
    assert "http://192.0.2.1/x.png" in seen.requests
    assert seen.charts[0]["missing"]
