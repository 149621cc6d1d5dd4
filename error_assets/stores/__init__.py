"""Where classified clusters are published: the local embedded store or OpenSearch."""

from __future__ import annotations

from error_assets.settings import Settings
from error_assets.stores.base import ErrorStore


def open_store(settings: Settings) -> ErrorStore:
    """OpenSearch when `OPENSEARCH_URL` is set, else the local SQLite store under the home."""
    if settings.opensearch_enabled:
        from error_assets.stores.opensearch_store import OpenSearchStore

        return OpenSearchStore.from_settings(settings)
    from error_assets.stores.local_store import LocalStore

    return LocalStore(settings.store_path)
