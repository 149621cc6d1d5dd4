"""`dagster dev` as a user starts it: a real webserver and daemon on a free port, a temporary
DAGSTER_HOME with the repository's dagster.yaml, and a private ERROR_ASSETS_HOME; driven over
GraphQL with the standard library's HTTP client."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.opensearch_node.launcher import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


class GraphQLError(AssertionError):
    """The webserver answered with GraphQL errors."""


@dataclass
class DagsterDev:
    url: str
    dagster_home: Path
    error_assets_home: Path
    log_path: Path
    process: subprocess.Popen

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        if answer.get("errors"):
            raise GraphQLError(json.dumps(answer["errors"], indent=1)[:4000])
        return answer["data"]

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def start_dagster_dev(tmp: Path, error_assets_home: Path, timeout_s: float = 240) -> DagsterDev:
    """Start `dagster dev` and wait until the code location has loaded."""
    dagster_home = tmp / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENSEARCH_", "ANTHROPIC_", "GITHUB_", "DAGSTER_"))
        and k not in ("REPO", "ERROR_ASSETS_ARCHIVE")
    }
    env.update(
        DAGSTER_HOME=str(dagster_home),
        ERROR_ASSETS_HOME=str(error_assets_home),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp / "dagster_dev.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            str(VENV_BIN / "dagster"),
            "dev",
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as one at the end
    )
    log.close()
    dev = DagsterDev(f"http://127.0.0.1:{port}", dagster_home, error_assets_home, log_path, process)
    deadline = time.monotonic() + timeout_s
    last_error = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster dev exited with {process.returncode}:\n{dev.log_tail()}")
        try:
            data = dev.graphql("{ assetNodes { assetKey { path } } }")
            if any(n["assetKey"]["path"] == ["error_index"] for n in data["assetNodes"]):
                return dev
        except (urllib.error.URLError, ConnectionError, TimeoutError, GraphQLError) as exc:
            last_error = str(exc)
        time.sleep(1.0)
    stop_dagster_dev(dev)
    raise TimeoutError(
        f"dagster dev did not serve the code location within {timeout_s}s ({last_error}):\n"
        f"{dev.log_tail()}"
    )


def stop_dagster_dev(dev: DagsterDev, grace_s: float = 20) -> None:
    """Stop the webserver, daemon and code servers we started: Ctrl-C to their process group
    (what `dagster dev` expects), then SIGKILL for whatever is left of that group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(dev.process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        dev.process.wait(timeout=grace_s)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(dev.process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        dev.process.wait(timeout=10)
