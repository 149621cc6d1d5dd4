"""What one run of the CI step found and did: the input of the summary, annotations and exit code."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from error_assets.ci_step.context import GitHubContext
from error_assets.models import Classification, Cluster, ErrorOccurrence


@dataclass(slots=True)
class ClassifiedError:
    """One cluster of this job's errors, its best-ranked occurrence and its verdict (if any)."""

    cluster: Cluster
    occurrence: ErrorOccurrence
    classification: Classification | None = None
    llm_eligible: bool = False


@dataclass(slots=True)
class CIStepReport:
    context: GitHubContext
    partition: str
    threshold: str
    budget_seconds: float
    disabled: bool = False
    stage: str = "starting"
    stages_done: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # unreadable inputs: "path: reason"
    notes: list[str] = field(default_factory=list)  # what the reader should know
    failures: list[str] = field(default_factory=list)  # internal errors of the step itself
    occurrences: int = 0
    errors: list[ClassifiedError] = field(default_factory=list)
    llm_stats: dict[str, Any] = field(default_factory=dict)
    store: str = ""
    documents_written: int = 0
    budget_exhausted: bool = False
    elapsed: float = 0.0

    # Seconds per finished stage, measured from the end of the one before (concurrent passes
    # overlap, so they do not add up to the total).
    timings: dict[str, float] = field(default_factory=dict)
    _mark: float = field(default_factory=time.monotonic)

    def finish_stage(self, name: str) -> None:
        now = time.monotonic()
        self.stages_done.append(name)
        self.timings[name] = round(now - self._mark, 3)
        self._mark = now

    @property
    def classified(self) -> list[ClassifiedError]:
        return [e for e in self.errors if e.classification is not None]

    @property
    def verdict(self) -> ClassifiedError | None:
        """The error most likely to be the cause: the best-ranked classified one."""
        classified = self.classified
        return classified[0] if classified else None
