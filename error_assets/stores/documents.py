"""The published document: one per (partition, fingerprint), field names by prefix convention.

`s_` keyword, `l_` long, `f_` float, `b_` boolean, `ts_` date, plus `@timestamp`.
The `_id` is `document_id(fingerprint, partition)` and is never stored inside the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from error_assets.models import CIJob, Classification, Cluster, classifier_kind

# Fields mapped as full text (with a keyword sub-field) rather than plain keywords.
TEXT_FIELDS: tuple[str, ...] = (
    "s_root_cause_summary",
    "s_evidence_line",
    "s_snippet",
    "s_message",
    "s_normalized_text",
)

# DESIGN.md's established schema: every document carries these.
REQUIRED_FIELDS: tuple[str, ...] = (
    "s_error_id",
    "s_error_hash",
    "s_workflow_id",
    "s_job_id",
    "s_test_name",
    "s_error_source",
    "s_framework",
    "s_primary_category",
    "f_confidence_score",
    "s_root_cause_summary",
    "l_occurrence_count",
    "l_prompt_tokens",
    "l_cached_tokens",
    "@timestamp",
    "b_is_duplicate",
)

SNIPPET_LIMIT = 4_000
PARTITION_FORMAT = "%Y-%m-%d-%H:%M"


def document_id(fingerprint: str, partition: str) -> str:
    return f"{fingerprint}:{partition}"


def partition_start(partition: str) -> datetime:
    """The UTC start of an hourly partition key ("2026-11-28-03:00")."""
    return datetime.strptime(partition, PARTITION_FORMAT).replace(tzinfo=UTC)


def partition_key(moment: datetime) -> str:
    """The key of the hourly partition that holds `moment` (the hour it falls in, UTC)."""
    return (
        moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0).strftime(PARTITION_FORMAT)
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_document(
    cluster: Cluster,
    classification: Classification,
    jobs: Mapping[int, CIJob] | None = None,
    realtime: bool = False,
) -> dict[str, Any]:
    """The document for one cluster of one partition."""
    jobs = jobs or {}
    first_job = jobs.get(cluster.affected_job_ids[0]) if cluster.affected_job_ids else None
    start = partition_start(cluster.partition)
    doc: dict[str, Any] = {
        "@timestamp": iso(start),
        "s_error_id": document_id(cluster.fingerprint, cluster.partition),
        "s_error_hash": cluster.fingerprint,
        "s_partition": cluster.partition,
        "ts_partition_start": iso(start),
        "s_workflow_id": str(cluster.affected_run_ids[0]) if cluster.affected_run_ids else "",
        "s_job_id": str(cluster.affected_job_ids[0]) if cluster.affected_job_ids else "",
        "l_job_ids": [int(j) for j in cluster.affected_job_ids],
        "l_run_ids": [int(r) for r in cluster.affected_run_ids],
        "l_affected_jobs": len(cluster.affected_job_ids),
        "s_test_name": cluster.test_names[0] if cluster.test_names else "",
        "s_test_names": list(cluster.test_names[:50]),
        "s_error_source": cluster.source_kind,
        "s_source_kinds": list(cluster.source_kinds),
        "s_framework": _framework(cluster),
        "s_repo": cluster.repos[0] if cluster.repos else "",
        "s_repos": list(cluster.repos),
        "s_workflow_name": cluster.workflow_names[0] if cluster.workflow_names else "",
        "s_job_name": cluster.job_names[0] if cluster.job_names else "",
        "s_step_name": cluster.step_names[0] if cluster.step_names else "",
        "s_head_branch": first_job.head_branch if first_job else "",
        "s_runner_name": first_job.runner_name if first_job else "",
        "s_primary_category": classification.category,
        "f_confidence_score": float(classification.confidence),
        "s_root_cause_summary": classification.root_cause_summary,
        "s_evidence_line": classification.evidence_line,
        "s_classifier": classification.classifier,
        "s_classifier_kind": classifier_kind(classification.classifier),
        "s_prompt_version": classification.prompt_version,
        "s_rules_version": classification.rules_version,
        "s_normalizer_version": cluster.normalizer_version,
        "s_flags": list(classification.flags),
        "l_occurrence_count": int(cluster.occurrences),
        "l_prompt_tokens": int(classification.input_tokens),
        "l_output_tokens": int(classification.output_tokens),
        "l_cached_tokens": int(classification.cache_read_tokens),
        "l_cache_write_tokens": int(classification.cache_write_tokens),
        "f_cost_usd": float(classification.cost_usd),
        "ts_classified_at": classification.classified_at or iso(datetime.now(UTC)),
        "s_message": cluster.representative_message[:1000],
        "s_snippet": cluster.representative_text[:SNIPPET_LIMIT],
        "s_normalized_text": cluster.normalized_text[:SNIPPET_LIMIT],
        "s_member_fingerprints": list(cluster.member_fingerprints),
        "ts_first_seen": cluster.first_seen,
        "ts_last_seen": cluster.last_seen,
        "b_is_duplicate": not cluster.is_new,
        "b_is_new": bool(cluster.is_new),
        "b_realtime": bool(realtime),
    }
    return doc


def _framework(cluster: Cluster) -> str:
    return cluster.frameworks[0] if cluster.frameworks else cluster.source_kind


def missing_required(doc: Mapping[str, Any]) -> list[str]:
    return [f for f in REQUIRED_FIELDS if f not in doc]


# The record of a decision: kept from the partition's previous document when a rerun reaches
# the same verdict (typically from the cache), so re-materialising never rewrites history.
DECISION_RECORD_FIELDS: tuple[str, ...] = (
    "s_classifier",
    "s_classifier_kind",
    "ts_classified_at",
    "l_prompt_tokens",
    "l_output_tokens",
    "l_cached_tokens",
    "l_cache_write_tokens",
    "f_cost_usd",
)
VERDICT_FIELDS: tuple[str, ...] = (
    "s_primary_category",
    "f_confidence_score",
    "s_root_cause_summary",
    "s_evidence_line",
    "s_prompt_version",
    "s_rules_version",
)


def keep_original_decision(
    new: dict[str, Any], previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """`new`, with the decision record of `previous` when both carry the same verdict."""
    if previous is None or any(new.get(f) != previous.get(f) for f in VERDICT_FIELDS):
        return new
    kept = dict(new)
    for f in DECISION_RECORD_FIELDS:
        if f in previous:
            kept[f] = previous[f]
    return kept
