"""On-disk state of Message Batches, so a crash never makes us pay twice.

* `batches/<batch id>.json` is written right after a batch is created: its id and which
  custom_id stands for which classification key. A later run that needs the same requests
  (same model, prompt version, key and text, hence the same custom_id) resumes that batch
  instead of creating a new one.
* `answers/<custom id>.json` keeps every paid answer until it is older than
  `ANSWER_RETENTION_S`, so a crash between fetching results and storing them costs nothing
  either.

Files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANSWER_RETENTION_S = 7 * 24 * 3600


@dataclass
class PendingBatch:
    batch_id: str
    model: str
    prompt_version: str
    created_at: float
    requests: dict[str, str] = field(default_factory=dict)  # custom_id -> key


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(value, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


class BatchStateStore:
    """Pending batches and paid answers under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._batches = directory / "batches"
        self._answers = directory / "answers"

    # -- batches ----------------------------------------------------------------------------

    def save_batch(self, batch: PendingBatch) -> None:
        _write_json(self._batches / f"{batch.batch_id}.json", batch.__dict__)

    def pending_batches(self, model: str, prompt_version: str) -> list[PendingBatch]:
        found = []
        if not self._batches.is_dir():
            return found
        for path in sorted(self._batches.glob("*.json")):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                batch = PendingBatch(**raw)
            except (OSError, ValueError, TypeError):
                continue  # a damaged state file only loses the chance to resume
            if batch.model == model and batch.prompt_version == prompt_version:
                found.append(batch)
        return found

    def forget_batch(self, batch_id: str) -> None:
        (self._batches / f"{batch_id}.json").unlink(missing_ok=True)

    # -- answers ----------------------------------------------------------------------------

    def save_answer(self, custom_id: str, answer: dict[str, Any]) -> None:
        _write_json(self._answers / f"{custom_id}.json", {"saved_at": time.time(), **answer})

    def answer(self, custom_id: str) -> dict[str, Any] | None:
        path = self._answers / f"{custom_id}.json"
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if time.time() - float(value.get("saved_at", 0)) > ANSWER_RETENTION_S:
            path.unlink(missing_ok=True)
            return None
        return value

    def prune(self) -> None:
        """Drop answers past their retention."""
        if not self._answers.is_dir():
            return
        cutoff = time.time() - ANSWER_RETENTION_S
        for path in self._answers.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue
