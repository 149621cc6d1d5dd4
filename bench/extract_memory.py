"""Peak memory while extracting one very large log (goal: a 2 GB log in under 300 MB RSS).

Writes a GitHub Actions-style log of `--gb` gigabytes (2 by default, 0.25 with --quick) into a
temporary directory: build noise, step groups and, every few MB, a distinct compiler error.
Then, in a fresh child process, measures the RSS after the imports, extracts the log once,
and reports the peak RSS (resource.getrusage, ru_maxrss) and the time taken.

    .venv/bin/python bench/extract_memory.py [--quick] [--gb 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from error_assets.extraction import extract_file
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = extract_file(Path(sys.argv[1]))
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kb": before, "peak_kb": peak, "seconds": elapsed,
                  "findings": len(result.findings), "problems": result.problems}))
"""

NOISE = [
    "  Downloading numpy-1.26.{n}-cp311-cp311-manylinux_2_17_x86_64.whl (18.2 MB)",
    "[{n}/9000] Building CXX object src/CMakeFiles/core.dir/module_{n}.cc.o",
    "tests/unit/test_module_{n}.py::test_case PASSED                       [ 42%]",
    "\x1b[36;1mpython -m pip install -r requirements-{n}.txt\x1b[0m",
    "[INFO] Tests run: {n}, Failures: 0, Errors: 0, Skipped: 0, Time elapsed: 1.2 s",
    "  AWS_DEFAULT_REGION: us-east-1",
]


def write_log(path: Path, size: int) -> None:
    """A realistic log of about `size` bytes, written block by block (never held in memory)."""
    block_lines = 40_000
    written = 0
    block_no = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("2026-11-28T10:00:00.0000000Z ##[group]Run make -j8 all\n")
        while written < size:
            lines = []
            for i in range(block_lines):
                template = NOISE[i % len(NOISE)]
                lines.append(f"2026-11-28T10:{i % 60:02d}:00.0000000Z " + template.format(n=i))
            # A distinct error per block: the findings cap, not the file size, bounds memory.
            name = _letters(block_no)  # numbers would be masked as "the same error"
            lines.append(
                f"2026-11-28T10:59:59.0000000Z src/gen/part.c:{block_no % 900 + 1}:5: "
                f"error: unknown type name 'widget_{name}_t'"
            )
            text = "\n".join(lines) + "\n"
            out.write(text)
            written += len(text)
            block_no += 1
        out.write("2026-11-28T11:00:00.0000000Z ##[error]Process completed with exit code 2.\n")


def _letters(number: int) -> str:
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = chr(97 + digit) + word
        if number == 0:
            return word


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 0.25 GB log instead of 2 GB")
    parser.add_argument("--gb", type=float, default=None, help="log size in GB")
    args = parser.parse_args()
    gigabytes = args.gb or (0.25 if args.quick else 2.0)
    with tempfile.TemporaryDirectory(prefix="extract-memory-") as tmp:
        log = Path(tmp) / "huge.log"
        print(f"writing a {gigabytes:g} GB log …", flush=True)
        write_log(log, int(gigabytes * 1e9))
        size = log.stat().st_size
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(log)], capture_output=True, text=True
        )
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        report = json.loads(done.stdout)
    peak_mb = report["peak_kb"] / 1024
    base_mb = report["before_kb"] / 1024
    print(
        f"log: {size / 1e9:.2f} GB, {report['findings']} findings, problems: {report['problems'] or 'none'}"
    )
    print(f"RSS after imports: {base_mb:.0f} MB; peak RSS while extracting: {peak_mb:.0f} MB")
    print(f"time: {report['seconds']:.1f} s ({size / 1e6 / report['seconds']:.0f} MB/s)")
    verdict = "under" if peak_mb < 300 else "NOT under"
    print(f"peak RSS {peak_mb:.0f} MB: {verdict} the 300 MB goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
