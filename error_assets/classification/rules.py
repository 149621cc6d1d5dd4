"""The rule library: named signatures loaded from `rules.yaml` (data, not code).

A rule claims a text when one of its patterns matches a line and none of its `unless`
patterns matches anywhere in the text. When rules of different categories claim the same
text, the decision is left to the next classifier unless one side is clearly stronger.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from error_assets.taxonomy import is_category

RULES_FILE = "rules.yaml"
# Rules of opposing categories closer than this in confidence make the text ambiguous.
CONFLICT_MARGIN = 0.1
# Confidence lost when a weaker rule of the other category also matched.
CONFLICT_PENALTY = 0.1
MAX_EVIDENCE_CHARS = 500


class RuleFileError(ValueError):
    """The rule file is malformed; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    confidence: float
    summary: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    example: str
    not_examples: tuple[str, ...] = ()

    def evidence(self, lines: list[str], text: str) -> str | None:
        """The first line this rule claims, or None when it does not claim the text."""
        if any(veto.search(text) for veto in self.unless):
            return None
        for line in lines:
            if any(p.search(line) for p in self.patterns):
                return line.strip()[:MAX_EVIDENCE_CHARS]
        return None


@dataclass(frozen=True, slots=True)
class RuleMatch:
    rule: Rule
    evidence_line: str
    confidence: float


@dataclass(frozen=True, slots=True)
class RuleLibrary:
    version: str
    rules: tuple[Rule, ...]

    def matches(self, text: str) -> list[RuleMatch]:
        """Every rule that claims `text`, strongest first (file order breaks ties)."""
        lines = [line for line in text.splitlines() if line.strip()]
        found = []
        for rule in self.rules:
            line = rule.evidence(lines, text)
            if line is not None:
                found.append(RuleMatch(rule, line, rule.confidence))
        return sorted(found, key=lambda m: -m.confidence)

    def decide(self, text: str) -> RuleMatch | None:
        """The rule verdict for `text`, or None when no rule (or no clear winner) claims it."""
        found = self.matches(text)
        if not found:
            return None
        best = found[0]
        opposing = [m for m in found if m.rule.category != best.rule.category]
        if not opposing:
            return best
        if best.confidence - opposing[0].confidence < CONFLICT_MARGIN:
            return None
        return RuleMatch(best.rule, best.evidence_line, best.confidence - CONFLICT_PENALTY)


def _compile(pattern: object, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise RuleFileError(f"{where}: pattern {pattern!r} is not a string")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleFileError(f"{where}: invalid regex {pattern!r}: {exc}") from None


def parse_rules(source: str, name: str = RULES_FILE) -> RuleLibrary:
    """Parse rule-file text; raise RuleFileError naming `name` and the rule at fault."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RuleFileError(f"{name}: expected a mapping with 'version' and a 'rules' list")
    declared = str(data.get("version") or "").strip()
    if not declared:
        raise RuleFileError(f"{name}: 'version' is missing")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["rules"]):
        where = f"{name}: rule #{index + 1}"
        if not isinstance(raw, dict):
            raise RuleFileError(f"{where}: expected a mapping")
        rule_id = str(raw.get("id") or "")
        where = f"{name}: rule {rule_id or '#' + str(index + 1)}"
        if not rule_id or rule_id in seen:
            raise RuleFileError(f"{where}: missing or duplicate id")
        seen.add(rule_id)
        if not is_category(raw.get("category")):
            raise RuleFileError(f"{where}: unknown category {raw.get('category')!r}")
        confidence = raw.get("confidence")
        if not isinstance(confidence, int | float) or not 0.0 < float(confidence) <= 1.0:
            raise RuleFileError(f"{where}: confidence must be a number in (0, 1]")
        patterns = raw.get("patterns") or []
        if not patterns:
            raise RuleFileError(f"{where}: no patterns")
        if not raw.get("example"):
            raise RuleFileError(f"{where}: every rule needs an example")
        rules.append(
            Rule(
                id=rule_id,
                category=raw["category"],
                confidence=float(confidence),
                summary=str(raw.get("summary") or "").strip(),
                patterns=tuple(_compile(p, where) for p in patterns),
                unless=tuple(_compile(p, where) for p in raw.get("unless") or []),
                example=str(raw["example"]),
                not_examples=tuple(str(t) for t in raw.get("not_examples") or []),
            )
        )
    # The content hash makes an edit without a version bump still invalidate the cache.
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:8]
    return RuleLibrary(version=f"{declared}+{digest}", rules=tuple(rules))


def load_rules(path: Path | None = None) -> RuleLibrary:
    """The rule library from `path`, or the packaged `rules.yaml` (parsed once)."""
    if path is not None:
        return parse_rules(path.read_text(encoding="utf-8"), str(path))
    return _packaged_rules()


@cache
def _packaged_rules() -> RuleLibrary:
    source = resources.files(__package__).joinpath(RULES_FILE).read_text(encoding="utf-8")
    return parse_rules(source, f"error_assets/classification/{RULES_FILE}")
