"""Which part of an occurrence is fingerprinted: its cause text.

The cause text is the occurrence's one-line `message`, its `file` (when the extractor found
one) and up to `MAX_SIGNAL_LINES` lines of `text` that carry the error (they name an error,
exception, failure, timeout, ...) plus up to `MAX_LOCATION_LINES` source locations (the first
and last frames of a stack trace). When `text` has no such line, its first
`FALLBACK_LINES` non-blank lines are used. Lines repeating an earlier one except for numbers
and hex addresses (retries: "3 tries remaining" / "2 tries remaining", new timestamps and
addresses) are skipped.

Context lines (commands echoed, progress output, the code around an assertion) are left out:
they differ between two sightings of the same failure far more often than the error does.
"""

from __future__ import annotations

import re

MAX_SIGNAL_LINES = 12
MAX_LOCATION_LINES = 4
FALLBACK_LINES = 6
# Raw lines considered per occurrence: the extractor already bounds `text`, this bounds work.
MAX_SCANNED_LINES = 400

SIGNAL_PATTERN = (
    r"error|exception|fail|fatal|panic|abort|denied|refused|timed? ?out|not found|no space"
    r"|killed|out of memory|\boom\b|unable|cannot|can't|could not|couldn't|invalid|missing"
    r"|unexpected|assert|exit(?:ed)? (?:with )?(?:code|status)|segmentation|unreachable"
    r"|exceeded|lost|traceback|^e\s"
)
LOCATION_PATTERN = r'File "|\.[A-Za-z]\w{0,5}:\d|\bat [\w$.<>]+\('
_SIGNAL = re.compile(SIGNAL_PATTERN, re.IGNORECASE)
_LOCATION = re.compile(LOCATION_PATTERN)
try:  # an RE2 set (a DFA) answers both per line ~10x faster; same answers on ASCII text
    import re2

    _KINDS = re2.Set.SearchSet()
    _KINDS.Add("(?i)" + SIGNAL_PATTERN)  # index 0
    _KINDS.Add(LOCATION_PATTERN)  # index 1
    _KINDS.Compile()
except ImportError:
    _KINDS = None
NUMBER_OR_HEX_PATTERN = r"[0-9a-fA-F]*\d[0-9a-fA-F]*"
_NUMBER_OR_HEX = re.compile(NUMBER_OR_HEX_PATTERN)


_DIGIT_BYTES = b"0123456789"


def _repeat_key(line: str) -> bytes:
    """A line without its numbers (and hex addresses): retries of one error differ only there.

    As UTF-8 bytes: deleting the ASCII digit bytes there is a C loop (str.translate with a
    table is not) and removes exactly the digits, since UTF-8 never uses those bytes inside a
    multi-byte character. Keys are only compared with each other.
    """
    if "0x" in line:
        return _NUMBER_OR_HEX.sub("", line).encode()
    return line.encode().translate(None, _DIGIT_BYTES)


def _kind(line: str) -> int:
    """2 for an error line, 1 for a source location, 0 for anything else."""
    if _KINDS is not None and line.isascii():
        found = _KINDS.Match(line.encode())
        if not found:
            return 0
        return 2 if 0 in found else 1
    if _SIGNAL.search(line):
        return 2
    return 1 if _LOCATION.search(line) else 0


def cause_text(message: str, text: str, file: str = "") -> str:
    """The raw (not yet normalised) cause text of one occurrence; see the module docstring."""
    head = message.strip()
    parts: list[str] = [head] if head else []
    if file.strip():
        parts.append(f"in {file.strip()}")
    seen = {_repeat_key(head)} if head else set()
    signal: list[tuple[int, str]] = []
    locations: list[tuple[int, str]] = []
    plain: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines()[:MAX_SCANNED_LINES]):
        line = raw.strip()
        if not line:
            continue
        # `_repeat_key` and `_kind` inlined, sharing one encoding: this loop is the hot path.
        data = line.encode()
        if "0x" in line:
            key = _NUMBER_OR_HEX.sub("", line).encode()
        else:
            key = data.translate(None, _DIGIT_BYTES)
        if key in seen:
            continue
        seen.add(key)
        if _KINDS is not None and data.isascii():
            found = _KINDS.Match(data)
            kind = (2 if 0 in found else 1) if found else 0
        else:
            kind = _kind(line)
        if kind == 2:
            if len(signal) < MAX_SIGNAL_LINES:
                signal.append((number, line))
        elif kind == 1:
            locations.append((number, line))
        elif len(plain) < FALLBACK_LINES:
            plain.append((number, line))
    half = MAX_LOCATION_LINES // 2
    if len(locations) > MAX_LOCATION_LINES:
        locations = locations[:half] + locations[-half:]
    chosen = signal + locations if signal else plain + locations
    parts.extend(line for _, line in sorted(chosen))
    return "\n".join(parts)
