"""Scale: fingerprint and cluster a million generated occurrences; Drain3 side by side.

    .venv/bin/python bench/cluster_scale.py            # 1,000,000 occurrences, 2 workers
    .venv/bin/python bench/cluster_scale.py --quick    # 100,000 occurrences
    .venv/bin/python bench/cluster_scale.py --compare-baseline 8a54054   # and an older version
    .venv/bin/python bench/cluster_scale.py --repeat 3   # and the median of 3 rounds vs Drain3

Occurrences are rendered from tests/fixtures/clustering/families.json with fresh noise each
(timestamps, ids, paths, ...); families with a module slot get `--modules` synthetic module
names, so there are thousands of distinct failures, and 1 % are one-off failures. Group sizes
follow a Zipf law. Every occurrence is labelled with its failure, so pairwise precision and
recall are computed over all of them.

With the compiled engine installed (`native/`, built by `make setup` when cargo is present),
the sample is also run on the pure-Python path (`ERROR_ASSETS_NATIVE=0`) right after, so the
engine's own speed-up is printed side by side; both must give the same clusters.

Drain3 (`pip install drain3`) is measured on a sample of the same occurrences, side by side
with ours on that sample. Its default and its masked setting are also run over all the
occurrences (`--drain-all`, on by default: about four minutes at a million), because its cost
per message grows with the input: each message is compared with every cluster of its tree
leaf, and their number grows (at a million, the default took 6x longer per message than on
20,000). The slower, more precise settings are extrapolated linearly from the sample, which
flatters them; the output says which figure is which. The speed goal (at least 10x Drain3's
speed at equal or better precision) is printed against the Drain3 setting closest to our
precision (`--drain-sweep` shows how its precision and speed move with its similarity
threshold) and against Drain3's default, which is fastest but far less precise.

`--compare-baseline REF` also times the fingerprinting package of git revision REF (`git
archive`d to a temporary directory) on the same generated occurrences, in a subprocess run
right after ours, so the speed-up is measured under the same machine load.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import inspect
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Set by `--compare-baseline` for its subprocess: the older package is imported from there.
sys.path.insert(0, os.environ.get("CLUSTER_SCALE_PACKAGE") or sys.path[0])

from error_assets.fingerprinting import build_clusters

try:  # older packages (see --compare-baseline) have no compiled engine
    from error_assets.fingerprinting import native
except ImportError:
    native = None
from error_assets.models import ErrorOccurrence
from tests.fingerprinting.quality_set import (
    NOISE,
    family_groups,
    load_families,
    pairwise_scores,
)

# Both paths' remembered lines (older packages: the Python path's only).
clear_line_cache = getattr(native, "clear_line_caches", None)
if clear_line_cache is None:
    from error_assets.fingerprinting.rules import clear_line_cache

PARTITION = "2026-11-28-03:00"
ROOT = Path(__file__).resolve().parents[1]
_PACKAGE_ENV = "CLUSTER_SCALE_PACKAGE"
_SLOT = re.compile(r"\{(\w+)\}")
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zen", "pra", "dul", "fix", "gor", "hub"]


def _compile(template: str) -> list[tuple[bool, str]]:
    """A template as (is_slot, literal-or-slot-name) parts, for fast rendering."""
    parts, last = [], 0
    for match in _SLOT.finditer(template):
        parts.append((False, template[last : match.start()]))
        parts.append((True, match.group(1)))
        last = match.end()
    parts.append((False, template[last:]))
    return parts


def _render(parts: list[tuple[bool, str]], rng: random.Random, fixed: dict[str, str]) -> str:
    out = []
    for is_slot, value in parts:
        if not is_slot:
            out.append(value)
        elif value in fixed:
            out.append(fixed[value])
        else:
            out.append(NOISE[value](rng))
    return "".join(out)


def _module_names(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(names)


def generate(count: int, modules: int, seed: int) -> tuple[list[ErrorOccurrence], list[str]]:
    """`count` occurrences and their failure labels."""
    rng = random.Random(seed)
    extra_modules = _module_names(rng, modules)
    groups = []
    for family in load_families():
        message, text = _compile(family["message"]), _compile(family["text"])
        combos = family_groups(family)
        if "module" in family:
            others = [c for c in combos if c.get("module") == family["module"][0]]
            combos += [{**c, "module": m} for c in others for m in extra_modules]
        for combo in combos:
            label = family["name"] + "".join(f":{k}={v}" for k, v in sorted(combo.items()))
            groups.append((label, family["source_kind"], message, text, combo))
    rng.shuffle(groups)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(groups))]
    picks = rng.choices(range(len(groups)), weights=weights, k=count)
    occurrences, labels = [], []
    for index, pick in enumerate(picks):
        if rng.random() < 0.01:  # a one-off failure
            words = " ".join(rng.choice(extra_modules) for _ in range(6))
            label, kind, message = f"one-off:{index}", "gha_log", f"RuntimeError: {words}"
            text = message
        else:
            label, kind, message_parts, text_parts, combo = groups[pick]
            message = _render(message_parts, rng, combo)
            text = _render(text_parts, rng, combo)
        occurrences.append(_occurrence(index, kind, message, text))
        labels.append(label)
    return occurrences, labels


def _occurrence(index: int, kind: str, message: str, text: str) -> ErrorOccurrence:
    return ErrorOccurrence(
        error_id=f"e{index}",
        partition=PARTITION,
        repo="acme/shop",
        workflow_name="ci",
        run_id=1_000 + index // 4,
        run_attempt=1,
        job_id=10_000 + index // 2,
        job_name="test",
        step_name="run",
        source_kind=kind,
        framework=kind,
        test_name="",
        file="",
        line=None,
        message=message,
        text=text,
        role="cause",
    )


@contextlib.contextmanager
def python_path() -> Iterator[None]:
    """The pure-Python fingerprinting path, for as long as the block runs."""
    before = os.environ.get("ERROR_ASSETS_NATIVE")
    os.environ["ERROR_ASSETS_NATIVE"] = "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["ERROR_ASSETS_NATIVE"]
        else:
            os.environ["ERROR_ASSETS_NATIVE"] = before


def fingerprinting_only(occurrences: list[ErrorOccurrence], workers: int) -> None:
    """Cause text + normaliser + hash alone, Python against the compiled engine, same keys."""
    from error_assets.fingerprinting.fingerprint import cause_key, fingerprint_keys

    keys = list(dict.fromkeys(cause_key(o) for o in occurrences))
    timings = {}
    runs = [("Python", 1, True), ("compiled, 1 thread", 1, False)]
    runs.append((f"compiled, {workers} threads", workers, False))
    for name, threads, python in runs:
        clear_line_cache()
        with python_path() if python else contextlib.nullcontext():
            fingerprint_keys(keys[:200], threads)  # warm up: engine, thread pool, lazy DFAs
            clear_line_cache()
            start, cpu = time.perf_counter(), cpu_seconds()
            values = fingerprint_keys(keys, threads)
            timings[name] = (time.perf_counter() - start, cpu_seconds() - cpu, values)
    reference = timings["Python"]
    print(f"\nfingerprinting alone, {len(keys):,} distinct keys (cause text, normaliser, hash):")
    for name, (seconds, cpu, values) in timings.items():
        same = "same fingerprints" if values == reference[2] else "DIFFERENT fingerprints"
        print(
            f"  {name:<22} {seconds / len(keys) * 1e6:6.1f} us/key wall, "
            f"{cpu / len(keys) * 1e6:6.1f} us/key cpu; {reference[0] / seconds:4.1f}x Python "
            f"(wall); {same}"
        )


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (immune to other users' load)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_ours(
    occurrences: list[ErrorOccurrence], workers: int
) -> tuple[float, float, list[str], int]:
    """Wall seconds, CPU seconds, cluster id per occurrence, number of clusters."""
    clear_line_cache()
    gc.collect()
    # Older versions of build_clusters (see --compare-baseline) take no workers.
    spread = (
        {"workers": workers} if "workers" in inspect.signature(build_clusters).parameters else {}
    )
    start, cpu = time.perf_counter(), cpu_seconds()
    # It fingerprints occurrences that hold none (by copies of the records up to 4e37cd3).
    clusters = build_clusters(occurrences, PARTITION, {}, **spread)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    assigned = {e: c.fingerprint for c in clusters for e in c.error_ids}
    return seconds, cpu, [assigned[o.error_id] for o in occurrences], len(clusters)


DRAIN_VARIANTS = (
    ("Drain3 default", False, 0.4),
    ("Drain3 + masks", True, 0.4),
    ("Drain3 + masks, sim 0.7", True, 0.7),
    # Drain3's most precise setting in `--drain-sweep`: the equal-precision comparison.
    ("Drain3 + masks, sim 0.99", True, 0.99),
)
# Settings fast enough to run over a million occurrences too (minutes, not hours): measured
# there, not extrapolated (see `--drain-all`).
DRAIN_ALL = ("Drain3 default", "Drain3 + masks")
# Similarity thresholds `--drain-sweep` tries, with masks and without.
SWEEP = (0.4, 0.7, 0.8, 0.9, 0.95, 0.99)


def repeat_default(occurrences: list[ErrorOccurrence], workers: int, rounds: int) -> None:
    """Ours and Drain3's default alternated `rounds` times over all occurrences. On a shared
    host one run's ratio swings with the neighbours' load (the VM sees no steal time), so the
    median of alternated rounds is the steadier verdict."""
    print(f"\nours and Drain3 default alternated {rounds} times over all {len(occurrences):,}:")
    walls, cpus = [], []
    for round_number in range(1, rounds + 1):
        seconds, cpu, _, _ = run_ours(occurrences, workers)
        drain_seconds, drain_cpu, _ = run_drain(occurrences, False, 0.4)
        walls.append(drain_seconds / seconds)
        cpus.append(drain_cpu / cpu)
        print(
            f"  round {round_number}: ours {seconds:.2f}s wall / {cpu:.2f}s cpu, Drain3 "
            f"{drain_seconds:.1f}s; {walls[-1]:.2f}x wall, {cpus[-1]:.2f}x cpu",
            flush=True,
        )
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    verdict = "met" if wall >= 10 else "NOT met"
    print(
        f"goal >= 10x Drain3's default speed, median of {rounds} alternated rounds: {wall:.2f}x "
        f"wall -> {verdict} ({cpu:.2f}x cpu)"
    )


def drain_sweep(occurrences: list[ErrorOccurrence], labels: list[str]) -> None:
    """Drain3's precision and speed over its similarity threshold, with and without masks."""
    print(f"\nDrain3 sweep on {len(occurrences):,} occurrences (ours: precision 1.0):")
    for masking in (False, True):
        for similarity in SWEEP:
            _, cpu, ids = run_drain(occurrences, masking, similarity)
            score = pairwise_scores(labels, ids)
            print(
                f"  masks={'yes' if masking else 'no ':<3} sim={similarity:<4} "
                f"{cpu / len(occurrences) * 1e6:8.1f} us/occ cpu  precision {score.precision:.4f}"
                f"  recall {score.recall:.4f}  clusters {len(set(ids)):,}"
            )


def drain_miner(masking: bool, similarity: float = 0.4):
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_sim_th = similarity
    if masking:  # the usual masks from Drain3's examples, written out here
        config.masking_instructions = [
            MaskingInstruction(
                r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
                "UUID",
            ),
            MaskingInstruction(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d+)?", "IP"),
            MaskingInstruction(r"0x[0-9a-fA-F]+", "HEX"),
            MaskingInstruction(r"\b[0-9a-f]{7,40}\b", "SHA"),
            MaskingInstruction(r"\d+", "NUM"),
        ]
    return TemplateMiner(config=config)


def drain_input(occurrence: ErrorOccurrence) -> str:
    """Drain3 mines one line: the message and text, newlines flattened."""
    return " ".join(f"{occurrence.message}\n{occurrence.text}".split())


def run_drain(
    occurrences: list[ErrorOccurrence], masking: bool, similarity: float
) -> tuple[float, float, list[str]]:
    """Wall seconds, CPU seconds and the cluster id per occurrence."""
    miner = drain_miner(masking, similarity)
    gc.collect()
    start, cpu = time.perf_counter(), cpu_seconds()
    ids = [miner.add_log_message(drain_input(o))["cluster_id"] for o in occurrences]
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return seconds, cpu, [str(i) for i in ids]


def peak_rss_mib() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def export_revision(revision: str, into: Path, path: str = "error_assets") -> Path:
    """`path` (the `error_assets` package) of git `revision`, unpacked under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, path],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(
            f"--compare-baseline {revision}: git archive failed: {archive.stderr.decode().strip()}"
        )
    tar_path = into / f"{path}.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


def build_engine(revision: str, into: Path) -> Path | None:
    """A directory holding the compiled engine of git `revision` built from its own `native/`
    (the installed one answers to this checkout's version only, and an older package would
    fall back to its Python path); None when that revision has no engine or cargo is missing.
    """
    cargo = shutil.which("cargo") or shutil.which("cargo", path=str(Path.home() / ".cargo/bin"))
    has_engine = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{revision}:native/Cargo.toml"],
        capture_output=True,
        check=False,
    )
    if has_engine.returncode != 0 or cargo is None:
        return None
    export_revision(revision, into, "native")
    # One target per revision, reused by later runs (cargo dates sources by git's commit time,
    # so another revision's build in one shared target could pass for fresh).
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = Path(tempfile.gettempdir()) / f"error-assets-baseline-engine-{commit}"
    built = subprocess.run(
        [
            cargo,
            "build",
            "--release",
            "--quiet",
            "--manifest-path",
            str(into / "native/Cargo.toml"),
        ],
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise SystemExit(
            f"--compare-baseline {revision}: its native/ did not build:\n{built.stderr}"
        )
    engine = into / "engine"
    engine.mkdir()
    # A top-level extension module: first on PYTHONPATH, it shadows the installed package.
    shutil.copy(
        target / "release/liberror_assets_native.so", engine / "error_assets_native.abi3.so"
    )
    return engine


def run_baseline(revision: str, args: argparse.Namespace) -> dict:
    """Ours at git `revision` (its own compiled engine built when it has one), in a subprocess
    on the same generated occurrences."""
    with tempfile.TemporaryDirectory(prefix="cluster-scale-baseline-") as tmp:
        package = export_revision(revision, Path(tmp))
        engine = build_engine(revision, Path(tmp))
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--ours-only",
            f"--occurrences={args.occurrences}",
            f"--modules={args.modules}",
            f"--workers={args.workers}",
            f"--seed={args.seed}",
        ]
        env = {**os.environ, _PACKAGE_ENV: str(package)}
        if engine is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(engine), env.get("PYTHONPATH")]))
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"baseline {revision} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ours_only(args: argparse.Namespace) -> int:
    """The full run of ours only, as one JSON line (what `--compare-baseline` reads)."""
    import error_assets

    occurrences, labels = generate(args.occurrences, args.modules, args.seed)
    seconds, cpu, ids, clusters = run_ours(occurrences, workers=args.workers)
    score = pairwise_scores(labels, ids)
    result = {
        "package": str(Path(error_assets.__file__).parent),
        "seconds": seconds,
        "cpu": cpu,
        "clusters": clusters,
        "precision": score.precision,
        "recall": score.recall,
        "peak_rss_mib": peak_rss_mib()[0],
        "engine": (
            f"compiled engine v{native.ENGINE_VERSION}"
            if native is not None and native.engine() is not None
            else "Python only"
        ),
    }
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--modules", type=int, default=300, help="synthetic modules per family")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain-sample", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="100,000 occurrences, smaller sample")
    parser.add_argument(
        "--compare-baseline",
        metavar="REF",
        help="also time the package of this git revision, right after ours, same occurrences",
    )
    parser.add_argument(
        "--drain-sweep",
        action="store_true",
        help="also print Drain3's precision and speed over its similarity threshold (minutes)",
    )
    parser.add_argument(
        "--drain-all",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"also run {' and '.join(DRAIN_ALL)} over all occurrences (default: yes)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="also alternate ours and Drain3's default N times (N >= 2) over all occurrences "
        "and print the median ratio (about 100 s per round at a million)",
    )
    parser.add_argument("--ours-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.occurrences, args.drain_sample = 100_000, 10_000
    if args.ours_only:
        return ours_only(args)

    start = time.perf_counter()
    occurrences, labels = generate(args.occurrences, args.modules, args.seed)
    print(
        f"generated {len(occurrences):,} occurrences of {len(set(labels)):,} failures "
        f"in {time.perf_counter() - start:.1f}s (not timed below)"
    )
    try:
        import drain3  # noqa: F401
    except ImportError:
        drain_available = False
        print("drain3 is not installed (pip install drain3): Drain3 columns skipped")
    else:
        drain_available = True

    sample = min(args.drain_sample, len(occurrences))
    rows = []
    compiled = native is not None and native.engine() is not None
    engine = "compiled engine" if compiled else "Python only"
    print(f"fingerprinting path: {engine} (ERROR_ASSETS_NATIVE=0 turns the engine off)")
    # Side by side on the sample: ours (1 process) and Drain3, same occurrences, same run.
    ours_seconds, ours_cpu, ours_ids, _ = run_ours(occurrences[:sample], workers=1)
    score = pairwise_scores(labels[:sample], ours_ids)
    rows.append((f"ours, 1 process ({engine})", sample, ours_seconds, ours_cpu, score))
    if compiled:  # and the Python path, for the engine's own ratio
        with python_path():
            seconds, cpu, ids, _ = run_ours(occurrences[:sample], workers=1)
        same = "same clusters" if ids == ours_ids else "DIFFERENT clusters"
        rows.append((f"ours, 1 process (Python only, {same})", sample, seconds, cpu, score))
    drain_rows = []
    if drain_available:
        for name, masking, similarity in DRAIN_VARIANTS:
            seconds, cpu, ids = run_drain(occurrences[:sample], masking, similarity)
            score = pairwise_scores(labels[:sample], ids)
            rows.append((name, sample, seconds, cpu, score))
            drain_rows.append((name, seconds / sample, cpu / sample, score, sample))

    if drain_available and args.drain_sweep:
        drain_sweep(occurrences[:sample], labels[:sample])
    if compiled:
        fingerprinting_only(occurrences[:sample], args.workers)
    full_seconds, full_cpu, full_ids, clusters = run_ours(occurrences, workers=args.workers)
    full_score = pairwise_scores(labels, full_ids)
    own_rss, child_rss = peak_rss_mib()
    name = f"ours, {args.workers} workers (all)"
    rows.append((name, len(occurrences), full_seconds, full_cpu, full_score))
    if drain_available and args.drain_all and sample < len(occurrences):
        # Right after ours, same occurrences: the ratio at full size, measured.
        for at, (name, _, cpu_per_item, _, _) in enumerate(drain_rows):
            if name not in DRAIN_ALL:
                continue
            masking, similarity = next((m, s) for n, m, s in DRAIN_VARIANTS if n == name)
            seconds, cpu, ids = run_drain(occurrences, masking, similarity)
            score = pairwise_scores(labels, ids)
            rows.append((f"{name} (all)", len(occurrences), seconds, cpu, score))
            count = len(occurrences)
            drain_rows[at] = (name, seconds / count, cpu / count, score, count)
            print(
                f"{name}: {cpu_per_item * 1e6:.1f} us/occ cpu on {sample:,}, "
                f"{cpu / count * 1e6:.1f} on all {count:,}"
            )
    baseline = None
    if args.compare_baseline:
        baseline = run_baseline(args.compare_baseline, args)
        rows.append(
            (
                f"{args.compare_baseline}, {args.workers} workers (all, {baseline['engine']})",
                len(occurrences),
                baseline["seconds"],
                baseline["cpu"],
                type(full_score)(
                    baseline["precision"], baseline["recall"], 0, 0, 0
                ),  # only the rates are printed
            )
        )

    print(
        f"\n{'method':<46} {'occurrences':>11} {'wall s':>8} {'cpu s':>8} {'occ/s':>9} "
        f"{'us/occ cpu':>10} {'precision':>9} {'recall':>7}"
    )
    for name, count, seconds, cpu, score in rows:
        print(
            f"{name:<46} {count:>11,} {seconds:>8.2f} {cpu:>8.2f} {count / seconds:>9,.0f} "
            f"{cpu / count * 1e6:>10.1f} {score.precision:>9.4f} {score.recall:>7.4f}"
        )
    print(
        f"\nall: {len(occurrences):,} occurrences -> {clusters:,} clusters in {full_seconds:.1f}s "
        f"wall / {full_cpu:.1f}s cpu ({len(occurrences) / full_seconds:,.0f} occ/s); "
        f"peak RSS {own_rss:,.0f} MiB (main), {child_rss:,.0f} MiB (largest worker); "
        f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"goal < 60 s wall for all of them: {'met' if full_seconds < 60 else 'NOT met'}")
    if baseline is not None:
        same = baseline["clusters"] == clusters and baseline["precision"] == full_score.precision
        print(
            f"baseline {args.compare_baseline} ({baseline['package']}, "
            f"{baseline['engine']}), run right after ours: "
            f"{baseline['seconds']:.1f}s wall / {baseline['cpu']:.1f}s cpu, "
            f"{baseline['clusters']:,} clusters; speed-up {baseline['seconds'] / full_seconds:.2f}x "
            f"wall, {baseline['cpu'] / full_cpu:.2f}x cpu; "
            f"{'same' if same else 'DIFFERENT'} clusters count and precision"
        )
    for name, per_item, cpu_per_item, score, measured in drain_rows:
        estimate = per_item * len(occurrences)
        how = (
            f"measured on all {measured:,}"
            if measured == len(occurrences)
            else f"measured on {measured:,}, extrapolated linearly to {len(occurrences):,}"
        )
        print(
            f"{name}: {how}: {estimate:,.0f}s wall, {cpu_per_item * len(occurrences):,.0f}s cpu; "
            f"speed ratio ours/Drain3 = {estimate / full_seconds:.2f}x wall and "
            f"{cpu_per_item * len(occurrences) / full_cpu:.2f}x cpu (all, ours on "
            f"{args.workers} workers, Drain3 on one: it has no parallel mode); precision "
            f"{full_score.precision:.4f} (ours) vs {score.precision:.4f}"
        )
    if drain_rows:
        speed_goal(drain_rows, len(occurrences), full_seconds, full_cpu, full_score.precision)
    if drain_available and args.repeat > 1:
        repeat_default(occurrences, args.workers, args.repeat)
    return 0


def speed_goal(
    drain_rows: list, count: int, full_seconds: float, full_cpu: float, precision: float
) -> None:
    """The goal "at least 10x Drain3's speed at equal or better precision", both ways round:
    against the Drain3 setting that comes closest to our precision (the iso-precision
    comparison), and against its fastest, far less precise default."""
    comparable = [row for row in drain_rows if row[3].precision <= precision]
    closest = max(comparable, key=lambda row: row[3].precision, default=None)
    default = drain_rows[0]
    for label, row in (("closest in precision", closest), ("fastest (default)", default)):
        if row is None:
            continue
        name, per_item, cpu_per_item, score, measured = row
        ratio = per_item * count / full_seconds
        verdict = "met" if ratio >= 10 and score.precision <= precision else "NOT met"
        how = "measured" if measured == count else "extrapolated from a sample"
        print(
            f"goal >= 10x Drain3's speed at equal or better precision, against Drain3 {label} "
            f"({name}, {how}: precision {score.precision:.4f}, ours {precision:.4f}): "
            f"{ratio:.1f}x wall -> {verdict} ({cpu_per_item * count / full_cpu:.1f}x cpu)"
        )


if __name__ == "__main__":
    sys.exit(main())
