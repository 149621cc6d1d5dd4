"""The store contract: what `error_index` writes and what the cache, clustering and reports read.

Two implementations honour it: the local embedded store (SQLite, `local_store.py`) and
OpenSearch (`opensearch_store.py`). One contract test suite runs against both.

Documents are flat dicts whose field names follow DESIGN.md's prefix convention (see
`documents.py`). Each is identified by `document_id(fingerprint, partition)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

Interval = Literal["hour", "day"]


class StoreError(RuntimeError):
    """The store could not do what was asked (unreachable, rejected documents, ...)."""


class RejectedDocumentsError(StoreError):
    """Some documents were rejected; `rejected` maps document id to the reason."""

    def __init__(self, partition: str, rejected: Mapping[str, str]) -> None:
        self.partition = partition
        self.rejected = dict(rejected)
        sample = "; ".join(f"{k}: {v}" for k, v in list(self.rejected.items())[:5])
        super().__init__(
            f"{len(self.rejected)} document(s) of partition {partition} were rejected: {sample}"
        )


@dataclass(frozen=True, slots=True)
class PublishResult:
    partition: str
    written: int
    deleted_stale: int


@dataclass(frozen=True, slots=True)
class ClusterSighting:
    """What the store knows of a cluster from partitions before the one being built."""

    fingerprint: str
    first_seen: str
    last_seen: str
    partitions: int
    normalized_text: str
    member_fingerprints: tuple[str, ...] = ()
    source_kind: str = ""


@dataclass(frozen=True, slots=True)
class TrendBucket:
    bucket_start: str  # ISO UTC of the hour/day
    category: str
    clusters: int
    occurrences: int


@dataclass(frozen=True, slots=True)
class VersionSummary:
    """The versions that classified the documents of one partition (for re-classification)."""

    partition: str
    documents: int
    rules_versions: tuple[str, ...] = ()
    prompt_versions: tuple[str, ...] = ()
    normalizer_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CostSummary:
    llm_requests: int = 0
    cost_usd: float = 0.0
    classifiers: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class ErrorStore(Protocol):
    def ensure_ready(self) -> None:
        """Create tables / install the index template and alias (idempotent)."""

    def replace_partition(
        self, partition: str, documents: Sequence[Mapping[str, Any]]
    ) -> PublishResult:
        """Make the partition hold exactly `documents`: upsert them, delete the partition's others.

        Atomic per partition for the local store; for OpenSearch, rejected documents raise
        `RejectedDocumentsError` *before* stale documents are deleted, so nothing is lost.
        """

    def upsert_realtime(self, documents: Sequence[Mapping[str, Any]]) -> int:
        """Write documents of the CI step (`b_realtime` true, `s_error_id` as their id). They are
        never touched by `replace_partition` and never counted by the trend/cluster queries: the
        hourly batch reconciles the same failures into its own documents."""

    def partition_documents(self, partition: str) -> list[dict[str, Any]]:
        """All documents of one partition, sorted by `_id`."""

    def documents_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """All documents whose partition starts in [start, end)."""

    def cluster_history(
        self, before: datetime, fingerprints: Iterable[str] | None = None, limit: int = 50_000
    ) -> dict[str, ClusterSighting]:
        """Clusters seen in partitions starting before `before` (all, or only these fingerprints,
        also matching `member_fingerprints`), keyed by cluster fingerprint."""

    def cached_classifications(self, fingerprints: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The newest document per fingerprint (any partition), for the classification cache
        and human overrides (`s_human_category`)."""

    def trend(self, start: datetime, end: datetime, interval: Interval) -> list[TrendBucket]:
        """Clusters and occurrences per bucket and category in [start, end)."""

    def top_clusters(self, start: datetime, end: datetime, limit: int = 10) -> list[dict[str, Any]]:
        """Clusters with the most occurrences in [start, end), summed over partitions."""

    def new_clusters(self, start: datetime, end: datetime, limit: int = 50) -> list[dict[str, Any]]:
        """Documents of clusters first seen in [start, end) (`b_is_duplicate` false)."""

    def version_summaries(self, start: datetime, end: datetime) -> list[VersionSummary]:
        """Per partition in [start, end): the rules/prompt/normaliser versions present."""

    def cost_summary(self, start: datetime, end: datetime) -> CostSummary:
        """LLM requests, cost and the classifier mix of [start, end)."""

    def close(self) -> None: ...
