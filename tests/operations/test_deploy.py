"""The production files in deploy/: a valid instance configuration, and a workspace that loads
the code from a separately started code server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.opensearch_node.launcher import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def test_production_instance_config_is_valid() -> None:
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(DEPLOY), "dagster.yaml")
    assert set(config["storage"]) == {"postgres"}
    db = config["storage"]["postgres"]["postgres_db"]
    # Credentials come from the environment, never from the file.
    assert db["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    coordinator = config["run_coordinator"]
    module = __import__(coordinator["module"], fromlist=[coordinator["class"]])
    assert getattr(module, coordinator["class"]).__name__ == "QueuedRunCoordinator"
    runs = config["concurrency"]["runs"]
    limits = {item["key"]: item["limit"] for item in runs["tag_concurrency_limits"]}
    assert limits["dagster/backfill"] < runs["max_concurrent_runs"]
    assert "error_assets/reclassification" in limits
    assert config["concurrency"]["pools"]["granularity"] == "op"
    assert config["freshness"] == {"enabled": True}


def test_the_pools_the_assets_use_are_documented() -> None:
    from error_assets.definitions import defs

    pools = {
        defs.resolve_assets_def(name).op.pool for name in ("raw_ci_jobs", "error_classifications")
    }
    readme = (DEPLOY / "README.md").read_text()
    assert pools == {"github", "anthropic"}
    for pool in pools:
        assert f"dagster instance concurrency set {pool}" in readme


@pytest.mark.slow
def test_workspace_loads_from_a_separately_started_code_server(tmp_path: Path) -> None:
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    port = free_port()
    # The production host name is a service name; here the code server runs on this machine.
    entry["grpc_server"].update(host="127.0.0.1", port=port)
    local_workspace = tmp_path / "workspace.yaml"
    local_workspace.write_text(yaml.safe_dump(workspace))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "OPENSEARCH_"))}
    env.update(DAGSTER_HOME=str(tmp_path), ERROR_ASSETS_HOME=str(tmp_path / "home"))
    # Create the instance's storage first: the code server and the CLI would otherwise race to
    # create the same SQLite schema (two alembic heads).
    import dagster as dg

    with dg.DagsterInstance.from_config(str(tmp_path)):
        pass
    server = subprocess.Popen(
        [
            str(VENV_BIN / "dagster"),
            "code-server",
            "start",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            "error_assets.definitions",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        listed = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            listed = subprocess.run(
                [str(VENV_BIN / "dagster"), "job", "list", "-w", str(local_workspace)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if listed.returncode == 0:
                break
            time.sleep(2)
        assert listed is not None and listed.returncode == 0, listed.stderr[-2000:]
        assert "error_pipeline_job" in listed.stdout
        assert "error_trends_job" in listed.stdout
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # seen once under full-suite load: loading was fine
            server.kill()
            server.wait(timeout=30)
