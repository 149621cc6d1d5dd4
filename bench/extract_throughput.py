"""Extraction throughput (MB/s) next to ripgrep scanning the same files for the same patterns.

Generates a corpus of job logs with `error-assets sample --log-mb` (about 1 GB by default,
~150 MB with --quick), warms the page cache, then alternates, in one run on one core:
  * `rg -c -j1 --ignore-case -e <the prefilter pattern>` over the logs (counting matching lines),
  * `extract_file` on each log (prefilter + rules + context + ranking inputs), with google-re2,
  * the same with the standard-library prefilter (the fallback when google-re2 is absent).
Each is timed `--repeat` times and the best time kept; the ratios are printed side by side.

    .venv/bin/python bench/extract_throughput.py [--quick] [--corpus DIR] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from error_assets.extraction import extract_file
from error_assets.extraction.prefilter import PATTERN, Prefilter, _re2


def generate(target: Path, total_mb: int) -> None:
    """~total_mb of logs: 25 MB per job, 10 jobs per hour."""
    log_mb = 25 if total_mb >= 250 else 10
    jobs = max(1, round(total_mb / log_mb))
    hours = max(1, (jobs + 9) // 10)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "error_assets.cli",
            "sample",
            "--out",
            str(target),
            "--hours",
            str(hours),
            "--jobs-per-hour",
            str(min(jobs, 10)),
            "--seed",
            "7",
            "--log-mb",
            str(log_mb),
            "--start",
            "2026-11-01T00:00:00Z",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def warm(files: list[Path]) -> None:
    for path in files:
        with path.open("rb") as handle:
            while handle.read(8 << 20):
                pass


def time_rg(rg: str, files: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [
            rg,
            "--no-config",
            "-c",
            "-j1",
            "--ignore-case",
            "--no-filename",
            "-e",
            PATTERN,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"rg failed: {done.stderr.strip()}")
    return elapsed, sum(int(n) for n in done.stdout.split())


def time_extract(files: list[Path], prefilter: Prefilter) -> tuple[float, int]:
    start = time.perf_counter()
    findings = 0
    for path in files:
        findings += len(extract_file(path, "auto", prefilter=prefilter).findings)
    return time.perf_counter() - start, findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~150 MB corpus instead of ~1 GB")
    parser.add_argument("--mb", type=int, default=None, help="corpus size in MB")
    parser.add_argument(
        "--corpus", type=Path, default=None, help="reuse (or create) this corpus directory"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated corpus")
    parser.add_argument("--repeat", type=int, default=None, help="timings per tool (best kept)")
    args = parser.parse_args()
    total_mb = args.mb or (150 if args.quick else 1024)
    repeat = args.repeat or (2 if args.quick else 3)

    workdir = args.corpus or Path(tempfile.mkdtemp(prefix="extract-bench-"))
    try:
        if not any(workdir.rglob("log.txt")):
            print(f"generating ~{total_mb} MB of job logs in {workdir} …", flush=True)
            generate(workdir, total_mb)
        files = sorted(workdir.rglob("log.txt"))
        size = sum(p.stat().st_size for p in files)
        mb = size / 1e6
        print(f"corpus: {len(files)} job logs, {mb:.0f} MB")
        warm(files)

        rg = shutil.which("rg")
        if rg is None:
            print("ripgrep (rg) is NOT installed: no ripgrep baseline (apt-get install -y ripgrep)")
        engines = [("stdlib re", Prefilter(use_re2=False))]
        if _re2 is not None:
            engines.insert(0, ("google-re2", Prefilter(use_re2=True)))
        else:
            print("google-re2 is NOT installed: only the standard-library prefilter is measured")

        # The standard-library prefilter is slow: it is timed on the first files only.
        subset: list[Path] = []
        subset_bytes = 0
        for path in files:
            if subset_bytes >= (20e6 if args.quick else 60e6):
                break
            subset.append(path)
            subset_bytes += path.stat().st_size
        corpus_of = {
            "rg": (files, size),
            "google-re2": (files, size),
            "stdlib re": (subset, subset_bytes),
        }

        best: dict[str, float] = {}
        counts: dict[str, int] = {}
        for _ in range(repeat):  # alternate the tools so machine noise hits both alike
            if rg:
                elapsed, matched = time_rg(rg, files)
                best["rg"] = min(best.get("rg", elapsed), elapsed)
                counts["rg"] = matched
            for name, prefilter in engines:
                elapsed, found = time_extract(corpus_of[name][0], prefilter)
                best[name] = min(best.get(name, elapsed), elapsed)
                counts[name] = found

        speed = {name: corpus_of[name][1] / 1e6 / seconds for name, seconds in best.items()}
        print(f"\n{'tool':<34}{'MB':>7}{'best s':>8}{'MB/s':>8}{'rg MB/s / this':>16}   output")
        for name, seconds in best.items():
            label = "rg -c -j1 (same patterns)" if name == "rg" else f"extract ({name} prefilter)"
            ratio = f"{speed['rg'] / speed[name]:.2f}x" if "rg" in speed else "n/a"
            what = "matching lines" if name == "rg" else "findings"
            scanned = corpus_of[name][1] / 1e6
            print(
                f"{label:<34}{scanned:>7.0f}{seconds:>8.2f}{speed[name]:>8.0f}{ratio:>16}"
                f"   {counts[name]} {what}"
            )
        if "rg" in speed and "google-re2" in speed:
            ratio = speed["rg"] / speed["google-re2"]
            verdict = "within" if ratio <= 3 else "NOT within"
            print(
                f"\nextraction takes {ratio:.2f}x ripgrep's time on one core: {verdict} the 3x goal"
            )
    finally:
        if args.corpus is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            print(f"corpus kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
