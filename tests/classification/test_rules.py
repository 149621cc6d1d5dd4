"""The rule library: every rule claims its example, leaves its not_examples, and stays precise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from error_assets.classification.rules import RuleFileError, load_rules, parse_rules
from error_assets.taxonomy import CATEGORY_NAMES

LIBRARY = load_rules()


@pytest.mark.parametrize("rule", LIBRARY.rules, ids=lambda r: r.id)
def test_rule_claims_its_example(rule) -> None:
    match = LIBRARY.decide(rule.example)
    assert match is not None and match.rule.id == rule.id
    assert match.evidence_line in rule.example


@pytest.mark.parametrize(
    ("rule_id", "text"),
    [(r.id, t) for r in LIBRARY.rules for t in r.not_examples],
)
def test_rule_leaves_its_not_examples_alone(rule_id: str, text: str) -> None:
    assert rule_id not in [m.rule.id for m in LIBRARY.matches(text)]


def test_library_covers_both_categories_and_is_versioned() -> None:
    assert {r.category for r in LIBRARY.rules} == set(CATEGORY_NAMES)
    assert LIBRARY.version.startswith("20") and "+" in LIBRARY.version


def test_conflicting_rules_of_close_strength_defer() -> None:
    # A compile error (code, 0.93) next to a registry rate limit (infrastructure, 0.93).
    text = "src/app.c:10:3: error: unknown type name 'foo'\ntoomanyrequests: slow down"
    assert {m.rule.category for m in LIBRARY.matches(text)} == set(CATEGORY_NAMES)
    assert LIBRARY.decide(text) is None


def test_clearly_stronger_rule_wins_with_a_penalty() -> None:
    # A runner shutdown (0.97) explains a test timeout (0.75) that followed it.
    text = "panic: test timed out after 10m0s\nThe runner has received a shutdown signal."
    match = LIBRARY.decide(text)
    assert match is not None and match.rule.id == "runner-shutdown-signal"
    assert match.confidence == pytest.approx(0.87)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("rules: []", "'version' is missing"),
        (
            "version: 1\nrules:\n  - id: a\n    category: weather\n    confidence: 0.9\n    patterns: [x]\n    example: x",
            "unknown category",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    category: code_error\n    confidence: 1.5\n    patterns: [x]\n    example: x",
            "confidence",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    category: code_error\n    confidence: 0.5\n    patterns: ['(']\n    example: x",
            "invalid regex",
        ),
        (
            "version: 1\nrules:\n  - id: a\n    category: code_error\n    confidence: 0.5\n    patterns: [x]",
            "needs an example",
        ),
        ("version: [", "not valid YAML"),
    ],
)
def test_bad_rule_files_are_reported_with_file_and_rule(source: str, problem: str) -> None:
    with pytest.raises(RuleFileError, match=problem) as caught:
        parse_rules(source, "my_rules.yaml")
    assert "my_rules.yaml" in str(caught.value)


@pytest.mark.realworld
def test_rules_never_claim_a_hard_case_wrongly(realworld_dir: Path) -> None:
    """The realworld hard cases are the reference for what rules must not claim."""
    lines = (realworld_dir / "error_snippets.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    wrong = []
    for number, row in enumerate(rows, 1):
        match = LIBRARY.decide(row["text"])
        if match is not None and match.rule.category != row["label"]:
            wrong.append((number, row["why"].startswith("Hard case"), match.rule.id))
    print(f"rules claim {sum(LIBRARY.decide(r['text']) is not None for r in rows)} of {len(rows)}")
    assert [w for w in wrong if w[1]] == []
    assert len(wrong) <= 2, wrong  # outside the hard cases, near-perfect precision
