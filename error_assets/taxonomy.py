"""The one taxonomy: categories and their definitions.

Rules, the LLM prompt, the output schema, validation, the stores and the reports all read
this module. To add a category: add one `Category` here, plus examples for it in the rule
library and in the offline classifier's training set.
"""

from __future__ import annotations

from dataclasses import dataclass

INFRASTRUCTURE = "infrastructure_error"
CODE = "code_error"


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    title: str
    definition: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        name=INFRASTRUCTURE,
        title="Infrastructure",
        definition=(
            "The platform failed, not the change under test: the network (DNS, TLS, connection "
            "resets and timeouts to registries, mirrors and services), the runner or node (lost "
            "communication, shutdown, cancellation, preemption), platform services (artifact and "
            "cache services, registry rate limits and 5xx), and resource limits of the machine "
            "(OOM kills, disk full, GPU driver faults, job-level time limits after normal progress). "
            "Re-running the same commit on a healthy machine would most likely pass."
        ),
    ),
    Category(
        name=CODE,
        title="Code",
        definition=(
            "The change under test (or the repository it lives in) caused the failure: compile, "
            "link and type errors, failing assertions and tests (flaky tests included), crashes "
            "reproducible in the code, import errors of the project's own modules, lint and format "
            "checks, dependency conflicts caused by the repository's pins, invalid workflow, "
            "Dockerfile or configuration files, hangs killed by a test-level timeout. "
            "Re-running the same commit would most likely fail the same way."
        ),
    ),
)

CATEGORY_NAMES: tuple[str, ...] = tuple(c.name for c in CATEGORIES)


def category(name: str) -> Category:
    """Return the category called `name`, or raise ValueError naming the accepted values."""
    for c in CATEGORIES:
        if c.name == name:
            return c
    raise ValueError(f"unknown category {name!r}; expected one of {', '.join(CATEGORY_NAMES)}")


def is_category(name: object) -> bool:
    return isinstance(name, str) and name in CATEGORY_NAMES
