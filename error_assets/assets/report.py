"""The daily trend report: markdown and a chart under `$ERROR_ASSETS_HOME/reports/`, the chart
also embedded in the materialisation so it shows in the UI."""

import base64
from datetime import timedelta
from pathlib import Path

import dagster as dg

from error_assets.assets.publish import error_index
from error_assets.partitions import backfill_policy, daily_partitions
from error_assets.resources import HomeResource, StoreResource

HISTORY_DAYS = 14


@dg.asset(
    partitions_def=daily_partitions,
    # A day depends on its 24 hourly partitions of error_index (the time-window mapping
    # between an hourly and a daily definition).
    deps=[dg.AssetDep(error_index, partition_mapping=dg.TimeWindowPartitionMapping())],
    backfill_policy=backfill_policy,
    group_name="report",
    kinds={"python", "markdown"},
)
def error_trends(
    context: dg.AssetExecutionContext, store: StoreResource, home: HomeResource
) -> dg.MaterializeResult:
    """Infrastructure vs code errors per hour of the day and per day over the last 14 days,
    the top and new clusters, the classifier mix (rules / cache / LLM / offline / human) and
    the LLM cost of the day: `reports/<day>.md` and `reports/<day>.png`. A ranged run writes
    one report per day; the materialisation shows the last day's."""
    from error_assets.trends import write_report
    from error_assets.trends.markdown import render_markdown

    start, end = context.partition_time_window
    reports_dir = Path(home.home) / "reports"
    opened = store.open()
    written = []
    try:
        day = start
        while day < end:
            stem = day.strftime("%Y-%m-%d")
            written.append(
                write_report(
                    opened,
                    end=day + timedelta(days=1),
                    days=HISTORY_DAYS,
                    markdown_path=reports_dir / f"{stem}.md",
                    chart_path=reports_dir / f"{stem}.png",
                    title=_title(stem),
                )
            )
            day += timedelta(days=1)
    finally:
        opened.close()
    last = written[-1]
    for report in written:
        context.log.info(f"trend report written: {report.markdown_path} and {report.chart_path}")
    chart_uri = "data:image/png;base64," + base64.b64encode(last.chart_path.read_bytes()).decode()
    totals = {t.category: t.occurrences for t in last.data.totals}
    # The file links the chart by name, which the UI cannot follow: the chart entry shows it.
    report_md = render_markdown(last.data, title=_title(last.markdown_path.stem))
    return dg.MaterializeResult(
        metadata={
            "chart": dg.MetadataValue.md(f"![infrastructure vs code errors]({chart_uri})"),
            "report": dg.MetadataValue.md(report_md),
            "report_path": dg.MetadataValue.path(str(last.markdown_path)),
            "chart_path": dg.MetadataValue.path(str(last.chart_path)),
            "days_written": dg.MetadataValue.json([r.markdown_path.stem for r in written]),
            "occurrences": last.data.total_occurrences(),
            **{f"occurrences_{name}": count for name, count in totals.items()},
            "llm_cost_usd": last.data.cost_usd,
            "llm_requests": last.data.llm_requests,
        }
    )


def _title(day: str) -> str:
    return f"CI error trends, {day} (UTC)"
