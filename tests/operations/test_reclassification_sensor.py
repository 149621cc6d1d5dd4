"""The reclassification sensor: finds partitions classified with older versions and requests
their re-materialisation, bounded per tick, without asking twice for the same versions."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from error_assets.automation import error_pipeline_job
from error_assets.definitions import build_definitions
from error_assets.sensors.reclassification import (
    CLASSIFY_ASSETS,
    REEXTRACT_ASSETS,
    SENSOR_NAME,
    CurrentVersions,
    StalePartition,
    build_reclassification_sensor,
    plan_runs,
    stale_partitions,
)
from error_assets.settings import Settings
from error_assets.stores.base import VersionSummary
from error_assets.stores.documents import partition_key
from error_assets.stores.local_store import LocalStore
from tests.operations.documents import documents_for_hour

CURRENT = CurrentVersions(rules="r2", prompt="p2", normalizer="n1")


def _summary(partition: str, rules=("r2",), prompt=("p2",), normalizer=("n1",), documents=3):
    return VersionSummary(partition, documents, tuple(rules), tuple(prompt), tuple(normalizer))


def test_stale_partitions_name_what_changed() -> None:
    summaries = [
        _summary("2026-11-28-01:00"),
        _summary("2026-11-28-02:00", rules=("r1", "r2")),
        _summary("2026-11-28-03:00", prompt=("", "p1")),
        _summary("2026-11-28-04:00", normalizer=("n0",)),
        _summary("2026-11-28-05:00", rules=("",)),  # before versioning: stale
        _summary("2026-11-28-06:00", prompt=("",)),  # no LLM verdicts: nothing to redo
    ]
    assert stale_partitions(summaries, CURRENT) == [
        StalePartition("2026-11-28-02:00", ("rules",)),
        StalePartition("2026-11-28-03:00", ("prompt",)),
        StalePartition("2026-11-28-04:00", ("normalizer",)),
        StalePartition("2026-11-28-05:00", ("rules",)),
    ]


def test_plan_groups_contiguous_hours_needing_the_same_work() -> None:
    def stale(hour: int, reasons=("rules",)) -> StalePartition:
        return StalePartition(f"2026-11-28-{hour:02d}:00", reasons)

    items = [stale(1), stale(2), stale(3), stale(5), stale(6, ("normalizer",)), stale(7)]
    runs = plan_runs(items, max_partitions=10, max_partitions_per_run=2)
    assert [(r.partition_keys, r.reextract) for r in runs] == [
        (("2026-11-28-07:00",), False),
        (("2026-11-28-06:00",), True),
        (("2026-11-28-05:00",), False),
        (("2026-11-28-03:00",), False),
        (("2026-11-28-01:00", "2026-11-28-02:00"), False),
    ]
    assert runs[1].assets == REEXTRACT_ASSETS and runs[0].assets == CLASSIFY_ASSETS
    # The bound keeps the newest partitions.
    bounded = plan_runs(items, max_partitions=3, max_partitions_per_run=24)
    assert sorted(k for r in bounded for k in r.partition_keys) == [
        "2026-11-28-05:00",
        "2026-11-28-06:00",
        "2026-11-28-07:00",
    ]


@pytest.fixture
def versioned_home(tmp_path: Path):
    """A store where 6 recent hours carry old rules, 2 an old normaliser and 2 are current."""
    settings = Settings.from_env({"ERROR_ASSETS_HOME": str(tmp_path / "home")})
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=12)
    hours = [first + timedelta(hours=h) for h in range(10)]
    rng, seen = random.Random(3), set()
    with LocalStore(settings.store_path) as store:
        for i, hour in enumerate(hours):
            rules = "r1" if i < 6 else "r2"
            normalizer = "n0" if i in (6, 7) else "n1"
            docs = documents_for_hour(hour, rng, seen, rules, "p2", normalizer)
            store.replace_partition(partition_key(hour), docs)
    return settings, [partition_key(h) for h in hours]


def _tick(settings: Settings, instance, cursor: str | None, versions=CURRENT, **bounds):
    sensor = build_reclassification_sensor(error_pipeline_job, versions=lambda: versions, **bounds)
    defs = build_definitions(settings)
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": defs.resources["store"]}
    ) as context:
        return sensor.evaluate_tick(context)


def test_sensor_requests_stale_partitions_a_bounded_number_per_tick(versioned_home) -> None:
    settings, keys = versioned_home
    with dg.instance_for_test() as instance:
        first = _tick(settings, instance, None, max_partitions_per_tick=5, max_partitions_per_run=4)
        requested = _partitions(first.run_requests)
        assert len(requested) == 5
        # The newest stale ones first: the normaliser hours (6, 7) and rules hours 3..5.
        assert set(requested) == set(keys[3:8])
        for request in first.run_requests:
            assert CURRENT.key in request.run_key
            assert request.tags["error_assets/versions"] == CURRENT.key
        by_assets = {
            tuple(k.to_user_string() for k in r.asset_selection) for r in first.run_requests
        }
        assert by_assets == {REEXTRACT_ASSETS, CLASSIFY_ASSETS}
        reextract = next(r for r in first.run_requests if len(r.asset_selection) == 4)
        assert reextract.tags["dagster/asset_partition_range_start"] == keys[6]
        assert reextract.tags["dagster/asset_partition_range_end"] == keys[7]
        assert reextract.tags["error_assets/reclassification"] == "normalizer"

        second = _tick(settings, instance, first.cursor, max_partitions_per_tick=5)
        assert set(_partitions(second.run_requests)) == set(keys[0:3])
        third = _tick(settings, instance, second.cursor, max_partitions_per_tick=5)
        assert not third.run_requests
        assert "already requested" in third.skip_message

        # A newer rules version makes every partition due again, under new run keys.
        newer = CurrentVersions("r3", "p2", "n1")
        fourth = _tick(settings, instance, third.cursor, versions=newer, max_partitions_per_tick=50)
        assert set(_partitions(fourth.run_requests)) == set(keys)
        assert all("rules=r3" in r.run_key for r in fourth.run_requests)
        assert json.loads(fourth.cursor)["versions"] == newer.key


def test_sensor_skips_when_everything_is_current(versioned_home) -> None:
    settings, keys = versioned_home
    with LocalStore(settings.store_path) as store:
        for key in keys:
            docs = store.partition_documents(key)
            for doc in docs:
                doc.update(s_rules_version="r2", s_normalizer_version="n1")
            store.replace_partition(key, docs)
    with dg.instance_for_test() as instance:
        result = _tick(settings, instance, None)
    assert not result.run_requests
    assert "every partition is current" in result.skip_message


def test_sensor_is_wired_and_stopped_by_default() -> None:
    defs = build_definitions(Settings.from_env({}))
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == "error_pipeline_job"


def test_current_versions_come_from_the_code() -> None:
    from error_assets.fingerprinting import NORMALIZER_VERSION
    from error_assets.sensors.reclassification import current_versions

    try:
        from error_assets.classification import PROMPT_VERSION, RULES_VERSION
    except ImportError as exc:
        pytest.fail(
            f"error_assets.classification must export RULES_VERSION and PROMPT_VERSION: {exc}"
        )
    assert current_versions() == CurrentVersions(RULES_VERSION, PROMPT_VERSION, NORMALIZER_VERSION)


def _partitions(requests) -> list[str]:
    keys = []
    for request in requests:
        if request.partition_key:
            keys.append(request.partition_key)
            continue
        start = request.tags["dagster/asset_partition_range_start"]
        end = request.tags["dagster/asset_partition_range_end"]
        moment = datetime.strptime(start, "%Y-%m-%d-%H:%M").replace(tzinfo=UTC)
        while partition_key(moment) <= end:
            keys.append(partition_key(moment))
            moment += timedelta(hours=1)
    return keys
