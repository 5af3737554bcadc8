"""Matplotlib figures rendered to inline SVG (Agg backend, no files, no fonts to fetch)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator

__all__ = ["KIND_COLORS", "Chart", "color_of", "figure", "legend_outside", "log_ms"]

#: one color per event kind, the same in every chart
KIND_COLORS = {
    "join": "#1f77b4",
    "leave": "#9467bd",
    "status": "#2ca02c",
    "chat": "#ff7f0e",
    "signal": "#d62728",
}
_OTHER = ("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: small, selectable, rendered by the browser
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.0,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 96.0,
}


def color_of(kind: str) -> str:
    """The color of an event kind (stable for kinds this module does not know)."""
    return KIND_COLORS.get(kind, _OTHER[sum(map(ord, kind)) % len(_OTHER)])


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the report: an id for the page (and the browser test), a title, and either
    an inline ``<svg>`` or a note saying why there is nothing to draw."""

    id: str
    title: str
    svg: str | None
    note: str = ""


@contextmanager
def figure(chart_id: str, size: tuple[float, float] = (7.2, 3.2),
           ncols: int = 1) -> Iterator[tuple[Figure, list[Axes], list[str]]]:
    """A figure with ``ncols`` axes; the list yielded third receives the SVG text on exit."""
    out: list[str] = []
    style = dict(_STYLE)
    style["svg.hashsalt"] = chart_id
    with plt.rc_context(style):  # type: ignore[arg-type]  # keys are typed as a Literal union
        fig, axes = plt.subplots(1, ncols, figsize=size, squeeze=False)
        try:
            yield fig, list(axes[0]), out
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
        finally:
            plt.close(fig)
    out.append(_inline(buffer.getvalue(), chart_id))


def _inline(text: str, chart_id: str) -> str:
    """Drop the XML prolog and make the SVG scale to its container, with ids unique per chart."""
    text = text[text.index("<svg"):]
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
                  rf'<svg\1 width="100%" data-chart="{chart_id}" role="img"', text, count=1)
    # matplotlib names groups "axes_1", "patch_2"... in every figure: prefix them per chart
    return re.sub(r'id="((?:axes|figure|patch|line2d|text|legend|matplotlib\.axis|xtick|ytick|'
                  r'PathCollection|PolyCollection|LineCollection|FillBetweenPolyCollection)_\d+)"',
                  rf'id="{chart_id}-\1"', text)


def log_ms(ax: Axes) -> None:
    """A milliseconds y axis labelled with plain numbers (0.5, 1, 10, not powers): logarithmic
    when the data span more than a factor of 10, else linear (a log axis within one decade would
    have no labelled tick)."""
    low, high = ax.dataLim.y0, ax.dataLim.y1
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.set_ylabel("latency (ms)")
    if low > 0 and high / low > 10:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    else:
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(plain)


def legend_outside(ax: Axes) -> None:
    """The legend to the right of the plot, so that it never hides data."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
