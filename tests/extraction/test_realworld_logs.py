"""Every real CI log of ../shared/data/realworld/logs: extracted, cause first.

The pytorch/test-infra logs carry the line their own classifier picked (`#=MATCH=#`); we
measure how often our top-ranked occurrence is that line, or a line a human would call the
same cause (each such judgement is listed in SAME_CAUSE with its reason).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from error_assets.extraction import extract_paths
from error_assets.models import ErrorOccurrence, ExtractionProblem
from tests.extraction.pytorch_markers import read_marked

pytestmark = pytest.mark.realworld

LOGS = sorted(
    p.name
    for p in (Path(__file__).resolve().parents[3] / "shared" / "data" / "realworld" / "logs").glob(
        "*"
    )
)

# Lines that are not the marked line but state the same cause, as a human reading the log would.
SAME_CAUSE: dict[str, tuple[str, str]] = {
    "gha_action_archive_download_failed.log": (
        r"Action 'https://codeload\.github\.com/pytorch/pytorch/tar\.gz/\w+' download has timed out",
        "the first report of the same failed download of the same archive (the marked line says it gave up)",
    ),
    "gha_msvc_compiler_error_C2143.log": (
        r"XpuptiActivity\w*\.(?:cpp|h)\(\d+\): error C\d{4}",
        "the first MSVC error of the same cascade in the same xpupti plugin build (C2065 before C2143)",
    ),
    "gha_pip_failed_building_wheel.log": (
        r"CMake Error .*No GPU arch specified for ROCm build",
        "why the wheel failed to build: the marked line is its consequence",
    ),
}


def _extract(path: Path) -> tuple[list[ErrorOccurrence], list[ExtractionProblem]]:
    occurrences, problems = [], []
    for item in extract_paths([path], max_per_job=20):
        (problems if isinstance(item, ExtractionProblem) else occurrences).append(item)
    return occurrences, problems


def _clean_copy(realworld_dir: Path, name: str, tmp_path: Path) -> Path:
    """The log as CI wrote it: the pytorch harness markers removed."""
    source = realworld_dir / "logs" / name
    marked = read_marked(source)
    if marked is None:
        return source
    target = tmp_path / name
    target.write_bytes(marked.clean)
    return target


@pytest.mark.parametrize("name", LOGS)
def test_every_log_extracts_without_problems(
    realworld_dir: Path, tmp_path: Path, name: str
) -> None:
    occurrences, problems = _extract(_clean_copy(realworld_dir, name, tmp_path))
    assert problems == []
    assert occurrences, f"{name}: no error found"
    assert [o.rank for o in occurrences] == list(range(len(occurrences)))
    assert occurrences[0].role == "cause"
    roles = [o.role for o in occurrences]
    assert roles == sorted(roles, key=("cause", "symptom", "wrapper").index)
    for occurrence in occurrences:
        assert "\n" not in occurrence.message
        assert occurrence.message.strip()
        assert len(occurrence.text) <= 10_000


# file -> (pattern the top-ranked message must match, test name of the top or None)
EXPECTED_TOP: dict[str, tuple[str, str | None]] = {
    "cargo_libtest_format_json.txt": (r"^test b failed$", "b"),
    "cargo_libtest_panic_abort_exit_code.txt": (
        r"panicked at .*assertion failed: `\(1 \+ 1 == 5\)`",
        "it_fails",
    ),
    "cargo_libtest_should_panic_failures.txt": (
        r"panicked at .*test-should-panic-failed-show-span\.rs:35:5: ZOMGWTFBBQ",
        None,
    ),
    "go_test_build_failed_setup_failed.txt": (r"failing1/failing_test\.go:15: undefined: x", None),
    "go_test_race_detected.txt": (r"^WARNING: DATA RACE$", None),
    "gotestsum_build_fail_summary.txt": (
        r"directory_test\.go:321:10: undefined: assert\.foo",
        None,
    ),
    "gotestsum_github_actions_format.txt": (
        r"--- FAIL: .*TestNestedParallelFailures/a: failed sub a",
        None,
    ),
    "jenkins_agent_channel_orderly_shutdown.log": (
        r"FATAL: hudson\.remoting\.Channel\$OrderlyShutdown",
        None,
    ),
    "jenkins_git_clone_503.log": (r"returned error: 503", None),
    "jenkins_maven_no_space_left_on_device.log": (r"No space left on device", None),
    "taskcluster_mozharness_max_run_time_exceeded.log": (r"max run time exceeded", None),
    "gha_gh_run_view_gradle_test_failed.log": (
        r"LogDifferTest > testGithubParsing\(\) FAILED",
        "LogDifferTest > testGithubParsing()",
    ),
    "gha_raw_git_unsafe_repository.log": (r"fatal: unsafe repository", None),
    "gha_raw_gradle_checkstyle_failed.log": (
        r"Execution failed for task ':cidiff:checkstyleMain'\. > Unable to create Root Module",
        None,
    ),
    "gha_raw_maven_compilation_error_classfile_version.log": (
        r"cannot access .*class file has wrong version 55\.0, should be 52\.0",
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_TOP))
def test_top_ranked_cause_of_non_pytorch_logs(
    realworld_dir: Path, tmp_path: Path, name: str
) -> None:
    occurrences, _ = _extract(_clean_copy(realworld_dir, name, tmp_path))
    pattern, test_name = EXPECTED_TOP[name]
    top = occurrences[0]
    assert re.search(pattern, top.message), f"{name}: top is {top.message!r}"
    if test_name is not None:
        assert top.test_name == test_name


def test_every_failing_test_of_a_libtest_run_is_reported(realworld_dir: Path) -> None:
    occurrences, _ = _extract(realworld_dir / "logs" / "cargo_libtest_should_panic_failures.txt")
    tests = {o.test_name for o in occurrences}
    assert {
        "should_panic_with_any_message_does_not_panic",
        "should_panic_with_message_does_not_panic",
        "should_panic_with_substring_panics_with_incorrect_string",
        "should_panic_with_substring_panics_with_non_string_value",
    } <= tests


def test_steps_are_named_from_group_markers_and_gh_run_view(realworld_dir: Path) -> None:
    gradle, _ = _extract(realworld_dir / "logs" / "gha_raw_gradle_checkstyle_failed.log")
    assert gradle[0].step_name == "Run ./gradlew build"
    view, _ = _extract(realworld_dir / "logs" / "gha_gh_run_view_gradle_test_failed.log")
    assert view[0].step_name == "build cidiff"


def test_errors_in_a_step_that_passed_rank_below_the_failing_step(realworld_dir: Path) -> None:
    # `mvn dependency:go-offline --fail-never` printed compile errors in a step that passed.
    occurrences, _ = _extract(
        realworld_dir / "logs" / "gha_raw_maven_compilation_error_classfile_version.log"
    )
    steps = [o.step_name for o in occurrences if o.role == "cause"]
    first_passing = next(i for i, s in enumerate(steps) if "go-offline" in s)
    assert all("verify" in s for s in steps[:first_passing])
    assert first_passing >= 1


def _judge(top: ErrorOccurrence, name: str, spans: tuple[str, ...], match_line: str) -> str:
    shown = f"{top.message} {top.test_name}"
    if spans and all(span in shown for span in spans):
        return "marked line"
    if name in SAME_CAUSE and re.search(SAME_CAUSE[name][0], top.message):
        return "same cause"
    return "miss"


def test_pytorch_logs_top_ranked_is_the_marked_cause(realworld_dir: Path, tmp_path: Path) -> None:
    verdicts: dict[str, str] = {}
    for source in sorted((realworld_dir / "logs").glob("*")):
        marked = read_marked(source)
        if marked is None:
            continue
        path = tmp_path / source.name
        path.write_bytes(marked.clean)
        occurrences, problems = _extract(path)
        assert problems == []
        verdicts[source.name] = _judge(occurrences[0], source.name, marked.spans, marked.match_line)
        print(f"  {verdicts[source.name]:11} {source.name}: {occurrences[0].message[:100]}")
    total = len(verdicts)
    exact = sum(v == "marked line" for v in verdicts.values())
    same = sum(v == "same cause" for v in verdicts.values())
    rate = (exact + same) / total
    print(
        f"pytorch-sourced logs: top-ranked occurrence is the marked line in {exact}/{total}, "
        f"the same cause in {same}/{total}: {rate:.3f}"
    )
    assert total == 17
    assert rate >= 0.9
