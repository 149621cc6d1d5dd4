"""Configuration from the environment: read in one place, validated, passed down explicitly.

Domain code never reads `os.environ`; it receives a `Settings` (or the single values it needs).
Invalid values fail fast with a message naming the variable and the accepted values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REALTIME_THRESHOLDS = ("all", "infrastructure", "none")
# Haiku 5.5: current, built for high-volume classification, ~30x cheaper than Sonnet 4.6.
DEFAULT_MODEL = "claude-haiku-5-5"
DEFAULT_INDEX = "error_classifications"


class SettingsError(ValueError):
    """A configuration variable holds a value we cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    archive: Path
    anthropic_api_key: str | None = None
    anthropic_model: str = DEFAULT_MODEL
    anthropic_base_url: str | None = None
    opensearch_url: str | None = None
    opensearch_username: str | None = None
    opensearch_password: str | None = None
    opensearch_verify_certs: bool = True
    opensearch_ca_certs: str | None = None
    index: str = DEFAULT_INDEX
    enable_classification: bool = True
    realtime_threshold: str = "infrastructure"
    max_error_length: int = 10_000
    batch_size: int = 10
    max_cost_usd_per_run: float = 1.0
    github_token: str | None = None
    repos: tuple[str, ...] = ()
    github_base_url: str | None = None
    partition_start: str | None = None

    @property
    def llm_enabled(self) -> bool:
        return bool(self.anthropic_api_key)

    @property
    def github_enabled(self) -> bool:
        return bool(self.github_token and self.repos)

    @property
    def opensearch_enabled(self) -> bool:
        return bool(self.opensearch_url)

    @property
    def raw_store_dir(self) -> Path:
        return self.home / "raw"

    @property
    def store_path(self) -> Path:
        return self.home / "store" / "errors.sqlite3"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @classmethod
    def from_env(cls, env: Mapping[str, str], cwd: Path | None = None) -> Settings:
        base = cwd or Path.cwd()
        home = Path(_get(env, "ERROR_ASSETS_HOME") or base / ".error_assets").expanduser()
        if not home.is_absolute():
            home = (base / home).resolve()
        archive = Path(_get(env, "ERROR_ASSETS_ARCHIVE") or home / "archive").expanduser()
        repos = tuple(r.strip() for r in (_get(env, "REPO") or "").split(",") if r.strip())
        for repo in repos:
            if repo.count("/") != 1 or not all(repo.split("/")):
                raise SettingsError(f"REPO: {repo!r} is not of the form owner/name")
        return cls(
            home=home,
            archive=archive,
            anthropic_api_key=_get(env, "ANTHROPIC_API_KEY"),
            anthropic_model=_get(env, "ANTHROPIC_MODEL") or DEFAULT_MODEL,
            anthropic_base_url=_get(env, "ANTHROPIC_BASE_URL"),
            opensearch_url=_get(env, "OPENSEARCH_URL"),
            opensearch_username=_get(env, "OPENSEARCH_USERNAME"),
            opensearch_password=_get(env, "OPENSEARCH_PASSWORD"),
            opensearch_verify_certs=_bool(env, "OPENSEARCH_VERIFY_CERTS", True),
            opensearch_ca_certs=_get(env, "OPENSEARCH_CA_CERTS"),
            index=_get(env, "ERROR_CLASSIFICATION_INDEX") or DEFAULT_INDEX,
            enable_classification=_bool(env, "ENABLE_ERROR_CLASSIFICATION", True),
            realtime_threshold=_choice(
                env, "CLASSIFY_REALTIME_THRESHOLD", REALTIME_THRESHOLDS, "infrastructure"
            ),
            max_error_length=_int(env, "MAX_ERROR_LENGTH", 10_000, minimum=200),
            batch_size=_int(env, "BATCH_SIZE", 10, minimum=1),
            max_cost_usd_per_run=_float(env, "MAX_COST_USD_PER_RUN", 1.0, minimum=0.0),
            github_token=_get(env, "GITHUB_TOKEN"),
            repos=repos,
            github_base_url=_get(env, "GITHUB_API_URL"),
            partition_start=_get(env, "ERROR_ASSETS_PARTITION_START"),
        )


def native_engine_enabled(env: Mapping[str, str] | None = None) -> bool:
    """`ERROR_ASSETS_NATIVE`: whether the compiled fingerprint engine may be used (if built).

    Read on every use rather than with the rest, so a test or benchmark can compare both
    paths in one process; either path gives the same fingerprints.
    """
    return _bool(os.environ if env is None else env, "ERROR_ASSETS_NATIVE", True)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _get(env, name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: {value!r} is not a boolean; use true or false")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = _get(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}: {value!r} is not a whole number") from None
    if number < minimum:
        raise SettingsError(f"{name}: {number} is below the minimum of {minimum}")
    return number


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    value = _get(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name}: {value!r} is not a number") from None
    if number < minimum:
        raise SettingsError(f"{name}: {number} is below the minimum of {minimum}")
    return number


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _get(env, name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise SettingsError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value.lower()
