"""Stage 1: the failed CI jobs of each hour, with their raw material in the raw store."""

import dagster as dg

from error_assets.assets.records import column_schema, preview, records_frame
from error_assets.models import CIJob
from error_assets.partitions import backfill_policy, hourly_partitions
from error_assets.resources import CISourceResource


@dg.asset(
    partitions_def=hourly_partitions,
    backfill_policy=backfill_policy,
    group_name="ingest",
    kinds={"python", "github"},
    io_manager_key="records_io_manager",
    pool="github",
    metadata={"dagster/column_schema": column_schema(CIJob)},
)
def raw_ci_jobs(context: dg.AssetExecutionContext, ci_source: CISourceResource) -> dg.Output:
    """Failed CI jobs (failure, timed_out, cancelled, startup_failure) that completed in the
    partition's hour, from GitHub Actions or the local archive. Logs, JUnit reports, BuildKit
    output and annotations are copied into the raw store so later stages never re-fetch."""
    start, end = context.partition_time_window
    source = ci_source.open()
    result = source.failed_jobs(start, end)
    for problem in result.problems:
        context.log.warning(f"skipped {problem.path}: {problem.reason}")
    if result.incomplete:
        context.log.warning("the source stopped early (rate limit); the next run resumes")
    frame = records_frame(result.jobs, CIJob)
    per_partition = frame.groupby("partition").size().to_dict() if len(frame) else {}
    metadata = {
        "source": source.name,
        "jobs": len(frame),
        "jobs_per_partition": dg.MetadataValue.json(per_partition),
        "problems": len(result.problems),
        "incomplete": result.incomplete,
        "preview": preview(frame, ["partition", "repo", "job_name", "conclusion", "failed_step"]),
        "dagster/row_count": len(frame),
    }
    if result.problems:
        metadata["problem_items"] = dg.MetadataValue.md(
            "\n".join(f"- `{p.path}`: {p.reason}" for p in result.problems[:50])
        )
    metadata.update({f"source_{k}": v for k, v in result.stats.items() if _scalar(v)})
    return dg.Output(frame, metadata=metadata)


def _scalar(value: object) -> bool:
    return isinstance(value, (str, int, float, bool))
