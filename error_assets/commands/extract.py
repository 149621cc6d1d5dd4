"""`error-assets extract PATH...`: error occurrences of CI files as JSON lines.

Each path is read as one job's file (a log, a JUnit report, BuildKit output or annotations
JSON; detected unless `--kind` says). Occurrences are written one JSON object per line, each
file's in rank order (the most likely cause first). A file that cannot be read is reported on
standard error with its path and the reason; the other files are still extracted, and the
exit status is 1.
"""

from __future__ import annotations

import argparse

KIND_CHOICES = ("auto", "junit", "gha-log", "pytest", "cargo", "buildkit", "annotations", "log")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to extract errors from")
    parser.add_argument(
        "--kind", choices=KIND_CHOICES, default="auto", help="what the files are (default: detect)"
    )
    parser.add_argument(
        "--output",
        "-o",
        default="-",
        metavar="FILE",
        help="where to write JSON lines (default: -, stdout)",
    )
    parser.add_argument(
        "--max-per-job",
        type=int,
        default=20,
        metavar="N",
        help="occurrences kept per file (default 20)",
    )
    parser.add_argument(
        "--max-text-chars",
        type=int,
        default=None,
        metavar="N",
        help="length of each text excerpt (default: MAX_ERROR_LENGTH or 10000)",
    )


def run(args: argparse.Namespace) -> int:
    import json
    import os
    import sys
    from contextlib import ExitStack
    from pathlib import Path

    from error_assets.extraction import extract_paths
    from error_assets.models import ExtractionProblem, to_row
    from error_assets.settings import Settings, SettingsError

    if args.max_text_chars is None:
        try:
            args.max_text_chars = Settings.from_env(os.environ).max_error_length
        except SettingsError as error:
            print(f"error-assets extract: {error}", file=sys.stderr)
            return 2
    if args.max_per_job < 1 or args.max_text_chars < 1:
        print(
            "error-assets extract: --max-per-job and --max-text-chars must be positive",
            file=sys.stderr,
        )
        return 2
    failed = False
    with ExitStack() as stack:
        out = (
            sys.stdout
            if args.output == "-"
            else stack.enter_context(open(args.output, "w", encoding="utf-8"))
        )
        items = extract_paths(
            [Path(p) for p in args.paths],
            args.kind,
            max_per_job=args.max_per_job,
            max_text_chars=args.max_text_chars,
        )
        for item in items:
            if isinstance(item, ExtractionProblem):
                failed = True
                print(f"error-assets extract: {item.path}: {item.reason}", file=sys.stderr)
                continue
            out.write(json.dumps(to_row(item), ensure_ascii=False) + "\n")
    return 1 if failed else 0
