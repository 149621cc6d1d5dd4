"""The OpenSearch store: the `ErrorStore` contract on a real OpenSearch cluster.

* `ensure_ready` installs the index template (idempotently) and makes `index` usable: an
  existing plain index of that name is used as is, otherwise `index` is a write alias over
  `<index>-000001` (so operators can roll over without touching the pipeline).
* `replace_partition` bulk-writes every document under its deterministic `_id`, retrying
  per-item 429s with back-off. If any item is rejected it raises `RejectedDocumentsError`
  *before* deleting anything, so a failed run never loses what the previous one published.
  Only then are the partition's stale documents (ids no longer produced, or copies left in an
  older backing index) deleted, and the index refreshed so reads see the result.
* Reads are searches and aggregations shaped to answer exactly what the local store answers
  (the shared contract suite runs against both). Real-time documents of the CI step
  (`b_realtime`) are served only by `cached_classifications` and `realtime_documents`.
"""

from __future__ import annotations

import urllib.parse
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import OpenSearchException, TransportError
from opensearchpy.exceptions import SSLError as OpenSearchSSLError

from error_assets.settings import Settings
from error_assets.stores.base import (
    ClusterSighting,
    CostSummary,
    Interval,
    PublishResult,
    RejectedDocumentsError,
    StoreError,
    TrendBucket,
    VersionSummary,
)
from error_assets.stores.documents import document_id, iso, missing_required
from error_assets.stores.index_template import TEMPLATE_VERSION, index_template, template_name

_NOT_REALTIME = {"term": {"b_realtime": True}}
_BUCKET_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
# Largest page a single search may return (OpenSearch's default `index.max_result_window`).
_PAGE = 10_000
# Fingerprints per terms query: under the default `index.max_terms_count` (65,536), which an
# index created by someone else (not from our template) may still have.
_TERMS_CHUNK = 50_000
_HISTORY_FIELDS = ["s_error_hash", "@timestamp", "s_normalized_text", "s_error_source"]


def redact_url(url: str) -> str:
    """`url` without any user:password part, safe for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class OpenSearchStore:
    """An `ErrorStore` on an OpenSearch cluster reached at `url`."""

    def __init__(
        self,
        url: str,
        *,
        index: str = "error_classifications",
        username: str | None = None,
        password: str | None = None,
        verify_certs: bool = True,
        ca_certs: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        chunk_size: int = 1_000,
        max_chunk_bytes: int = 10 * 1024 * 1024,
        retry_backoff: float = 1.0,
        replicas: int = 0,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(f"OPENSEARCH_URL: {redact_url(url)!r} is not an http(s) URL")
        # Credentials embedded in the URL work like explicit ones but never reach messages.
        username = username or (urllib.parse.unquote(parts.username) if parts.username else None)
        password = password or (urllib.parse.unquote(parts.password) if parts.password else None)
        self.url = redact_url(url).rstrip("/")
        self.index = index
        self.max_retries = max_retries
        self.chunk_size = chunk_size
        self.max_chunk_bytes = max_chunk_bytes
        self.retry_backoff = retry_backoff
        self.replicas = replicas
        # None until `ensure_ready` ran; then whether `index` is a plain index (else an alias).
        self._plain_index: bool | None = None
        options: dict[str, Any] = {
            "hosts": [self.url],
            "timeout": timeout,
            "max_retries": max_retries,
            "retry_on_timeout": True,
            # A whole-request 429 is back-pressure, like 502/503/504: worth another attempt.
            "retry_on_status": (429, 502, 503, 504),
            "verify_certs": verify_certs,
        }
        if ca_certs:
            options["ca_certs"] = ca_certs
        if not verify_certs:
            options["ssl_show_warn"] = False
        if username is not None:
            options["http_auth"] = (username, password or "")
        self.client = OpenSearch(**options)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenSearchStore:
        if not settings.opensearch_url:
            raise StoreError("OPENSEARCH_URL is not set")
        return cls(
            settings.opensearch_url,
            index=settings.index,
            username=settings.opensearch_username,
            password=settings.opensearch_password,
            verify_certs=settings.opensearch_verify_certs,
            ca_certs=settings.opensearch_ca_certs,
        )

    # -- errors ----------------------------------------------------------------------------

    def _failure(self, action: str, error: Exception) -> StoreError:
        """A StoreError naming the URL and what we were doing (never the credentials)."""
        if isinstance(error, OpenSearchSSLError):
            return StoreError(
                f"TLS with OpenSearch at {self.url} failed while {action}: {error}. Point "
                "OPENSEARCH_CA_CERTS at the CA that signed its certificate (verification is on "
                "by default; OPENSEARCH_VERIFY_CERTS=false turns it off)"
            )
        if isinstance(error, OpenSearchConnectionError):
            return StoreError(f"OpenSearch at {self.url} is unreachable while {action}: {error}")
        if isinstance(error, TransportError):
            status = error.status_code
            reason = _error_reason(error.info) or error.error
            if status in (401, 403):
                return StoreError(
                    f"OpenSearch at {self.url} refused the credentials ({status}) while {action}"
                )
            return StoreError(f"OpenSearch at {self.url} failed while {action}: {status} {reason}")
        return StoreError(f"OpenSearch at {self.url} failed while {action}: {error}")

    # -- setup -----------------------------------------------------------------------------

    def ensure_ready(self) -> None:
        """Install the template and create the write alias + first backing index if absent."""
        try:
            self._install_template()
            self._plain_index = self._resolve_write_index() == self.index
        except OpenSearchException as error:
            raise self._failure(f"preparing index {self.index!r}", error) from error

    def _install_template(self) -> None:
        name = template_name(self.index)
        if self.client.indices.exists_index_template(name=name):
            current = self.client.indices.get_index_template(name=name)
            templates = current.get("index_templates", [])
            meta = templates[0]["index_template"].get("_meta", {}) if templates else {}
            if meta.get("version") == TEMPLATE_VERSION:
                return
        self.client.indices.put_index_template(
            name=name, body=index_template(self.index, replicas=self.replicas)
        )

    def _resolve_write_index(self) -> str:
        if self.client.indices.exists_alias(name=self.index):
            return self._alias_write_index()
        if self.client.indices.exists(index=self.index):
            return self.index  # a plain index someone already created: use it as is
        first = f"{self.index}-000001"
        try:
            self.client.indices.create(
                index=first, body={"aliases": {self.index: {"is_write_index": True}}}
            )
        except TransportError as error:
            # Another process created it between our check and our create: same outcome.
            if _error_type(error.info) != "resource_already_exists_exception":
                raise
        return self._alias_write_index()

    def _alias_write_index(self) -> str:
        aliases = self.client.indices.get_alias(name=self.index)
        members = sorted(aliases)
        for name in members:
            if aliases[name]["aliases"].get(self.index, {}).get("is_write_index"):
                return name
        if len(members) == 1:
            return members[0]
        raise StoreError(
            f"alias {self.index!r} at {self.url} spans {len(members)} indices and none is the "
            "write index; mark one with is_write_index"
        )

    def _ready(self) -> None:
        if self._plain_index is None:
            self.ensure_ready()

    def _current_write_index(self) -> str:
        try:
            return self.index if self._plain_index else self._alias_write_index()
        except OpenSearchException as error:
            raise self._failure(f"resolving the write index of {self.index!r}", error) from error

    # -- writing ---------------------------------------------------------------------------

    def replace_partition(
        self, partition: str, documents: Sequence[Mapping[str, Any]]
    ) -> PublishResult:
        ids: list[str] = []
        for doc in documents:
            _check_document(doc, partition)
            ids.append(document_id(doc["s_error_hash"], partition))
        self._ready()
        # Resolved now, not at start-up: an operator may have rolled the alias over since.
        write_index = self._current_write_index()
        # A partition published for the first time has nothing stale: skip listing its ids.
        had_documents = self._partition_count(partition) > 0
        actions = (
            {"_op_type": "index", "_index": write_index, "_id": doc_id, "_source": doc}
            for doc_id, doc in zip(ids, documents, strict=True)
        )
        rejected = self._bulk(actions, f"publishing partition {partition}")
        if rejected:
            raise RejectedDocumentsError(partition, rejected)
        if had_documents:
            deleted = self._delete_stale(partition, set(ids), write_index)
        else:
            deleted = 0
            self._refresh(f"publishing partition {partition}")
        return PublishResult(partition=partition, written=len(ids), deleted_stale=deleted)

    def _partition_count(self, partition: str) -> int:
        action = f"counting partition {partition}"
        self._refresh(action)  # documents of an interrupted run may not be searchable yet
        try:
            result = self.client.count(
                index=self.index, body={"query": _partition_query(partition)}
            )
        except OpenSearchException as error:
            raise self._failure(action, error) from error
        return int(result["count"])

    def upsert_realtime(self, documents: Sequence[Mapping[str, Any]]) -> int:
        """Documents written by the CI step: kept beside the hourly ones, never in trends."""
        self._ready()
        write_index = self._current_write_index()
        actions = (
            {"_op_type": "index", "_index": write_index, "_id": doc["s_error_id"], "_source": doc}
            for doc in documents
        )
        rejected = self._bulk(actions, "publishing real-time documents")
        if rejected:
            raise RejectedDocumentsError("realtime", rejected)
        self._refresh("publishing real-time documents")
        return len(documents)

    def _bulk(self, actions: Iterable[Mapping[str, Any]], action: str) -> dict[str, str]:
        """Send `actions`; return the rejected ids with their reasons (after 429 retries)."""
        rejected: dict[str, str] = {}
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=self.chunk_size,
                max_chunk_bytes=self.max_chunk_bytes,
                raise_on_error=False,
                max_retries=self.max_retries,
                initial_backoff=self.retry_backoff,  # type: ignore[arg-type]  # seconds, float ok
                max_backoff=30,
                yield_ok=False,
            ):
                if not ok:
                    result = next(iter(item.values()))
                    rejected[str(result.get("_id"))] = _item_reason(result)
        except OpenSearchException as error:
            raise self._failure(action, error) from error
        return rejected

    def _delete_stale(self, partition: str, keep: set[str], write_index: str) -> int:
        """Delete the partition's documents not just written (or left in an older index).

        Done by listing the partition's ids and deleting by id rather than one delete-by-query
        with the kept ids: a big partition's ids exceed what one terms query may hold.
        """
        action = f"deleting stale documents of partition {partition}"
        try:
            self._refresh(action)
            stale = [
                {"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]}
                for hit in helpers.scan(
                    self.client,
                    index=self.index,
                    query={"query": _partition_query(partition), "_source": False},
                    size=_PAGE,
                )
                if hit["_id"] not in keep or hit["_index"] != write_index
            ]
        except OpenSearchException as error:
            raise self._failure(action, error) from error
        failed = self._bulk(stale, action) if stale else {}
        # A stale document already gone (deleted by a concurrent rerun) is fine.
        failed = {k: v for k, v in failed.items() if not v.startswith("404")}
        if failed:
            raise RejectedDocumentsError(partition, failed)
        self._refresh(action)
        return len(stale)

    def _refresh(self, action: str) -> None:
        try:
            self.client.indices.refresh(index=self.index)
        except OpenSearchException as error:
            raise self._failure(action, error) from error

    # -- reading ---------------------------------------------------------------------------

    def _search(self, body: Mapping[str, Any], action: str) -> dict[str, Any]:
        self._ready()
        try:
            return self.client.search(index=self.index, body=body)
        except OpenSearchException as error:
            raise self._failure(action, error) from error

    def _scan(self, query: Mapping[str, Any], action: str) -> Iterator[dict[str, Any]]:
        self._ready()
        try:
            yield from helpers.scan(
                self.client, index=self.index, query={"query": query}, size=_PAGE
            )
        except OpenSearchException as error:
            raise self._failure(action, error) from error

    def partition_documents(self, partition: str) -> list[dict[str, Any]]:
        hits = self._scan(_partition_query(partition), f"reading partition {partition}")
        return [hit["_source"] for hit in sorted(hits, key=lambda hit: hit["_id"])]

    def realtime_documents(self) -> list[dict[str, Any]]:
        hits = self._scan({"term": {"b_realtime": True}}, "reading real-time documents")
        return [hit["_source"] for hit in sorted(hits, key=lambda hit: hit["_id"])]

    def documents_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        hits = self._scan(_range_query(start, end), "reading documents")
        ordered = sorted(hits, key=lambda hit: (hit["_source"].get("@timestamp", ""), hit["_id"]))
        return [hit["_source"] for hit in ordered]

    def cluster_history(
        self, before: datetime, fingerprints: Iterable[str] | None = None, limit: int = 50_000
    ) -> dict[str, ClusterSighting]:
        base = [{"range": {"@timestamp": {"lt": iso(before)}}}]
        if fingerprints is None:
            return self._history([*base], limit)
        wanted = sorted(set(fingerprints))
        history: dict[str, ClusterSighting] = {}
        # Beyond one chunk, a cluster matched through members in two chunks gets its partition
        # count from the larger side (first/last seen stay exact): a bounded approximation for
        # lookups of over 50,000 fingerprints at once.
        for start in range(0, len(wanted), _TERMS_CHUNK):
            chunk = wanted[start : start + _TERMS_CHUNK]
            match = {
                "bool": {
                    "should": [
                        {"terms": {"s_error_hash": chunk}},
                        {"terms": {"s_member_fingerprints": chunk}},
                    ],
                    "minimum_should_match": 1,
                }
            }
            for fp, sighting in self._history([*base, match], limit).items():
                history[fp] = _merge_sightings(history.get(fp), sighting)
        ranked = sorted(history.values(), key=lambda s: s.last_seen, reverse=True)
        return {s.fingerprint: s for s in ranked[:limit]}

    def _history(self, filters: list[dict[str, Any]], limit: int) -> dict[str, ClusterSighting]:
        """One sighting per cluster: the most recently seen `limit` clusters, each with its
        first text (from its oldest document) and the union of its member fingerprints."""
        body = {
            "size": 0,
            "query": {"bool": {"filter": filters, "must_not": [_NOT_REALTIME]}},
            "aggs": {
                "clusters": {
                    "terms": {
                        "field": "s_error_hash",
                        "size": limit,
                        "order": [{"last": "desc"}, {"_key": "asc"}],
                    },
                    "aggs": {
                        "first": {"min": {"field": "@timestamp"}},
                        "last": {"max": {"field": "@timestamp"}},
                        "first_seen": {"min": {"field": "ts_first_seen"}},
                        "last_seen": {"max": {"field": "ts_last_seen"}},
                        "members": {"terms": {"field": "s_member_fingerprints", "size": 10_000}},
                        "oldest": {
                            "top_hits": {
                                "size": 1,
                                "sort": [{"@timestamp": "asc"}],
                                "_source": {"includes": _HISTORY_FIELDS},
                            }
                        },
                    },
                }
            },
        }
        result = self._search(body, "reading cluster history")
        history: dict[str, ClusterSighting] = {}
        for bucket in result["aggregations"]["clusters"]["buckets"]:
            fp = bucket["key"]
            doc = bucket["oldest"]["hits"]["hits"][0]["_source"]
            firsts = [_date_value(bucket["first"]), _date_value(bucket["first_seen"])]
            lasts = [_date_value(bucket["last"]), _date_value(bucket["last_seen"])]
            members = {str(m["key"]) for m in bucket["members"]["buckets"]} | {fp}
            history[fp] = ClusterSighting(
                fingerprint=fp,
                first_seen=min(v for v in firsts if v),
                last_seen=max(v for v in lasts if v),
                partitions=int(bucket["doc_count"]),
                normalized_text=doc.get("s_normalized_text", ""),
                member_fingerprints=tuple(sorted(members)),
                source_kind=doc.get("s_error_source", ""),
            )
        return history

    def cached_classifications(self, fingerprints: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(fingerprints))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _PAGE):
            chunk = wanted[start : start + _PAGE]
            body = {
                "size": len(chunk),
                "query": {"bool": {"filter": [{"terms": {"s_error_hash": chunk}}]}},
                # Newest partition first; at a tie the hourly document beats the real-time one.
                "sort": [
                    {"@timestamp": "desc"},
                    {"b_realtime": {"order": "asc", "missing": "_first"}},
                ],
                "collapse": {"field": "s_error_hash"},
            }
            result = self._search(body, "reading cached classifications")
            for hit in result["hits"]["hits"]:
                found[hit["_source"]["s_error_hash"]] = hit["_source"]
        return found

    def trend(self, start: datetime, end: datetime, interval: Interval) -> list[TrendBucket]:
        if interval not in ("hour", "day"):
            raise ValueError(f"interval must be 'hour' or 'day', not {interval!r}")
        body = {
            "size": 0,
            "query": _range_query(start, end),
            "aggs": {
                "buckets": {
                    "date_histogram": {
                        "field": "@timestamp",
                        "calendar_interval": interval,
                        "time_zone": "UTC",
                        "format": _BUCKET_FORMAT,
                        "min_doc_count": 1,
                    },
                    "aggs": {
                        "categories": {
                            "terms": {"field": "s_primary_category", "size": 1_000},
                            "aggs": {"occurrences": {"sum": {"field": "l_occurrence_count"}}},
                        }
                    },
                }
            },
        }
        result = self._search(body, "computing the trend")
        buckets = [
            TrendBucket(
                bucket_start=bucket["key_as_string"],
                category=category["key"],
                clusters=int(category["doc_count"]),
                occurrences=int(category["occurrences"]["value"]),
            )
            for bucket in result["aggregations"]["buckets"]["buckets"]
            for category in bucket["categories"]["buckets"]
        ]
        return sorted(buckets, key=lambda b: (b.bucket_start, b.category))

    def top_clusters(self, start: datetime, end: datetime, limit: int = 10) -> list[dict[str, Any]]:
        return self._ranked_clusters(start, end, limit, only_new=False)

    def new_clusters(self, start: datetime, end: datetime, limit: int = 50) -> list[dict[str, Any]]:
        return self._ranked_clusters(start, end, limit, only_new=True)

    def _ranked_clusters(
        self, start: datetime, end: datetime, limit: int, only_new: bool
    ) -> list[dict[str, Any]]:
        query = _range_query(start, end)
        if only_new:
            query["bool"]["must_not"].append({"term": {"b_is_duplicate": True}})
        body = {
            "size": 0,
            "query": query,
            "aggs": {
                "clusters": {
                    "terms": {
                        "field": "s_error_hash",
                        "size": limit,
                        # Exact ranking even when the alias spans several backing indices.
                        "shard_size": max(limit * 20, 1_000),
                        "order": [{"total": "desc"}, {"_key": "asc"}],
                    },
                    "aggs": {
                        "total": {"sum": {"field": "l_occurrence_count"}},
                        "newest": {"top_hits": {"size": 1, "sort": [{"@timestamp": "desc"}]}},
                    },
                }
            },
        }
        result = self._search(body, "ranking clusters")
        return [
            {
                **bucket["newest"]["hits"]["hits"][0]["_source"],
                "l_total_occurrences": int(bucket["total"]["value"]),
                "l_partitions": int(bucket["doc_count"]),
            }
            for bucket in result["aggregations"]["clusters"]["buckets"]
        ]

    def version_summaries(self, start: datetime, end: datetime) -> list[VersionSummary]:
        fields = {
            "rules": "s_rules_version",
            "prompt": "s_prompt_version",
            "normalizer": "s_normalizer_version",
        }
        body = {
            "size": 0,
            "query": _range_query(start, end),
            "aggs": {
                "partitions": {
                    "terms": {"field": "s_partition", "size": 50_000, "order": {"_key": "asc"}},
                    "aggs": {
                        name: {"terms": {"field": field, "size": 1_000, "missing": ""}}
                        for name, field in fields.items()
                    },
                }
            },
        }
        result = self._search(body, "summarising versions")

        def keys(bucket: Mapping[str, Any], name: str) -> tuple[str, ...]:
            return tuple(sorted(str(b["key"]) for b in bucket[name]["buckets"]))

        return [
            VersionSummary(
                partition=bucket["key"],
                documents=int(bucket["doc_count"]),
                rules_versions=keys(bucket, "rules"),
                prompt_versions=keys(bucket, "prompt"),
                normalizer_versions=keys(bucket, "normalizer"),
            )
            for bucket in result["aggregations"]["partitions"]["buckets"]
        ]

    def cost_summary(self, start: datetime, end: datetime) -> CostSummary:
        missing = "\x00missing"
        body = {
            "size": 0,
            "query": _range_query(start, end),
            "aggs": {
                "cost": {"sum": {"field": "f_cost_usd"}},
                "kinds": {
                    "terms": {"field": "s_classifier_kind", "size": 1_000, "missing": missing},
                    # Documents without the kind field: derive it from the classifier name.
                    "aggs": {"names": {"terms": {"field": "s_classifier", "size": 1_000}}},
                },
            },
        }
        result = self._search(body, "summarising costs")
        classifiers: Counter[str] = Counter()
        for bucket in result["aggregations"]["kinds"]["buckets"]:
            if bucket["key"] != missing:
                classifiers[bucket["key"]] += int(bucket["doc_count"])
                continue
            named = 0
            for name in bucket["names"]["buckets"]:
                classifiers[str(name["key"]).split(":", 1)[0]] += int(name["doc_count"])
                named += int(name["doc_count"])
            if bucket["doc_count"] > named:
                classifiers[""] += int(bucket["doc_count"]) - named
        return CostSummary(
            llm_requests=classifiers.get("llm", 0),
            cost_usd=round(float(result["aggregations"]["cost"]["value"]), 6),
            classifiers=dict(classifiers),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> OpenSearchStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_document(doc: Mapping[str, Any], partition: str) -> None:
    if doc.get("s_partition") != partition:
        raise StoreError(
            f"document {doc.get('s_error_id')!r} belongs to partition "
            f"{doc.get('s_partition')!r}, not {partition!r}"
        )
    missing = missing_required(doc)
    if missing:
        raise StoreError(f"document {doc.get('s_error_id')!r} lacks {', '.join(missing)}")
    if "_id" in doc:
        raise StoreError(f"document {doc.get('s_error_id')!r} carries `_id` inside its body")
    if doc.get("b_realtime"):
        raise StoreError(f"document {doc.get('s_error_id')!r} is real-time; use upsert_realtime")


def _partition_query(partition: str) -> dict[str, Any]:
    """The partition's hourly documents (real-time ones are not part of any partition)."""
    return {
        "bool": {
            "filter": [{"term": {"s_partition": partition}}],
            "must_not": [_NOT_REALTIME],
        }
    }


def _range_query(start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "bool": {
            "filter": [{"range": {"@timestamp": {"gte": iso(start), "lt": iso(end)}}}],
            "must_not": [_NOT_REALTIME],
        }
    }


def _date_value(aggregation: Mapping[str, Any]) -> str:
    """A min/max date aggregation as the documents' "2026-11-28T03:00:00Z" ("" when empty)."""
    if aggregation.get("value") is None:
        return ""
    text = str(aggregation.get("value_as_string", ""))
    return text[:19] + "Z" if len(text) >= 19 else text


def _merge_sightings(old: ClusterSighting | None, new: ClusterSighting) -> ClusterSighting:
    if old is None:
        return new
    oldest = old if old.first_seen <= new.first_seen else new
    return ClusterSighting(
        fingerprint=new.fingerprint,
        first_seen=min(old.first_seen, new.first_seen),
        last_seen=max(old.last_seen, new.last_seen),
        partitions=max(old.partitions, new.partitions),
        normalized_text=oldest.normalized_text,
        member_fingerprints=tuple(
            sorted(set(old.member_fingerprints) | set(new.member_fingerprints))
        ),
        source_kind=oldest.source_kind,
    )


def _error_type(info: Any) -> str:
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            return str(error.get("type", ""))
    return ""


def _error_reason(info: Any) -> str:
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            root = (error.get("root_cause") or [error])[0]
            return f"{root.get('type', '')}: {root.get('reason', '')}"
        if error:
            return str(error)
    return ""


def _item_reason(result: Mapping[str, Any]) -> str:
    """'<status> <type>: <reason> (caused by ...)' of one rejected bulk item."""
    status = result.get("status", "?")
    error = result.get("error")
    if isinstance(error, Mapping):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, Mapping):
            reason += f" (caused by {cause.get('type', '')}: {cause.get('reason', '')})"
    else:
        reason = str(error or result.get("result", "failed"))
    return f"{status} {reason}"
