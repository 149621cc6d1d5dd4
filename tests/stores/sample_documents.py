"""Hand-made clusters and classifications turned into published documents with `build_document`."""

from __future__ import annotations

from error_assets.models import Classification, Cluster
from error_assets.stores.documents import build_document, iso, partition_start


def make_cluster(
    fingerprint: str,
    partition: str,
    *,
    occurrences: int = 1,
    is_new: bool = True,
    members: tuple[str, ...] = (),
    first_seen: str | None = None,
    source_kind: str = "pytest",
    text: str = "AssertionError: expected 3 but got 4",
    normalizer_version: str = "n1",
    job_ids: tuple[int, ...] = (101,),
) -> Cluster:
    start = iso(partition_start(partition))
    return Cluster(
        fingerprint=fingerprint,
        partition=partition,
        source_kind=source_kind,
        representative_message=text.splitlines()[0],
        representative_text=text,
        normalized_text=text.lower(),
        occurrences=occurrences,
        member_fingerprints=members or (fingerprint,),
        error_ids=tuple(f"{fingerprint}-e{i}" for i in range(occurrences)),
        affected_job_ids=job_ids,
        affected_run_ids=tuple(j * 10 for j in job_ids),
        test_names=("tests/test_math.py::test_add",),
        source_kinds=(source_kind,),
        repos=("octo/widgets",),
        workflow_names=("ci",),
        job_names=("test (3.12)",),
        step_names=("Run pytest",),
        first_seen=first_seen or start,
        last_seen=start,
        is_new=is_new,
        normalizer_version=normalizer_version,
        frameworks=("pytest",),
    )


def make_classification(
    fingerprint: str,
    partition: str,
    *,
    category: str = "code_error",
    classifier: str = "rules:assertion",
    cost_usd: float = 0.0,
    rules_version: str = "r1",
    prompt_version: str = "",
    confidence: float = 0.9,
    input_tokens: int = 0,
) -> Classification:
    return Classification(
        fingerprint=fingerprint,
        partition=partition,
        category=category,
        confidence=confidence,
        root_cause_summary=f"Root cause of {fingerprint}: an assertion about arithmetic",
        evidence_line="AssertionError: expected 3 but got 4",
        classifier=classifier,
        prompt_version=prompt_version,
        rules_version=rules_version,
        input_tokens=input_tokens,
        cost_usd=cost_usd,
        classified_at="2026-11-28T12:00:00Z",
    )


def make_document(
    fingerprint: str,
    partition: str,
    *,
    realtime: bool = False,
    **options: object,
) -> dict:
    """A document for `fingerprint` in `partition`; options go to the cluster or classification."""
    cluster_keys = {
        "occurrences",
        "is_new",
        "members",
        "first_seen",
        "source_kind",
        "text",
        "normalizer_version",
        "job_ids",
    }
    cluster_options = {k: v for k, v in options.items() if k in cluster_keys}
    class_options = {k: v for k, v in options.items() if k not in cluster_keys}
    return build_document(
        make_cluster(fingerprint, partition, **cluster_options),  # type: ignore[arg-type]
        make_classification(fingerprint, partition, **class_options),  # type: ignore[arg-type]
        realtime=realtime,
    )


def numbered_documents(count: int, partition: str, prefix: str = "fp") -> list[dict]:
    """`count` distinct clusters of one partition, fingerprints `<prefix>-00000`, ... in order."""
    return [
        make_document(f"{prefix}-{i:05d}", partition, occurrences=i % 7 + 1, job_ids=(i, i + 1))
        for i in range(count)
    ]
