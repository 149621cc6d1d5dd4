"""Limits and failures: rate limits honoured, 5xx retried, nothing lost when a run stops early."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.github.scenario import HOUR, expected_keys, job, make_source, run
from tests.support.fake_github import (
    PRIMARY_MESSAGE,
    SECONDARY_MESSAGE,
    FakeArtifact,
    FakeGitHub,
    junit_xml,
    make_zip,
)

END = HOUR + timedelta(hours=1)


def _hour_of_failures(fake: FakeGitHub, runs: int = 8) -> None:
    for i in range(runs):
        report = make_zip({"junit.xml": junit_xml(f"suite{i}", {"t": "boom"})})
        run(
            fake,
            HOUR + timedelta(minutes=i * 5),
            [
                job("unit", "failure", HOUR + timedelta(minutes=i * 5 + 3)),
                job("lint", "failure", HOUR + timedelta(minutes=i * 5 + 4)),
                job("docs", "success", HOUR + timedelta(minutes=i * 5 + 2)),
            ],
            artifacts=[
                FakeArtifact(
                    70_000 + i, "test-results", report, HOUR + timedelta(minutes=i * 5 + 3)
                )
            ],
        )


def _statuses(fake: FakeGitHub, pattern: str) -> list[int]:
    import re

    return [status for path, status in fake.requests if re.search(pattern, path)]


def test_secondary_limit_is_waited_out_with_retry_after(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    _hour_of_failures(fake_github, runs=2)
    fake_github.fail(
        r"/check-runs/\d+/annotations", 403, times=1, retry_after=1, message=SECONDARY_MESSAGE
    )
    fake_github.fail(
        r"/actions/jobs/\d+/logs", 429, times=1, retry_after=1, message=SECONDARY_MESSAGE
    )

    result = make_source(fake_github, tmp_path / "raw").failed_jobs(HOUR, END)

    assert {j.key for j in result.jobs} == expected_keys(fake_github, HOUR, END)
    assert all(j.missing == () for j in result.jobs)
    assert not result.incomplete and not result.problems
    assert 403 in _statuses(fake_github, "/annotations") and 429 in _statuses(fake_github, "/logs$")


def test_server_errors_are_retried_with_backoff(fake_github: FakeGitHub, tmp_path: Path) -> None:
    _hour_of_failures(fake_github, runs=3)
    fake_github.fail(r"/actions/runs\?", 502, times=2)
    fake_github.fail(r"/jobs\?filter=all", 503, times=3)
    fake_github.fail(r"^/_blobs/logs/", 500, times=2)
    fake_github.fail(r"/artifacts/\d+/zip", 504, times=1)

    result = make_source(fake_github, tmp_path / "raw").failed_jobs(HOUR, END)

    assert {j.key for j in result.jobs} == expected_keys(fake_github, HOUR, END)
    assert all(j.log_ref and j.junit_refs for j in result.jobs)
    assert not result.incomplete and not result.problems
    assert _statuses(fake_github, r"/actions/runs\?").count(502) == 2


def test_primary_limit_below_floor_stops_cleanly_and_the_next_run_resumes(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    _hour_of_failures(fake_github)
    fake_github.set_rate_limit(remaining=62, reset_in=3600)
    source = make_source(fake_github, tmp_path / "raw", rate_limit_floor=50)

    first = source.failed_jobs(HOUR, END)

    assert first.incomplete
    assert any("rate limit" in p.reason for p in first.problems)
    assert len(first.jobs) < len(expected_keys(fake_github, HOUR, END))
    # Stopped at the floor: the quota was never driven into the ground.
    assert 403 not in _statuses(fake_github, "")
    assert first.stats["rate_limit_remaining"] >= 50 - source.max_workers
    first_blobs = set(fake_github.blob_requests())

    fake_github.set_rate_limit(remaining=5000, reset_in=3600)
    second = source.failed_jobs(HOUR, END)

    assert not second.incomplete
    assert {j.key for j in second.jobs} == expected_keys(fake_github, HOUR, END)
    later_blobs = fake_github.blob_requests()[len(first_blobs) :]
    assert first_blobs.isdisjoint(later_blobs), (
        "something fetched before the stop was fetched again"
    )


def test_primary_limit_resetting_soon_is_waited_for(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    _hour_of_failures(fake_github, runs=2)
    fake_github.set_rate_limit(remaining=55, reset_in=1.5)
    source = make_source(fake_github, tmp_path / "raw", rate_limit_floor=50, max_rate_limit_wait=10)

    result = source.failed_jobs(HOUR, END)

    assert not result.incomplete
    assert {j.key for j in result.jobs} == expected_keys(fake_github, HOUR, END)
    assert result.stats["rate_limit_waits"] >= 1
    assert 403 not in _statuses(fake_github, "")


def test_exhausted_quota_answered_with_403_stops_cleanly(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    _hour_of_failures(fake_github)
    fake_github.set_rate_limit(remaining=6, reset_in=3600)
    source = make_source(fake_github, tmp_path / "raw", rate_limit_floor=0)

    result = source.failed_jobs(HOUR, END)

    assert result.incomplete
    assert 403 in _statuses(fake_github, "")
    assert any("rate limit" in p.reason.lower() for p in result.problems)
    assert not any(PRIMARY_MESSAGE in p.path for p in result.problems)


def test_failure_mid_listing_loses_nothing_on_the_rerun(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    _hour_of_failures(fake_github, runs=12)  # 3 pages of runs at per_page=5
    fake_github.fail(r"/actions/runs\?.*page=2", 502, times=100)
    source = make_source(fake_github, tmp_path / "raw", retries=2)

    first = source.failed_jobs(HOUR, END)

    assert first.incomplete
    assert any("listing failed" in p.reason for p in first.problems)
    assert 0 < len(first.jobs) < len(expected_keys(fake_github, HOUR, END))
    first_blobs = set(fake_github.blob_requests())

    fake_github.faults.clear()
    second = source.failed_jobs(HOUR, END)

    assert not second.incomplete and not second.problems
    keys = [j.key for j in second.jobs]
    assert len(keys) == len(set(keys))
    assert set(keys) == expected_keys(fake_github, HOUR, END)
    assert set(j.key for j in first.jobs) <= set(keys)
    assert first_blobs.isdisjoint(fake_github.blob_requests()[len(first_blobs) :])


def test_one_unreadable_run_does_not_sink_the_others(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    _hour_of_failures(fake_github, runs=3)
    broken = fake_github.repos["octo-org/app"][1]
    fake_github.fail(rf"/runs/{broken.id}/jobs", 500, times=100)

    result = make_source(fake_github, tmp_path / "raw", retries=1).failed_jobs(HOUR, END)

    assert result.incomplete
    assert [p.path for p in result.problems] == [f"octo-org/app/actions/runs/{broken.id}/jobs"]
    assert {j.run_id for j in result.jobs} == {r.id for r in fake_github.repos["octo-org/app"]} - {
        broken.id
    }
