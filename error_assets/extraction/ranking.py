"""Cause first: merging the reports of one error and ordering a job's findings.

A job's errors arrive from several files and several lines: the pytest summary line, the
exception above it, the JUnit failure of the same test, the annotation GitHub made of the
`##[error]` line. `rank_findings` merges those that describe the same error, then orders
them: role (cause → symptom → wrapper); inside the role, findings in a step that failed
before those in steps that passed; then by tier (how specific the error is); then the
earlier one first (a build stops at its first error; later ones are often consequences).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from error_assets.extraction.findings import ROLE_ORDER, SOURCE_ORDER, Finding

_PREFIX = re.compile(
    r"^(?:##\[error\]|::error[^:]*::|\[[\w:. -]{1,40}\]\s*|(?:error|fatal|ERROR|FATAL|Error|Fatal)"
    r"(?:\[[^\]]*\])?[:!]\s*|E\s{2,}|stderr:\s*|FAILED\s+|ERROR\s+)+"
)
_PATH = re.compile(r"(?:[A-Za-z]:\\|/)[^\s'\"():,]+")
_HEX = re.compile(r"\b(?:0x)?[0-9a-f]{8,}\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")
_TEST_SPLIT = re.compile(r"::|[./\\]| › | > |#")


def message_core(message: str) -> str:
    """The words of a message without prefixes, numbers and ids: equal cores, same error."""
    core = _PREFIX.sub("", message.strip()).lower()
    core = _PATH.sub("<path>", core)
    core = _HEX.sub("#", core)
    core = _NUMBER.sub("0", core)
    return _SPACE.sub(" ", core).strip()[:160]


def short_test_name(test_name: str) -> str:
    """The last two parts of a test name (class and method), comparable across formats."""
    name = re.sub(r":\d+$", "", test_name.strip()).replace(".py::", "::")
    parts = [p for p in _TEST_SPLIT.split(name) if p]
    return ".".join(parts[-2:]).lower()


def rank_key(finding: Finding, failing_steps: set[str]) -> tuple[int, int, int, int, int]:
    in_failed_step = (
        not failing_steps
        or finding.origin not in ("log", "buildkit")
        or finding.step_name in failing_steps
    )
    return (
        ROLE_ORDER.get(finding.role, 1),
        0 if in_failed_step else 1,
        -finding.tier,
        SOURCE_ORDER.get(finding.origin, 9),
        finding.position,
    )


def rank_findings(
    findings: Iterable[Finding], failing_steps: set[str], max_findings: int
) -> list[Finding]:
    """Merge the reports of one error, order cause first, keep the first `max_findings`."""
    ordered = sorted(findings, key=lambda f: rank_key(f, failing_steps))
    kept: list[Finding] = []
    by_core: dict[str, Finding] = {}
    by_test: dict[str, Finding] = {}
    for finding in ordered:
        cores = {message_core(finding.message)}
        if finding.detail:
            cores.add(message_core(finding.detail))
        cores.discard("")
        test = short_test_name(finding.test_name) if finding.test_name else ""
        same = next((by_core[c] for c in cores if c in by_core), None)
        if same is None and test:
            same = by_test.get(test)
        if same is not None:
            _absorb(same, finding)
            for core in cores:
                by_core.setdefault(core, same)
            if same.test_name:
                by_test.setdefault(short_test_name(same.test_name), same)
            continue
        kept.append(finding)
        for core in cores:
            by_core[core] = finding
        if test:
            by_test[test] = finding
    return kept[:max_findings]


def _absorb(kept: Finding, other: Finding) -> None:
    """Fill what the better-ranked report of an error lacks from another report of it."""
    if not kept.test_name and other.test_name:
        kept.test_name = other.test_name
    if not kept.file and other.file:
        kept.file = other.file
        kept.line = other.line
    if not kept.step_name and other.step_name:
        kept.step_name = other.step_name
