"""The cheap first pass over a log: find the lines worth a closer look.

One case-insensitive alternation of keywords runs over whole blocks of the file. With
google-re2 installed (a DFA: one pass, no backtracking) it runs at several hundred MB/s;
without it the block is lower-cased and scanned by the standard `re` module, slower but
with the same results. Only the lines it selects are decoded and given to the rules.
"""

from __future__ import annotations

import re

try:  # optional accelerator; results are identical without it
    import re2 as _re2
except ImportError:  # pragma: no cover - depends on the environment
    _re2 = None

# Lower-case regex fragments; a line containing any of them is a candidate. They must cover
# every rule's needles and every signature (tests check this against the rule table).
KEYWORDS: tuple[str, ...] = (
    r"error",
    r"err!",
    r"fail",
    r"fatal",
    r"panic",
    r"killed",
    r"exception",
    r"traceback",
    r"abort",
    r"denied",
    r"timed out",
    r"timeout",
    r"took >",
    r"cannot",
    r"unable to",
    r"could not",
    r"refused",
    r"segmentation",
    r"core dumped",
    r"illegal instruction",
    r"bus error",
    r"\bsig[a-z]{3,4}\b",
    r"received signal",
    r"shutdown signal",
    r"lost communication",
    r"canceled",
    r"cancelled",
    r"no space left",
    r"enospc",
    r"quota exceeded",
    r"out of memory",
    r"oomkilled",
    r"oom-kill",
    r"bad_alloc",
    r"memory",
    r"not authorized",
    r"forbidden",
    r"unauthorized",
    r"bad credentials",
    r"not accessible",
    r"too many requests",
    r"toomanyrequests",
    r"rate limit",
    r"(?:http|status|code)\D{0,12}429\b",
    r"bad gateway",
    r"service unavailable",
    r"gateway time",
    r"name resolution",
    r"resolve host",
    r"not known",
    r"servname",
    r"getaddrinfo",
    r"unreachable",
    r"no route to host",
    r"econn",
    r"etimedout",
    r"eai_again",
    r"handshake",
    r"certificate",
    r"run time exceeded",
    r"execution time",
    r"deadline exceeded",
    r"went wrong",
    r"undefined",
    r"bad class file",
    r"wrong version",
    r"data race",
    r"race detected",
    r"test-unexpected",
    r"●",
    r"\.\.\. failed",
    r"\.go:\d+",
    r"\be: (?:file:|/)",
    r"::error",
    r"::group::",
    r"##\[",
    r"\be {2,}\S",
    r"^#\d+ \[",
    r"[\dz] #\d+ \[",
    r"current runner version",
    r"post job cleanup",
    r"exit code",
    r"return code",
    r"exit status",
    r"\*\*\*",
    r"^killed$",
)

# Candidate lines that are known noise, rejected on their raw bytes before any decoding
# (Maven prints a passing "Tests run: 12, Failures: 0, Errors: 0" line per test class).
NOISE: tuple[bytes, ...] = (b"Failures: 0, Errors: 0",)

PATTERN: str = "(?m)" + "|".join(f"(?:{k})" for k in KEYWORDS)


class Prefilter:
    """Finds the next candidate position in a block of bytes."""

    def __init__(self, use_re2: bool | None = None) -> None:
        if use_re2 is None:
            use_re2 = _re2 is not None
        if use_re2 and _re2 is None:
            raise RuntimeError("google-re2 is not installed")
        self.engine = "re2" if use_re2 else "re"
        if use_re2:
            options = _re2.Options()
            options.case_sensitive = False
            options.max_mem = 64 << 20
            self._regex = _re2.compile(PATTERN.encode("utf-8"), options=options)
        else:
            self._regex = re.compile(PATTERN.encode("utf-8"))

    def prepare(self, block: bytes) -> bytes:
        """What `search` scans: the block with known noise blanked out (same length, so
        offsets still point into the original), lower-cased for the standard `re` engine."""
        for noise in NOISE:
            if noise in block:
                block = block.replace(noise, b"-" * len(noise))
        return block if self.engine == "re2" else block.lower()

    def search(self, prepared: bytes, start: int, end: int) -> int:
        """Offset of the next keyword in prepared[start:end], or -1."""
        match = self._regex.search(prepared, start, end)
        return -1 if match is None else match.start()
