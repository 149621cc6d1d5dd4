"""Where the CI step runs: the workflow run and job, read from the standard `GITHUB_*` variables.

The numeric job id is not among those variables (only the job *key*, `GITHUB_JOB`); when a
token is available it is looked up with one cheap request to the run attempt's jobs list.
The request uses the standard library on purpose: importing an SDK would cost more start-up
time than the whole lookup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from error_assets.models import stable_id

DEFAULT_SERVER_URL = "https://github.com"
DEFAULT_API_URL = "https://api.github.com"
MAX_JOB_PAGES = 3  # 300 jobs: a bigger matrix is rare and not worth more of the budget


class ContextError(ValueError):
    """A `GITHUB_*` variable holds a value the step cannot use."""


@dataclass(frozen=True, slots=True)
class GitHubContext:
    """The run and job the step is part of (empty strings / zeros where unknown)."""

    repository: str = ""
    run_id: int = 0
    run_attempt: int = 1
    job_key: str = ""
    job_id: int = 0
    job_name: str = ""
    job_url: str = ""
    workflow: str = ""
    server_url: str = DEFAULT_SERVER_URL
    api_url: str = DEFAULT_API_URL
    sha: str = ""
    ref_name: str = ""
    event_name: str = ""
    runner_name: str = ""
    step_summary: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHubContext:
        """Read the context; a malformed number raises `ContextError` naming the variable."""
        repository = _text(env, "GITHUB_REPOSITORY")
        if repository and (repository.count("/") != 1 or not all(repository.split("/"))):
            raise ContextError(f"GITHUB_REPOSITORY: {repository!r} is not of the form owner/name")
        return cls(
            repository=repository,
            run_id=_number(env, "GITHUB_RUN_ID", 0),
            run_attempt=max(1, _number(env, "GITHUB_RUN_ATTEMPT", 1)),
            job_key=_text(env, "GITHUB_JOB"),
            workflow=_text(env, "GITHUB_WORKFLOW"),
            server_url=(_text(env, "GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
            api_url=(_text(env, "GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            sha=_text(env, "GITHUB_SHA"),
            ref_name=_text(env, "GITHUB_REF_NAME"),
            event_name=_text(env, "GITHUB_EVENT_NAME"),
            runner_name=_text(env, "RUNNER_NAME"),
            step_summary=_text(env, "GITHUB_STEP_SUMMARY"),
        )

    @property
    def in_github_actions(self) -> bool:
        return bool(self.repository and self.run_id)

    @property
    def display_job_name(self) -> str:
        return self.job_name or self.job_key or "this job"

    @property
    def run_url(self) -> str:
        if not self.in_github_actions:
            return ""
        url = f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"
        return f"{url}/attempts/{self.run_attempt}" if self.run_attempt > 1 else url

    @property
    def job_ref(self) -> str:
        """What identifies this job in document ids: the numeric id, else a stable stand-in.

        Without the id, matrix legs share `GITHUB_JOB`; the runner's name tells them apart
        while they run.
        """
        if self.job_id:
            return str(self.job_id)
        key = stable_id(self.repository, self.run_id, self.run_attempt, self.job_key,
                        self.runner_name, length=12)  # fmt: skip
        return f"key-{key}"

    def with_job(self, job: Mapping[str, Any]) -> GitHubContext:
        """This context completed with a job object of the GitHub API."""
        return replace(
            self,
            job_id=int(job.get("id") or 0),
            job_name=str(job.get("name") or self.job_name),
            job_url=str(job.get("html_url") or self.job_url),
        )


def _text(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def _number(env: Mapping[str, str], name: str, default: int) -> int:
    value = _text(env, name)
    if not value:
        return default
    if not value.isdigit():
        raise ContextError(f"{name}: {value!r} is not a whole number")
    return int(value)


def match_job(jobs: list[Mapping[str, Any]], context: GitHubContext) -> Mapping[str, Any] | None:
    """The job of `jobs` this step runs in, or None when it cannot be told apart.

    The runner name is decisive (one runner runs one job at a time); otherwise a job named
    like the job key (`test`, or a matrix leg `test (ubuntu, 3.12)`) that is still running.
    """
    running = [j for j in jobs if j.get("status") in ("in_progress", "queued", None)]
    if context.runner_name:
        by_runner = [j for j in running if j.get("runner_name") == context.runner_name]
        if len(by_runner) == 1:
            return by_runner[0]
    if not context.job_key:
        return None
    named = re.compile(rf"^{re.escape(context.job_key)}(?: \(.*\))?$", re.IGNORECASE)
    for candidates in (running, jobs):
        by_name = [j for j in candidates if named.match(str(j.get("name") or ""))]
        if len(by_name) == 1:
            return by_name[0]
    return None


def lookup_job(context: GitHubContext, token: str, timeout: float) -> GitHubContext:
    """The context with the numeric job id filled in from the jobs of this run attempt.

    Raises `urllib.error.URLError` (an `OSError`)/`ValueError` on failure; the caller turns that
    into a warning. The token goes only into the Authorization header.
    """
    import urllib.request  # ~30 ms of imports: only when a lookup is actually made

    if not context.in_github_actions or context.job_id:
        return context
    url: str | None = (
        f"{context.api_url}/repos/{context.repository}/actions/runs/{context.run_id}"
        f"/attempts/{context.run_attempt}/jobs?per_page=100"
    )
    jobs: list[Mapping[str, Any]] = []
    for _ in range(MAX_JOB_PAGES):
        if url is None:
            break
        request = urllib.request.Request(
            url,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "error-assets-ci-step",
            },
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.load(response)
            url = _next_link(response.headers.get("Link", ""))
        if not isinstance(payload, dict) or not isinstance(payload.get("jobs"), list):
            raise ValueError("the jobs response has no 'jobs' list")
        jobs.extend(j for j in payload["jobs"] if isinstance(j, dict))
    job = match_job(jobs, context)
    if job is not None:
        return context.with_job(job)
    raise LookupError(
        f"no unique job matches key {context.job_key!r} / runner {context.runner_name!r}"
        f" among {len(jobs)} job(s) of run {context.run_id} attempt {context.run_attempt}"
    )


def _next_link(header: str) -> str | None:
    """The `rel="next"` URL of a GitHub `Link` header."""
    for part in header.split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="next"', part)
        if match:
            return match.group(1)
    return None
