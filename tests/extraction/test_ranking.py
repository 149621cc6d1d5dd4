"""Cause → symptom → wrapper: the orderings the issue names, on small hand-written logs."""

from __future__ import annotations

from pathlib import Path

from error_assets.extraction import extract_paths
from error_assets.extraction.findings import Finding
from error_assets.extraction.ranking import message_core, rank_findings, short_test_name
from error_assets.models import ErrorOccurrence

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"


def _occurrences(name: str) -> list[ErrorOccurrence]:
    return [o for o in extract_paths([FIXTURES / name]) if isinstance(o, ErrorOccurrence)]


def test_oom_kill_ranks_above_the_later_exit_code_137() -> None:
    occurrences = _occurrences("gha_make_oom_kill.log")
    assert occurrences[0].message == "g++: fatal error: Killed signal terminated program cc1plus"
    assert occurrences[0].role == "cause"
    assert occurrences[-1].message == "Process completed with exit code 137."
    assert occurrences[-1].role == "wrapper"
    assert all(o.step_name == "Run make -j8 all" for o in occurrences)


def test_compile_error_ranks_above_make_error() -> None:
    occurrences = _occurrences("gha_compile_error_then_make.log")
    top = occurrences[0]
    assert (
        top.message
        == "src/parser.c:88:17: error: ‘hdr_len’ undeclared (first use in this function)"
    )
    assert (top.file, top.line, top.framework) == ("src/parser.c", 88, "gcc")
    assert "if (len > hdr_len)" in top.text  # the source excerpt below the diagnostic
    assert [o.role for o in occurrences[1:]] == ["wrapper", "wrapper"]
    assert occurrences[1].message.startswith("make: *** [Makefile:20: build/parser.o] Error 1")


def test_import_error_ranks_above_the_connection_refused_it_caused() -> None:
    occurrences = _occurrences("gha_pytest_import_error_then_connection_refused.log")
    assert occurrences[0].message == "ModuleNotFoundError: No module named 'myapp.payments'"
    second = occurrences[1]
    assert "Connection refused" in second.message
    # The E line, the progress line and the summary line are one error of one test.
    assert second.test_name == "tests/integration/test_checkout.py::test_checkout"
    assert sum("Connection refused" in o.message for o in occurrences) == 1
    assert "Traceback" in occurrences[0].text  # context above the exception


def test_errors_of_a_step_that_passed_rank_after_the_failing_step() -> None:
    occurrences = _occurrences("gha_error_in_passing_step.log")
    assert occurrences[0].test_name == "Cart › applies the discount"
    assert occurrences[0].message.endswith("expect(received).toBe(expected) // Object.is equality")
    assert occurrences[1].message.startswith("src/app.ts(12,5): error TS2304")
    assert occurrences[1].step_name == "Run ./scripts/lint.sh || true"


def test_buildkit_cause_is_the_command_output_not_the_solver_error() -> None:
    occurrences = _occurrences("buildkit_pip_missing_version.log")
    assert occurrences[0].message.startswith(
        "ERROR: Could not find a version that satisfies the requirement internal-auth-lib==9.9.9"
    )
    assert occurrences[0].step_name == "[4/4] RUN pip install --no-cache-dir -r requirements.txt"
    assert occurrences[0].source_kind == "buildkit"
    roles = [o.role for o in occurrences]
    assert roles[-1] == "wrapper" and occurrences[-1].message.startswith(
        "Error: buildx failed with:"
    )
    # The `------` context block repeats the output lines: not counted twice.
    assert sum("Could not find a version" in o.message for o in occurrences) == 1


def test_surefire_console_test_failure_and_summary_are_one_error() -> None:
    occurrences = _occurrences("maven_surefire_console.log")
    top = occurrences[0]
    assert top.test_name == "com.acme.billing.InvoiceTest.totalIncludesTax"
    assert "AssertionFailedError: expected: <119.0> but was: <100.0>" in top.message
    assert [o.role for o in occurrences] == ["cause", "symptom", "wrapper"]


def test_annotation_repeating_a_log_line_is_merged_and_wrapper_stays_last(tmp_path: Path) -> None:
    from error_assets.extraction import extract_file

    log = extract_file(FIXTURES / "gha_compile_error_then_make.log")
    notes = extract_file(FIXTURES / "annotations_job.json")
    assert [f.source_kind for f in notes.findings] == ["gha_annotation", "gha_annotation"]
    ranked = rank_findings(log.findings + notes.findings, log.failing_steps, 20)
    assert [f.source_kind for f in ranked] == ["make", "make", "gha_log"]
    assert ranked[0].message.startswith("src/parser.c:88:17: error:")


def _finding(message: str, **fields: object) -> Finding:
    base = dict(
        source_kind="log",
        framework="",
        role="cause",
        tier=2,
        message=message,
        text=message,
        source_path="x",
        position=1,
    )
    base.update(fields)
    return Finding(**base)  # type: ignore[arg-type]


def test_bounded_per_job_keeps_the_best() -> None:
    findings = [_finding(f"error: problem number {chr(97 + i)}", position=i) for i in range(30)]
    findings.append(
        _finding("Process completed with exit code 1.", role="wrapper", tier=0, position=0)
    )
    findings.append(_finding("Killed", tier=4, position=99))
    ranked = rank_findings(findings, set(), 5)
    assert len(ranked) == 5
    assert ranked[0].message == "Killed"
    assert [f.position for f in ranked[1:]] == [0, 1, 2, 3]


def test_message_core_ignores_numbers_ids_and_paths() -> None:
    assert message_core(
        "##[error]Timeout after 30s in /tmp/run-123/a.py (id 0xdeadbeef99)"
    ) == message_core("Error: Timeout after 45s in /home/x/b.py (id 0x0123456789)")
    assert message_core("AssertionError: 1 != 2") != message_core("TypeError: 1 != 2")


def test_short_test_names_agree_across_report_formats() -> None:
    assert short_test_name("tests/test_x.py::TestA::test_b") == short_test_name(
        "tests.test_x.TestA.test_b"
    )
    assert short_test_name("tests/test_x.py::test_b") == short_test_name("tests.test_x.test_b")
    assert short_test_name("InvoiceTest.totalIncludesTax:31") == short_test_name(
        "com.acme.InvoiceTest.totalIncludesTax"
    )
