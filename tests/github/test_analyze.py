"""`error-assets analyze` on both sources: the fake GitHub API and the local archive."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from error_assets.cli import main
from error_assets.settings import Settings
from error_assets.sources.local_archive import LocalArchiveSource
from error_assets.sources.raw_store import RawStore
from tests.github.scenario import HOUR, REPO, job, run
from tests.support.fake_github import TOKEN, FakeGitHub

OOM_LOG = b"""2026-11-28T10:01:00.0000000Z ##[group]Run make -j8
2026-11-28T10:05:00.0000000Z c++: fatal error: Killed signal terminated program cc1plus
2026-11-28T10:05:00.0000000Z compilation terminated.
2026-11-28T10:05:01.0000000Z make: *** [Makefile:42: build/engine.o] Error 1
2026-11-28T10:05:01.0000000Z ##[error]Process completed with exit code 2.
"""

ASSERT_LOG = b"""2026-11-28T10:01:00.0000000Z ##[group]Run pytest -q
2026-11-28T10:02:00.0000000Z tests/test_billing.py::test_refund FAILED
2026-11-28T10:02:00.0000000Z =================================== FAILURES ===================================
2026-11-28T10:02:00.0000000Z E       assert 367 == 358
2026-11-28T10:02:00.0000000Z FAILED tests/test_billing.py::test_refund - AssertionError: assert 367 == 358
2026-11-28T10:02:01.0000000Z ========= 1 failed, 154 passed in 86.41s =========
2026-11-28T10:02:01.0000000Z ##[error]Process completed with exit code 1.
"""


def _row(report: str, category: str) -> list[str]:
    match = re.search(rf"^\| {re.escape(category)} \|(.*)\|$", report, re.MULTILINE)
    assert match, f"no row for {category} in the report"
    return [cell.strip() for cell in match.group(1).split("|")]


@pytest.mark.slow
def test_analyze_reads_github_and_reports_coverage(
    fake_github: FakeGitHub,
    error_assets_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    oom = job("build (linux)", "failure", HOUR + timedelta(minutes=5), log=OOM_LOG, annotations=[])
    tests = job(
        "test (3.12)", "failure", HOUR + timedelta(minutes=35), log=ASSERT_LOG, annotations=[]
    )
    expired = job("deploy", "failure", HOUR + timedelta(minutes=50), log_status=410, annotations=[])
    run(fake_github, HOUR, [oom])
    run(
        fake_github,
        HOUR + timedelta(minutes=20),
        [tests, job("lint", "success", HOUR + timedelta(minutes=21))],
    )
    run(fake_github, HOUR + timedelta(minutes=40), [expired])
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("REPO", REPO)
    monkeypatch.setenv("GITHUB_API_URL", fake_github.url)
    output = tmp_path / "report.md"

    code = main(
        ["analyze", "--hours", "2", "--until", "2026-11-28T11:00:00Z", "--output", str(output)]
    )

    assert code == 0
    report = output.read_text()
    assert report.startswith(f"# Failed CI jobs: 2 hours of {REPO}")
    assert "source `github`" in report
    assert _row(report, "infrastructure_error")[0] == "1"
    assert _row(report, "code_error")[0] == "1"
    assert _row(report, "no error found")[0] == "1"
    assert _row(report, "**total**")[0] == "3"
    assert "Killed signal terminated program cc1plus" in report
    # The job whose log expired is named in the gaps, with the reason.
    gaps = report.split("## What could not be classified", 1)[1]
    assert "[deploy]" in gaps and "log: expired (410)" in gaps
    assert "**Verdict: poor" in report  # one job in three explained by nothing
    assert TOKEN not in report
    assert "api calls" in report


@pytest.mark.slow
def test_analyze_reads_the_local_archive_without_github(
    error_assets_home: Path, tmp_path: Path
) -> None:
    assert (
        main(["sample", "--hours", "3", "--start", "2026-11-28T06:00:00Z", "--jobs-per-hour", "6"])
        == 0
    )
    output = tmp_path / "report.md"

    code = main(
        ["analyze", "--hours", "3", "--until", "2026-11-28T09:00:00Z", "--output", str(output)]
    )

    assert code == 0
    report = output.read_text()
    settings = Settings.from_env({"ERROR_ASSETS_HOME": str(error_assets_home)})
    jobs = (
        LocalArchiveSource(settings.archive, RawStore(tmp_path / "raw"))
        .failed_jobs(HOUR.replace(hour=6), HOUR.replace(hour=9))
        .jobs
    )
    assert jobs, "the sample archive produced no failed job"
    assert "of the local archive" in report and "source `local_archive`" in report
    assert _row(report, "**total**")[0] == str(len(jobs))
    assert re.search(r"\*\*Verdict: (good|partial|poor)", report)
    assert "## Top clusters" in report


def test_analyze_rejects_bad_arguments(
    error_assets_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--hours", "2", "--until", "yesterday"]) == 2
    assert "--until: 'yesterday' is not an ISO-8601 time" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["analyze", "--hours", "0"])
