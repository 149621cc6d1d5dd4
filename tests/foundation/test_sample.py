"""The sample generator: deterministic for a seed, realistic enough to exercise every stage."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from error_assets.sample import write_sample
from error_assets.sample.failures import FAMILIES
from error_assets.taxonomy import CATEGORY_NAMES

START = datetime(2026, 11, 20, 5, tzinfo=UTC)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_archive(tmp_path: Path) -> None:
    write_sample(tmp_path / "a", START, hours=4, jobs_per_hour=10, seed=3)
    write_sample(tmp_path / "b", START, hours=4, jobs_per_hour=10, seed=3)
    write_sample(tmp_path / "c", START, hours=4, jobs_per_hour=10, seed=4)
    a, b, c = (tree_digest(tmp_path / n) for n in "abc")
    assert a and a == b
    assert a != c


def test_hours_do_not_depend_on_the_range_asked_for(tmp_path: Path) -> None:
    write_sample(tmp_path / "short", START, hours=2, jobs_per_hour=5, seed=1)
    write_sample(tmp_path / "long", START, hours=5, jobs_per_hour=5, seed=1)
    short, long = tree_digest(tmp_path / "short"), tree_digest(tmp_path / "long")
    assert short.items() <= long.items()


def test_content_start_places_the_same_failures_at_other_hours(tmp_path: Path) -> None:
    later = datetime(2026, 11, 27, 14, tzinfo=UTC)
    fixed = write_sample(tmp_path / "a", START, hours=3, jobs_per_hour=8, seed=2)
    moved = write_sample(
        tmp_path / "b", later, hours=3, jobs_per_hour=8, seed=2, content_start=START
    )
    plain = write_sample(tmp_path / "c", later, hours=3, jobs_per_hour=8, seed=2)
    assert moved.jobs == fixed.jobs and moved.families == fixed.families
    assert plain.families != fixed.families

    def messages(root: Path) -> list[str]:
        return [json.loads(p.read_text())["sample_family"] for p in sorted(root.rglob("job.json"))]

    assert messages(tmp_path / "b") == messages(tmp_path / "a")
    assert (tmp_path / "b" / "2026-11-27" / "14").is_dir()  # placed at its own hours


def test_archive_content_is_realistic(tmp_path: Path) -> None:
    summary = write_sample(tmp_path, START, hours=24, jobs_per_hour=12, seed=9)
    jobs = [json.loads(p.read_text()) for p in tmp_path.rglob("job.json")]
    assert len(jobs) == summary.jobs
    assert {j["sample_category"] for j in jobs} == set(CATEGORY_NAMES)
    assert sum(summary.families.values()) == summary.jobs
    assert sum(1 for n in summary.families.values() if n) >= len(FAMILIES) - 2
    for job in jobs:
        completed = datetime.fromisoformat(job["completed_at"].replace("Z", "+00:00"))
        folder = next(tmp_path.rglob(f"{job['run_id']}-{job['run_attempt']}-{job['job_id']}"))
        # Filed under the hour it completed in.
        assert folder.parent.parent.name == completed.strftime("%H")
        log = (folder / "log.txt").read_text(encoding="utf-8")
        assert log.startswith("\ufeff") and "##[group]" in log
        assert "\x1b[" in log  # ANSI colour, as real logs have
    kinds = (
        {p.parent.name for p in tmp_path.rglob("*.xml")}
        | {p.name for p in tmp_path.rglob("buildkit.log")}
        | {p.name for p in tmp_path.rglob("annotations.json")}
    )
    assert {"junit", "buildkit.log", "annotations.json"} <= kinds


def test_log_size_knob(tmp_path: Path) -> None:
    summary = write_sample(tmp_path, START, hours=1, jobs_per_hour=2, seed=1, log_mb=0.5)
    logs = list(tmp_path.rglob("log.txt"))
    assert all(0.45e6 < p.stat().st_size < 0.7e6 for p in logs)
    assert summary.bytes_written >= sum(p.stat().st_size for p in logs)


def test_cli_writes_into_the_pipeline_archive(error_assets_home: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "error_assets.cli",
            "sample",
            "--hours",
            "2",
            "--jobs-per-hour",
            "3",
            "--start",
            "2026-11-20T05:00:00Z",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (error_assets_home / "archive" / "2026-11-20" / "05").is_dir()
    assert "failed jobs" in result.stdout
