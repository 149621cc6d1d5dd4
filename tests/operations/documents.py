"""Published documents made from records (through the real `build_document`), for tests that
need a store with known contents but not the whole pipeline."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from error_assets.models import Classification, Cluster, stable_id
from error_assets.stores.documents import build_document, iso, partition_key
from error_assets.taxonomy import CODE, INFRASTRUCTURE

MESSAGES = {
    INFRASTRUCTURE: [
        "Error: connect ETIMEDOUT 140.82.112.4:443",
        "The runner has received a shutdown signal",
        "No space left on device",
        "Killed (exit code 137)",
    ],
    CODE: [
        "AssertionError: expected 3 but got 4",
        "error[E0308]: mismatched types",
        "ModuleNotFoundError: No module named 'acme.core'",
        "TypeError: cannot read properties of undefined",
        "FAILED tests/test_api.py::test_login",
    ],
}
CLASSIFIERS = ("rules:oom", "cache", "llm:claude-sonnet-4-6", "offline", "human")


def documents_for_hour(
    hour: datetime,
    rng: random.Random,
    seen: set[str],
    rules_version: str = "r1",
    prompt_version: str = "p1",
    normalizer_version: str = "n1",
) -> list[dict]:
    """A handful of documents of one hourly partition; `seen` tracks fingerprints for `is_new`."""
    partition = partition_key(hour)
    docs = []
    for category, messages in MESSAGES.items():
        for message in rng.sample(messages, k=rng.randint(1, len(messages))):
            fingerprint = stable_id(category, message)
            occurrences = rng.randint(1, 9)
            classifier = rng.choice(CLASSIFIERS)
            llm = classifier.startswith("llm")
            cluster = Cluster(
                fingerprint=fingerprint,
                partition=partition,
                source_kind="gha_log",
                representative_message=message,
                representative_text=message,
                normalized_text=message.lower(),
                occurrences=occurrences,
                member_fingerprints=(fingerprint,),
                error_ids=tuple(stable_id(fingerprint, i) for i in range(occurrences)),
                affected_job_ids=(rng.randint(10_000, 99_999),),
                affected_run_ids=(rng.randint(1_000, 9_999),),
                test_names=(),
                source_kinds=("gha_log",),
                repos=("acme/widgets",),
                workflow_names=("ci",),
                job_names=("build",),
                step_names=("Run tests",),
                first_seen=iso(hour),
                last_seen=iso(hour + timedelta(minutes=50)),
                is_new=fingerprint not in seen,
                normalizer_version=normalizer_version,
            )
            seen.add(fingerprint)
            verdict = Classification(
                fingerprint=fingerprint,
                partition=partition,
                category=category,
                confidence=round(rng.uniform(0.5, 0.99), 2),
                root_cause_summary=f"summary of {message}",
                evidence_line=message,
                classifier=classifier,
                prompt_version=prompt_version if llm else "",
                rules_version=rules_version,
                normalizer_version=normalizer_version,
                input_tokens=900 if llm else 0,
                output_tokens=120 if llm else 0,
                cache_read_tokens=700 if llm else 0,
                cost_usd=0.0042 if llm else 0.0,
                classified_at=iso(hour + timedelta(minutes=55)),
            )
            docs.append(build_document(cluster, verdict))
    return docs
