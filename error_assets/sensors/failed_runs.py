"""A sensor that requests the hourly partitions of newly completed failed GitHub runs.

For teams that want minutes, not the hourly schedule: every couple of minutes it asks GitHub
for failed run attempts completed since its cursor and requests the partitions their failed
jobs completed in. The polling itself is domain code (`GitHubSource.poll_failed_runs`); this
module only turns its answer into run requests and keeps the cursor.

A partition that does not exist yet (with `end_offset=0` the current hour becomes a partition
only once it has ended) is kept in the cursor and requested as soon as it exists.
"""

from __future__ import annotations

import json
from typing import Any

import dagster as dg

from error_assets.resources import CISourceResource

SENSOR_NAME = "github_failed_runs"
RUNS_TAG = "error_assets/github_runs"


def build_failed_runs_sensor(
    job: dg.UnresolvedAssetJobDefinition | dg.JobDefinition,
    *,
    name: str = SENSOR_NAME,
    minimum_interval_seconds: int = 120,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> dg.SensorDefinition:
    """The sensor for `job` (an hourly-partitioned job); stopped until someone starts it."""
    partitions = partitions_def or getattr(job, "partitions_def", None)

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Polls GitHub Actions for newly completed failed runs and requests the "
        "hourly partitions their failed jobs completed in.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, ci_source: CISourceResource
    ) -> dg.SensorResult | dg.SkipReason:
        # Imported here: PyGithub costs every Dagster process start, configured or not.
        from error_assets.sources.github_source import GitHubSource, run_key

        source = ci_source.open()
        if not isinstance(source, GitHubSource):
            return dg.SkipReason(
                "GitHub is not configured (GITHUB_TOKEN and REPO): nothing to poll"
            )
        state = _load(context.cursor)
        poll = source.poll_failed_runs(state["poll"])
        pending: dict[str, list[str]] = state["pending"]
        for partition, events in poll.partitions.items():
            keys = pending.setdefault(partition, [])
            keys += [e.key for e in events if e.key not in keys]
        requests = []
        for partition in sorted(pending):
            if partitions is not None and not partitions.has_partition_key(partition):
                continue  # not a partition yet: ask again on a later tick
            keys = pending.pop(partition)
            requests.append(
                dg.RunRequest(
                    partition_key=partition,
                    run_key=run_key(partition, keys),
                    tags={RUNS_TAG: str(len(keys))},
                )
            )
        cursor = json.dumps({"poll": json.loads(poll.cursor), "pending": pending}, sort_keys=True)
        context.log.info(
            f"{len(poll.events)} new failed run(s), {len(requests)} partition(s) requested, "
            f"{len(pending)} waiting, {poll.stats.get('api_calls', 0)} API call(s)"
        )
        if requests:
            return dg.SensorResult(run_requests=requests, cursor=cursor)
        return dg.SensorResult(skip_reason="no new failed runs", cursor=cursor)

    return _sensor


def _load(cursor: str | None) -> dict[str, Any]:
    """The sensor's cursor: the poll cursor and the partitions still waiting to exist."""
    if cursor:
        try:
            data = json.loads(cursor)
            poll = data.get("poll")
            pending = {str(k): [str(x) for x in v] for k, v in dict(data["pending"]).items()}
            return {"poll": json.dumps(poll) if poll else None, "pending": pending}
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    return {"poll": None, "pending": {}}
