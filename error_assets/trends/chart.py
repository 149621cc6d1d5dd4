"""The trend chart: infrastructure vs code errors per hour of the day and per day of the history.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global figure
state), so it is safe in a Dagster run worker and in threads.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from error_assets.taxonomy import CODE, INFRASTRUCTURE
from error_assets.trends.data import TrendData, TrendPoint

CHART_WIDTH_PX = 1200
CHART_HEIGHT_PX = 800
_DPI = 100
_COLOURS = {INFRASTRUCTURE: "#d97706", CODE: "#2563eb"}
_EXTRA_COLOURS = ("#6b7280", "#059669", "#9333ea", "#dc2626")


def render_chart(data: TrendData) -> bytes:
    """The chart as PNG bytes, exactly `CHART_WIDTH_PX` x `CHART_HEIGHT_PX` pixels."""
    figure = Figure(figsize=(CHART_WIDTH_PX / _DPI, CHART_HEIGHT_PX / _DPI), dpi=_DPI)
    FigureCanvasAgg(figure)  # attaches the Agg canvas that savefig renders with
    hours_axes, days_axes = figure.subplots(2, 1)
    colours = _colours(data.categories)
    _stacked_bars(
        hours_axes,
        data.hourly,
        data.categories,
        colours,
        labels=[p.start.strftime("%H") for p in data.hourly],
    )
    hours_axes.set_title(
        f"Errors per hour, {data.day_start:%Y-%m-%d %H:%M} – {data.end:%Y-%m-%d %H:%M} UTC"
    )
    hours_axes.set_xlabel("hour (UTC)")
    _stacked_bars(
        days_axes,
        data.daily,
        data.categories,
        colours,
        labels=[p.start.strftime("%m-%d") for p in data.daily],
    )
    days_axes.set_title(f"Errors per day, last {data.days} days (UTC)")
    days_axes.set_xlabel("day")
    handles, labels = hours_axes.get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper right", ncols=len(labels), frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 0.96))
    buffer = BytesIO()
    # No bbox_inches="tight": it would change the pixel size callers rely on.
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def write_chart(data: TrendData, path: Path) -> Path:
    """Render the chart into `path` (written atomically) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(render_chart(data))
    tmp.replace(path)
    return path


def _colours(categories: tuple[str, ...]) -> dict[str, str]:
    colours = {}
    extra = iter(_EXTRA_COLOURS * 4)
    for name in categories:
        colours[name] = _COLOURS.get(name) or next(extra)
    return colours


def _stacked_bars(
    axes,
    points: list[TrendPoint],
    categories: tuple[str, ...],
    colours: dict[str, str],
    labels: list[str],
) -> None:
    positions = list(range(len(points)))
    bottom = [0] * len(points)
    for name in categories:
        heights = [p.occurrences.get(name, 0) for p in points]
        axes.bar(positions, heights, bottom=bottom, color=colours[name], label=name, width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_xticks(positions, labels, fontsize="small")
    axes.set_ylabel("occurrences")
    axes.set_xlim(-0.6, max(len(points) - 0.4, 0.6))
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if not any(bottom):
        axes.text(0.5, 0.5, "no errors", transform=axes.transAxes, ha="center", color="#6b7280")
