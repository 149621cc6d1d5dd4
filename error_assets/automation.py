"""Jobs and schedules."""

from __future__ import annotations

import dagster as dg

from error_assets.assets.classify import error_classifications
from error_assets.assets.dedup import error_clusters
from error_assets.assets.extract import extracted_errors
from error_assets.assets.ingest import raw_ci_jobs
from error_assets.assets.publish import error_index
from error_assets.assets.report import error_trends
from error_assets.partitions import daily_partitions, hourly_partitions

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

error_trends_job = dg.define_asset_job(
    name="error_trends_job",
    selection=dg.AssetSelection.assets(error_trends),
    partitions_def=daily_partitions,
    description="Write the daily trend report and chart from the store.",
)

# Late enough that the 23:00 hour has been published (the hourly run starts at 00:05).
daily_trends_schedule = dg.build_schedule_from_partitioned_job(
    error_trends_job,
    name="daily_error_trends",
    hour_of_day=0,
    minute_of_hour=45,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


def build_sensors() -> list[dg.SensorDefinition]:
    """The GitHub failed-runs sensor and the reclassification sensor, both stopped until an
    operator starts them."""
    from error_assets.sensors.failed_runs import build_failed_runs_sensor
    from error_assets.sensors.reclassification import build_reclassification_sensor

    return [
        build_failed_runs_sensor(error_pipeline_job),
        build_reclassification_sensor(error_pipeline_job),
    ]
