"""`error-assets ci`: classify the failing job from inside its own workflow (see `ci_step`)."""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--junit",
        action="append",
        default=[],
        metavar="GLOB",
        help="JUnit XML reports (glob, ** allowed; repeatable)",
    )
    parser.add_argument(
        "--log",
        action="append",
        default=[],
        metavar="PATH",
        help="captured build/test output or job log (repeatable)",
    )
    parser.add_argument(
        "--buildkit",
        action="append",
        default=[],
        metavar="PATH",
        help="docker buildx / BuildKit plain-progress output (repeatable)",
    )
    parser.add_argument(
        "--annotations",
        action="append",
        default=[],
        metavar="JSON",
        help="check-run annotations as JSON (repeatable)",
    )
    parser.add_argument(
        "--budget-seconds",
        type=_positive,
        default=20.0,
        metavar="S",
        help="hard time limit of the whole step, LLM included (default 20)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when the step itself fails or runs out of time",
    )
    parser.add_argument(
        "--annotate", action="store_true", help="print an ::error annotation per classified error"
    )
    parser.add_argument(
        "--summary-file",
        metavar="PATH",
        help="append the markdown here (default $GITHUB_STEP_SUMMARY)",
    )
    parser.add_argument(
        "--job-id",
        type=int,
        metavar="N",
        help="classify this (finished) job of the run instead of the current one",
    )
    parser.add_argument("--job-name", metavar="NAME", help="display name of --job-id's job")
    parser.add_argument(
        "--local-store",
        metavar="PATH",
        help="publish to this SQLite store when OPENSEARCH_URL is unset",
    )


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {value}")
    return number


def run(args: argparse.Namespace) -> int:
    from error_assets.ci_step.console import run_from_environment

    code, abandoned_work = run_from_environment(args, os.environ, sys.stdout)
    if abandoned_work:
        # A worker thread is still blocked (an LLM or store call past the budget). It cannot
        # be interrupted; end the process now rather than let it outlive the budget.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
