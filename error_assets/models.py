"""Records passed between the stages (DESIGN.md, "Records").

Inside the domain code these are plain dataclasses; between Dagster assets they travel as
pandas DataFrames whose columns are exactly the dataclass fields (see `COLUMNS`).
Timestamps are ISO-8601 strings in UTC ("2026-11-28T03:12:45Z"); partitions are Dagster
hourly partition keys ("2026-11-28-03:00").
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

SourceKind = Literal[
    "junit",
    "pytest",
    "buildkit",
    "cargo",
    "go_test",
    "jest",
    "maven",
    "gradle",
    "make",
    "gha_annotation",
    "gha_log",
    "log",
]
Role = Literal["cause", "symptom", "wrapper"]
# Order of the roles in a job's ranking: the cause first, the wrapper that only says
# "something failed" last.
ROLE_ORDER: dict[str, int] = {"cause": 0, "symptom": 1, "wrapper": 2}


@dataclass(frozen=True, slots=True)
class CIJob:
    """One failed CI job and where its raw material lives in the raw store."""

    repo: str
    workflow_name: str
    run_id: int
    run_attempt: int
    job_id: int
    job_name: str
    conclusion: str
    started_at: str | None
    completed_at: str
    runner_name: str = ""
    runner_labels: tuple[str, ...] = ()
    head_branch: str = ""
    head_sha: str = ""
    pr_number: int | None = None
    event: str = ""
    html_url: str = ""
    failed_step: str = ""
    # References (paths relative to the raw store root) of the raw material.
    log_ref: str | None = None
    junit_refs: tuple[str, ...] = ()
    buildkit_refs: tuple[str, ...] = ()
    annotations_ref: str | None = None
    # What the source could not fetch ("log: expired (410)", ...): recorded, never fatal.
    missing: tuple[str, ...] = ()
    partition: str = ""

    @property
    def key(self) -> str:
        """Stable key of a job attempt: repo, run, attempt and job."""
        return f"{self.repo}/{self.run_id}/{self.run_attempt}/{self.job_id}"


@dataclass(frozen=True, slots=True)
class ErrorOccurrence:
    """One error seen in one job (one row per occurrence)."""

    error_id: str
    partition: str
    repo: str
    workflow_name: str
    run_id: int
    run_attempt: int
    job_id: int
    job_name: str
    step_name: str
    source_kind: str
    framework: str
    test_name: str
    file: str
    line: int | None
    message: str
    text: str
    role: str
    rank: int = 0
    fingerprint: str = ""
    normalizer_version: str = ""
    source_path: str = ""


@dataclass(frozen=True, slots=True)
class Cluster:
    """One root cause seen in a partition (one row per cluster fingerprint)."""

    fingerprint: str
    partition: str
    source_kind: str
    representative_message: str
    representative_text: str
    normalized_text: str
    occurrences: int
    member_fingerprints: tuple[str, ...]
    error_ids: tuple[str, ...]
    affected_job_ids: tuple[int, ...]
    affected_run_ids: tuple[int, ...]
    test_names: tuple[str, ...]
    source_kinds: tuple[str, ...]
    repos: tuple[str, ...]
    workflow_names: tuple[str, ...]
    job_names: tuple[str, ...]
    step_names: tuple[str, ...]
    first_seen: str
    last_seen: str
    is_new: bool
    normalizer_version: str
    frameworks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


# What decided a classification: `classifier` is one of these, or "llm:<model>".
CLASSIFIER_KINDS: tuple[str, ...] = ("rules", "cache", "llm", "offline", "human")


def classifier_kind(classifier: str) -> str:
    """ "llm:claude-haiku-5-5" -> "llm"; the other kinds are their own names."""
    return classifier.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict on one cluster."""

    fingerprint: str
    partition: str
    category: str
    confidence: float
    root_cause_summary: str
    evidence_line: str
    classifier: str  # human | cache | rules:<rule-id> | llm:<model> | offline
    prompt_version: str = ""
    rules_version: str = ""
    normalizer_version: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    classified_at: str = ""
    # Why a result is less than it seems: "budget_exhausted", "evidence_not_verbatim", ...
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExtractionProblem:
    """An input that could not be (fully) read: reported with its path, never fatal."""

    path: str
    reason: str
    job_key: str = ""


@dataclass(slots=True)
class JobExtraction:
    occurrences: list[ErrorOccurrence] = field(default_factory=list)
    problems: list[ExtractionProblem] = field(default_factory=list)


@functools.cache
def _fields(record_type: type) -> tuple[tuple[str, bool], ...]:
    """(name, is an int field) of each field: looked up once per type, not once per row."""
    return tuple((f.name, str(f.type).startswith("int")) for f in dataclasses.fields(record_type))


def columns(record_type: type) -> list[str]:
    return [name for name, _ in _fields(record_type)]


def to_row(record: Any) -> dict[str, Any]:
    """A record as a flat dict (tuples become lists, so DataFrames and JSON round-trip)."""
    row = {}
    for name, _ in _fields(type(record)):
        value = getattr(record, name)
        row[name] = list(value) if isinstance(value, tuple) else value
    return row


def from_row(record_type: type, row: dict[str, Any]) -> Any:
    """Rebuild a record from a DataFrame row or JSON object (lists become tuples)."""
    kwargs = {}
    for name, is_int in _fields(record_type):
        if name not in row:
            continue
        value = row[name]
        if hasattr(value, "tolist"):  # numpy arrays and scalars from DataFrames
            value = value.tolist()
        if isinstance(value, list):
            value = tuple(value)
        if value is not None and _is_nan(value):
            value = None
        # Parquet turns integer columns with nulls into floats: give the ints back.
        if isinstance(value, float) and value.is_integer() and is_int:
            value = int(value)
        kwargs[name] = value
    return record_type(**kwargs)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def stable_id(*parts: object, length: int = 16) -> str:
    """A deterministic id from its parts: identical across processes and machines."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return digest[:length]
