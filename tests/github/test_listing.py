"""Listing: every failed job of the window, across pages, attempts, repos and late finishes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from error_assets.sources.raw_store import RawStore
from tests.github.scenario import HOUR, REPO, expected_keys, job, make_source, run
from tests.support.fake_github import TOKEN, FakeArtifact, FakeGitHub, junit_xml, make_zip

END = HOUR + timedelta(hours=1)


def _busy_hour(fake: FakeGitHub) -> dict[str, int]:
    """Runs that exercise every listing rule; returns ids the tests refer to."""
    # A matrix run with more jobs than a page, every conclusion, and a second attempt.
    matrix = [
        job(f"test ({i})", c, HOUR + timedelta(minutes=10 + i))
        for i, c in enumerate(
            [
                *("failure", "success", "timed_out", "cancelled", "success", "startup_failure"),
                *("skipped", "failure", "success", "failure", "neutral", "failure"),
            ]
        )
    ]
    retried = [
        job("test (0)", "failure", HOUR + timedelta(minutes=40), attempt=2),
        job("test (2)", "success", HOUR + timedelta(minutes=41), attempt=2),
    ]
    matrix_run = run(fake, HOUR - timedelta(minutes=20), matrix + retried)
    # A first attempt that succeeded: cannot hold a failed job, must not be opened.
    green = run(
        fake, HOUR + timedelta(minutes=3), [job("build", "success", HOUR + timedelta(minutes=9))]
    )
    # Started 5 h before the window, failed inside it (within the 6 h look-back).
    long_run = run(
        fake, HOUR - timedelta(hours=5), [job("soak", "failure", HOUR + timedelta(minutes=30))]
    )
    # Edges: completed just before the window and exactly at its end (both excluded),
    # exactly at its start (included).
    run(fake, HOUR - timedelta(minutes=30), [job("lint", "failure", HOUR - timedelta(seconds=1))])
    run(fake, HOUR + timedelta(minutes=50), [job("lint", "failure", END)])
    run(fake, HOUR - timedelta(minutes=9), [job("lint", "failure", HOUR)])
    # Still running, one job already failed.
    running = run(
        fake,
        HOUR + timedelta(minutes=45),
        [job("unit", "failure", HOUR + timedelta(minutes=50)), job("e2e", "success", None)],
    )
    # Filler runs: several pages of runs at per_page=5.
    for i in range(14):
        run(
            fake,
            HOUR + timedelta(minutes=i * 3),
            [
                job("build", "success", HOUR + timedelta(minutes=i * 3 + 2)),
                job("test", "failure", HOUR + timedelta(minutes=i * 3 + 5)),
            ],
        )
    return {"matrix": matrix_run.id, "green": green.id, "long": long_run.id, "running": running.id}


def test_every_failed_job_is_found_across_pages_and_attempts(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    ids = _busy_hour(fake_github)
    source = make_source(fake_github, tmp_path / "raw")

    result = source.failed_jobs(HOUR, END)

    found = [j.key for j in result.jobs]
    assert len(found) == len(set(found)), "a job was returned twice"
    assert set(found) == expected_keys(fake_github, HOUR, END)
    assert not result.incomplete and not result.problems
    attempts = {j.run_attempt for j in result.jobs if j.run_id == ids["matrix"]}
    assert attempts == {1, 2}
    assert {j.conclusion for j in result.jobs} == {
        "failure",
        "timed_out",
        "cancelled",
        "startup_failure",
    }
    # Listings really were paginated, and the green run was never opened.
    assert any("page=2" in p for p in fake_github.api_requests(r"/actions/runs\?"))
    assert any("page=3" in p for p in fake_github.api_requests(rf"/runs/{ids['matrix']}/jobs"))
    assert not fake_github.api_requests(rf"/runs/{ids['green']}/")
    # The call count reported in the metadata is what the server saw.
    assert result.stats["api_calls"] == len(fake_github.api_requests())
    assert result.stats["jobs"] == len(result.jobs)


def test_late_jobs_land_in_the_partition_they_completed_in(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    # Created at 09:40, the job fails at 11:05: it belongs to 11:00, not to 09:00 or 10:00.
    late = run(
        fake_github,
        HOUR - timedelta(minutes=20),
        [job("slow", "failure", HOUR + timedelta(minutes=65))],
    )
    source = make_source(fake_github, tmp_path / "raw")

    earlier = source.failed_jobs(HOUR - timedelta(hours=1), HOUR)
    this_hour = source.failed_jobs(HOUR, END)
    next_hour = source.failed_jobs(END, END + timedelta(hours=1))

    assert earlier.jobs == [] and this_hour.jobs == []
    assert [(j.run_id, j.partition) for j in next_hour.jobs] == [(late.id, "2026-11-28-11:00")]
    assert next_hour.jobs[0].completed_at == "2026-11-28T11:05:00Z"


def test_a_ranged_window_assigns_each_job_its_own_hour(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    for minutes in (5, 65, 125):
        run(
            fake_github,
            HOUR + timedelta(minutes=minutes - 10),
            [job("t", "failure", HOUR + timedelta(minutes=minutes))],
        )
    result = make_source(fake_github, tmp_path / "raw").failed_jobs(HOUR, HOUR + timedelta(hours=3))
    assert [j.partition for j in result.jobs] == [
        "2026-11-28-10:00",
        "2026-11-28-11:00",
        "2026-11-28-12:00",
    ]


def test_job_record_is_filled_from_the_api_and_raw_store(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    failed = job("test (3.12, ubuntu)", "failure", HOUR + timedelta(minutes=20))
    report = junit_xml("pkg.test_math", {"test_add": "assert 1 + 1 == 3"})
    artifact = FakeArtifact(
        next_artifact(),
        "junit-3.12-ubuntu",
        make_zip({"out/junit.xml": report}),
        HOUR + timedelta(minutes=19),
    )
    r = run(fake_github, HOUR, [failed], artifacts=[artifact], pr_number=77, event="pull_request")
    store = RawStore(tmp_path / "raw")

    result = make_source(fake_github, tmp_path / "raw").failed_jobs(HOUR, END)

    (record,) = result.jobs
    assert (record.repo, record.run_id, record.job_id, record.run_attempt) == (
        REPO,
        r.id,
        failed.id,
        1,
    )
    assert record.workflow_name == "CI" and record.job_name == "test (3.12, ubuntu)"
    assert record.failed_step == "Run tests"
    assert record.pr_number == 77 and record.event == "pull_request"
    assert record.runner_labels == ("ubuntu-latest",) and record.runner_name == "GitHub Actions 7"
    assert record.head_branch == "feature/x" and record.head_sha == r.head_sha
    assert record.started_at == "2026-11-28T10:13:00Z"
    assert record.html_url.endswith(f"/job/{failed.id}")
    assert record.missing == ()
    assert store.path(record.log_ref).read_bytes() == failed.log
    assert json.loads(store.path(record.annotations_ref).read_text()) == failed.annotations
    assert [store.path(ref).read_bytes() for ref in record.junit_refs] == [report]
    manifest = json.loads(
        store.path(record.log_ref.replace("job.log", "manifest.json")).read_text()
    )
    assert manifest["sizes"][record.log_ref] == len(failed.log)
    assert manifest["job"]["job_id"] == failed.id


_artifact_ids = iter(range(90_000, 99_999))


def next_artifact() -> int:
    return next(_artifact_ids)


def test_matrix_artifacts_go_to_the_job_that_uploaded_them(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    jobs = [
        job(f"test ({v})", "failure", HOUR + timedelta(minutes=20 + i))
        for i, v in enumerate(["3.11", "3.12"])
    ]
    artifacts = [
        FakeArtifact(
            next_artifact(),
            f"test-results-{v}",
            make_zip({f"{v}.xml": junit_xml(v, {"t": v})}),
            HOUR + timedelta(minutes=19),
        )
        for v in ("3.11", "3.12")
    ]
    artifacts.append(
        FakeArtifact(
            next_artifact(),
            "coverage-html",
            make_zip({"index.xml": b"<x/>"}),
            HOUR + timedelta(minutes=19),
        )
    )
    run(fake_github, HOUR, jobs, artifacts=artifacts)

    result = make_source(fake_github, tmp_path / "raw").failed_jobs(HOUR, END)

    by_name = {j.job_name: j.junit_refs for j in result.jobs}
    assert [r.rsplit("/", 1)[-1] for r in by_name["test (3.11)"]] == ["3.11.xml"]
    assert [r.rsplit("/", 1)[-1] for r in by_name["test (3.12)"]] == ["3.12.xml"]
    # Not a test report: never downloaded.
    assert not fake_github.api_requests(rf"/artifacts/{artifacts[2].id}/zip")


def test_several_repositories(fake_github: FakeGitHub, tmp_path: Path) -> None:
    for repo in ("octo-org/app", "octo-org/lib"):
        run(fake_github, HOUR, [job("t", "failure", HOUR + timedelta(minutes=5))], repo=repo)
    result = make_source(
        fake_github, tmp_path / "raw", repos=("octo-org/app", "octo-org/lib")
    ).failed_jobs(HOUR, END)
    assert sorted(j.repo for j in result.jobs) == ["octo-org/app", "octo-org/lib"]


def test_listing_cap_is_split_until_nothing_is_cut_off(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.listing_cap = 6  # GitHub: 1,000 runs per filtered listing
    for i in range(20):
        run(
            fake_github,
            HOUR + timedelta(minutes=i * 2),
            [job("t", "failure", HOUR + timedelta(minutes=i * 2 + 1))],
        )
    source = make_source(fake_github, tmp_path / "raw", listing_cap=6)
    result = source.failed_jobs(HOUR, END)
    assert {j.key for j in result.jobs} == expected_keys(fake_github, HOUR, END)
    assert len(result.jobs) == 20
    assert result.stats["listing_splits"] >= 2


def test_reprocessing_never_downloads_again(fake_github: FakeGitHub, tmp_path: Path) -> None:
    ids = _busy_hour(fake_github)
    artifact = FakeArtifact(
        next_artifact(),
        "junit",
        make_zip({"r.xml": junit_xml("s", {"t": "x"})}),
        HOUR + timedelta(minutes=4),
    )
    run(fake_github, HOUR, [job("t", "failure", HOUR + timedelta(minutes=5))], artifacts=[artifact])
    source = make_source(fake_github, tmp_path / "raw")
    first = source.failed_jobs(HOUR, END)
    fake_github.reset_log()

    second = source.failed_jobs(HOUR, END)

    assert second.jobs == first.jobs
    assert fake_github.blob_requests() == []
    assert fake_github.api_requests(r"/logs$|/annotations|/zip$") == []
    # Only a run still in progress may have uploaded more artifacts since: listed again.
    listed = fake_github.api_requests(r"/artifacts\?")
    assert [p.split("/")[6] for p in listed] == [str(ids["running"])]
    assert second.stats["api_calls"] == len(fake_github.api_requests())


def test_expired_and_deleted_logs_are_recorded_not_fatal(
    fake_github: FakeGitHub, tmp_path: Path
) -> None:
    expired = job("old", "failure", HOUR + timedelta(minutes=5), log_status=410)
    deleted = job("gone", "failure", HOUR + timedelta(minutes=6), log_status=404)
    fine = job("fine", "failure", HOUR + timedelta(minutes=7))
    run(fake_github, HOUR, [expired, deleted, fine])
    source = make_source(fake_github, tmp_path / "raw")

    result = source.failed_jobs(HOUR, END)

    by_id = {j.job_id: j for j in result.jobs}
    assert (
        by_id[expired.id].missing == ("log: expired (410)",) and by_id[expired.id].log_ref is None
    )
    assert by_id[deleted.id].missing == ("log: not found (404)",)
    assert by_id[fine.id].missing == () and by_id[fine.id].log_ref
    assert by_id[expired.id].annotations_ref  # the rest of the job was still fetched
    assert result.stats["log_missing"] == 2 and not result.incomplete
    # Gone stays gone: a rerun does not ask again.
    fake_github.reset_log()
    again = source.failed_jobs(HOUR, END)
    assert {j.job_id: j.missing for j in again.jobs} == {j.job_id: j.missing for j in result.jobs}
    assert fake_github.api_requests(r"/logs$") == []


def test_token_stays_with_the_api(fake_github: FakeGitHub, tmp_path: Path) -> None:
    artifact = FakeArtifact(
        next_artifact(),
        "test-report",
        make_zip({"r.xml": junit_xml("s", {"t": "x"})}),
        HOUR + timedelta(minutes=4),
    )
    run(
        fake_github,
        HOUR,
        [job("t", "failure", HOUR + timedelta(minutes=5), log_status=410)],
        artifacts=[artifact],
    )
    source = make_source(fake_github, tmp_path / "raw")
    result = source.failed_jobs(HOUR, END)

    assert fake_github.blob_authorization and set(fake_github.blob_authorization) == {""}
    assert fake_github.unauthorized == 0
    stored = b"".join(p.read_bytes() for p in (tmp_path / "raw").rglob("*") if p.is_file())
    assert TOKEN.encode() not in stored
    assert TOKEN not in repr(source) and TOKEN not in json.dumps(result.stats)
