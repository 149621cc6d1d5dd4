"""Fingerprints and clusters: one cluster per root cause, stable across hours.

What is fingerprinted (`cause.py`): the occurrence's one-line message, its file, and the
lines of its text that carry the error (plus the first/last stack frames), not the
surrounding context. That cause text goes through the normaliser (`rules.py`): an ordered,
versioned table of rules that masks what changes between two sightings of one failure
(timestamps, UUIDs, hex ids, SHAs, IPs and ports, temp/build roots, line numbers, durations,
sizes, PIDs, addresses, runner/pod names, pytest parameters, GitHub run/job ids, ANSI).

The fingerprint (`fingerprint.py`) is sha256("error-fingerprint" 0x1F source_kind 0x1F
normalised text), first 16 hex digits: identical across processes and machines. The
normaliser version (`NORMALIZER_VERSION`) is stored with every fingerprint.

Clusters (`clustering.py`): exact fingerprints first, then near-duplicates merged
(`similarity.py`: same source kind, key tokens and first-line words, then token Jaccard and
edit-distance similarity; candidates from blocks and a rare-token prefix index, capped per
text) within the partition and against the clusters of earlier partitions. A cluster keeps
its id as it gains members, across partitions and reruns.

Speed: with google-re2 installed, one RE2 set pass per line picks the rules that can apply
(the pure-Python pre-checks give identical results, tested); `fingerprint_occurrences(...,
workers=2)` forks workers for large inputs. Where the optional compiled engine is built
(`native/`, Rust; `native.py` hands it this package's rule table), it computes the cause text,
normalised text and fingerprint of occurrences in ASCII and inert symbols on threads, with
the same results (parity-tested), and the near-duplicate stage (profiles and leader index)
and member lists of the clustering; everything else stays in Python.

No dagster.
"""

from error_assets.fingerprinting.cause import cause_text
from error_assets.fingerprinting.clustering import (
    assign_cluster_ids,
    build_clusters,
    remember_clusters,
)
from error_assets.fingerprinting.fingerprint import (
    fingerprint,
    fingerprint_occurrences,
    normalized_cause,
    occurrence_fingerprints,
)
from error_assets.fingerprinting.rules import NORMALIZER_VERSION, RULES, Rule, normalize

__all__ = [
    "NORMALIZER_VERSION",
    "RULES",
    "Rule",
    "assign_cluster_ids",
    "build_clusters",
    "cause_text",
    "fingerprint",
    "fingerprint_occurrences",
    "normalize",
    "normalized_cause",
    "occurrence_fingerprints",
    "remember_clusters",
]
