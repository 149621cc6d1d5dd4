"""Fixtures of the CI-step tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ERROR_ASSETS_HOME for the CI-step tests, its offline model ready.

    The step loads the model packaged with error_assets in milliseconds; only when the
    training corpus was edited without a rebuild must it be fitted (seconds of CPU). That
    fit happens here, once, into the cache the subprocesses read, so each test's budget is
    spent on what the test is about.
    """
    from error_assets.classification.offline import offline_classifier

    home = tmp_path_factory.mktemp("ci-home")
    offline_classifier(home / "cache")
    return home
