"""Checks and reclassification on the real pipeline, through a real Dagster instance."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from error_assets.definitions import build_definitions
from error_assets.sensors.reclassification import (
    CLASSIFY_ASSETS,
    current_versions,
)
from error_assets.stores.local_store import LocalStore
from tests.pipeline.harness import keys, make_home, materialize, recent_hours, store_documents

pytestmark = pytest.mark.slow

QUIET_LOG = "2026-11-28T03:00:01.0000000Z ##[group]Run make test\nall good\n##[endgroup]\n"


def _latest_check(instance: dg.DagsterInstance, asset: str, check: str):
    key = dg.AssetCheckKey(dg.AssetKey(asset), check)
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
    assert records, f"{asset}.{check} was never evaluated"
    evaluation = records[0].event.dagster_event.event_specific_data
    return evaluation


def test_a_blocking_check_stops_bad_extraction_from_reaching_the_store(tmp_path: Path) -> None:
    """When most failed jobs yield no error (say, a log format nobody recognises any more), the
    extraction check fails and nothing downstream runs: the store keeps no half-truths."""
    hours = recent_hours(1)
    settings = make_home(tmp_path / "home", hours)
    hour_dir = settings.archive / hours[0].strftime("%Y-%m-%d") / hours[0].strftime("%H")
    job_dirs = sorted(p.parent for p in hour_dir.glob("*/*/job.json"))
    silenced = job_dirs[: len(job_dirs) // 2]
    for job_dir in silenced:
        for item in job_dir.iterdir():
            if item.name == "job.json":
                continue
            shutil.rmtree(item) if item.is_dir() else item.unlink()
        (job_dir / "log.txt").write_text(QUIET_LOG)
    (partition,) = keys(hours)
    defs = build_definitions(settings)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("error_pipeline_job").execute_in_process(
            instance=instance, partition_key=partition, raise_on_error=False
        )
        evaluation = _latest_check(instance, "extracted_errors", "every_failed_job_accounted_for")
        materialized = {
            name: instance.get_materialized_partitions(dg.AssetKey(name))
            for name in ("extracted_errors", "error_clusters", "error_index")
        }
    assert not result.success
    assert evaluation.passed is False
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["no_error_found"] == len(silenced)
    assert metadata["jobs"] == len(job_dirs)
    assert "no error found" in evaluation.description
    assert materialized["extracted_errors"] == {partition}
    assert materialized["error_clusters"] == set() and materialized["error_index"] == set()
    assert store_documents(settings, partition) == []


def test_checks_pass_on_a_healthy_run(tmp_path: Path) -> None:
    hours = recent_hours(2)
    settings = make_home(tmp_path / "home", hours)
    with dg.instance_for_test() as instance:
        assert materialize(settings, keys(hours), instance).success
        checks = {
            ("extracted_errors", "every_failed_job_accounted_for"),
            ("error_clusters", "clusters_cover_every_occurrence"),
            ("error_classifications", "every_cluster_classified"),
            ("error_classifications", "categories_and_confidences_valid"),
            ("error_classifications", "llm_spend_under_budget"),
            ("error_index", "store_holds_exactly_the_partition"),
        }
        for asset, check in checks:
            evaluation = _latest_check(instance, asset, check)
            assert evaluation.passed, (asset, check, evaluation.description)
        stored = _latest_check(instance, "error_index", "store_holds_exactly_the_partition")
    documents = sum(len(store_documents(settings, k)) for k in keys(hours))
    assert documents > 0
    assert stored.metadata["documents"].value == documents


def test_sensor_request_reclassifies_history_to_the_current_versions(tmp_path: Path) -> None:
    """Documents made by an older rule library get re-classified by the run the sensor asks
    for: afterwards they carry the current versions, and nothing else changed shape."""
    hours = recent_hours(2)
    settings = make_home(tmp_path / "home", hours)
    partition_keys = keys(hours)
    defs = build_definitions(settings)
    current = current_versions()
    with dg.instance_for_test() as instance:
        assert materialize(settings, partition_keys, instance).success
        before = store_documents(settings, partition_keys[0])
        # As if the first hour had been classified by last month's rules.
        with LocalStore(settings.store_path) as store:
            aged = [dict(d, s_rules_version="2026.10.01.1+old") for d in before]
            store.replace_partition(partition_keys[0], aged)
        sensor = defs.resolve_sensor_def("reclassification_on_version_change")
        with dg.build_sensor_context(
            instance=instance, resources={"store": defs.resources["store"]}, definitions=defs
        ) as context:
            tick = sensor.evaluate_tick(context)
        (request,) = tick.run_requests
        assert request.partition_key == partition_keys[0]
        assert [k.to_user_string() for k in request.asset_selection] == list(CLASSIFY_ASSETS)
        assert current.key in request.run_key

        job = defs.resolve_job_def("error_pipeline_job")
        rerun = job.execute_in_process(
            instance=instance,
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            tags=request.tags,
        )
        assert rerun.success
        materialized = {
            e.asset_key.to_user_string() for e in rerun.get_asset_materialization_events()
        }
        assert materialized == set(CLASSIFY_ASSETS)
    after = store_documents(settings, partition_keys[0])
    assert {d["s_rules_version"] for d in after} == {current.rules}
    assert sorted(d["s_error_id"] for d in after) == sorted(d["s_error_id"] for d in before)
    assert [d["s_primary_category"] for d in after] == [d["s_primary_category"] for d in before]
    # The second hour was current and was left alone.
    assert store_documents(settings, partition_keys[1])[0]["s_rules_version"] == current.rules
