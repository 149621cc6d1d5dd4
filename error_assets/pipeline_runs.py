"""Run the pipeline job over a range of hourly partitions in one run, on a real instance.

Used by `error-assets demo` and the tests; the UI's backfills do the same through the daemon.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg


def partition_range_tags(partition_keys: Sequence[str]) -> dict[str, str]:
    keys = sorted(partition_keys)
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }


def run_partitions(
    defs: dg.Definitions,
    partition_keys: Sequence[str],
    instance: dg.DagsterInstance,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """Materialise the whole pipeline for `partition_keys` (a contiguous range) in one run."""
    job = defs.resolve_job_def("error_pipeline_job")
    if len(partition_keys) == 1:
        return job.execute_in_process(
            instance=instance, partition_key=partition_keys[0], raise_on_error=raise_on_error
        )
    return job.execute_in_process(
        instance=instance, tags=partition_range_tags(partition_keys), raise_on_error=raise_on_error
    )
