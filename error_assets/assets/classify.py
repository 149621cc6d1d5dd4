"""Stage 4: each cluster classified, from the cheapest source that is sure."""

from collections import Counter
from collections.abc import Iterator

import dagster as dg

from error_assets.assets.records import (
    column_schema,
    counts_md,
    frame_records,
    preview,
    records_frame,
)
from error_assets.checks import (
    ERROR_CLASSIFICATIONS_CHECKS,
    EVERY_CLUSTER_CLASSIFIED,
    LLM_SPEND_UNDER_BUDGET,
    VERDICTS_VALID,
    check_result,
    classification_coverage,
    llm_spend,
    verdict_validity,
)
from error_assets.models import Classification, Cluster, classifier_kind
from error_assets.partitions import backfill_policy, hourly_partitions
from error_assets.resources import ClassifierResource, StoreResource


@dg.asset(
    partitions_def=hourly_partitions,
    backfill_policy=backfill_policy,
    group_name="classify",
    kinds={"python", "anthropic"},
    io_manager_key="records_io_manager",
    pool="anthropic",
    metadata={"dagster/column_schema": column_schema(Classification)},
    check_specs=ERROR_CLASSIFICATIONS_CHECKS,
)
def error_classifications(
    context: dg.AssetExecutionContext,
    error_clusters,
    store: StoreResource,
    classifier: ClassifierResource,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """One row per cluster: `infrastructure_error` or `code_error`, a confidence, a short
    root-cause summary and the evidence line. Order of trust: human override, the cache (a
    fingerprint already classified with the same rules/prompt version), the rule library,
    Claude (when ANTHROPIC_API_KEY is set; Message Batches for large partitions), then the
    offline model. Tokens and cost are recorded on every row."""
    from error_assets.classification import ClassifierConfig, build_classifier

    clusters = frame_records(error_clusters, Cluster)
    opened = store.open()
    try:
        config = ClassifierConfig.from_settings(classifier.settings())
        run = build_classifier(config, store=opened).classify_clusters(clusters, mode="auto")
    finally:
        opened.close()
    classifications: list[Classification] = run.classifications
    frame = records_frame(classifications, Classification)
    by_category = Counter(c.category for c in classifications)
    by_classifier = Counter(classifier_kind(c.classifier) for c in classifications)
    flagged = Counter(flag for c in classifications for flag in c.flags)
    cost = round(sum(c.cost_usd for c in classifications), 6)
    if flagged:
        context.log.warning(f"flagged classifications: {dict(flagged)}")
    stats = {f"stat_{k}": v for k, v in run.stats.items() if isinstance(v, (int, float, str, bool))}
    yield dg.Output(
        frame,
        metadata={
            "clusters": len(frame),
            "by_category": counts_md(dict(by_category), ("category", "clusters")),
            "by_classifier": counts_md(dict(by_classifier), ("classifier", "clusters")),
            "llm_enabled": classifier.llm_enabled,
            "cost_usd": cost,
            "input_tokens": int(sum(c.input_tokens for c in classifications)),
            "output_tokens": int(sum(c.output_tokens for c in classifications)),
            "cache_read_tokens": int(sum(c.cache_read_tokens for c in classifications)),
            "flags": dg.MetadataValue.json(dict(flagged)),
            "preview": preview(frame, ["fingerprint", "category", "confidence", "classifier"]),
            "dagster/row_count": len(frame),
            **stats,
        },
    )
    yield check_result(
        EVERY_CLUSTER_CLASSIFIED,
        classification_coverage(
            [(c.partition, c.fingerprint) for c in clusters],
            [(c.partition, c.fingerprint) for c in classifications],
        ),
    )
    yield check_result(VERDICTS_VALID, verdict_validity(classifications))
    yield check_result(
        LLM_SPEND_UNDER_BUDGET,
        llm_spend(cost, classifier.max_cost_usd_per_run, flagged.get("budget_exhausted", 0)),
        severity=dg.AssetCheckSeverity.WARN,
    )
