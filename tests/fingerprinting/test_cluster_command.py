"""`error-assets cluster`: JSON lines in, one JSON line per cluster out; bad lines named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from error_assets.cli import main

LINES = [
    {
        "error_id": "e1",
        "text": "Error: lease 123e4567-e89b-12d3-a456-426614174000 lost",
        "job_id": 7,
    },
    {
        "error_id": "e2",
        "text": "Error: lease 9b2f7c1e-0d4a-4e8b-9c3f-1a2b3c4d5e6f lost",
        "job_id": 8,
    },
    {
        "error_id": "e3",
        "text": "Traceback...\nKeyError: 'user'",
        "message": "KeyError: 'user'",
        "source_kind": "pytest",
        "test_name": "tests/test_a.py::test_user",
    },
]


def test_cluster_command_from_file_to_file(tmp_path: Path, capsys) -> None:
    source = tmp_path / "occurrences.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in LINES), encoding="utf-8")
    target = tmp_path / "clusters.jsonl"
    assert main(["cluster", "--input", str(source), "--output", str(target)]) == 0
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["count"] for row in rows] == [2, 1]
    first, second = rows
    assert first["member_error_ids"] == ["e1", "e2"]
    assert first["normalized_text"] == "Error: lease <uuid> lost"
    assert first["representative"]["error_id"] == "e1"
    assert first["representative"]["job_id"] == 7
    assert len(first["cluster_id"]) == 16
    assert second["representative"]["test_name"] == "tests/test_a.py::test_user"
    assert second["source_kind"] == "pytest"
    assert "3 occurrence(s) -> 2 cluster(s)" in capsys.readouterr().err


def test_cluster_command_stdin_stdout_and_bad_lines_named() -> None:
    lines = [
        json.dumps(LINES[0]),
        "{not json",
        json.dumps({"text": "no id"}),
        json.dumps({"error_id": "e9", "text": "x", "job_id": "seven"}),
        json.dumps(LINES[1]),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "error_assets.cli", "cluster", "--input", "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "<stdin>:2:" in result.stderr
    assert "<stdin>:3: 'error_id' is required" in result.stderr
    assert "<stdin>:4: 'job_id' must be an integer" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["member_error_ids"] for row in rows] == [["e1", "e2"]]


def test_cluster_command_missing_input_file(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.jsonl"
    assert main(["cluster", "--input", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err
