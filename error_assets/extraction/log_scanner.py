"""One streaming pass over a log file: candidate lines, their context, the steps they are in.

The file is read in blocks of a few MiB. The prefilter finds candidate lines inside a block;
only those are decoded, cleaned and classified. Context comes from the same block (the lines
before a candidate, and the lines after it inside a look-ahead margin kept at the end of each
block), plus the last lines of the previous block. Memory stays bounded whatever the size of
the file: one block, a few context lines, and a capped set of findings. A line longer than
`max_line_bytes` is cut there; the rest of it is skipped and the cut is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO

from error_assets.extraction.findings import Finding
from error_assets.extraction.line_rules import Hit, classify
from error_assets.extraction.log_lines import CleanLine, clean_line, decode
from error_assets.extraction.prefilter import NOISE, Prefilter
from error_assets.extraction.ranking import message_core

BLOCK_BYTES = 4 << 20
LOOKAHEAD_BYTES = 64 << 10
MAX_LINE_BYTES = 1 << 20
CANDIDATE_BYTES = 8 << 10  # a candidate line is classified on its first 8 KiB
CONTEXT_BYTES = 1000  # each context line is kept to this many bytes
BEFORE_LINES = 10
AFTER_LINES = 3
ABSORB_LINES = 40
MAX_FINDINGS = 2000  # distinct findings kept per file
MAX_PER_BUCKET = 60  # per (step, role, tier): the earliest are the likely causes


@dataclass(slots=True)
class LogScan:
    """What one pass over a log found."""

    findings: list[Finding] = field(default_factory=list)
    failing_steps: set[str] = field(default_factory=set)
    lines: int = 0
    bytes: int = 0
    truncated_lines: list[int] = field(default_factory=list)
    invalid_utf8_line: int | None = None
    dropped: int = 0  # findings beyond the caps


class LogScanner:
    """Scans one log; `default_kind` labels lines no rule gave a kind ("gha_log", "log", …)."""

    def __init__(
        self,
        source_path: str,
        default_kind: str = "log",
        *,
        prefilter: Prefilter | None = None,
        max_text_chars: int = 10_000,
        block_bytes: int = BLOCK_BYTES,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.source_path = source_path
        self.default_kind = default_kind
        self.prefilter = prefilter or Prefilter()
        self.max_text_chars = max_text_chars
        self.block_bytes = block_bytes
        self.max_line_bytes = max_line_bytes
        self.result = LogScan()
        self._step = ""
        self._vertices: dict[int, str] = {}
        self._tail: list[bytes] = []  # last lines of the previous block, for context
        self._seen: dict[str, Finding] = {}
        self._buckets: dict[tuple[str, str, int], int] = {}

    # --- reading ------------------------------------------------------------------------

    def scan(self, stream: BinaryIO) -> LogScan:
        """Read the whole stream once and return what it holds."""
        base_line = 0
        carry = b""
        eof = False
        while not eof:
            data = stream.read(self.block_bytes)
            self.result.bytes += len(data)
            eof = not data
            buffer = carry + data if carry else data
            if eof:
                if not buffer:
                    break
                if not buffer.endswith(b"\n"):
                    buffer += b"\n"
                end = len(buffer)
            else:
                limit = len(buffer) - LOOKAHEAD_BYTES
                end = buffer.rfind(b"\n", 0, limit) + 1 if limit > 0 else 0
                if end == 0:
                    if len(buffer) < self.max_line_bytes + LOOKAHEAD_BYTES:
                        carry = buffer
                        continue
                    # One line fills the look-ahead: cut it, skip the rest of it.
                    newline = buffer.find(b"\n", self.max_line_bytes)
                    self.result.truncated_lines.append(base_line + 1)
                    self._scan_block(buffer[: self.max_line_bytes] + b"\n", 1, base_line)
                    base_line += 1
                    if newline != -1:
                        carry = buffer[newline + 1 :]
                        continue
                    carry = self._skip_rest_of_line(stream)
                    eof = carry is None
                    carry = carry or b""
                    continue
            base_line = self._scan_block(buffer, end, base_line)
            carry = buffer[end:]
        self.result.lines = base_line
        return self.result

    def _skip_rest_of_line(self, stream: BinaryIO) -> bytes | None:
        """Discard input up to the next newline; return what follows it (None at EOF)."""
        while True:
            data = stream.read(self.block_bytes)
            self.result.bytes += len(data)
            if not data:
                return None
            newline = data.find(b"\n")
            if newline != -1:
                return data[newline + 1 :]

    # --- one block ----------------------------------------------------------------------

    def _scan_block(self, buffer: bytes, end: int, base_line: int) -> int:
        """Classify the candidates in buffer[:end] (complete lines); return the new line count."""
        prepared = self.prefilter.prepare(buffer)
        position = 0
        counted_to = 0
        line_no = base_line
        while position < end:
            hit_at = self.prefilter.search(prepared, position, end)
            if hit_at < 0:
                break
            start = buffer.rfind(b"\n", 0, hit_at) + 1
            stop = buffer.find(b"\n", hit_at)
            line_no += buffer.count(b"\n", counted_to, start)
            counted_to = start
            position = self._candidate(buffer, start, stop, end, line_no + 1)
            if position <= stop:
                position = stop + 1
        line_no += buffer.count(b"\n", counted_to, end)
        self._tail = _last_lines(buffer, end, BEFORE_LINES)
        return line_no

    def _candidate(self, buffer: bytes, start: int, stop: int, end: int, line_no: int) -> int:
        """Handle one candidate line; return the offset where the search resumes."""
        head = buffer[start : min(stop, start + CANDIDATE_BYTES)]
        if any(noise in head for noise in NOISE):
            return stop + 1
        raw = decode(head)
        if "\ufffd" in raw and self.result.invalid_utf8_line is None:
            self.result.invalid_utf8_line = line_no
        line = clean_line(raw)
        if line.step:
            self._step = line.step
        text = line.text
        if self._track_step(text):
            return stop + 1
        if line.buildkit_vertex is None and text.startswith("#"):
            self._track_vertex(text)
        hit = classify(text)
        if hit is None:
            return stop + 1
        if hit.source_kind == "gha_log" and text.startswith("##[error]"):
            self.result.failing_steps.add(self._step)
        before = self._before(buffer, start)
        absorbed, after, resume = self._after(buffer, stop + 1, end, hit, text)
        self._record(hit, line, line_no, before, absorbed, after)
        return resume

    def _track_step(self, text: str) -> bool:
        """Follow step boundaries; True when the line is only a marker."""
        if text.startswith("##[group]"):
            title = text[9:].strip()
            if title.startswith("Run "):
                self._step = title[:200]
                return True
            return False
        if text.startswith("##[start-action"):
            display = text.partition("display=")[2].partition(";")[0]
            if display:
                self._step = display[:200]
            return True
        if text.startswith("##[end-action") and "outcome=failure" in text:
            self.result.failing_steps.add(self._step)
            return True
        if text.startswith("Current runner version"):
            self._step = "Set up job"
            return True
        if text.startswith("Post job cleanup"):
            self._step = "Post job cleanup"
            return True
        return False

    def _track_vertex(self, text: str) -> None:
        """Remember BuildKit vertex names (`#8 [builder 3/7] RUN make`) to name error steps."""
        number, _, rest = text[1:].partition(" ")
        if number.isdigit() and rest.startswith("[") and len(self._vertices) < 10_000:
            self._vertices[int(number)] = rest[:200]

    # --- context ------------------------------------------------------------------------

    def _before(self, buffer: bytes, start: int) -> list[str]:
        lines = _last_lines(buffer, start, BEFORE_LINES)
        if len(lines) < BEFORE_LINES:  # the block's start was reached: the previous block's tail
            lines = self._tail[-(BEFORE_LINES - len(lines)) :] + lines
        return [clean_line(decode(raw), CONTEXT_BYTES).text for raw in lines]

    def _after(
        self, buffer: bytes, cursor: int, end: int, hit: Hit, text: str
    ) -> tuple[list[str], list[str], int]:
        """Lines continuing the error (absorbed), then a few plain ones; and where to resume."""
        absorbed: list[str] = []
        after: list[str] = []
        resume = cursor
        indent = len(text) - len(text.lstrip())
        limit = len(buffer)
        absorbing = hit.absorb is not None
        while cursor < limit and len(after) < AFTER_LINES + (3 if hit.finalize else 0):
            stop = buffer.find(b"\n", cursor)
            if stop == -1:
                break
            line = clean_line(
                decode(buffer[cursor : min(stop, cursor + CONTEXT_BYTES)]), CONTEXT_BYTES
            )
            if absorbing and hit.absorb is not None and len(absorbed) < ABSORB_LINES:
                body = line.text[indent:] if line.text[:indent].isspace() else line.text
                if hit.absorb.search(body):
                    absorbed.append(line.text)
                    cursor = stop + 1
                    if cursor <= end:
                        resume = cursor
                    continue
            absorbing = False
            after.append(line.text)
            cursor = stop + 1
        return absorbed, after, resume

    # --- findings -----------------------------------------------------------------------

    def _record(
        self,
        hit: Hit,
        line: CleanLine,
        line_no: int,
        before: list[str],
        absorbed: list[str],
        after: list[str],
    ) -> None:
        if hit.finalize is not None:
            hit = hit.finalize(hit, before, absorbed + after)
        message = hit.message
        if hit.message_from_next and absorbed:
            words = [
                p.strip() for p in absorbed if p.strip() and not p.strip().startswith("> Task ")
            ]
            following = " ".join(words[:3])
            message = f"{message} {following}".strip() if message else following
        elif absorbed and hit.append_absorbed:
            words = [_PREFIX_ERROR.sub("", part).strip() for part in absorbed]
            words = [
                w
                for w in words
                if w not in ("", "stdout:", "stderr:")
                and not w.startswith(("at ", "Please remove", "..."))
            ]
            message = " ".join([message, *words[:2]])
        step = self._step
        if line.buildkit_vertex is not None and line.buildkit_vertex in self._vertices:
            step = self._vertices[line.buildkit_vertex]
        text = "\n".join([*before, line.text, *absorbed, *after])
        if len(text) > self.max_text_chars:
            text = _around(text, line.text, self.max_text_chars)
        finding = Finding(
            source_kind=hit.source_kind or self.default_kind,
            framework=hit.framework,
            role=hit.role,
            tier=hit.tier,
            message=_one_line(message),
            text=text,
            source_path=self.source_path,
            position=line_no,
            origin="buildkit" if self.default_kind == "buildkit" else "log",
            test_name=hit.test_name,
            file=hit.file,
            line=hit.line,
            step_name=step,
            detail=hit.detail,
            rule=hit.rule,
        )
        key = duplicate_key(finding)
        if key in self._seen:
            return
        bucket = (step, finding.role, finding.tier)
        if len(self._seen) >= MAX_FINDINGS or self._buckets.get(bucket, 0) >= MAX_PER_BUCKET:
            self.result.dropped += 1
            return
        self._buckets[bucket] = self._buckets.get(bucket, 0) + 1
        self._seen[key] = finding
        self.result.findings.append(finding)


_PREFIX_ERROR = re.compile(r"^\[ERROR\]\s*")


def duplicate_key(finding: Finding) -> str:
    """Findings with this key in one file are the same error repeated (a retry, a re-print)."""
    return f"{finding.test_name}|{message_core(finding.detail or finding.message)}"


def _last_lines(buffer: bytes, end: int, count: int) -> list[bytes]:
    lines: list[bytes] = []
    cursor = end
    while len(lines) < count and cursor > 0:
        previous = buffer.rfind(b"\n", 0, cursor - 1) + 1
        lines.append(buffer[previous : min(cursor - 1, previous + CONTEXT_BYTES)])
        cursor = previous
    lines.reverse()
    return lines


def _one_line(message: str, limit: int = 1000) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _around(text: str, anchor: str, limit: int) -> str:
    """At most `limit` characters of `text`, centred on the error line."""
    at = text.find(anchor)
    start = max(0, min(at - limit // 3, len(text) - limit)) if at >= 0 else 0
    return text[start : start + limit]
