"""`error-assets cluster`: fingerprint and cluster error occurrences given as JSON lines.

Input: one JSON object per line (the output of `extract`). `error_id` and `text` are
required; `message`, `source_kind`, `test_name`, `job_id` (and any other occurrence field)
are used when present. Output: one JSON line per cluster, largest first, with `cluster_id`,
`representative`, `normalized_text`, `count` and `member_error_ids`.

A bad line is reported on stderr with its file and line number and skipped; the exit status
is then 1, but the other lines are still clustered.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import IO, Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="JSON lines of occurrences, or - for stdin")
    parser.add_argument("--output", default="-", help="where to write clusters (default: stdout)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="threads (compiled engine) or processes for large inputs (default: all cores)",
    )
    parser.add_argument(
        "--partition",
        default="",
        help="hourly partition key (2026-11-28-03:00) the occurrences belong to (optional)",
    )


_INT_FIELDS = ("run_id", "run_attempt", "job_id", "rank", "line")
_STR_FIELDS = (
    "partition",
    "repo",
    "workflow_name",
    "job_name",
    "step_name",
    "source_kind",
    "framework",
    "test_name",
    "file",
    "message",
    "role",
    "source_path",
)


def occurrence_from_json(row: Any) -> Any:
    """An ErrorOccurrence from one input object; ValueError says what is wrong with it."""
    from error_assets.models import ErrorOccurrence

    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    for required in ("error_id", "text"):
        if not isinstance(row.get(required), str) or (required == "error_id" and not row[required]):
            raise ValueError(f"'{required}' is required and must be a string")
    values: dict[str, Any] = {"error_id": row["error_id"], "text": row["text"]}
    for name in _STR_FIELDS:
        value = row.get(name)
        values[name] = "" if value is None else str(value)
    for name in _INT_FIELDS:
        value = row.get(name)
        if value in (None, ""):
            values[name] = None if name == "line" else 0
            continue
        try:
            values[name] = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"'{name}' must be an integer, got {value!r}") from None
    values["role"] = values["role"] or "cause"
    return ErrorOccurrence(**values)


def _read(stream: IO[str], name: str) -> tuple[list[Any], list[str]]:
    occurrences, problems = [], []
    seen: set[str] = set()
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            occurrence = occurrence_from_json(json.loads(line))
        except (json.JSONDecodeError, ValueError) as error:
            problems.append(f"{name}:{number}: {error}")
            continue
        if occurrence.error_id in seen:
            problems.append(f"{name}:{number}: duplicate error_id {occurrence.error_id!r}")
            continue
        seen.add(occurrence.error_id)
        occurrences.append(occurrence)
    return occurrences, problems


def cluster_row(cluster: Any, by_id: dict[str, Any]) -> dict[str, Any]:
    """The output object of one cluster."""
    from error_assets.fingerprinting.clustering import representative_order

    representative = by_id[min(cluster.error_ids, key=lambda e: representative_order(by_id[e]))]
    return {
        "cluster_id": cluster.fingerprint,
        "representative": {
            "error_id": representative.error_id,
            "message": representative.message,
            "text": representative.text,
            "source_kind": representative.source_kind,
            "test_name": representative.test_name,
            "job_id": representative.job_id,
        },
        "normalized_text": cluster.normalized_text,
        "count": cluster.occurrences,
        "member_error_ids": list(cluster.error_ids),
        "member_fingerprints": list(cluster.member_fingerprints),
        "source_kind": cluster.source_kind,
        "normalizer_version": cluster.normalizer_version,
    }


def run(args: argparse.Namespace) -> int:
    from error_assets.fingerprinting import build_clusters

    try:
        if args.input == "-":
            occurrences, problems = _read(sys.stdin, "<stdin>")
        else:
            with open(args.input, encoding="utf-8") as stream:
                occurrences, problems = _read(stream, args.input)
    except (OSError, UnicodeDecodeError) as error:
        print(f"error-assets cluster: cannot read {args.input}: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"error-assets cluster: skipped {problem}", file=sys.stderr)
    try:
        workers = max(args.workers, 1)
        clusters = build_clusters(occurrences, args.partition, {}, workers=workers)
    except ValueError as error:
        print(f"error-assets cluster: {error}", file=sys.stderr)
        return 2
    by_id = {o.error_id: o for o in occurrences}
    lines = [json.dumps(cluster_row(c, by_id), ensure_ascii=False) + "\n" for c in clusters]
    if args.output == "-":
        sys.stdout.writelines(lines)
        sys.stdout.flush()
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as stream:
                stream.writelines(lines)
        except OSError as error:
            print(f"error-assets cluster: cannot write {args.output}: {error}", file=sys.stderr)
            return 2
    print(
        f"error-assets cluster: {len(occurrences)} occurrence(s) -> {len(clusters)} cluster(s)",
        file=sys.stderr,
    )
    return 1 if problems else 0
