"""Grouping quality on the labelled clustering set: ours (exact only, and two-stage) vs Drain3.

    .venv/bin/python bench/cluster_quality.py           # families + realworld variants
    .venv/bin/python bench/cluster_quality.py --quick   # generated families only

The set is built by tests/fingerprinting/quality_set.py (see its docstring): groups that must
merge (the same failure with other ids, paths, times) and groups that must not (same
template, other module or exception). Pairwise precision and recall, cluster counts and
time are printed side by side; every method sees the same occurrences in the same run.
Drain3 mines one line per occurrence (message and text, newlines flattened).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cluster_scale import DRAIN_VARIANTS, cpu_seconds, drain_input, drain_miner

from error_assets.fingerprinting import build_clusters, fingerprint_occurrences
from error_assets.fingerprinting.native import clear_line_caches as clear_line_cache
from tests.fingerprinting.quality_set import as_occurrence, pairwise_scores, quality_set

DEFAULT_REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "data" / "realworld"
PARTITION = "2026-11-28-03:00"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realworld", type=Path, default=DEFAULT_REALWORLD)
    parser.add_argument("--repeat", type=int, default=5, help="timing repetitions (best kept)")
    parser.add_argument("--quick", action="store_true", help="generated families only")
    args = parser.parse_args(argv)
    realworld = None
    if not args.quick:
        if (args.realworld / "error_snippets.jsonl").is_file():
            realworld = args.realworld
        else:
            print(f"no realworld snippets at {args.realworld}: generated families only")
    items = quality_set(realworld)
    labels = [i.group for i in items]
    occurrences = [as_occurrence(item, PARTITION, n) for n, item in enumerate(items)]
    print(
        f"{len(items)} occurrences, {len(set(labels))} failures "
        f"({'with' if realworld else 'without'} realworld variants)"
    )

    rows = []
    best: dict[str, tuple[float, float]] = {}

    def timed(name: str, run) -> list[str]:
        result: list[str] = []
        for _ in range(args.repeat):
            start, cpu = time.perf_counter(), cpu_seconds()
            result = run()
            wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            if name not in best or cpu < best[name][1]:
                best[name] = (wall, cpu)
        return result

    def ours_exact() -> list[str]:
        clear_line_cache()
        return [o.fingerprint for o in fingerprint_occurrences(occurrences)]

    def ours() -> list[str]:
        clear_line_cache()
        clusters = build_clusters(fingerprint_occurrences(occurrences), PARTITION, {})
        assigned = {e: c.fingerprint for c in clusters for e in c.error_ids}
        return [assigned[o.error_id] for o in occurrences]

    methods = [("ours: exact fingerprints", ours_exact), ("ours: two-stage", ours)]
    try:
        import drain3  # noqa: F401
    except ImportError:
        print("drain3 is not installed (pip install drain3): Drain3 rows skipped")
    else:
        for name, masking, similarity in DRAIN_VARIANTS:

            def drain(masking: bool = masking, similarity: float = similarity) -> list[str]:
                miner = drain_miner(masking, similarity)
                return [
                    str(miner.add_log_message(drain_input(o))["cluster_id"]) for o in occurrences
                ]

            methods.append((name, drain))

    for name, run in methods:
        predicted = timed(name, run)
        rows.append((name, len(set(predicted)), pairwise_scores(labels, predicted)))

    print(
        f"\n{'method':<26} {'clusters':>8} {'precision':>9} {'recall':>7} {'wall ms':>8} "
        f"{'cpu ms':>8} {'us/occ':>7}"
    )
    for name, count, score in rows:
        wall, cpu = best[name]
        print(
            f"{name:<26} {count:>8} {score.precision:>9.4f} {score.recall:>7.4f} "
            f"{wall * 1e3:>8.1f} {cpu * 1e3:>8.1f} {cpu / len(items) * 1e6:>7.1f}"
        )
    ours_cpu = best["ours: two-stage"][1]
    for name, _, _ in rows[2:]:
        print(f"speed ratio ours(two-stage)/{name} (cpu): {best[name][1] / ours_cpu:.2f}x")
    print(f"true failures: {len(set(labels))}; timings are the best of {args.repeat} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
