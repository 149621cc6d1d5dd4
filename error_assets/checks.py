"""Asset checks of the pipeline: declared on the assets (`check_specs`), evaluated in the same
step on the data the asset just produced, so no check reloads every partition.

The logic is a set of pure functions returning a `CheckOutcome`; `check_result` turns one
into the `dg.AssetCheckResult` an asset yields. Checks are blocking where a failure means bad
data would flow downstream (a blocking failure skips the downstream assets of the run).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from error_assets.models import CLASSIFIER_KINDS, Classification, classifier_kind
from error_assets.taxonomy import CATEGORY_NAMES

# At most this share of failed jobs may end with "no error found": beyond it, extraction has
# most likely stopped recognising a log format and the trend would silently under-count.
MAX_NO_ERROR_SHARE = 0.2
_LISTED = 20  # how many offending items a check's metadata names

JOBS_ACCOUNTED_FOR = "every_failed_job_accounted_for"
CLUSTERS_COVER_OCCURRENCES = "clusters_cover_every_occurrence"
EVERY_CLUSTER_CLASSIFIED = "every_cluster_classified"
VERDICTS_VALID = "categories_and_confidences_valid"
LLM_SPEND_UNDER_BUDGET = "llm_spend_under_budget"
STORE_HOLDS_PARTITION = "store_holds_exactly_the_partition"


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


# -- the specs, declared on the assets ------------------------------------------------------

EXTRACTED_ERRORS_CHECKS = [
    dg.AssetCheckSpec(
        JOBS_ACCOUNTED_FOR,
        asset="extracted_errors",
        blocking=True,
        description="Every failed job yields at least one error or is listed as 'no error "
        f"found', and no more than {MAX_NO_ERROR_SHARE:.0%} of the jobs end that way.",
    )
]
ERROR_CLUSTERS_CHECKS = [
    dg.AssetCheckSpec(
        CLUSTERS_COVER_OCCURRENCES,
        asset="error_clusters",
        blocking=True,
        description="Every occurrence given to clustering (each failed job's root cause) is "
        "counted in exactly one cluster of its partition.",
    )
]
ERROR_CLASSIFICATIONS_CHECKS = [
    dg.AssetCheckSpec(
        EVERY_CLUSTER_CLASSIFIED,
        asset="error_classifications",
        blocking=True,
        description="Every cluster of the partition has exactly one classification.",
    ),
    dg.AssetCheckSpec(
        VERDICTS_VALID,
        asset="error_classifications",
        blocking=True,
        description="Categories come from the taxonomy, confidences lie in [0, 1] and the "
        "classifier is one of human, cache, rules, llm, offline.",
    ),
    dg.AssetCheckSpec(
        LLM_SPEND_UNDER_BUDGET,
        asset="error_classifications",
        blocking=False,
        description="The LLM spend of the run stays within MAX_COST_USD_PER_RUN.",
    ),
]
ERROR_INDEX_CHECKS = [
    dg.AssetCheckSpec(
        STORE_HOLDS_PARTITION,
        asset="error_index",
        blocking=True,
        description="After publishing, the store holds exactly the partition's documents: "
        "none missing, none stale, none duplicated.",
    )
]


def check_result(
    name: str, outcome: CheckOutcome, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
) -> dg.AssetCheckResult:
    """The result an asset yields for the check called `name`."""
    return dg.AssetCheckResult(
        check_name=name,
        passed=outcome.passed,
        severity=severity,
        description=outcome.description,
        metadata=_metadata(outcome.metadata),
    )


def _metadata(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (list, tuple, dict)):
            out[key] = dg.MetadataValue.json(value)
        else:
            out[key] = value
    return out


# -- the logic ---------------------------------------------------------------------------


def job_coverage(
    job_keys: Collection[str],
    jobs_with_errors: Collection[str],
    no_error_jobs: Collection[str],
    max_no_error_share: float = MAX_NO_ERROR_SHARE,
) -> CheckOutcome:
    """Each failed job has an error or is listed as "no error found"; that share is bounded."""
    jobs = set(job_keys)
    with_errors = set(jobs_with_errors) & jobs
    listed = set(no_error_jobs) & jobs
    lost = sorted(jobs - with_errors - listed)
    share = len(listed) / len(jobs) if jobs else 0.0
    problems = []
    if lost:
        problems.append(f"{len(lost)} job(s) have neither an error nor a 'no error found' entry")
    if share > max_no_error_share:
        problems.append(
            f"{share:.0%} of the jobs have no error found (threshold {max_no_error_share:.0%})"
        )
    return CheckOutcome(
        passed=not problems,
        description="; ".join(problems)
        or f"{len(with_errors)} of {len(jobs)} job(s) yielded errors, {len(listed)} listed as "
        "'no error found'",
        metadata={
            "jobs": len(jobs),
            "jobs_with_errors": len(with_errors),
            "no_error_found": len(listed),
            "no_error_share": round(share, 4),
            "max_no_error_share": max_no_error_share,
            "unaccounted_jobs": lost[:_LISTED],
        },
    )


def cluster_coverage(occurrences: Mapping[str, int], clustered: Mapping[str, int]) -> CheckOutcome:
    """Per partition, the clusters' occurrence counts add up to the occurrences clustered."""
    partitions = sorted(set(occurrences) | set(clustered))
    off = {
        p: {"extracted": int(occurrences.get(p, 0)), "clustered": int(clustered.get(p, 0))}
        for p in partitions
        if occurrences.get(p, 0) != clustered.get(p, 0)
    }
    total = sum(occurrences.values())
    return CheckOutcome(
        passed=not off,
        description=f"occurrence counts differ in {len(off)} partition(s)"
        if off
        else f"{total} occurrence(s) in {len(partitions)} partition(s) all clustered",
        metadata={
            "occurrences": int(total),
            "clustered": int(sum(clustered.values())),
            "mismatched_partitions": dict(list(off.items())[:_LISTED]),
        },
    )


def classification_coverage(
    cluster_keys: Iterable[tuple[str, str]], classification_keys: Iterable[tuple[str, str]]
) -> CheckOutcome:
    """Every (partition, fingerprint) cluster has exactly one classification, and no other."""
    clusters = list(cluster_keys)
    verdicts = list(classification_keys)
    wanted, given = set(clusters), set(verdicts)
    missing = sorted(wanted - given)
    unexpected = sorted(given - wanted)
    duplicated = len(verdicts) - len(given)
    problems = []
    if missing:
        problems.append(f"{len(missing)} cluster(s) unclassified")
    if unexpected:
        problems.append(f"{len(unexpected)} classification(s) without a cluster")
    if duplicated:
        problems.append(f"{duplicated} duplicated classification(s)")
    return CheckOutcome(
        passed=not problems,
        description="; ".join(problems) or f"all {len(wanted)} cluster(s) classified",
        metadata={
            "clusters": len(wanted),
            "classifications": len(verdicts),
            "unclassified": [f"{p}/{f}" for p, f in missing[:_LISTED]],
            "without_cluster": [f"{p}/{f}" for p, f in unexpected[:_LISTED]],
        },
    )


def verdict_validity(classifications: Sequence[Classification]) -> CheckOutcome:
    """Categories from the taxonomy, confidences in [0, 1], a known classifier kind."""
    bad: list[str] = []
    for c in classifications:
        reasons = []
        if c.category not in CATEGORY_NAMES:
            reasons.append(f"category {c.category!r}")
        confidence = c.confidence
        if not isinstance(confidence, (int, float)) or math.isnan(confidence):
            reasons.append(f"confidence {confidence!r}")
        elif not 0.0 <= confidence <= 1.0:
            reasons.append(f"confidence {confidence}")
        if classifier_kind(c.classifier or "") not in CLASSIFIER_KINDS:
            reasons.append(f"classifier {c.classifier!r}")
        if reasons:
            bad.append(f"{c.partition}/{c.fingerprint}: {', '.join(reasons)}")
    missing_rules_version = sum(1 for c in classifications if not c.rules_version)
    return CheckOutcome(
        passed=not bad,
        description=f"{len(bad)} invalid classification(s)"
        if bad
        else f"all {len(classifications)} classification(s) valid",
        metadata={
            "classifications": len(classifications),
            "invalid": len(bad),
            "examples": bad[:_LISTED],
            "without_rules_version": missing_rules_version,
        },
    )


def llm_spend(cost_usd: float, budget_usd: float, budget_flagged: int = 0) -> CheckOutcome:
    """The run's LLM spend against its budget (a classifier that stopped at the budget flags
    the clusters it left to the offline model: reported, since their verdicts are weaker)."""
    over = cost_usd > budget_usd + 1e-9
    description = (
        f"LLM spend ${cost_usd:.4f} exceeds the budget of ${budget_usd:.2f}"
        if over
        else f"LLM spend ${cost_usd:.4f} of a ${budget_usd:.2f} budget"
    )
    if budget_flagged:
        description += f"; {budget_flagged} cluster(s) left to the offline model by the budget"
    return CheckOutcome(
        passed=not over,
        description=description,
        metadata={
            "cost_usd": round(cost_usd, 6),
            "budget_usd": budget_usd,
            "budget_used_share": round(cost_usd / budget_usd, 4) if budget_usd else 0.0,
            "budget_exhausted_clusters": budget_flagged,
        },
    )


def store_contents(
    written: Mapping[str, Sequence[str]], stored: Mapping[str, Sequence[str]]
) -> CheckOutcome:
    """Per partition, the ids read back from the store equal the ids just written."""
    wrong: dict[str, dict[str, Any]] = {}
    for partition in sorted(written):
        expected = list(written[partition])
        actual = list(stored.get(partition, []))
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        duplicates = len(actual) - len(set(actual))
        if missing or extra or duplicates:
            wrong[partition] = {
                "missing": missing[:_LISTED],
                "stale": extra[:_LISTED],
                "duplicates": duplicates,
            }
    documents = sum(len(v) for v in written.values())
    return CheckOutcome(
        passed=not wrong,
        description=f"the store disagrees in {len(wrong)} partition(s)"
        if wrong
        else f"the store holds exactly the {documents} document(s) of {len(written)} partition(s)",
        metadata={"documents": documents, "partitions": len(written), "mismatches": wrong},
    )
