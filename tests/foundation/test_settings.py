"""Configuration: defaults with no environment, clear errors naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from error_assets.settings import Settings, SettingsError


def test_embedded_defaults(tmp_path: Path) -> None:
    s = Settings.from_env({}, cwd=tmp_path)
    assert s.home == tmp_path / ".error_assets"
    assert s.archive == s.home / "archive"
    assert not (s.llm_enabled or s.github_enabled or s.opensearch_enabled)
    assert (s.index, s.realtime_threshold, s.max_error_length, s.batch_size) == (
        "error_classifications",
        "infrastructure",
        10_000,
        10,
    )
    assert s.enable_classification is True


def test_switches_each_service_on(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "ANTHROPIC_API_KEY": "k",
            "OPENSEARCH_URL": "https://os:9200",
            "GITHUB_TOKEN": "t",
            "REPO": "a/b, c/d",
            "ERROR_CLASSIFICATION_INDEX": "errs",
            "BATCH_SIZE": "25",
        },
        cwd=tmp_path,
    )
    assert s.llm_enabled and s.opensearch_enabled and s.github_enabled
    assert s.repos == ("a/b", "c/d") and s.index == "errs" and s.batch_size == 25


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("CLASSIFY_REALTIME_THRESHOLD", "sometimes", "all, infrastructure, none"),
        ("ENABLE_ERROR_CLASSIFICATION", "maybe", "true or false"),
        ("MAX_ERROR_LENGTH", "ten", "whole number"),
        ("MAX_ERROR_LENGTH", "5", "minimum"),
        ("BATCH_SIZE", "0", "minimum"),
        ("REPO", "just-a-name", "owner/name"),
    ],
)
def test_invalid_values_name_the_variable(name: str, value: str, needle: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env({name: value})
    assert name in str(error.value) and needle in str(error.value)
