"""The composite action: its inputs, and its run script executed by bash with the real CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.ci_step.running import ci_env

REPO_ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))


def step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def test_action_is_composite_and_maps_every_input() -> None:
    assert ACTION["runs"]["using"] == "composite"
    classify = step("Classify the failure")
    mapped = " ".join(str(v) for v in classify["env"].values())
    for name in ACTION["inputs"]:
        if name != "python-version":
            assert f"inputs.{name}" in mapped, name
    # Inputs reach the script only through the environment (no expression in the script).
    assert "${{" not in classify["run"]
    assert "${{" not in step("Install error-assets")["run"]


def test_example_workflow_uses_failure_and_the_final_job_pattern() -> None:
    workflow = yaml.safe_load(
        (REPO_ROOT / "examples/workflows/classify-failures.yml").read_text(encoding="utf-8")
    )
    steps = workflow["jobs"]["test"]["steps"]
    classify = next(s for s in steps if "error_assets" in str(s.get("uses", "")))
    assert classify["if"] == "failure()"
    assert not any(s.get("continue-on-error") for s in steps)
    final = workflow["jobs"]["explain-failures"]
    assert final["needs"] == ["test"] and final["if"] == "failure()"


@pytest.mark.realworld
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_run_script_passes_multi_line_inputs_to_the_cli(
    realworld_dir: Path, tmp_path: Path
) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "error-assets").symlink_to(Path(sys.executable).parent / "error-assets")
    logs = tmp_path / "logs dir"
    logs.mkdir()
    shutil.copyfile(realworld_dir / "logs/gha_runner_shutdown_signal.log", logs / "job one.log")
    env = ci_env(
        tmp_path,
        VENV=str(tmp_path / "venv"),
        INPUT_JUNIT="  \n  nothing/*.xml  \n",
        INPUT_LOGS=f"{logs / 'job one.log'}\n\n",
        INPUT_BUILDKIT="",
        INPUT_ANNOTATIONS="",
        INPUT_BUDGET="15",
        INPUT_ANNOTATE="true",
        INPUT_STRICT="false",
        ENABLE_ERROR_CLASSIFICATION="true",
        CLASSIFY_REALTIME_THRESHOLD="infrastructure",
        ANTHROPIC_API_KEY="",
        OPENSEARCH_URL="",
        ERROR_CLASSIFICATION_INDEX="",
    )
    result = subprocess.run(
        ["bash", "-e", "-c", step("Classify the failure")["run"]],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (tmp_path / "step_summary.md").read_text(encoding="utf-8")
    assert "Infrastructure error" in summary
    assert "no file matched --junit 'nothing/*.xml'" in summary  # trimmed, blank lines dropped
    assert "::error title=Infrastructure error" in result.stdout  # --annotate passed


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_run_script_is_a_no_op_when_the_install_failed(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", "-e", "-c", step("Classify the failure")["run"]],
        env={"PATH": "/usr/bin:/bin", "VENV": str(tmp_path / "missing")},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0 and result.stdout == ""
