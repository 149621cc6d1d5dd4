"""Redaction: every planted secret disappears, ordinary CI output stays as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from error_assets.redaction import redact, redaction_kinds

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "classification"


def planted() -> list[dict[str, str]]:
    lines = (FIXTURES / "planted_secrets.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("row", planted(), ids=lambda row: row["kind"])
def test_planted_secret_is_replaced_by_its_kind(row: dict[str, str]) -> None:
    redacted = redact(row["text"])
    assert row["secret"] not in redacted
    # No line of a multi-line secret (private keys) survives either.
    for part in row["secret"].splitlines():
        if len(part) >= 8 and "-----" not in part:
            assert part not in redacted
    assert f"[REDACTED:{row['kind']}]" in redacted


def test_redaction_is_idempotent() -> None:
    for row in planted():
        once = redact(row["text"])
        assert redact(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "SyntaxError: Unexpected token ':' in JSON at position 12",
        "HEAD is now at 3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345 Merge pull request #12",
        "request id 123e4567-e89b-12d3-a456-426614174000 failed",
        "  server-password: GITHUB_TOKEN",
        "  password: ${{ secrets.DB_PASSWORD }}",
        "  token: ***",
        "Error response from daemon: Get https://registry-1.docker.io/v2/: unauthorized: "
        'incorrect username or password, www-authenticate: Bearer realm="https://auth.docker.io/token"',
        "git clone ssh://git@github.com:22/acme/app.git",
        "Access denied for user 'root'@'localhost' (using password: YES)",
        "basic authentication failed for https://nexus.example.com",
        "max_tokens: 1024",
    ],
)
def test_ordinary_ci_text_is_untouched(text: str) -> None:
    assert redact(text) == text


def test_url_password_keeps_user_and_host() -> None:
    redacted = redact("fatal: could not read from https://bot:hunter2pass@git.example.com/a.git")
    assert redacted == (
        "fatal: could not read from https://bot:[REDACTED:url_password]@git.example.com/a.git"
    )


def test_kinds_reported_in_order() -> None:
    text = "Authorization: Bearer abcdefgh12345678\nuser AKIAABCDEFGHIJKLMNOP"
    assert redaction_kinds(text) == ["bearer_token", "aws_access_key"]


@pytest.mark.realworld
def test_realworld_snippets_lose_nothing(realworld_dir: Path) -> None:
    """The real snippets hold no secrets: redaction must not alter a single one."""
    lines = (realworld_dir / "error_snippets.jsonl").read_text(encoding="utf-8").splitlines()
    changed = [i for i, line in enumerate(lines) if (t := json.loads(line)["text"]) != redact(t)]
    assert changed == []
