"""Builders of GitHub Actions histories for the fake server, and the source under test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from error_assets.sources.base import FAILED_CONCLUSIONS
from error_assets.sources.github_source import GitHubSource
from error_assets.sources.raw_store import RawStore
from tests.support.fake_github import TOKEN, FakeArtifact, FakeGitHub, FakeJob, FakeRun

HOUR = datetime(2026, 11, 28, 10, tzinfo=UTC)
REPO = "octo-org/app"

_ids = itertools.count(10_000)


def next_id() -> int:
    return next(_ids)


def job(
    name: str,
    conclusion: str,
    completed: datetime | None,
    *,
    attempt: int = 1,
    started: datetime | None = None,
    log: bytes | None = None,
    log_status: int = 200,
    annotations: list[dict] | None = None,
) -> FakeJob:
    """A job; a failed one has a failing step, a log that says why and one annotation."""
    job_id = next_id()
    failed = conclusion in FAILED_CONCLUSIONS
    start = started or ((completed or HOUR) - timedelta(minutes=7))
    steps = [("Set up job", "success"), ("Checkout", "success")]
    steps.append(("Run tests", conclusion if failed else "success"))
    steps.append(("Post checkout", "skipped" if failed else "success"))
    default_log = (
        f"2026-11-28T10:00:00.0000000Z ##[group]Run pytest\n"
        f"2026-11-28T10:00:01.0000000Z E   AssertionError: job {job_id} broke\n"
        f"2026-11-28T10:00:02.0000000Z ##[error]Process completed with exit code 1.\n"
    ).encode()
    notes = annotations
    if notes is None and failed:
        notes = [
            {
                "path": ".github",
                "start_line": 1,
                "end_line": 1,
                "start_column": None,
                "end_column": None,
                "annotation_level": "failure",
                "title": "",
                "message": f"Process completed with exit code 1 (job {job_id}).",
                "raw_details": "",
                "blob_href": "https://github.com/o/r/blob/x/.github",
            }
        ]
    return FakeJob(
        job_id,
        name,
        conclusion,
        start,
        completed,
        run_attempt=attempt,
        steps=steps,
        log=default_log if log is None else log,
        log_status=log_status,
        annotations=notes or [],
    )


def run(
    fake: FakeGitHub,
    created: datetime,
    jobs: list[FakeJob],
    *,
    repo: str = REPO,
    artifacts: list[FakeArtifact] | None = None,
    **extra: object,
) -> FakeRun:
    return fake.add_run(
        repo, FakeRun(next_id(), created, jobs=jobs, artifacts=artifacts or [], **extra)
    )


def expected_keys(
    fake: FakeGitHub, start: datetime, end: datetime, lookback: timedelta = timedelta(hours=6)
) -> set[str]:
    """What the source must find, computed from the fake's data by the issue's rule."""
    keys = set()
    for repo, runs in fake.repos.items():
        for r in runs:
            if not (start - lookback <= r.created_at < end):
                continue
            for j in r.jobs:
                if (
                    j.conclusion in FAILED_CONCLUSIONS
                    and j.completed_at is not None
                    and start <= j.completed_at < end
                ):
                    keys.add(f"{repo}/{r.id}/{j.run_attempt}/{j.id}")
    return keys


def make_source(
    fake: FakeGitHub, root: Path, repos: tuple[str, ...] = (REPO,), **options: object
) -> GitHubSource:
    settings: dict[str, object] = {"per_page": 5, "retry_backoff": 0.01, "max_workers": 4}
    settings.update(options)
    return GitHubSource(
        TOKEN,
        repos,
        RawStore(root),
        base_url=fake.url,
        **settings,  # type: ignore[arg-type]
    )
