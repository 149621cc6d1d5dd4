"""Benchmark of `error-assets ci`: wall time on a big job log plus JUnit reports, and start-up.

Prints, measured side by side in the same run (interleaved repetitions, medians):
* floor     `python -c pass`
* start-up  `error-assets ci` with nothing to read (interpreter + imports + argument parsing)
* full      `error-assets ci --log <50 MB job log> --junit '<20 JUnit files>'`, LLM disabled,
            with pytest-style failures no rule claims (the offline model decides them)
* full/rules the same with unittest-style `AssertionError` failures (the rules decide all)
* sklearn   importing what the offline model needs (paid whenever no rule settles an error)
and the goals: full < 2 s, start-up < 0.5 s above the floor. Also the slowest imports of the
`ci` path from `python -X importtime`.

    .venv/bin/python bench/ci_step.py            # 50 MB log, 20 JUnit files, 5 repetitions
    .venv/bin/python bench/ci_step.py --quick    # 5 MB log, 5 JUnit files, 3 repetitions
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTHON = sys.executable

NOISE = [
    "Collecting {pkg}==1.{n}.0",
    "  Downloading {pkg}-1.{n}.0-py3-none-any.whl (12{n} kB)",
    "tests/test_{pkg}.py::test_case_{n} PASSED",
    "[{n}/9000] Building CXX object src/{pkg}/CMakeFiles/{pkg}.dir/file_{n}.cc.o",
    "INFO {pkg}: processed {n} records in 0.0{n}s",
    "Step {n}/40 : RUN pip install {pkg}",
]
# The failure at the end of the log: a compile error, make's wrapper, the runner's wrapper.
ERRORS = [
    "src/{pkg}/file_{n}.cc:{n}:7: error: 'foo_{n}' was not declared in this scope",
    "make[2]: *** [src/{pkg}/CMakeFiles/{pkg}.dir/build.make:76: file_{n}.cc.o] Error 1",
    "make: *** [Makefile:136: all] Error 2",
    "##[error]Process completed with exit code 2.",
]


def write_job_log(path: Path, megabytes: int, seed: int = 7) -> None:
    """A GitHub-Actions-style job log: timestamps, groups, mostly noise, errors near the end."""
    rng = random.Random(seed)
    target = megabytes * 1024 * 1024
    written = 0
    pkgs = ["numpy", "torch", "requests", "grpc", "protobuf", "yaml", "urllib3"]
    with path.open("w", encoding="utf-8") as out:
        step = 0
        while written < target:
            if written // (2 * 1024 * 1024) != step:
                step = written // (2 * 1024 * 1024)
                line = f"2026-11-28T10:{step % 60:02d}:00.0000000Z ##[group]Run step {step}\n"
            else:
                template = rng.choice(NOISE)
                body = template.format(pkg=rng.choice(pkgs), n=rng.randint(1, 9999))
                line = f"2026-11-28T10:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.1234567Z {body}\n"
            out.write(line)
            written += len(line)
        for template in ERRORS:
            body = template.format(pkg="core", n=42)
            out.write(f"2026-11-28T11:00:00.0000000Z {body}\n")


def write_junit(directory: Path, files: int, cases: int = 200, unittest: bool = False) -> None:
    """JUnit reports with two failures each: pytest's bare `assert` (no rule claims it, so the
    offline model decides) or unittest's `AssertionError` (the rule library decides)."""
    directory.mkdir(parents=True, exist_ok=True)
    error = "AssertionError: " if unittest else ""
    for index in range(files):
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuites><testsuite name="suite{index}" tests="{cases}" failures="2">',
        ]
        for case in range(cases):
            name = f'name="test_{case}" classname="pkg.mod{index}.TestThing"'
            if case < 2:
                parts.append(
                    f'<testcase {name} time="0.01"><failure message="{error}assert {case} == 3">'
                    f"def test():\n&gt;       assert {case} == 3\nE       {error}assert {case} == 3"
                    "</failure></testcase>"
                )
            else:
                parts.append(f'<testcase {name} time="0.001"/>')
        parts.append("</testsuite></testsuites>")
        (directory / f"TEST-suite{index}.xml").write_text("\n".join(parts), encoding="utf-8")


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return elapsed


def slowest_imports(env: dict[str, str], cwd: Path, top: int = 8) -> list[tuple[int, str]]:
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "error_assets.cli", "ci", "--budget-seconds", "5"],
        env=env, cwd=cwd, capture_output=True, text=True,
    )  # fmt: skip
    rows = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line[12:].split("|"))
            if cumulative.isdigit() and not name.startswith(" "):
                rows.append((int(cumulative), name.strip()))
    top_level = [r for r in rows if not r[1].startswith(".")]
    return sorted(top_level, reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 MB log, 5 JUnit files, 3 reps")
    parser.add_argument("--log-mb", type=int, default=None)
    parser.add_argument("--junit-files", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    log_mb = args.log_mb or (5 if args.quick else 50)
    junit_files = args.junit_files or (5 if args.quick else 20)
    repeat = args.repeat or (3 if args.quick else 5)

    with tempfile.TemporaryDirectory(prefix="bench-ci-step-") as tmp:
        work = Path(tmp)
        write_job_log(work / "job.log", log_mb)
        write_junit(work / "test-results", junit_files)
        write_junit(work / "unittest-results", junit_files, unittest=True)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(work),
            "ERROR_ASSETS_HOME": str(work / "home"),
            "GITHUB_REPOSITORY": "octo/widgets",
            "GITHUB_RUN_ID": "1",
            "GITHUB_JOB": "test",
            "GITHUB_STEP_SUMMARY": str(work / "summary.md"),
            "CLASSIFY_REALTIME_THRESHOLD": "none",
        }
        ci = [PYTHON, "-m", "error_assets.cli", "ci", "--budget-seconds", "60"]
        commands = {
            "floor": [PYTHON, "-c", "pass"],
            "start-up": ci,
            "full": [*ci, "--log", "job.log", "--junit", "test-results/*.xml"],
            "full/rules": [*ci, "--log", "job.log", "--junit", "unittest-results/*.xml"],
            # What the offline model costs before it classifies anything.
            "sklearn": [PYTHON, "-c", "import sklearn.linear_model, sklearn.calibration,"
                        " sklearn.feature_extraction.text, sklearn.pipeline"],
        }  # fmt: skip
        timed(commands["full"], env, work)  # warm the file cache and the .pyc files
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):
            for name, command in commands.items():
                samples[name].append(timed(command, env, work))
        (work / "summary.md").unlink()
        last = subprocess.run(commands["full"], env=env, cwd=work, capture_output=True, text=True)
        stages = [line for line in last.stdout.splitlines() if line.startswith("error-assets: ")]
        summary = (work / "summary.md").read_text(encoding="utf-8")
        imports = slowest_imports(env, work)

    median = {name: statistics.median(values) for name, values in samples.items()}
    startup_over = median["start-up"] - median["floor"]
    print(f"error-assets ci: {log_mb} MB job log + {junit_files} JUnit files, LLM off, "
          f"{repeat} interleaved repetitions (medians)")  # fmt: skip
    for name in commands:
        spread = f"{min(samples[name]):.3f}-{max(samples[name]):.3f}"
        print(f"  {name:10s} {median[name]:7.3f} s   (range {spread})   "
              f"{median[name] / median['floor']:6.1f}x floor")  # fmt: skip
    print(f"  start-up above floor: {startup_over:.3f} s (goal < 0.5 s)"
          f" {'OK' if startup_over < 0.5 else 'MISSED'}")  # fmt: skip
    for name in ("full", "full/rules"):
        print(f"  {name}: {median[name]:.3f} s (goal < 2 s) {'OK' if median[name] < 2 else 'MISSED'}"
              f"; {log_mb / max(1e-9, median[name] - median['start-up']):.0f} MB/s past start-up")  # fmt: skip
    print(f"  full minus full/rules: {median['full'] - median['full/rules']:.3f} s"
          f" (the offline model; its imports alone: {median['sklearn'] - median['floor']:.3f} s)")  # fmt: skip
    print(f"  summary: {summary.splitlines()[0]}")
    print("  the last full run said:")
    for line in stages:
        print(f"    {line[:150]}")
    print("  slowest imports of the ci path (cumulative, ms):")
    for micros, name in imports:
        print(f"    {micros / 1000:7.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
