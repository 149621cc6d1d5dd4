"""Every JUnit dialect of ../shared/data/realworld/junit, with the quirks its README lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from error_assets.extraction import extract_file
from error_assets.extraction.junit import read_junit

pytestmark = pytest.mark.realworld

JUNIT = sorted(
    p.name
    for p in (Path(__file__).resolve().parents[3] / "shared" / "data" / "realworld" / "junit").glob(
        "*.xml"
    )
)
CORRUPT = "surefire3_truncated_unclosed_cdata_CORRUPT.xml"


def _read(realworld_dir: Path, name: str):
    path = realworld_dir / "junit" / name
    with path.open("rb") as stream:
        return read_junit(stream, name, head=path.read_bytes()[:16384])


@pytest.mark.parametrize("name", [n for n in JUNIT if n != CORRUPT])
def test_every_dialect_parses_without_problems(realworld_dir: Path, name: str) -> None:
    result = extract_file(realworld_dir / "junit" / name)
    assert result.problems == []
    for finding in result.findings:
        assert finding.source_kind == "junit"
        assert finding.message.strip() and "\n" not in finding.message
        assert finding.test_name


def test_the_truncated_file_gets_a_clear_error_and_keeps_what_was_read(realworld_dir: Path) -> None:
    result = extract_file(realworld_dir / "junit" / CORRUPT)
    assert len(result.problems) == 1
    assert "truncated XML at line 18" in result.problems[0]
    assert "unclosed CDATA" in result.problems[0]
    assert [f.message for f in result.findings] == [
        "java.lang.AssertionError: WRONG COVERAGE: 41 > 26"
    ]


# file -> {test name: substring of the message}; exactly these test cases fail.
EXPECTED: dict[str, dict[str, str]] = {
    "bazel_test_xml_modulenotfound.xml": {
        "bazel/failing_absl_test": "ModuleNotFoundError: No module named 'non_existent_package'"
    },
    "go_junit_report_build_failed.xml": {
        "package/name/failing1 [build failed]": "undefined: x",
        "package/name/failing2 [build failed]": "undefined: y",
        "package/name/setupfailing1 [setup failed]": 'cannot find package "other/package"',
    },
    "jest_junit_suite_failed_to_run_tsconfig.xml": {
        "Test suite failed to run.libs/foo.spec.ts": "error TS6258: 'typeRoots' should be set inside",
        "Test suite failed to run.libs/bar.spec.ts": "error TS6258",
    },
    "edgecase_multiresult_skipped_failure_error.xml": {
        "test class.test that errors": "test teardown failure",
        "test class.test that fails": "Assertion failed",
    },
    "surefire_3.0.2_flakyFailure_jdk17.xml": {},
    "marathon_android_flakyFailure.xml": {},
    "pytest_horovod_gloo_standalone_pass.xml": {},
    "python_unittest_xmlrunner.xml": {
        "TestAcme.test_always_fail": "AssertionError: failed",
        "TestAcme.test_error": "Exception: error",
    },
    "tst_cpp_framework_disabled_failed.xml": {
        "factorial_of_value_from_fixture": "main.cpp:72: error: check_eq(3628800, 3628801)",
    },
    "go_junit_report_panic_error.xml": {"package/name/panic.Failure": "panic: init"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failures_per_dialect(realworld_dir: Path, name: str) -> None:
    report = _read(realworld_dir, name)
    assert report.problems == []
    by_test: dict[str, list[str]] = {}
    for finding in report.findings:
        by_test.setdefault(finding.test_name, []).append(finding.message)
    for test, fragment in EXPECTED[name].items():
        assert test in by_test, f"{name}: {test} not reported (got {sorted(by_test)})"
        assert any(fragment in m for m in by_test[test]), f"{name}: {test}: {by_test[test]!r}"
    if name != "tst_cpp_framework_disabled_failed.xml":
        assert set(by_test) == set(EXPECTED[name])


def test_several_outcomes_of_one_test_case_are_all_reported(realworld_dir: Path) -> None:
    report = _read(realworld_dir, "edgecase_multiresult_skipped_failure_error.xml")
    errors = [f.message for f in report.findings if f.test_name == "test class.test that errors"]
    assert errors == ["Assertion failed", "test teardown failure"]


def test_flaky_and_rerun_cases_passed_unless_a_real_failure_remains(realworld_dir: Path) -> None:
    report = _read(realworld_dir, "nextest_quick_junit_flaky_rerun_dialect.xml")
    failing = {f.test_name for f in report.findings}
    # testcase4 has only flaky children (it passed); testcase7 "passed on attempt 4/4 but is
    # configured to fail when flaky" carries a real <failure>.
    assert failing == {"testcase1", "testcase2", "testcase5", "testcase7"}
    assert report.counts["flaky"] == 1
    assert report.counts["skipped"] == 1


def test_counters_are_recounted_from_test_cases(realworld_dir: Path) -> None:
    # The header says tests="3" failures="2": it counts attempts of one flaky test case.
    report = _read(realworld_dir, "surefire_3.0.2_flakyFailure_jdk17.xml")
    assert report.counts["tests"] == 1
    assert report.counts["failed"] == 0
    assert report.counts["flaky"] == 1


def test_skipped_and_disabled_cases_are_ignored(realworld_dir: Path) -> None:
    report = _read(realworld_dir, "tst_cpp_framework_disabled_failed.xml")
    assert report.counts["disabled"] == 5
    assert all("disabled" not in f.test_name for f in report.findings)
    horovod = _read(realworld_dir, "pytest_horovod_spark_failure.xml")
    assert len(horovod.findings) == 1
    assert horovod.counts["skipped"] >= 1


def test_file_and_line_come_from_the_failure_or_the_test_case(realworld_dir: Path) -> None:
    catch2 = _read(realworld_dir, "catch2_junit_require_failure.xml").findings[0]
    assert (catch2.file, catch2.line) == ("test/unit/detail/utility/is_constant_evaluated.cpp", 19)
    xmlrunner = _read(realworld_dir, "python_unittest_xmlrunner.xml").findings[0]
    assert (xmlrunner.file, xmlrunner.line) == ("tests/test_lib.py", 23)


def test_exception_type_completes_an_attribute_message(realworld_dir: Path) -> None:
    report = _read(realworld_dir, "testng_surefire_pulsar_AddMissingPatchVersionTest.xml")
    assert report.findings[0].message.startswith("java.lang.AssertionError: expected [1.2.1]")


def test_bom_and_single_quoted_attributes(realworld_dir: Path) -> None:
    assert _read(realworld_dir, "xunit_net_junit_transform.xml").problems == []
    assert len(_read(realworld_dir, "tst_cpp_framework_disabled_failed.xml").findings) >= 19
