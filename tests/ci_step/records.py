"""Small builders of records for the CI-step tests (the fields the step reads, the rest blank)."""

from __future__ import annotations

from error_assets.ci_step.report import ClassifiedError
from error_assets.models import Classification, Cluster, ErrorOccurrence


def occurrence(message: str, *, test_name: str = "", file: str = "", line: int | None = None,
               source_kind: str = "gha_log", text: str = "") -> ErrorOccurrence:  # fmt: skip
    return ErrorOccurrence(
        error_id=f"e-{abs(hash(message))}", partition="2026-11-28-10:00", repo="o/r",
        workflow_name="CI", run_id=1, run_attempt=1, job_id=0, job_name="test",
        step_name="Run tests", source_kind=source_kind, framework="", test_name=test_name,
        file=file, line=line, message=message, text=text or message, role="cause",
    )  # fmt: skip


def cluster_of(occ: ErrorOccurrence, fingerprint: str) -> Cluster:
    return Cluster(
        fingerprint=fingerprint, partition=occ.partition, source_kind=occ.source_kind,
        representative_message=occ.message, representative_text=occ.text,
        normalized_text=occ.message.lower(), occurrences=1, member_fingerprints=(fingerprint,),
        error_ids=(occ.error_id,), affected_job_ids=(occ.job_id,), affected_run_ids=(occ.run_id,),
        test_names=(occ.test_name,) if occ.test_name else (), source_kinds=(occ.source_kind,),
        repos=(occ.repo,), workflow_names=(occ.workflow_name,), job_names=(occ.job_name,),
        step_names=(occ.step_name,), first_seen="2026-11-28T10:00:00Z",
        last_seen="2026-11-28T10:00:00Z", is_new=True, normalizer_version="t",
    )  # fmt: skip


def verdict(fingerprint: str, category: str, confidence: float, evidence: str,
            classifier: str = "rules:test") -> Classification:  # fmt: skip
    return Classification(
        fingerprint=fingerprint, partition="2026-11-28-10:00", category=category,
        confidence=confidence, root_cause_summary=f"Summary of {evidence}",
        evidence_line=evidence, classifier=classifier,
    )  # fmt: skip


def classified(message: str, category: str | None, confidence: float = 0.9,
               **occurrence_fields: object) -> ClassifiedError:  # fmt: skip
    occ = occurrence(message, **occurrence_fields)  # type: ignore[arg-type]
    fp = f"fp{abs(hash(message)) % 10_000}"
    c = verdict(fp, category, confidence, message) if category else None
    return ClassifiedError(cluster_of(occ, fp), occ, c)
