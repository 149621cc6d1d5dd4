"""The local archive: recorded CI runs on disk, read like a CI provider would answer.

Layout (written by `error-assets sample`, or by hand from real runs):

    <archive>/<YYYY-MM-DD>/<HH>/<owner>__<name>/<run_id>-<attempt>-<job_id>/
        job.json           CI job metadata (CIJob fields) and a "files" map
        log.txt            raw GitHub Actions job log
        junit/*.xml        test reports
        buildkit*.log      BuildKit output
        annotations.json   check-run annotations (GitHub's JSON shape)

The hour directory is the hour the job *completed* (UTC). Jobs are still filtered by their own
`completed_at`, so a mis-filed job is neither lost nor counted twice.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from error_assets.models import CIJob
from error_assets.sources.base import FAILED_CONCLUSIONS, SourceProblem, SourceResult
from error_assets.sources.raw_store import RawStore
from error_assets.stores.documents import iso, partition_key

REQUIRED_JOB_FIELDS = ("repo", "run_id", "job_id", "job_name", "conclusion", "completed_at")


class LocalArchiveSource:
    name = "local_archive"

    def __init__(self, archive_dir: Path, raw_store: RawStore) -> None:
        self.archive_dir = Path(archive_dir)
        self.raw_store = raw_store

    def failed_jobs(self, start: datetime, end: datetime) -> SourceResult:
        result = SourceResult(stats={"source": self.name, "archive": str(self.archive_dir)})
        hour = start.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        scanned = 0
        while hour < end + timedelta(hours=1):
            hour_dir = self.archive_dir / hour.strftime("%Y-%m-%d") / hour.strftime("%H")
            if hour_dir.is_dir():
                for job_json in sorted(hour_dir.glob("*/*/job.json")):
                    scanned += 1
                    try:
                        job = self._read_job(job_json)
                    except (OSError, ValueError, TypeError, KeyError) as exc:
                        result.problems.append(SourceProblem(str(job_json), str(exc)))
                        continue
                    completed = _parse_time(job.completed_at)
                    if job.conclusion in FAILED_CONCLUSIONS and start <= completed < end:
                        result.jobs.append(self._store_blobs(job, job_json.parent))
            hour += timedelta(hours=1)
        result.jobs.sort(key=lambda j: (j.completed_at, j.key))
        result.stats.update(jobs_scanned=scanned, jobs=len(result.jobs))
        return result

    def _read_job(self, job_json: Path) -> CIJob:
        try:
            data: dict[str, Any] = json.loads(job_json.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError("job.json is not a JSON object")
        missing = [f for f in REQUIRED_JOB_FIELDS if data.get(f) in (None, "")]
        if missing:
            raise ValueError(f"missing field(s): {', '.join(missing)}")
        completed = _parse_time(str(data["completed_at"]))
        return CIJob(
            repo=str(data["repo"]),
            workflow_name=str(data.get("workflow_name", "")),
            run_id=int(data["run_id"]),
            run_attempt=int(data.get("run_attempt", 1)),
            job_id=int(data["job_id"]),
            job_name=str(data["job_name"]),
            conclusion=str(data["conclusion"]),
            started_at=data.get("started_at"),
            completed_at=iso(completed),
            runner_name=str(data.get("runner_name", "")),
            runner_labels=tuple(data.get("runner_labels", ())),
            head_branch=str(data.get("head_branch", "")),
            head_sha=str(data.get("head_sha", "")),
            pr_number=data.get("pr_number"),
            event=str(data.get("event", "")),
            html_url=str(data.get("html_url", "")),
            failed_step=str(data.get("failed_step", "")),
            partition=partition_key(completed),
        )

    def _store_blobs(self, job: CIJob, job_dir: Path) -> CIJob:
        """Copy the job's files into the raw store (once) and record their references."""

        def keep(path: Path) -> str:
            ref = self.raw_store.ref(
                job.repo, job.run_id, job.run_attempt, job.job_id, str(path.relative_to(job_dir))
            )
            if not self.raw_store.exists(ref):
                self.raw_store.put_file(ref, path)
            return ref

        log = job_dir / "log.txt"
        annotations = job_dir / "annotations.json"
        missing = [] if log.is_file() else ["log: not in archive"]
        return replace(
            job,
            log_ref=keep(log) if log.is_file() else None,
            junit_refs=tuple(keep(p) for p in sorted((job_dir / "junit").glob("*.xml"))),
            buildkit_refs=tuple(keep(p) for p in sorted(job_dir.glob("buildkit*.log"))),
            annotations_ref=keep(annotations) if annotations.is_file() else None,
            missing=tuple(missing),
        )


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"completed_at {value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"completed_at {value!r} has no time zone")
    return moment
