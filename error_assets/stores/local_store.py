"""The local embedded store: SQLite in WAL mode, one row per published document.

Safe for several processes at once (parallel backfill runs): each `replace_partition` is one
`BEGIN IMMEDIATE` transaction, so a partition is replaced atomically and writers queue on the
database lock instead of interleaving. Queries mirror what the OpenSearch store answers with
aggregations.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from error_assets.stores.base import (
    ClusterSighting,
    CostSummary,
    Interval,
    PublishResult,
    StoreError,
    TrendBucket,
    VersionSummary,
)
from error_assets.stores.documents import document_id, iso, missing_required

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    partition TEXT NOT NULL,
    partition_start TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    category TEXT NOT NULL,
    occurrences INTEGER NOT NULL,
    realtime INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_partition ON documents(partition);
CREATE INDEX IF NOT EXISTS documents_start ON documents(partition_start);
CREATE INDEX IF NOT EXISTS documents_fingerprint ON documents(fingerprint);
CREATE TABLE IF NOT EXISTS members (
    member TEXT NOT NULL,
    id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    PRIMARY KEY (member, id)
);
"""


class LocalStore:
    """An `ErrorStore` in one SQLite file."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_s = busy_timeout_s
        self._conn = self._connect()
        self.ensure_ready()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the local store {self.path}: {exc}") from exc
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def ensure_ready(self) -> None:
        for attempt in range(5):
            try:
                self._conn.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:  # another process creating it right now
                if attempt == 4:
                    raise StoreError(f"cannot initialise {self.path}: {exc}") from exc
                time.sleep(0.2 * (attempt + 1))

    # -- writing -------------------------------------------------------------------------

    def replace_partition(
        self, partition: str, documents: Sequence[Mapping[str, Any]]
    ) -> PublishResult:
        rows = []
        for doc in documents:
            if doc.get("s_partition") != partition:
                raise StoreError(
                    f"document {doc.get('s_error_id')!r} belongs to partition "
                    f"{doc.get('s_partition')!r}, not {partition!r}"
                )
            missing = missing_required(doc)
            if missing:
                raise StoreError(f"document {doc.get('s_error_id')!r} lacks {', '.join(missing)}")
            doc_id = document_id(doc["s_error_hash"], partition)
            if doc.get("b_realtime"):
                raise StoreError(f"document {doc_id} is real-time; use upsert_realtime")
            rows.append((doc_id, doc))
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            new_ids = {doc_id for doc_id, _ in rows}
            old_ids = {
                r[0]
                for r in conn.execute(
                    "SELECT id FROM documents WHERE partition = ? AND realtime = 0", (partition,)
                )
            }
            stale = old_ids - new_ids
            conn.executemany("DELETE FROM documents WHERE id = ?", [(i,) for i in stale])
            for doc_id, doc in rows:
                self._upsert(doc_id, doc, realtime=False)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return PublishResult(partition=partition, written=len(rows), deleted_stale=len(stale))

    def upsert_realtime(self, documents: Sequence[Mapping[str, Any]]) -> int:
        """Documents written by the CI step: kept beside the hourly ones, never counted in trends."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for doc in documents:
                self._upsert(doc["s_error_id"], doc, realtime=True)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(documents)

    def _upsert(self, doc_id: str, doc: Mapping[str, Any], realtime: bool) -> None:
        self._conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        self._conn.execute(
            "INSERT INTO documents(id, partition, partition_start, fingerprint, category,"
            " occurrences, realtime, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc_id,
                doc["s_partition"],
                doc["@timestamp"],
                doc["s_error_hash"],
                doc["s_primary_category"],
                int(doc["l_occurrence_count"]),
                int(realtime),
                json.dumps(doc, sort_keys=True),
            ),
        )
        members = set(doc.get("s_member_fingerprints") or []) | {doc["s_error_hash"]}
        self._conn.executemany(
            "INSERT OR IGNORE INTO members(member, id) VALUES (?, ?)",
            [(m, doc_id) for m in sorted(members)],
        )

    # -- reading -------------------------------------------------------------------------

    def _bodies(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self._conn.execute(sql, tuple(params))]

    def partition_documents(self, partition: str) -> list[dict[str, Any]]:
        return self._bodies(
            "SELECT body FROM documents WHERE partition = ? AND realtime = 0 ORDER BY id",
            (partition,),
        )

    def realtime_documents(self) -> list[dict[str, Any]]:
        return self._bodies("SELECT body FROM documents WHERE realtime = 1 ORDER BY id")

    def documents_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return self._bodies(
            "SELECT body FROM documents WHERE realtime = 0 AND partition_start >= ?"
            " AND partition_start < ? ORDER BY partition_start, id",
            (iso(start), iso(end)),
        )

    def cluster_history(
        self, before: datetime, fingerprints: Iterable[str] | None = None, limit: int = 50_000
    ) -> dict[str, ClusterSighting]:
        params: list[Any] = [iso(before)]
        where = "d.realtime = 0 AND d.partition_start < ?"
        if fingerprints is not None:
            wanted = sorted(set(fingerprints))
            if not wanted:
                return {}
            placeholders = ",".join("?" * len(wanted))
            where += f" AND d.id IN (SELECT id FROM members WHERE member IN ({placeholders}))"
            params.extend(wanted)
        # The most recently seen clusters first (bounded), each read in time order so the
        # sighting keeps the cluster's first text, as clustering's own history does.
        recent = (
            f"SELECT d.fingerprint FROM documents d WHERE {where}"
            " GROUP BY d.fingerprint ORDER BY MAX(d.partition_start) DESC LIMIT ?"
        )
        rows = self._conn.execute(
            f"SELECT d.fingerprint, d.partition, d.partition_start, d.body FROM documents d"
            f" WHERE {where} AND d.fingerprint IN ({recent}) ORDER BY d.partition_start, d.id",
            [*params, *params, limit],
        )
        history: dict[str, ClusterSighting] = {}
        partitions: dict[str, set[str]] = defaultdict(set)
        for fp, partition, start, body in rows:
            doc = json.loads(body)
            partitions[fp].add(partition)
            known = history.get(fp)
            members = set(doc.get("s_member_fingerprints") or []) | {fp}
            if known is None:
                history[fp] = ClusterSighting(
                    fingerprint=fp,
                    first_seen=min(start, doc.get("ts_first_seen") or start),
                    last_seen=max(start, doc.get("ts_last_seen") or start),
                    partitions=1,
                    normalized_text=doc.get("s_normalized_text", ""),
                    member_fingerprints=tuple(sorted(members)),
                    source_kind=doc.get("s_error_source", ""),
                )
            else:
                history[fp] = replace(
                    known,
                    first_seen=min(known.first_seen, doc.get("ts_first_seen") or start),
                    last_seen=max(known.last_seen, doc.get("ts_last_seen") or start),
                    partitions=len(partitions[fp]),
                    member_fingerprints=tuple(sorted(set(known.member_fingerprints) | members)),
                )
        return history

    def cached_classifications(self, fingerprints: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(fingerprints))
        found: dict[str, dict[str, Any]] = {}
        for chunk_start in range(0, len(wanted), 500):
            chunk = wanted[chunk_start : chunk_start + 500]
            placeholders = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                "SELECT fingerprint, body FROM documents WHERE fingerprint IN"
                f" ({placeholders}) ORDER BY partition_start DESC, realtime ASC",
                chunk,
            )
            for fp, body in rows:
                found.setdefault(fp, json.loads(body))
        return found

    def trend(self, start: datetime, end: datetime, interval: Interval) -> list[TrendBucket]:
        width = 13 if interval == "hour" else 10  # "YYYY-MM-DDTHH" or "YYYY-MM-DD"
        suffix = ":00:00Z" if interval == "hour" else "T00:00:00Z"
        rows = self._conn.execute(
            f"SELECT substr(partition_start, 1, {width}) AS bucket, category, COUNT(*),"
            " SUM(occurrences) FROM documents WHERE realtime = 0 AND partition_start >= ?"
            " AND partition_start < ? GROUP BY bucket, category ORDER BY bucket, category",
            (iso(start), iso(end)),
        )
        return [
            TrendBucket(bucket_start=b + suffix, category=c, clusters=int(n), occurrences=int(o))
            for b, c, n, o in rows
        ]

    def top_clusters(self, start: datetime, end: datetime, limit: int = 10) -> list[dict[str, Any]]:
        return self._aggregate_clusters(start, end, limit, only_new=False)

    def new_clusters(self, start: datetime, end: datetime, limit: int = 50) -> list[dict[str, Any]]:
        return self._aggregate_clusters(start, end, limit, only_new=True)

    def _aggregate_clusters(
        self, start: datetime, end: datetime, limit: int, only_new: bool
    ) -> list[dict[str, Any]]:
        totals: Counter[str] = Counter()
        latest: dict[str, dict[str, Any]] = {}
        partitions: Counter[str] = Counter()
        for doc in self.documents_between(start, end):
            if only_new and doc.get("b_is_duplicate"):
                continue
            fp = doc["s_error_hash"]
            totals[fp] += int(doc["l_occurrence_count"])
            partitions[fp] += 1
            latest[fp] = doc  # documents come in partition order: the last is the newest
        ranked = sorted(totals, key=lambda fp: (-totals[fp], fp))[:limit]
        return [
            {**latest[fp], "l_total_occurrences": totals[fp], "l_partitions": partitions[fp]}
            for fp in ranked
        ]

    def version_summaries(self, start: datetime, end: datetime) -> list[VersionSummary]:
        per_partition: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in self.documents_between(start, end):
            per_partition[doc["s_partition"]].append(doc)
        return [
            VersionSummary(
                partition=p,
                documents=len(docs),
                rules_versions=tuple(sorted({d.get("s_rules_version", "") for d in docs})),
                prompt_versions=tuple(sorted({d.get("s_prompt_version", "") for d in docs})),
                normalizer_versions=tuple(
                    sorted({d.get("s_normalizer_version", "") for d in docs})
                ),
            )
            for p, docs in sorted(per_partition.items())
        ]

    def cost_summary(self, start: datetime, end: datetime) -> CostSummary:
        classifiers: Counter[str] = Counter()
        requests = 0
        cost = 0.0
        for doc in self.documents_between(start, end):
            kind = doc.get("s_classifier_kind") or doc.get("s_classifier", "").split(":", 1)[0]
            classifiers[kind] += 1
            if kind == "llm":
                requests += 1
            cost += float(doc.get("f_cost_usd") or 0.0)
        return CostSummary(
            llm_requests=requests, cost_usd=round(cost, 6), classifiers=dict(classifiers)
        )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
