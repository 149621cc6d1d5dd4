"""The run/job context from GITHUB_* variables and the numeric job-id lookup."""

from __future__ import annotations

import urllib.error

import pytest

from error_assets.ci_step.context import ContextError, GitHubContext, lookup_job, match_job
from tests.ci_step.fake_jobs_api import JobsAPI, job, serve_jobs

ENV = {
    "GITHUB_REPOSITORY": "octo/widgets",
    "GITHUB_RUN_ID": "123456",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_JOB": "test",
    "GITHUB_WORKFLOW": "CI",
    "GITHUB_SERVER_URL": "https://github.example.com/",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_REF_NAME": "feature/x",
    "RUNNER_NAME": "runner-7",
    "GITHUB_STEP_SUMMARY": "/tmp/summary.md",
}


def test_context_reads_the_standard_variables() -> None:
    ctx = GitHubContext.from_env(ENV)
    assert (ctx.repository, ctx.run_id, ctx.run_attempt, ctx.job_key) == (
        "octo/widgets", 123456, 2, "test",
    )  # fmt: skip
    assert ctx.run_url == "https://github.example.com/octo/widgets/actions/runs/123456/attempts/2"
    assert ctx.step_summary == "/tmp/summary.md"
    assert ctx.in_github_actions


def test_outside_github_actions_the_context_is_empty_but_usable() -> None:
    ctx = GitHubContext.from_env({})
    assert not ctx.in_github_actions
    assert ctx.run_url == ""
    assert ctx.display_job_name == "this job"


@pytest.mark.parametrize(
    ("name", "value"),
    [("GITHUB_RUN_ID", "12x"), ("GITHUB_RUN_ATTEMPT", "-1"), ("GITHUB_REPOSITORY", "nope")],
)
def test_malformed_variables_are_named(name: str, value: str) -> None:
    with pytest.raises(ContextError, match=name):
        GitHubContext.from_env({**ENV, name: value})


def test_job_ref_is_the_id_or_a_stand_in_that_tells_matrix_legs_apart() -> None:
    ctx = GitHubContext.from_env(ENV)
    other_leg = GitHubContext.from_env({**ENV, "RUNNER_NAME": "runner-8"})
    assert ctx.job_ref.startswith("key-")
    assert ctx.job_ref != other_leg.job_ref
    assert ctx.job_ref == GitHubContext.from_env(ENV).job_ref  # stable
    assert ctx.with_job({"id": 99, "name": "test (3.12)"}).job_ref == "99"


def test_match_job_prefers_the_runner_then_a_unique_running_name() -> None:
    ctx = GitHubContext.from_env(ENV)
    jobs = [
        job(1, "test (ubuntu, 3.11)", "runner-1"),
        job(2, "test (ubuntu, 3.12)", "runner-7"),
        job(3, "lint", "runner-3", status="completed"),
    ]
    assert match_job(jobs, ctx)["id"] == 2
    no_runner = GitHubContext.from_env({**ENV, "RUNNER_NAME": ""})
    assert match_job(jobs, no_runner) is None  # two running legs of `test`: ambiguous
    assert match_job(jobs[1:], no_runner)["id"] == 2
    assert match_job([job(4, "testing")], no_runner) is None  # a prefix is not a match


def test_lookup_follows_pages_and_sends_the_token() -> None:
    jobs = [job(i, f"build ({i})", f"runner-{i}", status="completed") for i in range(1, 6)]
    jobs.append(job(4242, "test (ubuntu, 3.12)", "runner-7"))
    with serve_jobs(JobsAPI(jobs=jobs, per_page=2)) as api:
        ctx = GitHubContext.from_env({**ENV, "GITHUB_API_URL": api.url})
        found = lookup_job(ctx, "ghs_secret", timeout=5)
    assert found.job_id == 4242
    assert found.job_name == "test (ubuntu, 3.12)"
    assert found.job_url.endswith("/job/4242")
    assert api.requests[0]["path"] == "/repos/octo/widgets/actions/runs/123456/attempts/2/jobs"
    assert api.requests[0]["headers"]["Authorization"] == "Bearer ghs_secret"
    assert len(api.requests) == 3  # 6 jobs, 2 per page


def test_lookup_stops_after_three_pages() -> None:
    jobs = [job(i, f"build ({i})", status="completed") for i in range(10)]
    with serve_jobs(JobsAPI(jobs=jobs, per_page=1)) as api:
        ctx = GitHubContext.from_env({**ENV, "GITHUB_API_URL": api.url})
        with pytest.raises(LookupError, match="no unique job"):
            lookup_job(ctx, "t", timeout=5)
    assert len(api.requests) == 3


def test_lookup_errors_surface_to_the_caller() -> None:
    with serve_jobs(JobsAPI(status=403)) as api:
        ctx = GitHubContext.from_env({**ENV, "GITHUB_API_URL": api.url})
        with pytest.raises(urllib.error.HTTPError):
            lookup_job(ctx, "t", timeout=5)
    with serve_jobs(JobsAPI(jobs=[job(1, "test")], delay_s=2)) as api:
        ctx = GitHubContext.from_env({**ENV, "GITHUB_API_URL": api.url})
        with pytest.raises(OSError):  # socket timeout (a URLError or TimeoutError)
            lookup_job(ctx, "t", timeout=0.3)
