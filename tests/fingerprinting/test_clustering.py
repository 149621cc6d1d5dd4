"""Two-stage clustering: near-duplicates merge, different failures do not, ids stay stable."""

from __future__ import annotations

import dataclasses
import json
import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from error_assets.fingerprinting import (
    NORMALIZER_VERSION,
    build_clusters,
    fingerprint_occurrences,
    remember_clusters,
    similarity,
)
from error_assets.fingerprinting.similarity import LeaderIndex, profile
from error_assets.models import Cluster, ErrorOccurrence, from_row, to_row
from error_assets.stores.base import ClusterSighting
from tests.fingerprinting.quality_set import LabelledItem, as_occurrence, family_items

HOUR = "2026-11-28-03:00"


def _occ(
    error_id: str,
    text: str,
    kind: str = "gha_log",
    message: str = "",
    job_id: int = 1,
    partition: str = HOUR,
    **changes: object,
) -> ErrorOccurrence:
    occurrence = as_occurrence(LabelledItem(error_id, "", kind, message, text), partition, job_id)
    return dataclasses.replace(occurrence, **changes) if changes else occurrence


def _clusters(occurrences, partition: str = HOUR, history=None):
    return build_clusters(fingerprint_occurrences(occurrences), partition, history or {})


def _grouping(clusters) -> set[frozenset[str]]:
    return {frozenset(c.error_ids) for c in clusters}


def test_exact_duplicates_form_one_cluster_with_all_fields() -> None:
    occurrences = [
        _occ("a", "Error: disk full on fv-az1-2", job_id=11, test_name="t1", run_id=5),
        _occ("b", "Error: disk full on fv-az9-8", job_id=12, test_name="t2", run_id=5),
        _occ("c", "Error: disk full on fv-az3-3", job_id=11, role="symptom", run_id=6),
    ]
    (cluster,) = _clusters(occurrences)
    assert cluster.occurrences == 3
    assert cluster.error_ids == ("a", "b", "c")
    assert cluster.affected_job_ids == (11, 12)
    assert cluster.affected_run_ids == (5, 6)
    assert cluster.test_names == ("t1", "t2")
    assert cluster.source_kinds == ("gha_log",)
    assert cluster.repos == ("acme/shop",)
    assert cluster.frameworks == ("gha_log",)
    assert cluster.is_new is True
    assert cluster.first_seen == cluster.last_seen == "2026-11-28T03:00:00Z"
    assert cluster.normalized_text == "Error: disk full on <runner>"
    assert cluster.representative_text == "Error: disk full on fv-az1-2"
    assert len(cluster.member_fingerprints) == 1
    assert cluster.fingerprint == cluster.member_fingerprints[0]


def test_representative_prefers_cause_then_rank() -> None:
    # Same fingerprint (the runner name is masked); the text shows which one was chosen.
    occurrences = [
        _occ("a", "Error: x failed on fv-az1-1", role="wrapper", rank=0),
        _occ("b", "Error: x failed on fv-az2-2", role="cause", rank=2),
        _occ("c", "Error: x failed on fv-az3-3", role="cause", rank=1),
        _occ("d", "Error: x failed on fv-az4-4", role="symptom", rank=0),
    ]
    (cluster,) = _clusters(occurrences)
    assert cluster.representative_text == "Error: x failed on fv-az3-3"


def test_near_duplicates_merge_within_a_partition() -> None:
    line = (
        "warning: spurious network error ({} tries remaining): [6] Could not resolve hostname "
        "(Could not resolve host: index.crates.io)"
    )
    occurrences = [_occ(name, line.format(n)) for name, n in (("a", 3), ("b", 2), ("c", 1))]
    clusters = _clusters(occurrences)
    assert _grouping(clusters) == {frozenset("abc")}
    (cluster,) = clusters
    assert len(cluster.member_fingerprints) == 3


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # Same template, different failing module.
        (
            "E   AssertionError: total mismatch\n<src>/tests/orders/test_api.py:41: AssertionError",
            "E   AssertionError: total mismatch\n<src>/tests/billing/test_api.py:41: AssertionError",
        ),
        # Same template, different exception type.
        (
            "TypeError: cannot add price and quantity for order 7 in checkout service now",
            "ValueError: cannot add price and quantity for order 7 in checkout service now",
        ),
        # Same words, different exit code.
        (
            "##[error]Process completed with exit code 1. Runner cleanup done",
            "##[error]Process completed with exit code 137. Runner cleanup done",
        ),
        # Different first line over shared boilerplate.
        (
            "fatal: couldn't find remote ref refs/heads/main\n"
            "##[error]The process '/usr/bin/git' failed with exit code 128",
            "fatal: Authentication failed for the repository\n"
            "##[error]The process '/usr/bin/git' failed with exit code 128",
        ),
    ],
)
def test_different_failures_stay_apart(first: str, second: str) -> None:
    clusters = _clusters([_occ("a", first), _occ("b", second)])
    assert _grouping(clusters) == {frozenset("a"), frozenset("b")}


def test_different_source_kinds_stay_apart() -> None:
    clusters = _clusters([_occ("a", "boom", kind="pytest"), _occ("b", "boom", kind="junit")])
    assert len(clusters) == 2


def test_result_does_not_depend_on_input_order() -> None:
    items = family_items(random.Random(7), variants=3)
    occurrences = [as_occurrence(item, HOUR, i) for i, item in enumerate(items)]
    expected = _clusters(occurrences)
    shuffled = occurrences[:]
    random.Random(1).shuffle(shuffled)
    assert _clusters(shuffled) == expected
    assert _clusters(occurrences) == expected  # rerun


def test_occurrences_without_fingerprints_are_fingerprinted_into_the_same_clusters() -> None:
    items = family_items(random.Random(11), variants=3)
    occurrences = [as_occurrence(item, HOUR, i) for i, item in enumerate(items)]
    assert not any(o.fingerprint for o in occurrences)
    raw = build_clusters(occurrences, HOUR, {})
    assert raw == _clusters(occurrences)
    assert {c.normalizer_version for c in raw} == {NORMALIZER_VERSION}
    # One occurrence without a fingerprint makes all of them fingerprinted afresh.
    mixed = fingerprint_occurrences(occurrences)
    mixed[0] = dataclasses.replace(mixed[0], fingerprint="", normalizer_version="")
    assert build_clusters(mixed, HOUR, {}) == raw


def _partition(hour: int) -> str:
    return f"2026-11-28-{hour:02d}:00"


def test_cluster_keeps_its_id_and_classification_key_across_partitions() -> None:
    base = "Error: getCacheEntry failed: Cache service responded with 503 for key linux-build"
    first = _clusters(
        [_occ("a", base + " request 48151623\nError: giving up after 3 attempts")], _partition(1)
    )
    history: dict[str, ClusterSighting] = {}
    remember_clusters(history, first)
    (cluster_id,) = history
    # Later: the exact same failure, a near-duplicate variant, and something new.
    later = [
        _occ(
            "b",
            base + " request 99999999\nError: giving up after 3 attempts",
            partition=_partition(5),
        ),
        _occ(
            "c",
            base + " request 12345678\nError: giving up after 2 attempts",
            partition=_partition(5),
        ),
        _occ(
            "d",
            "Error: Cache service responded with 429 too many requests",
            partition=_partition(5),
        ),
    ]
    clusters = {c.fingerprint: c for c in _clusters(later, _partition(5), history)}
    assert clusters[cluster_id].error_ids == ("b", "c")
    assert clusters[cluster_id].is_new is False
    assert clusters[cluster_id].first_seen == "2026-11-28T01:00:00Z"
    assert clusters[cluster_id].last_seen == "2026-11-28T05:00:00Z"
    (other,) = [c for c in clusters.values() if c.fingerprint != cluster_id]
    assert other.is_new is True and other.error_ids == ("d",)


def test_member_fingerprint_maps_to_its_historical_cluster() -> None:
    history = {
        "feedfacecafe0001": ClusterSighting(
            fingerprint="feedfacecafe0001",
            first_seen="2026-11-27T10:00:00Z",
            last_seen="2026-11-27T11:00:00Z",
            partitions=2,
            normalized_text="something that no longer matches at all",
            member_fingerprints=(),
            source_kind="gha_log",
        )
    }
    occurrence = fingerprint_occurrences([_occ("a", "Error: a brand new failure")])[0]
    history["feedfacecafe0001"] = dataclasses.replace(
        history["feedfacecafe0001"], member_fingerprints=(occurrence.fingerprint,)
    )
    (cluster,) = build_clusters([occurrence], HOUR, history)
    assert cluster.fingerprint == "feedfacecafe0001"
    assert (cluster.is_new, cluster.first_seen) == (False, "2026-11-27T10:00:00Z")


def test_ranged_run_equals_partitions_run_one_by_one() -> None:
    rng = random.Random(11)
    items = family_items(rng, variants=12)
    by_partition: dict[str, list[ErrorOccurrence]] = {}
    for i, item in enumerate(items):
        partition = _partition(rng.randrange(6))
        by_partition.setdefault(partition, []).append(as_occurrence(item, partition, i))
    partitions = sorted(by_partition)

    # Ranged: one process walks the partitions, threading the history through.
    ranged = []
    history: dict[str, ClusterSighting] = {}
    for partition in partitions:
        clusters = build_clusters(
            fingerprint_occurrences(by_partition[partition]), partition, history
        )
        remember_clusters(history, clusters)
        ranged.append(clusters)

    # One by one: each run starts from what earlier runs stored (JSON round trip).
    stored: list[str] = []
    one_by_one = []
    for partition in partitions:
        history = {}
        remember_clusters(history, [from_row(Cluster, json.loads(row)) for row in stored])
        clusters = build_clusters(
            fingerprint_occurrences(by_partition[partition]), partition, history
        )
        stored.extend(json.dumps(to_row(c)) for c in clusters)
        one_by_one.append(clusters)
    assert one_by_one == ranged
    assert sum(not c.is_new for clusters in ranged for c in clusters) > 0


def test_partitions_built_concurrently_lose_nothing() -> None:
    rng = random.Random(5)
    items = family_items(rng, variants=20)
    by_partition: dict[str, list[ErrorOccurrence]] = {}
    for i, item in enumerate(items):
        partition = _partition(i % 8)
        by_partition.setdefault(partition, []).append(as_occurrence(item, partition, i))
    sequential = {p: _clusters(o, p) for p, o in by_partition.items()}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {p: pool.submit(_clusters, o, p) for p, o in by_partition.items()}
        concurrent = {p: f.result() for p, f in futures.items()}
    assert concurrent == sequential
    total = sum(c.occurrences for clusters in concurrent.values() for c in clusters)
    assert total == len(items)
    ids = [e for clusters in concurrent.values() for c in clusters for e in c.error_ids]
    assert sorted(ids) == sorted(item.item_id for item in items)


def test_remember_clusters_widens_the_sighting() -> None:
    history: dict[str, ClusterSighting] = {}
    first = _clusters([_occ("a", "Error: flaky socket", partition=_partition(2))], _partition(2))
    remember_clusters(history, first)
    later = _clusters(
        [_occ("b", "Error: flaky socket", partition=_partition(4))], _partition(4), history
    )
    remember_clusters(history, later)
    (sighting,) = history.values()
    assert sighting.partitions == 2
    assert (sighting.first_seen, sighting.last_seen) == (
        "2026-11-28T02:00:00Z",
        "2026-11-28T04:00:00Z",
    )
    assert sighting.normalized_text == "Error: flaky socket"
    assert sighting.source_kind == "gha_log"


def test_bad_partition_key_is_named() -> None:
    with pytest.raises(ValueError, match="2026/11/28"):
        _clusters([_occ("a", "boom")], "2026/11/28")


def test_candidate_verification_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = similarity.near_duplicates

    def counting(a, b):
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(similarity, "near_duplicates", counting)
    # One block (same head line, no key tokens), identical token sets, different word order:
    # every text is a candidate for every other, so only the cap keeps the work bounded.
    rng = random.Random(3)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    orders: set[tuple[str, ...]] = set()
    while len(orders) < 600:
        orders.add(tuple(rng.sample(words, len(words))))
    items = [profile("Error: fetch failed\n" + " ".join(o), "gha_log") for o in sorted(orders)]
    index = LeaderIndex.for_texts(items)
    most = 0
    for i, item in enumerate(items):
        calls.clear()
        if index.best_match(item) is None:
            index.add(str(i), item)
        most = max(most, len(calls))
    assert len(index.leaders) > 2 * similarity.MAX_CANDIDATES  # the cap was needed
    assert 0 < most <= similarity.MAX_CANDIDATES
