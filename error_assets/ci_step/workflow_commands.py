"""GitHub Actions workflow commands (`::warning::`, `::error file=…,line=…::`) written to stdout.

A step creates check-run annotations without a token by printing these lines. Values are
escaped as the Actions runner expects, so a message with a newline or `::` cannot end the
command early or inject another one.
"""

from __future__ import annotations

from collections.abc import Mapping

# GitHub shows at most 10 error and 10 warning annotations per step.
MAX_ANNOTATIONS = 10


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: Mapping[str, object] | None = None) -> str:
    """One workflow command line, e.g. `::error file=a.py,line=3,title=Code error::msg`."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value not in (None, "")
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def warning(message: str, title: str = "error-assets") -> str:
    return command("warning", message, {"title": title})


def annotation(
    message: str, *, title: str, file: str = "", line: int | None = None, level: str = "error"
) -> str:
    """An annotation on `file:line` when known, else on the job."""
    properties: dict[str, object] = {}
    if file:
        properties["file"] = file
        if line:
            properties["line"] = line
    properties["title"] = title
    return command(level, message, properties)
