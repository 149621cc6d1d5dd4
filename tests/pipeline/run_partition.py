"""Materialise one partition in its own process (for the concurrency test)."""

from __future__ import annotations

import os
import sys

import dagster as dg

from error_assets.definitions import build_definitions
from error_assets.pipeline_runs import run_partitions
from error_assets.settings import Settings

if __name__ == "__main__":
    settings = Settings.from_env(os.environ)
    with dg.DagsterInstance.get() as instance:
        result = run_partitions(build_definitions(settings), [sys.argv[1]], instance)
    sys.exit(0 if result.success else 1)
