"""`error-assets sample`: write a realistic archive of failed CI runs."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="archive directory (default: the pipeline's)")
    parser.add_argument(
        "--start", help="first hour, ISO-8601 UTC (default: HOURS hours before the current hour)"
    )
    parser.add_argument("--hours", type=int, required=True, help="how many hours to generate")
    parser.add_argument(
        "--jobs-per-hour", type=int, default=12, help="failed jobs per hour (±25%%)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (same seed, same archive)")
    parser.add_argument(
        "--log-mb", type=float, default=0.0, help="pad each job log to about this many MB"
    )


def parse_start(value: str | None, hours: int) -> datetime:
    if value is None:
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        return now - timedelta(hours=hours)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    from error_assets.sample import write_sample
    from error_assets.settings import Settings, SettingsError

    if args.hours < 1 or args.jobs_per_hour < 1:
        print("error: --hours and --jobs-per-hour must be at least 1", file=sys.stderr)
        return 2
    try:
        start = parse_start(args.start, args.hours)
    except ValueError:
        print(f"error: --start {args.start!r} is not an ISO-8601 time", file=sys.stderr)
        return 2
    if args.out is None:
        try:
            out = Settings.from_env(os.environ).archive
        except SettingsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        out = args.out
    summary = write_sample(out, start, args.hours, args.jobs_per_hour, args.seed, args.log_mb)
    print(
        f"wrote {summary.jobs} failed jobs over {summary.hours} h "
        f"({summary.bytes_written / 1e6:.1f} MB) from {start:%Y-%m-%dT%H:00Z} into {out}"
    )
    return 0
