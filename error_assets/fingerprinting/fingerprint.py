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
import operator
from collections.abc import Callable, Sequence

from error_assets.fingerprinting import native
from error_assets.fingerprinting.cause import cause_text
from error_assets.fingerprinting.forked import forked_map
from error_assets.fingerprinting.gc_pause import gc_paused
from error_assets.fingerprinting.native import CauseKey
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


def cause_key(occurrence: ErrorOccurrence) -> CauseKey:
    return (occurrence.source_kind, occurrence.message, occurrence.text, occurrence.file)


def normalized_cause(key: CauseKey) -> str:
    """The normalised cause text of one (source_kind, message, text, file): what is hashed."""
    _, message, text, file = key
    return normalize(cause_text(message, text, file))


def fingerprint_key(key: CauseKey) -> str:
    """The fingerprint of one (source_kind, message, text, file)."""
    return fingerprint(normalized_cause(key), key[0])


# Fewer distinct texts than this are fingerprinted in this process: forking costs more.
MIN_FORKED_KEYS = 20_000


def _in_python(compute: Callable[[CauseKey], str], workers: int) -> Callable[[list], list[str]]:
    """`compute` over a list of keys, forked over `workers` processes for many keys (Linux)."""
    return lambda keys: forked_map(compute, keys, workers, MIN_FORKED_KEYS)


def fingerprint_keys(keys: list[CauseKey], workers: int = 1) -> list[str]:
    """Fingerprints of distinct cause keys, in order, over `workers` threads or processes.

    The compiled engine (`native.py`), when installed, takes every all-ASCII key on `workers`
    threads; the rest, or all of them without it, run in Python. Results are identical either
    way.
    """
    return native.python_where_missing(
        native.fingerprints(keys, workers), keys, _in_python(fingerprint_key, workers)
    )


def normalized_causes(keys: list[CauseKey], workers: int = 1) -> list[str]:
    """`normalized_cause` of each key, in order; the compiled engine first, as above."""
    return native.python_where_missing(
        native.normalized_causes(keys, workers), keys, _in_python(normalized_cause, workers)
    )


_FIELDS = [f.name for f in dataclasses.fields(ErrorOccurrence)]
_ALL_FIELDS = operator.attrgetter(*_FIELDS)
_FINGERPRINT_AT = _FIELDS.index("fingerprint")
_VERSION_AT = _FIELDS.index("normalizer_version")
# The slots' own setters: a copy filled through them skips the frozen dataclass's __init__
# (one object.__setattr__ call per field), about twice as fast. Only sound while the class
# validates nothing on construction; otherwise the constructor is used.
_SETTERS = tuple(getattr(ErrorOccurrence, name).__set__ for name in _FIELDS)
_DIRECT_COPY = not hasattr(ErrorOccurrence, "__post_init__") and hasattr(
    ErrorOccurrence, "__slots__"
)


def _with_fingerprint(occurrence: ErrorOccurrence, value: str) -> ErrorOccurrence:
    # dataclasses.replace, minus its per-call introspection (it shows at a million rows).
    values = list(_ALL_FIELDS(occurrence))
    values[_FINGERPRINT_AT] = value
    values[_VERSION_AT] = NORMALIZER_VERSION
    if not _DIRECT_COPY:
        return ErrorOccurrence(*values)
    copy = object.__new__(ErrorOccurrence)
    for setter, field_value in zip(_SETTERS, values, strict=True):
        setter(copy, field_value)
    return copy


def occurrence_fingerprints(
    occurrences: Sequence[ErrorOccurrence],
    workers: int = 1,
    texts: dict[str, str] | None = None,
    firsts: dict[str, int] | None = None,
) -> list[str]:
    """The fingerprint of each occurrence, in order, computed once per distinct (source kind,
    message, text, file); `workers` > 1 spreads the distinct ones over threads or processes.

    The compiled engine reads the occurrences itself (no key tuples, no dictionary here);
    Python fingerprints what it leaves, or all of them without it. `texts`, when given,
    receives the normalised cause text of the fingerprints the engine computed (one
    fingerprint, one text); the others are left out. `firsts`, when given, receives each
    fingerprint's first position where the engine computed them all (else it stays empty).
    """
    return native.python_where_missing(
        native.occurrence_fingerprints(occurrences, workers, texts, firsts),
        occurrences,
        lambda left: _python_fingerprints(left, workers),
    )


def _python_fingerprints(occurrences: Sequence[ErrorOccurrence], workers: int) -> list[str]:
    with gc_paused():
        distinct: dict[CauseKey, int] = {}
        slots = [distinct.setdefault(cause_key(o), len(distinct)) for o in occurrences]
        keys = list(distinct)
        del distinct
        values = forked_map(fingerprint_key, keys, workers, MIN_FORKED_KEYS)
        return list(map(values.__getitem__, slots))


def fingerprint_occurrences(
    occurrences: Sequence[ErrorOccurrence], workers: int = 1
) -> list[ErrorOccurrence]:
    """Copies of `occurrences` with `fingerprint` and `normalizer_version` filled, in order
    (see `occurrence_fingerprints`)."""
    values = occurrence_fingerprints(occurrences, workers)
    with gc_paused():
        return [_with_fingerprint(o, v) for o, v in zip(occurrences, values, strict=True)]
