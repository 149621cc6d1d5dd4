"""Stage 5: one document per (partition, cluster) in the store, replacing the partition."""

from collections import Counter
from datetime import timedelta

import dagster as dg

from error_assets.assets.records import counts_md, frame_records
from error_assets.checks import (
    ERROR_INDEX_CHECKS,
    STORE_HOLDS_PARTITION,
    check_result,
    store_contents,
)
from error_assets.models import CIJob, Classification, Cluster
from error_assets.partitions import backfill_policy, hourly_partitions
from error_assets.resources import StoreResource
from error_assets.stores.documents import build_document, keep_original_decision

# The schedule publishes each hour a few minutes past the next one; two missed hours in a row
# mean the schedule, the daemon or the run queue has stalled, and the UI should say so.
ERROR_INDEX_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=3), warn_window=timedelta(hours=2)
)


@dg.asset(
    partitions_def=hourly_partitions,
    backfill_policy=backfill_policy,
    group_name="publish",
    kinds={"opensearch"},
    check_specs=ERROR_INDEX_CHECKS,
    freshness_policy=ERROR_INDEX_FRESHNESS,
)
def error_index(
    context: dg.AssetExecutionContext,
    raw_ci_jobs,
    error_clusters,
    error_classifications,
    store: StoreResource,
) -> dg.MaterializeResult:
    """The published documents, `_id` = `<fingerprint>:<partition>`, in OpenSearch (when
    OPENSEARCH_URL is set) or the local embedded store. Each partition is replaced exactly:
    re-materialising writes the same documents and deletes the partition's stale ones."""
    jobs = {job.job_id: job for job in frame_records(raw_ci_jobs, CIJob)}
    verdicts = {
        (c.partition, c.fingerprint): c
        for c in frame_records(error_classifications, Classification)
    }
    documents: dict[str, list[dict]] = {key: [] for key in context.partition_keys}
    unclassified = []
    for cluster in frame_records(error_clusters, Cluster):
        verdict = verdicts.get((cluster.partition, cluster.fingerprint))
        if verdict is None:
            unclassified.append(cluster.fingerprint)
            continue
        documents[cluster.partition].append(build_document(cluster, verdict, jobs))
    if unclassified:
        raise dg.Failure(
            f"{len(unclassified)} cluster(s) have no classification: {unclassified[:10]}"
        )
    opened = store.open()
    written = deleted = 0
    stored: dict[str, list[str]] = {}
    try:
        for partition in sorted(documents):
            previous = {d["s_error_id"]: d for d in opened.partition_documents(partition)}
            docs = [
                keep_original_decision(doc, previous.get(doc["s_error_id"]))
                for doc in documents[partition]
            ]
            result = opened.replace_partition(partition, docs)
            written += result.written
            deleted += result.deleted_stale
        # Read back what the store now holds, as a reader would see it.
        for partition in sorted(documents):
            stored[partition] = [d["s_error_id"] for d in opened.partition_documents(partition)]
    finally:
        opened.close()
    categories = Counter(d["s_primary_category"] for docs in documents.values() for d in docs)
    expected = {p: [d["s_error_id"] for d in docs] for p, docs in documents.items()}
    return dg.MaterializeResult(
        check_results=[check_result(STORE_HOLDS_PARTITION, store_contents(expected, stored))],
        metadata={
            "store": store.kind,
            "index": store.index
            if store.kind == "opensearch"
            else str(store.settings().store_path),
            "documents_written": written,
            "stale_documents_deleted": deleted,
            "partitions": len(documents),
            "by_category": counts_md(dict(categories), ("category", "documents")),
            "occurrences": int(
                sum(d["l_occurrence_count"] for docs in documents.values() for d in docs)
            ),
        },
    )
