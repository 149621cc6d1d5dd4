"""Building blocks of the pipeline tests: a sample archive in a private home, run the job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from error_assets.definitions import build_definitions
from error_assets.pipeline_runs import run_partitions
from error_assets.sample import write_sample
from error_assets.settings import Settings
from error_assets.stores.documents import partition_key
from error_assets.stores.local_store import LocalStore

JOBS_PER_HOUR = 6
SEED = 11
# The failures of the sample are those of these fixed hours, whatever hours they are placed
# at: the hours must follow the clock (partitions start 14 days back), the assertions must not.
CONTENT_START = datetime(2026, 11, 20, 9, tzinfo=UTC)


def recent_hours(count: int, hours_ago: int = 3) -> list[datetime]:
    """Whole hours that lie inside the partitions definition (which starts 14 days back)."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)
    return [end - timedelta(hours=count - 1 - i) for i in range(count)]


def make_home(
    home: Path, hours: list[datetime], seed: int = SEED, jobs_per_hour: int = JOBS_PER_HOUR
) -> Settings:
    settings = Settings.from_env({"ERROR_ASSETS_HOME": str(home)})
    write_sample(
        settings.archive, hours[0], len(hours), jobs_per_hour, seed, content_start=CONTENT_START
    )
    return settings


def keys(hours: list[datetime]) -> list[str]:
    return [partition_key(h) for h in hours]


def materialize(settings: Settings, partition_keys: list[str], instance: dg.DagsterInstance):
    return run_partitions(build_definitions(settings), partition_keys, instance)


def store_documents(settings: Settings, partition: str) -> list[dict]:
    with LocalStore(settings.store_path) as store:
        return store.partition_documents(partition)


def archive_jobs(settings: Settings, hour: datetime) -> list[dict]:
    hour_dir = settings.archive / hour.strftime("%Y-%m-%d") / hour.strftime("%H")
    return [json.loads(p.read_text()) for p in sorted(hour_dir.glob("*/*/job.json"))]


def materialization_metadata(instance: dg.DagsterInstance, asset: str, partition: str) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    assert records, f"{asset} has no materialisation for {partition}"
    assert event is not None
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
