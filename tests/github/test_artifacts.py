"""Artifact zips are hostile input: traversal, symlinks, bombs and member floods are refused."""

from __future__ import annotations

import io
import stat
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from error_assets.sources.github_artifacts import (
    UnsafeArchiveError,
    ZipLimits,
    is_report_artifact,
    read_report_members,
    safe_member_name,
)
from tests.github.scenario import HOUR, job, make_source, run
from tests.support.fake_github import FakeArtifact, FakeGitHub, junit_xml, make_zip

REPORT = junit_xml("pkg.suite", {"test_x": "assert False"})
SMALL = ZipLimits(
    max_members=20,
    max_member_bytes=512 * 1024,
    max_total_bytes=2 * 1024 * 1024,
    ratio_floor_bytes=64 * 1024,
)


def _zip_with_symlink(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, target)
        archive.writestr("ok.xml", REPORT)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("reports/junit.xml", "reports/junit.xml"),
        ("./a/./b.xml", "a/b.xml"),
        ("reports\\win.xml", "reports/win.xml"),
        ("../escape.xml", None),
        ("a/../../escape.xml", None),
        ("/etc/passwd.xml", None),
        ("C:\\Windows\\x.xml", None),
        ("", None),
    ],
)
def test_member_names_that_leave_the_directory_are_refused(raw: str, expected: str | None) -> None:
    assert safe_member_name(raw) == expected


def test_only_safe_report_members_are_read() -> None:
    data = make_zip(
        {
            "reports/junit.xml": REPORT,
            "../../outside.xml": REPORT,
            "/abs/junit.xml": REPORT,
            "notes.txt": b"not a report",
            "reports/": b"",
        }
    )
    result = read_report_members(data, limits=SMALL, label="artifact t")
    assert [(m.name, m.data) for m in result.members] == [("reports/junit.xml", REPORT)]
    assert sorted(result.problems) == [
        "artifact t:../../outside.xml: unsafe path, skipped",
        "artifact t:/abs/junit.xml: unsafe path, skipped",
    ]


def test_symbolic_links_are_skipped() -> None:
    result = read_report_members(_zip_with_symlink("link.xml", "/etc/shadow"), limits=SMALL)
    assert [m.name for m in result.members] == ["ok.xml"]
    assert result.problems == ["artifact:link.xml: symbolic link, skipped"]


def test_zip_bomb_member_is_skipped_without_inflating_it() -> None:
    bomb = b"\0" * (4 * 1024 * 1024)  # compresses about 1000:1
    data = make_zip({"bomb.xml": bomb, "real.xml": REPORT})
    assert len(data) < 64 * 1024
    limits = ZipLimits(max_member_bytes=8 * 1024 * 1024, ratio_floor_bytes=64 * 1024)
    result = read_report_members(data, limits=limits)
    assert [m.name for m in result.members] == ["real.xml"]
    assert result.problems == ["artifact:bomb.xml: compression ratio of a zip bomb, skipped"]


def test_member_that_lies_about_its_size_is_cut_off() -> None:
    # A header claiming 100 bytes for a member that inflates to 1 MiB: never trusted.
    data = bytearray(make_zip({"liar.xml": b"<a>" + b"x" * (1024 * 1024) + b"</a>"}))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.infolist()[0]
    for offset in (info.header_offset + 22, data.rfind(b"PK\x01\x02") + 24):
        data[offset : offset + 4] = (100).to_bytes(4, "little")
    result = read_report_members(bytes(data), limits=SMALL)
    assert result.members == [] or all(len(m.data) <= 100 for m in result.members)
    assert len(result.problems) == 1 and "liar.xml" in result.problems[0]


def test_too_many_members_refuses_the_archive() -> None:
    data = make_zip({f"r{i}.xml": REPORT for i in range(SMALL.max_members + 1)})
    with pytest.raises(UnsafeArchiveError, match="21 members exceed the limit of 20"):
        read_report_members(data, limits=SMALL, label="artifact flood")


def test_total_size_limit_stops_reading() -> None:
    member = b"<r>" + bytes(range(256)) * 1000 + b"</r>"  # ~256 KB, incompressible enough
    data = make_zip({f"r{i}.xml": member for i in range(12)})
    result = read_report_members(data, limits=SMALL)
    assert sum(len(m.data) for m in result.members) <= SMALL.max_total_bytes
    assert len(result.members) < 12
    assert result.problems[-1].endswith("archive total limit reached, rest skipped")


def test_not_a_zip_is_refused_with_its_name() -> None:
    with pytest.raises(UnsafeArchiveError, match="artifact junit: not a readable zip"):
        read_report_members(b"<html>expired</html>", label="artifact junit")


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("junit-results", True),
        ("test-results-3.12", True),
        ("pytest-report", True),
        ("surefire-reports", True),
        ("unit-tests", True),
        ("coverage-html", False),
        ("dist", False),
        ("docker-image", False),
    ],
)
def test_report_artifacts_are_recognised_by_name(name: str, wanted: bool) -> None:
    assert is_report_artifact(name) is wanted


def test_malicious_artifact_through_the_source(fake_github: FakeGitHub, tmp_path: Path) -> None:
    failed = job("test", "failure", HOUR + timedelta(minutes=20))
    evil = make_zip(
        {
            "../../../../escaped.xml": REPORT,
            "good/junit.xml": REPORT,
            "bomb.xml": b"\0" * (400 * 1024),
        }
    )
    flood = make_zip({f"m{i}.xml": b"<a/>" for i in range(25)})
    run(
        fake_github,
        HOUR,
        [failed],
        artifacts=[
            FakeArtifact(80_001, "test-results", evil, HOUR + timedelta(minutes=19)),
            FakeArtifact(80_002, "junit-flood", flood, HOUR + timedelta(minutes=19)),
            FakeArtifact(80_003, "test-report-old", REPORT, HOUR, expired=True),
        ],
    )
    root = tmp_path / "store" / "raw"
    result = make_source(fake_github, root, zip_limits=SMALL).failed_jobs(
        HOUR, HOUR + timedelta(hours=1)
    )

    (record,) = result.jobs
    assert [ref.rsplit("/", 2)[-2:] for ref in record.junit_refs] == [["good", "junit.xml"]]
    assert "junit: artifact 'junit-flood' refused" in record.missing
    assert "junit: artifact 'test-report-old' expired" in record.missing
    reasons = " | ".join(p.reason for p in result.problems)
    assert "unsafe path" in reasons and "zip bomb" in reasons and "members exceed" in reasons
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(root in p.parents for p in written), "a member was written outside the raw store"
    assert not any(p.name == "escaped.xml" for p in written)
