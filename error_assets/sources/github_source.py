"""GitHub Actions as a CI source: every failed job of a time window, within the API's limits.

How a window [start, end) is read, per repository:

1. Workflow runs *created* in [start - lookback, end) are listed (GitHub's only time filter is
   `created`; the look-back margin finds runs that started earlier and failed late, or were
   re-attempted). A filtered listing returns at most 1,000 runs, so a range that reports more is
   split in halves until each part fits. Runs not updated since `start`, and first attempts that
   ended in success, cannot hold a failed job of the window and are not opened.
2. For each remaining run, the jobs of *all* attempts (`filter=all`) are listed and kept by their
   own `completed_at` and a failed conclusion.
3. For each failed job: the log (a redirect to a short-lived blob URL, downloaded without the
   token), the check-run annotations (the job id is the check-run id), and the failing step.
   For each run with failed jobs: its test-report artifacts, unzipped safely (`github_artifacts`),
   their JUnit members attributed to the job that uploaded them.

Everything fetched goes to the raw store under the job's (repo, run, attempt, job) directory with
a `manifest.json` of sizes and what was missing, so reprocessing never re-downloads; run-level
artifact members live under attempt 0, job 0 of the run.

Limits: PyGithub's `GithubRetry` retries 5xx with backoff and waits out secondary limits
(403/429 with `retry-after`). Before each call the primary budget is checked: below
`rate_limit_floor` remaining calls we wait for the reset when it is near, else stop cleanly and
return what is complete with `incomplete=True` (the next run resumes from the raw store).
Work runs on a bounded thread pool; PyGithub's requester is not safe to share between threads,
so each worker thread has its own client and tasks pass plain values, not PyGithub objects.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException
from github.Artifact import Artifact
from github.PaginatedList import PaginatedList
from github.WorkflowJob import WorkflowJob
from github.WorkflowRun import WorkflowRun
from urllib3.util.retry import Retry

from error_assets.models import CIJob, stable_id, to_row
from error_assets.settings import Settings
from error_assets.sources.base import FAILED_CONCLUSIONS, SourceProblem, SourceResult
from error_assets.sources.github_artifacts import (
    UnsafeArchiveError,
    ZipLimits,
    is_report_artifact,
    read_report_members,
)
from error_assets.sources.raw_store import RawStore
from error_assets.stores.documents import iso, partition_key

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.github.com"
# GitHub returns at most this many runs for a filtered listing, however many pages you follow.
LISTING_CAP = 1000
# Logs above this are cut to their tail: the error is almost always near the end.
LOG_LIMIT_BYTES = 64 * 1024 * 1024
ARTIFACT_LIMIT_BYTES = 256 * 1024 * 1024
# An artifact uploaded up to this long after its job completed still belongs to it.
ARTIFACT_SLACK = timedelta(minutes=2)
SUCCESSFUL_CONCLUSIONS = frozenset({"success", "skipped", "neutral"})
# HTTP statuses that say a blob is gone for good (expired or deleted).
GONE_STATUSES = {404: "not found", 410: "expired"}


class RateBudgetExhausted(RuntimeError):
    """The primary rate limit is below the floor and resets too late to wait for."""


@dataclass(frozen=True, slots=True)
class FailedRunEvent:
    """A newly completed failed run attempt, as the sensor sees it."""

    repo: str
    run_id: int
    run_attempt: int
    conclusion: str
    updated_at: str
    partitions: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.repo}:{self.run_id}:{self.run_attempt}"


@dataclass(slots=True)
class PollResult:
    events: list[FailedRunEvent] = field(default_factory=list)
    cursor: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def partitions(self) -> dict[str, list[FailedRunEvent]]:
        """Events grouped by the hourly partitions their failed jobs completed in."""
        grouped: dict[str, list[FailedRunEvent]] = {}
        for event in self.events:
            for partition in event.partitions:
                grouped.setdefault(partition, []).append(event)
        return dict(sorted(grouped.items()))


@dataclass(frozen=True, slots=True)
class _RunInfo:
    """What later tasks need of a listed run, as plain values (safe across threads)."""

    repo: str
    run_id: int
    run_attempt: int
    workflow_name: str
    event: str
    status: str
    conclusion: str
    head_branch: str
    head_sha: str
    pr_number: int | None
    jobs_url: str
    artifacts_url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class _JobInfo:
    run: _RunInfo
    job_id: int
    run_attempt: int
    name: str
    conclusion: str
    started_at: datetime | None
    completed_at: datetime
    runner_name: str
    labels: tuple[str, ...]
    head_branch: str
    head_sha: str
    html_url: str
    workflow_name: str
    failed_step: str


@dataclass(slots=True)
class _JobMaterial:
    log_ref: str | None = None
    annotations_ref: str | None = None
    missing: list[str] = field(default_factory=list)
    # Misses that will not heal (expired, deleted): remembered so a rerun does not ask again.
    permanent: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    problems: list[SourceProblem] = field(default_factory=list)


@dataclass(slots=True)
class _ArtifactEntry:
    artifact_id: int
    name: str
    created_at: str
    member_refs: list[str] = field(default_factory=list)
    missing: str = ""


@dataclass(slots=True)
class _RunArtifacts:
    entries: list[_ArtifactEntry] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)


class _Counters:
    """Thread-safe tallies for the materialisation metadata."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.values: dict[str, int] = {}

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.values[name] = self.values.get(name, 0) + amount


class _RateBudget:
    """The primary rate-limit budget shared by all worker threads' clients."""

    def __init__(self, floor: int, max_wait: float, counters: _Counters) -> None:
        self.floor = floor
        self.max_wait = max_wait
        self.counters = counters
        self.remaining = -1
        self.limit = -1
        self.reset = 0
        self._lock = threading.Lock()
        self._wait_lock = threading.Lock()

    def observe(self, client: Github) -> None:
        """Fold in the headers of the client's latest response (newest reset window wins)."""
        remaining, limit = client.requester.rate_limiting
        reset = client.requester.rate_limiting_resettime
        if remaining < 0:
            return
        with self._lock:
            newer = reset > self.reset
            lower = reset == self.reset and remaining < self.remaining
            if newer or lower or self.remaining < 0:
                self.remaining, self.limit, self.reset = remaining, limit, reset

    def before_call(self, calls: int = 1) -> None:
        """Count a call about to be made; wait for the reset or stop when below the floor."""
        self.counters.add("api_calls", calls)
        with self._lock:
            remaining, reset = self.remaining, self.reset
        if remaining < 0 or remaining >= self.floor:
            return
        delay = reset - time.time() + 1
        if delay <= 0:
            return
        if delay > self.max_wait:
            raise RateBudgetExhausted(
                f"rate limit: {remaining} calls left (floor {self.floor}), "
                f"resets at {iso(datetime.fromtimestamp(reset, UTC))}"
            )
        with self._wait_lock:  # one sleeper at a time; the others then find the reset passed
            delay = reset - time.time() + 1
            if delay > 0:
                self.counters.add("rate_limit_waits")
                time.sleep(delay)


class _Clients:
    """One PyGithub client per worker thread (its requester keeps per-request state)."""

    def __init__(self, factory: Callable[[], Github]) -> None:
        self._factory = factory
        self._local = threading.local()
        self._all: list[Github] = []
        self._lock = threading.Lock()

    def get(self) -> Github:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._factory()
            self._local.client = client
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._all:
                client.close()
            self._all.clear()


class GitHubSource:
    """Failed GitHub Actions jobs of a window, through PyGithub, with raw blobs stored."""

    name = "github"

    def __init__(
        self,
        token: str,
        repos: Sequence[str],
        raw_store: RawStore,
        *,
        base_url: str | None = None,
        max_workers: int = 8,
        per_page: int = 100,
        lookback: timedelta = timedelta(hours=6),
        rate_limit_floor: int = 50,
        max_rate_limit_wait: float = 120.0,
        retry_backoff: float = 0.5,
        retries: int = 5,
        zip_limits: ZipLimits | None = None,
        timeout: int = 30,
        listing_cap: int = LISTING_CAP,
    ) -> None:
        if not token:
            raise ValueError("GitHubSource needs a token (GITHUB_TOKEN)")
        if not repos:
            raise ValueError("GitHubSource needs at least one repository (REPO)")
        for repo in repos:
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise ValueError(f"repository {repo!r} is not of the form owner/name")
        self._token = token
        self.repos = tuple(repos)
        self.raw_store = raw_store
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.max_workers = max(1, max_workers)
        self.per_page = per_page
        self.lookback = lookback
        self.rate_limit_floor = rate_limit_floor
        self.max_rate_limit_wait = max_rate_limit_wait
        self.retry_backoff = retry_backoff
        self.retries = retries
        self.zip_limits = zip_limits or ZipLimits()
        self.timeout = timeout
        self.listing_cap = listing_cap

    def __repr__(self) -> str:  # never shows the token
        return f"GitHubSource(repos={self.repos!r}, base_url={self.base_url!r})"

    @classmethod
    def from_settings(cls, settings: Settings, raw_store: RawStore) -> GitHubSource:
        if not settings.github_token:
            raise ValueError("GITHUB_TOKEN is not set")
        return cls(
            settings.github_token,
            settings.repos,
            raw_store,
            base_url=settings.github_base_url,
        )

    # ----------------------------------------------------------------------------- clients

    def _new_client(self) -> Github:
        retry = GithubRetry(
            total=self.retries,
            backoff_factor=self.retry_backoff,
            backoff_max=60,
            max_rate_limit_wait=self.max_rate_limit_wait,
            secondary_rate_wait=min(60.0, self.max_rate_limit_wait),
            status_forcelist=[*range(500, 600), 429],
        )
        return Github(
            auth=Auth.Token(self._token),
            base_url=self.base_url,
            per_page=self.per_page,
            retry=retry,
            timeout=self.timeout,
            pool_size=2,
            # Pacing comes from the bounded pool and the budget, not a global sleep.
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )

    def _blob_session(self) -> requests.Session:
        """Plain HTTP for pre-signed blob URLs: no token is ever sent there."""
        session = requests.Session()
        retry = Retry(
            total=self.retries,
            backoff_factor=self.retry_backoff,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
        )
        adapter = requests.adapters.HTTPAdapter(
            max_retries=retry, pool_connections=4, pool_maxsize=self.max_workers + 2
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    # ------------------------------------------------------------------------ failed_jobs

    def failed_jobs(self, start: datetime, end: datetime) -> SourceResult:
        """Failed jobs whose `completed_at` lies in [start, end), raw blobs in the raw store."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("failed_jobs needs timezone-aware start and end")
        began = time.monotonic()
        counters = _Counters()
        budget = _RateBudget(self.rate_limit_floor, self.max_rate_limit_wait, counters)
        clients = _Clients(self._new_client)
        session = self._blob_session()
        fetch = _Fetch(self, start, end, counters, budget, clients, session)
        try:
            result = fetch.run()
        finally:
            clients.close()
            session.close()
        result.stats.update(counters.values)
        result.stats.setdefault("api_calls", 0)
        result.stats.update(
            source=self.name,
            repos=list(self.repos),
            jobs=len(result.jobs),
            rate_limit_remaining=budget.remaining,
            rate_limit_limit=budget.limit,
            rate_limit_reset=iso(datetime.fromtimestamp(budget.reset, UTC)) if budget.reset else "",
            elapsed_seconds=round(time.monotonic() - began, 3),
            api_calls_per_job=round(result.stats["api_calls"] / len(result.jobs), 3)
            if result.jobs
            else 0.0,
        )
        return result

    # ------------------------------------------------------------------------- the sensor

    def poll_failed_runs(
        self,
        cursor: str | None,
        *,
        now: datetime | None = None,
        overlap: timedelta = timedelta(minutes=10),
        first_lookback: timedelta = timedelta(hours=1),
    ) -> PollResult:
        """Failed run attempts completed since the cursor, and the new cursor.

        The cursor (JSON) holds the time up to which runs were checked and the keys of the
        runs already reported within `overlap` of it; each poll re-reads that overlap so a run
        that becomes visible late is still found, and is reported once.
        """
        now = (now or datetime.now(UTC)).astimezone(UTC)
        checked_until, seen = _parse_cursor(cursor, now - first_lookback)
        low = checked_until - overlap
        counters = _Counters()
        budget = _RateBudget(self.rate_limit_floor, self.max_rate_limit_wait, counters)
        clients = _Clients(self._new_client)
        fetch = _Fetch(self, low, now, counters, budget, clients, None)
        events: list[FailedRunEvent] = []
        try:
            for repo in self.repos:
                for run in fetch.list_runs(repo, low - self.lookback, now):
                    key = f"{repo}:{run.run_id}:{run.run_attempt}"
                    if (
                        run.status != "completed"
                        or run.conclusion not in FAILED_CONCLUSIONS
                        or run.updated_at < low
                        or key in seen
                    ):
                        continue
                    partitions = sorted(
                        {
                            partition_key(job.completed_at)
                            for job in fetch.run_jobs(run, attempt_only=True)
                            if job.conclusion in FAILED_CONCLUSIONS
                        }
                    ) or [partition_key(run.updated_at)]
                    events.append(
                        FailedRunEvent(
                            repo,
                            run.run_id,
                            run.run_attempt,
                            run.conclusion,
                            iso(run.updated_at),
                            tuple(partitions),
                        )
                    )
        finally:
            clients.close()
        horizon = now - overlap
        kept = {k: v for k, v in seen.items() if _parse_time(v) >= horizon}
        kept.update({e.key: e.updated_at for e in events if _parse_time(e.updated_at) >= horizon})
        new_cursor = json.dumps(
            {"checked_until": iso(now), "seen": dict(sorted(kept.items()))}, sort_keys=True
        )
        stats = dict(counters.values, events=len(events), rate_limit_remaining=budget.remaining)
        return PollResult(events, new_cursor, stats)


class _Fetch:
    """One read of a window: the listing, the fetch tasks and their results."""

    def __init__(
        self,
        source: GitHubSource,
        start: datetime,
        end: datetime,
        counters: _Counters,
        budget: _RateBudget,
        clients: _Clients,
        session: requests.Session | None,
    ) -> None:
        self.source = source
        self.store = source.raw_store
        self.start = start.astimezone(UTC)
        self.end = end.astimezone(UTC)
        self.counters = counters
        self.budget = budget
        self.clients = clients
        self.session = session

    # ------------------------------------------------------------------------- listing

    def _pages(self, items: PaginatedList[T], client: Github) -> Iterator[T]:
        """Iterate a paginated listing (PyGithub follows the Link headers), counting calls."""
        per_page = self.source.per_page
        seen = 0
        failed = False
        self.budget.before_call()
        try:
            for item in items:
                seen += 1
                if seen % per_page == 0:
                    # The next step may fetch another page: check the budget first.
                    self.budget.observe(client)
                    self.budget.before_call()
                yield item
        except GeneratorExit:
            raise
        except BaseException:
            failed = True  # the page that failed was requested: its call stays counted
            raise
        finally:
            self.budget.observe(client)
            # Calls are counted ahead at each page boundary; a listing of exactly k full pages
            # ends (or is left) without fetching page k+1.
            if seen and seen % per_page == 0 and not failed:
                self.counters.add("api_calls", -1)

    def list_runs(self, repo: str, low: datetime, high: datetime) -> list[_RunInfo]:
        """Runs created in [low, high], split until each part is under the listing cap."""
        runs: dict[int, _RunInfo] = {}
        self.collect_runs(repo, low, high, runs)
        return sorted(runs.values(), key=lambda r: r.run_id)

    def collect_runs(
        self, repo: str, low: datetime, high: datetime, runs: dict[int, _RunInfo]
    ) -> None:
        """Add the runs created in [low, high] to `runs`; on failure what was read stays."""
        client = self.clients.get()
        ranges = [(low.replace(microsecond=0), high.replace(microsecond=0))]
        before = len(runs)
        try:
            while ranges:
                lo, hi = ranges.pop()
                listing = client.get_repo(repo).get_workflow_runs(created=f"{iso(lo)}..{iso(hi)}")
                split = False
                for index, run in enumerate(self._pages(listing, client)):
                    cap = self.source.listing_cap
                    if index == 0 and listing.totalCount > cap and hi - lo > timedelta(seconds=1):
                        middle = (lo + (hi - lo) / 2).replace(microsecond=0)
                        ranges += [(lo, middle), (middle + timedelta(seconds=1), hi)]
                        split = True
                        self.counters.add("listing_splits")
                        break
                    runs[run.id] = _run_info(repo, run)
                if not split:
                    self.counters.add("listing_ranges")
        finally:
            self.counters.add("runs_listed", len(runs) - before)

    def run_jobs(self, run: _RunInfo, attempt_only: bool = False) -> list[_JobInfo]:
        """The jobs of every attempt of a run (or of its latest attempt only)."""
        client = self.clients.get()
        listing = PaginatedList(
            WorkflowJob,
            client.requester,
            run.jobs_url,
            {"filter": "latest" if attempt_only else "all"},
            list_item="jobs",
        )
        jobs = [_job_info(run, job) for job in self._pages(listing, client)]
        self.counters.add("runs_scanned")
        return [j for j in jobs if j.completed_at is not None]

    def _wanted(self, run: _RunInfo) -> bool:
        if run.updated_at < self.start or run.created_at >= self.end:
            return False  # nothing in it changed during the window
        return not (
            run.status == "completed"
            and run.run_attempt == 1
            and run.conclusion in SUCCESSFUL_CONCLUSIONS
        )

    # ----------------------------------------------------------------------- per job

    def fetch_job(self, job: _JobInfo) -> _JobMaterial:
        """Log and annotations of one failed job, from the raw store when already there."""
        store = self.store
        run = job.run
        material = _JobMaterial()
        manifest_ref = store.ref(run.repo, run.run_id, job.run_attempt, job.job_id, "manifest.json")
        if store.exists(manifest_ref):
            try:
                material.permanent = dict(
                    json.loads(store.path(manifest_ref).read_text()).get("permanent", {})
                )
            except (OSError, ValueError):
                material.permanent = {}
        client = self.clients.get()
        repo = client.get_repo(run.repo)

        log_ref = store.ref(run.repo, run.run_id, job.run_attempt, job.job_id, "job.log")
        if store.exists(log_ref):
            material.log_ref = log_ref
            material.sizes[log_ref] = store.size(log_ref)
            self.counters.add("logs_reused")
        elif "log" in material.permanent:
            material.missing.append(material.permanent["log"])
        else:
            self._fetch_log(repo, client, job, log_ref, material)

        notes_ref = store.ref(run.repo, run.run_id, job.run_attempt, job.job_id, "annotations.json")
        if store.exists(notes_ref):
            material.annotations_ref = notes_ref
            material.sizes[notes_ref] = store.size(notes_ref)
        elif "annotations" in material.permanent:
            material.missing.append(material.permanent["annotations"])
        else:
            try:
                listing = repo.get_check_run(job.job_id).get_annotations()
                notes = [a.raw_data for a in self._pages(listing, client)]
                data = json.dumps(notes, indent=1).encode()
                store.put_bytes(notes_ref, data)
                material.annotations_ref = notes_ref
                material.sizes[notes_ref] = len(data)
                self.counters.add("annotations", len(notes))
            except (RateBudgetExhausted, RateLimitExceededException):
                raise
            except GithubException as exc:
                self._record_miss(material, "annotations", exc.status, job)
            except requests.RequestException as exc:
                self._record_error(material, "annotations", exc, job)
        return material

    def _fetch_log(
        self, repo: Any, client: Github, job: _JobInfo, log_ref: str, material: _JobMaterial
    ) -> None:
        try:
            self.budget.before_call()
            location = repo.get_workflow_job(job.job_id).logs_url()
            self.budget.observe(client)
            data, truncated = self._download(location, LOG_LIMIT_BYTES, keep_tail=True)
        except (RateBudgetExhausted, RateLimitExceededException):
            raise
        except GithubException as exc:
            self._record_miss(material, "log", exc.status, job)
            return
        except _BlobGone as exc:
            self._record_miss(material, "log", exc.status, job)
            return
        except (requests.RequestException, KeyError) as exc:
            self._record_error(material, "log", exc, job)
            return
        self.store.put_bytes(log_ref, data)
        material.log_ref = log_ref
        material.sizes[log_ref] = len(data)
        self.counters.add("logs_fetched")
        if truncated:
            material.missing.append(f"log: cut to the last {LOG_LIMIT_BYTES} bytes")

    def _record_miss(self, material: _JobMaterial, kind: str, status: int, job: _JobInfo) -> None:
        if status in GONE_STATUSES:
            note = f"{kind}: {GONE_STATUSES[status]} ({status})"
            material.permanent[kind] = note
            self.counters.add(f"{kind}_missing")
        else:
            note = f"{kind}: unavailable ({status})"
            material.problems.append(SourceProblem(_job_path(job, kind), note))
        material.missing.append(note)

    def _record_error(
        self, material: _JobMaterial, kind: str, exc: Exception, job: _JobInfo
    ) -> None:
        note = f"{kind}: unavailable ({type(exc).__name__})"
        material.missing.append(note)
        material.problems.append(SourceProblem(_job_path(job, kind), f"{note}: {_short(exc)}"))

    def _download(self, url: str, limit: int, keep_tail: bool) -> tuple[bytes, bool]:
        """GET a pre-signed blob within `limit` bytes (its tail, or refuse when larger)."""
        assert self.session is not None
        self.counters.add("blob_requests")
        with self.session.get(url, stream=True, timeout=(10, 300)) as response:
            if response.status_code in (403, 404, 410):
                # A pre-signed URL that has expired answers 403 from the blob host.
                raise _BlobGone(410 if response.status_code == 403 else response.status_code)
            response.raise_for_status()
            chunks: deque[bytes] = deque()
            size = 0
            truncated = False
            for chunk in response.iter_content(256 * 1024):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    if not keep_tail:
                        raise _BlobTooLarge(size)
                    truncated = True
                    while size - len(chunks[0]) >= limit:
                        size -= len(chunks.popleft())
        data = b"".join(chunks)
        self.counters.add("bytes", len(data))
        return (data[-limit:] if truncated else data), truncated

    # ---------------------------------------------------------------------- per run

    def fetch_artifacts(self, run: _RunInfo) -> _RunArtifacts:
        """The run's test-report artifacts, unzipped into the raw store (once per attempt)."""
        store = self.store
        manifest_ref = store.ref(
            run.repo, run.run_id, 0, 0, f"artifacts-attempt-{run.run_attempt}.json"
        )
        if store.exists(manifest_ref):
            try:
                rows = json.loads(store.path(manifest_ref).read_text())
                entries = [_ArtifactEntry(**row) for row in rows]
                self.counters.add("artifact_listings_reused")
                return _RunArtifacts(entries)
            except (OSError, ValueError, TypeError):
                pass  # unreadable manifest: list again
        client = self.clients.get()
        result = _RunArtifacts()
        transient = False
        try:
            listing = PaginatedList(
                Artifact, client.requester, run.artifacts_url, None, list_item="artifacts"
            )
            artifacts = list(self._pages(listing, client))
        except (RateBudgetExhausted, RateLimitExceededException):
            raise
        except (GithubException, requests.RequestException) as exc:
            result.problems.append(
                SourceProblem(_run_path(run, "artifacts"), f"listing failed: {_short(exc)}")
            )
            return result
        for artifact in artifacts:
            if not is_report_artifact(artifact.name):
                continue
            entry = _ArtifactEntry(artifact.id, artifact.name, iso(artifact.created_at))
            result.entries.append(entry)
            if artifact.expired:
                entry.missing = f"junit: artifact {artifact.name!r} expired"
                continue
            if artifact.size_in_bytes > ARTIFACT_LIMIT_BYTES:
                entry.missing = f"junit: artifact {artifact.name!r} too large"
                continue
            try:
                self._fetch_artifact(client, run, artifact, entry, result)
            except (RateBudgetExhausted, RateLimitExceededException):
                raise
            except GithubException as exc:
                entry.missing = f"junit: artifact {artifact.name!r} unavailable ({exc.status})"
                transient = transient or exc.status not in GONE_STATUSES
            except _BlobGone as exc:
                entry.missing = f"junit: artifact {artifact.name!r} unavailable ({exc.status})"
            except (requests.RequestException, KeyError) as exc:
                entry.missing = f"junit: artifact {artifact.name!r} unavailable"
                result.problems.append(
                    SourceProblem(_run_path(run, f"artifacts/{artifact.id}"), _short(exc))
                )
                transient = True
        if run.status == "completed" and not transient:
            rows = [
                {
                    "artifact_id": e.artifact_id,
                    "name": e.name,
                    "created_at": e.created_at,
                    "member_refs": e.member_refs,
                    "missing": e.missing,
                }
                for e in result.entries
            ]
            store.put_bytes(manifest_ref, json.dumps(rows, indent=1).encode())
        return result

    def _fetch_artifact(
        self,
        client: Github,
        run: _RunInfo,
        artifact: Artifact,
        entry: _ArtifactEntry,
        result: _RunArtifacts,
    ) -> None:
        self.budget.before_call()
        headers, _ = client.requester.requestBlobAndCheck("GET", artifact.archive_download_url)
        self.budget.observe(client)
        try:
            data, _ = self._download(headers["location"], ARTIFACT_LIMIT_BYTES, keep_tail=False)
        except _BlobTooLarge:
            entry.missing = f"junit: artifact {artifact.name!r} too large"
            return
        label = f"artifact {artifact.name}"
        try:
            read = read_report_members(data, limits=self.source.zip_limits, label=label)
        except UnsafeArchiveError as exc:
            entry.missing = f"junit: artifact {artifact.name!r} refused"
            result.problems.append(
                SourceProblem(_run_path(run, f"artifacts/{artifact.id}"), str(exc))
            )
            return
        for problem in read.problems:
            result.problems.append(
                SourceProblem(_run_path(run, f"artifacts/{artifact.id}"), problem)
            )
        for member in read.members:
            ref = self.store.ref(
                run.repo, run.run_id, 0, 0, f"artifacts/{artifact.id}/{member.name}"
            )
            self.store.put_bytes(ref, member.data)
            entry.member_refs.append(ref)
        self.counters.add("artifacts_downloaded")
        self.counters.add("junit_files", len(read.members))

    # --------------------------------------------------------------------------- run

    def run(self) -> SourceResult:
        result = SourceResult()
        runs: list[_RunInfo] = []
        stop_reason = ""
        for repo in self.source.repos:
            listed: dict[int, _RunInfo] = {}
            try:
                self.collect_runs(repo, self.start - self.source.lookback, self.end, listed)
            except (RateBudgetExhausted, RateLimitExceededException) as exc:
                stop_reason = _short(exc)
            except (GithubException, requests.RequestException) as exc:
                result.problems.append(
                    SourceProblem(f"{repo}/actions/runs", f"listing failed: {_short(exc)}")
                )
                result.incomplete = True
            # What was listed before a failure is still fetched: the rerun then reuses it.
            runs += [r for r in sorted(listed.values(), key=lambda r: r.run_id) if self._wanted(r)]
            if stop_reason:
                break
        self.counters.add("runs_candidates", len(runs))

        jobs_by_run: dict[tuple[str, int], list[_JobInfo]] = {}
        materials: dict[tuple[str, int, int], _JobMaterial] = {}
        artifacts: dict[tuple[str, int], _RunArtifacts] = {}
        pool = ThreadPoolExecutor(self.source.max_workers, thread_name_prefix="github")
        pending: dict[Future[Any], tuple[str, Any]] = {}
        try:
            for run in [] if stop_reason else runs:
                pending[pool.submit(self.run_jobs, run)] = ("jobs", run)
            while pending and not stop_reason:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    kind, subject = pending.pop(future)
                    try:
                        value = future.result()
                    except (RateBudgetExhausted, RateLimitExceededException) as exc:
                        stop_reason = stop_reason or _short(exc)
                        continue  # finish collecting what is done, submit nothing new
                    except Exception as exc:  # one bad run or job never sinks the rest
                        result.problems.append(
                            SourceProblem(_task_path(kind, subject), f"failed: {_short(exc)}")
                        )
                        result.incomplete = True
                        continue
                    if kind == "jobs":
                        failed = [
                            j
                            for j in value
                            if j.conclusion in FAILED_CONCLUSIONS
                            and self.start <= j.completed_at < self.end
                        ]
                        if failed and not stop_reason:
                            jobs_by_run[(subject.repo, subject.run_id)] = failed
                            pending[pool.submit(self.fetch_artifacts, subject)] = (
                                "artifacts",
                                subject,
                            )
                            for job in failed:
                                pending[pool.submit(self.fetch_job, job)] = ("job", job)
                    elif kind == "artifacts":
                        artifacts[(subject.repo, subject.run_id)] = value
                    else:
                        job = subject
                        materials[(job.run.repo, job.run_attempt, job.job_id)] = value
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

        if stop_reason:
            result.incomplete = True
            result.problems.append(SourceProblem("rate_limit", f"stopped early: {stop_reason}"))
            result.stats["stopped"] = stop_reason

        for (repo, run_id), failed in jobs_by_run.items():
            run_artifacts = artifacts.get((repo, run_id))
            if run_artifacts is not None:
                result.problems += run_artifacts.problems
            attributed = attribute_artifacts(run_artifacts.entries if run_artifacts else [], failed)
            for job in failed:
                material = materials.get((repo, job.run_attempt, job.job_id))
                if material is None:
                    self.counters.add("jobs_unfetched")
                    result.incomplete = True
                    continue
                result.problems += material.problems
                missing = list(material.missing)
                if run_artifacts is None:
                    missing.append("junit: artifacts not listed")
                refs, notes = attributed.get(job.job_id, ([], []))
                missing += notes
                result.jobs.append(self._finish(job, material, refs, missing))
        result.jobs.sort(key=lambda j: (j.completed_at, j.key))
        return result

    def _finish(
        self, job: _JobInfo, material: _JobMaterial, junit_refs: list[str], missing: list[str]
    ) -> CIJob:
        run = job.run
        record = CIJob(
            repo=run.repo,
            workflow_name=job.workflow_name or run.workflow_name,
            run_id=run.run_id,
            run_attempt=job.run_attempt,
            job_id=job.job_id,
            job_name=job.name,
            conclusion=job.conclusion,
            started_at=iso(job.started_at) if job.started_at else None,
            completed_at=iso(job.completed_at),
            runner_name=job.runner_name,
            runner_labels=job.labels,
            head_branch=job.head_branch or run.head_branch,
            head_sha=job.head_sha or run.head_sha,
            pr_number=run.pr_number,
            event=run.event,
            html_url=job.html_url,
            failed_step=job.failed_step,
            log_ref=material.log_ref,
            junit_refs=tuple(junit_refs),
            annotations_ref=material.annotations_ref,
            missing=tuple(dict.fromkeys(missing)),
            partition=partition_key(job.completed_at),
        )
        sizes = dict(material.sizes)
        for ref in junit_refs:
            if self.store.exists(ref):
                sizes[ref] = self.store.size(ref)
        manifest = {
            "job": to_row(record),
            "sizes": sizes,
            "missing": list(record.missing),
            "permanent": material.permanent,
            "fetched_at": iso(datetime.now(UTC)),
        }
        manifest_ref = self.store.ref(
            run.repo, run.run_id, job.run_attempt, job.job_id, "manifest.json"
        )
        self.store.put_bytes(manifest_ref, json.dumps(manifest, indent=1).encode())
        return record


class _BlobGone(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"blob gone ({status})")
        self.status = status


class _BlobTooLarge(Exception):
    pass


def attribute_artifacts(
    entries: Iterable[_ArtifactEntry], jobs: Sequence[_JobInfo]
) -> dict[int, tuple[list[str], list[str]]]:
    """Which failed job each artifact belongs to: {job_id: (junit refs, missing notes)}.

    An artifact names no job, so: the jobs that were running when it was uploaded, narrowed to
    those whose name shares the most words with the artifact's name; all of the run's failed
    jobs when the time says nothing.
    """
    out: dict[int, tuple[list[str], list[str]]] = {j.job_id: ([], []) for j in jobs}
    for entry in entries:
        created = _parse_time(entry.created_at)
        candidates = [
            j
            for j in jobs
            if j.started_at is not None
            and j.started_at - ARTIFACT_SLACK <= created <= j.completed_at + ARTIFACT_SLACK
        ] or list(jobs)
        words = _words(entry.name)
        scores = {j.job_id: len(words & _words(j.name)) for j in candidates}
        best = max(scores.values(), default=0)
        chosen = [j for j in candidates if scores[j.job_id] == best] if best else candidates
        for job in chosen:
            refs, notes = out[job.job_id]
            refs += entry.member_refs
            if entry.missing:
                notes.append(entry.missing)
    return out


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9.]+", text.lower()) if w} - {
        "test",
        "tests",
        "results",
        "result",
        "report",
        "reports",
        "junit",
    }


def _run_info(repo: str, run: WorkflowRun) -> _RunInfo:
    pulls = run.pull_requests or []
    return _RunInfo(
        repo=repo,
        run_id=run.id,
        run_attempt=run.run_attempt or 1,
        workflow_name=run.name or "",
        event=run.event or "",
        status=run.status or "",
        conclusion=run.conclusion or "",
        head_branch=run.head_branch or "",
        head_sha=run.head_sha or "",
        pr_number=pulls[0].number if pulls else None,
        jobs_url=run.jobs_url,
        artifacts_url=run.artifacts_url,
        created_at=run.created_at.astimezone(UTC),
        updated_at=run.updated_at.astimezone(UTC),
    )


def _job_info(run: _RunInfo, job: WorkflowJob) -> _JobInfo:
    failed_step = ""
    for step in job.steps or []:
        if step.conclusion in FAILED_CONCLUSIONS:
            failed_step = step.name
            break
    return _JobInfo(
        run=run,
        job_id=job.id,
        run_attempt=job.run_attempt or run.run_attempt,
        name=job.name or "",
        conclusion=job.conclusion or "",
        started_at=job.started_at.astimezone(UTC) if job.started_at else None,
        completed_at=job.completed_at.astimezone(UTC) if job.completed_at else None,  # type: ignore[arg-type]
        runner_name=job.runner_name or "",
        labels=tuple(job.labels or ()),
        head_branch=job.head_branch or "",
        head_sha=job.head_sha or "",
        html_url=job.html_url or "",
        workflow_name=job.workflow_name or "",
        failed_step=failed_step,
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _parse_cursor(cursor: str | None, default: datetime) -> tuple[datetime, dict[str, str]]:
    """(checked_until, {run key: updated_at}) from a cursor; a bad cursor starts afresh."""
    if not cursor:
        return default, {}
    try:
        data = json.loads(cursor)
        checked = _parse_time(str(data["checked_until"]))
        seen = {str(k): str(v) for k, v in dict(data.get("seen", {})).items()}
    except (ValueError, KeyError, TypeError):
        return default, {}
    return checked, seen


def run_key(partition: str, run_keys: Iterable[str]) -> str:
    """A Dagster run key for a partition requested because of these run attempts."""
    return f"{partition}:{stable_id(*sorted(set(run_keys)), length=12)}"


def _job_path(job: _JobInfo, kind: str) -> str:
    return f"{job.run.repo}/actions/runs/{job.run.run_id}/attempts/{job.run_attempt}/jobs/{job.job_id}/{kind}"


def _run_path(run: _RunInfo, kind: str) -> str:
    return f"{run.repo}/actions/runs/{run.run_id}/{kind}"


def _task_path(kind: str, subject: Any) -> str:
    if isinstance(subject, _JobInfo):
        return _job_path(subject, kind)
    return _run_path(subject, kind)


def _short(exc: BaseException) -> str:
    """An exception as one line without URLs (blob URLs carry signatures)."""
    if isinstance(exc, GithubException):
        message = exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else "")
        text = f"HTTP {exc.status}: {message or type(exc).__name__}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = re.sub(r"https?://\S+", "<url>", text)
    return text.splitlines()[0][:300] if text else type(exc).__name__
