"""Run `error-assets ci` as a subprocess with a fake GitHub Actions environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

FAKE_GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_REPOSITORY": "octo/widgets",
    "GITHUB_RUN_ID": "987654321",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_JOB": "test",
    "GITHUB_WORKFLOW": "CI",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    "GITHUB_REF_NAME": "feature/speedup",
    "GITHUB_EVENT_NAME": "pull_request",
    "RUNNER_NAME": "GitHub Actions 12",
}


@dataclass
class CIRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    summary: str

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::warning")]


def ci_env(workdir: Path, home: Path | None = None, **extra: str) -> dict[str, str]:
    """A clean environment: only PATH/HOME from outside, then the fake run, then `extra`.

    `home` (ERROR_ASSETS_HOME) may be shared by tests so the offline model, cached there,
    is trained once per session rather than per test.
    """
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "ERROR_ASSETS_HOME": str(home or workdir / "home"),
        "GITHUB_STEP_SUMMARY": str(workdir / "step_summary.md"),
        **FAKE_GITHUB,
    }
    env.update(extra)
    return env


def run_ci(
    workdir: Path, args: list[str], env: dict[str, str] | None = None, timeout: float = 60
) -> CIRun:
    env = env or ci_env(workdir)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "error_assets.cli", "ci", *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    summary_path = Path(env.get("GITHUB_STEP_SUMMARY", workdir / "none"))
    summary = summary_path.read_text(encoding="utf-8") if summary_path.is_file() else ""
    return CIRun(result.returncode, result.stdout, result.stderr, seconds, summary)
