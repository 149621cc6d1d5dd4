"""The pipeline publishing to the real OpenSearch test node when OPENSEARCH_URL is set."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg
import pytest
from opensearchpy import OpenSearch

from error_assets.sample import write_sample
from error_assets.settings import Settings
from tests.pipeline.harness import (
    CONTENT_START,
    JOBS_PER_HOUR,
    SEED,
    keys,
    materialize,
    recent_hours,
)
from tests.support.opensearch_node import drop_index

pytestmark = [pytest.mark.opensearch, pytest.mark.slow]


def _settings(home: Path, url: str, index: str) -> Settings:
    return Settings.from_env(
        {"ERROR_ASSETS_HOME": str(home), "OPENSEARCH_URL": url, "ERROR_CLASSIFICATION_INDEX": index}
    )


def _documents(client: OpenSearch, index: str, partition: str) -> dict[str, dict]:
    client.indices.refresh(index=index)
    response = client.search(
        index=index,
        body={"query": {"term": {"s_partition": partition}}, "size": 10_000},
    )
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


def test_pipeline_publishes_partitions_to_opensearch(
    tmp_path: Path, opensearch_url: str, request: pytest.FixtureRequest
) -> None:
    index = f"errors-e2e-{uuid.uuid4().hex[:8]}"
    request.addfinalizer(lambda: drop_index(opensearch_url, index))
    hours = recent_hours(3)
    settings = _settings(tmp_path / "home", opensearch_url, index)
    write_sample(
        settings.archive, hours[0], len(hours), JOBS_PER_HOUR, SEED, content_start=CONTENT_START
    )
    partition_keys = keys(hours)
    client = OpenSearch(hosts=[opensearch_url])
    with dg.instance_for_test() as instance:
        assert materialize(settings, partition_keys, instance).success
        first = {k: _documents(client, index, k) for k in partition_keys}
        assert all(first.values())
        for partition, docs in first.items():
            for doc_id, doc in docs.items():
                assert doc_id == f"{doc['s_error_hash']}:{partition}"
                assert "_id" not in doc
        # Re-materialising the middle partition gives exactly the same documents.
        assert materialize(settings, [partition_keys[1]], instance).success
        again = _documents(client, index, partition_keys[1])
    assert again == first[partition_keys[1]]
    # The same run on the local store publishes the same documents.
    local = Settings.from_env({"ERROR_ASSETS_HOME": str(tmp_path / "local")})
    write_sample(
        local.archive, hours[0], len(hours), JOBS_PER_HOUR, SEED, content_start=CONTENT_START
    )
    with dg.instance_for_test() as instance:
        assert materialize(local, partition_keys, instance).success
    from error_assets.stores.local_store import LocalStore

    with LocalStore(local.store_path) as store:
        for partition in partition_keys:
            local_docs = {d["s_error_id"]: d for d in store.partition_documents(partition)}
            remote = first[partition]
            assert set(local_docs) == set(remote)
            for doc_id, doc in local_docs.items():
                assert doc["s_primary_category"] == remote[doc_id]["s_primary_category"]
                assert doc["l_occurrence_count"] == remote[doc_id]["l_occurrence_count"]
                assert doc["b_is_duplicate"] == remote[doc_id]["b_is_duplicate"]
