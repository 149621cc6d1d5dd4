"""The hourly pipeline end to end on the embedded defaults, through a real Dagster instance."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from error_assets.definitions import build_definitions
from error_assets.fingerprinting import NORMALIZER_VERSION
from error_assets.fingerprinting.fingerprint import fingerprint_key
from error_assets.settings import Settings
from error_assets.taxonomy import CATEGORY_NAMES
from tests.pipeline.harness import (
    archive_jobs,
    keys,
    make_home,
    materialization_metadata,
    materialize,
    recent_hours,
    store_documents,
)

ASSETS = [
    "raw_ci_jobs",
    "extracted_errors",
    "error_clusters",
    "error_classifications",
    "error_index",
]


def test_each_asset_materialises_one_partition(tmp_path: Path) -> None:
    hours = recent_hours(1)
    settings = make_home(tmp_path / "home", hours)
    (partition,) = keys(hours)
    defs = build_definitions(settings)
    assets = [defs.resolve_assets_def(name) for name in ASSETS]
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, partition_key=partition, instance=instance)
        assert result.success
        for name in ASSETS:
            assert instance.get_materialized_partitions(dg.AssetKey(name)) == {partition}
        jobs = archive_jobs(settings, hours[0])
        raw = materialization_metadata(instance, "raw_ci_jobs", partition)
        extracted = materialization_metadata(instance, "extracted_errors", partition)
        clusters = materialization_metadata(instance, "error_clusters", partition)
        classified = materialization_metadata(instance, "error_classifications", partition)
        index = materialization_metadata(instance, "error_index", partition)
    assert raw["jobs"] == len(jobs) > 0
    assert extracted["jobs_without_errors"] == 0
    assert extracted["occurrences"] >= len(jobs)
    assert 0 < clusters["clusters"] <= extracted["occurrences"]
    assert classified["clusters"] == clusters["clusters"]
    docs = store_documents(settings, partition)
    assert index["documents_written"] == len(docs) == clusters["clusters"]
    assert {d["s_primary_category"] for d in docs} <= set(CATEGORY_NAMES)
    assert sum(d["l_occurrence_count"] for d in docs) == index["occurrences"]
    assert len({d["s_error_id"] for d in docs}) == len(docs)
    # Every failed job of the hour is accounted for in some document.
    covered = {job_id for d in docs for job_id in d["l_job_ids"]}
    assert covered == {j["job_id"] for j in jobs}
    # Every extracted row carries its fingerprint and the normaliser's version.
    rows = pd.read_parquet(settings.home / "records" / "extracted_errors" / f"{partition}.parquet")
    assert len(rows) == extracted["occurrences"]
    assert set(rows["normalizer_version"]) == {NORMALIZER_VERSION}
    assert list(rows["fingerprint"]) == [
        fingerprint_key((r.source_kind, r.message, r.text, r.file)) for r in rows.itertuples()
    ]


def test_infrastructure_and_code_failures_are_told_apart(tmp_path: Path) -> None:
    """The sample generator labels each job; the pipeline's verdicts must mostly agree."""
    # About 200 jobs: over a dozen, one miss decided the verdict (the agreement of an hour's
    # 60 jobs ranged from 0.88 to 1.0 across 24 hours of sample content, mean 0.95).
    hours = recent_hours(4)
    settings = make_home(tmp_path / "home", hours, jobs_per_hour=30)
    with dg.instance_for_test() as instance:
        assert materialize(settings, keys(hours), instance).success
    truth = {}
    for hour in hours:
        for job in archive_jobs(settings, hour):
            truth[job["job_id"]] = job["sample_category"]
    agree = total = 0
    for partition in keys(hours):
        for doc in store_documents(settings, partition):
            for job_id in doc["l_job_ids"]:
                total += 1
                agree += truth[job_id] == doc["s_primary_category"]
    assert total >= len(truth)
    assert agree / total >= 0.9, f"only {agree}/{total} job verdicts match the generator's labels"


def test_ranged_run_equals_hour_by_hour_runs(tmp_path: Path) -> None:
    hours = recent_hours(3)
    # 20 jobs an hour: with the default 6, a third of the hour windows (which move with the
    # clock) had no failure recurring in the last hour, and the last assertion failed by time
    # of day; 72 of 72 consecutive windows have one at 20.
    ranged = make_home(tmp_path / "ranged", hours, jobs_per_hour=20)
    stepped = make_home(tmp_path / "stepped", hours, jobs_per_hour=20)
    partition_keys = keys(hours)
    with dg.instance_for_test() as instance:
        result = materialize(ranged, partition_keys, instance)
        assert result.success
        runs = instance.get_runs()
        assert len(runs) == 1, "a ranged materialisation must be a single run"
        for name in ASSETS:
            assert instance.get_materialized_partitions(dg.AssetKey(name)) == set(partition_keys)
    with dg.instance_for_test() as instance:
        for key in partition_keys:
            assert materialize(stepped, [key], instance).success
    for key in partition_keys:
        a = [_stable(d) for d in store_documents(ranged, key)]
        b = [_stable(d) for d in store_documents(stepped, key)]
        assert a and a == b
    # Later hours see the clusters of earlier hours: recurring failures are not new.
    last = store_documents(ranged, partition_keys[-1])
    assert any(d["b_is_duplicate"] for d in last)


def test_rematerialising_a_partition_leaves_the_store_as_before(tmp_path: Path) -> None:
    hours = recent_hours(2)
    settings = make_home(tmp_path / "home", hours)
    partition_keys = keys(hours)
    with dg.instance_for_test() as instance:
        assert materialize(settings, partition_keys, instance).success
        before = {k: store_documents(settings, k) for k in partition_keys}
        # A stale document in the partition (say, from an older normaliser) must go away.
        _plant_stale_document(settings, partition_keys[1], before[partition_keys[1]][0])
        assert (
            len(store_documents(settings, partition_keys[1])) == len(before[partition_keys[1]]) + 1
        )
        assert materialize(settings, [partition_keys[1]], instance).success
    after = {k: store_documents(settings, k) for k in partition_keys}
    assert after[partition_keys[0]] == before[partition_keys[0]]
    assert after[partition_keys[1]] == before[partition_keys[1]]


def test_two_processes_materialising_different_partitions(tmp_path: Path) -> None:
    hours = recent_hours(2)
    settings = make_home(tmp_path / "home", hours)
    partition_keys = keys(hours)
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(
        Path(__file__).resolve().parents[2] / "dagster.yaml", dagster_home / "dagster.yaml"
    )
    # Create the instance's storage once, as `dagster dev` would, before two runs share it.
    with dg.DagsterInstance.from_config(str(dagster_home)):
        pass
    env = {
        "ERROR_ASSETS_HOME": str(settings.home),
        "DAGSTER_HOME": str(dagster_home),
        "PATH": "/usr/bin:/bin",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.pipeline.run_partition", key],
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for key in partition_keys
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, out
    with sqlite3.connect(settings.store_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [r[0] for r in conn.execute("SELECT id FROM documents")]
    assert len(ids) == len(set(ids))
    # Same documents as one process doing both partitions in turn.
    reference = make_home(tmp_path / "reference", hours)
    with dg.instance_for_test() as instance:
        for key in partition_keys:
            assert materialize(reference, [key], instance).success
    for key in partition_keys[:1]:
        # The first hour has no history in either case, so it must match exactly; the second
        # may legitimately differ in `is_new` when it ran before the first finished.
        assert [_stable(d) for d in store_documents(settings, key)] == [
            _stable(d) for d in store_documents(reference, key)
        ]
    for key in partition_keys:
        docs = store_documents(settings, key)
        assert docs and all(d["s_partition"] == key for d in docs)


def test_schedule_requests_the_hour_that_just_ended() -> None:
    from error_assets.automation import hourly_error_schedule

    yesterday = datetime.now(UTC) - timedelta(days=1)
    tick = yesterday.replace(hour=3, minute=5, second=0, microsecond=0)
    defs = build_definitions(Settings.from_env({}))
    schedule = defs.resolve_schedule_def(hourly_error_schedule.name)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == [tick.strftime("%Y-%m-%d-02:00")]
    assert schedule.cron_schedule == "5 * * * *"


def test_definitions_validate(tmp_path: Path) -> None:
    """`dg check defs` loads the project's definitions (via `[tool.dg]` in pyproject.toml)."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "ERROR_ASSETS_HOME": str(tmp_path / "h")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_bad_items_are_reported_and_skipped(tmp_path: Path) -> None:
    hours = recent_hours(1)
    settings = make_home(tmp_path / "home", hours, jobs_per_hour=16)
    (partition,) = keys(hours)
    jobs = sorted(
        (settings.archive / hours[0].strftime("%Y-%m-%d") / hours[0].strftime("%H")).glob(
            "*/*/job.json"
        )
    )
    broken_meta = jobs[0]
    meta = json.loads(broken_meta.read_text())
    del meta["job_id"]
    broken_meta.write_text(json.dumps(meta))
    junit_job = next(p.parent for p in jobs[1:] if (p.parent / "junit").is_dir())
    corrupt = junit_job / "junit" / "corrupt.xml"
    corrupt.write_text('<testsuite><testcase name="x"><failure><![CDATA[boom')
    unreadable_log = next(p.parent for p in jobs[1:] if p.parent != junit_job) / "log.txt"
    unreadable_log.write_bytes(b"\x00\xff\xfe" * 1000)
    with dg.instance_for_test() as instance:
        assert materialize(settings, [partition], instance).success
        raw = materialization_metadata(instance, "raw_ci_jobs", partition)
        extracted = materialization_metadata(instance, "extracted_errors", partition)
    assert raw["jobs"] == len(jobs) - 1
    assert raw["problems"] == 1 and str(broken_meta) in raw["problem_items"]
    assert "job_id" in raw["problem_items"]
    assert extracted["problems"] >= 1
    assert "corrupt.xml" in extracted["problem_items"]
    docs = store_documents(settings, partition)
    covered = {job_id for d in docs for job_id in d["l_job_ids"]}
    assert int(junit_job.name.split("-")[-1]) in covered  # its log still counted


def _plant_stale_document(settings, partition: str, template: dict) -> None:
    with sqlite3.connect(settings.store_path) as conn:
        stale = dict(template, s_error_hash="0" * 16, s_error_id=f"{'0' * 16}:{partition}")
        conn.execute(
            "INSERT INTO documents(id, partition, partition_start, fingerprint, category,"
            " occurrences, realtime, body) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
            (
                stale["s_error_id"],
                partition,
                stale["@timestamp"],
                stale["s_error_hash"],
                stale["s_primary_category"],
                1,
                json.dumps(stale),
            ),
        )


def _stable(doc: dict) -> dict:
    """A document without the time of its classification (differs between independent homes)."""
    return {k: v for k, v in doc.items() if k != "ts_classified_at"}


def test_category_counts_cover_both_kinds(tmp_path: Path) -> None:
    hours = recent_hours(2)
    settings = make_home(tmp_path / "home", hours)
    with dg.instance_for_test() as instance:
        assert materialize(settings, keys(hours), instance).success
    counts = Counter(
        d["s_primary_category"] for k in keys(hours) for d in store_documents(settings, k)
    )
    assert set(counts) == set(CATEGORY_NAMES)


pytestmark = pytest.mark.slow
