"""The exact fingerprint of an occurrence: a stable hash of its normalised cause text.

Recipe (identical in every process and on every machine; pinned by a golden-value test):

    sha256( "error-fingerprint" 0x1F source_kind 0x1F normalized_cause_text ), UTF-8,
    first 16 hex digits (64 bits),

where `source_kind` is lower-cased and stripped ("" becomes "log"). The normaliser version
is not hashed: it is stored next to the fingerprint (`normalizer_version`), so a new
normaliser that leaves a text unchanged keeps its fingerprint, its cluster and its cached
classification.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

from error_assets.fingerprinting.cause import cause_text
from error_assets.fingerprinting.rules import NORMALIZER_VERSION, normalize
from error_assets.models import ErrorOccurrence

FINGERPRINT_LENGTH = 16
_SEPARATOR = "\x1f"


def canonical_source_kind(source_kind: str) -> str:
    return source_kind.strip().lower() or "log"


def fingerprint(normalized_text: str, source_kind: str) -> str:
    """The stable hex fingerprint of a normalised cause text seen through `source_kind`."""
    payload = _SEPARATOR.join(
        ("error-fingerprint", canonical_source_kind(source_kind), normalized_text)
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def normalized_cause(occurrence: ErrorOccurrence) -> str:
    """The normalised cause text of one occurrence (what `fingerprint` hashes)."""
    return normalize(cause_text(occurrence.message, occurrence.text, occurrence.file))


def fingerprint_occurrences(occurrences: Sequence[ErrorOccurrence]) -> list[ErrorOccurrence]:
    """Copies of `occurrences` with `fingerprint` and `normalizer_version` filled, in order."""
    known: dict[tuple[str, str, str, str], str] = {}
    result: list[ErrorOccurrence] = []
    for occurrence in occurrences:
        key = (occurrence.source_kind, occurrence.message, occurrence.text, occurrence.file)
        value = known.get(key)
        if value is None:
            value = fingerprint(normalized_cause(occurrence), occurrence.source_kind)
            known[key] = value
        result.append(
            dataclasses.replace(
                occurrence, fingerprint=value, normalizer_version=NORMALIZER_VERSION
            )
        )
    return result
