"""The job-summary markdown and the annotations rendered from a report."""

from __future__ import annotations

from error_assets.ci_step.console import annotation_lines
from error_assets.ci_step.context import GitHubContext
from error_assets.ci_step.report import CIStepReport
from error_assets.ci_step.summary import render_summary
from tests.ci_step.records import classified


def report(*errors, **fields) -> CIStepReport:  # type: ignore[no-untyped-def]
    ctx = GitHubContext(repository="o/r", run_id=7, job_key="test", job_name="test (3.12)")
    rep = CIStepReport(ctx, "2026-11-28-10:00", "infrastructure", 20.0, **fields)
    rep.errors = list(errors)
    rep.occurrences = len(errors)
    return rep


def test_code_error_summary_names_category_confidence_evidence_and_advice() -> None:
    md = render_summary(
        report(classified("assert 1 == 2", "code_error", 0.92, test_name="tests/test_a.py::test_x"))
    )
    assert md.startswith("## error-assets: test (3.12) failed because of the code under test\n")
    assert "### 1. Code error — confidence 92 % in `tests/test_a.py::test_x`" in md
    assert "```text\nassert 1 == 2\n```" in md
    assert "**What to do:** Fix the code" in md and "`tests/test_a.py::test_x`" in md
    assert "[run](https://github.com/o/r/actions/runs/7)" in md


def test_infrastructure_verdict_tells_to_rerun_and_uncertain_ones_say_so() -> None:
    md = render_summary(report(classified("No space left on device", "infrastructure_error", 0.97)))
    assert "failed because of the platform, not the change" in md
    assert "Re-run the failed job" in md
    unsure = render_summary(report(classified("weird", "infrastructure_error", 0.4)))
    assert "possibly infrastructure error (uncertain)" in unsure
    assert "The classifier is unsure" in unsure


def test_many_errors_get_a_table_and_cells_are_escaped() -> None:
    errors = [classified(f"error {i} a|b", "code_error") for i in range(5)]
    md = render_summary(report(*errors))
    assert md.count("### ") == 3  # three detailed, all five in the table
    assert "All 5 error clusters" in md
    assert "error 4 a\\|b" in md


def test_evidence_cannot_break_out_of_its_code_block_and_secrets_are_redacted() -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    md = render_summary(report(classified(f"```\n# injected {token}", "code_error")))
    assert "````text\n```\n# injected" in md  # a longer fence around the backticks
    assert token not in md


def test_unclassified_errors_and_budget_notes_are_shown() -> None:
    rep = report(classified("boom", None), budget_exhausted=True)
    rep.notes.append("The 20 s time budget was spent while waiting for the LLM")
    md = render_summary(rep)
    assert "failed (not classified)" in md
    assert "### 1. Not classified" in md
    assert "* The 20 s time budget was spent while waiting for the LLM" in md


def test_empty_report_says_nothing_was_found_or_that_the_step_failed() -> None:
    assert "No error lines were found" in render_summary(report())
    broken = report()
    broken.failures.append("internal error while clustering: KeyError: 'x'")
    assert "could not finish its analysis" in render_summary(broken)


def test_annotations_one_per_classified_error_with_relative_files_only() -> None:
    rep = report(
        classified("E1", "code_error", file="src/a.py", line=3),
        classified("E2", "infrastructure_error", file="/abs/b.py", line=4),
        classified("E3", None),
    )
    lines = annotation_lines(rep)
    assert len(lines) == 2
    assert lines[0].startswith("::error file=src/a.py,line=3,title=Code error (90%25)::E1%0A")
    assert lines[1].startswith("::error title=Infrastructure error (90%25)::E2%0A")


def test_a_mixed_job_says_so_in_the_headline() -> None:
    md = render_summary(
        report(
            classified("No space left on device", "infrastructure_error", 0.97),
            classified("assert 1 == 2", "code_error", 0.9),
            classified("maybe", "code_error", 0.3),  # unsure ones do not count
        )
    )
    assert md.splitlines()[0] == (
        "## error-assets: test (3.12) failed because of the platform, not the change"
        " (and 1 error(s) of the other kind below)"
    )
