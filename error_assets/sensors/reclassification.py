"""Re-classification on change: a sensor (stopped by default) that finds hourly partitions whose
published documents carry older rules, prompt or normaliser versions than the code's, and
requests their re-materialisation, a bounded number of partitions per tick.

* A new rules or prompt version re-runs `error_classifications` and `error_index` only. The
  classification cache is keyed on those versions, so a cluster whose verdict did not depend
  on what changed (a human override, say) costs nothing, while rule hits are re-decided.
* A new normaliser version changes fingerprints, so extraction and clustering run again too.
  Raw jobs are not re-fetched: the pipeline kept them.

Run keys include the versions, so each (range, versions) pair runs once; the cursor remembers
which partitions were already requested for the current versions, so a tick moves on to the
next ones instead of re-requesting a range whose run is still queued. Reset the cursor in the
UI to retry partitions whose run failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from error_assets.partitions import PARTITION_START
from error_assets.pipeline_runs import partition_range_tags
from error_assets.resources import StoreResource
from error_assets.stores.base import VersionSummary
from error_assets.stores.documents import partition_start

SENSOR_NAME = "reclassification_on_version_change"
REASON_TAG = "error_assets/reclassification"
CLASSIFY_ASSETS = ("error_classifications", "error_index")
REEXTRACT_ASSETS = ("extracted_errors", "error_clusters", *CLASSIFY_ASSETS)


@dataclass(frozen=True, slots=True)
class CurrentVersions:
    """The versions the code would stamp on a classification made now."""

    rules: str
    prompt: str
    normalizer: str

    @property
    def key(self) -> str:
        return f"rules={self.rules},prompt={self.prompt},normalizer={self.normalizer}"


@dataclass(frozen=True, slots=True)
class StalePartition:
    partition: str
    reasons: tuple[str, ...]  # of "rules", "prompt", "normalizer"

    @property
    def needs_reextraction(self) -> bool:
        return "normalizer" in self.reasons


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """One run request: a contiguous range of hourly partitions and the assets to rebuild."""

    partition_keys: tuple[str, ...]
    reextract: bool

    @property
    def assets(self) -> tuple[str, ...]:
        return REEXTRACT_ASSETS if self.reextract else CLASSIFY_ASSETS


def current_versions() -> CurrentVersions:
    """The versions of the classification and fingerprinting code as installed."""
    from error_assets.classification import PROMPT_VERSION, RULES_VERSION
    from error_assets.fingerprinting import NORMALIZER_VERSION

    return CurrentVersions(
        rules=str(RULES_VERSION), prompt=str(PROMPT_VERSION), normalizer=str(NORMALIZER_VERSION)
    )


def stale_partitions(
    summaries: Iterable[VersionSummary], current: CurrentVersions
) -> list[StalePartition]:
    """Partitions holding a document made with an older version, in partition order.

    A missing rules or normaliser version counts as older (it predates versioning). A missing
    prompt version does not: only LLM verdicts have one.
    """
    stale = []
    for summary in sorted(summaries, key=lambda s: s.partition):
        if summary.documents == 0:
            continue
        reasons = []
        if any(v != current.rules for v in summary.rules_versions):
            reasons.append("rules")
        if any(v and v != current.prompt for v in summary.prompt_versions):
            reasons.append("prompt")
        if any(v != current.normalizer for v in summary.normalizer_versions):
            reasons.append("normalizer")
        if reasons:
            stale.append(StalePartition(summary.partition, tuple(reasons)))
    return stale


def plan_runs(
    stale: Sequence[StalePartition], max_partitions: int, max_partitions_per_run: int = 24
) -> list[PlannedRun]:
    """At most `max_partitions` partitions, newest first, as runs over contiguous hours that
    need the same work (each at most `max_partitions_per_run` long)."""
    chosen = sorted(stale, key=lambda s: s.partition, reverse=True)[:max_partitions]
    chosen.sort(key=lambda s: s.partition)
    runs: list[PlannedRun] = []
    current: list[str] = []
    reextract = False
    previous: datetime | None = None
    for item in chosen:
        start = partition_start(item.partition)
        contiguous = previous is not None and start - previous == timedelta(hours=1)
        if current and (
            not contiguous
            or item.needs_reextraction != reextract
            or len(current) >= max_partitions_per_run
        ):
            runs.append(PlannedRun(tuple(current), reextract))
            current = []
        if not current:
            reextract = item.needs_reextraction
        current.append(item.partition)
        previous = start
    if current:
        runs.append(PlannedRun(tuple(current), reextract))
    return sorted(runs, key=lambda r: r.partition_keys[-1], reverse=True)


def run_request(run: PlannedRun, versions: CurrentVersions, reasons: str) -> dg.RunRequest:
    keys = run.partition_keys
    tags = {REASON_TAG: reasons, "error_assets/versions": versions.key}
    selection = [dg.AssetKey(name) for name in run.assets]
    run_key = f"reclassify:{keys[0]}..{keys[-1]}:{'+'.join(run.assets)}:{versions.key}"
    if len(keys) == 1:
        return dg.RunRequest(
            run_key=run_key, partition_key=keys[0], asset_selection=selection, tags=tags
        )
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=selection,
        tags={**tags, **partition_range_tags(keys)},
    )


def build_reclassification_sensor(
    job: dg.UnresolvedAssetJobDefinition | dg.JobDefinition,
    *,
    versions: Callable[[], CurrentVersions] = current_versions,
    max_partitions_per_tick: int = 48,
    max_partitions_per_run: int = 24,
    minimum_interval_seconds: int = 900,
    name: str = SENSOR_NAME,
) -> dg.SensorDefinition:
    """The sensor for `job` (the hourly pipeline job); stopped until someone starts it."""

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Finds partitions whose documents were classified with older rules, prompt "
        "or normaliser versions and re-materialises them, "
        f"at most {max_partitions_per_tick} partitions per tick.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, store: StoreResource
    ) -> dg.SensorResult | dg.SkipReason:
        current = versions()
        opened = store.open()
        try:
            now = datetime.now(UTC)
            summaries = opened.version_summaries(PARTITION_START, now + timedelta(hours=1))
        finally:
            opened.close()
        stale = stale_partitions(summaries, current)
        requested = _requested(context.cursor, current)
        # Forget partitions that are current again: the cursor stays as small as the backlog.
        requested &= {s.partition for s in stale}
        pending = [s for s in stale if s.partition not in requested]
        if not pending:
            cursor = _cursor(current, requested)
            if not stale:
                return dg.SensorResult(
                    skip_reason=dg.SkipReason(f"every partition is current ({current.key})"),
                    cursor=cursor,
                )
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"{len(stale)} stale partition(s), all already requested for {current.key}"
                ),
                cursor=cursor,
            )
        runs = plan_runs(pending, max_partitions_per_tick, max_partitions_per_run)
        by_partition = {s.partition: s for s in pending}
        requests = []
        for run in runs:
            reasons = sorted({r for k in run.partition_keys for r in by_partition[k].reasons})
            requests.append(run_request(run, current, ",".join(reasons)))
            requested.update(run.partition_keys)
        context.log.info(
            f"{len(pending)} partition(s) behind {current.key}; requesting "
            f"{sum(len(r.partition_keys) for r in runs)} in {len(runs)} run(s)"
        )
        return dg.SensorResult(run_requests=requests, cursor=_cursor(current, requested))

    return _sensor


def _requested(cursor: str | None, current: CurrentVersions) -> set[str]:
    if not cursor:
        return set()
    try:
        state = json.loads(cursor)
    except json.JSONDecodeError:
        return set()
    if not isinstance(state, dict) or state.get("versions") != current.key:
        return set()  # new versions: every stale partition is due again
    return {p for p in state.get("requested", []) if isinstance(p, str)}


def _cursor(current: CurrentVersions, requested: set[str]) -> str:
    return json.dumps({"versions": current.key, "requested": sorted(requested)})


__all__ = [
    "CurrentVersions",
    "PlannedRun",
    "StalePartition",
    "build_reclassification_sensor",
    "current_versions",
    "plan_runs",
    "stale_partitions",
]
