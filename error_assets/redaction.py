"""Secret redaction: applied to every error text before it is stored or leaves the process.

`redact(text)` replaces credentials with `[REDACTED:<kind>]`. Patterns are ordered from the
most specific (a GitHub token's exact shape) to the most generic (`password=...`), so a
value is labelled by the most precise kind that matches and never redacted twice.
The patterns aim at shapes that do not occur in ordinary CI output: a commit SHA, a
UUID or `Unexpected token ':'` stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MARKER = "[REDACTED:{kind}]"


@dataclass(frozen=True, slots=True)
class SecretPattern:
    """One kind of secret: its regex and which group (0 = the whole match) is the secret."""

    kind: str
    regex: re.Pattern[str]
    group: int | str = 0


def _p(kind: str, pattern: str, group: int | str = 0, flags: int = 0) -> SecretPattern:
    return SecretPattern(kind, re.compile(pattern, flags), group)


# Value characters of an assignment: stop at whitespace, quotes and separators.
_VALUE = r"[^\s\"'`,;&<>()\[\]{}]"

PATTERNS: tuple[SecretPattern, ...] = (
    _p(
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.|\n)*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    # GitHub: classic (ghp/gho/ghu/ghs/ghr) and fine-grained personal access tokens.
    _p("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
    _p("github_token", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    # AWS access key ids, and secret keys where they are named.
    _p("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA)[A-Z0-9]{16}\b"),
    _p(
        "aws_secret_key",
        r"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?(?P<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
        "v",
    ),
    # GCP: API keys and OAuth access tokens.
    _p("gcp_api_key", r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
    _p("gcp_oauth_token", r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    # Slack: bot/user/app tokens and incoming webhooks.
    _p("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _p("slack_token", r"\bxapp-\d-[A-Za-z0-9-]{10,}"),
    _p(
        "slack_webhook",
        r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows)/[A-Za-z0-9_/\-]{20,}",
    ),
    # npm access tokens and .npmrc auth lines.
    _p("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _p("npm_token", r"(?i):_(?:authToken|auth|password)\s*=\s*(?P<v>" + _VALUE + r"{6,})", "v"),
    # PyPI API tokens (macaroons).
    _p("pypi_token", r"\bpypi-AgE[A-Za-z0-9_\-]{50,}"),
    # JSON Web Tokens: three base64url parts, the first two JSON objects ("eyJ").
    _p("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    # Authorization headers (also the bare scheme form `Bearer <token>`).
    _p(
        "bearer_token",
        r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?bearer\s+(?P<v>[A-Za-z0-9_\-.~+/]{4,}=*)",
        "v",
    ),
    # A bare `Bearer <token>` outside a header: the token must hold a digit, so prose such
    # as "Bearer authentication failed" survives.
    _p(
        "bearer_token",
        r"(?i)\bbearer\s+(?P<v>(?=[A-Za-z0-9_\-.~+/]*\d)[A-Za-z0-9_\-.~+/]{12,}=*)",
        "v",
    ),
    _p(
        "basic_auth",
        r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?basic\s+(?P<v>[A-Za-z0-9+/]{8,}=*)",
        "v",
    ),
    _p(
        "basic_auth",
        r"(?i)\bbasic\s+(?P<v>(?=[A-Za-z0-9+/]*[0-9+/])[A-Za-z0-9+/]{16,}={0,2}"
        r"|[A-Za-z0-9+/]{16,}={1,2})(?![A-Za-z0-9+/=])",
        "v",
    ),
    _p(
        "authorization",
        r"(?i)\b(?:authorization|x-api-key|private-token|x-auth-token)[\"']?\s*:\s*[\"']?"
        r"(?!\[REDACTED)(?!bearer\b)(?!basic\b)(?P<v>" + _VALUE + r"{8,})",
        "v",
    ),
    # user:password@host in URLs (the user name stays, it helps debugging).
    _p(
        "url_password",
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@\"'<>]*:(?P<v>[^\s@/\"'<>]{1,256})@(?=[\w\[])",
        "v",
    ),
    # Generic `password=...`, `secret: ...`, `token="..."`, `"api_key": "..."` assignments.
    _p(
        "assignment",
        r"(?i)(?<![A-Za-z0-9])[A-Za-z0-9_.\-]*"
        r"(?:password|passwd|secret|token|api[_\-]?key|access[_\-]?key)"
        r"[\"']?\s*(?::|=|:=|=>)\s*[\"']?"
        r"(?!\[REDACTED)(?!\*{3})(?!\$\{?\{?)(?!(?:null|none|true|false|undefined)\b)"
        # An upper-case identifier names an environment variable, not a secret.
        r"(?!(?-i:[A-Z][A-Z0-9_]*)(?:[\s\"',;]|$))"
        r"(?P<v>(?=" + _VALUE + r"*[A-Za-z])" + _VALUE + r"{4,})",
        "v",
    ),
)


def _replacer(pattern: SecretPattern) -> Callable[[re.Match[str]], str]:
    marker = MARKER.format(kind=pattern.kind)

    def replace(match: re.Match[str]) -> str:
        start, end = match.span(pattern.group)
        whole_start = match.start()
        text = match.group(0)
        return text[: start - whole_start] + marker + text[end - whole_start :]

    return replace


_REPLACERS = tuple((p.regex, _replacer(p)) for p in PATTERNS)


def redact(text: str) -> str:
    """`text` with every recognised secret replaced by `[REDACTED:<kind>]`."""
    if not text:
        return text
    for regex, replace in _REPLACERS:
        text = regex.sub(replace, text)
    return text


def redaction_kinds(text: str) -> list[str]:
    """The kinds of secrets `redact` replaced in `text` (in order of appearance)."""
    return re.findall(r"\[REDACTED:([a-z_]+)\]", redact(text))
