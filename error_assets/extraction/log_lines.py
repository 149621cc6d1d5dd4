"""Cleaning one raw log line: the prefixes CI systems add, colour codes, carriage returns.

Only the lines the prefilter selected (and their context) pass through here, so these
regexes cost nothing on the bulk of a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# GitHub Actions: `2026-07-30T10:33:37.0347135Z ` (a UTF-8 BOM may precede the first one).
_GHA_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?")
# `gh run view --log`: `job<TAB>step<TAB>timestamp line`.
_GH_RUN_VIEW = re.compile(r"^([^\t]{1,300})\t([^\t]{1,300})\t(?=\d{4}-\d\d-\d\dT)")
# Taskcluster / mozharness: `[task 2025-02-13T11:46:25.598Z] 11:46:25     INFO - `.
_TASKCLUSTER = re.compile(r"^\[task [^\]]{1,40}\] (?:\d\d:\d\d:\d\d +[A-Z]+ - )?")
# BuildKit plain progress: `#12 0.845 ` before a command's output.
_BUILDKIT_OUTPUT = re.compile(r"^#(\d+) (\d+\.\d+) ")
# ANSI escape sequences (CSI with parameters, and the two-byte forms).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class CleanLine:
    """A log line without its prefixes, and what the prefixes told us."""

    text: str
    gha: bool = False  # had a GitHub Actions timestamp
    step: str | None = None  # step column of `gh run view --log`
    buildkit_vertex: int | None = None  # `#N` of a BuildKit output line


def clean_line(raw: str, max_chars: int = 4000) -> CleanLine:
    """Strip BOM, CI prefixes and ANSI codes; keep what they said about the line."""
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    step = None
    view = _GH_RUN_VIEW.match(raw)
    if view:
        step = view.group(2)
        raw = raw[view.end() :]
    stamp = _GHA_TIMESTAMP.match(raw)
    gha = stamp is not None
    if stamp:
        raw = raw[stamp.end() :]
    elif raw.startswith("[task "):
        raw = _TASKCLUSTER.sub("", raw, count=1)
    if "\x1b" in raw:
        raw = _ANSI.sub("", raw)
    if "\r" in raw:
        # A progress bar rewrites the line: what is left after the last carriage return shows.
        parts = [p for p in raw.split("\r") if p.strip()]
        raw = parts[-1] if parts else ""
    if len(raw) > max_chars:
        raw = raw[:max_chars] + " …"
    raw = _CONTROL.sub("", raw).rstrip()
    vertex = None
    if raw.startswith("#"):
        output = _BUILDKIT_OUTPUT.match(raw)
        if output:
            vertex = int(output.group(1))
            raw = raw[output.end() :]
    return CleanLine(raw, gha, step, vertex)


def decode(raw: bytes) -> str:
    """Bytes of one line as text: UTF-8, invalid bytes replaced (never an exception)."""
    return raw.decode("utf-8", errors="replace")
