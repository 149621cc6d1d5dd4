"""Stage 2: error occurrences extracted from each job's raw material."""

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
    EXTRACTED_ERRORS_CHECKS,
    JOBS_ACCOUNTED_FOR,
    check_result,
    job_coverage,
)
from error_assets.models import CIJob, ErrorOccurrence
from error_assets.partitions import backfill_policy, hourly_partitions
from error_assets.resources import ClassifierResource, HomeResource


@dg.asset(
    partitions_def=hourly_partitions,
    backfill_policy=backfill_policy,
    group_name="extract",
    kinds={"python", "pandas"},
    io_manager_key="records_io_manager",
    metadata={"dagster/column_schema": column_schema(ErrorOccurrence)},
    check_specs=EXTRACTED_ERRORS_CHECKS,
)
def extracted_errors(
    context: dg.AssetExecutionContext,
    raw_ci_jobs,
    home: HomeResource,
    classifier: ClassifierResource,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """One row per error occurrence: JUnit failures, `##[error]` lines, pytest, cargo, BuildKit,
    Go, Jest, Maven/Gradle, make/gcc and check-run annotations, ranked cause -> symptom ->
    wrapper within each job, secrets redacted, fingerprinted with the normaliser's version.
    An unreadable file is reported here and skipped; the job's other files still count."""
    from error_assets.extraction import extract_job
    from error_assets.fingerprinting import NORMALIZER_VERSION, occurrence_fingerprints

    raw_store = home.raw_store()
    occurrences: list[ErrorOccurrence] = []
    problems = []
    no_error_jobs = []
    jobs_in = frame_records(raw_ci_jobs, CIJob)
    for job in jobs_in:
        result = extract_job(job, raw_store, max_text_chars=classifier.max_error_length)
        occurrences.extend(result.occurrences)
        problems.extend(result.problems)
        if not result.occurrences:
            no_error_jobs.append(job.key)
    for problem in problems:
        context.log.warning(f"could not fully read {problem.path}: {problem.reason}")
    frame = records_frame(occurrences, ErrorOccurrence)
    # Straight into the columns: no fingerprinted copy of every record.
    frame["fingerprint"] = occurrence_fingerprints(occurrences)
    frame["normalizer_version"] = NORMALIZER_VERSION
    jobs = len(raw_ci_jobs)
    metadata = {
        "occurrences": len(frame),
        "jobs": jobs,
        "jobs_without_errors": len(no_error_jobs),
        "no_error_share": round(len(no_error_jobs) / jobs, 4) if jobs else 0.0,
        "problems": len(problems),
        "by_source_kind": counts_md(Counter(o.source_kind for o in occurrences), ("kind", "n")),
        "preview": preview(frame, ["partition", "job_name", "source_kind", "role", "message"]),
        "dagster/row_count": len(frame),
    }
    if no_error_jobs:
        metadata["no_error_found"] = dg.MetadataValue.json(no_error_jobs[:200])
    if problems:
        metadata["problem_items"] = dg.MetadataValue.md(
            "\n".join(f"- `{p.path}`: {p.reason}" for p in problems[:50])
        )
    yield dg.Output(frame, metadata=metadata)
    with_errors = {f"{o.repo}/{o.run_id}/{o.run_attempt}/{o.job_id}" for o in occurrences}
    yield check_result(
        JOBS_ACCOUNTED_FOR, job_coverage([j.key for j in jobs_in], with_errors, no_error_jobs)
    )
