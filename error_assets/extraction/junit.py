"""JUnit XML in all its dialects, read incrementally with defusedxml.

What counts as a failure: a `<failure>` or `<error>` child of a `<testcase>`. A test case whose
only outcomes are `flakyFailure`/`flakyError`/`rerunFailure`/`rerunError` passed on a retry;
`<skipped>` and `status="disabled"/"notrun"` cases are ignored. The suite counters are never
trusted (Surefire counts attempts): `JUnitReport.counts` is recomputed from the test cases.

Where the words of a failure live differs by producer: the `message` attribute (tst, pytest),
the body (jest-junit), CDATA (Surefire, go-junit-report), or nowhere but the captured output
(Bazel, CTest: an empty `<error>` and the log in `<system-out>`, of the test case or of its
suite). When the attribute is missing or generic ("Failed", "Build error", "exited with error
code 1"), the most specific line of the body or output (by the log rules) becomes the message.

defusedxml refuses entity declarations and external references, so a "billion laughs" or an
XXE file is reported, never expanded. A truncated file yields the failures read before the
break, plus a problem naming the line and column.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from error_assets.extraction.findings import TIER_REPORT, TIER_SPECIFIC, Finding
from error_assets.extraction.line_rules import Hit, classify
from error_assets.extraction.log_lines import clean_line

MAX_JUNIT_BYTES = 512 << 20
OUTPUT_CHARS = 4000  # of each captured output kept in the excerpt
SCAN_LINES = 400  # lines of body/output the rules look at for a message

_REAL = ("failure", "error")
_RETRY = ("flakyFailure", "flakyError", "rerunFailure", "rerunError")
_GENERIC_MESSAGE = re.compile(
    r"^(?:|failed|failure|error|errors?|build error|runtime error|setup error|test failure|"
    r"assertion ?error|exited with error code \d+|exit code \d+|fail|failed test|\d+)$",
    re.IGNORECASE,
)
_CLASS_LIKE = re.compile(r"^(?:[A-Za-z_][\w$]*\.)+[A-Za-z_][\w$]*$|^[A-Z]\w*(?:Error|Exception)$")


class _NotJUnit(ValueError):
    """Well-formed XML that is not a test report."""


@dataclass(slots=True)
class JUnitReport:
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Recounted from the test cases: tests, failed, errored, skipped, flaky, disabled.
    counts: Counter[str] = field(default_factory=Counter)
    framework: str = ""


@dataclass(slots=True)
class _Suite:
    name: str
    output: str = ""
    pending: list[tuple[ElementTree.Element, dict[str, str], str]] = field(default_factory=list)


def read_junit(
    stream: IO[bytes], source_path: str, *, head: bytes = b"", max_text_chars: int = 10_000
) -> JUnitReport:
    """All failures of one JUnit XML file (see the module docstring for the dialects)."""
    report = JUnitReport(framework=_framework(head))
    reader = _Reader(report, source_path, max_text_chars)
    try:
        reader.run(stream)
    except defusedxml.EntitiesForbidden:
        report.problems.append(
            "XML declares entities (a possible entity-expansion 'XML bomb' or external entity); "
            "refused without expanding them"
        )
    except defusedxml.ExternalReferenceForbidden:
        report.problems.append(
            "XML refers to an external resource (XXE); refused without fetching it"
        )
    except defusedxml.DTDForbidden:
        report.problems.append("XML has a document type declaration; refused")
    except ElementTree.ParseError as error:
        reader.salvage()
        line, column = getattr(error, "position", (0, 0))
        what = (
            "truncated XML"
            if "no element found" in str(error) or "unclosed" in str(error)
            else "malformed XML"
        )
        read = len(report.findings)
        report.problems.append(
            f"{what} at line {line}, column {column} ({_expat_reason(error)}); "
            f"{read} failure{'s' if read != 1 else ''} read before it"
        )
    except _NotJUnit as error:
        report.problems.append(str(error))
    except RecursionError:
        report.problems.append("XML nested too deeply")
    return report


def _expat_reason(error: ElementTree.ParseError) -> str:
    return str(error).split(":", 1)[0]


class _Reader:
    def __init__(self, report: JUnitReport, source_path: str, max_text_chars: int) -> None:
        self.report = report
        self.source_path = source_path
        self.max_text_chars = max_text_chars
        self.suites: list[_Suite] = []
        self.position = 0
        self.saw_root = False
        self.stack: list[ElementTree.Element] = []

    def salvage(self) -> None:
        """After a parse error: the test cases still open may hold complete failures."""
        for element in self.stack:
            if _local(element.tag) == "testcase":
                self._testcase(element)
        while self.suites:
            self._close_suite()

    def run(self, stream: IO[bytes]) -> None:
        stack = self.stack
        events = SafeElementTree.iterparse(stream, events=("start", "end"), forbid_dtd=False)
        for event, element in events:
            tag = _local(element.tag)
            if event == "start":
                if not stack:
                    self._check_root(tag)
                if tag == "testsuite":
                    self.suites.append(_Suite(element.get("name", "")))
                stack.append(element)
                continue
            stack.pop()
            parent = stack[-1] if stack else None
            if tag == "testcase":
                self._testcase(element)
            elif (
                tag in ("system-out", "system-err")
                and parent is not None
                and _local(parent.tag) == "testsuite"
            ):
                if self.suites:
                    self.suites[-1].output += _bounded(element.text)
            elif tag == "testsuite":
                self._close_suite()
            else:
                continue
            if parent is not None:
                parent.remove(element)  # keep memory flat on large reports
        if not self.saw_root:
            raise _NotJUnit("not a JUnit report: no root element")

    def _check_root(self, tag: str) -> None:
        self.saw_root = True
        if tag not in ("testsuites", "testsuite", "testrun", "testcase"):
            raise _NotJUnit(f"not a JUnit report: the root element is <{tag}>")

    def _testcase(self, case: ElementTree.Element) -> None:
        counts = self.report.counts
        counts["tests"] += 1
        status = (case.get("status") or case.get("result") or "").lower()
        children = list(case)
        real = [c for c in children if _local(c.tag) in _REAL]
        if not real:
            if any(_local(c.tag) in _RETRY for c in children):
                counts["flaky"] += 1
            elif status in ("disabled", "notrun", "not run"):
                counts["disabled"] += 1
            elif any(_local(c.tag) == "skipped" for c in children) or status in ("skipped", "skip"):
                counts["skipped"] += 1
            return
        counts["failed" if any(_local(c.tag) == "failure" for c in real) else "errored"] += 1
        output = "".join(
            _bounded(c.text) for c in children if _local(c.tag) in ("system-out", "system-err")
        )
        attrs = dict(case.attrib)
        seen: set[str] = set()
        for outcome in real:
            key = (outcome.get("message") or "") + (outcome.text or "")[:200]
            if key in seen:
                continue
            seen.add(key)
            attr = (outcome.get("message") or "").strip()
            empty = (not attr or _GENERIC_MESSAGE.match(attr)) and not (outcome.text or "").strip()
            if empty and not output and self.suites:
                # Bazel: the log is in the suite's <system-out>, which may come later.
                self.suites[-1].pending.append((outcome, attrs, ""))
                continue
            self._emit(outcome, attrs, output)

    def _close_suite(self) -> None:
        if not self.suites:
            return
        suite = self.suites.pop()
        for outcome, attrs, output in suite.pending:
            self._emit(outcome, attrs, output or suite.output)

    def _emit(self, outcome: ElementTree.Element, case: dict[str, str], output: str) -> None:
        self.position += 1
        kind = _local(outcome.tag)
        message_attr = (outcome.get("message") or "").strip()
        type_attr = (outcome.get("type") or "").strip()
        body = _bounded(outcome.text, self.max_text_chars)
        first_attr_line = message_attr.splitlines()[0].strip() if message_attr else ""
        best = _best_line("\n".join(part for part in (message_attr, body, output) if part))
        attr_hit = classify(first_attr_line) if first_attr_line else None
        attr_tier = attr_hit.tier if attr_hit is not None else -1
        if best is not None and best.tier >= TIER_SPECIFIC and attr_tier < best.tier:
            message = best.message  # the attribute holds a traceback or a vaguer summary
        elif first_attr_line and not _GENERIC_MESSAGE.match(first_attr_line):
            message = first_attr_line
        elif best is not None:
            message = best.message
        else:
            message = (
                _first_line(body) or _first_line(output) or first_attr_line or type_attr or kind
            )
        message = message.lstrip(": ") or kind
        if _CLASS_LIKE.match(type_attr) and type_attr.rsplit(".", 1)[-1] not in message:
            message = f"{type_attr}: {message}"
        file = outcome.get("file") or case.get("file") or ""
        line = _as_int(outcome.get("line") or case.get("line"))
        if best is not None and not file and best.file:
            file, line = best.file, best.line
        tier = max(TIER_REPORT, best.tier if best is not None else TIER_REPORT)
        parts = [message_attr if message_attr and message_attr not in body else "", body, output]
        text = "\n".join(part.strip("\n") for part in parts if part.strip())
        self.report.findings.append(
            Finding(
                source_kind="junit",
                framework=self.report.framework,
                role="cause",
                tier=tier,
                message=" ".join(message.split())[:1000],
                text=text[: self.max_text_chars] or message,
                source_path=self.source_path,
                position=self.position,
                origin="junit",
                test_name=_test_name(case),
                file=file,
                line=line,
                detail="" if best is None else best.message,
                rule=f"junit_{kind}",
            )
        )


def _best_line(text: str) -> Hit | None:
    """The most specific error line of a failure body or captured output."""
    best: Hit | None = None
    for raw in text.splitlines()[:SCAN_LINES]:
        line = clean_line(raw).text
        hit = classify(line)
        if hit is None or hit.role != "cause":
            continue
        if best is None or hit.tier > best.tier:
            best = hit
    return best


def _test_name(case: dict[str, str]) -> str:
    name = (case.get("name") or "").strip()
    classname = (case.get("classname") or case.get("class") or "").strip()
    if not classname or name.startswith(classname):
        return name
    if name.startswith("["):  # go-junit-report's `[build failed]` pseudo test of a package
        return f"{classname} {name}"
    return f"{classname}.{name}"


def _framework(head: bytes) -> str:
    window = head[:16384]
    markers = (
        (b'name="pytest"', "pytest"),
        (b"jest", "jest"),
        (b"go.version", "go"),
        (b"surefire", "surefire"),
        (b"testng", "testng"),
        (b"scalatest", "scalatest"),
        (b"nextest", "nextest"),
        (b"phpunit", "phpunit"),
        (b"Mocha", "mocha"),
        (b"xunit", "xunit"),
    )
    for marker, name in markers:
        if marker in window:
            return name
    return "junit"


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _bounded(text: str | None, limit: int = OUTPUT_CHARS) -> str:
    if not text:
        return ""
    return text if len(text) <= limit else text[:limit] + "\n…"


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _as_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def file_too_large(path: Path) -> str | None:
    size = path.stat().st_size
    if size > MAX_JUNIT_BYTES:
        return f"JUnit file is {size >> 20} MiB, over the {MAX_JUNIT_BYTES >> 20} MiB limit"
    return None
