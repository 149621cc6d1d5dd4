"""The logic of the asset checks, on hand-made inputs (the pipeline tests run them for real)."""

from __future__ import annotations

import dagster as dg

from error_assets.checks import (
    EVERY_CLUSTER_CLASSIFIED,
    check_result,
    classification_coverage,
    cluster_coverage,
    job_coverage,
    llm_spend,
    store_contents,
    verdict_validity,
)
from error_assets.models import Classification
from error_assets.taxonomy import CODE, INFRASTRUCTURE


def _verdict(category: str = CODE, confidence: float = 0.8, classifier: str = "rules:x"):
    return Classification(
        fingerprint="f" + str(confidence),
        partition="2026-11-28-03:00",
        category=category,
        confidence=confidence,
        root_cause_summary="",
        evidence_line="",
        classifier=classifier,
        rules_version="r1",
    )


def test_every_job_with_an_error_or_listed_passes() -> None:
    outcome = job_coverage(["a", "b", "c", "d", "e"], ["a", "b", "c", "d"], ["e"])
    assert outcome.passed
    assert outcome.metadata["no_error_found"] == 1
    assert outcome.metadata["no_error_share"] == 0.2


def test_a_job_neither_with_errors_nor_listed_fails_and_is_named() -> None:
    outcome = job_coverage(["a", "b", "c"], ["a"], ["b"], max_no_error_share=0.5)
    assert not outcome.passed
    assert outcome.metadata["unaccounted_jobs"] == ["c"]
    assert "neither" in outcome.description


def test_too_many_jobs_without_errors_fail() -> None:
    outcome = job_coverage(["a", "b", "c", "d"], ["a"], ["b", "c", "d"], max_no_error_share=0.5)
    assert not outcome.passed
    assert "75%" in outcome.description


def test_no_jobs_at_all_is_a_quiet_hour_not_a_failure() -> None:
    assert job_coverage([], [], []).passed


def test_cluster_coverage_compares_per_partition() -> None:
    assert cluster_coverage({"p1": 5, "p2": 3}, {"p1": 5, "p2": 3}).passed
    outcome = cluster_coverage({"p1": 5, "p2": 3}, {"p1": 5, "p2": 2})
    assert not outcome.passed
    assert outcome.metadata["mismatched_partitions"] == {"p2": {"extracted": 3, "clustered": 2}}


def test_classification_coverage_finds_missing_extra_and_duplicates() -> None:
    clusters = [("p", "a"), ("p", "b")]
    assert classification_coverage(clusters, [("p", "b"), ("p", "a")]).passed
    outcome = classification_coverage(clusters, [("p", "a"), ("p", "a"), ("p", "z")])
    assert not outcome.passed
    assert outcome.metadata["unclassified"] == ["p/b"]
    assert outcome.metadata["without_cluster"] == ["p/z"]
    assert "1 duplicated" in outcome.description


def test_verdict_validity() -> None:
    good = [
        _verdict(CODE, 0.0),
        _verdict(INFRASTRUCTURE, 1.0, "llm:claude"),
        _verdict(CODE, 0.5, "offline"),
    ]
    assert verdict_validity(good).passed
    bad = [
        _verdict("flaky", 0.5),
        _verdict(CODE, 1.5),
        _verdict(CODE, float("nan")),
        _verdict(CODE, 0.5, "guess"),
    ]
    outcome = verdict_validity([*good, *bad])
    assert not outcome.passed
    assert outcome.metadata["invalid"] == 4
    joined = " ".join(outcome.metadata["examples"])
    assert "'flaky'" in joined and "1.5" in joined and "nan" in joined and "'guess'" in joined


def test_llm_spend_against_the_budget() -> None:
    assert llm_spend(0.40, 1.0).passed
    assert llm_spend(1.0, 1.0).passed
    over = llm_spend(1.25, 1.0, budget_flagged=3)
    assert not over.passed
    assert "exceeds" in over.description and "3 cluster(s)" in over.description


def test_store_contents_detects_missing_stale_and_duplicates() -> None:
    written = {"p1": ["a:p1", "b:p1"], "p2": ["c:p2"]}
    assert store_contents(written, {"p1": ["b:p1", "a:p1"], "p2": ["c:p2"]}).passed
    outcome = store_contents(written, {"p1": ["a:p1", "x:p1"], "p2": ["c:p2", "c:p2"]})
    assert not outcome.passed
    assert outcome.metadata["mismatches"]["p1"] == {
        "missing": ["b:p1"],
        "stale": ["x:p1"],
        "duplicates": 0,
    }
    assert outcome.metadata["mismatches"]["p2"]["duplicates"] == 1


def test_check_result_carries_outcome_and_json_metadata() -> None:
    outcome = classification_coverage([("p", "a")], [])
    result = check_result(EVERY_CLUSTER_CLASSIFIED, outcome)
    assert isinstance(result, dg.AssetCheckResult)
    assert result.passed is False
    assert result.check_name == EVERY_CLUSTER_CLASSIFIED
    assert result.metadata["unclassified"].value == ["p/a"]
