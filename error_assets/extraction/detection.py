"""What a file is, from its first bytes: which extractor reads it, or why none can.

Logs are plain text in any of the formats the rules know (they are told apart line by line),
so detection only separates the families that need another reader (JUnit XML, annotations
JSON) and refuses what is not text at all (binary, archives, empty files).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 64 << 10

# Names accepted by `--kind` and what they are read as.
KINDS: tuple[str, ...] = (
    "auto",
    "junit",
    "gha-log",
    "pytest",
    "cargo",
    "buildkit",
    "annotations",
    "log",
)
LOG_KINDS: dict[str, str] = {
    "gha-log": "gha_log",
    "pytest": "pytest",
    "cargo": "cargo",
    "buildkit": "buildkit",
    "log": "log",
}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip archive"),
    (b"PK\x05\x06", "an (empty) zip archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
)


_GHA_TIMESTAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ")


class UnreadableFile(ValueError):
    """A file no extractor can read: the message says why."""


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: str  # "junit" | "annotations" | one of LOG_KINDS' values
    gzipped: bool = False


def read_head(path: Path, gzipped: bool = False) -> bytes:
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as handle:
        return handle.read(HEAD_BYTES)


def sniff(path: Path, kind: str = "auto") -> Sniffed:
    """Decide how to read `path` (or raise UnreadableFile with the reason)."""
    if kind not in KINDS:
        raise UnreadableFile(f"unknown kind {kind!r} (accepted: {', '.join(KINDS)})")
    if not path.exists():
        raise UnreadableFile("file not found")
    if path.is_dir():
        raise UnreadableFile("is a directory, not a file")
    head = read_head(path)
    gzipped = head.startswith(b"\x1f\x8b")
    if gzipped:
        try:
            head = read_head(path, gzipped=True)
        except (OSError, EOFError) as error:
            raise UnreadableFile(f"corrupt gzip data: {error}") from None
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise UnreadableFile("empty file" if not head else "file holds only whitespace")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UnreadableFile(f"is {what}, not a text file")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("is UTF-16 encoded text; convert it to UTF-8")
    if _looks_binary(head):
        raise UnreadableFile("binary content (NUL or control bytes), not a text file")
    if kind != "auto":
        family = (
            "junit"
            if kind == "junit"
            else "annotations"
            if kind == "annotations"
            else LOG_KINDS[kind]
        )
        return Sniffed(family, gzipped)
    return Sniffed(_family(head), gzipped)


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    sample = head[:8192]
    control = sum(1 for byte in sample if byte < 9 or 13 < byte < 27 or 27 < byte < 32)
    return control > len(sample) * 0.1


def _family(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        window = text[:HEAD_BYTES].lower()
        if b"<testsuite" in window or b"<testrun" in window or b"<testcase" in window:
            return "junit"
        if text.startswith(b"<?xml") or text.startswith(b"<!"):
            return "junit"  # the JUnit reader will say precisely what is wrong with it
    if text.startswith(b"[") and b'"annotation_level"' in text[:HEAD_BYTES]:
        return "annotations"
    if text.startswith(b"[]"):
        return "annotations"
    sample = text[:4096]
    if b"##[" in sample or _GHA_TIMESTAMP.match(sample):
        return "gha_log"
    if (
        b"#1 [internal]" in sample
        or b"#0 building with" in sample
        or b"#1 load build definition" in sample
    ):
        return "buildkit"
    return "log"
