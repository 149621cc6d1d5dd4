"""Jobs and schedules."""

from __future__ import annotations

import dagster as dg

from error_assets.assets.classify import error_classifications
from error_assets.assets.dedup import error_clusters
from error_assets.assets.extract import extracted_errors
from error_assets.assets.ingest import raw_ci_jobs
from error_assets.assets.publish import error_index
from error_assets.partitions import hourly_partitions

PIPELINE_ASSETS = (
    raw_ci_jobs,
    extracted_errors,
    error_clusters,
    error_classifications,
    error_index,
)

error_pipeline_job = dg.define_asset_job(
    name="error_pipeline_job",
    selection=dg.AssetSelection.assets(*PIPELINE_ASSETS),
    partitions_def=hourly_partitions,
    description="Ingest, extract, cluster, classify and publish the failed CI jobs of an hour "
    "(or of a range of hours, in one run).",
)

# A few minutes past the hour, for the hour that just ended: late log uploads have landed.
hourly_error_schedule = dg.build_schedule_from_partitioned_job(
    error_pipeline_job,
    name="hourly_error_pipeline",
    minute_of_hour=5,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
