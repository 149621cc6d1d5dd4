"""Pytest plugin: a real single-node OpenSearch for the session (see tests/opensearch_node/).

* `opensearch_url` (session): builds the node once (cached Maven build), starts it on a free
  port with a temporary data dir, waits for health and stops it at the end. With
  `OPENSEARCH_TEST_URL` set, that server is used instead and nothing is built.
* `opensearch_classpath` (session): the built node's classpath (for tests that run their own).
* `opensearch_node_factory`: starts private nodes (e.g. to stop and restart one mid-test);
  every node it started is stopped when the test ends.

Without Java or Maven the OpenSearch tests are skipped with the reason, except under CI=true
where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.opensearch_node.launcher import NodeError, OpenSearchNode, build, wait_for_health


def fresh_index_name() -> str:
    return f"test_errors_{uuid.uuid4().hex[:10]}"


def drop_index(url: str, index: str) -> None:
    """Delete `index`, its backing indices and its template (test cleanup)."""
    from opensearchpy import OpenSearch

    from error_assets.stores.index_template import template_name

    client = OpenSearch(hosts=[url])
    try:
        client.indices.delete(index=f"{index},{index}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=template_name(index), ignore=[404])
    finally:
        client.close()


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def _uncaptured(config: pytest.Config) -> Iterator[None]:
    """Let output through to the terminal despite pytest's capturing."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


def _build_visibly(config: pytest.Config) -> str:
    """Build the node with Maven's progress on the terminal (a first build takes minutes)."""
    try:
        with _uncaptured(config):
            return build()
    except NodeError as error:
        _unavailable(f"cannot build the OpenSearch test node: {error}")
        raise  # unreachable: skip/fail raise


@pytest.fixture(scope="session")
def opensearch_classpath(pytestconfig: pytest.Config) -> str:
    return _build_visibly(pytestconfig)


@pytest.fixture(scope="session")
def opensearch_url(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    override = os.environ.get("OPENSEARCH_TEST_URL", "").strip().rstrip("/")
    if override:
        try:
            wait_for_health(override, timeout=60)
        except NodeError as error:
            pytest.fail(f"OPENSEARCH_TEST_URL: {error}")
        yield override
        return
    classpath = _build_visibly(pytestconfig)
    try:
        node = OpenSearchNode.start(tmp_path_factory.mktemp("opensearch"), classpath=classpath)
    except NodeError as error:
        _unavailable(f"cannot start the OpenSearch test node: {error}")
        raise
    with _uncaptured(pytestconfig):
        print(
            f"\n[opensearch-node] {node.url} healthy after {node.startup_seconds:.1f}s "
            f"(node start {node.java_startup_ms} ms)",
            file=sys.stderr,
        )
    try:
        yield node.url
    finally:
        node.stop()


NodeFactory = Callable[..., OpenSearchNode]


@pytest.fixture
def opensearch_node_factory(opensearch_classpath: str, tmp_path: Path) -> Iterator[NodeFactory]:
    """`start(data_dir=None, port=None) -> OpenSearchNode`; all are stopped at teardown."""
    started: list[OpenSearchNode] = []

    def start(data_dir: Path | None = None, port: int | None = None) -> OpenSearchNode:
        directory = data_dir or tmp_path / f"node-{len(started)}-{time.monotonic_ns()}"
        node = OpenSearchNode.start(directory, port=port, classpath=opensearch_classpath)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()
