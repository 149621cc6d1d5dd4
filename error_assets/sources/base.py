"""The CI source contract: the failed jobs that completed in a time window, with raw blobs stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from error_assets.models import CIJob

# Conclusions that make a job worth explaining.
FAILED_CONCLUSIONS: frozenset[str] = frozenset(
    {"failure", "timed_out", "cancelled", "startup_failure"}
)


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """An item of the source that could not be read: its path or URL and the reason."""

    path: str
    reason: str


@dataclass(slots=True)
class SourceResult:
    jobs: list[CIJob] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    # Facts for the materialisation metadata: api_calls, rate_limit_remaining, bytes, ...
    stats: dict[str, Any] = field(default_factory=dict)
    # True when the source stopped early (e.g. rate limit) and the window is incomplete.
    incomplete: bool = False


@runtime_checkable
class CISource(Protocol):
    name: str

    def failed_jobs(self, start: datetime, end: datetime) -> SourceResult:
        """Failed jobs whose `completed_at` lies in [start, end), raw blobs already in the
        raw store, each with `partition` set to the hourly partition it completed in."""
