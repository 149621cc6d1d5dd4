"""The markdown the step appends to `$GITHUB_STEP_SUMMARY`: whose failure is it, and what to do."""

from __future__ import annotations

import re

from error_assets.ci_step.report import CIStepReport, ClassifiedError
from error_assets.models import Classification
from error_assets.redaction import redact
from error_assets.taxonomy import CODE, INFRASTRUCTURE

DETAILED_ERRORS = 3  # errors shown with evidence and advice; the rest go into the table
TABLE_ROWS = 20
EVIDENCE_CHARS = 600
SURE = 0.6  # below this the verdict is presented as a guess

TITLES = {INFRASTRUCTURE: "Infrastructure error", CODE: "Code error"}


def render_summary(report: CIStepReport) -> str:
    """The whole summary section for one job, ending with a newline."""
    lines = [f"## {_headline(report)}", ""]
    for number, error in enumerate(report.errors[:DETAILED_ERRORS], start=1):
        lines += _error_section(number, error)
    if len(report.errors) > 1:
        lines += _table(report.errors)
    if not report.errors and (report.failures or report.budget_exhausted):
        lines += ["The step could not finish its analysis of this job (see the notes).", ""]
    elif not report.errors:
        lines += [
            "No error lines were found in the reports and logs given to the step"
            f" ({len(report.inputs)} file(s) read). Open the job log to see why it failed.",
            "",
        ]
    for title, items in (
        ("Notes", report.notes + report.failures),
        ("Unread inputs", report.problems),
    ):
        if items:
            lines += [f"**{title}:**", ""] + [f"* {_inline(item)}" for item in items] + [""]
    lines += [_footer(report), ""]
    return "\n".join(lines) + "\n"


def _headline(report: CIStepReport) -> str:
    job = _inline(report.context.display_job_name)
    verdict = report.verdict
    if verdict is None or verdict.classification is None:
        return f"error-assets: {job} failed (not classified)"
    c = verdict.classification
    if c.confidence < SURE:
        return f"error-assets: {job} failed — possibly {_title(c).lower()} (uncertain)"
    whose = (
        "the platform, not the change" if c.category == INFRASTRUCTURE else "the code under test"
    )
    others = [
        e
        for e in report.classified
        if e.classification is not None
        and e.classification.category != c.category
        and e.classification.confidence >= SURE
    ]
    also = f" (and {len(others)} error(s) of the other kind below)" if others else ""
    return f"error-assets: {job} failed because of {whose}{also}"


def _error_section(number: int, error: ClassifiedError) -> list[str]:
    occurrence, c = error.occurrence, error.classification
    where = _where(error)
    lines: list[str] = []
    if c is None:
        lines.append(f"### {number}. Not classified{where}")
        lines += ["", _evidence(occurrence.message or occurrence.text), ""]
        lines.append(
            "**What to do:** read the evidence above; the step ran out of time to classify it."
        )
        return [*lines, ""]
    lines.append(f"### {number}. {_title(c)} — confidence {round(c.confidence * 100)} %{where}")
    lines.append("")
    if c.root_cause_summary:
        lines += [_inline(redact(c.root_cause_summary)), ""]
    evidence = c.evidence_line or occurrence.message or occurrence.text
    lines += ["**Evidence:**", "", _evidence(evidence), ""]
    lines += [f"**What to do:** {advice(error)}", ""]
    flags = f", flags: {', '.join(c.flags)}" if c.flags else ""
    lines += [
        f"<sub>classified by `{c.classifier}`{flags} · {error.cluster.occurrences} occurrence(s)</sub>",
        "",
    ]
    return lines


def advice(error: ClassifiedError) -> str:
    """One or two sentences telling the developer what to do next."""
    c, occurrence = error.classification, error.occurrence
    if c is None:
        return "Read the evidence; the step could not classify it in time."
    target = occurrence.test_name or (
        f"{occurrence.file}:{occurrence.line}"
        if occurrence.file and occurrence.line
        else occurrence.file
    )
    if c.confidence < SURE:
        return (
            "The classifier is unsure. Read the evidence: if re-running the job passes without a"
            " change, it was the platform (or a flaky test); otherwise treat it as a code error."
        )
    if c.category == INFRASTRUCTURE:
        return (
            "Re-run the failed job; this does not look caused by your change. If it fails the same"
            " way again, report it to the CI/platform owners with a link to this run."
        )
    where = f" Start with `{_inline(target)}`." if target else ""
    return (
        "Fix the code, test or configuration: re-running the same commit will most likely fail"
        f" the same way.{where}"
    )


def _table(errors: list[ClassifiedError]) -> list[str]:
    lines = [
        f"<details><summary>All {len(errors)} error clusters of this job</summary>",
        "",
        "| # | Category | Confidence | Source | Where | Message | Classifier |",
        "|---|---|---|---|---|---|---|",
    ]
    for number, error in enumerate(errors[:TABLE_ROWS], start=1):
        c, o = error.classification, error.occurrence
        lines.append(
            "| "
            + " | ".join(
                [
                    str(number),
                    _title(c) if c else "not classified",
                    f"{round(c.confidence * 100)} %" if c else "",
                    _cell(o.source_kind),
                    _cell(_location(error)),
                    _cell(redact(o.message)[:160]),
                    _cell(f"`{c.classifier}`" if c else ""),
                ]
            )
            + " |"
        )
    if len(errors) > TABLE_ROWS:
        lines.append(f"\n… and {len(errors) - TABLE_ROWS} more.")
    return [*lines, "", "</details>", ""]


def _footer(report: CIStepReport) -> str:
    clusters = len(report.errors)
    classified = len(report.classified)
    parts = [
        f"{report.occurrences} error occurrence(s) in {clusters} cluster(s), {classified} classified",
        f"{report.elapsed:.1f} s of a {report.budget_seconds:g} s budget",
        f"LLM threshold `{report.threshold}`",
    ]
    if report.llm_stats.get("llm_requests"):
        parts.append(f"{report.llm_stats['llm_requests']} LLM request(s)")
    if report.store:
        parts.append(f"{report.documents_written} real-time document(s) written to {report.store}")
    if report.context.run_url:
        parts.append(f"[run]({report.context.run_url})")
    return "<sub>error-assets · " + " · ".join(parts) + "</sub>"


def _title(c: Classification) -> str:
    return TITLES.get(c.category, c.category)


def _where(error: ClassifiedError) -> str:
    location = _location(error)
    return f" in `{_inline(location)}`" if location else ""


def _location(error: ClassifiedError) -> str:
    o = error.occurrence
    if o.test_name:
        return o.test_name
    if o.file:
        return f"{o.file}:{o.line}" if o.line else o.file
    return f"step {o.step_name}" if o.step_name else ""


def _evidence(text: str) -> str:
    """A fenced block longer than any backtick run inside, so the text cannot close it."""
    body = redact(text).strip()[:EVIDENCE_CHARS] or "(no text)"
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def _inline(text: str) -> str:
    return " ".join(str(text).split())


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|")
