"""The in-band markers of the pytorch/test-infra log fixtures, and how to read them.

Their harness prefixes the line its own classifier picked with `#=MATCH=# `, wraps the captured
span in `‹ ›`, and adds a `#=SOURCE=# <url>` first line. Extraction must see the log without
them (the README's sed line); the tests compare our top-ranked occurrence with the marked line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SOURCE = b"#=SOURCE=# "
MATCH = b"#=MATCH=# "
OPEN = "‹".encode()
CLOSE = "›".encode()


@dataclass(frozen=True)
class MarkedLog:
    clean: bytes  # the log as CI wrote it
    match_line: str  # the marked line, markers removed (with its timestamp)
    spans: tuple[str, ...]  # the ‹captured› parts of the marked line


def read_marked(path: Path) -> MarkedLog | None:
    """The log without markers and what the marks said; None when the file has no MATCH line."""
    data = path.read_bytes()
    if MATCH not in data:
        return None
    lines = []
    match_raw = b""
    for line in data.split(b"\n"):
        if line.startswith(SOURCE):
            continue
        if line.startswith(MATCH):
            line = line[len(MATCH) :]
            match_raw = line
        lines.append(line)
    clean = b"\n".join(lines).replace(OPEN, b"").replace(CLOSE, b"")
    spans = []
    rest = match_raw
    while OPEN in rest:
        _, _, after = rest.partition(OPEN)
        span, _, rest = after.partition(CLOSE)
        spans.append(span.decode("utf-8", "replace").strip())
    match_line = match_raw.replace(OPEN, b"").replace(CLOSE, b"").decode("utf-8", "replace")
    return MarkedLog(clean, match_line, tuple(s for s in spans if s))
