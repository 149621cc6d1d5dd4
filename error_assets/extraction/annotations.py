"""GitHub check-run annotations (the JSON list the GitHub source stores per job).

Each object: `{"path", "start_line", "end_line", "annotation_level", "message", "title",
"raw_details"}`. Only `failure` annotations are errors. The message's first line is classified
with the log rules, so `Process completed with exit code 1.` stays a wrapper and a compiler
diagnostic keeps its tier; annotations repeat `##[error]` lines of the log, and the ranking
merges the two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, Any

from error_assets.extraction.findings import TIER_REPORT, Finding
from error_assets.extraction.line_rules import classify

MAX_ANNOTATIONS_BYTES = 64 << 20


@dataclass(slots=True)
class AnnotationsReport:
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_annotations(
    stream: IO[bytes], source_path: str, *, max_text_chars: int = 10_000
) -> AnnotationsReport:
    """The failure annotations of one job; malformed entries are reported and skipped."""
    report = AnnotationsReport()
    data = stream.read(MAX_ANNOTATIONS_BYTES + 1)
    if len(data) > MAX_ANNOTATIONS_BYTES:
        report.problems.append(f"annotations file over the {MAX_ANNOTATIONS_BYTES >> 20} MiB limit")
        return report
    try:
        items = json.loads(data.decode("utf-8-sig", errors="replace"))
    except (json.JSONDecodeError, RecursionError) as error:
        report.problems.append(f"invalid JSON: {error}")
        return report
    if isinstance(items, dict) and isinstance(items.get("annotations"), list):
        items = items["annotations"]
    if not isinstance(items, list):
        report.problems.append(f"expected a JSON list of annotations, found {type(items).__name__}")
        return report
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            report.problems.append(
                f"annotation {index}: expected an object, found {type(item).__name__}"
            )
            continue
        if str(item.get("annotation_level", "failure")).lower() != "failure":
            continue
        finding = _finding(item, index, source_path, max_text_chars)
        if finding is None:
            report.problems.append(f"annotation {index}: no message")
            continue
        report.findings.append(finding)
    return report


def _finding(
    item: dict[str, Any], index: int, source_path: str, max_text_chars: int
) -> Finding | None:
    message = str(item.get("message") or "").strip()
    title = str(item.get("title") or "").strip()
    if not message and not title:
        return None
    first = (message or title).splitlines()[0].strip()
    hit = classify(first) or classify(f"##[error]{first}")
    path = str(item.get("path") or "")
    # GitHub puts `.github` as the path of annotations that are not about a file.
    file = "" if path in ("", ".github") else path
    line = item.get("start_line")
    details = str(item.get("raw_details") or "")
    text = "\n".join(part for part in (title if title != first else "", message, details) if part)
    return Finding(
        source_kind="gha_annotation",
        framework=hit.framework if hit else "",
        role=hit.role if hit else "cause",
        tier=hit.tier if hit else TIER_REPORT,
        message=" ".join(first.split())[:1000],
        text=text[:max_text_chars],
        source_path=source_path,
        position=index,
        origin="annotations",
        test_name=hit.test_name if hit else "",
        file=file or (hit.file if hit else ""),
        line=line if isinstance(line, int) and file else (hit.line if hit else None),
        rule=f"annotation:{hit.rule}" if hit else "annotation",
    )
