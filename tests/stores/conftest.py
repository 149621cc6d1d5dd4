"""Store fixtures: each OpenSearch test gets its own index (and template) on the session node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from error_assets.stores.local_store import LocalStore
from error_assets.stores.opensearch_store import OpenSearchStore
from tests.support.opensearch_node import drop_index, fresh_index_name


@pytest.fixture
def opensearch_index(opensearch_url: str) -> Iterator[str]:
    """A fresh index name on the test node, removed after the test."""
    index = fresh_index_name()
    yield index
    drop_index(opensearch_url, index)


@pytest.fixture
def opensearch_store(opensearch_url: str, opensearch_index: str) -> Iterator[OpenSearchStore]:
    store = OpenSearchStore(opensearch_url, index=opensearch_index, retry_backoff=0.2)
    store.ensure_ready()
    yield store
    store.close()


@pytest.fixture(params=["local", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalStore | OpenSearchStore]:
    """Each contract test runs once per store implementation."""
    if request.param == "local":
        local = LocalStore(tmp_path / "store.sqlite3")
        yield local
        local.close()
    else:
        yield request.getfixturevalue("opensearch_store")
