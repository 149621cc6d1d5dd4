"""`error-assets trends`: the trend of infrastructure vs code errors from the store."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=7, help="how many days back (default 7)")
    parser.add_argument("--interval", choices=("hour", "day"), default="day")


def run(args: argparse.Namespace) -> int:
    from error_assets.settings import Settings, SettingsError
    from error_assets.stores import open_store

    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=args.days)
    store = open_store(settings)
    try:
        buckets = store.trend(start, end, args.interval)
    finally:
        store.close()
    if not buckets:
        print("no documents in the store for that period (run `error-assets demo` first?)")
        return 0
    rows: dict[str, dict[str, int]] = {}
    for b in buckets:
        rows.setdefault(b.bucket_start, {})[b.category] = b.occurrences
    categories = sorted({b.category for b in buckets})
    print(f"{'bucket':<22}" + "".join(f"{c:>22}" for c in categories))
    for bucket, values in sorted(rows.items()):
        print(f"{bucket:<22}" + "".join(f"{values.get(c, 0):>22}" for c in categories))
    return 0
