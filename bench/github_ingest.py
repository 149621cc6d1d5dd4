"""Benchmark: ingesting an hour of failed GitHub Actions jobs, against the local fake API.

One hour with 2,000 failed jobs (500 runs of 8 jobs, half of them failed, each run with a
test-report artifact and a non-report artifact, plus green runs that need not be opened) and a
fixed latency on every request. Three readers are measured side by side in one process:

* `GitHubSource` with its bounded pool (8 workers): the whole hour;
* the same source with 1 worker (what call reduction alone buys): a sample of runs;
* a naive sequential fetch written the obvious way with PyGithub (per job: fetch the job,
  its log, its check run and annotations, the run's artifact list, every artifact): a sample.

Sequential readers are linear in the jobs they read, so their sample is scaled to the whole
hour (printed as such). Run from the repository root:

    .venv/bin/python bench/github_ingest.py            # 2,000 jobs, 50 ms per request
    .venv/bin/python bench/github_ingest.py --quick    # 200 jobs
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from github import Auth, Github

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from error_assets.sources.base import FAILED_CONCLUSIONS  # noqa: E402
from error_assets.sources.github_source import GitHubSource  # noqa: E402
from error_assets.sources.raw_store import RawStore  # noqa: E402
from tests.support.fake_github import (  # noqa: E402
    TOKEN,
    FakeArtifact,
    FakeGitHub,
    FakeJob,
    FakeRun,
    junit_xml,
    make_zip,
)

REPO = "bench-org/monorepo"
HOUR = datetime(2026, 11, 28, 10, tzinfo=UTC)


def build_hour(fake: FakeGitHub, failed_jobs: int, green_runs: int) -> list[int]:
    """Runs of 8 jobs with 4 failures each; returns the run ids in creation order."""
    runs = failed_jobs // 4
    log = ("2026-11-28T10:00:00Z collecting ...\n" * 40).encode() + b"E   AssertionError: boom\n"
    report = make_zip({"junit/report.xml": junit_xml("pkg.suite", {"test_a": "x"}, passed=20)})
    ids: list[int] = []
    next_id = 1_000_000
    for r in range(runs):
        # Spread over the hour, leaving room for the jobs to finish inside it.
        created = HOUR + timedelta(seconds=r * 3400 // max(runs, 1))
        jobs = []
        for k in range(8):
            next_id += 1
            failed = k % 2 == 1
            jobs.append(
                FakeJob(
                    next_id,
                    f"test ({k})",
                    "failure" if failed else "success",
                    created + timedelta(seconds=30),
                    created + timedelta(seconds=60 + k),
                    steps=[
                        ("Set up job", "success"),
                        ("Run tests", "failure" if failed else "success"),
                    ],
                    log=log,
                    annotations=[
                        {
                            "path": ".github",
                            "start_line": 1,
                            "end_line": 1,
                            "start_column": None,
                            "end_column": None,
                            "annotation_level": "failure",
                            "title": "",
                            "message": "Process completed with exit code 1.",
                            "raw_details": "",
                            "blob_href": "",
                        }
                    ]
                    if failed
                    else [],
                )
            )
        artifacts = [
            FakeArtifact(next_id + 1, "test-results", report, created + timedelta(seconds=70)),
            FakeArtifact(
                next_id + 2, "dist", b"PK\x05\x06" + b"\0" * 18, created + timedelta(seconds=70)
            ),
        ]
        next_id += 2
        run = fake.add_run(REPO, FakeRun(2_000_000 + r, created, jobs=jobs, artifacts=artifacts))
        ids.append(run.id)
    for g in range(green_runs):
        next_id += 1
        created = HOUR + timedelta(seconds=g * 3600 // max(green_runs, 1))
        job = FakeJob(
            next_id,
            "build",
            "success",
            created,
            created + timedelta(seconds=50),
            steps=[("Build", "success")],
        )
        fake.add_run(REPO, FakeRun(3_000_000 + g, created, jobs=[job]))
    return ids


def naive_fetch(fake: FakeGitHub, run_ids: list[int], store_root: Path) -> int:
    """The obvious sequential script: returns the failed jobs it fetched."""
    gh = Github(
        auth=Auth.Token(TOKEN), base_url=fake.url, per_page=100, seconds_between_requests=None
    )
    session = requests.Session()
    repo = gh.get_repo(REPO)
    fetched = 0
    for run_id in run_ids:
        run = repo.get_workflow_run(run_id)
        for attempt in range(1, run.run_attempt + 1):
            for listed in run.get_attempt(attempt).jobs():
                if listed.conclusion not in FAILED_CONCLUSIONS:
                    continue
                job = repo.get_workflow_job(listed.id)
                log = session.get(job.logs_url(), timeout=30).content
                (store_root / f"{job.id}.log").write_bytes(log)
                check = repo.get_check_run(job.id)
                notes = [a.raw_data for a in check.get_annotations()]
                (store_root / f"{job.id}.json").write_text(str(notes))
                for artifact in run.get_artifacts():
                    headers, _ = gh.requester.requestBlobAndCheck(
                        "GET", artifact.archive_download_url
                    )
                    data = session.get(headers["location"], timeout=30).content
                    (store_root / f"{job.id}-{artifact.id}.zip").write_bytes(data)
                fetched += 1
    gh.close()
    return fetched


def measure(label: str, action, fake: FakeGitHub) -> dict[str, float]:
    fake.reset_log()
    began = time.perf_counter()
    jobs = action()
    elapsed = time.perf_counter() - began
    return {
        "label": label,
        "seconds": elapsed,
        "jobs": jobs,
        "api": len(fake.api_requests()),
        "blobs": len(fake.blob_requests()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 failed jobs instead of 2,000")
    parser.add_argument("--jobs", type=int, help="failed jobs in the hour (multiple of 4)")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--sample-runs", type=int, help="runs read by the sequential readers")
    args = parser.parse_args()
    failed_jobs = args.jobs or (200 if args.quick else 2000)
    sample_runs = args.sample_runs or (10 if args.quick else 30)

    fake = FakeGitHub(latency=args.latency_ms / 1000).start()
    # The three readers together need more than one token-hour of calls: lift the quota.
    fake.set_rate_limit(remaining=10_000_000, reset_in=3600, limit=10_000_000)
    try:
        run_ids = build_hour(fake, failed_jobs, green_runs=failed_jobs // 10)
        sample = run_ids[:sample_runs]
        expected = sum(
            1
            for r in fake.repos[REPO]
            for j in r.jobs
            if j.conclusion in FAILED_CONCLUSIONS and j.completed_at < HOUR + timedelta(hours=1)
        )
        sample_end = max(r.jobs[-1].completed_at for r in fake.repos[REPO] if r.id in sample)
        window = (HOUR, HOUR + timedelta(hours=1))
        sample_window = (HOUR, sample_end + timedelta(seconds=1))
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)

            def source(workers: int, name: str) -> GitHubSource:
                return GitHubSource(
                    TOKEN, [REPO], RawStore(tmp_path / name), base_url=fake.url, max_workers=workers
                )

            concurrent = measure(
                f"GitHubSource, {args.workers} workers (whole hour)",
                lambda: len(source(args.workers, "pool").failed_jobs(*window).jobs),
                fake,
            )
            single = measure(
                f"GitHubSource, 1 worker ({sample_runs} runs)",
                lambda: len(source(1, "single").failed_jobs(*sample_window).jobs),
                fake,
            )
            (tmp_path / "naive").mkdir()
            naive = measure(
                f"naive sequential ({sample_runs} runs)",
                lambda: naive_fetch(fake, sample, tmp_path / "naive"),
                fake,
            )
    finally:
        fake.stop()

    print(
        f"{failed_jobs} failed jobs in {len(run_ids)} runs (+{failed_jobs // 10} green runs), "
        f"{args.latency_ms:.0f} ms per request\n"
    )
    print(
        f"{'reader':44} {'jobs':>6} {'wall s':>8} {'est. hour s':>12} {'API calls':>10} "
        f"{'calls/job':>10} {'blob GETs':>10}"
    )
    rows = []
    for row in (concurrent, single, naive):
        per_job = row["seconds"] / max(row["jobs"], 1)
        hour_s = per_job * failed_jobs
        rows.append(hour_s)
        print(
            f"{row['label']:44} {row['jobs']:>6} {row['seconds']:>8.1f} {hour_s:>12.1f} "
            f"{row['api']:>10} {row['api'] / max(row['jobs'], 1):>10.2f} {row['blobs']:>10}"
        )
    calls_per_job = concurrent["api"] / max(concurrent["jobs"], 1)
    speedup_naive = rows[2] / rows[0]
    speedup_single = rows[1] / rows[0]
    print()
    print(
        f"speed-up vs naive sequential:       {speedup_naive:6.1f}x  (goal >= 4x: "
        f"{'met' if speedup_naive >= 4 else 'NOT met'})"
    )
    print(f"speed-up vs same calls, 1 worker:   {speedup_single:6.1f}x")
    print(
        f"API calls per failed job:           {calls_per_job:6.2f}   (goal <= 4: "
        f"{'met' if calls_per_job <= 4 else 'NOT met'})"
    )
    missed = expected - concurrent["jobs"]
    print(f"failed jobs missed by GitHubSource: {missed}")
    return 0 if missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
