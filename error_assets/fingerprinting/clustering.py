"""From fingerprinted occurrences of one partition to clusters, stable across partitions.

Stage 1 groups occurrences by exact fingerprint. Stage 2 gives each distinct fingerprint a
cluster id:

1. a fingerprint the history already knows (as a cluster id or a member) keeps that
   cluster's id;
2. otherwise it joins the most similar near-duplicate leader (`similarity.py`): first the
   clusters of earlier partitions (their stored normalised text), then the leaders made
   earlier in this partition;
3. otherwise it leads a new cluster whose id is its own fingerprint.

Distinct fingerprints are visited in sorted order, so the result does not depend on the
order of the input, and it is a pure function of (occurrences, partition, history): nothing
is counted by read-modify-write, so partitions can be built concurrently and a rerun gives
the same clusters. `remember_clusters` folds a partition's clusters into the history, so a
ranged run over several partitions matches running them one by one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from operator import attrgetter

from error_assets.fingerprinting import native
from error_assets.fingerprinting.fingerprint import (
    canonical_source_kind,
    cause_key,
    normalized_causes,
    occurrence_fingerprints,
)
from error_assets.fingerprinting.forked import forked_map
from error_assets.fingerprinting.gc_pause import gc_paused
from error_assets.fingerprinting.rules import NORMALIZER_VERSION
from error_assets.fingerprinting.similarity import LeaderIndex, key_tokens, profile
from error_assets.models import ROLE_ORDER, Cluster, ErrorOccurrence
from error_assets.stores.base import ClusterSighting
from error_assets.stores.documents import iso, partition_start


def representative_order(occurrence: ErrorOccurrence) -> tuple[int, int, str]:
    return (ROLE_ORDER.get(occurrence.role, 3), occurrence.rank, occurrence.error_id)


_ROLE = attrgetter("role")
_RANK_THEN_ID = attrgetter("rank", "error_id")


def _representative(members: Sequence[ErrorOccurrence]) -> ErrorOccurrence:
    """min(members, key=representative_order), with a C-level key when all share one role."""
    if len(members) == 1:
        return members[0]
    if len(set(map(_ROLE, members))) == 1:  # the role's rank is the same for all
        return min(members, key=_RANK_THEN_ID)
    return min(members, key=representative_order)


def partition_hour(partition: str) -> str:
    """ISO UTC start of an hourly partition key; "" for no partition (ad-hoc CLI input)."""
    if not partition:
        return ""
    try:
        return iso(partition_start(partition))
    except ValueError as error:
        raise ValueError(
            f"partition {partition!r} is not an hourly partition key like 2026-11-28-03:00"
        ) from error


def _historical_owner(history: Mapping[str, ClusterSighting]) -> dict[str, str]:
    """Fingerprint -> id of the historical cluster holding it (oldest cluster wins ties)."""
    owner: dict[str, str] = {}
    ordered = sorted(history.values(), key=lambda s: (s.first_seen, s.fingerprint), reverse=True)
    for sighting in ordered:  # newest first, so the oldest cluster is written last and wins
        for member in sighting.member_fingerprints:
            owner[member] = sighting.fingerprint
    for sighting in ordered:  # a cluster's own id always maps to itself
        owner[sighting.fingerprint] = sighting.fingerprint
    return owner


def assign_cluster_ids(
    texts: Mapping[str, tuple[str, str]],
    history: Mapping[str, ClusterSighting],
    workers: int = 1,
) -> dict[str, str]:
    """Cluster id per distinct fingerprint; `texts` maps fingerprint -> (source kind, text).

    Fingerprints the history holds keep their cluster. The others go through the leader index
    (`similarity.LeaderIndex`), seeded with the history's clusters oldest first: the compiled
    engine's where installed (it profiles the texts itself, on `workers` threads), else
    Python's (with the key tokens in forked workers for many texts).
    """
    pending = _Pending.of(texts, history)
    return pending.finish(pending.compiled_leaders(workers), workers)


@dataclasses.dataclass
class _Pending:
    """An assignment the leader index has yet to complete (`assign_cluster_ids`)."""

    assignment: dict[str, str]  # the fingerprints the history holds, done
    fingerprints: list[str]  # the others, sorted: each needs a leader
    ids: list[str]  # cluster id at each position: the seeds', then these fingerprints
    normalized: list[str]  # text at each position
    kinds: list[str]  # canonical source kind at each position
    seeds: int  # positions that are history's clusters

    @classmethod
    def of(
        cls, texts: Mapping[str, tuple[str, str]], history: Mapping[str, ClusterSighting]
    ) -> _Pending:
        owner = _historical_owner(history)
        assignment: dict[str, str] = {}
        pending: list[str] = []
        for fingerprint_value in sorted(texts):
            if fingerprint_value in owner:
                assignment[fingerprint_value] = owner[fingerprint_value]
            else:
                pending.append(fingerprint_value)
        seeds = [
            s
            for s in sorted(history.values(), key=lambda s: (s.first_seen, s.fingerprint))
            if s.normalized_text
        ]
        seeds = seeds if pending else []  # nothing to match against them
        kinds = [canonical_source_kind(s.source_kind) for s in seeds]
        return cls(
            assignment=assignment,
            fingerprints=pending,
            ids=[s.fingerprint for s in seeds] + pending,
            normalized=[s.normalized_text for s in seeds] + [texts[f][1] for f in pending],
            kinds=kinds + [canonical_source_kind(texts[f][0]) for f in pending],
            seeds=len(seeds),
        )

    def compiled_leaders(self, workers: int) -> list[int] | None:
        """The engine's leader of each pending fingerprint (a position); None without it."""
        if not self.fingerprints:
            return []
        return native.assign_texts(self.normalized, self.kinds, self.seeds, workers)

    def finish(self, leaders: list[int] | None, workers: int) -> dict[str, str]:
        """The whole assignment, from `compiled_leaders` (None: Python finds the leaders)."""
        if leaders is None:
            leaders = _python_leaders(self.normalized, self.kinds, self.seeds, workers)
        for fingerprint_value, leader in zip(self.fingerprints, leaders, strict=True):
            self.assignment[fingerprint_value] = self.ids[leader]
        return self.assignment


def _python_leaders(
    normalized: Sequence[str], kinds: Sequence[str], seeds: int, workers: int
) -> list[int]:
    """`native.assign_texts` in Python: the position of each non-seed text's leader."""
    keys = forked_map(key_tokens, list(normalized), workers, MIN_FORKED_TEXTS)
    profiles = list(map(profile, normalized, kinds, keys))
    index = LeaderIndex.for_texts(profiles)
    for at in range(seeds):
        index.add(str(at), profiles[at])
    leaders = []
    for at in range(seeds, len(profiles)):
        match = index.best_match(profiles[at])
        if match is None:
            index.add(str(at), profiles[at])
            match = str(at)
        leaders.append(int(match))
    return leaders


# Fewer distinct fingerprints than this are prepared in this process: forking costs more.
MIN_FORKED_TEXTS = 5_000


# The member fields a cluster lists the distinct values of, in `_distinct_values` order.
_LISTED_FIELDS = (
    "error_id",
    "job_id",
    "run_id",
    "test_name",
    "source_kind",
    "repo",
    "workflow_name",
    "job_name",
    "step_name",
    "framework",
)
_LISTED = attrgetter(*_LISTED_FIELDS)


def _distinct_values(members: Sequence[ErrorOccurrence]) -> dict[str, tuple]:
    """Field -> its values over `members`, sorted: every error id; of the other fields the
    distinct non-empty values. One pass reads each member once (they lie scattered in memory).
    """
    columns = zip(*map(_LISTED, members), strict=True)
    listed: dict[str, tuple] = {"error_id": tuple(sorted(next(columns)))}
    for name, column in zip(_LISTED_FIELDS[1:], columns, strict=True):
        values = set(column)
        values.discard("")
        values.discard(None)
        listed[name] = tuple(sorted(values))
    return listed


def _assign_while_reading(
    texts: Mapping[str, tuple[str, str]],
    history: Mapping[str, ClusterSighting],
    workers: int,
    occurrences: Sequence[ErrorOccurrence],
    fingerprints: Sequence[str],
) -> tuple[dict[str, str], native.MemberGroups | None]:
    """`assign_cluster_ids(texts, ...)` and the engine's reading of the members, one group per
    fingerprint (in `texts` order; None without the engine or where it declines).

    With the engine, its leader index runs on a thread meanwhile: it works outside the GIL,
    which reading a million records needs (the reader hands it over when asked).
    """
    if native.engine() is None:
        return assign_cluster_ids(texts, history, workers), None
    pending = _Pending.of(texts, history)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cluster-ids") as pool:
        leading = pool.submit(pending.compiled_leaders, workers)
        # Made while the leader index runs (outside the GIL): a million lookups.
        group = {f: at for at, f in enumerate(texts)}
        group_of = list(map(group.__getitem__, fingerprints))
        members = native.read_members(
            occurrences, group_of, list(group), fingerprints, _LISTED_FIELDS
        )
        leaders = leading.result()
    return pending.finish(leaders, workers), members


def _member_listings(
    occurrences: Sequence[ErrorOccurrence],
    fingerprints: Sequence[str],
    position: Mapping[str, int],
    count: int,
    members: native.MemberGroups | None = None,
) -> list[tuple[ErrorOccurrence, str, dict[str, tuple]]]:
    """Per cluster (`position`: fingerprint -> cluster index): its representative, the
    representative's fingerprint and the listed values of its members (`_distinct_values`).

    The representative is the least by `representative_order`, ties going to the smaller
    fingerprint, then to the earlier occurrence. `members`, the engine's reading of them per
    fingerprint, are listed per cluster; Python does the same where the engine is missing
    or declined (odd field types).
    """
    found = None if members is None else members.listings(position, count)
    if found is not None:
        return [
            (occurrences[at], fingerprints[at], dict(zip(_LISTED_FIELDS, listed, strict=True)))
            for at, listed in found
        ]
    by_fingerprint: dict[str, list[ErrorOccurrence]] = {}
    for fingerprint_value, occurrence in zip(fingerprints, occurrences, strict=True):
        members = by_fingerprint.get(fingerprint_value)
        if members is None:
            by_fingerprint[fingerprint_value] = [occurrence]
        else:
            members.append(occurrence)
    in_cluster: list[list[str]] = [[] for _ in range(count)]
    for fingerprint_value in sorted(by_fingerprint):
        in_cluster[position[fingerprint_value]].append(fingerprint_value)
    listings = []
    for members_fingerprints in in_cluster:
        representatives = {f: _representative(by_fingerprint[f]) for f in members_fingerprints}
        leading = min(members_fingerprints, key=lambda f: representative_order(representatives[f]))
        if len(members_fingerprints) == 1:
            members = by_fingerprint[leading]
        else:
            members = [o for f in members_fingerprints for o in by_fingerprint[f]]
        listings.append((representatives[leading], leading, _distinct_values(members)))
    return listings


def build_clusters(
    occurrences: Sequence[ErrorOccurrence],
    partition: str,
    history: Mapping[str, ClusterSighting],
    workers: int = 1,
) -> list[Cluster]:
    """The clusters of one partition (largest first); see the module docstring.

    Occurrences are fingerprinted here (all of them) unless every one holds its fingerprint.
    `workers` > 1 fingerprints and prepares the distinct fingerprints' texts on that many
    threads (compiled engine) or forked processes (for large inputs; the result is the same).
    """
    hour = partition_hour(partition)
    stored = all(o.fingerprint for o in occurrences)
    known_texts: dict[str, str] = {}  # fingerprint -> normalised text, where already made
    firsts: dict[str, int] = {}  # fingerprint -> first position, where the engine made all
    if stored:
        fingerprints = [o.fingerprint for o in occurrences]
    else:
        fingerprints = occurrence_fingerprints(occurrences, workers, known_texts, firsts)
    with gc_paused():  # a million members make many small lists and tuples
        return _build_clusters(
            occurrences,
            fingerprints,
            known_texts,
            firsts,
            stored,
            partition,
            hour,
            history,
            workers,
        )


def _build_clusters(
    occurrences: Sequence[ErrorOccurrence],
    fingerprints: Sequence[str],
    known_texts: Mapping[str, str],
    firsts: Mapping[str, int],
    stored: bool,
    partition: str,
    hour: str,
    history: Mapping[str, ClusterSighting],
    workers: int,
) -> list[Cluster]:
    # Stage 1: the distinct fingerprints, each with its first occurrence (all members of one
    # fingerprint share its normalised text).
    # Read backwards, so the earliest occurrence is written last and wins (unless the engine
    # found them: it read every occurrence in order).
    positions = range(len(fingerprints) - 1, -1, -1)
    first = firsts or dict(zip(reversed(fingerprints), positions, strict=True))
    missing = [f for f in first if f not in known_texts]
    normalized = dict(known_texts)
    made = normalized_causes([cause_key(occurrences[first[f]]) for f in missing], workers)
    normalized.update(zip(missing, made, strict=True))
    texts = {f: (occurrences[at].source_kind, normalized[f]) for f, at in first.items()}
    # Stage 2: a cluster id per fingerprint, while the members are read per fingerprint.
    assignment, read = _assign_while_reading(texts, history, workers, occurrences, fingerprints)

    grouped: dict[str, list[str]] = {}
    for fingerprint_value in sorted(first):
        grouped.setdefault(assignment[fingerprint_value], []).append(fingerprint_value)
    position = {f: at for at, members in enumerate(grouped.values()) for f in members}
    listings = _member_listings(occurrences, fingerprints, position, len(grouped), read)
    clusters = []
    for (cluster_id, members), (representative, leading, listed) in zip(
        grouped.items(), listings, strict=True
    ):
        known = history.get(cluster_id)
        clusters.append(
            Cluster(
                fingerprint=cluster_id,
                partition=partition,
                source_kind=representative.source_kind,
                representative_message=representative.message,
                representative_text=representative.text,
                normalized_text=texts[leading][1],
                occurrences=len(listed["error_id"]),
                member_fingerprints=tuple(members),
                error_ids=listed["error_id"],
                affected_job_ids=listed["job_id"],
                affected_run_ids=listed["run_id"],
                test_names=listed["test_name"],
                source_kinds=listed["source_kind"],
                repos=listed["repo"],
                workflow_names=listed["workflow_name"],
                job_names=listed["job_name"],
                step_names=listed["step_name"],
                first_seen=min(known.first_seen, hour) if known and hour else hour,
                last_seen=hour,
                is_new=known is None,
                normalizer_version=(stored and representative.normalizer_version)
                or NORMALIZER_VERSION,
                frameworks=listed["framework"],
            )
        )
    clusters.sort(key=lambda c: (-c.occurrences, c.fingerprint))
    return clusters


def remember_clusters(history: dict[str, ClusterSighting], clusters: Sequence[Cluster]) -> None:
    """Fold `clusters` (of one or more partitions) into `history`, in place.

    A known cluster keeps its first text (the one near-duplicates were matched against),
    widens first/last seen, counts one more partition and gains the new member fingerprints.
    """
    for cluster in sorted(clusters, key=lambda c: (c.partition, c.fingerprint)):
        known = history.get(cluster.fingerprint)
        if known is None:
            history[cluster.fingerprint] = ClusterSighting(
                fingerprint=cluster.fingerprint,
                first_seen=cluster.first_seen,
                last_seen=cluster.last_seen,
                partitions=1,
                normalized_text=cluster.normalized_text,
                member_fingerprints=tuple(sorted(set(cluster.member_fingerprints))),
                source_kind=cluster.source_kind,
            )
            continue
        history[cluster.fingerprint] = dataclasses.replace(
            known,
            first_seen=min(filter(None, (known.first_seen, cluster.first_seen)), default=""),
            last_seen=max(known.last_seen, cluster.last_seen),
            partitions=known.partitions + 1,
            normalized_text=known.normalized_text or cluster.normalized_text,
            member_fingerprints=tuple(
                sorted(set(known.member_fingerprints) | set(cluster.member_fingerprints))
            ),
            source_kind=known.source_kind or cluster.source_kind,
        )
