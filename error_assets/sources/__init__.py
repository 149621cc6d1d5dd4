"""Where failed CI jobs come from: GitHub Actions or the local archive."""

from __future__ import annotations

from error_assets.settings import Settings
from error_assets.sources.base import CISource
from error_assets.sources.raw_store import RawStore


def open_source(settings: Settings, raw_store: RawStore | None = None) -> CISource:
    """GitHub when `GITHUB_TOKEN` and `REPO` are set, else the local archive."""
    raw_store = raw_store or RawStore(settings.raw_store_dir)
    if settings.github_enabled:
        from error_assets.sources.github_source import GitHubSource

        return GitHubSource.from_settings(settings, raw_store)
    from error_assets.sources.local_archive import LocalArchiveSource

    return LocalArchiveSource(settings.archive, raw_store)
