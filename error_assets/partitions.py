"""The one hourly partitions definition (UTC) shared by every pipeline asset, and the daily
one of the trend report."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from error_assets.settings import Settings

# A recent default start keeps the UI fast; set ERROR_ASSETS_PARTITION_START for history.
DEFAULT_LOOKBACK_DAYS = 14


def _start_date() -> datetime:
    configured = Settings.from_env(os.environ).partition_start
    if configured:
        try:
            moment = datetime.fromisoformat(configured.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"ERROR_ASSETS_PARTITION_START: {configured!r} is not an ISO-8601 date"
            ) from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    else:
        moment = datetime.now(UTC) - timedelta(days=DEFAULT_LOOKBACK_DAYS)
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


PARTITION_START = _start_date()

hourly_partitions = dg.HourlyPartitionsDefinition(
    start_date=PARTITION_START, timezone="UTC", end_offset=0
)
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITION_START, timezone="UTC", end_offset=0
)

# Every asset of the pipeline carries the same policy (mixed policies silently fall back to
# one partition per run): a week's backfill is one run, not 168.
backfill_policy = dg.BackfillPolicy.single_run()
