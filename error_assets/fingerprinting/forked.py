"""Spreading a pure function over a list with forked worker processes.

The list and the function are left in a module global before the pool forks, so the workers
inherit them (copy-on-write) and only index ranges go to them; only the results are pickled
back. Forking is used only where the platform offers it (Linux) and the list is long enough
to repay it; otherwise the work runs in this process. Results are identical either way, and
in the input's order.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# (function, items) of the map in progress, read by the forked workers.
_WORK: tuple[Callable[[Any], Any], Sequence[Any]] | None = None
# Ranges per worker: smaller ranges even out workers that share their core with others.
_RANGES_PER_WORKER = 4


def _map_range(bounds: tuple[int, int]) -> list[Any]:
    assert _WORK is not None, "forked worker started without work"
    function, items = _WORK
    return [function(item) for item in items[bounds[0] : bounds[1]]]


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def forked_map(
    function: Callable[[T], R], items: Sequence[T], workers: int, min_items: int
) -> list[R]:
    """[function(item) for item in items], over `workers` forked processes when there are at
    least `min_items` items (and `workers` > 1); in this process otherwise."""
    if workers <= 1 or len(items) < min_items or not can_fork():
        return [function(item) for item in items]
    global _WORK
    chunk = -(-len(items) // (workers * _RANGES_PER_WORKER))
    bounds = [(start, min(start + chunk, len(items))) for start in range(0, len(items), chunk)]
    _WORK = (function, items)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_map_range, bounds)
    finally:
        _WORK = None
    return [value for part in parts for value in part]
