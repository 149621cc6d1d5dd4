"""Reading test-report artifacts (zip archives) from GitHub Actions without trusting them.

An artifact is whatever a workflow chose to upload, so its zip is treated as hostile: member
names may try to escape the target directory, declared sizes may lie, a small archive may
inflate to gigabytes, and an archive may hold millions of entries. Only JUnit-style XML
members are kept; every rejected member is reported with the reason, never fatal.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# Words that mark an artifact as a test report worth downloading (matched on name tokens).
REPORT_ARTIFACT_PATTERN = re.compile(
    r"junit|xunit|surefire|failsafe|pytest|test[-_ ]?(results?|reports?|output|logs?)|"
    r"(^|[-_ .])(tests?|reports?|results?)([-_ .]|$)",
    re.IGNORECASE,
)

_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeArchiveError(ValueError):
    """The archive as a whole is refused (not a zip, too many members, too large)."""


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Bounds on what one artifact may make us read."""

    max_members: int = 5_000
    max_member_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 256 * 1024 * 1024
    # Uncompressed/compressed ratio above which a member counts as a bomb (XML compresses
    # well, ~10-30x; bombs reach 1000x).
    max_ratio: float = 200.0
    # Members smaller than this are never refused for their ratio.
    ratio_floor_bytes: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ZipMember:
    name: str
    data: bytes


@dataclass(slots=True)
class ZipReadResult:
    members: list[ZipMember] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def is_report_artifact(name: str) -> bool:
    """Whether an artifact's name says it holds test reports."""
    return bool(REPORT_ARTIFACT_PATTERN.search(name))


def is_report_member(name: str) -> bool:
    """JUnit-style reports are XML files."""
    return name.lower().endswith(".xml")


def safe_member_name(raw: str) -> str | None:
    """The member's path if it stays inside the extraction directory, else None."""
    name = raw.replace("\\", "/")
    if not name or name.startswith("/") or _DRIVE.match(name) or "\x00" in name:
        return None
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def read_report_members(
    data: bytes,
    *,
    limits: ZipLimits | None = None,
    label: str = "artifact",
) -> ZipReadResult:
    """The XML report members of a zip archive, read within `limits`.

    Raises `UnsafeArchiveError` when the whole archive must be refused; member-level
    problems (unsafe name, symlink, bomb, oversize, corrupt data) skip that member only.
    """
    limits = limits or ZipLimits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise UnsafeArchiveError(f"{label}: not a readable zip archive ({exc})") from None
    result = ZipReadResult()
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise UnsafeArchiveError(
                f"{label}: {len(infos)} members exceed the limit of {limits.max_members}"
            )
        total = 0
        for info in infos:
            if info.is_dir() or not is_report_member(info.filename):
                continue
            where = f"{label}:{info.filename}"
            name = safe_member_name(info.filename)
            if name is None:
                result.problems.append(f"{where}: unsafe path, skipped")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                result.problems.append(f"{where}: symbolic link, skipped")
                continue
            if info.file_size > limits.max_member_bytes:
                result.problems.append(
                    f"{where}: {info.file_size} bytes exceed the member limit, skipped"
                )
                continue
            if (
                info.file_size > limits.ratio_floor_bytes
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                result.problems.append(f"{where}: compression ratio of a zip bomb, skipped")
                continue
            if total + info.file_size > limits.max_total_bytes:
                result.problems.append(f"{where}: archive total limit reached, rest skipped")
                break
            try:
                # Read one byte past the limit: declared sizes are not trusted.
                with archive.open(info) as handle:
                    content = handle.read(limits.max_member_bytes + 1)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
                result.problems.append(f"{where}: unreadable ({exc}), skipped")
                continue
            if len(content) > limits.max_member_bytes:
                result.problems.append(f"{where}: inflates past the member limit, skipped")
                continue
            total += len(content)
            result.members.append(ZipMember(name, content))
    return result
