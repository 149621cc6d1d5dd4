"""`error-assets analyze`: a markdown report on the failed jobs of the last N hours ("phase 0").

Reads the failed jobs from GitHub Actions when `GITHUB_TOKEN` and `REPO` are set, else from the
local archive; extracts their errors, clusters them hour by hour exactly as the pipeline does,
classifies the clusters offline (human labels, rules, the offline model: no LLM, no store) and
writes a report: counts per category, the top clusters with examples, what could not be
classified, and a verdict on whether the tool covers these failures well enough to deploy.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from error_assets.stores.documents import iso, partition_key

if TYPE_CHECKING:
    from error_assets.models import CIJob, Classification, Cluster, ErrorOccurrence
    from error_assets.settings import Settings

# A verdict below this confidence counts as "could not be classified".
DEFAULT_MIN_CONFIDENCE = 0.6
NO_ERROR = "no error found"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hours", type=_positive_int, default=24, help="look back this many hours (default 24)"
    )
    parser.add_argument("--output", default="-", help="markdown file to write (default: stdout)")
    parser.add_argument(
        "--until",
        help="end of the window, ISO-8601 UTC (default: now), e.g. 2026-11-28T12:00:00Z",
    )
    parser.add_argument(
        "--top", type=_positive_int, default=15, help="clusters to show (default 15)"
    )
    parser.add_argument(
        "--max-per-job", type=_positive_int, default=20, help="errors kept per job (default 20)"
    )
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=DEFAULT_MIN_CONFIDENCE,
        help=f"below this a verdict counts as unclassified (default {DEFAULT_MIN_CONFIDENCE})",
    )


def run(args: argparse.Namespace) -> int:
    import os

    from error_assets.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(os.environ)
        end = _parse_until(args.until) if args.until else datetime.now(UTC)
    except (SettingsError, ValueError) as exc:
        print(f"error-assets analyze: {exc}", file=sys.stderr)
        return 2
    start = end - timedelta(hours=args.hours)
    print(f"reading failed jobs {iso(start)} .. {iso(end)} ...", file=sys.stderr)
    analysis = analyze(settings, start, end, max_per_job=args.max_per_job)
    report = render_report(analysis, top=args.top, min_confidence=args.min_confidence)
    if args.output == "-":
        sys.stdout.write(report)
    else:
        try:
            Path(args.output).write_text(report, encoding="utf-8")
        except OSError as exc:
            print(f"error-assets analyze: cannot write {args.output}: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.output}", file=sys.stderr)
    verdict = coverage(analysis, args.min_confidence)
    print(
        f"{len(analysis.jobs)} failed jobs, {len(analysis.clusters)} clusters; "
        f"verdict: {verdict.verdict}",
        file=sys.stderr,
    )
    return 0


# --------------------------------------------------------------------------- analysis


@dataclass(slots=True)
class ClusterView:
    """One cluster over the whole window (merged across its hours)."""

    cluster: Cluster
    occurrences: int = 0
    job_keys: set[str] = field(default_factory=set)
    partitions: set[str] = field(default_factory=set)
    repos: set[str] = field(default_factory=set)
    example: ErrorOccurrence | None = None


@dataclass(slots=True)
class Analysis:
    source: str
    repos: tuple[str, ...]
    start: datetime
    end: datetime
    jobs: list[CIJob]
    clusters: list[ClusterView]
    classifications: dict[str, Classification]
    # job key -> cluster id of the job's most likely cause (absent: nothing extracted)
    job_cause: dict[str, str]
    source_problems: list[str] = field(default_factory=list)
    extraction_problems: list[str] = field(default_factory=list)
    source_stats: dict[str, Any] = field(default_factory=dict)
    incomplete: bool = False
    classifier_stats: dict[str, Any] = field(default_factory=dict)


def analyze(
    settings: Settings, start: datetime, end: datetime, *, max_per_job: int = 20
) -> Analysis:
    """Read, extract, cluster (per hour, with history, as the pipeline does) and classify."""
    from error_assets.classification import ClassifierConfig, build_classifier
    from error_assets.extraction import extract_job
    from error_assets.fingerprinting import (
        build_clusters,
        fingerprint_occurrences,
        remember_clusters,
    )
    from error_assets.models import ROLE_ORDER
    from error_assets.sources import open_source
    from error_assets.sources.raw_store import RawStore

    raw_store = RawStore(settings.raw_store_dir)
    source = open_source(settings, raw_store)
    result = source.failed_jobs(start, end)

    occurrences_by_partition: dict[str, list[ErrorOccurrence]] = defaultdict(list)
    extraction_problems: list[str] = []
    for job in result.jobs:
        try:
            extraction = extract_job(
                job, raw_store, max_per_job=max_per_job, max_text_chars=settings.max_error_length
            )
        except Exception as exc:  # one unreadable job never sinks the report
            extraction_problems.append(f"{job.key}: {type(exc).__name__}: {exc}")
            continue
        extraction_problems += [f"{p.path}: {p.reason}" for p in extraction.problems]
        occurrences_by_partition[
            partition_key(datetime.fromisoformat(job.completed_at.replace("Z", "+00:00")))
        ] += extraction.occurrences

    history: dict[str, Any] = {}
    views: dict[str, ClusterView] = {}
    error_cluster: dict[str, str] = {}
    occurrences: list[ErrorOccurrence] = []
    for partition in sorted(occurrences_by_partition):
        fingerprinted = fingerprint_occurrences(occurrences_by_partition[partition])
        occurrences += fingerprinted
        clusters = build_clusters(fingerprinted, partition, history)
        remember_clusters(history, clusters)
        for cluster in clusters:
            view = views.setdefault(cluster.fingerprint, ClusterView(cluster))
            view.occurrences += cluster.occurrences
            view.partitions.add(cluster.partition)
            view.repos.update(cluster.repos)
            for error_id in cluster.error_ids:
                error_cluster[error_id] = cluster.fingerprint

    job_cause: dict[str, str] = {}
    best_rank: dict[str, tuple[int, int]] = {}
    for occurrence in occurrences:
        cluster_id = error_cluster.get(occurrence.error_id)
        if cluster_id is None:
            continue
        key = f"{occurrence.repo}/{occurrence.run_id}/{occurrence.run_attempt}/{occurrence.job_id}"
        view = views[cluster_id]
        view.job_keys.add(key)
        if view.example is None or occurrence.rank < view.example.rank:
            view.example = occurrence
        order = (ROLE_ORDER.get(occurrence.role, 3), occurrence.rank)
        if key not in best_rank or order < best_rank[key]:
            best_rank[key] = order
            job_cause[key] = cluster_id

    ordered = sorted(
        views.values(), key=lambda v: (-len(v.job_keys), -v.occurrences, v.cluster.fingerprint)
    )
    classifications: dict[str, Classification] = {}
    classifier_stats: dict[str, Any] = {}
    if ordered:
        config = ClassifierConfig.from_settings(settings, offline=True)
        verdicts = build_classifier(config, store=None).classify_clusters(
            [v.cluster for v in ordered]
        )
        classifications = {c.fingerprint: c for c in verdicts.classifications}
        classifier_stats = dict(verdicts.stats)

    return Analysis(
        source=source.name,
        repos=tuple(settings.repos) if settings.github_enabled else (),
        start=start,
        end=end,
        jobs=list(result.jobs),
        clusters=ordered,
        classifications=classifications,
        job_cause=job_cause,
        source_problems=[f"{p.path}: {p.reason}" for p in result.problems],
        extraction_problems=extraction_problems,
        source_stats=dict(result.stats),
        incomplete=result.incomplete,
        classifier_stats=classifier_stats,
    )


# --------------------------------------------------------------------------- verdict


@dataclass(frozen=True, slots=True)
class Coverage:
    jobs: int
    jobs_with_errors: int
    jobs_confident: int
    verdict: str
    reasons: tuple[str, ...]

    @property
    def extracted_share(self) -> float:
        return self.jobs_with_errors / self.jobs if self.jobs else 0.0

    @property
    def confident_share(self) -> float:
        return self.jobs_confident / self.jobs if self.jobs else 0.0


def coverage(analysis: Analysis, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> Coverage:
    """How much of the window the tool explains: errors found, and confidently classified."""
    jobs = len(analysis.jobs)
    with_errors = sum(1 for j in analysis.jobs if j.key in analysis.job_cause)
    confident = 0
    for job in analysis.jobs:
        verdict = analysis.classifications.get(analysis.job_cause.get(job.key, ""))
        if verdict is not None and verdict.confidence >= min_confidence:
            confident += 1
    reasons: list[str] = []
    if jobs == 0:
        return Coverage(0, 0, 0, "no data", ("no failed job in the window",))
    extracted = with_errors / jobs
    confident_share = confident / jobs
    if analysis.incomplete:
        reasons.append("the source stopped early (rate limit or errors): the window is incomplete")
    if extracted < 0.9:
        reasons.append(f"no error extracted for {jobs - with_errors} of {jobs} failed jobs")
    if confident_share < 0.8:
        reasons.append(
            f"{jobs - confident} of {jobs} jobs lack a confident verdict (< {min_confidence:.2f})"
        )
    if extracted >= 0.9 and confident_share >= 0.8 and not analysis.incomplete:
        verdict = "good: ready to run hourly"
    elif extracted >= 0.7 and confident_share >= 0.6:
        verdict = "partial: usable, with the gaps below"
    else:
        verdict = "poor: look at the gaps before relying on it"
    return Coverage(jobs, with_errors, confident, verdict, tuple(reasons))


# --------------------------------------------------------------------------- report


def render_report(
    analysis: Analysis, *, top: int = 15, min_confidence: float = DEFAULT_MIN_CONFIDENCE
) -> str:
    """The markdown report."""
    from error_assets.taxonomy import CATEGORY_NAMES

    jobs = analysis.jobs
    jobs_by_key = {j.key: j for j in jobs}
    cover = coverage(analysis, min_confidence)
    lines: list[str] = []
    add = lines.append
    hours = (analysis.end - analysis.start).total_seconds() / 3600
    where = ", ".join(analysis.repos) if analysis.repos else "the local archive"
    add(f"# Failed CI jobs: {hours:g} hours of {where}")
    add("")
    add(
        f"Window {iso(analysis.start)} .. {iso(analysis.end)} · source `{analysis.source}` · "
        f"generated {iso(datetime.now(UTC))} · offline classification (no LLM)"
    )
    add("")
    add(
        f"**Verdict: {cover.verdict}.** Errors were extracted for {cover.jobs_with_errors} of "
        f"{cover.jobs} failed jobs ({cover.extracted_share:.0%}); {cover.jobs_confident} "
        f"({cover.confident_share:.0%}) have a verdict with confidence ≥ {min_confidence:.2f}."
    )
    for reason in cover.reasons:
        add(f"- {reason}")
    add("")

    add("## Counts per category")
    add("")
    category_jobs: Counter[str] = Counter()
    for job in jobs:
        verdict = analysis.classifications.get(analysis.job_cause.get(job.key, ""))
        category_jobs[verdict.category if verdict else NO_ERROR] += 1
    category_clusters: Counter[str] = Counter()
    category_occurrences: Counter[str] = Counter()
    for view in analysis.clusters:
        verdict = analysis.classifications.get(view.cluster.fingerprint)
        name = verdict.category if verdict else "unclassified"
        category_clusters[name] += 1
        category_occurrences[name] += view.occurrences
    add("| category | failed jobs (by cause) | clusters | occurrences |")
    add("|---|---:|---:|---:|")
    names = [
        *CATEGORY_NAMES,
        *sorted((set(category_jobs) | set(category_clusters)) - set(CATEGORY_NAMES)),
    ]
    for name in names:
        add(
            f"| {name} | {category_jobs[name]} | {category_clusters[name]} | {category_occurrences[name]} |"
        )
    add(
        f"| **total** | {len(jobs)} | {len(analysis.clusters)} | {sum(category_occurrences.values())} |"
    )
    add("")
    conclusions = Counter(j.conclusion for j in jobs)
    if conclusions:
        add("Conclusions: " + ", ".join(f"{k} {v}" for k, v in conclusions.most_common()) + ".")
    classifiers = Counter(_classifier_kind(c.classifier) for c in analysis.classifications.values())
    if classifiers:
        add("Verdicts by: " + ", ".join(f"{k} {v}" for k, v in classifiers.most_common()) + ".")
    add("")

    add(f"## Top clusters (of {len(analysis.clusters)})")
    add("")
    if not analysis.clusters:
        add("No error was extracted from any job.")
        add("")
    for index, view in enumerate(analysis.clusters[:top], start=1):
        cluster = view.cluster
        verdict = analysis.classifications.get(cluster.fingerprint)
        category = verdict.category if verdict else "unclassified"
        confidence = f"{verdict.confidence:.2f}" if verdict else "-"
        message = cluster.representative_message or cluster.representative_text
        title = verdict.evidence_line if verdict and verdict.evidence_line else message
        add(f"### {index}. {_one_line(title, 120)}")
        add("")
        add(
            f"- **{category}** (confidence {confidence}, by `{verdict.classifier if verdict else '-'}`)"
        )
        add(
            f"- {len(view.job_keys)} jobs, {view.occurrences} occurrences, "
            f"{len(view.partitions)} hour(s), source `{cluster.source_kind}`, cluster `{cluster.fingerprint}`"
        )
        if verdict and verdict.root_cause_summary:
            add(f"- Root cause: {_one_line(verdict.root_cause_summary, 300)}")
        if message and _one_line(title, 200) != _one_line(message, 200):
            add(f"- Message: `{_one_line(message, 200).replace('`', chr(39))}`")
        job_names = sorted({n for n in cluster.job_names})[:5]
        if job_names:
            add(f"- Jobs: {', '.join(f'`{_one_line(n, 60)}`' for n in job_names)}")
        example_job = jobs_by_key.get(_occurrence_key(view.example)) if view.example else None
        if example_job and example_job.html_url:
            add(f"- Example: [{example_job.job_name}]({example_job.html_url})")
        if view.example is not None:
            add("")
            add("```text")
            add(_excerpt(view.example.text or view.example.message))
            add("```")
        add("")

    add("## What could not be classified")
    add("")
    unsure = [
        v
        for v in analysis.clusters
        if (c := analysis.classifications.get(v.cluster.fingerprint)) is None
        or c.confidence < min_confidence
    ]
    if unsure:
        add(f"{len(unsure)} cluster(s) with no verdict or confidence below {min_confidence:.2f}:")
        add("")
        add("| jobs | verdict | confidence | message |")
        add("|---:|---|---:|---|")
        for view in unsure[:30]:
            verdict = analysis.classifications.get(view.cluster.fingerprint)
            add(
                f"| {len(view.job_keys)} | {verdict.category if verdict else '-'} | "
                f"{f'{verdict.confidence:.2f}' if verdict else '-'} | "
                f"{_cell(view.cluster.representative_message or view.cluster.representative_text)} |"
            )
        add("")
    else:
        add("Every cluster has a verdict at or above the confidence threshold.")
        add("")
    silent = [j for j in jobs if j.key not in analysis.job_cause]
    if silent:
        add(f"{len(silent)} failed job(s) where no error was extracted:")
        add("")
        add("| job | conclusion | failed step | missing |")
        add("|---|---|---|---|")
        for job in silent[:30]:
            name = (
                f"[{_cell(job.job_name)}]({job.html_url})" if job.html_url else _cell(job.job_name)
            )
            add(
                f"| {name} | {job.conclusion} | {_cell(job.failed_step) or '-'} | "
                f"{_cell('; '.join(job.missing)) or '-'} |"
            )
        add("")
    missing = Counter(
        m.split(":", 1)[0] + ": " + m.split(":", 1)[-1].strip() for j in jobs for m in j.missing
    )
    if missing:
        add(
            "Missing raw material: "
            + ", ".join(f"{k} ×{v}" for k, v in missing.most_common(10))
            + "."
        )
        add("")
    problems = analysis.source_problems + analysis.extraction_problems
    if problems:
        add(f"<details><summary>{len(problems)} problem(s) reading the source or files</summary>")
        add("")
        for problem in problems[:50]:
            add(f"- {_one_line(problem, 300)}")
        add("")
        add("</details>")
        add("")

    stats = {
        k: v
        for k, v in analysis.source_stats.items()
        if isinstance(v, (int, float, str)) and v != ""
    }
    if stats:
        add("## Source")
        add("")
        shown = (
            "api_calls",
            "api_calls_per_job",
            "rate_limit_remaining",
            "rate_limit_reset",
            "bytes",
            "logs_fetched",
            "logs_reused",
            "log_missing",
            "artifacts_downloaded",
            "junit_files",
            "runs_listed",
            "jobs_scanned",
            "elapsed_seconds",
        )
        add(", ".join(f"{k.replace('_', ' ')} {stats[k]}" for k in shown if k in stats) + ".")
        if analysis.incomplete:
            add("")
            add("**The source stopped early; rerun later to complete the window.**")
        add("")
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- helpers


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _parse_until(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--until: {text!r} is not an ISO-8601 time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _occurrence_key(occurrence: ErrorOccurrence | None) -> str:
    if occurrence is None:
        return ""
    return f"{occurrence.repo}/{occurrence.run_id}/{occurrence.run_attempt}/{occurrence.job_id}"


def _classifier_kind(classifier: str) -> str:
    from error_assets.models import classifier_kind

    return classifier_kind(classifier) if classifier else "-"


def _one_line(text: str, limit: int) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _cell(text: str) -> str:
    return _one_line(text, 160).replace("|", "\\|")


def _excerpt(text: str, max_lines: int = 14, max_chars: int = 1500) -> str:
    lines = (text or "").strip("\n").splitlines()[:max_lines]
    body = "\n".join(line[:200] for line in lines)[:max_chars]
    return body.replace("```", "'''")
