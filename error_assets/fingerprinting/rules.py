"""The normalisation rule table: ordered, versioned, each rule with its own worked example.

`normalize(text)` applies `RULES` top to bottom, then tidies the lines (trailing blanks,
runs of spaces, empty lines, repeated lines). The order matters and is part of the
version: UUIDs are masked before anything that could split them (epoch numbers, hex ids),
paths and line numbers before clock times and IPv6 (both look like `12:34:56`), and the
catch-all long-number rule runs last.

Change any rule, its order or the tidying, and bump `NORMALIZER_VERSION`: it is stored with
every fingerprint so that records made by different normalisers can be told apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

NORMALIZER_VERSION = "n1"

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DIGIT = re.compile(r"\d")
_SOURCE_EXT = r"\.[A-Za-z][A-Za-z0-9+]{0,5}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One normalisation step: `pattern` is replaced by `replacement` (re.sub syntax).

    `example` and `expected` document what the rule does; the tests pin every one of them.
    `triggers` (any of these substrings) and `needs_digit` are cheap pre-checks, true of
    every text the pattern can match, that spare the regex engine most lines.
    """

    name: str
    pattern: re.Pattern[str]
    replacement: str
    example: str
    expected: str
    triggers: tuple[str, ...] = ()
    needs_digit: bool = False

    def may_match(self, text: str, has_digit: bool) -> bool:
        if self.needs_digit and not has_digit:
            return False
        if not self.triggers:
            return True
        for trigger in self.triggers:  # noqa: SIM110 - a loop is cheaper than any() here
            if trigger in text:
                return True
        return False

    def apply(self, text: str) -> str:
        if not self.may_match(text, _DIGIT.search(text) is not None):
            return text
        return self.pattern.sub(self.replacement, text)


def _rule(
    name: str,
    pattern: str,
    replacement: str,
    example: str,
    expected: str,
    triggers: tuple[str, ...] | str = (),
    digit: bool = False,
    flags: int = 0,
) -> Rule:
    if isinstance(triggers, str):
        triggers = (triggers,)
    compiled = re.compile(pattern, flags)
    return Rule(name, compiled, replacement, example, expected, triggers, digit)


RULES: tuple[Rule, ...] = (
    _rule(
        "ansi_escape",
        r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])",
        "",
        "\x1b[1;31mERROR\x1b[0m: build failed",
        "ERROR: build failed",
        triggers="\x1b",
    ),
    _rule(
        # Escape sequences whose ESC byte was lost on the way ("[1;31mERROR[m").
        "ansi_residue",
        r"\[\d{1,3}(?:;\d{1,3})*m|\[m(?![A-Za-z])",
        "",
        "[[1;31mERROR[m] Failed to execute goal",
        "[ERROR] Failed to execute goal",
        triggers="[",
    ),
    _rule("carriage_return", r"\r", "", "FAILURE: Build failed\r", "FAILURE: Build failed", "\r"),
    _rule(
        # The GitHub Actions log prefix on every line: pure noise, dropped entirely.
        "log_line_timestamp",
        r"^\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?",
        "",
        "2026-07-30T10:35:18.6494363Z ##[error]Process completed with exit code 1.",
        "##[error]Process completed with exit code 1.",
        triggers="Z",
        digit=True,
        flags=re.MULTILINE,
    ),
    _rule(
        # Before epoch numbers and hex ids: both would eat a UUID's last group.
        "uuid",
        r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
        "<uuid>",
        "run 123e4567-e89b-12d3-a456-426614174000 failed",
        "run <uuid> failed",
        triggers="-",
    ),
    _rule(
        "iso_timestamp",
        r"\d(?<!\w\d)\d{3}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d|\s?UTC)?(?![\w:])",
        "<ts>",
        "Started at 2026-11-28 03:12:45.123+00:00 on host",
        "Started at <ts> on host",
        triggers=":",
        digit=True,
    ),
    _rule(
        "http_date",
        rf"\b{_DAY}, \d{{1,2}} {_MONTH} \d{{4}} \d\d:\d\d:\d\d(?: (?:GMT|UTC|[+-]\d{{4}}))?",
        "<ts>",
        "Date: Sat, 28 Nov 2026 03:12:45 GMT",
        "Date: <ts>",
        triggers=":",
        digit=True,
    ),
    _rule(
        "syslog_timestamp",
        rf"\b(?:{_DAY} )?{_MONTH} {{1,2}}\d{{1,2}} \d\d:\d\d:\d\d(?:\.\d+)?(?: \d{{4}})?\b",
        "<ts>",
        "Nov 28 03:12:45 runner kernel: Out of memory",
        "<ts> runner kernel: Out of memory",
        triggers=(
            "Jan ",
            "Feb ",
            "Mar ",
            "Apr ",
            "May ",
            "Jun ",
            "Jul ",
            "Aug ",
            "Sep ",
            "Oct ",
            "Nov ",
            "Dec ",
        ),
        digit=True,
    ),
    _rule(
        "iso_date",
        r"[12](?<!\w[12])[09]\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b",
        "<date>",
        "certificate expired on 2026-11-28",
        "certificate expired on <date>",
        triggers="-",
        digit=True,
    ),
    _rule(
        # 10 or 13 digit numbers starting with 1: seconds or milliseconds since 1970
        # (2001..2286). Runs after `uuid`, whose last group can be 12 plain digits.
        "epoch_timestamp",
        r"1(?<![\w.-]1)\d{9}(?:\d{3})?(?:\.\d+)?(?![\w-])",
        "<epoch>",
        "token expired at 1764299565123 (now 1764299999)",
        "token expired at <epoch> (now <epoch>)",
        digit=True,
    ),
    _rule(
        # "https://github.com/o/r/actions/runs/6861749650/job/18658826213#step:8:12"
        "github_run_job_ids",
        r"(runs/|job/|jobs/|attempts/|check_run_id=|\b(?:run|job)[_ ]id[=: ]+)\d+",
        r"\1<id>",
        "see https://github.com/o/r/actions/runs/6861749650/job/18658826213",
        "see https://github.com/o/r/actions/runs/<id>/job/<id>",
        triggers=("runs/", "job", "_id"),
        digit=True,
    ),
    _rule(
        "github_step_anchor",
        r"#step:\d+:\d+",
        "#step:<n>",
        "see #step:8:12",
        "see #step:<n>",
        triggers="#step:",
    ),
    _rule(
        "sha256_digest",
        r"\bsha256:[0-9a-fA-F]{12,64}\b",
        "sha256:<digest>",
        "manifests/sha256:4ed33101ee7ec299041cc41dd268dae17031184be94384b1ce7936dc4e5dead3: 429",
        "manifests/sha256:<digest>: 429",
        triggers="sha256:",
    ),
    _rule(
        # "[3543:0x56a2ae0]" (node/V8: pid and isolate address).
        "pid_address_pair",
        r"\[\d+:0x[0-9a-fA-F]+\]",
        "[<pid>:<addr>]",
        "[3543:0x56a2ae0] Mark-Compact",
        "[<pid>:<addr>] Mark-Compact",
        triggers=":0x",
    ),
    _rule(
        "hosted_runner_name",
        r"\b(?:GitHub Actions|Hosted Agent|Azure Pipelines) \d+\b"
        r"|\bfv-az\d+(?:-\d+)?\b"
        r"|\bip-\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3}(?:\.[\w-]+)*\b"
        r"|\bi-[0-9a-f]{8,17}\b",
        "<runner>",
        "The hosted runner: GitHub Actions 8 lost communication (fv-az60-123, ip-10-0-1-2.ec2.internal)",
        "The hosted runner: <runner> lost communication (<runner>, <runner>)",
        triggers=("GitHub Actions ", "Hosted Agent ", "Azure Pipelines ", "fv-az", "ip-", "i-"),
        digit=True,
    ),
    _rule(
        # Self-hosted runner and CI agent names carry a counter or random suffix.
        "runner_name",
        r"\b(?:[a-z0-9]+-)*(?:runner|agent|executor|builder)-(?=[a-z0-9-]*\d)[a-z0-9]+(?:-[a-z0-9]+)*\b",
        "<runner>",
        "Runner arc-runner-7x2kq-8n5vd went offline",
        "Runner <runner> went offline",
        triggers=("runner-", "agent-", "executor-", "builder-"),
        digit=True,
    ),
    _rule(
        # Kubernetes pod names: <deployment>-<replicaset hash>-<5 chars>.
        "pod_name",
        r"-(?<=[a-z0-9]-)(?=[a-z]*\d)[a-z0-9]{8,10}-[a-z0-9]{5}\b",
        "-<pod>",
        "pod ci-worker-7d9f8c6b5d-x2k4q evicted; --import-disabled-tests",
        "pod ci-worker-<pod> evicted; --import-disabled-tests",
        triggers="-",
        digit=True,
    ),
    _rule(
        "memory_address",
        r"\b0x[0-9a-fA-F]+\b",
        "<addr>",
        "segfault at 0x7ffd5e3c2a10 ip 0x0000555",
        "segfault at <addr> ip <addr>",
        triggers="0x",
    ),
    _rule(
        # Commit SHAs and hex ids: 7..64 hex characters with at least one digit AND one letter,
        # one case only, so English words ("facade", "added", "deadbeef") and plain numbers stay.
        "hex_id",
        r"[0-9a-f](?<!\w[0-9a-f])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,63}\b"
        r"|[0-9A-F](?<!\w[0-9A-F])(?=[0-9A-F]*\d)(?=[0-9A-F]*[A-F])[0-9A-F]{6,63}\b",
        "<hex>",
        "checkout of 050ce9e1226b95d6b5938bdd5e245491f7219fd8 failed: facade added",
        "checkout of <hex> failed: facade added",
        digit=True,
    ),
    _rule(
        "ipv4",
        rf"\d(?<![\w.]\d)\d{{0,2}}\.{_OCTET}\.{_OCTET}\.{_OCTET}(?::\d{{1,5}})?(?![\w.])",
        "<ip>",
        "connect to 10.1.0.4:5432 failed",
        "connect to <ip> failed",
        triggers=".",
        digit=True,
    ),
    _rule(
        "localhost_port",
        r"\b(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\]):\d{2,5}\b",
        r"\1:<port>",
        "dial tcp localhost:38211: connection refused",
        "dial tcp localhost:<port>: connection refused",
        triggers=("localhost:", "127.0.0.1:", "0.0.0.0:", "]:"),
    ),
    _rule(
        # Temp files keep only their last component: everything above it is random.
        "temp_path",
        r"(?:/private)?(?:/tmp|/var/tmp|/var/folders/[\w/.-]+?/T|/dev/shm)/(?:[^\s'\"():,/]+/)*"
        r"|[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp\\(?:[^\s'\"():,\\]+\\)*",
        "<tmp>/",
        "open /tmp/pytest-of-runner/pytest-12/test_io0/data.json: denied",
        "open <tmp>/data.json: denied",
        triggers=("/tmp/", "/var/", "/dev/shm/", "\\Temp\\"),
    ),
    _rule(
        # Checkout roots of hosted and self-hosted runners: the path under the repo remains,
        # so src/a/utils.py and src/b/utils.py stay different.
        "build_root",
        r"(?:/home/runner/work|/Users/runner/work|/__w|/runner/_work|/home/[\w.-]+/actions-runner/_work)"
        r"/[^/\s]+/[^/\s]+/"
        r"|[A-Za-z]:\\a\\[^\\\s]+\\[^\\\s]+\\"
        r"|/builds/(?:[^/\s]+/){1,2}|/github/workspace/|/workspace/[^/\s]+/",
        "<src>/",
        "File /home/runner/work/shop/shop/src/cart/utils.py, in add",
        "File <src>/src/cart/utils.py, in add",
        triggers=("/work/", "/__w/", "/_work/", ":\\a\\", "/builds/", "/workspace/"),
    ),
    _rule(
        # Installed third-party code: the package-relative path remains.
        "installed_packages",
        r"(?<![^\s'\"(\[{=,;])[^\s'\"()\[\]{},;=]*?[/\\]"
        r"(?:(?:site|dist)-packages|node_modules|\.cargo[/\\]registry[/\\]src[/\\][^/\\\s]+"
        r"|go[/\\]pkg[/\\]mod|\.m2[/\\]repository)[/\\]",
        "<pkgs>/",
        "/opt/py-3.10/lib/python3.10/site-packages/torch/nn/module.py",
        "<pkgs>/torch/nn/module.py",
        triggers=("-packages", "node_modules", ".cargo", "pkg", ".m2"),
    ),
    _rule(
        "python_stdlib",
        r"(?<![^\s'\"(\[{=,;])[^\s'\"()\[\]{},;=]*?/lib/python3\.\d+/",
        "<python>/",
        'File "/usr/local/lib/python3.12/subprocess.py", in run',
        'File "<python>/subprocess.py", in run',
        triggers="/lib/python",
    ),
    _rule(
        "home_dir",
        r"(?:/home/[^/\s]+|/Users/[^/\s]+|/root|[A-Za-z]:\\Users\\[^\\\s]+)(?=[/\\])",
        "<home>",
        "cannot read /home/alice/.npmrc",
        "cannot read <home>/.npmrc",
        triggers=("/home/", "/Users/", "/root/", ":\\Users\\"),
    ),
    _rule(
        # "file.py:42", "Foo.java:42)", "lib.rs:154:5", "index.js:44587:15".
        "source_line_column",
        rf"({_SOURCE_EXT})(?::\d+){{1,2}}\b",
        r"\1:<line>",
        "panicked at tests/parry3d.rs:154:5: boom",
        "panicked at tests/parry3d.rs:<line>: boom",
        triggers=":",
        digit=True,
    ),
    _rule(
        "line_number_words",
        r"\b(line|lines|ln|column|col)([ :=]+)\d+(?:-\d+)?\b",
        r"\1\2<line>",
        'File "<src>/app.py", line 966, in _apply',
        'File "<src>/app.py", line <line>, in _apply',
        triggers=("line", "Line", "LINE", "ln", "col", "Col", "COL"),
        digit=True,
        flags=re.IGNORECASE,
    ),
    _rule(
        # C#/MSBuild "Program.cs(12,34)", javac/Maven "Foo.java:[12,34]", GitHub "#L123".
        "line_column_brackets",
        r"(?<=\w)\(\d+,\d+\)|(?<=\w):\[\d+,\d+\]|#L\d+(?:-L\d+)?\b",
        "(<line>)",
        "Program.cs(12,34): error CS1002; Service.java:[71,65] cannot find symbol",
        "Program.cs(<line>): error CS1002; Service.java(<line>) cannot find symbol",
        triggers=(",", "#L"),
        digit=True,
    ),
    _rule(
        # Files named without an extension. (Until the table was made plain data this rule and
        # the next were one, with a function as replacement: neither can create or break a
        # match of the other, so the split changes no output and n1 stands.)
        "build_file_line",
        r"\b(Dockerfile|Containerfile|Makefile|makefile|GNUmakefile|Jenkinsfile|Gemfile|Rakefile)"
        r":\d+\b",
        r"\1:<line>",
        "failed to solve: Dockerfile:25; make: *** [Makefile:12: all] Error 2",
        "failed to solve: Dockerfile:<line>; make: *** [Makefile:<line>: all] Error 2",
        triggers="file:",
        digit=True,
    ),
    _rule(
        # BuildKit's step numbers ("#12 ERROR: ...").
        "buildkit_step",
        r"^#\d+(?= )",
        "#<step>",
        "#12 ERROR: failed to solve: process did not complete successfully",
        "#<step> ERROR: failed to solve: process did not complete successfully",
        triggers="#",
        digit=True,
        flags=re.MULTILINE,
    ),
    _rule(
        "clock_time",
        r"\d(?<![\w:.]\d)\d?:\d\d:\d\d(?:[.,]\d+)?(?:\s?[AP]M)?(?!\w|:\d)",
        "<time>",
        "7:51:34 PM: Failed during stage 'Install dependencies'",
        "<time>: Failed during stage 'Install dependencies'",
        triggers=":",
        digit=True,
    ),
    _rule(
        "ipv6",
        r"(?<![\w:])(?=[0-9a-fA-F:]*\d)(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}"
        r"|(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?::(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?)"
        r"(?![\w:])",
        "<ip>",
        "connect to 2001:db8::8a2e:370:7334 port 443: timed out; std::vector",
        "connect to <ip> port 443: timed out; std::vector",
        triggers="::",
        digit=True,
    ),
    _rule(
        "bracketed_ipv6_port",
        r"\[<ip>\](?::\d{1,5})?",
        "<ip>",
        "dial tcp [<ip>]:443: i/o timeout",
        "dial tcp <ip>: i/o timeout",
        triggers="[<ip>]",
    ),
    _rule(
        "duration",
        r"\d(?<![\w.]\d)\d*(?:\.\d+)?(?:h|m|s|ms)(?:\d+(?:\.\d+)?(?:h|m|s|ms))+\b"
        r"|\d(?<![\w.]\d)\d*(?:\.\d+)?\s?(?:ns|µs|us|ms|s|sec|secs|seconds?|mins?|minutes?|h|hrs?|hours?)\b",
        "<duration>",
        "timed out after 1m30.5s (limit 100 seconds, took 3.2s)",
        "timed out after <duration> (limit <duration>, took <duration>)",
        digit=True,
    ),
    _rule(
        "size",
        r"\d(?<![\w.]\d)\d*(?:\.\d+)?\s?(?:[KMGTP]i?B|[kKMGT]b|kB|bytes?|B)\b",
        "<size>",
        "requested 2.5 GiB, only 512MB free (1024 bytes reserved)",
        "requested <size>, only <size> free (<size> reserved)",
        digit=True,
    ),
    _rule(
        "pid_tid",
        r"\b(pid|tid|ppid|process|thread|worker)(\s?[:=#]?\s?)\d+\b",
        r"\1\2<pid>",
        "Killed process 4242 (python) ; pid=17; [pid 99]",
        "Killed process <pid> (python) ; pid=<pid>; [pid <pid>]",
        triggers=("id", "ID", "rocess", "ROCESS", "hread", "HREAD", "orker", "ORKER"),
        digit=True,
        flags=re.IGNORECASE,
    ),
    _rule(
        "xdist_worker",
        r"\bgw\d+\b",
        "gw<n>",
        "[gw3] FAILED tests/test_api.py::test_get",
        "[gw<n>] FAILED tests/test_api.py::test_get",
        triggers="gw",
        digit=True,
    ),
    _rule(
        "pytest_parameters",
        r"(\btest\w*)\[[^\[\]\n]*\]",
        r"\1[<param>]",
        "FAILED tests/test_io.py::test_read[utf-8-True-3] - ValueError",
        "FAILED tests/test_io.py::test_read[<param>] - ValueError",
        triggers="[",
    ),
    _rule(
        "random_temp_name",
        r"\btmp(?=\w*\d)[a-z0-9_]{6,10}\b",
        "tmp<rand>",
        "No such file: tmpk2j3_lq0/out.txt",
        "No such file: tmp<rand>/out.txt",
        triggers="tmp",
        digit=True,
    ),
    _rule(
        # Last: any number of 6+ digits left is an id or a counter.
        "long_number",
        r"\d(?<![\w.]\d)\d{5,}(?:\.\d+)?(?![\w.])",
        "<n>",
        "attempt 3 of request 48151623 returned 503 [4098327.382498427]",
        "attempt 3 of request <n> returned 503 [<n>]",
        digit=True,
    ),
)

# The rules that delete text (and so can create matches for later rules) run first, always
# through their own pre-checks; the probes of the other rules are evaluated after them.
_DELETING_RULES = ("ansi_escape", "ansi_residue", "carriage_return", "log_line_timestamp")


# One RE2 probe per rule: a necessary condition for the rule's pattern to match (no anchors,
# no word boundaries, no lookaround), so that one pass of an RE2 set over a line tells which
# rules can apply. Placeholders inserted by earlier rules never complete a probe's match
# (they hold no digits and no hex runs); `bracketed_ipv6_port`, which matches a placeholder,
# has no probe and keeps its substring trigger. The deleting rules' probes only tell whether
# any of them can change the line: when one can, they run through their own pre-checks and
# the line is probed again. A probe may be weaker than its rule where that keeps the set's
# DFA small: in a run of digits, `1\d{9}` must track every "1" among the last nine digits,
# and its states multiply with the other probes' counters; `\d{10}` only counts (the lazy DFA
# of all probes went from 8.9 MB to 2.4 MB on generated lines, its pass a third faster).
PROBES: dict[str, str] = {
    "ansi_escape": r"\x1b",
    "ansi_residue": r"\[\d{1,3}(?:;\d{1,3})*m|\[m",
    "carriage_return": r"\r",
    "log_line_timestamp": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d",
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "iso_timestamp": r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d",
    "http_date": r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d",
    "syslog_timestamp": r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d\d:",
    "iso_date": r"\d{4}-\d\d-\d\d",
    "epoch_timestamp": r"\d{10}",
    "github_run_job_ids": r"(?:runs/|job/|jobs/|attempts/|check_run_id=|(?:run|job)[_ ]id[=: ]+)\d",
    "github_step_anchor": r"#step:\d+:\d",
    "sha256_digest": r"sha256:[0-9a-fA-F]",
    "pid_address_pair": r"\[\d+:0x[0-9a-fA-F]",
    "hosted_runner_name": r"(?:GitHub Actions|Hosted Agent|Azure Pipelines) \d|fv-az\d|ip-\d{1,3}-\d|i-[0-9a-f]{8}",
    "runner_name": r"(?:runner|agent|executor|builder)-[a-z0-9-]*\d",
    "pod_name": r"[a-z0-9]-[a-z0-9]{8,10}-[a-z0-9]{5}",
    "memory_address": r"0x[0-9a-fA-F]",
    "hex_id": r"[0-9a-f]{7}|[0-9A-F]{7}",
    "ipv4": r"\d\.\d{1,3}\.\d{1,3}\.\d",
    "localhost_port": r"(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\]):\d\d",
    "temp_path": r"(?i)/tmp/|/var/tmp/|/var/folders/|/dev/shm/|\\Temp\\",
    "build_root": r"/work/|/__w/|/_work/|:\\a\\|/builds/|/github/workspace/|/workspace/",
    "installed_packages": r"-packages[/\\]|node_modules[/\\]|\.cargo[/\\]registry|pkg[/\\]mod[/\\]|\.m2[/\\]repository",
    "python_stdlib": r"/lib/python3\.\d+/",
    "home_dir": r"/home/|/Users/|/root[/\\]|:\\Users\\",
    "source_line_column": r"\.[A-Za-z][A-Za-z0-9+]{0,5}:\d",
    "line_number_words": r"(?i)(?:line|lines|ln|column|col)[ :=]+\d",
    "line_column_brackets": r"\w\(\d+,\d+\)|\w:\[\d+,\d+\]|#L\d",
    "build_file_line": r"file:\d",
    "buildkit_step": r"#\d+ ",
    "clock_time": r"\d:\d\d:\d\d",
    "ipv6": r"::|(?:[0-9a-fA-F]{1,4}:){7}",
    "duration": r"\d\s?[nuµmsh]",
    "size": r"\d\s?(?:[KMGTPk]|byte|B)",
    "pid_tid": r"(?i)(?:pid|tid|process|thread|worker)\s?[:=#]?\s?\d",
    "xdist_worker": r"gw\d",
    "pytest_parameters": r"test\w*\[",
    "random_temp_name": r"tmp[a-z0-9_]{6}",
    "long_number": r"\d{6}",
}


def _probe_set() -> tuple[object, tuple[int, ...]] | None:
    """An RE2 set of the probes and, per set index, its rule's index; None without google-re2."""
    try:
        import re2
    except ImportError:  # the pure-Python pre-checks give the same result, only slower
        return None
    probes = re2.Set.SearchSet()
    positions: dict[int, int] = {}
    for position, rule in enumerate(RULES):
        if rule.name in PROBES:
            positions[probes.Add(PROBES[rule.name])] = position
    probes.Compile()
    return probes, tuple(positions[index] for index in range(len(positions)))


_PROBE_SET = _probe_set()
FIRST_PROBED = len(_DELETING_RULES)
_UNPROBED = tuple(position for position, rule in enumerate(RULES) if rule.name not in PROBES)
SPACES_PATTERN = r"[ \t\f\v]+"
_SPACES = re.compile(SPACES_PATTERN)

# Normalised form of recently seen lines: CI errors repeat the same lines across jobs, and
# every rule works within one line, so a line is normalised once. Bounded; cleared when full.
_LINE_CACHE: dict[str, str] = {}
# The same, keyed by what is left of a line once the deleting rules ran (RE2 path only): the
# log-line timestamp makes every raw line new, the rest often repeats.
_DELETED_CACHE: dict[str, str] = {}
_LINE_CACHE_LIMIT = 200_000
# Lines longer than this are cut before normalising (a minified bundle is not a message).
MAX_LINE_LENGTH = 2_000


def _apply_checked(text: str, rules: Sequence[Rule], has_digit: bool) -> str:
    """`rules` in order, each only where its own substring / digit pre-checks allow."""
    for rule in rules:
        if rule.may_match(text, has_digit):
            text = rule.pattern.sub(rule.replacement, text)
    return text


def _probed_positions(text: str) -> list[int]:
    """Indexes of the rules whose probe matches `text` (ASCII), in table order."""
    probes, positions = _PROBE_SET  # type: ignore[misc]
    found = probes.Match(text.encode())  # type: ignore[attr-defined]
    return sorted([positions[i] for i in found]) if found else []


def _delete_probed(text: str) -> tuple[str, list[int] | None]:
    """RE2 path, first part: `text` after the deleting rules, and the positions of the other
    rules whose probes match it, or None when the deleting rules changed it (probe again)."""
    selected = _probed_positions(text)
    if not selected or selected[0] >= FIRST_PROBED:
        return text, selected  # no deleting rule can apply
    # A deleting rule may apply: from the first one probed on (those before it cannot match
    # the unchanged text), exactly as without probes.
    deleting = RULES[selected[0] : FIRST_PROBED]
    deleted = _apply_checked(text, deleting, _DIGIT.search(text) is not None)
    if deleted != text:
        return deleted, None
    return text, [position for position in selected if position >= FIRST_PROBED]


def _apply_probed(text: str, selected: list[int]) -> str:
    """RE2 path, second part: the rules at `selected` (none deleting), in order."""
    if _UNPROBED:  # disjoint from the probed ones
        selected = sorted(selected + list(_UNPROBED))
    for position in selected:
        rule = RULES[position]
        # Unprobed rules match what earlier rules wrote: check them on the current text.
        if position in _UNPROBED and not rule.may_match(
            text, not rule.needs_digit or _DIGIT.search(text) is not None
        ):
            continue
        text = rule.pattern.sub(rule.replacement, text)
    return text


def _after_deletion(text: str) -> str:
    """RE2 path, second part, for a text the deleting rules left as it is."""
    selected = [p for p in _probed_positions(text) if p >= FIRST_PROBED]
    return _apply_probed(text, selected)


def apply_rules(text: str, use_probes: bool = True) -> str:
    r"""Only the rule table, in order (no tidying): what each rule's example is checked against.

    With google-re2 installed, one RE2 set pass picks the rules that can match (ASCII text
    only: RE2's `\d` is ASCII); otherwise each rule's substring pre-checks decide. Both give
    the same result (tested).
    """
    if not (use_probes and _PROBE_SET is not None and text.isascii()):
        has_digit = _DIGIT.search(text) is not None
        text = _apply_checked(text, RULES[:FIRST_PROBED], has_digit)
        return _apply_checked(text, RULES[FIRST_PROBED:], has_digit)
    text, selected = _delete_probed(text)
    return _after_deletion(text) if selected is None else _apply_probed(text, selected)


def clear_line_cache() -> None:
    """Forget normalised lines (benchmarks start cold; the cache is never required)."""
    _LINE_CACHE.clear()
    _DELETED_CACHE.clear()


def _tidy_line(line: str) -> str:
    # Only a double space, a tab, \f or \v (all unprintable) can make the collapse change it.
    if "  " in line or not line.isprintable():
        line = _SPACES.sub(" ", line)
    return line.strip()


def _remember(cache: dict[str, str], key: str, value: str) -> None:
    if len(cache) >= _LINE_CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _normalize_new_line(line: str) -> str:
    """`normalize_line` for a line not in the cache."""
    line = line[:MAX_LINE_LENGTH]
    if _PROBE_SET is None or not line.isascii():
        return _tidy_line(apply_rules(line))
    text, selected = _delete_probed(line)
    if selected is not None:
        return _tidy_line(_apply_probed(text, selected))
    cached = _DELETED_CACHE.get(text)
    if cached is None:
        cached = _tidy_line(_after_deletion(text))
        _remember(_DELETED_CACHE, text, cached)
    return cached


def normalize_line(line: str) -> str:
    """One line through the rule table, blanks collapsed and stripped."""
    cached = _LINE_CACHE.get(line)
    if cached is None:
        cached = _normalize_new_line(line)
        _remember(_LINE_CACHE, line, cached)
    return cached


def normalize(text: str) -> str:
    """The normalised form of `text`: each line through the rules in order, then tidied.

    Tidying: runs of blanks become one space, lines are stripped, empty lines dropped, and a
    line equal to an earlier line is dropped (retries print the same error again and again).
    """
    seen: set[str] = set()
    lines: list[str] = []
    for raw_line in text.split("\n"):
        line = normalize_line(raw_line)
        if line and line not in seen:
            seen.add(line)
            lines.append(line)
    return "\n".join(lines)
