"""Pytest plugin: a local fake of the GitHub REST API for Actions, spoken over real HTTP.

`FakeGitHub` serves GitHub-shaped JSON on 127.0.0.1 (standard-library ThreadingHTTPServer):
workflow runs (with the `created` filter and the 1,000-result cap of filtered listings), jobs of
the latest or all attempts, job logs and artifact zips as 302 redirects to blob URLs on the same
server, check-run annotations, Link-header pagination and `x-ratelimit-*` headers. Scenarios
add failures: a primary limit that runs out (403 "API rate limit exceeded"), secondary-limit
403s with `retry-after`, 5xx bursts, expired logs (410) and whatever zip a test builds.

Tests drive it through the real PyGithub client (`base_url=fake.url`).
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

TOKEN = "ghp_faketoken0123456789abcdefABCDEF0123"
PRIMARY_MESSAGE = "API rate limit exceeded for user ID 1."
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeJob:
    id: int
    name: str
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None
    run_attempt: int = 1
    # (step name, conclusion) in order
    steps: list[tuple[str, str | None]] = field(default_factory=list)
    runner_name: str = "GitHub Actions 7"
    labels: tuple[str, ...] = ("ubuntu-latest",)
    log: bytes = b""
    # 200 serves the log; 410 / 404 answer the log request like an expired / deleted log.
    log_status: int = 200
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeArtifact:
    id: int
    name: str
    data: bytes
    created_at: datetime
    expired: bool = False


@dataclass
class FakeRun:
    id: int
    created_at: datetime
    jobs: list[FakeJob] = field(default_factory=list)
    artifacts: list[FakeArtifact] = field(default_factory=list)
    name: str = "CI"
    event: str = "pull_request"
    head_branch: str = "feature/x"
    head_sha: str = "0123456789abcdef0123456789abcdef01234567"
    pr_number: int | None = 42
    status: str | None = None  # derived from the jobs when None
    conclusion: str | None = None
    updated_at: datetime | None = None

    @property
    def attempt(self) -> int:
        return max((j.run_attempt for j in self.jobs), default=1)

    def latest_jobs(self) -> list[FakeJob]:
        return [j for j in self.jobs if j.run_attempt == self.attempt]

    def derived_status(self) -> str:
        if self.status:
            return self.status
        done = all(j.completed_at is not None for j in self.latest_jobs())
        return "completed" if done else "in_progress"

    def derived_conclusion(self) -> str | None:
        if self.conclusion or self.derived_status() != "completed":
            return self.conclusion
        bad = [j.conclusion for j in self.latest_jobs() if j.conclusion != "success"]
        return bad[0] if bad else "success"

    def derived_updated(self) -> datetime:
        if self.updated_at:
            return self.updated_at
        moments = [self.created_at] + [
            j.completed_at or j.started_at for j in self.jobs if j.completed_at or j.started_at
        ]
        return max(moments)


@dataclass
class Fault:
    """Answer requests whose path+query matches `pattern` with `status`, `times` times."""

    pattern: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Server Error"


def make_zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, (2026, 11, 28, 0, 0, 0)), data, compression)
    return buffer.getvalue()


def junit_xml(suite: str, failures: dict[str, str], passed: int = 1) -> bytes:
    """A small JUnit report with the given failing test cases (name -> message)."""
    cases = [f'<testcase classname="{suite}" name="ok_{i}" time="0.01"/>' for i in range(passed)]
    for name, message in failures.items():
        cases.append(
            f'<testcase classname="{suite}" name="{name}" time="0.2">'
            f'<failure message="{message}">{message}\n  at {suite}.py:10</failure></testcase>'
        )
    body = "".join(cases)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><testsuite name="{suite}" '
        f'tests="{len(cases)}" failures="{len(failures)}">{body}</testsuite>'
    ).encode()


class FakeGitHub:
    """State and behaviour of the fake API; `url` is the base URL to hand to PyGithub."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.repos: dict[str, list[FakeRun]] = {}
        self.faults: list[Fault] = []
        self.rate_limit = 5000
        self.rate_remaining = 5000
        self.rate_reset = time.time() + 3600
        self.listing_cap = 1000
        self.requests: list[tuple[str, int]] = []  # (path+query, status)
        self.blob_authorization: list[str] = []  # Authorization headers seen by blob URLs
        self.unauthorized = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ---------------------------------------------------------------- scenario

    def add_run(self, repo: str, run: FakeRun) -> FakeRun:
        with self._lock:
            self.repos.setdefault(repo, []).append(run)
        return run

    def fail(
        self,
        pattern: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        message: str = "Server Error",
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self.faults.append(Fault(pattern, status, times, headers, message))

    def set_rate_limit(self, remaining: int, reset_in: float, limit: int = 5000) -> None:
        with self._lock:
            self.rate_limit = limit
            self.rate_remaining = remaining
            self.rate_reset = time.time() + reset_in

    # ---------------------------------------------------------------- observation

    def api_requests(self, pattern: str = "") -> list[str]:
        """Paths of API requests (not blob downloads) answered so far, optionally filtered."""
        with self._lock:
            paths = [p for p, _ in self.requests if not p.startswith("/_blobs/")]
        return [p for p in paths if re.search(pattern, p)] if pattern else paths

    def blob_requests(self, pattern: str = "") -> list[str]:
        with self._lock:
            paths = [p for p, _ in self.requests if p.startswith("/_blobs/")]
        return [p for p in paths if re.search(pattern, p)] if pattern else paths

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # ---------------------------------------------------------------- routing

    def _find_run(self, repo: str, run_id: int) -> FakeRun | None:
        return next((r for r in self.repos.get(repo, []) if r.id == run_id), None)

    def _find_job(self, repo: str, job_id: int) -> tuple[FakeRun, FakeJob] | None:
        for run in self.repos.get(repo, []):
            for job in run.jobs:
                if job.id == job_id:
                    return run, job
        return None

    def _find_artifact(self, artifact_id: int) -> FakeArtifact | None:
        for runs in self.repos.values():
            for run in runs:
                for artifact in run.artifacts:
                    if artifact.id == artifact_id:
                        return artifact
        return None

    def _take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and re.search(fault.pattern, target):
                    fault.times -= 1
                    return fault
        return None

    def _spend_rate(self) -> tuple[bool, dict[str, str]]:
        """Count one API call; (allowed, rate-limit headers)."""
        with self._lock:
            now = time.time()
            if now >= self.rate_reset:
                self.rate_remaining = self.rate_limit
                self.rate_reset = now + 3600
            allowed = self.rate_remaining > 0
            if allowed:
                self.rate_remaining -= 1
            headers = {
                "x-ratelimit-limit": str(self.rate_limit),
                "x-ratelimit-remaining": str(self.rate_remaining),
                "x-ratelimit-reset": str(int(self.rate_reset)),
                "x-ratelimit-used": str(self.rate_limit - self.rate_remaining),
                "x-ratelimit-resource": "core",
            }
        return allowed, headers

    # --------------------------------------------------------------- JSON shapes

    def run_json(self, repo: str, run: FakeRun, attempt: int | None = None) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo}"
        attempt = attempt or run.attempt
        pulls = []
        if run.pr_number is not None:
            pulls.append(
                {
                    "url": f"{api}/pulls/{run.pr_number}",
                    "id": 1000 + run.pr_number,
                    "number": run.pr_number,
                    "head": {"ref": run.head_branch, "sha": run.head_sha},
                    "base": {"ref": "main", "sha": "f" * 40},
                }
            )
        return {
            "id": run.id,
            "name": run.name,
            "node_id": f"WFR_{run.id}",
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": ".github/workflows/ci.yml",
            "display_title": f"{run.name} #{run.id}",
            "run_number": run.id % 100000,
            "event": run.event,
            "status": run.derived_status(),
            "conclusion": run.derived_conclusion(),
            "workflow_id": 161335,
            "check_suite_id": run.id * 10,
            "url": f"{api}/actions/runs/{run.id}",
            "html_url": f"https://github.com/{repo}/actions/runs/{run.id}",
            "pull_requests": pulls,
            "created_at": ts(run.created_at),
            "updated_at": ts(run.derived_updated()),
            "run_attempt": attempt,
            "run_started_at": ts(run.created_at),
            "jobs_url": f"{api}/actions/runs/{run.id}/jobs",
            "logs_url": f"{api}/actions/runs/{run.id}/logs",
            "check_suite_url": f"{api}/check-suites/{run.id * 10}",
            "artifacts_url": f"{api}/actions/runs/{run.id}/artifacts",
            "cancel_url": f"{api}/actions/runs/{run.id}/cancel",
            "rerun_url": f"{api}/actions/runs/{run.id}/rerun",
            "previous_attempt_url": (
                f"{api}/actions/runs/{run.id}/attempts/{attempt - 1}" if attempt > 1 else None
            ),
            "workflow_url": f"{api}/actions/workflows/161335",
        }

    def job_json(self, repo: str, run: FakeRun, job: FakeJob) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo}"
        steps = []
        for number, (name, conclusion) in enumerate(job.steps, start=1):
            steps.append(
                {
                    "name": name,
                    "status": "completed" if conclusion else "in_progress",
                    "conclusion": conclusion,
                    "number": number,
                    "started_at": ts(job.started_at),
                    "completed_at": ts(job.completed_at) if job.completed_at else None,
                }
            )
        return {
            "id": job.id,
            "run_id": run.id,
            "run_url": f"{api}/actions/runs/{run.id}",
            "run_attempt": job.run_attempt,
            "node_id": f"CR_{job.id}",
            "head_sha": run.head_sha,
            "head_branch": run.head_branch,
            "url": f"{api}/actions/jobs/{job.id}",
            "html_url": f"https://github.com/{repo}/actions/runs/{run.id}/job/{job.id}",
            "status": "completed" if job.completed_at else "in_progress",
            "conclusion": job.conclusion if job.completed_at else None,
            "created_at": ts(job.started_at),
            "started_at": ts(job.started_at),
            "completed_at": ts(job.completed_at) if job.completed_at else None,
            "name": job.name,
            "steps": steps,
            "check_run_url": f"{api}/check-runs/{job.id}",
            "labels": list(job.labels),
            "runner_id": 7,
            "runner_name": job.runner_name,
            "runner_group_id": 2,
            "runner_group_name": "GitHub Actions",
            "workflow_name": run.name,
        }

    def check_run_json(self, repo: str, run: FakeRun, job: FakeJob) -> dict[str, Any]:
        """The check run behind a job (same id), as `GET /check-runs/{id}` answers."""
        api = f"{self.url}/repos/{repo}"
        return {
            "id": job.id,
            "name": job.name,
            "node_id": f"CR_{job.id}",
            "head_sha": run.head_sha,
            "external_id": "",
            "url": f"{api}/check-runs/{job.id}",
            "html_url": f"https://github.com/{repo}/runs/{job.id}",
            "details_url": f"https://github.com/{repo}/actions/runs/{run.id}/job/{job.id}",
            "status": "completed" if job.completed_at else "in_progress",
            "conclusion": job.conclusion if job.completed_at else None,
            "started_at": ts(job.started_at),
            "completed_at": ts(job.completed_at) if job.completed_at else None,
            "output": {
                "title": None,
                "summary": None,
                "text": None,
                "annotations_count": len(job.annotations),
                "annotations_url": f"{api}/check-runs/{job.id}/annotations",
            },
            "check_suite": {"id": run.id * 10},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "pull_requests": [],
        }

    def artifact_json(self, repo: str, run: FakeRun, artifact: FakeArtifact) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo}"
        return {
            "id": artifact.id,
            "node_id": f"MDg6QXJ0aWZhY3Qx{artifact.id}",
            "name": artifact.name,
            "size_in_bytes": len(artifact.data),
            "url": f"{api}/actions/artifacts/{artifact.id}",
            "archive_download_url": f"{api}/actions/artifacts/{artifact.id}/zip",
            "expired": artifact.expired,
            "created_at": ts(artifact.created_at),
            "updated_at": ts(artifact.created_at),
            "expires_at": ts(artifact.created_at + timedelta(days=90)),
            "digest": None,
            "workflow_run": {
                "id": run.id,
                "repository_id": 1,
                "head_repository_id": 1,
                "head_branch": run.head_branch,
                "head_sha": run.head_sha,
            },
        }


def _created_filter(value: str) -> tuple[datetime, datetime]:
    """GitHub's date-qualifier syntax: `a..b`, `>=a`, `>a`, `<=b`, `<b`, `a` (a day)."""
    low, high = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)

    def parse(text: str) -> datetime:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    if ".." in value:
        first, second = value.split("..", 1)
        if first != "*":
            low = parse(first)
        if second != "*":
            high = parse(second)
    elif value.startswith(">="):
        low = parse(value[2:])
    elif value.startswith(">"):
        low = parse(value[1:]) + timedelta(seconds=1)
    elif value.startswith("<="):
        high = parse(value[2:])
    elif value.startswith("<"):
        high = parse(value[1:]) - timedelta(seconds=1)
    else:
        low = parse(value)
        high = low + timedelta(days=1) - timedelta(seconds=1)
    return low, high


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        fake = self.fake
        if fake.latency:
            time.sleep(fake.latency)
        target = self.path
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if parts.path.startswith("/_blobs/"):
            with fake._lock:
                fake.blob_authorization.append(self.headers.get("Authorization", ""))
            fault = fake._take_fault(target)
            if fault:
                self._json(fault.status, {"message": fault.message}, fault.headers, target)
                return
            self._blob(parts.path, target)
            return
        if self.headers.get("Authorization", "") not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
            with fake._lock:
                fake.unauthorized += 1
            self._json(401, {"message": "Bad credentials"}, {}, target)
            return
        fault = fake._take_fault(target)
        allowed, rate_headers = fake._spend_rate()
        if fault:
            body = {"message": fault.message}
            self._json(fault.status, body, {**rate_headers, **fault.headers}, target)
            return
        if not allowed:
            self._json(403, {"message": PRIMARY_MESSAGE}, rate_headers, target)
            return
        try:
            status, body, headers = self._route(parts.path, query)
        except Exception as exc:  # a bug in the fake must show, not hang the client
            status, body, headers = 500, {"message": f"fake error: {exc!r}"}, {}
        self._json(status, body, {**rate_headers, **headers}, target)

    # ---------------------------------------------------------------- API routes

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if not m:
            if path == "/rate_limit":
                core = {
                    "limit": fake.rate_limit,
                    "remaining": fake.rate_remaining,
                    "reset": int(fake.rate_reset),
                    "used": fake.rate_limit - fake.rate_remaining,
                }
                return 200, {"resources": {"core": core}, "rate": core}, {}
            return 404, {"message": "Not Found"}, {}
        repo, rest = m.group(1), m.group(2) or ""
        if repo not in fake.repos:
            return 404, {"message": "Not Found"}, {}
        if rest == "":
            return 200, {"id": 1, "full_name": repo, "url": f"{fake.url}/repos/{repo}"}, {}
        if rest == "/actions/runs":
            return self._list_runs(repo, query)
        if m2 := re.fullmatch(r"/actions/runs/(\d+)", rest):
            run = fake._find_run(repo, int(m2.group(1)))
            return (200, fake.run_json(repo, run), {}) if run else (404, _nf(), {})
        if m2 := re.fullmatch(r"/actions/runs/(\d+)/jobs", rest):
            run = fake._find_run(repo, int(m2.group(1)))
            if not run:
                return 404, _nf(), {}
            which = query.get("filter", "latest")
            jobs = run.jobs if which == "all" else run.latest_jobs()
            return self._page(path, query, [fake.job_json(repo, run, j) for j in jobs], "jobs")
        if m2 := re.fullmatch(r"/actions/runs/(\d+)/attempts/(\d+)/jobs", rest):
            run = fake._find_run(repo, int(m2.group(1)))
            attempt = int(m2.group(2))
            if not run or attempt > run.attempt:
                return 404, _nf(), {}
            jobs = [fake.job_json(repo, run, j) for j in run.jobs if j.run_attempt == attempt]
            return self._page(path, query, jobs, "jobs")
        if m2 := re.fullmatch(r"/actions/runs/(\d+)/attempts/(\d+)", rest):
            run = fake._find_run(repo, int(m2.group(1)))
            attempt = int(m2.group(2))
            if not run or attempt > run.attempt:
                return 404, _nf(), {}
            return 200, fake.run_json(repo, run, attempt), {}
        if m2 := re.fullmatch(r"/actions/jobs/(\d+)", rest):
            found = fake._find_job(repo, int(m2.group(1)))
            return (200, fake.job_json(repo, *found), {}) if found else (404, _nf(), {})
        if m2 := re.fullmatch(r"/actions/jobs/(\d+)/logs", rest):
            found = fake._find_job(repo, int(m2.group(1)))
            if not found:
                return 404, _nf(), {}
            job = found[1]
            if job.log_status == 410:
                return 410, {"message": "Gone"}, {}
            if job.log_status != 200:
                return job.log_status, _nf(), {}
            location = f"{fake.url}/_blobs/logs/{job.id}?sv=2025&sig=SIGNATURE{job.id}"
            return 302, None, {"Location": location}
        if m2 := re.fullmatch(r"/check-runs/(\d+)", rest):
            found = fake._find_job(repo, int(m2.group(1)))
            return (200, fake.check_run_json(repo, *found), {}) if found else (404, _nf(), {})
        if m2 := re.fullmatch(r"/check-runs/(\d+)/annotations", rest):
            found = fake._find_job(repo, int(m2.group(1)))
            if not found:
                return 404, _nf(), {}
            return self._page(path, query, list(found[1].annotations), None)
        if m2 := re.fullmatch(r"/actions/runs/(\d+)/artifacts", rest):
            run = fake._find_run(repo, int(m2.group(1)))
            if not run:
                return 404, _nf(), {}
            items = [fake.artifact_json(repo, run, a) for a in run.artifacts]
            return self._page(path, query, items, "artifacts")
        if m2 := re.fullmatch(r"/actions/artifacts/(\d+)/zip", rest):
            artifact = fake._find_artifact(int(m2.group(1)))
            if not artifact:
                return 404, _nf(), {}
            if artifact.expired:
                return 410, {"message": "Artifact has expired"}, {}
            location = f"{fake.url}/_blobs/artifacts/{artifact.id}?sig=SIGNATURE{artifact.id}"
            return 302, None, {"Location": location}
        return 404, _nf(), {}

    def _list_runs(self, repo: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        fake = self.fake
        runs = list(fake.repos[repo])
        if "created" in query:
            low, high = _created_filter(query["created"])
            runs = [r for r in runs if low <= r.created_at.replace(microsecond=0) <= high]
        if "status" in query:
            wanted = query["status"]
            runs = [r for r in runs if wanted in (r.derived_status(), r.derived_conclusion() or "")]
        runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        total = len(runs)
        if any(k in query for k in ("created", "status", "branch", "event", "actor")):
            runs = runs[: fake.listing_cap]  # GitHub's cap on filtered listings
        items = [fake.run_json(repo, r) for r in runs]
        status, body, headers = self._page(
            f"/repos/{repo}/actions/runs", query, items, "workflow_runs"
        )
        body["total_count"] = total
        return status, body, headers

    def _page(
        self, path: str, query: dict[str, str], items: list[Any], key: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = max(int(query.get("page", 1)), 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []

        def link(number: int, rel: str) -> str:
            params = {**query, "page": str(number), "per_page": str(per_page)}
            return f'<{self.fake.url}{path}?{urlencode(params)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        body: Any = {"total_count": len(items), key: chunk} if key else chunk
        return 200, body, headers

    # ---------------------------------------------------------------- blobs

    def _blob(self, path: str, target: str) -> None:
        fake = self.fake
        if m := re.fullmatch(r"/_blobs/logs/(\d+)", path):
            for runs in fake.repos.values():
                for run in runs:
                    for job in run.jobs:
                        if job.id == int(m.group(1)):
                            self._bytes(200, job.log, "text/plain; charset=utf-8", target)
                            return
        if m := re.fullmatch(r"/_blobs/artifacts/(\d+)", path):
            artifact = fake._find_artifact(int(m.group(1)))
            if artifact:
                self._bytes(200, artifact.data, "application/zip", target)
                return
        self._bytes(404, b"BlobNotFound", "text/plain", target)

    # ---------------------------------------------------------------- writing

    def _json(self, status: int, body: Any, headers: dict[str, str], target: str) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self._send(status, data, "application/json; charset=utf-8", headers, target)

    def _bytes(self, status: int, data: bytes, content_type: str, target: str) -> None:
        self._send(status, data, content_type, {}, target)

    def _send(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str], target: str
    ) -> None:
        with self.fake._lock:
            self.fake.requests.append((target, status))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _nf() -> dict[str, str]:
    return {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub API (empty: tests add runs and faults)."""
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
