"""What an extractor reports before the job-level ranking turns it into an ErrorOccurrence."""

from __future__ import annotations

from dataclasses import dataclass

from error_assets.models import ROLE_ORDER

__all__ = ["ROLE_ORDER"]  # re-exported for the ranking

# Tiers rank findings of the same role (higher = more likely the root cause):
TIER_PLATFORM = (
    4  # the machine or the platform ended the job: OOM, disk full, runner lost, job timeout
)
TIER_SPECIFIC = 3  # a specific error: compiler, exception, panic, network, signal, timeout
TIER_REPORT = 2  # a failure report: a failed test, a generic `error:` / `##[error]` line
TIER_SYMPTOM = 1  # a consequence of an earlier error
TIER_WRAPPER = 0  # carries no signal of its own ("Process completed with exit code 1")

# Where a finding came from, for ties between sources (a log line's position beats a report's).
SOURCE_ORDER: dict[str, int] = {"log": 0, "buildkit": 1, "junit": 2, "annotations": 3}


@dataclass(slots=True)
class Finding:
    """One error found in one file, with enough context to rank and describe it."""

    source_kind: str
    framework: str
    role: str
    tier: int
    message: str
    text: str
    source_path: str
    position: int  # 1-based line number in a log; element order in a report
    origin: str = "log"  # key of SOURCE_ORDER
    test_name: str = ""
    file: str = ""
    line: int | None = None
    step_name: str = ""
    # The part of the message that names the error itself (a pytest summary's exception),
    # used to recognise the same error reported twice.
    detail: str = ""
    rule: str = ""
