"""Shared fixtures. Service fixtures live in `tests/support/` plugins, one per service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.support.opensearch_node",
    "tests.support.fake_anthropic",
    "tests.support.fake_github",
]

REPO_ROOT = Path(__file__).resolve().parents[1]


def _realworld_dir() -> Path:
    override = os.environ.get("ERROR_ASSETS_REALWORLD")
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "data" / "realworld"


@pytest.fixture(scope="session")
def realworld_dir() -> Path:
    """`../shared/data/realworld`: skipped when absent, a failure under CI=true."""
    path = _realworld_dir()
    if not (path / "error_snippets.jsonl").is_file():
        message = f"realworld test data not found at {path} (set ERROR_ASSETS_REALWORLD)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def error_assets_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ERROR_ASSETS_HOME (and DAGSTER_HOME inside it) for one test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("ERROR_ASSETS_HOME", str(home))
    monkeypatch.delenv("ERROR_ASSETS_ARCHIVE", raising=False)
    for name in (
        "ANTHROPIC_API_KEY",
        "OPENSEARCH_URL",
        "GITHUB_TOKEN",
        "REPO",
    ):
        monkeypatch.delenv(name, raising=False)
    dagster_home = home / "dagster_home"
    dagster_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    return home
