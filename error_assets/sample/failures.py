"""Failure families of the sample generator: what breaks in CI, and what it prints.

Each family renders the error lines of one failed job with fresh ids, timestamps, paths and
sizes, so that the same root cause recurs across hours looking different on the surface
(work for dedup and the cache), while different modules and tests stay different causes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from error_assets.taxonomy import CODE, INFRASTRUCTURE


@dataclass
class Failure:
    """What one failed job left behind, before rendering into files."""

    family: str
    category: str
    step: str
    log_lines: list[str]
    exit_code: int = 1
    junit: list[tuple[str, str]] = field(default_factory=list)  # (dialect, xml)
    buildkit: str | None = None
    annotations: list[dict[str, object]] = field(default_factory=list)
    conclusion: str = "failure"


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _runner(rng: random.Random) -> str:
    return rng.choice(["GitHub Actions ", "ip-10-0-", "arc-runner-set-"]) + str(rng.randint(2, 999))


MODULES = ["billing", "accounts", "search", "ingest", "notifications"]
PY_TESTS = {
    "billing": ["test_invoice_total_rounding", "test_refund_partial", "test_vat_reverse_charge"],
    "accounts": ["test_login_lockout", "test_password_reset_token_expiry"],
    "search": ["test_ranking_prefers_exact_match", "test_facet_counts"],
    "ingest": ["test_csv_with_bom", "test_large_batch_split"],
    "notifications": ["test_digest_grouping"],
}


def oom_kill(rng: random.Random) -> Failure:
    unit = rng.choice(["src/engine/planner.cc", "src/engine/codegen.cc", "third_party/re2/re2.cc"])
    return Failure(
        "oom_kill",
        INFRASTRUCTURE,
        "Build",
        [
            f"[{rng.randint(200, 900)}/{rng.randint(1000, 1400)}] Building CXX object {unit}.o",
            "c++: fatal error: Killed signal terminated program cc1plus",
            "compilation terminated.",
            "ninja: build stopped: subcommand failed.",
        ],
        exit_code=137,
    )


def disk_full(rng: random.Random) -> Failure:
    layer = _hex(rng, 12)
    return Failure(
        "disk_full",
        INFRASTRUCTURE,
        "Build image",
        [
            f"#12 extracting sha256:{_hex(rng, 64)} {rng.uniform(1, 9):.1f}s",
            f"failed to register layer: write /var/lib/docker/overlay2/{layer}/diff/usr/lib/"
            f"libLLVM-{rng.randint(14, 17)}.so.1: no space left on device",
        ],
    )


def dns_failure(rng: random.Random) -> Failure:
    host = rng.choice(["pypi.org", "files.pythonhosted.org"])
    return Failure(
        "dns_failure",
        INFRASTRUCTURE,
        "Install dependencies",
        [
            "Collecting requests==2.32.3",
            f"  WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, "
            f"status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3."
            f"connection.HTTPSConnection object at 0x7f{_hex(rng, 10)}>: Failed to establish a new "
            f"connection: [Errno -3] Temporary failure in name resolution')': /simple/requests/",
            "ERROR: Could not find a version that satisfies the requirement requests==2.32.3 "
            "(from versions: none)",
            "ERROR: No matching distribution found for requests==2.32.3",
            f"WARNING: There was an error checking the latest version of pip: {host} unreachable",
        ],
    )


def registry_rate_limit(rng: random.Random) -> Failure:
    image = rng.choice(["library/node:20-bullseye", "library/python:3.12-slim"])
    return Failure(
        "registry_rate_limit",
        INFRASTRUCTURE,
        "Build and push",
        [],
        buildkit=(
            f"#3 [internal] load metadata for docker.io/{image}\n"
            f"#3 ERROR: failed to copy: httpReadSeeker: failed open: unexpected status code "
            f"https://registry-1.docker.io/v2/{image.split(':')[0]}/manifests/sha256:{_hex(rng, 64)}: "
            "429 Too Many Requests - Server message: toomanyrequests: You have reached your pull "
            "rate limit. You may increase the limit by authenticating and upgrading: "
            "https://www.docker.com/increase-rate-limit\n"
            "------\n"
            f" > [internal] load metadata for docker.io/{image}:\n"
            "------\n"
            "ERROR: failed to solve: failed to fetch anonymous token: unexpected status: "
            "429 Too Many Requests\n"
        ),
    )


def runner_lost(rng: random.Random) -> Failure:
    runner = _runner(rng)
    return Failure(
        "runner_lost",
        INFRASTRUCTURE,
        "Run tests",
        [
            f"##[error]The self-hosted runner: {runner} lost communication with the server. "
            "Verify the machine is running and has a healthy network connection. Anything in "
            "your workflow that terminates the runner process, starves it for CPU/Memory, or "
            "blocks its network access can cause this error.",
        ],
        conclusion="failure",
    )


def npm_registry_5xx(rng: random.Random) -> Failure:
    pkg = rng.choice(["@babel/core", "typescript", "esbuild"])
    return Failure(
        "npm_registry_5xx",
        INFRASTRUCTURE,
        "npm ci",
        [
            f"npm ERR! code E{rng.choice([502, 503])}",
            f"npm ERR! {rng.choice([502, 503])} Service Unavailable - GET "
            f"https://registry.npmjs.org/{pkg}/-/{pkg.split('/')[-1]}-7.{rng.randint(1, 30)}.0.tgz",
            "npm ERR! A complete log of this run can be found in:",
            f"npm ERR!     /home/runner/.npm/_logs/2026-11-{rng.randint(10, 28)}T"
            f"{rng.randint(0, 23):02d}_{rng.randint(0, 59):02d}_{_hex(rng, 3)}Z-debug-0.log",
        ],
    )


def cache_service(rng: random.Random) -> Failure:
    return Failure(
        "cache_service",
        INFRASTRUCTURE,
        "Restore cache",
        [
            "##[warning]Failed to restore: Cache service responded with 503",
            f"##[error]Failed to download artifact: Unable to download artifact(s): "
            f"Request timeout: /twirp/github.actions.results.api.v1.ArtifactService/"
            f"GetSignedArtifactURL after {rng.randint(3, 9)} attempts",
        ],
    )


def job_time_limit(rng: random.Random) -> Failure:
    return Failure(
        "job_time_limit",
        INFRASTRUCTURE,
        "Run integration tests",
        [
            f"tests/integration/test_stream.py::test_replay[{rng.randint(1, 40)}] PASSED",
            f"##[error]The job running on runner {_runner(rng)} has exceeded the maximum "
            "execution time of 360 minutes.",
        ],
        conclusion="timed_out",
    )


def pytest_assertion(rng: random.Random) -> Failure:
    module = rng.choice(MODULES)
    test = rng.choice(PY_TESTS[module])
    expected = rng.randint(10, 999)
    got = expected + rng.randint(1, 9)
    path = f"tests/{module}/test_{module}.py"
    line = rng.randint(20, 400)
    message = f"AssertionError: assert {got} == {expected}"
    body = (
        f"def {test}(client):\n        result = compute()\n>       assert result == {expected}\n"
        f"E       assert {got} == {expected}\n\n{path}:{line}: AssertionError"
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" '
        f'failures="1" skipped="0" tests="3" time="{rng.uniform(1, 60):.3f}" '
        f'timestamp="2026-11-28T0{rng.randint(0, 9)}:1{rng.randint(0, 9)}:00" hostname="runner">'
        f'<testcase classname="tests.{module}.test_{module}" name="test_ok" time="0.01"/>'
        f'<testcase classname="tests.{module}.test_{module}" name="{test}" file="{path}" '
        f'line="{line}" time="0.{rng.randint(100, 999)}"><failure message="{message}">'
        f"{_xml_escape(body)}</failure></testcase></testsuite></testsuites>"
    )
    return Failure(
        "pytest_assertion",
        CODE,
        "Run tests",
        [
            f"{path}::{test} FAILED",
            "=================================== FAILURES ===================================",
            f"E       assert {got} == {expected}",
            f"FAILED {path}::{test} - {message}",
            f"========= 1 failed, {rng.randint(50, 400)} passed in {rng.uniform(5, 90):.2f}s =========",
        ],
        junit=[("pytest", xml)],
    )


def python_import_error(rng: random.Random) -> Failure:
    module = rng.choice(MODULES)
    missing = rng.choice(["helpers", "schemas", "tasks"])
    return Failure(
        "python_import_error",
        CODE,
        "Run tests",
        [
            "==================================== ERRORS ====================================",
            f"_______________ ERROR collecting tests/{module}/test_api.py _______________",
            f"ImportError while importing test module '/home/runner/work/app/app/tests/{module}/test_api.py'.",
            f"E   ModuleNotFoundError: No module named 'app.{module}.{missing}'",
            f"ERROR tests/{module}/test_api.py",
            "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!",
        ],
        exit_code=2,
    )


def rust_compile_error(rng: random.Random) -> Failure:
    file = rng.choice(["src/parser.rs", "src/codec/frame.rs", "src/server.rs"])
    line, col = rng.randint(10, 900), rng.randint(5, 40)
    return Failure(
        "rust_compile_error",
        CODE,
        "cargo build",
        [
            f"   Compiling tokio v1.4{rng.randint(0, 9)}.0",
            f"   Compiling app v0.{rng.randint(1, 9)}.0 (/home/runner/work/app/app)",
            "error[E0308]: mismatched types",
            f"  --> {file}:{line}:{col}",
            "   |",
            f"{line} |         let len: u32 = frame.len();",
            "   |                  ---   ^^^^^^^^^^^ expected `u32`, found `usize`",
            "   |                  |",
            "   |                  expected due to this",
            "",
            "For more information about this error, try `rustc --explain E0308`.",
            "error: could not compile `app` (lib) due to 1 previous error",
        ],
        exit_code=101,
        annotations=[
            {
                "path": file,
                "start_line": line,
                "end_line": line,
                "annotation_level": "failure",
                "title": "error[E0308]: mismatched types",
                "message": "mismatched types: expected `u32`, found `usize`",
                "raw_details": "",
            }
        ],
    )


def rust_test_panic(rng: random.Random) -> Failure:
    test = rng.choice(["codec::tests::roundtrip_large_frame", "parser::tests::rejects_bad_utf8"])
    line = rng.randint(10, 500)
    return Failure(
        "rust_test_panic",
        CODE,
        "cargo test",
        [
            f"running {rng.randint(20, 90)} tests",
            f"test {test} ... FAILED",
            "failures:",
            f"---- {test} stdout ----",
            f"thread '{test}' panicked at src/{test.split('::')[0]}.rs:{line}:9:",
            "assertion `left == right` failed",
            f"  left: {rng.randint(1000, 9000)}",
            f" right: {rng.randint(1000, 9000)}",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            f"test result: FAILED. {rng.randint(20, 80)} passed; 1 failed; 0 ignored",
            "error: test failed, to rerun pass `--lib`",
        ],
        exit_code=101,
    )


def go_test_failure(rng: random.Random) -> Failure:
    pkg = rng.choice(["github.com/acme/api/internal/store", "github.com/acme/api/internal/auth"])
    test = rng.choice(["TestStoreGetMissing", "TestTokenRefresh"])
    line = rng.randint(20, 300)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="2" failures="1">\n'
        f'\t<testsuite tests="2" failures="1" time="{rng.uniform(0.1, 3):.3f}" name="{pkg}" '
        f'timestamp="2026-11-28T01:0{rng.randint(0, 9)}:00Z">\n'
        f'\t\t<properties><property name="go.version" value="go1.26.{rng.randint(0, 8)}"></property></properties>\n'
        f'\t\t<testcase classname="{pkg}" name="TestOK" time="0.000"></testcase>\n'
        f'\t\t<testcase classname="{pkg}" name="{test}" time="0.0{rng.randint(10, 99)}">\n'
        f'\t\t\t<failure message="Failed" type="">    {test.lower()}_test.go:{line}: got '
        f"&quot;{_hex(rng, 8)}&quot;, want error</failure>\n\t\t</testcase>\n\t</testsuite>\n"
        "</testsuites>\n"
    )
    return Failure(
        "go_test_failure",
        CODE,
        "go test",
        [
            f"=== RUN   {test}",
            f'    {test.lower()}_test.go:{line}: got "{_hex(rng, 8)}", want error',
            f"--- FAIL: {test} (0.0{rng.randint(1, 9)}s)",
            "FAIL",
            f"FAIL\t{pkg}\t{rng.uniform(0.1, 3):.3f}s",
        ],
        junit=[("go-junit-report", xml)],
    )


def maven_compile_error(rng: random.Random) -> Failure:
    cls = rng.choice(["OrderService", "PaymentGateway"])
    line, col = rng.randint(10, 300), rng.randint(5, 40)
    return Failure(
        "maven_compile_error",
        CODE,
        "Build with Maven",
        [
            "[INFO] --- compiler:3.13.0:compile (default-compile) @ shop ---",
            f"[ERROR] /home/runner/work/shop/shop/src/main/java/com/acme/shop/{cls}.java:[{line},{col}] "
            "cannot find symbol",
            "  symbol:   method toMoney(java.math.BigDecimal)",
            f"  location: class com.acme.shop.{cls}",
            "[INFO] BUILD FAILURE",
            "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.13.0:"
            "compile (default-compile) on project shop: Compilation failure",
            "[ERROR] -> [Help 1]",
        ],
    )


def lint_failure(rng: random.Random) -> Failure:
    module = rng.choice(MODULES)
    line = rng.randint(1, 200)
    return Failure(
        "lint_failure",
        CODE,
        "Lint",
        [
            f"app/{module}/views.py:{line}:{rng.randint(1, 30)}: F401 [*] `os` imported but unused",
            "Found 1 error.",
            "[*] 1 fixable with the `--fix` option.",
        ],
        annotations=[
            {
                "path": f"app/{module}/views.py",
                "start_line": line,
                "end_line": line,
                "annotation_level": "failure",
                "title": "F401",
                "message": "`os` imported but unused",
                "raw_details": "",
            }
        ],
    )


def dockerfile_dependency_conflict(rng: random.Random) -> Failure:
    step = rng.randint(5, 9)
    return Failure(
        "dockerfile_dependency_conflict",
        CODE,
        "Build image",
        [],
        buildkit=(
            f"#{step} [builder 4/7] RUN pip install --no-cache-dir -r requirements.txt\n"
            f"#{step} {rng.uniform(1, 9):.3f} ERROR: Cannot install fastapi==0.115.0 and "
            "starlette==0.27.0 because these package versions have conflicting dependencies.\n"
            f"#{step} {rng.uniform(1, 9):.3f} ERROR: ResolutionImpossible: for help visit "
            "https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts\n"
            f'#{step} ERROR: process "/bin/sh -c pip install --no-cache-dir -r requirements.txt" '
            "did not complete successfully: exit code: 1\n"
            "------\n"
            f" > [builder 4/7] RUN pip install --no-cache-dir -r requirements.txt:\n"
            "------\n"
            "Dockerfile:14\n"
            'ERROR: failed to solve: process "/bin/sh -c pip install --no-cache-dir -r '
            'requirements.txt" did not complete successfully: exit code: 1\n'
        ),
    )


def gcc_compile_error(rng: random.Random) -> Failure:
    file = rng.choice(["src/net/socket.c", "src/util/strbuf.c"])
    line = rng.randint(10, 600)
    return Failure(
        "gcc_compile_error",
        CODE,
        "make",
        [
            f"gcc -O2 -Wall -Werror -c {file} -o build/{file.split('/')[-1]}.o",
            f"{file}: In function 'read_frame':",
            f"{file}:{line}:{rng.randint(3, 30)}: error: implicit declaration of function "
            "'strlcpy'; did you mean 'strncpy'? [-Werror=implicit-function-declaration]",
            "cc1: all warnings being treated as errors",
            f"make: *** [Makefile:{rng.randint(20, 80)}: build/{file.split('/')[-1]}.o] Error 1",
        ],
        exit_code=2,
    )


FAMILIES: dict[str, tuple[Callable[[random.Random], Failure], float]] = {
    # name: (renderer, relative frequency)
    "oom_kill": (oom_kill, 0.6),
    "disk_full": (disk_full, 0.4),
    "dns_failure": (dns_failure, 0.5),
    "registry_rate_limit": (registry_rate_limit, 0.5),
    "runner_lost": (runner_lost, 0.5),
    "npm_registry_5xx": (npm_registry_5xx, 0.4),
    "cache_service": (cache_service, 0.3),
    "job_time_limit": (job_time_limit, 0.2),
    "pytest_assertion": (pytest_assertion, 2.0),
    "python_import_error": (python_import_error, 0.6),
    "rust_compile_error": (rust_compile_error, 0.6),
    "rust_test_panic": (rust_test_panic, 0.6),
    "go_test_failure": (go_test_failure, 0.8),
    "maven_compile_error": (maven_compile_error, 0.5),
    "lint_failure": (lint_failure, 0.7),
    "dockerfile_dependency_conflict": (dockerfile_dependency_conflict, 0.4),
    "gcc_compile_error": (gcc_compile_error, 0.4),
}


def pick_family(rng: random.Random) -> str:
    names = list(FAMILIES)
    return rng.choices(names, weights=[FAMILIES[n][1] for n in names])[0]


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
