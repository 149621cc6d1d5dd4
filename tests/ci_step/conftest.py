"""Fixtures of the CI-step tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ERROR_ASSETS_HOME for the CI-step tests, its offline model already fitted.

    On a fresh runner the step fits the offline model itself (seconds of CPU); here it is
    fitted once, in this process, into the cache the subprocesses read, so each test's
    budget is spent on what the test is about.
    """
    from error_assets.classification.offline import offline_classifier

    home = tmp_path_factory.mktemp("ci-home")
    offline_classifier(home / "cache")
    return home
