"""`error-assets classify`: classify JSON lines of errors (rules, cache, Claude, offline model).

Each input line is a JSON object with at least `text`; `error_id`, `source_kind`,
`test_name`, `step_name` and `message` are used when present. One JSON line is written per
input line, in the same order. A line that cannot be read gets an output line with an
`error` naming the file and line, and the others are still classified.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import IO, Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="JSON lines file, or - for standard input")
    parser.add_argument("--output", default="-", help="JSON lines file, or - (default)")
    parser.add_argument(
        "--offline", action="store_true", help="never touch the network, even with a key set"
    )
    parser.add_argument(
        "--mode", choices=("auto", "interactive", "batch"), default="auto", help="LLM mode"
    )
    parser.add_argument("--labels", type=Path, help="human overrides file (YAML or JSON lines)")
    parser.add_argument(
        "--no-cache", action="store_true", help="do not read cached verdicts from the store"
    )
    parser.add_argument("--stats", action="store_true", help="print run statistics to stderr")


def _read_lines(stream: IO[str], name: str) -> list[tuple[dict[str, Any] | None, str]]:
    """(record, problem) per non-empty line; problem names the file and line."""
    rows: list[tuple[dict[str, Any] | None, str]] = []
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append((None, f"{name}:{number}: not valid JSON ({exc.msg})"))
            continue
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            rows.append((None, f"{name}:{number}: expected an object with a string 'text'"))
            continue
        rows.append((value, ""))
    return rows


def run(args: argparse.Namespace) -> int:
    from error_assets.classification import (
        ClassificationInput,
        Classifier,
        ClassifierConfig,
        input_key,
    )
    from error_assets.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"error-assets classify: {exc}", file=sys.stderr)
        return 2
    name = "<stdin>" if args.input == "-" else args.input
    try:
        if args.input == "-":
            rows = _read_lines(sys.stdin, name)
        else:
            with open(args.input, encoding="utf-8") as handle:
                rows = _read_lines(handle, name)
    except OSError as exc:
        print(f"error-assets classify: cannot read {name}: {exc.strerror}", file=sys.stderr)
        return 2

    config = ClassifierConfig.from_settings(settings, offline=args.offline)
    if args.labels is not None:
        if not args.labels.is_file():
            print(f"error-assets classify: labels file {args.labels} not found", file=sys.stderr)
            return 2
        config = _replace(config, labels_path=args.labels)
    store = None
    if not args.no_cache and settings.store_path.is_file() and not settings.opensearch_enabled:
        from error_assets.stores.local_store import LocalStore

        store = LocalStore(settings.store_path)
    try:
        classifier = Classifier(config, store)
    except ValueError as exc:
        print(f"error-assets classify: {exc}", file=sys.stderr)
        return 2
    for problem in classifier.labels.problems:
        print(f"error-assets classify: skipped label: {problem}", file=sys.stderr)

    items = [
        ClassificationInput(
            key=input_key(row["text"], str(row.get("error_id") or "") or None),
            text=row["text"],
            message=str(row.get("message") or ""),
            source_kind=str(row.get("source_kind") or ""),
            test_name=str(row.get("test_name") or ""),
            step_name=str(row.get("step_name") or ""),
        )
        for row, _ in rows
        if row is not None
    ]
    try:
        result = classifier.classify_inputs(items, mode=args.mode)
    finally:
        if store is not None:
            store.close()
    verdicts = iter(result.classifications)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    failed = 0
    try:
        for row, problem in rows:
            if row is None:
                failed += 1
                out.write(json.dumps({"error": problem}) + "\n")
                print(f"error-assets classify: {problem}", file=sys.stderr)
                continue
            verdict = next(verdicts)
            record = {
                "error_id": row.get("error_id") or verdict.fingerprint,
                "category": verdict.category,
                "confidence": verdict.confidence,
                "classifier": verdict.classifier,
                "root_cause_summary": verdict.root_cause_summary,
                "evidence_line": verdict.evidence_line,
                "flags": list(verdict.flags),
                "cost_usd": verdict.cost_usd,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.stats:
        print(json.dumps(result.stats, default=str), file=sys.stderr)
    return 1 if failed and not items else 0


def _replace(config: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(config, **changes)
