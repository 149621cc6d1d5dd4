"""`error-assets ci` publishing to the real OpenSearch test node, and the batch reconciling it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from error_assets.stores.documents import partition_start
from error_assets.stores.opensearch_store import OpenSearchStore
from tests.ci_step.running import ci_env, run_ci
from tests.support.opensearch_node import drop_index

pytestmark = [pytest.mark.opensearch, pytest.mark.realworld, pytest.mark.slow]

RUNNER_SHUTDOWN = "logs/gha_runner_shutdown_signal.log"
DNS_FAILURE = "logs/gha_uv_python_download_network_error.log"


def test_real_time_documents_land_in_opensearch_and_the_batch_does_not_double_count(
    realworld_dir: Path, tmp_path: Path, home: Path, opensearch_url: str
) -> None:
    index = f"ci-step-{uuid.uuid4().hex[:8]}"
    env = ci_env(tmp_path, home, OPENSEARCH_URL=opensearch_url, ERROR_CLASSIFICATION_INDEX=index)
    args = [
        "--log",
        str(realworld_dir / RUNNER_SHUTDOWN),
        "--log",
        str(realworld_dir / DNS_FAILURE),
    ]
    run = run_ci(tmp_path, args, env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.warnings == []
    assert f"real-time document(s) written to OpenSearch `{index}`" in run.summary

    store = OpenSearchStore(opensearch_url, index=index)
    try:
        realtime = store.realtime_documents()
        assert realtime, "the step wrote nothing"
        assert {d["b_realtime"] for d in realtime} == {True}
        assert all(":rt:key-" in d["s_error_id"] for d in realtime)
        assert {d["s_workflow_id"] for d in realtime} == {"987654321"}
        assert {d["s_run_url"] for d in realtime} == {
            "https://github.com/octo/widgets/actions/runs/987654321"
        }
        categories = {d["s_primary_category"] for d in realtime}
        assert categories == {"infrastructure_error"}

        # Running the step again (a re-run of the same job attempt) overwrites, never adds.
        assert run_ci(tmp_path, args, env).returncode == 0
        assert len(store.realtime_documents()) == len(realtime)

        # The hourly batch publishes its own document for the same failure.
        partition = realtime[0]["s_partition"]
        batch = dict(realtime[0])
        batch.update(s_error_id=f"{batch['s_error_hash']}:{partition}", b_realtime=False)
        store.replace_partition(partition, [batch])
        start = partition_start(partition)
        end = start + timedelta(hours=1)
        assert [d["s_error_id"] for d in store.partition_documents(partition)] == [
            batch["s_error_id"]
        ]
        assert len(store.realtime_documents()) == len(realtime)  # kept beside the batch's
        buckets = store.trend(start, end, "hour")
        assert sum(b.clusters for b in buckets) == 1  # counted once, by the batch
        assert [c["s_error_hash"] for c in store.top_clusters(start, end)] == [
            batch["s_error_hash"]
        ]
        # The cache may serve the step's verdicts to the batch.
        cached = store.cached_classifications([d["s_error_hash"] for d in realtime])
        assert set(cached) == {d["s_error_hash"] for d in realtime}
    finally:
        store.close()
        drop_index(opensearch_url, index)


def test_an_unreachable_opensearch_is_a_warning_and_the_summary_still_comes(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    env = ci_env(
        tmp_path, home, OPENSEARCH_URL="http://127.0.0.1:9", ERROR_CLASSIFICATION_INDEX="x"
    )
    run = run_ci(
        tmp_path, ["--log", str(realworld_dir / RUNNER_SHUTDOWN), "--budget-seconds", "8"], env
    )
    assert run.returncode == 0
    assert "Infrastructure error — confidence" in run.summary
    assert any("publishing real-time documents" in w for w in run.warnings), run.stdout
    assert run.seconds < 8 + 3.0
