"""Trend reports (no Dagster here): infrastructure vs code errors per hour and per day, top and
new clusters, the classifier mix and the LLM cost, as markdown plus a PNG chart.

`error_trends` (the daily asset), `error-assets trends` and `error-assets demo` all call
`write_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from error_assets.stores.base import ErrorStore
from error_assets.trends.chart import CHART_HEIGHT_PX, CHART_WIDTH_PX, render_chart, write_chart
from error_assets.trends.data import (
    CLASSIFIER_KINDS,
    CategoryTotal,
    TrendData,
    TrendPoint,
    collect_trend,
    whole_hour,
)
from error_assets.trends.markdown import render_markdown

__all__ = [
    "CHART_HEIGHT_PX",
    "CHART_WIDTH_PX",
    "CLASSIFIER_KINDS",
    "CategoryTotal",
    "ReportFiles",
    "TrendData",
    "TrendPoint",
    "collect_trend",
    "render_chart",
    "render_markdown",
    "whole_hour",
    "write_chart",
    "write_report",
]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where a report went, and what it says."""

    markdown_path: Path
    chart_path: Path
    markdown: str
    data: TrendData


def write_report(
    store: ErrorStore,
    end: datetime,
    days: int,
    markdown_path: Path,
    chart_path: Path,
    title: str | None = None,
) -> ReportFiles:
    """Collect the trend ending at `end` and write the markdown report and the chart.

    The report links the chart by a path relative to itself when both share a folder tree.
    """
    data = collect_trend(store, end, days=days)
    write_chart(data, chart_path)
    markdown = render_markdown(data, chart_name=_relative(chart_path, markdown_path), title=title)
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = markdown_path.with_name(markdown_path.name + ".tmp")
    tmp.write_text(markdown, encoding="utf-8")
    tmp.replace(markdown_path)
    return ReportFiles(markdown_path, chart_path, markdown, data)


def _relative(target: Path, report: Path) -> str:
    target, folder = target.resolve(), report.resolve().parent
    try:
        return target.relative_to(folder).as_posix()
    except ValueError:
        return target.as_uri()
