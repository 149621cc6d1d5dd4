"""The ErrorStore contract, run against the local store and a real OpenSearch node.

Every expected value below is worked out by hand from the scenario in `published`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from error_assets.stores.base import ClusterSighting, ErrorStore, StoreError, TrendBucket
from error_assets.stores.documents import document_id
from tests.stores.sample_documents import make_document

P1 = "2026-11-20-10:00"
P2 = "2026-11-20-11:00"
P3 = "2026-11-21-09:00"
P4 = "2026-11-21-10:00"
CODE = "code_error"
INFRA = "infrastructure_error"
LLM = {"classifier": "llm:claude-sonnet-4-6", "prompt_version": "p1"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


ALL_START, ALL_END = at("2026-11-19T00:00:00"), at("2026-11-23T00:00:00")


def scenario() -> dict[str, list[dict]]:
    """Five clusters over three partitions (see the module docstring of each test)."""
    return {
        P1: [
            make_document("fp-a", P1, occurrences=5, category=CODE),
            make_document("fp-b", P1, occurrences=2, category=INFRA, members=("fp-b", "fp-b2")),
            make_document("fp-c", P1, occurrences=1, category=CODE, cost_usd=0.01, **LLM),
        ],
        P2: [
            make_document(
                "fp-a",
                P2,
                occurrences=3,
                category=CODE,
                is_new=False,
                first_seen="2026-11-19T08:00:00Z",
                text="AssertionError: expected 5 but got 6",
            ),
            make_document(
                "fp-b", P2, occurrences=4, category=INFRA, is_new=False, members=("fp-b", "fp-b3")
            ),
            make_document("fp-d", P2, occurrences=7, category=INFRA, cost_usd=0.02, **LLM),
        ],
        P3: [
            make_document(
                "fp-a", P3, occurrences=1, category=CODE, is_new=False, rules_version="r2"
            ),
            {
                **make_document("fp-e", P3, occurrences=2, category=CODE),
                "s_human_category": INFRA,
            },
        ],
    }


@pytest.fixture
def published(store: ErrorStore) -> dict[str, list[dict]]:
    docs = scenario()
    for partition, documents in docs.items():
        result = store.replace_partition(partition, documents)
        assert (result.partition, result.written, result.deleted_stale) == (
            partition,
            len(documents),
            0,
        )
    return docs


def ids(documents: list[dict]) -> list[str]:
    return [d["s_error_id"] for d in documents]


# -- writing and reading back ------------------------------------------------------------------


def test_ensure_ready_is_idempotent_and_empty_store_answers_empty(store: ErrorStore) -> None:
    store.ensure_ready()
    store.ensure_ready()
    assert store.partition_documents(P1) == []
    assert store.documents_between(ALL_START, ALL_END) == []
    assert store.cluster_history(ALL_END) == {}
    assert store.cached_classifications(["fp-a"]) == {}
    assert store.trend(ALL_START, ALL_END, "hour") == []
    assert store.top_clusters(ALL_START, ALL_END) == []
    assert store.version_summaries(ALL_START, ALL_END) == []
    assert store.cost_summary(ALL_START, ALL_END).llm_requests == 0


def test_partition_documents_round_trip_exactly(store: ErrorStore, published: dict) -> None:
    for partition, documents in published.items():
        expected = sorted(documents, key=lambda d: document_id(d["s_error_hash"], partition))
        assert store.partition_documents(partition) == expected


def test_replace_deletes_stale_documents_and_leaves_other_partitions(
    store: ErrorStore, published: dict
) -> None:
    replacement = [make_document("fp-b", P2, occurrences=9, category=INFRA, is_new=False)]
    result = store.replace_partition(P2, replacement)
    assert (result.written, result.deleted_stale) == (1, 2)
    assert store.partition_documents(P2) == replacement
    assert store.partition_documents(P1) == sorted(published[P1], key=lambda d: d["s_error_id"])
    assert len(store.partition_documents(P3)) == 2


def test_rematerialising_gives_identical_documents(store: ErrorStore, published: dict) -> None:
    before = store.documents_between(ALL_START, ALL_END)
    for partition, documents in scenario().items():
        result = store.replace_partition(partition, documents)
        assert result.deleted_stale == 0
    assert store.documents_between(ALL_START, ALL_END) == before
    assert len(before) == 8


def test_replacing_with_nothing_empties_the_partition(store: ErrorStore, published: dict) -> None:
    result = store.replace_partition(P3, [])
    assert (result.written, result.deleted_stale) == (0, 2)
    assert store.partition_documents(P3) == []
    assert len(store.partition_documents(P1)) == 3


@pytest.mark.parametrize(
    ("changes", "removed"),
    [
        pytest.param({"s_partition": P2}, (), id="wrong-partition"),
        pytest.param({}, ("l_occurrence_count",), id="missing-required"),
        pytest.param({"b_realtime": True}, (), id="realtime-document"),
    ],
)
def test_invalid_documents_are_refused_before_anything_is_written(
    store: ErrorStore, published: dict, changes: dict, removed: tuple[str, ...]
) -> None:
    good = make_document("fp-new", P1)
    broken = {**make_document("fp-bad", P1), **changes}
    for name in removed:
        del broken[name]
    with pytest.raises(StoreError, match="fp-bad"):
        store.replace_partition(P1, [good, broken])
    assert ids(store.partition_documents(P1)) == ["fp-a:" + P1, "fp-b:" + P1, "fp-c:" + P1]


def test_documents_between_is_half_open_and_ordered(store: ErrorStore, published: dict) -> None:
    docs = store.documents_between(at("2026-11-20T10:00:00"), at("2026-11-21T09:00:00"))
    assert ids(docs) == [
        f"fp-a:{P1}",
        f"fp-b:{P1}",
        f"fp-c:{P1}",
        f"fp-a:{P2}",
        f"fp-b:{P2}",
        f"fp-d:{P2}",
    ]
    assert store.documents_between(at("2026-11-20T10:00:01"), at("2026-11-20T11:00:00")) == []


# -- history and cache -------------------------------------------------------------------------


def test_cluster_history_before_a_partition(store: ErrorStore, published: dict) -> None:
    history = store.cluster_history(at("2026-11-21T09:00:00"))
    assert set(history) == {"fp-a", "fp-b", "fp-c", "fp-d"}
    assert history["fp-a"] == ClusterSighting(
        fingerprint="fp-a",
        first_seen="2026-11-19T08:00:00Z",  # carried by a later document
        last_seen="2026-11-20T11:00:00Z",
        partitions=2,
        normalized_text="assertionerror: expected 3 but got 4",  # the cluster's first text
        member_fingerprints=("fp-a",),
        source_kind="pytest",
    )
    assert history["fp-b"].partitions == 2
    assert history["fp-b"].member_fingerprints == ("fp-b", "fp-b2", "fp-b3")  # all partitions
    assert history["fp-b"].first_seen == "2026-11-20T10:00:00Z"
    assert history["fp-d"].partitions == 1
    assert store.cluster_history(at("2026-11-20T10:00:00")) == {}


def test_cluster_history_matches_member_fingerprints(store: ErrorStore, published: dict) -> None:
    history = store.cluster_history(ALL_END, fingerprints=["fp-b2", "unknown"])
    assert list(history) == ["fp-b"]
    assert history["fp-b"].member_fingerprints == ("fp-b", "fp-b2")
    assert set(store.cluster_history(ALL_END, fingerprints=["fp-a", "fp-e"])) == {"fp-a", "fp-e"}
    assert store.cluster_history(ALL_END, fingerprints=[]) == {}


def test_cluster_history_limit_keeps_the_most_recent(store: ErrorStore, published: dict) -> None:
    history = store.cluster_history(ALL_END, limit=2)
    assert set(history) == {"fp-a", "fp-e"}  # both last seen in P3


def test_cached_classifications_return_the_newest_document(
    store: ErrorStore, published: dict
) -> None:
    cached = store.cached_classifications(["fp-a", "fp-d", "fp-e", "never-seen"])
    assert set(cached) == {"fp-a", "fp-d", "fp-e"}
    assert cached["fp-a"] == published[P3][0]
    assert cached["fp-d"]["s_partition"] == P2
    assert cached["fp-e"]["s_human_category"] == INFRA


def test_realtime_documents_serve_the_cache_but_not_trends(
    store: ErrorStore, published: dict
) -> None:
    realtime = make_document("fp-a", P4, occurrences=1, category=INFRA, realtime=True)
    assert store.upsert_realtime([realtime]) == 1  # type: ignore[attr-defined]
    assert store.cached_classifications(["fp-a"])["fp-a"] == realtime
    assert store.realtime_documents() == [realtime]  # type: ignore[attr-defined]
    assert store.partition_documents(P4) == []
    assert store.trend(at("2026-11-21T10:00:00"), ALL_END, "hour") == []
    assert "fp-a" not in store.new_clusters(at("2026-11-21T10:00:00"), ALL_END)
    # The hourly run for the same partition supersedes the real-time document.
    hourly = make_document("fp-a", P4, occurrences=2, category=CODE, is_new=False)
    store.replace_partition(P4, [hourly])
    assert store.cached_classifications(["fp-a"])["fp-a"] == hourly
    assert store.realtime_documents() == []  # type: ignore[attr-defined]


# -- trends and reports ------------------------------------------------------------------------


def test_trend_per_hour(store: ErrorStore, published: dict) -> None:
    assert store.trend(ALL_START, ALL_END, "hour") == [
        TrendBucket("2026-11-20T10:00:00Z", CODE, clusters=2, occurrences=6),
        TrendBucket("2026-11-20T10:00:00Z", INFRA, clusters=1, occurrences=2),
        TrendBucket("2026-11-20T11:00:00Z", CODE, clusters=1, occurrences=3),
        TrendBucket("2026-11-20T11:00:00Z", INFRA, clusters=2, occurrences=11),
        TrendBucket("2026-11-21T09:00:00Z", CODE, clusters=2, occurrences=3),
    ]


def test_trend_per_day_within_a_window(store: ErrorStore, published: dict) -> None:
    assert store.trend(ALL_START, ALL_END, "day") == [
        TrendBucket("2026-11-20T00:00:00Z", CODE, clusters=3, occurrences=9),
        TrendBucket("2026-11-20T00:00:00Z", INFRA, clusters=3, occurrences=13),
        TrendBucket("2026-11-21T00:00:00Z", CODE, clusters=2, occurrences=3),
    ]
    assert store.trend(at("2026-11-20T11:00:00"), at("2026-11-21T00:00:00"), "day") == [
        TrendBucket("2026-11-20T00:00:00Z", CODE, clusters=1, occurrences=3),
        TrendBucket("2026-11-20T00:00:00Z", INFRA, clusters=2, occurrences=11),
    ]


def test_top_clusters_sum_occurrences_over_partitions(store: ErrorStore, published: dict) -> None:
    top = store.top_clusters(ALL_START, ALL_END, limit=3)
    assert [(t["s_error_hash"], t["l_total_occurrences"], t["l_partitions"]) for t in top] == [
        ("fp-a", 9, 3),
        ("fp-d", 7, 1),
        ("fp-b", 6, 2),
    ]
    assert top[0]["s_partition"] == P3  # the newest document represents the cluster
    window = store.top_clusters(at("2026-11-20T11:00:00"), at("2026-11-21T09:00:00"))
    assert [(t["s_error_hash"], t["l_total_occurrences"]) for t in window] == [
        ("fp-d", 7),
        ("fp-b", 4),
        ("fp-a", 3),
    ]


def test_new_clusters_only_count_first_sightings(store: ErrorStore, published: dict) -> None:
    new = store.new_clusters(ALL_START, ALL_END)
    # Ties (fp-b, fp-e: 2 each) break on the fingerprint.
    assert [(n["s_error_hash"], n["l_total_occurrences"]) for n in new] == [
        ("fp-d", 7),
        ("fp-a", 5),
        ("fp-b", 2),
        ("fp-e", 2),
        ("fp-c", 1),
    ]
    assert all(n["b_is_duplicate"] is False for n in new)


def test_version_summaries_per_partition(store: ErrorStore, published: dict) -> None:
    summaries = store.version_summaries(ALL_START, ALL_END)
    assert [(s.partition, s.documents) for s in summaries] == [(P1, 3), (P2, 3), (P3, 2)]
    assert summaries[0].prompt_versions == ("", "p1")
    assert summaries[0].rules_versions == ("r1",)
    assert summaries[0].normalizer_versions == ("n1",)
    assert summaries[2].rules_versions == ("r1", "r2")
    assert summaries[2].prompt_versions == ("",)


def test_cost_summary(store: ErrorStore, published: dict) -> None:
    total = store.cost_summary(ALL_START, ALL_END)
    assert total.llm_requests == 2
    assert total.cost_usd == pytest.approx(0.03)
    assert total.classifiers == {"rules": 6, "llm": 2}
    window = store.cost_summary(at("2026-11-20T11:00:00"), at("2026-11-21T09:00:00"))
    assert (window.llm_requests, window.classifiers) == (1, {"rules": 2, "llm": 1})
    assert window.cost_usd == pytest.approx(0.02)
