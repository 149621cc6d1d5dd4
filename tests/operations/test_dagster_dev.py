"""The user's path through the UI: `dagster dev`, a backfill of 6 hourly partitions launched over
GraphQL (as the UI's "Materialize" dialog does), run by the daemon; then partition stats,
check results, lineage and freshness as the UI reads them, and the store's contents. The UI
test loads the asset graph in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from error_assets.sample import write_sample
from error_assets.settings import Settings
from error_assets.stores.documents import partition_key
from error_assets.stores.local_store import LocalStore
from tests.operations.dagster_dev import (
    REPO_ROOT,
    DagsterDev,
    start_dagster_dev,
    stop_dagster_dev,
)
from tests.pipeline.harness import CONTENT_START, archive_jobs, recent_hours

PIPELINE = [
    "raw_ci_jobs",
    "extracted_errors",
    "error_clusters",
    "error_classifications",
    "error_index",
]
LINEAGE = {
    "raw_ci_jobs": set(),
    "extracted_errors": {"raw_ci_jobs"},
    "error_clusters": {"extracted_errors"},
    "error_classifications": {"error_clusters"},
    "error_index": {"raw_ci_jobs", "error_clusters", "error_classifications"},
    "error_trends": {"error_index"},
}
CHECKS = {
    "extracted_errors": {"every_failed_job_accounted_for"},
    "error_clusters": {"clusters_cover_every_occurrence"},
    "error_classifications": {
        "every_cluster_classified",
        "categories_and_confidences_valid",
        "llm_spend_under_budget",
    },
    "error_index": {"store_holds_exactly_the_partition"},
}
HOURS = 6
JOBS_PER_HOUR = 4

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}"""
BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { id status numPartitions error { message } }
    ... on PythonError { message }
  }
}"""
RUNS_OF_BACKFILL = """
query Runs($id: String!) {
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status } }
  }
}"""
ASSET_NODES = """
{
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    dependedByKeys { path }
    partitionStats { numMaterialized numFailed numMaterializing numPartitions }
    assetPartitionStatuses {
      __typename
      ... on TimePartitionStatuses { ranges { status startKey endKey } }
    }
    internalFreshnessPolicy {
      __typename
      ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds }
    }
    assetChecksOrError {
      __typename
      ... on AssetChecks {
        checks {
          name
          blocking
          executionForLatestMaterialization { status runId evaluation { description } }
        }
      }
    }
  }
}"""


@pytest.fixture(scope="module")
def sample_hours():
    return recent_hours(HOURS, hours_ago=2)


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory, sample_hours) -> DagsterDev:
    tmp = tmp_path_factory.mktemp("dagster_dev")
    home = tmp / "error_assets_home"
    settings = Settings.from_env({"ERROR_ASSETS_HOME": str(home)})
    write_sample(
        settings.archive,
        sample_hours[0],
        HOURS,
        JOBS_PER_HOUR,
        seed=21,
        content_start=CONTENT_START,
    )
    dev = start_dagster_dev(tmp, home)
    yield dev
    stop_dagster_dev(dev)


def _nodes(dev: DagsterDev) -> dict[str, dict]:
    return {"/".join(n["assetKey"]["path"]): n for n in dev.graphql(ASSET_NODES)["assetNodes"]}


def _materialized_keys(node: dict) -> set[str]:
    """Hourly keys inside the node's MATERIALIZED ranges."""
    statuses = node["assetPartitionStatuses"]
    assert statuses["__typename"] == "TimePartitionStatuses", statuses
    keys = set()
    for r in statuses["ranges"]:
        if r["status"] != "MATERIALIZED":
            continue
        moment = datetime.strptime(r["startKey"], "%Y-%m-%d-%H:%M").replace(tzinfo=UTC)
        while partition_key(moment) <= r["endKey"]:
            keys.add(partition_key(moment))
            moment += timedelta(hours=1)
    return keys


def _wait_for_backfill(dev: DagsterDev, backfill_id: str, timeout_s: float = 420) -> dict:
    deadline = time.monotonic() + timeout_s
    status: dict = {}
    while time.monotonic() < deadline:
        status = dev.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if status.get("status") not in ("REQUESTED", "CANCELING", "FAILING", None):
            return status
        time.sleep(2)
    raise AssertionError(
        f"backfill {backfill_id} still {status} after {timeout_s}s\n{dev.log_tail()}"
    )


@pytest.fixture(scope="module")
def six_hour_backfill(dagster_dev: DagsterDev, sample_hours) -> str:
    """Launch the backfill of the six hours as the UI's Materialize dialog does; the daemon
    runs it while the UI test looks at the graph."""
    launched = dagster_dev.graphql(
        LAUNCH_BACKFILL,
        {
            "params": {
                "partitionNames": [partition_key(h) for h in sample_hours],
                "assetSelection": [{"path": [name]} for name in PIPELINE],
                "title": "six hours from the e2e test",
            }
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    return launched["backfillId"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Debian's chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _chromium_args(chromium: str, profile: Path) -> list[str]:
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1600,1000",
    ]


def drawn_asset_names(dom: str) -> list[str]:
    """The texts of the asset-node name labels the graph drew (full or the UI's middle-ellipsis
    form, which it uses for long names when zoomed out)."""
    return re.findall(r'<div class="AssetNode_assetName[^"]*">([^<]+)</div>', dom)


def label_names(label: str, name: str) -> bool:
    """Whether `label` is `name`, or `name` shortened in the middle with an ellipsis."""
    if label == name:
        return True
    head, sep, tail = label.partition("\u2026")
    return (
        bool(sep) and len(head) + len(tail) >= 6 and name.startswith(head) and name.endswith(tail)
    )


def test_label_matching_is_strict() -> None:
    assert label_names("error_cl\u2026fications", "error_classifications")
    assert not label_names("error_cl\u2026fications", "error_clusters")
    assert not label_names("error_index", "error_indexes")
    assert drawn_asset_names(
        '<div class="AssetNode_assetName__x AssetNode_minimalName__y">raw_ci_jobs</div>'
    ) == ["raw_ci_jobs"]


@pytest.mark.ui
@pytest.mark.slow
def test_asset_graph_page_draws_the_lineage(
    dagster_dev: DagsterDev, six_hour_backfill: str, tmp_path: Path
) -> None:
    """(The backfill is requested first only so that it runs while this test looks.)"""
    chromium = _chromium()
    # The lineage tab of the report, every upstream level: the whole pipeline as one graph.
    url = f"{dagster_dev.url}/assets/error_trends?view=lineage&lineageScope=upstream&lineageDepth=6"
    names = [*PIPELINE, "error_trends"]
    labels: list[str] = []
    for budget_ms in (15_000, 30_000, 45_000):
        done = subprocess.run(
            [
                *_chromium_args(chromium, tmp_path / "profile-dom"),
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        labels = drawn_asset_names(done.stdout)
        if len(labels) >= len(names):
            break
    assert len(labels) == len(names), f"the graph at {url} drew {labels}"
    for name in names:
        assert sum(label_names(label, name) for label in labels) == 1, (name, labels)

    artifacts = REPO_ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    screenshot = artifacts / "asset-graph.png"
    screenshot.unlink(missing_ok=True)
    subprocess.run(
        [
            *_chromium_args(chromium, tmp_path / "profile-shot"),
            "--virtual-time-budget=20000",
            f"--screenshot={screenshot}",
            url,
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.e2e
@pytest.mark.slow
def test_backfill_of_six_hours_from_the_ui(
    dagster_dev: DagsterDev, sample_hours, six_hour_backfill: str
) -> None:
    dev = dagster_dev
    keys = [partition_key(h) for h in sample_hours]
    backfill_id = six_hour_backfill
    finished = _wait_for_backfill(dev, backfill_id)
    runs = dev.graphql(RUNS_OF_BACKFILL, {"id": backfill_id})["runsOrError"]["results"]
    assert finished["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), (
        finished,
        runs,
        dev.log_tail(),
    )
    # The shared single-run backfill policy: six hours are one run, not six.
    assert [r["status"] for r in runs] == ["SUCCESS"]

    nodes = _nodes(dev)
    # Partition stats, as the asset pages show them.
    # (The hourly schedule runs in `dagster dev` too: a tick during the test adds its hour.)
    for name in PIPELINE:
        stats = nodes[name]["partitionStats"]
        assert HOURS <= stats["numMaterialized"] <= HOURS + 1, (name, stats)
        assert stats["numFailed"] == 0
        assert stats["numPartitions"] >= HOURS
        assert set(keys) <= _materialized_keys(nodes[name]), name
    assert nodes["error_trends"]["partitionStats"]["numMaterialized"] == 0

    # Check results of the run, on the assets they are declared on.
    for name, expected in CHECKS.items():
        checks = nodes[name]["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        by_name = {c["name"]: c for c in checks["checks"]}
        assert set(by_name) == expected
        for check in by_name.values():
            execution = check["executionForLatestMaterialization"]
            assert execution is not None, (name, check["name"])
            assert execution["runId"] == runs[0]["runId"]
            assert execution["status"] == "SUCCEEDED", (name, check)
        assert by_name.get("llm_spend_under_budget", {"blocking": False})["blocking"] is False
    assert nodes["error_index"]["assetChecksOrError"]["checks"][0]["blocking"] is True

    # Lineage, as the graph draws it.
    for name, upstream in LINEAGE.items():
        assert {"/".join(k["path"]) for k in nodes[name]["dependencyKeys"]} == upstream, name
    assert {"/".join(k["path"]) for k in nodes["error_index"]["dependedByKeys"]} == {"error_trends"}

    # The freshness policy that makes a stalled schedule visible.
    policy = nodes["error_index"]["internalFreshnessPolicy"]
    assert policy == {
        "__typename": "TimeWindowFreshnessPolicy",
        "failWindowSeconds": 3 * 3600,
        "warnWindowSeconds": 2 * 3600,
    }

    # The store holds one document per cluster of each hour, covering every failed job.
    settings = Settings.from_env({"ERROR_ASSETS_HOME": str(dev.error_assets_home)})
    with LocalStore(settings.store_path) as store:
        for hour, key in zip(sample_hours, keys, strict=True):
            docs = store.partition_documents(key)
            assert docs, key
            assert all(d["s_partition"] == key for d in docs)
            assert len({d["s_error_hash"] for d in docs}) == len(docs)
            covered = {job_id for d in docs for job_id in d["l_job_ids"]}
            assert covered == {j["job_id"] for j in archive_jobs(settings, hour)}, key
        summaries = store.version_summaries(sample_hours[0], sample_hours[-1].replace(minute=59))
    assert [s.partition for s in summaries] == keys
