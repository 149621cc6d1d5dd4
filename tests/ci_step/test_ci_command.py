"""`error-assets ci` end to end as a subprocess: real inputs, fake GitHub environment, local store."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci_step.fake_jobs_api import JobsAPI, job, serve_jobs
from tests.ci_step.running import FAKE_GITHUB, ci_env, run_ci

pytestmark = pytest.mark.realworld

RUNNER_SHUTDOWN = "logs/gha_runner_shutdown_signal.log"
COMPILE_ERROR = "logs/gha_gcc_compile_error_ninja.log"
PYTEST_JUNIT = "junit/pytest_horovod_spark_failure.xml"
CORRUPT_JUNIT = "junit/surefire3_truncated_unclosed_cdata_CORRUPT.xml"


def stage(realworld_dir: Path, workdir: Path, *names: str) -> None:
    """Put inputs where a job would have them (the workspace), as the step finds them."""
    for name in names:
        target = workdir / "reports" / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(realworld_dir / name, target)


def local_documents(path: Path) -> list[dict]:
    with sqlite3.connect(path) as conn:
        return [json.loads(r[0]) for r in conn.execute("SELECT body FROM documents ORDER BY id")]


def test_infrastructure_failure_summary(realworld_dir: Path, tmp_path: Path, home: Path) -> None:
    run = run_ci(tmp_path, ["--log", str(realworld_dir / RUNNER_SHUTDOWN)], ci_env(tmp_path, home))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.warnings == []
    assert run.summary.startswith("## error-assets: test failed because of the platform")
    assert "Infrastructure error — confidence" in run.summary
    assert "shutdown signal" in run.summary  # the evidence line
    assert "Re-run the failed job" in run.summary
    assert "[run](https://github.com/octo/widgets/actions/runs/987654321)" in run.summary


def test_code_failure_from_a_log_and_junit_reports(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    stage(realworld_dir, tmp_path, PYTEST_JUNIT, "junit/go_junit_report_test_failure.xml")
    run = run_ci(
        tmp_path,
        ["--junit", "reports/*.xml", "--log", str(realworld_dir / COMPILE_ERROR), "--annotate"],
        ci_env(tmp_path, home),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "because of the code under test" in run.summary
    assert "kineto_metadata.cpp" in run.summary  # the failed compile of the log
    assert "error clusters of this job" in run.summary  # log + two reports: several clusters
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert annotations and all("title=Code error" in line for line in annotations)


def test_disabled_is_a_no_op(realworld_dir: Path, tmp_path: Path, home: Path) -> None:
    env = ci_env(tmp_path, home, ENABLE_ERROR_CLASSIFICATION="false")
    run = run_ci(tmp_path, ["--log", str(realworld_dir / RUNNER_SHUTDOWN)], env)
    assert run.returncode == 0
    assert run.summary == ""
    assert "nothing to do" in run.stdout


@pytest.mark.parametrize("strict", [False, True])
def test_bad_configuration_is_a_warning_and_exit_0_unless_strict(
    realworld_dir: Path, tmp_path: Path, home: Path, strict: bool
) -> None:
    env = ci_env(tmp_path, home, CLASSIFY_REALTIME_THRESHOLD="sometimes")
    args = ["--log", str(realworld_dir / RUNNER_SHUTDOWN)] + (["--strict"] if strict else [])
    run = run_ci(tmp_path, args, env)
    assert run.returncode == (1 if strict else 0)
    assert len(run.warnings) == 1 and "CLASSIFY_REALTIME_THRESHOLD" in run.warnings[0]
    assert "Traceback" not in run.stderr


def test_unreadable_inputs_are_named_and_the_rest_is_still_classified(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    stage(realworld_dir, tmp_path, CORRUPT_JUNIT)
    (tmp_path / "reports" / "binary.xml").write_bytes(b"\x00\x01\xff" * 1000)
    args = [
        "--junit", "reports/*.xml",
        "--junit", "nothing-here/*.xml",
        "--log", "missing.log",
        "--log", str(realworld_dir / RUNNER_SHUTDOWN),
    ]  # fmt: skip
    run = run_ci(tmp_path, args, ci_env(tmp_path, home))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Infrastructure error — confidence" in run.summary
    assert "missing.log: no such file" in run.summary
    assert "no file matched --junit 'nothing-here/*.xml'" in run.summary
    assert "binary.xml" in run.summary  # named with its reason under "Unread inputs"
    assert any("missing.log" in w for w in run.warnings)


def test_garbage_in_the_github_variables_never_fails_the_job(tmp_path: Path, home: Path) -> None:
    env = ci_env(tmp_path, home, GITHUB_RUN_ID="not-a-number", GITHUB_STEP_SUMMARY=str(tmp_path))
    run = run_ci(tmp_path, ["--log", "x.log"], env)
    assert run.returncode == 0
    assert "GITHUB_RUN_ID" in run.warnings[0]


def test_an_unwritable_summary_file_is_a_warning(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    env = ci_env(tmp_path, home, GITHUB_STEP_SUMMARY=str(tmp_path))  # a directory
    run = run_ci(tmp_path, ["--log", str(realworld_dir / RUNNER_SHUTDOWN)], env)
    assert run.returncode == 0
    assert any("cannot append the summary" in w for w in run.warnings)


def test_documents_are_real_time_linked_to_the_job_looked_up_by_id(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    store = tmp_path / "store.sqlite3"
    jobs = [
        job(111, "lint", "GitHub Actions 3"),
        job(4242, "test (ubuntu, 3.12)", "GitHub Actions 12"),
    ]
    with serve_jobs(JobsAPI(jobs=jobs)) as api:
        env = ci_env(tmp_path, home, GITHUB_TOKEN="ghs_test_token", GITHUB_API_URL=api.url)
        run = run_ci(
            tmp_path,
            ["--log", str(realworld_dir / RUNNER_SHUTDOWN), "--local-store", str(store)],
            env,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert api.requests[0]["path"].endswith("/actions/runs/987654321/attempts/1/jobs")
    docs = local_documents(store)
    assert docs and all(d["b_realtime"] is True for d in docs)
    first = docs[0]
    assert first["s_error_id"] == f"{first['s_error_hash']}:{first['s_partition']}:rt:4242"
    assert first["s_job_id"] == "4242" and first["l_job_ids"] == [4242]
    assert first["s_job_name"] == "test (ubuntu, 3.12)"
    assert first["s_workflow_id"] == "987654321" and first["s_repo"] == "octo/widgets"
    assert first["s_head_sha"] == FAKE_GITHUB["GITHUB_SHA"]
    assert first["s_primary_category"] == "infrastructure_error"
    assert "written to the local store" in run.summary
    assert "ghs_test_token" not in run.stdout + run.stderr + run.summary + json.dumps(docs)


def test_without_a_token_the_documents_use_a_stable_stand_in(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    store = tmp_path / "store.sqlite3"
    args = ["--log", str(realworld_dir / RUNNER_SHUTDOWN), "--local-store", str(store)]
    assert run_ci(tmp_path, args, ci_env(tmp_path, home)).returncode == 0
    assert (
        run_ci(tmp_path, args, ci_env(tmp_path, home)).returncode == 0
    )  # a rerun of the step overwrites, no duplicate
    docs = local_documents(store)
    ids = [d["s_error_id"] for d in docs]
    assert len(ids) == len(set(ids)) and all(":rt:key-" in i for i in ids)


def test_batch_reconciliation_does_not_count_real_time_documents(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    """The hourly batch replaces its partition without deleting the step's documents, and
    neither the trend nor the cluster history counts them."""
    from datetime import timedelta

    from error_assets.stores.documents import partition_start
    from error_assets.stores.local_store import LocalStore

    store_path = tmp_path / "store.sqlite3"
    args = ["--log", str(realworld_dir / RUNNER_SHUTDOWN), "--local-store", str(store_path)]
    assert run_ci(tmp_path, args, ci_env(tmp_path, home)).returncode == 0
    realtime = local_documents(store_path)
    partition = realtime[0]["s_partition"]
    batch = {k: v for k, v in realtime[0].items()}
    batch.update(s_error_id=f"{batch['s_error_hash']}:{partition}", b_realtime=False)
    start = partition_start(partition)
    with LocalStore(store_path) as store:
        store.replace_partition(partition, [batch])
        assert [d["s_error_id"] for d in store.partition_documents(partition)] == [
            batch["s_error_id"]
        ]
        assert len(store.realtime_documents()) == len(realtime)
        buckets = store.trend(start, start + timedelta(hours=1), "hour")
        assert sum(b.clusters for b in buckets) == 1
        assert sum(b.occurrences for b in buckets) == batch["l_occurrence_count"]


def imported_after_run(tmp_path: Path, home: Path, args: list[str]) -> dict:
    """Run the command in a fresh interpreter; report its exit code and the heavy modules loaded."""
    probe = (
        "import sys, json\n"
        "from error_assets.cli import main\n"
        "code = main(['ci', *sys.argv[1:]])\n"
        "heavy = {'dagster', 'pandas', 'anthropic', 'sklearn', 'numpy', 'scipy', 'opensearchpy', 'github'}\n"
        "print(json.dumps({'code': code, 'heavy': sorted({m.split('.')[0] for m in sys.modules} & heavy)}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        env=ci_env(tmp_path, home, ANTHROPIC_API_KEY=""), cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_rules_decided_run_imports_nothing_heavy(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    stage(realworld_dir, tmp_path, PYTEST_JUNIT)
    report = imported_after_run(
        tmp_path, home, ["--junit", "reports/*.xml", "--log", str(realworld_dir / RUNNER_SHUTDOWN)]
    )
    assert report["code"] == 0
    summary = (tmp_path / "step_summary.md").read_text()
    assert "Code error" in summary and "Infrastructure error" in summary
    assert report["heavy"] == [], report


def test_a_run_needing_the_offline_model_imports_nothing_heavy(
    realworld_dir: Path, tmp_path: Path, home: Path
) -> None:
    """The offline model classifies in plain Python: no scikit-learn, numpy or pandas."""
    report = imported_after_run(tmp_path, home, ["--log", str(realworld_dir / COMPILE_ERROR)])
    assert report["code"] == 0
    assert "`offline`" in (tmp_path / "step_summary.md").read_text()
    assert report["heavy"] == [], report


def test_a_fresh_install_uses_the_packaged_offline_model(
    realworld_dir: Path, tmp_path: Path
) -> None:
    """An empty ERROR_ASSETS_HOME (a new runner): the packaged model is loaded, nothing is
    fitted or cached, and still nothing heavy is imported."""
    home = tmp_path / "fresh-home"
    report = imported_after_run(tmp_path, home, ["--log", str(realworld_dir / COMPILE_ERROR)])
    assert report["code"] == 0
    assert "`offline`" in (tmp_path / "step_summary.md").read_text()
    assert report["heavy"] == [], report
    assert not list(home.glob("cache/offline-model-*"))
