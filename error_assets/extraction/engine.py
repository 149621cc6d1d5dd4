"""From files to ranked ErrorOccurrences: one file (`extract_file`), one job, a list of paths."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from error_assets.extraction.annotations import read_annotations
from error_assets.extraction.detection import UnreadableFile, read_head, sniff
from error_assets.extraction.findings import Finding
from error_assets.extraction.junit import file_too_large, read_junit
from error_assets.extraction.log_scanner import LogScanner
from error_assets.extraction.prefilter import Prefilter
from error_assets.extraction.ranking import rank_findings
from error_assets.models import CIJob, ErrorOccurrence, ExtractionProblem, JobExtraction, stable_id
from error_assets.redaction import redact
from error_assets.sources.raw_store import RawStore, RawStoreError


@dataclass(slots=True)
class FileExtraction:
    """What one file gave: findings (unranked), problems (reasons), failed GitHub steps."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failing_steps: set[str] = field(default_factory=set)


_PREFILTER: Prefilter | None = None


def _prefilter() -> Prefilter:
    global _PREFILTER  # compiled once per process: the DFA is the expensive part
    if _PREFILTER is None:
        _PREFILTER = Prefilter()
    return _PREFILTER


def extract_file(
    path: Path,
    kind: str = "auto",
    *,
    source_path: str | None = None,
    max_text_chars: int = 10_000,
    prefilter: Prefilter | None = None,
) -> FileExtraction:
    """Every error in one file; whatever goes wrong becomes a problem, never an exception."""
    label = source_path if source_path is not None else str(path)
    result = FileExtraction()
    try:
        sniffed = sniff(path, kind)
    except UnreadableFile as error:
        result.problems.append(str(error))
        return result
    except OSError as error:
        result.problems.append(f"cannot read: {error.strerror or error}")
        return result
    opener = gzip.open if sniffed.gzipped else open
    try:
        if sniffed.kind == "junit":
            too_large = file_too_large(path)
            if too_large:
                result.problems.append(too_large)
                return result
            with opener(path, "rb") as stream:
                report = read_junit(
                    stream,
                    label,
                    head=read_head(path, sniffed.gzipped),
                    max_text_chars=max_text_chars,
                )
            result.findings.extend(report.findings)
            result.problems.extend(report.problems)
        elif sniffed.kind == "annotations":
            with opener(path, "rb") as stream:
                notes = read_annotations(stream, label, max_text_chars=max_text_chars)
            result.findings.extend(notes.findings)
            result.problems.extend(notes.problems)
        else:
            _extract_log(
                path, sniffed.kind, sniffed.gzipped, label, max_text_chars, prefilter, result
            )
    except OSError as error:
        result.problems.append(f"cannot read: {error.strerror or error}")
    return result


def _extract_log(
    path: Path,
    kind: str,
    gzipped: bool,
    label: str,
    max_text_chars: int,
    prefilter: Prefilter | None,
    result: FileExtraction,
) -> None:
    scanner = LogScanner(
        label, kind, prefilter=prefilter or _prefilter(), max_text_chars=max_text_chars
    )
    head = read_head(path, gzipped)
    bad_offset = _invalid_utf8_offset(head)
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rb") as stream:
            scan = scanner.scan(stream)
    except (EOFError, gzip.BadGzipFile) as error:
        scan = scanner.result
        result.problems.append(
            f"corrupt gzip data after {scan.bytes} bytes ({error}); kept what was read"
        )
    result.findings.extend(scan.findings)
    result.failing_steps |= scan.failing_steps
    if scan.truncated_lines:
        lines = scan.truncated_lines
        result.problems.append(
            f"{len(lines)} line{'s' if len(lines) > 1 else ''} longer than "
            f"{scanner.max_line_bytes >> 20} MiB (first: line {lines[0]}); only the first MiB of each was read"
        )
    if bad_offset is not None:
        result.problems.append(
            f"not valid UTF-8 (first bad byte at offset {bad_offset}); read with replacement characters"
        )
    elif scan.invalid_utf8_line is not None:
        result.problems.append(
            f"not valid UTF-8 (line {scan.invalid_utf8_line}); read with replacement characters"
        )


def _invalid_utf8_offset(head: bytes) -> int | None:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(head) - 3 and error.reason == "unexpected end of data":
            return None  # a character cut by the end of the sample
        return error.start
    return None


def occurrences_for(
    job: CIJob,
    findings: list[Finding],
    failing_steps: set[str],
    *,
    max_per_job: int,
    max_text_chars: int,
) -> list[ErrorOccurrence]:
    """Rank a job's findings and turn the kept ones into records (redacted, bounded)."""
    ranked = rank_findings(findings, failing_steps, max_per_job)
    occurrences = []
    for rank, finding in enumerate(ranked):
        occurrences.append(
            ErrorOccurrence(
                error_id=stable_error_id(job, finding),
                partition=job.partition,
                repo=job.repo,
                workflow_name=job.workflow_name,
                run_id=job.run_id,
                run_attempt=job.run_attempt,
                job_id=job.job_id,
                job_name=job.job_name,
                step_name=finding.step_name,
                source_kind=finding.source_kind,
                framework=finding.framework,
                test_name=finding.test_name,
                file=finding.file,
                line=finding.line,
                message=redact(finding.message),
                text=redact(finding.text)[:max_text_chars],
                role=finding.role,
                rank=rank,
                fingerprint="",
                normalizer_version="",
                source_path=finding.source_path,
            )
        )
    return occurrences


def stable_error_id(job: CIJob, finding: Finding) -> str:
    """Deterministic: the job, the file, and where in it the error is."""
    return stable_id(job.key, finding.source_path, finding.origin, finding.position, finding.rule)


def job_files(job: CIJob) -> list[tuple[str, str]]:
    """(reference, kind) of every file of a job, in reading order."""
    files: list[tuple[str, str]] = []
    if job.log_ref:
        files.append((job.log_ref, "auto"))
    files.extend((ref, "buildkit") for ref in job.buildkit_refs)
    files.extend((ref, "junit") for ref in job.junit_refs)
    if job.annotations_ref:
        files.append((job.annotations_ref, "annotations"))
    return files


def extract_job(
    job: CIJob, raw_store: RawStore, *, max_per_job: int = 20, max_text_chars: int = 10_000
) -> JobExtraction:
    """All error occurrences of one job, ranked cause → symptom → wrapper (see the package doc)."""
    findings: list[Finding] = []
    failing_steps: set[str] = set()
    problems: list[ExtractionProblem] = []
    for ref, kind in job_files(job):
        try:
            path = raw_store.path(ref)
        except RawStoreError as error:
            problems.append(ExtractionProblem(ref, str(error), job.key))
            continue
        result = extract_file(path, kind, source_path=ref, max_text_chars=max_text_chars)
        findings.extend(result.findings)
        failing_steps |= result.failing_steps
        problems.extend(ExtractionProblem(ref, reason, job.key) for reason in result.problems)
    occurrences = occurrences_for(
        job, findings, failing_steps, max_per_job=max_per_job, max_text_chars=max_text_chars
    )
    return JobExtraction(occurrences=occurrences, problems=problems)


def file_job(path: Path) -> CIJob:
    """The stand-in job of a file given on the command line."""
    return CIJob(
        repo="",
        workflow_name="",
        run_id=0,
        run_attempt=0,
        job_id=0,
        job_name=path.name,
        conclusion="failure",
        started_at=None,
        completed_at="",
    )


def extract_paths(
    paths: Iterable[Path],
    kind: str = "auto",
    *,
    max_per_job: int = 20,
    max_text_chars: int = 10_000,
) -> Iterator[ErrorOccurrence | ExtractionProblem]:
    """For the CLI: each path is one job's only file; its occurrences in rank order, then its problems."""
    for path in paths:
        path = Path(path)
        result = extract_file(path, kind, max_text_chars=max_text_chars)
        yield from occurrences_for(
            file_job(path),
            result.findings,
            result.failing_steps,
            max_per_job=max_per_job,
            max_text_chars=max_text_chars,
        )
        for reason in result.problems:
            yield ExtractionProblem(str(path), reason)
