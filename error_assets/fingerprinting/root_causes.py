"""Which occurrences are clustered: the root cause of each failed job.

Extraction keeps every error of a job, ranked cause -> symptom -> wrapper. A job is explained
by its top-ranked occurrence; its symptoms and wrappers ("make: *** Error 1", "Process
completed with exit code 1.") and the same failure reported again in another format (the
pytest summary line beside the JUnit failure) stay in `extracted_errors` for drill-down but do
not make clusters of their own, so a cluster's count is the number of jobs it broke.
"""

from __future__ import annotations

from collections.abc import Iterable

from error_assets.models import ErrorOccurrence


def job_root_causes(occurrences: Iterable[ErrorOccurrence]) -> list[ErrorOccurrence]:
    """The top-ranked occurrence of each job (ties broken by error id), in a stable order."""
    best: dict[tuple[str, int, int, int], ErrorOccurrence] = {}
    for occurrence in occurrences:
        key = (occurrence.repo, occurrence.run_id, occurrence.run_attempt, occurrence.job_id)
        current = best.get(key)
        if current is None or (occurrence.rank, occurrence.error_id) < (
            current.rank,
            current.error_id,
        ):
            best[key] = occurrence
    return sorted(best.values(), key=lambda o: (o.partition, o.error_id))
