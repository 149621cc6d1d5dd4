"""Wiring only: assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import os
import warnings

import dagster as dg

from error_assets.automation import PIPELINE_ASSETS, error_pipeline_job, hourly_error_schedule
from error_assets.resources import build_resources
from error_assets.settings import Settings

# backfill_policy and pool are marked beta in this Dagster family; we rely on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=list(PIPELINE_ASSETS),
        jobs=[error_pipeline_job],
        schedules=[hourly_error_schedule],
        resources=build_resources(settings),
    )


defs = build_definitions(Settings.from_env(os.environ))
