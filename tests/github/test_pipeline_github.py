"""The whole pipeline over a few hourly partitions with GITHUB_TOKEN/REPO pointing at the fake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from error_assets.settings import Settings
from error_assets.stores.documents import partition_key
from tests.github.scenario import REPO, job, run
from tests.github.test_analyze import ASSERT_LOG, OOM_LOG
from tests.pipeline.harness import (
    keys,
    materialization_metadata,
    materialize,
    recent_hours,
    store_documents,
)
from tests.support.fake_github import TOKEN, FakeGitHub


@pytest.mark.e2e
@pytest.mark.slow
def test_pipeline_reads_github_hour_by_hour(
    fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hours = recent_hours(3)
    expected: dict[str, set[int]] = {}
    for index, hour in enumerate(hours):
        failed = [
            job("build (linux)", "failure", hour + timedelta(minutes=10), log=OOM_LOG),
            job(f"test ({index})", "failure", hour + timedelta(minutes=40), log=ASSERT_LOG),
        ]
        run(
            fake_github,
            hour + timedelta(minutes=2),
            [*failed, job("lint", "success", hour + timedelta(minutes=5))],
        )
        expected[partition_key(hour)] = {j.id for j in failed}
    # A job of the first run's workflow that failed late lands in the next hour.
    late = job("e2e", "timed_out", hours[1] + timedelta(minutes=15), log=ASSERT_LOG)
    run(fake_github, hours[0] + timedelta(minutes=50), [late])
    expected[partition_key(hours[1])].add(late.id)

    home = tmp_path / "home"
    env = {
        "ERROR_ASSETS_HOME": str(home),
        "GITHUB_TOKEN": TOKEN,
        "REPO": REPO,
        "GITHUB_API_URL": fake_github.url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENSEARCH_URL", raising=False)
    settings = Settings.from_env(env)
    assert settings.github_enabled

    with dg.instance_for_test() as instance:
        assert materialize(settings, keys(hours), instance).success
        raw = {p: materialization_metadata(instance, "raw_ci_jobs", p) for p in keys(hours)}
    for partition, job_ids in expected.items():
        docs = store_documents(settings, partition)
        covered = {job_id for d in docs for job_id in d["l_job_ids"]}
        assert covered == job_ids, partition
        assert {d["s_repo"] for d in docs} == {REPO}
    first = raw[keys(hours)[0]]
    assert first["source"] == "github" and first["source_api_calls"] > 0
    assert first["incomplete"] is False

    # Materialising the same hours again re-reads the listings only: nothing is downloaded again.
    blobs_before = len(fake_github.blob_requests())
    with dg.instance_for_test() as instance:
        assert materialize(settings, keys(hours), instance).success
    assert len(fake_github.blob_requests()) == blobs_before
    for partition, job_ids in expected.items():
        assert {j for d in store_documents(settings, partition) for j in d["l_job_ids"]} == job_ids
