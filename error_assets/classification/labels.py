"""Human overrides: a labels file that wins over every classifier and feeds the prompt.

The file is YAML (a list, or a mapping with a `labels` list) or JSON lines; each entry has a
`category` and either a `fingerprint` (exact cluster key) or a `pattern` (a regex searched in
the error text), plus optional `summary`, `example` (text for the prompt's worked examples)
and `note`:

    - fingerprint: 3f2a9c0d1e4b5a6f
      category: infrastructure_error
      summary: Runner pool gpu-a10 had a broken driver that week.
    - pattern: "ghrc\\.io/"
      category: code_error
      summary: Misspelled registry host in the Dockerfile.

A malformed entry is reported with the file and line/entry number and skipped; the others
still apply.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from error_assets.taxonomy import category as taxonomy_category
from error_assets.taxonomy import is_category


@dataclass(frozen=True, slots=True)
class HumanLabel:
    category: str
    fingerprint: str = ""
    pattern: re.Pattern[str] | None = None
    summary: str = ""
    example: str = ""
    source: str = ""  # "<file>:<entry>" or "store"

    def matches(self, key: str, text: str) -> bool:
        if self.fingerprint:
            return self.fingerprint == key
        return bool(self.pattern and self.pattern.search(text))


@dataclass(frozen=True, slots=True)
class LabelsFile:
    labels: tuple[HumanLabel, ...]
    problems: tuple[str, ...]

    def find(self, key: str, text: str) -> HumanLabel | None:
        """Fingerprint labels first (the most specific), then patterns in file order."""
        for label in self.labels:
            if label.fingerprint and label.matches(key, text):
                return label
        for label in self.labels:
            if label.pattern is not None and label.matches(key, text):
                return label
        return None


def _entries(path: Path) -> list[tuple[str, object]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".ndjson"):
        entries: list[tuple[str, object]] = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entries.append((f"{path}:{number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                entries.append((f"{path}:{number}", f"not valid JSON: {exc.msg}"))
        return entries
    data = yaml.safe_load(text) or []
    if isinstance(data, dict):
        data = data.get("labels", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of labels (or a mapping with 'labels')")
    return [(f"{path}: entry {i}", entry) for i, entry in enumerate(data, 1)]


def load_labels(path: Path | None) -> LabelsFile:
    """The labels of `path` (none when it is None). Raises ValueError if the file is unreadable."""
    if path is None:
        return LabelsFile((), ())
    try:
        entries = _entries(path)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the labels file: {exc}") from None
    labels: list[HumanLabel] = []
    problems: list[str] = []
    for where, entry in entries:
        if isinstance(entry, str):
            problems.append(f"{where}: {entry}")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        name = entry.get("category")
        if not is_category(name):
            try:
                taxonomy_category(str(name))
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
            continue
        fingerprint = str(entry.get("fingerprint") or "").strip()
        pattern_text = entry.get("pattern")
        if bool(fingerprint) == bool(pattern_text):
            problems.append(f"{where}: give exactly one of 'fingerprint' or 'pattern'")
            continue
        pattern = None
        if pattern_text:
            try:
                pattern = re.compile(str(pattern_text), re.IGNORECASE)
            except re.error as exc:
                problems.append(f"{where}: invalid pattern {pattern_text!r}: {exc}")
                continue
        labels.append(
            HumanLabel(
                category=str(name),
                fingerprint=fingerprint,
                pattern=pattern,
                summary=str(entry.get("summary") or entry.get("note") or "").strip(),
                example=str(entry.get("example") or "").strip(),
                source=where,
            )
        )
    return LabelsFile(tuple(labels), tuple(problems))
