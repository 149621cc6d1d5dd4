"""Pairwise precision and recall on the labelled clustering set (goal: P >= 0.99, R >= 0.95)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from error_assets.fingerprinting import build_clusters, fingerprint_occurrences
from tests.fingerprinting.quality_set import (
    LabelledItem,
    PairwiseScores,
    as_occurrence,
    family_items,
    pairwise_scores,
    quality_set,
)

PRECISION_GOAL = 0.99
RECALL_GOAL = 0.95


def score(items: list[LabelledItem]) -> PairwiseScores:
    occurrences = [as_occurrence(item, job_id=i) for i, item in enumerate(items)]
    clusters = build_clusters(fingerprint_occurrences(occurrences), "2026-11-28-03:00", {})
    predicted = {e: c.fingerprint for c in clusters for e in c.error_ids}
    return pairwise_scores([i.group for i in items], [predicted[i.item_id] for i in items])


def test_pairwise_scores_arithmetic() -> None:
    perfect = pairwise_scores(["a", "a", "b"], ["x", "x", "y"])
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    everything_merged = pairwise_scores(["a", "a", "b", "b"], ["x", "x", "x", "x"])
    assert (everything_merged.precision, everything_merged.recall) == (2 / 6, 1.0)
    nothing_merged = pairwise_scores(["a", "a", "b"], ["x", "y", "z"])
    assert (nothing_merged.precision, nothing_merged.recall) == (1.0, 0.0)


def test_quality_on_generated_families() -> None:
    items = family_items(random.Random(4))
    assert len({i.group for i in items}) >= 50
    result = score(items)
    print(f"families: {len(items)} items: {result}")
    assert result.precision >= PRECISION_GOAL, str(result)
    assert result.recall >= RECALL_GOAL, str(result)


@pytest.mark.realworld
def test_quality_on_realworld_snippets_and_families(realworld_dir: Path) -> None:
    items = quality_set(realworld_dir)
    assert sum(i.group.startswith("rw:") for i in items) >= 3 * 196
    result = score(items)
    print(f"quality set: {len(items)} items, {len({i.group for i in items})} groups: {result}")
    assert result.precision >= PRECISION_GOAL, str(result)
    assert result.recall >= RECALL_GOAL, str(result)
