"""`error-assets extract` end to end, and `extract_job` over a raw store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from error_assets.extraction import extract_job
from error_assets.models import CIJob, ErrorOccurrence, columns
from error_assets.sources.raw_store import RawStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "extraction"
SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "error_assets.cli", "extract", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_writes_json_lines_in_rank_order_and_reports_bad_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<testsuite><testcase name='a'>")
    done = _cli(
        str(FIXTURES / "gha_make_oom_kill.log"),
        str(broken),
        str(FIXTURES / "buildkit_pip_missing_version.log"),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert f"{broken}: truncated XML at line 1" in done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert set(rows[0]) == set(columns(ErrorOccurrence))
    files = [Path(r["source_path"]).name for r in rows]
    assert files == sorted(
        files, key=["gha_make_oom_kill.log", "buildkit_pip_missing_version.log"].index
    )
    for name in ("gha_make_oom_kill.log", "buildkit_pip_missing_version.log"):
        ranks = [r["rank"] for r in rows if r["source_path"].endswith(name)]
        assert ranks == list(range(len(ranks)))
    assert rows[0]["message"] == "g++: fatal error: Killed signal terminated program cc1plus"


def test_cli_kind_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = _cli(
        "--kind",
        "annotations",
        "--output",
        str(out),
        str(FIXTURES / "annotations_job.json"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["source_kind"] for r in rows] == ["gha_annotation", "gha_annotation"]
    assert rows[0]["file"] == "src/parser.c" and rows[0]["line"] == 88


def _job(store: RawStore) -> CIJob:
    refs = {
        name: store.ref("acme/shop", 42, 2, 4242, name)
        for name in ("log.txt", "report.xml", "bk.log", "ann.json")
    }
    log = (FIXTURES / "gha_pytest_import_error_then_connection_refused.log").read_bytes()
    log = log.replace(
        b"shell: /usr/bin/bash -e {0}",
        b"shell: /usr/bin/bash -e {0}\n2026-11-27T10:00:03.2500000Z fatal: token "
        + SECRET.encode()
        + b" rejected",
    )
    store.put_bytes(refs["log.txt"], log)
    store.put_bytes(
        refs["report.xml"],
        b'<testsuites><testsuite name="pytest"><testcase classname="tests.integration.test_checkout" name="test_checkout">'
        b'<failure message="requests.exceptions.ConnectionError: Connection refused">trace</failure></testcase></testsuite></testsuites>',
    )
    store.put_file(refs["bk.log"], FIXTURES / "buildkit_pip_missing_version.log")
    store.put_file(refs["ann.json"], FIXTURES / "annotations_job.json")
    return CIJob(
        repo="acme/shop",
        workflow_name="ci",
        run_id=42,
        run_attempt=2,
        job_id=4242,
        job_name="integration",
        conclusion="failure",
        started_at="2026-11-27T09:59:00Z",
        completed_at="2026-11-27T10:00:12Z",
        log_ref=refs["log.txt"],
        junit_refs=(refs["report.xml"],),
        buildkit_refs=(refs["bk.log"],),
        annotations_ref=refs["ann.json"],
        partition="2026-11-27-10:00",
    )


def test_extract_job_fills_job_fields_redacts_and_is_deterministic(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    job = _job(store)
    first = extract_job(job, store, max_per_job=6, max_text_chars=500)
    again = extract_job(job, store, max_per_job=6, max_text_chars=500)
    assert first.problems == []
    assert first.occurrences == again.occurrences
    occurrences = first.occurrences
    assert len(occurrences) == 6
    assert [o.rank for o in occurrences] == list(range(6))
    assert len({o.error_id for o in occurrences}) == 6
    for o in occurrences:
        assert (o.repo, o.run_id, o.run_attempt, o.job_id, o.job_name, o.workflow_name) == (
            "acme/shop",
            42,
            2,
            4242,
            "integration",
            "ci",
        )
        assert o.partition == "2026-11-27-10:00"
        assert o.fingerprint == ""
        assert len(o.text) <= 500
        assert SECRET not in o.text and SECRET not in o.message
    messages = [o.message for o in occurrences]
    assert any("[REDACTED" in m for m in messages)  # the fatal: line kept, its token masked
    # The JUnit failure, the pytest E line and the summary line are one error of one test.
    assert sum("Connection refused" in m for m in messages) == 1
    assert {o.source_kind for o in occurrences} >= {"buildkit", "gha_log"}
