"""Validation of an LLM answer against the output contract (the schema and the evidence rule)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from error_assets.classification.prompt import MAX_SUMMARY_CHARS
from error_assets.taxonomy import is_category

MIN_EVIDENCE_CHARS = 8


class InvalidAnswerError(ValueError):
    """The answer breaks the output contract; `kind` says how (for flags and retries)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Answer:
    category: str
    confidence: float
    root_cause_summary: str
    evidence_line: str


def parse_answer(raw: str | dict[str, Any]) -> dict[str, Any]:
    """The JSON object of an answer (a text block or an already-decoded tool input)."""
    if isinstance(raw, dict):
        return raw
    body = raw.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidAnswerError("malformed_json", f"answer is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidAnswerError("schema_violation", "answer is not a JSON object")
    return value


def validate_answer(value: dict[str, Any], text: str) -> Answer:
    """Check the schema and that the evidence is a verbatim line of `text`."""
    category = value.get("category")
    if not is_category(category):
        raise InvalidAnswerError("schema_violation", f"category {category!r} is not allowed")
    confidence = value.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise InvalidAnswerError("schema_violation", "confidence is not a number")
    if not 0.0 <= float(confidence) <= 1.0:
        raise InvalidAnswerError("schema_violation", f"confidence {confidence} is outside [0, 1]")
    summary = value.get("root_cause_summary")
    if not isinstance(summary, str) or not summary.strip():
        raise InvalidAnswerError("schema_violation", "root_cause_summary is missing")
    evidence = value.get("evidence_line")
    if not isinstance(evidence, str):
        raise InvalidAnswerError("schema_violation", "evidence_line is missing")
    extra = set(value) - {"category", "confidence", "root_cause_summary", "evidence_line"}
    if extra:
        raise InvalidAnswerError("schema_violation", f"unexpected fields {sorted(extra)}")
    line = evidence.strip()
    if not is_verbatim_line(line, text):
        raise InvalidAnswerError(
            "evidence_not_verbatim", "the evidence_line is not a line of the excerpt"
        )
    return Answer(category, float(confidence), summary.strip()[:MAX_SUMMARY_CHARS], line)


def is_verbatim_line(evidence: str, text: str) -> bool:
    """True when `evidence` is one line of `text`, or a long enough piece of a single line."""
    if not evidence or "\n" in evidence:
        return False
    for line in text.splitlines():
        stripped = line.strip()
        if evidence == stripped:
            return True
        if len(evidence) >= MIN_EVIDENCE_CHARS and evidence in stripped:
            return True
    return False
