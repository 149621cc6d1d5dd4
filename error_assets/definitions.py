"""Wiring only: assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import os
import warnings

import dagster as dg

from error_assets.assets.report import error_trends
from error_assets.automation import (
    PIPELINE_ASSETS,
    build_sensors,
    daily_trends_schedule,
    error_pipeline_job,
    error_trends_job,
    hourly_error_schedule,
)
from error_assets.resources import build_resources
from error_assets.settings import Settings

# backfill_policy and pool are marked beta in this Dagster family; we rely on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        # Asset checks are declared on the assets themselves (check_specs in error_assets.checks).
        assets=[*PIPELINE_ASSETS, error_trends],
        jobs=[error_pipeline_job, error_trends_job],
        schedules=[hourly_error_schedule, daily_trends_schedule],
        sensors=build_sensors(),
        resources=build_resources(settings),
    )


defs = build_definitions(Settings.from_env(os.environ))
