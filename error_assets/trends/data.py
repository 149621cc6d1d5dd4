"""What a trend report shows, gathered from the store in one place.

Everything the chart and the markdown print comes from a `TrendData`, so the two always
agree with each other and with the store they were read from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from error_assets.models import CLASSIFIER_KINDS
from error_assets.stores.base import ErrorStore, TrendBucket
from error_assets.taxonomy import CATEGORY_NAMES

# The classifier kinds a document can carry (`s_classifier_kind`), in the order reports list them.


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Clusters (documents) and occurrences per category in one hour or one day."""

    start: datetime
    clusters: dict[str, int]
    occurrences: dict[str, int]

    def total_occurrences(self) -> int:
        return sum(self.occurrences.values())


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    """The day window of one category: distinct clusters, documents and occurrences."""

    category: str
    distinct_clusters: int
    documents: int
    occurrences: int


@dataclass(frozen=True, slots=True)
class TrendData:
    """The report's content: the day window (24 hours before `end`) and the daily history."""

    end: datetime
    days: int
    categories: tuple[str, ...]
    hourly: list[TrendPoint]
    daily: list[TrendPoint]
    totals: list[CategoryTotal]
    top_clusters: list[dict[str, Any]]
    new_clusters: list[dict[str, Any]]
    classifier_mix: dict[str, int]
    llm_requests: int
    cost_usd: float
    tokens: dict[str, int] = field(default_factory=dict)

    @property
    def day_start(self) -> datetime:
        return self.end - timedelta(hours=24)

    def total_occurrences(self) -> int:
        return sum(t.occurrences for t in self.totals)


def whole_hour(moment: datetime) -> datetime:
    """`moment` in UTC, rounded down to the hour (naive datetimes are taken as UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def collect_trend(
    store: ErrorStore, end: datetime, days: int = 14, top: int = 10, new: int = 20
) -> TrendData:
    """Read the trend that ends at `end` (a whole UTC hour) from `store`.

    The day window is the 24 hours before `end`; the history covers the `days` calendar days
    (UTC) up to and including the one that holds the window's last hour.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    end = whole_hour(end)
    day_start = end - timedelta(hours=24)
    last_day = (end - timedelta(hours=1)).replace(hour=0)
    history_start = last_day - timedelta(days=days - 1)

    hourly_buckets = store.trend(day_start, end, "hour")
    daily_buckets = store.trend(history_start, end, "day")
    documents = store.documents_between(day_start, end)
    costs = store.cost_summary(day_start, end)

    categories = _categories(hourly_buckets, daily_buckets, documents)
    hours = [day_start + timedelta(hours=h) for h in range(24)]
    day_list = [history_start + timedelta(days=d) for d in range(days)]
    mix = dict.fromkeys(CLASSIFIER_KINDS, 0)
    for kind, count in costs.classifiers.items():
        mix[kind] = mix.get(kind, 0) + int(count)
    return TrendData(
        end=end,
        days=days,
        categories=categories,
        hourly=_fill(hourly_buckets, hours, categories),
        daily=_fill(daily_buckets, day_list, categories),
        totals=_totals(documents, categories),
        top_clusters=store.top_clusters(day_start, end, limit=top),
        new_clusters=store.new_clusters(day_start, end, limit=new),
        classifier_mix=mix,
        llm_requests=int(costs.llm_requests),
        cost_usd=float(costs.cost_usd),
        tokens=_tokens(documents),
    )


def _categories(
    hourly: list[TrendBucket], daily: list[TrendBucket], documents: list[dict[str, Any]]
) -> tuple[str, ...]:
    # The taxonomy's categories always appear (a zero is news too); anything else the store
    # holds is shown after them rather than silently dropped.
    seen = {b.category for b in (*hourly, *daily)} | {
        d.get("s_primary_category", "") for d in documents
    }
    extra = sorted(seen - set(CATEGORY_NAMES) - {""})
    return (*CATEGORY_NAMES, *extra)


def _bucket_start(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _fill(
    buckets: list[TrendBucket], starts: list[datetime], categories: tuple[str, ...]
) -> list[TrendPoint]:
    clusters: dict[datetime, Counter[str]] = {s: Counter() for s in starts}
    occurrences: dict[datetime, Counter[str]] = {s: Counter() for s in starts}
    for bucket in buckets:
        start = _bucket_start(bucket.bucket_start)
        if start not in clusters:
            continue
        clusters[start][bucket.category] += bucket.clusters
        occurrences[start][bucket.category] += bucket.occurrences
    return [
        TrendPoint(
            start=s,
            clusters={c: clusters[s][c] for c in categories},
            occurrences={c: occurrences[s][c] for c in categories},
        )
        for s in starts
    ]


def _totals(documents: list[dict[str, Any]], categories: tuple[str, ...]) -> list[CategoryTotal]:
    fingerprints: dict[str, set[str]] = {c: set() for c in categories}
    docs: Counter[str] = Counter()
    occurrences: Counter[str] = Counter()
    for doc in documents:
        category = doc.get("s_primary_category", "")
        if category not in fingerprints:
            continue
        fingerprints[category].add(doc["s_error_hash"])
        docs[category] += 1
        occurrences[category] += int(doc.get("l_occurrence_count") or 0)
    return [CategoryTotal(c, len(fingerprints[c]), docs[c], occurrences[c]) for c in categories]


def _tokens(documents: list[dict[str, Any]]) -> dict[str, int]:
    fields = {
        "input": "l_prompt_tokens",
        "output": "l_output_tokens",
        "cache_read": "l_cached_tokens",
        "cache_write": "l_cache_write_tokens",
    }
    return {
        name: sum(int(d.get(field_name) or 0) for d in documents)
        for name, field_name in fields.items()
    }
