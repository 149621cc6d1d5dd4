"""The streaming scanner: block boundaries, both prefilter engines, the rule table's needles."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from error_assets.extraction import line_rules
from error_assets.extraction.log_scanner import LogScanner
from error_assets.extraction.prefilter import Prefilter, _re2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"
ENGINES = [
    False,
    pytest.param(True, marks=pytest.mark.skipif(_re2 is None, reason="google-re2 not installed")),
]


def _scan(data: bytes, *, use_re2: bool, block_bytes: int = 4 << 20) -> list[tuple[int, str, str]]:
    scanner = LogScanner("mem", "gha_log", prefilter=Prefilter(use_re2), block_bytes=block_bytes)
    scan = scanner.scan(io.BytesIO(data))
    return [(f.position, f.message, f.step_name) for f in scan.findings]


def _corpus() -> bytes:
    noise = b"2026-11-27T10:00:00.0000000Z   Downloading package-%d.whl (1.2 MB)\n"
    parts = [b"2026-11-27T10:00:00.0000000Z ##[group]Run make\n"]
    for i in range(3000):
        parts.append(noise % i)
        if i % 700 == 0:
            word = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon"][i // 700]
            parts.append(
                b"2026-11-27T10:00:00.0000000Z src/m.c:%d:3: error: no %s here\n" % (i, word)
            )
            parts.append(b"2026-11-27T10:00:00.0000000Z    %d |   x = y;\n" % i)
    parts.append(b"2026-11-27T10:00:00.0000000Z ##[error]Process completed with exit code 2.")
    return b"".join(parts)  # no final newline on purpose


@pytest.mark.parametrize("use_re2", ENGINES)
@pytest.mark.parametrize("block_bytes", [70_000, 131_072, 4 << 20])
def test_results_do_not_depend_on_block_boundaries(use_re2: bool, block_bytes: int) -> None:
    data = _corpus()
    whole = _scan(data, use_re2=False)
    assert _scan(data, use_re2=use_re2, block_bytes=block_bytes) == whole
    assert [m for _, m, _ in whole][-1] == "Process completed with exit code 2."
    assert len(whole) == 6
    assert all(step == "Run make" for _, _, step in whole)
    assert whole[0][0] == 3  # line numbers count every line, not only candidates
    assert data.count(b"\n", 0, data.index(b"no beta here")) + 1 == whole[1][0]


@pytest.mark.parametrize("use_re2", ENGINES)
def test_context_crosses_block_boundaries(use_re2: bool) -> None:
    filler = b"".join(b"line %05d of the build output\n" % i for i in range(4000))
    data = (
        filler
        + b'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad value\n'
    )
    scanner = LogScanner(
        "mem", "log", prefilter=Prefilter(use_re2), block_bytes=len(filler) + 10 - (64 << 10)
    )
    finding = scanner.scan(io.BytesIO(data)).findings[0]
    assert finding.message == "ValueError: bad value"
    assert "line 03999 of the build output" in finding.text
    assert "Traceback (most recent call last):" in finding.text


# One line per rule (and signature) that must be found by the prefilter AND by that rule.
SAMPLES: dict[str, str] = {
    "gha_exit_code": "##[error]Process completed with exit code 1.",
    "make_error": "make[2]: *** [Makefile:10: all] Error 2",
    "ninja_failed": "FAILED: obj/a.o",
    "gradle_task_failed": "> Task :app:compileJava FAILED",
    "maven_goal_failed": "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.1:compile",
    "buildkit_process_failed": '#9 ERROR: process "/bin/sh -c make" did not complete successfully: exit code: 2',
    "go_build_failed": "FAIL\texample.com/x [build failed]",
    "pytest_progress_failed": "tests/test_a.py::test_b FAILED                           [ 50%]",
    "pytest_collecting": "_____________ ERROR collecting tests/test_a.py _____________",
    "msvc": r"C:\src\a.cpp(12): error C2065: 'x': undeclared identifier",
    "typescript": "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
    "gcc": "src/a.c:3:7: error: expected ';' before '}' token",
    "linker": "/usr/bin/ld: main.o: undefined reference to `frobnicate'",
    "javac_maven": "[ERROR] /w/src/main/java/A.java:[3,7] cannot find symbol",
    "kotlinc": "e: file:///w/src/main/kotlin/A.kt:3:7 Unresolved reference: foo",
    "java_class_file": "  class file has wrong version 55.0, should be 52.0",
    "rustc": "error[E0425]: cannot find value `x` in this scope",
    "go_compile": "./main.go:12:2: undefined: frobnicate",
    "cmake_error": "CMake Error at CMakeLists.txt:12 (find_package):",
    "pytest_summary": "FAILED tests/test_a.py::test_b - AssertionError: assert 1 == 2",
    "pytest_e_line": "E       assert 1 == 2",
    "rust_panic": "thread 'tests::it_works' panicked at src/lib.rs:10:9:",
    "libtest_failed": "test tests::it_works ... FAILED",
    "libtest_note": "note: got unexpected return code 101",
    "go_test_fail": "--- FAIL: TestParse (0.01s)",
    "go_panic": "panic: runtime error: index out of range [3] with length 3",
    "go_data_race": "WARNING: DATA RACE",
    "jest_failure": "● Parser › rejects empty input",
    "gradle_test_failed": "ParserTest > rejectsEmpty() FAILED",
    "gradle_went_wrong": "* What went wrong:",
    "surefire_test": "[ERROR] com.acme.ATest.b  Time elapsed: 0.01 s  <<< FAILURE!",
    "mozharness_unexpected": "TEST-UNEXPECTED-FAIL | dom/test.html | assertion count 3 is more than expected",
    "python_exception": "ModuleNotFoundError: No module named 'yaml'",
    "node_missing_module": "Error: Cannot find module 'express'",
    "pip_resolution": "ERROR: No matching distribution found for foo==9.9",
    "npm_error": "npm ERR! code ERESOLVE",
    "docker_daemon": "Error response from daemon: pull access denied for acme/app",
    "buildkit_error": "ERROR: failed to solve: acme/base:1.2: not found",
    "git_fatal": "fatal: could not read Username for 'https://github.com': terminal prompts disabled",
    "jenkins_fatal": "FATAL: command execution failed",
    "workflow_command_error": "::error file=app.js,line=10,title=Lint::Missing semicolon",
    "gha_error": "##[error]The job was not acquired by Runner of type hosted",
    "taskcluster_error": "[taskcluster:error] Task timeout after 3600 seconds. Force killing container.",
    "killed": "Killed",
    "generic_error": "Error: Unable to locate executable file: pnpm",
    "signature:out_of_memory": "java.lang.OutOfMemoryError in worker; Cannot allocate memory",
    "signature:disk_full": "write /var/lib/docker/tmp/x: no space left on device (No space left on device)",
    "signature:runner_lost": "The hosted runner encountered an error while running your job.",
    "signature:signal": "Segmentation fault (core dumped)",
    "signature:network": "curl: (6) Could not resolve host: example.invalid",
    "signature:permission": "remote: Permission to acme/app.git denied to bot. 403 Forbidden",
    "signature:timeout": "Command took >30min, returning 124",
}


@pytest.mark.parametrize("use_re2", ENGINES)
@pytest.mark.parametrize("rule", sorted(SAMPLES))
def test_every_rule_is_reachable_through_the_prefilter(use_re2: bool, rule: str) -> None:
    line = SAMPLES[rule]
    hit = line_rules.classify(line)
    assert hit is not None, line
    if rule.startswith("signature:"):
        assert hit.tier >= 3
    else:
        assert hit.rule == rule
    prefilter = Prefilter(use_re2)
    data = ("2026-11-27T10:00:00.0000000Z " + line + "\n").encode()
    assert prefilter.search(prefilter.prepare(data), 0, len(data)) >= 0


def test_every_rule_has_a_sample() -> None:
    names = {rule.name for rule in line_rules.RULES if not rule.name.startswith("noise_")}
    built = {"rust_panic_new", "rust_panic_old"}
    missing = (
        names
        - set(SAMPLES)
        - built
        - {
            # wrappers/symptoms with the same shape as a sampled rule
            "gha_container_wrapper",
            "build_wrapper",
            "exit_wrapper",
            "cargo_wrapper",
            "buildx_wrapper",
            "npm_wrapper",
            "pip_wrapper",
            "pytest_session_summary",
            "go_package_fail",
            "maven_tests_summary",
            "go_race_symptom",
            "cmake_incomplete",
            "pip_wheel_failed",
            "subprocess_failed",
            "keyboard_interrupt",
            "libtest_json_failed",
            "java_exception_in_thread",
            "surefire_failure_summary",
        }
    )
    assert missing == set()


@pytest.mark.parametrize(
    "line",
    [
        "##[warning]Node.js 16 actions are deprecated.",
        "+ echo 'error: not really'",
        "timeout-minutes: 240",
        "Tests run: 6, Failures: 0, Errors: 0, Skipped: 0",
        "\tat hudson.model.Executor.run(Executor.java:429)",
        "Collecting error-reporting-lib==1.0",
        "[INFO] BUILD SUCCESS",
    ],
)
def test_noise_is_not_an_error(line: str) -> None:
    assert line_rules.classify(line) is None
