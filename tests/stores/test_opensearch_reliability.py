"""OpenSearch publishing under failure, against the real node (plus a forwarding proxy where the
node will not fail on cue): reruns, rejected items, 429 back-pressure, a node that dies mid-run,
concurrent publishers, TLS and credentials."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch

from error_assets.settings import Settings
from error_assets.stores.base import RejectedDocumentsError, StoreError
from error_assets.stores.documents import document_id
from error_assets.stores.opensearch_store import OpenSearchStore
from tests.opensearch_node.launcher import free_port
from tests.stores.forwarding_proxy import ForwardingProxy, make_certificate
from tests.stores.sample_documents import numbered_documents
from tests.support.opensearch_node import drop_index, fresh_index_name

pytestmark = pytest.mark.opensearch

PARTITION = "2026-11-25-14:00"
REPO_ROOT = Path(__file__).resolve().parents[2]


def documents(count: int, partition: str = PARTITION, prefix: str = "fp") -> list[dict]:
    return numbered_documents(count, partition, prefix)


def raw_sources(url: str, index: str) -> dict[str, dict]:
    """Every document of the index as stored, keyed by `_id` (straight from the engine)."""
    client = OpenSearch(hosts=[url])
    try:
        client.indices.refresh(index=index)
        result = client.search(index=index, body={"size": 10_000, "query": {"match_all": {}}})
        return {hit["_id"]: hit["_source"] for hit in result["hits"]["hits"]}
    finally:
        client.close()


def test_rematerialising_yields_the_same_documents(opensearch_url: str, opensearch_index: str):
    store = OpenSearchStore(opensearch_url, index=opensearch_index)
    docs = documents(300)
    store.replace_partition(PARTITION, docs)
    first = raw_sources(opensearch_url, opensearch_index)
    result = store.replace_partition(PARTITION, docs)
    assert (result.written, result.deleted_stale) == (300, 0)
    second = raw_sources(opensearch_url, opensearch_index)
    assert second == first
    assert set(second) == {document_id(d["s_error_hash"], PARTITION) for d in docs}
    assert "_id" not in next(iter(second.values()))


def test_rejected_items_fail_with_ids_and_reasons_then_rerun_completes(
    opensearch_url: str, opensearch_index: str
):
    store = OpenSearchStore(opensearch_url, index=opensearch_index)
    previous = documents(20)  # an earlier run: fp-00015..19 will be stale in the next one
    store.replace_partition(PARTITION, previous)
    fixed = documents(15)
    broken = [dict(d) for d in fixed]
    for i in (3, 8):
        broken[i]["l_occurrence_count"] = "many"  # not a long: the mapping rejects it
    with pytest.raises(RejectedDocumentsError) as caught:
        store.replace_partition(PARTITION, broken)
    error = caught.value
    assert set(error.rejected) == {f"fp-00003:{PARTITION}", f"fp-00008:{PARTITION}"}
    for reason in error.rejected.values():
        assert reason.startswith("400 mapper_parsing_exception")
        assert "l_occurrence_count" in reason
    assert "fp-00003" in str(error)
    # Nothing was deleted: the stale documents of the earlier run are still there.
    assert len(store.partition_documents(PARTITION)) == 20

    result = store.replace_partition(PARTITION, fixed)
    assert (result.written, result.deleted_stale) == (15, 5)
    assert store.partition_documents(PARTITION) == fixed


def test_item_level_429s_are_retried_until_accepted(opensearch_url: str, opensearch_index: str):
    docs = documents(40)
    with ForwardingProxy(opensearch_url, reject_bulk_items=12) as proxy:
        store = OpenSearchStore(proxy.url, index=opensearch_index, retry_backoff=0.05)
        result = store.replace_partition(PARTITION, docs)
    assert proxy.rejected_items == 12
    assert proxy.bulk_requests >= 2  # the first answer rejected items; a retry sent them again
    assert result.written == 40
    assert OpenSearchStore(opensearch_url, index=opensearch_index).partition_documents(
        PARTITION
    ) == sorted(docs, key=lambda d: d["s_error_id"])


def test_persistent_429s_end_in_a_rejection_error(opensearch_url: str, opensearch_index: str):
    with ForwardingProxy(opensearch_url, reject_bulk_items=100, reject_forever=True) as proxy:
        store = OpenSearchStore(
            proxy.url, index=opensearch_index, max_retries=2, retry_backoff=0.01
        )
        with pytest.raises(RejectedDocumentsError) as caught:
            store.replace_partition(PARTITION, documents(6))
    assert set(caught.value.rejected) == {f"fp-0000{i}:{PARTITION}" for i in (0, 2, 4)}
    assert all(
        r.startswith("429 es_rejected_execution_exception") for r in caught.value.rejected.values()
    )
    assert proxy.bulk_requests == 3  # the first attempt and two retries


def test_unreachable_node_gives_a_clear_error_without_the_password():
    url = f"http://ci-bot:s3cret-pw@127.0.0.1:{free_port()}"
    store = OpenSearchStore(url, index="anything", max_retries=0)
    with pytest.raises(StoreError) as caught:
        store.replace_partition(PARTITION, documents(1))
    message = str(caught.value)
    assert "unreachable" in message
    assert "http://127.0.0.1:" in message
    assert "s3cret-pw" not in message and "ci-bot" not in message


def test_invalid_url_is_refused():
    with pytest.raises(StoreError, match="not an http"):
        OpenSearchStore("localhost:9200")


class SlowDocuments(Sequence):
    """Documents handed out slowly, so that a publication takes a few seconds."""

    def __init__(self, docs: list[dict], delay: float) -> None:
        self.docs = docs
        self.delay = delay

    def __len__(self) -> int:
        return len(self.docs)

    def __getitem__(self, index: Any) -> Any:
        return self.docs[index]

    def __iter__(self) -> Iterator[dict]:
        for doc in self.docs:
            time.sleep(self.delay)
            yield doc


def indexed_so_far(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_nodes/_local/stats/indices/indexing", timeout=5) as r:
        nodes = json.load(r)["nodes"]
    return sum(n["indices"]["indexing"]["index_total"] for n in nodes.values())


@pytest.mark.slow
def test_node_killed_mid_run_then_rerun_matches_a_clean_run(opensearch_node_factory, tmp_path):
    data_dir = tmp_path / "node-data"
    node = opensearch_node_factory(data_dir=data_dir)
    port, index = node.port, fresh_index_name()
    credentials_url = f"http://ci-bot:s3cret-pw@127.0.0.1:{port}"
    store = OpenSearchStore(credentials_url, index=index, chunk_size=50, max_retries=1)
    store.replace_partition(PARTITION, documents(300, prefix="old"))  # all stale next time
    final = documents(600)
    baseline = indexed_so_far(node.url)

    def kill_once_writing_started() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and indexed_so_far(node.url) < baseline + 100:
            time.sleep(0.02)
        node.process.kill()  # a crash, not a clean shutdown
        node.process.wait()

    killer = threading.Thread(target=kill_once_writing_started)
    killer.start()
    with pytest.raises(StoreError) as caught:
        store.replace_partition(PARTITION, SlowDocuments(final, delay=0.005))
    killer.join()
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}" in message and "unreachable" in message
    assert f"partition {PARTITION}" in message
    assert "s3cret-pw" not in message

    restarted = opensearch_node_factory(data_dir=data_dir, port=port)
    half_done = OpenSearchStore(restarted.url, index=index).partition_documents(PARTITION)
    assert 0 < len([d for d in half_done if d["s_error_hash"].startswith("fp-")]) < 600

    result = store.replace_partition(PARTITION, final)
    assert (result.written, result.deleted_stale) == (600, 300)

    clean_index = fresh_index_name()
    OpenSearchStore(restarted.url, index=clean_index).replace_partition(PARTITION, final)
    assert raw_sources(restarted.url, index) == raw_sources(restarted.url, clean_index)


CONCURRENT_PUBLISHER = """
import json, pathlib, sys, time
from error_assets.stores.opensearch_store import OpenSearchStore
from tests.stores.sample_documents import numbered_documents as documents
url, index, partition, go = sys.argv[1:]
first, final = documents(260, partition), documents(200, partition)
while not pathlib.Path(go).exists():
    time.sleep(0.005)
store = OpenSearchStore(url, index=index, chunk_size=50)
store.ensure_ready()
results = [store.replace_partition(partition, docs) for docs in (first, final)]
print(json.dumps([[r.written, r.deleted_stale] for r in results]))
"""


@pytest.mark.slow
def test_two_processes_publish_two_partitions_concurrently(
    opensearch_url: str, opensearch_index: str, tmp_path: Path
):
    go = tmp_path / "go"
    partitions = ["2026-11-25-15:00", "2026-11-25-16:00"]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CONCURRENT_PUBLISHER,
                opensearch_url,
                opensearch_index,
                p,
                str(go),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in partitions
    ]
    time.sleep(1.5)  # both interpreters are up and polling: start them together
    go.touch()
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert json.loads(out) == [[260, 0], [200, 60]]
    store = OpenSearchStore(opensearch_url, index=opensearch_index)
    for partition in partitions:
        assert store.partition_documents(partition) == documents(200, partition)
    assert len(raw_sources(opensearch_url, opensearch_index)) == 400


def test_existing_plain_index_is_used_as_is(opensearch_url: str):
    index = fresh_index_name()
    client = OpenSearch(hosts=[opensearch_url])
    client.indices.create(index=index, body={"settings": {"number_of_replicas": 0}})
    try:
        store = OpenSearchStore(opensearch_url, index=index)
        store.replace_partition(PARTITION, documents(3))
        assert not client.indices.exists_alias(name=index)
        assert client.count(index=index)["count"] == 3
        mapping = client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
        assert mapping["l_occurrence_count"]["type"] == "long"  # the template applied too
    finally:
        client.close()
        drop_index(opensearch_url, index)


def test_write_alias_rollover_leaves_no_duplicates(opensearch_url: str, opensearch_index: str):
    store = OpenSearchStore(opensearch_url, index=opensearch_index)
    store.replace_partition(PARTITION, documents(10))
    client = OpenSearch(hosts=[opensearch_url])
    try:
        aliases = client.indices.get_alias(name=opensearch_index)
        assert aliases == {
            f"{opensearch_index}-000001": {"aliases": {opensearch_index: {"is_write_index": True}}}
        }
        client.indices.rollover(alias=opensearch_index)
        rolled = store  # the same store object: it must notice the new write index
        result = rolled.replace_partition(PARTITION, documents(8))
        # The ten old copies sit in -000001; the eight new ones went to -000002.
        assert result.deleted_stale == 10
        stored = client.search(index=opensearch_index, body={"size": 100})["hits"]["hits"]
        assert {h["_index"] for h in stored} == {f"{opensearch_index}-000002"}
        assert rolled.partition_documents(PARTITION) == documents(8)
    finally:
        client.close()


def test_template_maps_prefixes_and_text_fields(opensearch_url: str, opensearch_index: str):
    store = OpenSearchStore(opensearch_url, index=opensearch_index)
    doc = {**documents(1)[0], "ts_first_seen": "", "s_extra_label": "x", "l_extra": 3}
    store.replace_partition(PARTITION, [doc])
    client = OpenSearch(hosts=[opensearch_url])
    try:
        mapping = client.indices.get_mapping(index=opensearch_index)
        properties = next(iter(mapping.values()))["mappings"]["properties"]
        settings = client.indices.get_settings(index=opensearch_index)
    finally:
        client.close()
    assert properties["s_extra_label"]["type"] == "keyword"
    assert properties["l_extra"]["type"] == "long"
    assert properties["f_confidence_score"]["type"] == "double"
    assert properties["b_is_duplicate"]["type"] == "boolean"
    assert properties["ts_classified_at"]["type"] == "date"
    assert properties["@timestamp"]["type"] == "date"
    assert properties["s_root_cause_summary"]["type"] == "text"
    assert properties["s_root_cause_summary"]["fields"]["keyword"]["type"] == "keyword"
    assert next(iter(settings.values()))["settings"]["index"]["number_of_replicas"] == "0"
    # An empty timestamp is kept as written instead of failing the document.
    assert store.partition_documents(PARTITION)[0]["ts_first_seen"] == ""


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


def test_tls_and_basic_auth_from_settings(opensearch_url, opensearch_index, certificate, tmp_path):
    with ForwardingProxy(
        opensearch_url, certificate=certificate, credentials=("publisher", "pa55-word")
    ) as proxy:
        env = {
            "ERROR_ASSETS_HOME": str(tmp_path),
            "OPENSEARCH_URL": proxy.url,
            "OPENSEARCH_USERNAME": "publisher",
            "OPENSEARCH_PASSWORD": "pa55-word",
            "OPENSEARCH_CA_CERTS": str(certificate[0]),
            "ERROR_CLASSIFICATION_INDEX": opensearch_index,
        }
        store = OpenSearchStore.from_settings(Settings.from_env(env))
        store.replace_partition(PARTITION, documents(5))
        assert len(store.partition_documents(PARTITION)) == 5
        assert proxy.unauthorized == 0

        wrong = Settings.from_env({**env, "OPENSEARCH_PASSWORD": "not-the-pa55"})
        with pytest.raises(StoreError) as caught:
            OpenSearchStore.from_settings(wrong).partition_documents(PARTITION)
        assert "401" in str(caught.value) and proxy.url in str(caught.value)
        assert "not-the-pa55" not in str(caught.value)

        # Verification is on by default: without the CA the self-signed certificate fails.
        unverified = Settings.from_env({k: v for k, v in env.items() if k != "OPENSEARCH_CA_CERTS"})
        with pytest.raises(
            StoreError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"
        ) as tls:
            OpenSearchStore.from_settings(unverified).ensure_ready()
        assert "OPENSEARCH_CA_CERTS" in str(tls.value)

        insecure = Settings.from_env(
            {**env, "OPENSEARCH_CA_CERTS": "", "OPENSEARCH_VERIFY_CERTS": "false"}
        )
        assert len(OpenSearchStore.from_settings(insecure).partition_documents(PARTITION)) == 5
