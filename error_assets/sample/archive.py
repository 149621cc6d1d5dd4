"""Write a realistic, deterministic archive of failed CI jobs (see `sources/local_archive.py`)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from error_assets.sample.failures import FAMILIES, Failure, pick_family

REPOS = ("acme/api", "acme/web", "acme/engine")
WORKFLOWS = ("CI", "Build", "Nightly")
ANSI_GREEN, ANSI_RED, ANSI_RESET = "\x1b[32m", "\x1b[31;1m", "\x1b[0m"

NOISE = (
    "Requirement already satisfied: packaging>=20 in /opt/hostedtoolcache/Python/3.12.7/x64/lib",
    "tests/unit/test_models.py::test_roundtrip[{n}] PASSED",
    "[{n}/2048] Building CXX object src/CMakeFiles/core.dir/core_{n}.cc.o",
    "   Compiling serde v1.0.{n}",
    "info: syncing channel updates for 'stable-x86_64-unknown-linux-gnu'",
    "Downloading https://files.pythonhosted.org/packages/{h}/wheel-0.{n}.0-py3-none-any.whl",
    "ok  \tgithub.com/acme/api/internal/util\t0.{n}s",
    "PASS src/components/Button.test.tsx ({n} ms)",
    "[INFO] Tests run: {n}, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 1.{n} s",
)


@dataclass(frozen=True)
class SampleSummary:
    out: Path
    jobs: int
    hours: int
    families: dict[str, int]
    bytes_written: int


class LogWriter:
    """GitHub Actions raw log lines: timestamp prefix, groups, ANSI colour."""

    def __init__(self, start: datetime, rng: random.Random) -> None:
        self.now = start
        self.rng = rng
        self.lines: list[str] = []

    def emit(self, text: str, advance_ms: int = 40) -> None:
        self.now += timedelta(milliseconds=self.rng.randint(1, advance_ms))
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.now.microsecond:06d}0Z"
        self.lines.append(f"{stamp} {text}")

    def group(self, title: str, body: list[str]) -> None:
        self.emit(f"##[group]{title}")
        for line in body:
            self.emit(line)
        self.emit("##[endgroup]")

    def text(self) -> str:
        return "\ufeff" + "\n".join(self.lines) + "\n"


def _noise(rng: random.Random) -> str:
    template = rng.choice(NOISE)
    return template.format(n=rng.randint(1, 999), h=f"{rng.getrandbits(32):08x}")


def render_log(
    job_start: datetime, failure: Failure, rng: random.Random, log_bytes: int, runner: str
) -> str:
    w = LogWriter(job_start, rng)
    w.group(
        "Runner Image",
        ["Image: ubuntu-24.04", f"Version: 2026112{rng.randint(0, 9)}.{rng.randint(1, 99)}"],
    )
    w.emit(f"Runner name: '{runner}'")
    w.group("Run actions/checkout@v4", ["with:", "  repository: acme/app", "  fetch-depth: 1"])
    w.emit("Syncing repository: acme/app")
    w.emit(f"{ANSI_GREEN}Checked out {rng.getrandbits(160):040x}{ANSI_RESET}")
    w.group(f"Run {failure.step.lower().replace(' ', '-')}", ["shell: /usr/bin/bash -e {0}"])
    # The failing step: padding noise first (the size knob), then the failure itself.
    written = sum(len(line) + 1 for line in w.lines)
    while written < log_bytes:
        line = _noise(rng)
        w.emit(line, advance_ms=5)
        written += len(line) + 30
    for line in failure.log_lines:
        w.emit(
            f"{ANSI_RED}{line}{ANSI_RESET}"
            if "error" in line.lower() and rng.random() < 0.3
            else line
        )
    if failure.buildkit:
        for line in failure.buildkit.splitlines():
            w.emit(line)
        last = failure.buildkit.strip().splitlines()[-1]
        w.emit(f"##[error]buildx failed with: {last}")
    if failure.conclusion != "timed_out" and "lost communication" not in " ".join(
        failure.log_lines
    ):
        w.emit(f"##[error]Process completed with exit code {failure.exit_code}.")
    w.emit("Post job cleanup.")
    w.emit("Cleaning up orphan processes")
    return w.text()


def write_sample(
    out: Path,
    start: datetime,
    hours: int,
    jobs_per_hour: int,
    seed: int,
    log_mb: float = 0.0,
    content_start: datetime | None = None,
) -> SampleSummary:
    """Write `hours` hours of failed jobs starting at `start` (UTC, whole hour) into `out`.

    The failures of an hour are drawn from the seed and the hour itself; `content_start`
    draws them from other hours instead (`content_start` + h for the h-th hour), so the same
    failures can be placed at any time: tests whose hours follow the clock stay identical.
    """
    start = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    content_start = (
        (content_start or start).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    )
    families: dict[str, int] = dict.fromkeys(FAMILIES, 0)
    total = 0
    written = 0
    log_bytes = int(log_mb * 1024 * 1024)
    for h in range(hours):
        hour = start + timedelta(hours=h)
        # One generator per hour: the archive of an hour does not depend on how many hours
        # were asked for, so regenerating a longer range keeps earlier hours identical.
        rng = random.Random(f"{seed}:{(content_start + timedelta(hours=h)).isoformat()}")
        count = max(1, jobs_per_hour + rng.randint(-jobs_per_hour // 4, jobs_per_hour // 4))
        for index in range(count):
            family = pick_family(rng)
            failure = FAMILIES[family][0](rng)
            families[family] += 1
            written += _write_job(out, hour, index, failure, rng, log_bytes)
            total += 1
    return SampleSummary(out=out, jobs=total, hours=hours, families=families, bytes_written=written)


def _write_job(
    out: Path, hour: datetime, index: int, failure: Failure, rng: random.Random, log_bytes: int
) -> int:
    repo = rng.choice(REPOS)
    completed = hour + timedelta(seconds=rng.randint(0, 3599), microseconds=rng.randint(0, 999999))
    started = completed - timedelta(seconds=rng.randint(60, 1800))
    run_id = 19_000_000_000 + int(hour.timestamp()) // 3600 * 1000 + index
    attempt = 2 if rng.random() < 0.1 else 1
    job_id = 54_000_000_000 + int(hour.timestamp()) // 3600 * 1000 + index
    runner = rng.choice(["GitHub Actions ", "arc-runner-set-x8k2p-runner-", "ip-10-0-12-"]) + str(
        rng.randint(2, 999)
    )
    job_dir = (
        out
        / completed.strftime("%Y-%m-%d")
        / completed.strftime("%H")
        / repo.replace("/", "__")
        / f"{run_id}-{attempt}-{job_id}"
    )
    job_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "repo": repo,
        "workflow_name": rng.choice(WORKFLOWS),
        "run_id": run_id,
        "run_attempt": attempt,
        "job_id": job_id,
        "job_name": f"{failure.step.lower().replace(' ', '-')} ({rng.choice(['ubuntu-24.04', 'linux-x64'])})",
        "conclusion": failure.conclusion,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "completed_at": completed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "runner_name": runner,
        "runner_labels": ["ubuntu-24.04"]
        if runner.startswith("GitHub")
        else ["self-hosted", "linux"],
        "head_branch": rng.choice(["main", f"feature/{failure.family}-{rng.randint(1, 99)}"]),
        "head_sha": f"{rng.getrandbits(160):040x}",
        "pr_number": rng.randint(100, 9999) if rng.random() < 0.6 else None,
        "event": rng.choice(["push", "pull_request", "schedule"]),
        "html_url": f"https://github.com/{repo}/actions/runs/{run_id}/job/{job_id}",
        "failed_step": failure.step,
        "sample_family": failure.family,
        "sample_category": failure.category,
    }
    written = 0
    log = render_log(started, failure, rng, log_bytes, runner)
    written += _write(job_dir / "log.txt", log)
    for i, (dialect, xml) in enumerate(failure.junit):
        written += _write(job_dir / "junit" / f"{dialect}-{i}.xml", xml)
    if failure.buildkit:
        written += _write(job_dir / "buildkit.log", failure.buildkit)
    if failure.annotations:
        written += _write(job_dir / "annotations.json", json.dumps(failure.annotations, indent=1))
    written += _write(job_dir / "job.json", json.dumps(meta, indent=1, sort_keys=True))
    return written


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)
