"""Bad input: each file gets a clear reason, nothing hangs or crashes, the rest is extracted.

All hostile files are generated here (never stored in the repository).
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest

from error_assets.extraction import extract_file, extract_job
from error_assets.models import CIJob
from error_assets.sources.raw_store import RawStore

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuites><testsuite name="s"><testcase name="t"><failure message="&lol9;"/></testcase></testsuite></testsuites>
"""

GOOD_LOG = b"2026-11-27T10:00:00.0000000Z ##[group]Run pytest\n" + (
    b"2026-11-27T10:00:01.0000000Z E   AssertionError: assert 2 == 3\n"
    b"2026-11-27T10:00:02.0000000Z ##[error]Process completed with exit code 1.\n"
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_external_entity_is_never_resolved(tmp_path: Path) -> None:
    secret = _write(tmp_path, "secret.txt", b"TOP-SECRET-VALUE\n")
    xxe = (
        b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY x SYSTEM "file://'
        + str(secret).encode()
        + b'">]>\n<testsuite><testcase name="t"><failure message="&x;"/></testcase></testsuite>\n'
    )
    result = extract_file(_write(tmp_path, "xxe.xml", xxe))
    assert result.findings == []
    assert result.problems and "entit" in result.problems[0]
    assert all("TOP-SECRET" not in p for p in result.problems)


def test_truncated_xml_names_the_position(tmp_path: Path) -> None:
    data = b'<testsuite name="s"><testcase name="a"><failure message="boom"/></testcase><testcase name="b">'
    result = extract_file(_write(tmp_path, "cut.xml", data), "junit")
    assert [f.message for f in result.findings] == ["boom"]
    assert result.problems[0].startswith("truncated XML at line 1")


def test_xml_that_is_not_junit(tmp_path: Path) -> None:
    result = extract_file(
        _write(tmp_path, "pom.xml", b'<?xml version="1.0"?><project><a/></project>')
    )
    assert result.problems == ["not a JUnit report: the root element is <project>"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.log", b"", "empty file"),
        ("blank.log", b"\n \n\t\n", "file holds only whitespace"),
        ("binary.log", bytes(range(256)) * 64, "binary content"),
        ("image.log", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "is a PNG image"),
        ("utf16.log", "##[error]boom\n".encode("utf-16"), "UTF-16"),
        ("bomb.xml", BILLION_LAUGHS, "declares entities"),  # refused without expansion
    ],
)
def test_unreadable_files_get_a_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    result = extract_file(_write(tmp_path, name, data))
    assert result.findings == []
    assert len(result.problems) == 1
    assert reason in result.problems[0]


def test_zip_where_a_log_was_expected(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("1_build.txt", GOOD_LOG)
    result = extract_file(_write(tmp_path, "job.log", buffer.getvalue()), "gha-log")
    assert result.findings == []
    assert result.problems == ["is a zip archive, not a text file"]


def test_gzip_log_is_read_transparently(tmp_path: Path) -> None:
    result = extract_file(_write(tmp_path, "job.log.gz", gzip.compress(GOOD_LOG)))
    assert result.problems == []
    assert result.findings[0].message == "AssertionError: assert 2 == 3"


def test_missing_file(tmp_path: Path) -> None:
    assert extract_file(tmp_path / "nope.log").problems == ["file not found"]


def test_invalid_utf8_is_read_with_replacement_and_reported(tmp_path: Path) -> None:
    data = b"build output \xff\xfe\xfa caf\xe9\n" + b"error: linker `cc` not found \xc3\x28\n"
    result = extract_file(_write(tmp_path, "latin.log", data))
    assert [f.message for f in result.findings] == ["error: linker `cc` not found \ufffd("]
    assert len(result.problems) == 1
    assert "not valid UTF-8 (first bad byte at offset 13)" in result.problems[0]


def test_a_single_100_mb_line_is_cut_and_the_rest_still_read(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    with path.open("wb") as handle:
        handle.write(b"error: first line\n")
        chunk = b"x" * (1 << 20)
        for _ in range(100):
            handle.write(chunk)
        handle.write(b" error: hidden at the end of the long line\n")
        handle.write(b"fatal: after the long line\n")
    result = extract_file(path)
    messages = [f.message for f in result.findings]
    assert messages == ["error: first line", "fatal: after the long line"]
    assert result.findings[1].position == 3
    assert result.problems == [
        "1 line longer than 1 MiB (first: line 2); only the first MiB of each was read"
    ]


def test_annotations_that_are_not_json(tmp_path: Path) -> None:
    result = extract_file(_write(tmp_path, "a.json", b"[{not json"), "annotations")
    assert result.problems and result.problems[0].startswith("invalid JSON")
    bad_items = extract_file(
        _write(tmp_path, "b.json", b'[1, {"annotation_level": "failure", "message": "boom"}]'),
        "annotations",
    )
    assert [f.message for f in bad_items.findings] == ["boom"]
    assert bad_items.problems == ["annotation 1: expected an object, found int"]


def test_one_bad_file_never_sinks_the_rest_of_the_job(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    job = CIJob(
        repo="acme/shop",
        workflow_name="ci",
        run_id=7,
        run_attempt=1,
        job_id=70,
        job_name="test",
        conclusion="failure",
        started_at=None,
        completed_at="2026-11-27T10:00:05Z",
        log_ref="acme/shop/7/1/70/log.txt",
        junit_refs=(
            "acme/shop/7/1/70/bomb.xml",
            "acme/shop/7/1/70/missing.xml",
            "acme/shop/7/1/70/ok.xml",
        ),
        annotations_ref="acme/shop/7/1/70/annotations.json",
        partition="2026-11-27-10:00",
    )
    store.put_bytes(job.log_ref, b"PK\x03\x04 not a log")
    store.put_bytes(job.junit_refs[0], BILLION_LAUGHS)
    store.put_bytes(
        job.junit_refs[2],
        b'<testsuite><testcase classname="t" name="x"><failure message="AssertionError: 1 != 2"/></testcase></testsuite>',
    )
    store.put_bytes(job.annotations_ref, b"{broken")
    extraction = extract_job(job, store)
    assert [o.message for o in extraction.occurrences] == ["AssertionError: 1 != 2"]
    reasons = {p.path: p.reason for p in extraction.problems}
    assert set(reasons) == {job.log_ref, job.junit_refs[0], job.junit_refs[1], job.annotations_ref}
    assert reasons[job.junit_refs[1]] == "file not found"
    assert all(p.job_key == job.key for p in extraction.problems)
