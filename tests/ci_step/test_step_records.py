"""Records the step builds itself: the fallback cluster and the real-time document."""

from __future__ import annotations

from error_assets.ci_step.context import GitHubContext
from error_assets.ci_step.realtime import ci_job, realtime_document
from error_assets.ci_step.step import is_test_failure, llm_policy, single_cluster
from error_assets.stores.documents import missing_required
from tests.ci_step.records import occurrence, verdict


def test_a_single_occurrence_cluster_publishes_as_a_complete_document() -> None:
    occ = occurrence("ERROR: failed to solve: process did not complete", source_kind="buildkit")
    cluster = single_cluster(occ)
    assert cluster.error_ids == (occ.error_id,) and cluster.occurrences == 1
    assert cluster.first_seen == "2026-11-28T10:00:00Z"
    ctx = GitHubContext(repository="o/r", run_id=5, run_attempt=2, job_key="build", job_id=77)
    doc = realtime_document(
        cluster,
        verdict(cluster.fingerprint, "code_error", 0.8, occ.message),
        ctx,
        ci_job(ctx, occ.partition, "2026-11-28T10:20:00Z", occ.step_name),
    )
    assert missing_required(doc) == []
    assert doc["s_error_id"] == f"{cluster.fingerprint}:2026-11-28-10:00:rt:77"
    assert doc["b_realtime"] is True and doc["l_run_attempt"] == 2
    assert doc["s_run_url"] == "https://github.com/o/r/actions/runs/5/attempts/2"


def test_threshold_policy() -> None:
    test_failure = single_cluster(
        occurrence("assert 1 == 2", test_name="t::x", source_kind="junit")
    )
    build_error = single_cluster(occurrence("error: expected ';'", source_kind="make"))
    assert is_test_failure(test_failure) and not is_test_failure(build_error)
    assert [llm_policy("all")(c) for c in (test_failure, build_error)] == [True, True]
    assert [llm_policy("infrastructure")(c) for c in (test_failure, build_error)] == [False, True]
    assert [llm_policy("none")(c) for c in (test_failure, build_error)] == [False, False]
