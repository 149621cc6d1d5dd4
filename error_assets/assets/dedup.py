"""Stage 3: occurrences deduplicated into clusters, one per root cause, stable across hours."""

from collections import Counter, defaultdict
from collections.abc import Iterator

import dagster as dg

from error_assets.assets.records import column_schema, frame_records, preview, records_frame
from error_assets.checks import (
    CLUSTERS_COVER_OCCURRENCES,
    ERROR_CLUSTERS_CHECKS,
    check_result,
    cluster_coverage,
)
from error_assets.models import Cluster, ErrorOccurrence
from error_assets.partitions import backfill_policy, hourly_partitions
from error_assets.resources import StoreResource
from error_assets.stores.documents import partition_start


@dg.asset(
    partitions_def=hourly_partitions,
    backfill_policy=backfill_policy,
    group_name="dedup",
    kinds={"python", "pandas"},
    io_manager_key="records_io_manager",
    metadata={"dagster/column_schema": column_schema(Cluster)},
    check_specs=ERROR_CLUSTERS_CHECKS,
)
def error_clusters(
    context: dg.AssetExecutionContext, extracted_errors, store: StoreResource
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """One row per cluster (root cause) and partition. Each failed job contributes its
    top-ranked occurrence (symptoms and wrappers stay in `extracted_errors`); exact
    fingerprints first, then near-duplicates merged; `is_new` and first/last seen against
    every earlier partition in the store. In a ranged run the partitions are clustered in time order, each seeing the ones before it, so
    a backfill gives exactly what hour-by-hour runs would."""
    from error_assets.fingerprinting import build_clusters, remember_clusters
    from error_assets.fingerprinting.root_causes import job_root_causes

    by_partition: dict[str, list[ErrorOccurrence]] = defaultdict(list)
    root_causes = job_root_causes(frame_records(extracted_errors, ErrorOccurrence))
    for occurrence in root_causes:
        by_partition[occurrence.partition].append(occurrence)
    partitions = sorted(context.partition_keys)
    with_store = store.open()
    try:
        history = with_store.cluster_history(before=partition_start(partitions[0]))
    finally:
        with_store.close()
    clusters: list[Cluster] = []
    for partition in partitions:
        built = build_clusters(by_partition.get(partition, []), partition, history)
        remember_clusters(history, built)
        clusters.extend(built)
    frame = records_frame(clusters, Cluster)
    occurrences = len(extracted_errors)
    yield dg.Output(
        frame,
        metadata={
            "clusters": len(frame),
            "occurrences": occurrences,
            "root_causes": len(root_causes),
            "new_clusters": int(frame["is_new"].sum()) if len(frame) else 0,
            "dedup_ratio": round(len(root_causes) / len(frame), 2) if len(frame) else 0.0,
            "preview": preview(
                frame.sort_values("occurrences", ascending=False) if len(frame) else frame,
                ["partition", "fingerprint", "occurrences", "is_new", "representative_message"],
            ),
            "dagster/row_count": len(frame),
        },
    )
    extracted = Counter({p: len(found) for p, found in by_partition.items()})
    clustered: Counter[str] = Counter()
    for cluster in clusters:
        clustered[cluster.partition] += int(cluster.occurrences)
    yield check_result(CLUSTERS_COVER_OCCURRENCES, cluster_coverage(extracted, clustered))
