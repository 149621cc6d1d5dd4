"""Workflow commands are escaped so a message cannot end or inject a command."""

from __future__ import annotations

from error_assets.ci_step import workflow_commands as wc


def test_annotation_with_file_and_line() -> None:
    line = wc.annotation("boom", title="Code error (90%)", file="src/a.py", line=12)
    # `%` is escaped in properties too; the runner decodes it back.
    assert line == "::error file=src/a.py,line=12,title=Code error (90%25)::boom"


def test_annotation_without_a_file_lands_on_the_job() -> None:
    assert wc.annotation("x", title="t", line=3) == "::error title=t::x"


def test_newlines_percent_and_separators_are_escaped() -> None:
    line = wc.annotation("a\nb 100%\r::warning::c", title="x,y:z", file="a,b.py")
    assert "\n" not in line and "\r" not in line
    assert line == "::error file=a%2Cb.py,title=x%2Cy%3Az::a%0Ab 100%25%0D::warning::c"
    # The message cannot start a second command: it stays on one line after the first `::`.
    assert line.count("\n") == 0


def test_warning() -> None:
    assert wc.warning("oops") == "::warning title=error-assets::oops"
