"""`error-assets trends`: the trend of infrastructure vs code errors from the store, and on
request the chart (`--png`) and the markdown report (`--report`)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=7, help="how many days back (default 7)")
    parser.add_argument("--interval", choices=("hour", "day"), default="day")
    parser.add_argument(
        "--png",
        type=Path,
        metavar="FILE",
        help="write the chart (per hour over the last 24 h, per day over --days) to FILE",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="write the markdown report (top and new clusters, classifier mix, LLM cost) to FILE",
    )


def run(args: argparse.Namespace) -> int:
    from error_assets.settings import Settings, SettingsError
    from error_assets.stores import open_store
    from error_assets.stores.base import StoreError

    if args.days < 1:
        print(f"error: --days must be at least 1, got {args.days}", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The current hour is included: the CI step may already have published some of it.
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=args.days)
    try:
        store = open_store(settings)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        buckets = store.trend(start, end, args.interval)
        if args.png or args.report:
            try:
                _write_files(store, end, args)
            except OSError as exc:
                print(f"error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
                return 1
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


def _write_files(store, end: datetime, args: argparse.Namespace) -> None:
    from error_assets.trends import collect_trend, render_markdown, write_chart, write_report

    if args.png and args.report:
        files = write_report(store, end, args.days, args.report, args.png)
        print(f"chart:  {files.chart_path}")
        print(f"report: {files.markdown_path}")
        return
    data = collect_trend(store, end, days=args.days)
    if args.png:
        print(f"chart:  {write_chart(data, args.png)}")
    else:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(render_markdown(data), encoding="utf-8")
        print(f"report: {args.report}")
