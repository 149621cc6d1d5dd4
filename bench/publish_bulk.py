"""Bulk publishing to OpenSearch: `OpenSearchStore.replace_partition` vs one bare `_bulk`.

Both sides publish the same documents into a fresh index with the same template, in the same
run, alternating which goes first; the bare side is one `_bulk` request built and sent with the
raw client (the engine's own ceiling here), plus the refresh that makes it searchable. The
store side is everything `replace_partition` does (validation, chunked streaming bulk with 429
retries, the stale-document check, refresh). Prints documents/s and the time ratio.

    .venv/bin/python bench/publish_bulk.py            # 100,000 documents, 2 rounds
    .venv/bin/python bench/publish_bulk.py --quick    # 10,000 documents, 2 rounds
    .venv/bin/python bench/publish_bulk.py --url http://127.0.0.1:9200   # an existing node

Without --url it builds and starts the repo's test node with a 2 GB heap and request and
indexing-pressure limits raised so that the single bare request of 100,000 documents (~250 MB)
is admitted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from opensearchpy import OpenSearch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from error_assets.models import Classification, Cluster
from error_assets.stores.documents import build_document, document_id
from error_assets.stores.opensearch_store import OpenSearchStore
from tests.support.opensearch_node import drop_index

PARTITION = "2026-11-27-09:00"
TEXT = (
    "FAILED tests/integration/test_checkout.py::test_pay_with_saved_card - "
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='payments.internal', "
    "port=443): Max retries exceeded with url: /v1/charges (Caused by NewConnectionError("
    "'<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: "
    "[Errno 111] Connection refused'))"
)


def make_documents(count: int) -> list[dict]:
    docs = []
    for i in range(count):
        fingerprint = f"{i:016x}"
        cluster = Cluster(
            fingerprint=fingerprint,
            partition=PARTITION,
            source_kind="pytest",
            representative_message=TEXT[:120],
            representative_text=f"{TEXT}\n  at attempt {i}",
            normalized_text=TEXT.lower(),
            occurrences=i % 11 + 1,
            member_fingerprints=(fingerprint,),
            error_ids=(f"e{i}",),
            affected_job_ids=(1_000_000 + i, 2_000_000 + i),
            affected_run_ids=(50_000 + i // 10,),
            test_names=("tests/integration/test_checkout.py::test_pay_with_saved_card",),
            source_kinds=("pytest", "junit"),
            repos=("octo/shop",),
            workflow_names=("integration",),
            job_names=("integration (ubuntu-24.04)",),
            step_names=("Run integration tests",),
            first_seen="2026-11-20T08:00:00Z",
            last_seen="2026-11-27T09:41:00Z",
            is_new=i % 5 == 0,
            normalizer_version="n3",
            frameworks=("pytest",),
        )
        classification = Classification(
            fingerprint=fingerprint,
            partition=PARTITION,
            category="infrastructure_error" if i % 3 else "code_error",
            confidence=0.87,
            root_cause_summary="The payments service refused connections during the test run.",
            evidence_line="[Errno 111] Connection refused",
            classifier="rules:connection-refused",
            rules_version="r7",
            classified_at="2026-11-27T10:02:00Z",
        )
        docs.append(build_document(cluster, classification))
    return docs


def bare_bulk(client: OpenSearch, index: str, docs: list[dict]) -> float:
    """Seconds to build one NDJSON `_bulk` body, send it, and refresh."""
    serializer = client.transport.serializer
    started = time.perf_counter()
    lines = []
    for doc in docs:
        action = {"index": {"_index": index, "_id": document_id(doc["s_error_hash"], PARTITION)}}
        lines.append(serializer.dumps(action))
        lines.append(serializer.dumps(doc))
    body = "\n".join(lines) + "\n"
    result = client.bulk(body=body, request_timeout=900)
    client.indices.refresh(index=index)
    elapsed = time.perf_counter() - started
    if result["errors"]:
        raise SystemExit(f"bare bulk into {index} had item errors")
    return elapsed


def via_store(url: str, index: str, docs: list[dict]) -> float:
    store = OpenSearchStore(url, index=index, timeout=300)
    store.ensure_ready()
    started = time.perf_counter()
    store.replace_partition(PARTITION, docs)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def fresh_index(url: str, prefix: str) -> str:
    index = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    store = OpenSearchStore(url, index=index)
    store.ensure_ready()  # same template and alias for both sides, outside the timing
    store.close()
    return index


def run(url: str, count: int, rounds: int) -> None:
    docs = make_documents(count)
    client = OpenSearch(hosts=[url], timeout=900)
    store_times: list[float] = []
    bare_times: list[float] = []
    print(f"{count:,} documents, {rounds} rounds, node {url}")
    # Untimed warm-up so that neither side pays for the node's JIT compilation.
    warm_up = fresh_index(url, "warmup")
    via_store(url, warm_up, docs[: max(count // 10, 1)])
    drop_index(url, warm_up)
    for round_number in range(rounds):
        order = ["store", "bare"] if round_number % 2 == 0 else ["bare", "store"]
        for side in order:
            index = fresh_index(url, side)
            try:
                if side == "store":
                    seconds = via_store(url, index, docs)
                    store_times.append(seconds)
                else:
                    seconds = bare_bulk(client, index, docs)
                    bare_times.append(seconds)
                stored = client.count(index=index)["count"]
                if stored != count:
                    raise SystemExit(f"{side}: {stored} documents stored, expected {count}")
            finally:
                drop_index(url, index)
            print(
                f"  round {round_number + 1} {side:5s} {seconds:7.2f}s {count / seconds:9,.0f} docs/s"
            )
    store_s, bare_s = statistics.median(store_times), statistics.median(bare_times)
    print(
        f"median: store {count / store_s:,.0f} docs/s, bare _bulk {count / bare_s:,.0f} docs/s, "
        f"store time / bare time = {store_s / bare_s:.2f}x (goal <= 1.5x)"
    )
    client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="10,000 documents, 2 rounds")
    parser.add_argument("--url", help="an existing OpenSearch (default: start the test node)")
    args = parser.parse_args()
    count, rounds = (10_000, 2) if args.quick else (args.docs, args.rounds)
    if args.url:
        run(args.url.rstrip("/"), count, rounds)
        return 0
    from tests.opensearch_node.launcher import OpenSearchNode

    with tempfile.TemporaryDirectory(prefix="bench-opensearch-") as data:
        node = OpenSearchNode.start(
            Path(data),
            heap="2g",
            fast_start=False,  # full JIT: the engine's real throughput
            settings={
                "http.max_content_length": "1gb",
                # The bare side is one huge request: let indexing pressure and the circuit
                # breakers admit it (count reserved bytes, not garbage awaiting collection).
                "indexing_pressure.memory.limit": "70%",
                "indices.breaker.total.use_real_memory": "false",
            },
        )
        print(f"node started in {node.startup_seconds:.1f}s")
        try:
            run(node.url, count, rounds)
        finally:
            node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
