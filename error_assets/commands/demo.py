"""`error-assets demo`: the whole pipeline over the last 24 hours, offline, on a real instance."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=int, default=24, help="how many past hours (default 24)")
    parser.add_argument("--jobs-per-hour", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)


def run(args: argparse.Namespace) -> int:
    from error_assets.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    prepare_dagster_home(settings.dagster_home)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=args.hours)
    if not _archive_has_hours(settings.archive, start, end):
        from error_assets.sample import write_sample

        summary = write_sample(settings.archive, start, args.hours, args.jobs_per_hour, args.seed)
        print(f"sample data: {summary.jobs} failed jobs over {args.hours} h in {settings.archive}")
    else:
        print(f"sample data: using the archive in {settings.archive}")

    import dagster as dg

    from error_assets.definitions import defs
    from error_assets.pipeline_runs import run_partitions
    from error_assets.stores.documents import partition_key

    keys = [partition_key(start + timedelta(hours=h)) for h in range(args.hours)]
    print(f"materialising {len(keys)} partitions ({keys[0]} .. {keys[-1]}) in one run ...")
    with dg.DagsterInstance.get() as instance:
        result = run_partitions(defs, keys, instance)
        print(f"run {result.run_id}: {'success' if result.success else 'FAILED'}")
        print_summary(settings, start, end)
        if result.success:
            write_trend_files(settings, defs, instance, end)
    print(f"\nDagster home: {settings.dagster_home}  (`make dev` shows these runs in the UI)")
    return 0 if result.success else 1


def write_trend_files(settings, defs, instance, end: datetime) -> None:
    """The rolling report of the demo window, and the latest daily `error_trends` partition
    materialised through Dagster so the UI shows its chart."""
    from error_assets.partitions import daily_partitions
    from error_assets.stores import open_store
    from error_assets.trends import write_report

    reports = settings.home / "reports"
    store = open_store(settings)
    try:
        files = write_report(
            store,
            end,
            days=14,
            markdown_path=reports / "latest.md",
            chart_path=reports / "latest.png",
        )
    finally:
        store.close()
    print("\nTrend report (last 24 h and 14 days)")
    print(f"  report: {files.markdown_path}")
    print(f"  chart:  {files.chart_path}")
    day = daily_partitions.get_last_partition_key()
    if day is None:
        return
    job = defs.resolve_job_def("error_trends_job")
    daily = job.execute_in_process(instance=instance, partition_key=day, raise_on_error=False)
    if daily.success:
        print(f"  daily report of {day}: {reports / (day + '.md')} (and in the UI: error_trends)")
    else:
        print(f"  the daily report of {day} failed; see run {daily.run_id} in the UI")


def prepare_dagster_home(dagster_home: Path) -> None:
    """Point DAGSTER_HOME at our instance and give it the project's dagster.yaml."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DAGSTER_HOME", str(dagster_home))
    target = Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml"
    source = Path.cwd() / "dagster.yaml"
    if not target.exists() and source.is_file():
        shutil.copyfile(source, target)


def _archive_has_hours(archive: Path, start: datetime, end: datetime) -> bool:
    moment = start
    while moment < end:
        if not (archive / moment.strftime("%Y-%m-%d") / moment.strftime("%H")).is_dir():
            return False
        moment += timedelta(hours=1)
    return True


def print_summary(settings, start: datetime, end: datetime) -> None:
    from error_assets.stores import open_store

    store = open_store(settings)
    try:
        trend = store.trend(start, end, "day")
        top = store.top_clusters(start, end, limit=8)
        costs = store.cost_summary(start, end)
    finally:
        store.close()
    totals: dict[str, list[int]] = {}
    for bucket in trend:
        t = totals.setdefault(bucket.category, [0, 0])
        t[0] += bucket.clusters
        t[1] += bucket.occurrences
    all_occ = sum(t[1] for t in totals.values()) or 1
    print(f"\nErrors {start:%Y-%m-%d %H:00} .. {end:%Y-%m-%d %H:00} UTC by category")
    print(f"  {'category':<22}{'clusters':>10}{'occurrences':>13}{'share':>8}")
    for name, (clusters, occ) in sorted(totals.items()):
        print(f"  {name:<22}{clusters:>10}{occ:>13}{occ / all_occ:>8.0%}")
    mix = ", ".join(f"{k} {v}" for k, v in sorted(costs.classifiers.items()))
    print(f"  classifiers: {mix}; LLM cost ${costs.cost_usd:.4f}")
    print("\nTop clusters")
    for doc in top:
        message = (doc.get("s_message") or doc.get("s_snippet", "")).replace("\n", " ")[:90]
        print(
            f"  {doc['l_total_occurrences']:>5}x  {doc['s_primary_category']:<21}"
            f" {doc['f_confidence_score']:.2f}  {message}"
        )
