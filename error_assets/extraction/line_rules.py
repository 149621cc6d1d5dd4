"""The rule table: which log lines are errors, of what kind, and how likely the root cause.

`classify(text)` takes one cleaned log line (see `log_lines.clean_line`) and returns a `Hit`
or None. Rules are tried in order and the first that matches wins, so the specific ones
(a compiler diagnostic, a pytest summary line) come before the generic ones (`error: …`).
Each rule names a few substrings that must occur in the line before its regex runs, which
keeps the cost per candidate line low.

After the rules, the *signatures* (OOM, disk full, runner lost, network, timeouts, signals,
permissions) are looked for in the line: a signature raises the tier of what matched, turns a
symptom or wrapper that carries it into a cause ("Failed to execute goal … No space left on
device"), and makes an error of a line that no rule knew.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from error_assets.extraction.findings import (
    TIER_PLATFORM,
    TIER_REPORT,
    TIER_SPECIFIC,
    TIER_SYMPTOM,
    TIER_WRAPPER,
)


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule recognised in one line."""

    rule: str
    source_kind: str  # "" = the file's own kind (gha_log, log, buildkit, …)
    framework: str
    role: str
    tier: int
    message: str
    test_name: str = ""
    file: str = ""
    line: int | None = None
    detail: str = ""
    # Lines that continue this error (a pytest `E` block, a Java stack, `Caused by:`),
    # matched against each following line with the hit's indentation removed.
    absorb: re.Pattern[str] | None = None
    # The error's words are on the first absorbed line (new Rust panic format, CMake).
    message_from_next: bool = False
    # The first absorbed line completes the message (Surefire's exception under the test line).
    append_absorbed: bool = False
    # The message is completed from the context (Go test output, Jest's next line).
    finalize: Callable[[Hit, list[str], list[str]], Hit] | None = None


IGNORE = Hit("ignore", "", "", "", -1, "")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    needles: tuple[str, ...]  # at least one must occur in the line (case-sensitive)
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str], str], Hit | None]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _group(match: re.Match[str], name: str) -> str:
    try:
        return (match.group(name) or "").strip()
    except IndexError:
        return ""


def _simple(
    name: str,
    kind: str,
    framework: str,
    role: str,
    tier: int,
    *,
    absorb: str | None = None,
    message_from_next: bool = False,
    append_absorbed: bool = False,
    finalize: Callable[[Hit, list[str], list[str]], Hit] | None = None,
) -> Callable[[re.Match[str], str], Hit]:
    """A builder that reads the named groups msg/test/file/line/detail when the regex has them."""
    absorb_re = re.compile(absorb) if absorb else None

    def build(match: re.Match[str], text: str) -> Hit:
        message = _group(match, "msg") or text.strip()
        return Hit(
            rule=name,
            source_kind=kind,
            framework=framework,
            role=role,
            tier=tier,
            message=message,
            test_name=_group(match, "test"),
            file=_group(match, "file"),
            line=_int(_group(match, "line")),
            detail=_group(match, "detail"),
            absorb=absorb_re,
            message_from_next=message_from_next,
            append_absorbed=append_absorbed,
            finalize=finalize,
        )

    return build


def _ignore(match: re.Match[str], text: str) -> Hit:
    return IGNORE


def _whole_line(build: Callable[[re.Match[str], str], Hit]) -> Callable[[re.Match[str], str], Hit]:
    """Like `build`, but the message is the whole line (its prefix says what the error is)."""

    def wrapped(match: re.Match[str], text: str) -> Hit:
        return replace(build(match, text), message=text.strip())

    return wrapped


# --- finalizers: complete a message from the lines around the hit -------------------------

_GO_OUTPUT = re.compile(r"^\s+(?P<file>[\w./-]+_test\.go):(?P<line>\d+): (?P<msg>.+)")
_GO_STOP = re.compile(
    r"^\s*(?:=== RUN|--- (?:PASS|FAIL|SKIP)|::(?:end)?group::|##\[(?:end)?group\]|(?:PASS|FAIL|SKIP)\b)"
)


def _go_test_message(hit: Hit, before: list[str], after: list[str]) -> Hit:
    """`--- FAIL: TestX` says which test; the `x_test.go:12: …` line near it says why."""
    for line in after:
        if _GO_STOP.match(line):
            break
        output = _GO_OUTPUT.match(line)
        if output:
            return _with_go_output(hit, output)
    for line in reversed(before):
        if _GO_STOP.match(line):
            break
        output = _GO_OUTPUT.match(line)
        if output:
            return _with_go_output(hit, output)
    return hit


def _with_go_output(hit: Hit, output: re.Match[str]) -> Hit:
    return replace(
        hit,
        message=f"{hit.message}: {output.group('msg').strip()}",
        file=output.group("file"),
        line=int(output.group("line")),
    )


_LIBTEST_SECTION = re.compile(r"^---- (?P<test>\S+) std(?:out|err) ----$")


def _libtest_section(hit: Hit, before: list[str], after: list[str]) -> Hit:
    """Under panic=abort the thread is `main`: the `---- name stdout ----` header names the test."""
    if hit.test_name:
        return hit
    for line in reversed(before):
        section = _LIBTEST_SECTION.match(line.strip())
        if section:
            return replace(hit, test_name=section.group("test"))
    return hit


def _next_line_message(hit: Hit, before: list[str], after: list[str]) -> Hit:
    """Jest's `● test` and `● Test suite failed to run` put the reason on the following lines."""
    for line in after:
        stripped = line.strip()
        if stripped and not stripped.startswith("●"):
            return replace(hit, message=f"{hit.message}: {stripped}")
    return hit


# --- the rules ------------------------------------------------------------------------------

_JAVA_STACK = r"^\s*(?:at |Caused by: |\.\.\. \d+ more|Suppressed: )"
_PY_EXCEPTION = (
    r"(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Failure|Fault|Timeout)"
    r"|AssertionError|KeyboardInterrupt|Exception"
)


def _rule(
    name: str,
    needles: tuple[str, ...],
    pattern: str,
    build: Callable[[re.Match[str], str], Hit | None],
    flags: int = 0,
) -> Rule:
    return Rule(name, needles, re.compile(pattern, flags), build)


RULES: tuple[Rule, ...] = (
    # Noise that contains error words but is never an error.
    _rule(
        "noise_gha",
        ("##[", "::"),
        r"^(?:##\[(?:warning|notice|debug|command|endgroup|end-action)|::(?:warning|notice|debug|add-mask|endgroup))",
        _ignore,
    ),
    _rule("noise_xtrace", ("+ ",), r"^\++ ", _ignore),
    _rule("noise_command", ("[command]",), r"^\[command\]", _ignore),
    # Stack frames (Java `at x.y(File.java:1)`, Python `File "x", line 1`) are context, not errors.
    _rule(
        "noise_frame",
        ("at ", "File "),
        r"^(?:at [\w$.<>/-]+\(.*\)$|File \".*\", line \d+)",
        _ignore,
    ),
    _rule(
        "noise_maven",
        ("[ERROR]",),
        r"^\[ERROR\]\s*(?:$|To see the full stack trace|Re-run Maven|For more information about|"
        r"\[Help 1\]|After correcting the problems|mvn <goals>|-> \[Help|COMPILATION ERROR)",
        _ignore,
    ),
    _rule(
        "noise_counts",
        ("Errors: 0", "errors: 0"),
        r"(?i)failures: 0, errors: 0|\berrors: 0\b",
        _ignore,
    ),
    _rule("noise_atexit", ("Exception ignored",), r"^Exception ignored in", _ignore),
    # --- wrappers: they say that something failed, never what ---------------------------
    _rule(
        "gha_exit_code",
        ("##[error]",),
        r"^##\[error\](?P<msg>Process completed with exit code \d+\.?)",
        _simple("gha_exit_code", "gha_log", "", "wrapper", TIER_WRAPPER),
    ),
    _rule(
        "gha_container_wrapper",
        ("custom container implementation failed", "Docker pull failed", "Docker build failed"),
        r"^##\[error\](?P<msg>Executing the custom container implementation failed.*|Docker (?:pull|build) failed with exit code \d+.*)",
        _simple("gha_container_wrapper", "gha_log", "", "symptom", TIER_SYMPTOM),
    ),
    _rule(
        "make_error",
        ("***",),
        r"^(?:g?make|mingw32-make)(?:\[\d+\])?: \*\*\* .*(?:Error \d+|Stop\.)",
        _whole_line(_simple("make_error", "make", "make", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "build_wrapper",
        ("ninja", "CMake build failed", "BUILD", "FAILURE", "Finished", "marked build"),
        r"^(?:ninja: build stopped|\*\*\* CMake build failed|(?:\[INFO\] )?BUILD FAILURE|"
        r"FAILURE: Build failed with an exception|BUILD FAILED|Finished: FAILURE|"
        r"Build step '.*' marked build as failure)",
        _whole_line(_simple("build_wrapper", "", "", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "exit_wrapper",
        ("exit", "Exit", "returned", "Command failed"),
        r"^(?:Got exit code \d+|exit status \d+$|Test exited with non-zero exitcode|"
        r"Error: Process completed with exit code|Error: The process '.*' failed with exit code|"
        r"(?:error )?Command failed with exit code|Error: Command failed with exit code|"
        r"The command '.*' returned a non-zero code)",
        _whole_line(_simple("exit_wrapper", "", "", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "cargo_wrapper",
        ("error:", "test result: FAILED"),
        r"^(?:error: could not compile|error: test failed, to rerun pass|error: aborting due to|"
        r"error: build failed|test result: FAILED)",
        _whole_line(_simple("cargo_wrapper", "cargo", "cargo", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "buildx_wrapper",
        ("buildx",),
        r"^(?:##\[error\])?Error: buildx (?:call )?failed with:",
        _whole_line(_simple("buildx_wrapper", "buildkit", "buildkit", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "npm_wrapper",
        ("npm ERR!", "npm error"),
        r"^npm (?:ERR!|error) (?:A complete log|Lifecycle|Failed at the|This is probably not|errno \d|code ELIFECYCLE|command failed|\s*$)",
        _whole_line(_simple("npm_wrapper", "", "npm", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "pip_wrapper",
        ("Failed to build",),
        r"^(?:ERROR: )?Failed to build (?:one or more wheels|installable wheels|\S+$)",
        _whole_line(_simple("pip_wrapper", "", "pip", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "pytest_session_summary",
        ("=",),
        r"^=+ .*\b\d+ (?:failed|errors?)\b.* =+$",
        _whole_line(_simple("pytest_session_summary", "pytest", "pytest", "wrapper", TIER_WRAPPER)),
    ),
    _rule(
        "go_package_fail",
        ("FAIL",),
        r"^(?:FAIL$|FAIL\s+\S+\s+[\d.]+s$|\s*FAIL Package \S+)",
        _whole_line(_simple("go_package_fail", "go_test", "go", "wrapper", TIER_WRAPPER)),
    ),
    # --- symptoms: consequences that name the failed unit --------------------------------
    _rule(
        "ninja_failed",
        ("FAILED: ",),
        r"^FAILED: (?:\[code=\d+\] )?(?P<file>\S+)",
        _whole_line(_simple("ninja_failed", "make", "ninja", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "gradle_task_failed",
        ("FAILED", "Execution failed"),
        r"^(?:> Task (?P<test>\S+) FAILED|Execution failed for task '(?P<task>[^']+)')",
        _whole_line(_simple("gradle_task_failed", "gradle", "gradle", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "maven_goal_failed",
        ("Failed to execute goal",),
        r"^\[ERROR\] (?P<msg>Failed to execute goal .+)",
        _simple("maven_goal_failed", "maven", "maven", "symptom", TIER_SYMPTOM),
    ),
    _rule(
        "maven_tests_summary",
        ("Tests run:",),
        r"^\[ERROR\] Tests run: .*(?:<<< FAILURE!|<<< ERROR!|Failures: [1-9]|Errors: [1-9])",
        _whole_line(_simple("maven_tests_summary", "maven", "surefire", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "buildkit_process_failed",
        ("did not complete successfully", "executor failed running", "error building at STEP"),
        r"^(?:#\d+ ERROR: |ERROR: (?:failed to build: )?failed to solve: |error building at STEP )?"
        r".*(?:did not complete successfully: exit code: \d+|executor failed running|error building at STEP).*",
        _whole_line(
            _simple("buildkit_process_failed", "buildkit", "buildkit", "symptom", TIER_SYMPTOM)
        ),
    ),
    _rule(
        "go_build_failed",
        ("build failed]", "setup failed]"),
        r"^FAIL\s+(?P<test>\S+) \[(?:build|setup) failed\]",
        _whole_line(_simple("go_build_failed", "go_test", "go", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "go_race_symptom",
        ("race detected",),
        r"race detected during execution of test",
        _whole_line(_simple("go_race_symptom", "go_test", "go", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "pytest_progress_failed",
        ("::",),
        r"^(?P<test>\S+::\S+) (?:FAILED|ERROR)\b",
        _whole_line(_simple("pytest_progress_failed", "pytest", "pytest", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "pytest_collecting",
        ("ERROR collecting",),
        r"^_+ ERROR collecting (?P<test>\S+) _+$",
        _whole_line(_simple("pytest_collecting", "pytest", "pytest", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "cmake_incomplete",
        ("Configuring incomplete",),
        r"^-- Configuring incomplete, errors occurred!",
        _whole_line(_simple("cmake_incomplete", "make", "cmake", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "pip_wheel_failed",
        ("Failed building wheel",),
        r"^(?:ERROR: )?Failed building wheel for (?P<test>\S+)",
        _whole_line(_simple("pip_wheel_failed", "", "pip", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "subprocess_failed",
        ("failed with exit code", "exit status"),
        r"^(?:error: command '.*' failed with exit code \d+|collect2: error: ld returned \d+ exit status)",
        _whole_line(_simple("subprocess_failed", "", "", "symptom", TIER_SYMPTOM)),
    ),
    _rule(
        "keyboard_interrupt",
        ("KeyboardInterrupt",),
        r"^KeyboardInterrupt\b",
        _whole_line(_simple("keyboard_interrupt", "", "python", "symptom", TIER_SYMPTOM)),
    ),
    # --- causes: compilers ------------------------------------------------------------------
    _rule(
        "typescript",
        ("error TS",),
        r"^(?P<file>\S+\.(?:ts|tsx|json))(?:\((?P<line>\d+),\d+\)|:(?P<line2>\d+):\d+)\s?[:-] ?error (?P<code>TS\d+): (?P<msg>.+)",
        _whole_line(_simple("typescript", "", "typescript", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "msvc",
        ("error ", "error:"),
        r"^(?P<file>[^()\s][^()]*?)\((?P<line>\d+)(?:,\d+)?\)\s?: (?:fatal )?error (?P<code>[A-Z]+\d+): (?P<msg>.+)|"
        r"^(?:LINK|\S+\.(?:obj|lib|exe)) : (?:fatal )?error (?P<lcode>LNK\d+): (?P<lmsg>.+)",
        _whole_line(_simple("msvc", "make", "msvc", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "gcc",
        ("error:", "error "),
        r"^(?P<file>[^\s:][^:]*?):(?P<line>\d+):(?:\d+:)? (?:fatal error|error|Error): (?P<msg>.+)",
        _whole_line(_simple("gcc", "make", "gcc", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "linker",
        ("undefined reference", "ld: ", "ld returned"),
        r"undefined reference to|^(?:/usr/bin/)?ld(?:\.\w+)?: (?!warning)(?P<msg>.+)",
        _whole_line(_simple("linker", "make", "ld", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "javac_maven",
        ("[ERROR]",),
        r"^\[ERROR\] (?P<file>/?[^\s:\[]+\.(?:java|kt|scala|groovy)):\[(?P<line>\d+),\d+\] (?P<msg>.+)",
        _whole_line(
            _simple(
                "javac_maven",
                "maven",
                "javac",
                "cause",
                TIER_SPECIFIC,
                absorb=r"^(?:\[ERROR\])?\s{2,}\S",
                append_absorbed=True,
            )
        ),
    ),
    _rule(
        "kotlinc",
        ("e: ",),
        r"^e: (?:file://)?(?P<file>\S+\.kts?):(?P<line>\d+):\d+ (?P<msg>.+)",
        _whole_line(_simple("kotlinc", "gradle", "kotlinc", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "java_class_file",
        ("bad class file", "class file has wrong version"),
        r"^(?:\[ERROR\]\s+)?(?P<msg>bad class file: .+|class file has wrong version .+)",
        _simple(
            "java_class_file",
            "maven",
            "javac",
            "cause",
            TIER_SPECIFIC,
            absorb=r"^(?:\[ERROR\])?\s+class file has wrong version",
            append_absorbed=True,
        ),
    ),
    _rule(
        "rustc",
        ("error[", "error:"),
        r"^error(?P<code>\[E\d{4}\])?: (?P<msg>.+)",
        lambda m, text: _rustc(m, text),
    ),
    _rule(
        "go_compile",
        (".go:",),
        r"^(?P<file>\.?/?[\w./-]+\.go):(?P<line>\d+)(?::\d+)?: (?P<msg>(?:undefined:|cannot |not enough|too many|expected |"
        r"syntax error|imported and not used|declared and not used|declared but not used|mismatched|invalid operation|"
        r"missing return|redeclared|no new variables|has no field or method|unknown field|could not import|"
        r"non-declaration statement).*)",
        _whole_line(_simple("go_compile", "go_test", "go", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "cmake_error",
        ("CMake Error",),
        r"^CMake Error(?: at (?P<file>[^:]+):(?P<line>\d+) \(\w+\))?:\s*(?P<msg>.*)$",
        lambda m, text: _cmake(m, text),
    ),
    # --- causes: tests and runtimes -----------------------------------------------------------
    _rule(
        "pytest_summary",
        ("FAILED", "ERROR"),
        r"^(?P<kind>FAILED|ERROR)\s+(?:\[[\d.]+s\]\s+)?(?P<test>[^\s:]+\.py(?:::\S+)?|\S+::\S+)(?:\s+-\s+(?P<detail>.+))?$",
        lambda m, text: _pytest_summary(m, text),
    ),
    _rule(
        "pytest_e_line",
        ("E ",),
        r"^E\s{2,}(?P<msg>\S.*)$",
        _simple("pytest_e_line", "pytest", "pytest", "cause", TIER_SPECIFIC, absorb=r"^E(?:\s|$)"),
    ),
    _rule(
        "rust_panic_new",
        ("panicked at",),
        r"^thread '(?P<test>[^']*)'(?: \(\d+\))? panicked at (?P<file>.+?):(?P<line>\d+):\d+:$",
        lambda m, text: _panic(m, text, new_format=True),
    ),
    _rule(
        "rust_panic_old",
        ("panicked at",),
        r"^thread '(?P<test>[^']*)'(?: \(\d+\))? panicked at '(?P<msg>.*)', (?P<file>.+?):(?P<line>\d+):\d+$",
        lambda m, text: _panic(m, text, new_format=False),
    ),
    _rule(
        "libtest_failed",
        ("... FAILED",),
        r"^test (?P<test>\S+)(?: - should panic)? \.\.\. FAILED$",
        _whole_line(_simple("libtest_failed", "cargo", "libtest", "cause", TIER_REPORT)),
    ),
    _rule(
        "libtest_note",
        ("note: ",),
        r"^note: (?P<msg>test did not panic as expected at (?P<file>.+?):(?P<line>\d+):\d+|got unexpected return code \d+)",
        _simple(
            "libtest_note", "cargo", "libtest", "cause", TIER_REPORT, finalize=_libtest_section
        ),
    ),
    _rule(
        "libtest_json_failed",
        ('"failed"',),
        r'^\{\s*"type":\s*"test",.*"name":\s*"(?P<test>[^"]+)".*"event":\s*"failed"',
        lambda m, text: Hit(
            "libtest_json_failed",
            "cargo",
            "libtest",
            "cause",
            TIER_REPORT,
            f"test {m.group('test')} failed",
            test_name=m.group("test"),
        ),
    ),
    _rule(
        "go_test_fail",
        ("FAIL",),
        r"^(?:::group::|##\[group\])?\s*(?:--- FAIL: (?P<test>\S+) \(|FAIL (?P<test2>\S+\.Test\S*) \(|=== FAIL: (?P<pkg>\S+) (?P<test3>Test\S*))",
        lambda m, text: Hit(
            "go_test_fail",
            "go_test",
            "go",
            "cause",
            TIER_REPORT,
            f"--- FAIL: {m.group('test') or m.group('test2') or m.group('test3')}",
            test_name=m.group("test") or m.group("test2") or m.group("test3") or "",
            finalize=_go_test_message,
        ),
    ),
    _rule(
        "go_panic",
        ("panic: ", "fatal error: "),
        r"^(?:panic|fatal error): (?P<msg>.+)",
        _whole_line(
            _simple(
                "go_panic",
                "",
                "go",
                "cause",
                TIER_SPECIFIC,
                absorb=r"^(?:\s|goroutine |\[signal |$)",
            )
        ),
    ),
    _rule(
        "go_data_race",
        ("DATA RACE",),
        r"^WARNING: DATA RACE",
        _whole_line(_simple("go_data_race", "go_test", "go", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "jest_failure",
        ("●",),
        r"^●\s+(?P<test>.+)$",
        lambda m, text: Hit(
            "jest_failure",
            "jest",
            "jest",
            "cause",
            TIER_REPORT,
            text.strip(),
            test_name="" if "Test suite failed to run" in text else m.group("test").strip(),
            finalize=_next_line_message,
        ),
    ),
    _rule(
        "gradle_test_failed",
        (" > ",),
        r"^(?P<test>[\w.$]+ > .+?) FAILED$",
        _whole_line(
            _simple(
                "gradle_test_failed", "gradle", "gradle", "cause", TIER_REPORT, absorb=r"^\s{4,}\S"
            )
        ),
    ),
    _rule(
        "gradle_went_wrong",
        ("What went wrong",),
        r"^\* What went wrong:",
        lambda m, text: Hit(
            "gradle_went_wrong",
            "gradle",
            "gradle",
            "cause",
            TIER_REPORT,
            "",
            absorb=re.compile(r"^(?:> |Execution failed|A problem occurred|Could not |\s+\S)"),
            message_from_next=True,
        ),
    ),
    _rule(
        "surefire_test",
        ("Time elapsed",),
        r"^\[ERROR\] (?P<test>\S+?(?:\([\w.$]+\))?)\s+Time elapsed: .*<<< (?:FAILURE|ERROR)!",
        _whole_line(
            _simple(
                "surefire_test",
                "maven",
                "surefire",
                "cause",
                TIER_REPORT,
                absorb=_JAVA_STACK + r"|^[\w.$]+(?:Error|Exception)",
                append_absorbed=True,
            )
        ),
    ),
    _rule(
        "surefire_failure_summary",
        ("[ERROR]",),
        r"^\[ERROR\]\s+(?P<test>[\w.$]+[.:][\w$]+(?::\d+)?) (?P<msg>.*(?:expected|but was|Exception|Error|assert).*)",
        _whole_line(_simple("surefire_failure_summary", "maven", "surefire", "cause", TIER_REPORT)),
    ),
    _rule(
        "mozharness_unexpected",
        ("TEST-UNEXPECTED",),
        r"TEST-UNEXPECTED-(?P<what>[A-Z-]+) \| (?P<test>[^|]+?) \| (?P<msg>.+)",
        _whole_line(_simple("mozharness_unexpected", "log", "mozharness", "cause", TIER_REPORT)),
    ),
    _rule(
        "python_exception",
        ("Error", "Exception", "Exit", "Failure", "Fault", "Timeout", "Interrupt"),
        rf"^(?P<exc>{_PY_EXCEPTION})(?::\s*(?P<msg>.*))?$",
        _whole_line(
            _simple(
                "python_exception",
                "",
                "python",
                "cause",
                TIER_SPECIFIC,
                # Java/Groovy: a message ending in ':' goes on in the `stderr:` lines below it.
                absorb=_JAVA_STACK + r"|^std(?:out|err):",
                append_absorbed=True,
            )
        ),
    ),
    _rule(
        "java_exception_in_thread",
        ("Exception in thread",),
        r'^Exception in thread "[^"]*" (?P<msg>.+)',
        _whole_line(
            _simple(
                "java_exception_in_thread", "", "java", "cause", TIER_SPECIFIC, absorb=_JAVA_STACK
            )
        ),
    ),
    _rule(
        "node_missing_module",
        ("Cannot find module",),
        r"^(?:Error: )?Cannot find module '(?P<msg>[^']+)'",
        _whole_line(_simple("node_missing_module", "", "node", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "pip_resolution",
        ("ERROR: ",),
        r"^ERROR: (?:Could not find a version that satisfies|No matching distribution found|ResolutionImpossible|"
        r"Cannot install|pip's dependency resolver|Could not install packages|Could not build wheels|"
        r"Could not open requirements file)",
        _whole_line(_simple("pip_resolution", "", "pip", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "npm_error",
        ("npm ERR!", "npm error"),
        r"^npm (?:ERR!|error) (?P<msg>.+)",
        _whole_line(
            _simple("npm_error", "", "npm", "cause", TIER_REPORT, absorb=r"^npm (?:ERR!|error) ")
        ),
    ),
    _rule(
        "docker_daemon",
        ("Error response from daemon",),
        r"Error response from daemon: (?P<msg>.+)",
        _whole_line(_simple("docker_daemon", "", "docker", "cause", TIER_SPECIFIC)),
    ),
    _rule(
        "buildkit_error",
        ("ERROR",),
        r"^(?:#(?P<vertex>\d+) ERROR: |ERROR: (?:failed to build: )?failed to solve: )(?P<msg>.+)",
        _whole_line(_simple("buildkit_error", "buildkit", "buildkit", "cause", TIER_REPORT)),
    ),
    _rule(
        "git_fatal",
        ("fatal: ",),
        r"^(?:stderr: )?fatal: (?P<msg>.+)",
        _whole_line(
            _simple(
                "git_fatal",
                "",
                "git",
                "cause",
                TIER_SPECIFIC,
                absorb=r"^(?:To add an exception|\s+git config)",
            )
        ),
    ),
    _rule(
        "jenkins_fatal",
        ("FATAL",),
        r"^FATAL: (?P<msg>.+)",
        _whole_line(
            _simple(
                "jenkins_fatal",
                "",
                "jenkins",
                "cause",
                TIER_SPECIFIC,
                absorb=_JAVA_STACK + r"|^\s+|^Also: |^Caused: ",
            )
        ),
    ),
    _rule(
        "workflow_command_error",
        ("::error",),
        r"^::error(?: (?P<props>[^:]*))?::(?P<msg>.*)$",
        lambda m, text: _workflow_error(m),
    ),
    _rule(
        "gha_error",
        ("##[error]",),
        r"^##\[error\](?P<msg>.*)$",
        _simple("gha_error", "gha_log", "", "cause", TIER_REPORT, absorb=r"^\s+at |^\s+\S"),
    ),
    _rule(
        "taskcluster_error",
        ("[taskcluster:error]",),
        r"^\[taskcluster:error\] (?P<msg>.+)",
        _simple("taskcluster_error", "log", "taskcluster", "cause", TIER_REPORT),
    ),
    _rule(
        "killed",
        ("Killed",),
        r"^Killed$",
        _whole_line(_simple("killed", "", "", "cause", TIER_PLATFORM)),
    ),
    # --- the generic forms, last -------------------------------------------------------------
    _rule(
        "generic_error",
        ("rror", "RROR", "atal", "ATAL", "CRITICAL"),
        r"^(?:\[(?:error|ERROR|FATAL|fatal|CRITICAL)\]|error|ERROR|Error|FATAL|Fatal|fatal|CRITICAL)(?:\[[^\]]*\])?[:!]\s*(?P<msg>\S.*)$",
        _whole_line(
            _simple(
                "generic_error",
                "",
                "",
                "cause",
                TIER_REPORT,
                absorb=r"^\s+(?:Caused by:|at |\|)|^\s*-->",
            )
        ),
    ),
)


def _rustc(match: re.Match[str], text: str) -> Hit:
    code = match.group("code")
    return Hit(
        "rustc",
        "cargo" if code else "",
        "rustc" if code else "",
        "cause",
        TIER_SPECIFIC if code else TIER_REPORT,
        text.strip(),
        # The span (`--> src/lib.rs:3:5`), the source excerpt and notes; uv/anyhow's `Caused by:`.
        absorb=re.compile(r"^\s*(?:-->|\d*\s*\||=\s|Caused by:|\.\.\.)|^\s+\S"),
    )


def _cmake(match: re.Match[str], text: str) -> Hit:
    message = match.group("msg").strip()
    return Hit(
        "cmake_error",
        "make",
        "cmake",
        "cause",
        TIER_SPECIFIC,
        text.strip(),
        file=match.group("file") or "",
        line=_int(match.group("line")),
        absorb=re.compile(r"^\s+(?!Call Stack)\S"),
        message_from_next=not message
        or message == "(message):"
        or text.rstrip().endswith("(message):"),
    )


def _pytest_summary(match: re.Match[str], text: str) -> Hit:
    detail = (match.group("detail") or "").strip()
    exception = re.match(rf"^(?:{_PY_EXCEPTION})\b", detail)
    collection = match.group("kind") == "ERROR"
    tier = TIER_SPECIFIC if exception or collection else TIER_REPORT
    return Hit(
        "pytest_summary",
        "pytest",
        "pytest",
        "cause",
        tier,
        text.strip(),
        test_name=match.group("test"),
        detail=detail,
    )


def _panic(match: re.Match[str], text: str, *, new_format: bool) -> Hit:
    thread = match.group("test")
    test_name = "" if thread in ("main", "<unnamed>") else thread
    return Hit(
        "rust_panic",
        "cargo",
        "rust",
        "cause",
        TIER_SPECIFIC,
        text.strip(),
        test_name=test_name,
        file=match.group("file"),
        line=_int(match.group("line")),
        # New format: the panic message follows on its own lines, up to the `note:`.
        absorb=re.compile(r"^(?!note: |stack backtrace:|\s*$)") if new_format else None,
        message_from_next=new_format,
        finalize=_libtest_section,
    )


def _workflow_error(match: re.Match[str]) -> Hit:
    props = dict(
        part.split("=", 1) for part in (match.group("props") or "").split(",") if "=" in part
    )
    message = match.group("msg").replace("%0A", " ").strip()
    title = props.get("title", "")
    return Hit(
        "workflow_command_error",
        "gha_log",
        "",
        "cause",
        TIER_REPORT,
        f"{title}: {message}" if title and title not in message else message,
        file=props.get("file", ""),
        line=_int(props.get("line")),
    )


# --- signatures -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    needles: tuple[str, ...]
    pattern: re.Pattern[str]
    tier: int


def _sig(name: str, needles: tuple[str, ...], pattern: str, tier: int) -> Signature:
    return Signature(name, needles, re.compile(pattern), tier)


SIGNATURES: tuple[Signature, ...] = (
    _sig(
        "out_of_memory",
        ("emory", "OOM", "oom", "Killed", "bad_alloc", "signal 9"),
        r"(?i:\bout of memory\b)|OOMKilled|oom-kill|Killed signal terminated program|Cannot allocate memory|"
        r"\bMemoryError\b|std::bad_alloc|JavaScript heap out of memory|terminated with signal 9|OutOfMemoryError",
        TIER_PLATFORM,
    ),
    _sig(
        "disk_full",
        ("space", "ENOSPC", "quota"),
        r"No space left on device|ENOSPC|[Dd]isk quota exceeded|not enough space on the disk",
        TIER_PLATFORM,
    ),
    _sig(
        "runner_lost",
        ("runner", "communication"),
        r"runner has received a shutdown signal|lost communication with the server|"
        r"hosted runner encountered an error|runner .{0,80}(?:lost|deprovisioned|was terminated)",
        TIER_PLATFORM,
    ),
    _sig(
        "job_timeout",
        ("timed out after", "run time exceeded", "maximum execution time"),
        r"has timed out after \d+ minutes|max(?:imum)? run time exceeded|exceeded the maximum execution time",
        TIER_PLATFORM,
    ),
    _sig(
        "signal",
        ("SIG", "Segmentation", "Bus error", "core dumped", "Illegal instruction"),
        r"Received signal: SIG\w+|Segmentation fault|\bSIG(?:SEGV|BUS|KILL|ABRT|ILL)\b|Bus error|core dumped|Illegal instruction",
        TIER_SPECIFIC,
    ),
    _sig(
        "timeout",
        ("timed out", "took >", "Timeout", "deadline exceeded", "TIMEOUT"),
        r"timed out after|Command took >|TimeoutError|deadline exceeded|Timeout of \d+ms exceeded|TEST-UNEXPECTED-TIMEOUT|HttpClient\.Timeout",
        TIER_SPECIFIC,
    ),
    _sig(
        "network",
        (
            "resolve",
            "name resolution",
            "not known",
            "servname",
            "getaddrinfo",
            "dns",
            "onnection",
            "ECONN",
            "ETIMEDOUT",
            "EAI_AGAIN",
            "handshake",
            "i/o timeout",
            "Bad Gateway",
            "Unavailable",
            "Gateway",
            "error: 5",
            "Too Many Requests",
            "toomanyrequests",
            "rate limit",
            "429",
            "certificate",
            "unreachable",
            "No route to host",
        ),
        r"Could not resolve host|Temporary failure in name resolution|Name or service not known|nodename nor servname|"
        r"getaddrinfo|\bdns error\b|Connection refused|Connection reset|Connection timed out|ECONNREFUSED|ECONNRESET|"
        r"ETIMEDOUT|EAI_AGAIN|TLS handshake timeout|i/o timeout|\b50[234] (?:Bad Gateway|Service Unavailable|Gateway Time-?out)|"
        r"returned error: 5\d\d|Too Many Requests|toomanyrequests|(?i:rate limit exceeded)|(?:HTTP|status|code|error)\D{0,12}\b429\b|"
        r"certificate verify failed|Network is unreachable|No route to host",
        TIER_SPECIFIC,
    ),
    _sig(
        "permission",
        (
            "authorized",
            "AccessDenied",
            "Access Denied",
            "ermission denied",
            "Forbidden",
            "Unauthorized",
            "Bad credentials",
            "not accessible",
        ),
        r"not authorized to perform|AccessDenied|Access Denied|[Pp]ermission denied|403 Forbidden|401 Unauthorized|"
        r"Bad credentials|Resource not accessible by integration",
        TIER_SPECIFIC,
    ),
)


def strongest_signature(text: str) -> Signature | None:
    """The signature of highest tier found in the line, or None."""
    best: Signature | None = None
    for signature in SIGNATURES:
        if best is not None and signature.tier <= best.tier:
            continue
        if any(needle in text for needle in signature.needles) and signature.pattern.search(text):
            best = signature
    return best


def classify(text: str) -> Hit | None:
    """The error a cleaned log line shows, or None when it is not one."""
    stripped = text.lstrip()
    if not stripped:
        return None
    hit: Hit | None = None
    for rule in RULES:
        if not any(needle in stripped for needle in rule.needles):
            continue
        match = rule.pattern.search(stripped)
        if match is None:
            continue
        hit = rule.build(match, stripped)
        if hit is not None:
            break
    if hit is IGNORE:
        return None
    signature = strongest_signature(stripped)
    if hit is None:
        if signature is None:
            return None
        return Hit(f"signature:{signature.name}", "", "", "cause", signature.tier, stripped.strip())
    if signature is not None and signature.tier > hit.tier:
        hit = replace(
            hit, tier=signature.tier, role="cause" if signature.tier >= TIER_SPECIFIC else hit.role
        )
    return hit
