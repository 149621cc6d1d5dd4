"""The classifier: each error gets its verdict from the cheapest source that is sure.

Order of trust: a human override (labels file, or `s_human_category` in the store), the
cache (a document of the store classified with the same rules and prompt versions and a
confidence above the threshold), the rule library, Claude (when a key is configured and the
run is not offline), and the offline model last. Texts are redacted and bounded before any
of them sees the text, so what is stored and what is sent is the same redacted text.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from error_assets import settings as settings_module
from error_assets.classification.labels import HumanLabel, load_labels
from error_assets.classification.prompt import (
    WorkedExample,
    prompt_version,
    static_system_prompt,
    system_prompt,
)
from error_assets.classification.rules import load_rules
from error_assets.models import Classification, Cluster, stable_id
from error_assets.redaction import redact
from error_assets.settings import Settings
from error_assets.taxonomy import category as taxonomy_category
from error_assets.taxonomy import is_category

MODES = ("interactive", "batch", "auto")


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything the classifier needs, passed in (domain code never reads the environment)."""

    api_key: str | None = None
    model: str = settings_module.DEFAULT_MODEL
    base_url: str | None = None
    batch_size: int = 10
    max_error_length: int = 10_000
    max_cost_usd_per_run: float = 1.0
    offline: bool = False  # never touch the network
    labels_path: Path | None = None  # human overrides file
    batch_api_min_clusters: int = 50  # use the Message Batches API at/above this many
    requests_per_minute: int = 50
    min_cache_confidence: float = 0.5
    # Where batch ids and paid answers are kept for resume (None: no resume across runs).
    state_dir: Path | None = None
    # Where the fitted offline model is cached between processes (None: train per process).
    model_cache_dir: Path | None = None
    max_retries: int = 4
    timeout_seconds: float = 60.0
    poll_interval_seconds: float = 30.0
    batch_max_wait_seconds: float = 3600.0
    effort: str | None = "low"

    @classmethod
    def from_settings(cls, settings: Settings, *, offline: bool = False) -> ClassifierConfig:
        labels = settings.home / "labels.yaml"
        return cls(
            api_key=settings.anthropic_api_key,
            model=settings.anthropic_model,
            base_url=settings.anthropic_base_url,
            batch_size=settings.batch_size,
            max_error_length=settings.max_error_length,
            max_cost_usd_per_run=settings.max_cost_usd_per_run,
            offline=offline,
            labels_path=labels if labels.is_file() else None,
            state_dir=settings.home / "classification",
            model_cache_dir=settings.home / "cache",
        )

    @property
    def llm_enabled(self) -> bool:
        return bool(self.api_key) and not self.offline


@dataclass
class ClassificationInput:
    """One thing to classify."""

    key: str
    text: str
    message: str = ""
    source_kind: str = ""
    test_name: str = ""
    step_name: str = ""


@dataclass
class ClassificationRun:
    classifications: list[Classification]  # same order as the input
    stats: dict[str, Any] = field(default_factory=dict)


def input_for_cluster(cluster: Cluster) -> ClassificationInput:
    return ClassificationInput(
        key=cluster.fingerprint,
        text=cluster.representative_text,
        message=cluster.representative_message,
        source_kind=cluster.source_kind,
        test_name=cluster.test_names[0] if cluster.test_names else "",
        step_name=cluster.step_names[0] if cluster.step_names else "",
    )


def bounded(text: str, limit: int) -> str:
    """The last `limit` characters of `text` (failures are at the end), cut at a line start."""
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    newline = tail.find("\n")
    return tail[newline + 1 :] if 0 <= newline < len(tail) - 1 else tail


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Classifier:
    """Classify clusters or free-standing inputs; see the module docstring for the order."""

    def __init__(
        self,
        config: ClassifierConfig,
        store: Any | None = None,
        *,
        client: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if config.max_error_length < 200:
            raise ValueError("max_error_length must be at least 200 characters")
        self.config = config
        self.store = store
        self.rules = load_rules()
        self.labels = load_labels(config.labels_path)
        self._client = client
        self._sleep = sleep

    # -- versions and prompt ----------------------------------------------------------------

    @property
    def rules_version(self) -> str:
        return self.rules.version

    @cached_property
    def static_prompt(self) -> str:
        from error_assets.classification.offline import load_training_corpus

        return static_system_prompt(self.rules, load_training_corpus())

    @property
    def prompt_version(self) -> str:
        return prompt_version(self.static_prompt)

    # -- public API -------------------------------------------------------------------------

    def classify_clusters(
        self,
        clusters: Sequence[Cluster],
        *,
        mode: str = "auto",
        llm_allowed: Callable[[Cluster], bool] | None = None,
    ) -> ClassificationRun:
        items = [input_for_cluster(c) for c in clusters]
        allowed = None
        if llm_allowed is not None:
            allowed = {c.fingerprint for c in clusters if llm_allowed(c)}
        run = self._classify(items, mode, allowed)
        run.classifications = [
            dataclasses.replace(
                verdict, partition=cluster.partition, normalizer_version=cluster.normalizer_version
            )
            for verdict, cluster in zip(run.classifications, clusters, strict=True)
        ]
        return run

    def classify_inputs(
        self,
        items: Sequence[ClassificationInput],
        *,
        mode: str = "auto",
        llm_allowed: Callable[[ClassificationInput], bool] | None = None,
    ) -> ClassificationRun:
        allowed = None
        if llm_allowed is not None:
            allowed = {item.key for item in items if llm_allowed(item)}
        return self._classify(list(items), mode, allowed)

    # -- the pipeline of sources ------------------------------------------------------------

    def _classify(
        self, items: list[ClassificationInput], mode: str, allowed: set[str] | None
    ) -> ClassificationRun:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        stats: dict[str, Any] = {
            "items": len(items),
            "unique": 0,
            "human": 0,
            "cache_hits": 0,
            "rule_hits": 0,
            "llm": 0,
            "offline": 0,
            "llm_requests": 0,
            "batch_requests": 0,
            "batch_items": 0,
            "requests_with_cache_read": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cost_usd": 0.0,
            "budget_exhausted": 0,
            "llm_failures": 0,
            "llm_mode": "",
            "offline_mode": self.config.offline,
            "llm_enabled": self.config.llm_enabled,
            "rules_version": self.rules_version,
        }
        # One decision per (key, text): rules and the offline model judge each text, so a
        # ranged run decides exactly as hour-by-hour runs would. Claude is asked once per key.
        unique: dict[str, ClassificationInput] = {}  # unit -> its first input
        texts: dict[str, str] = {}  # unit -> redacted, bounded text
        keys: dict[str, str] = {}  # unit -> key
        units: list[str] = []  # unit of each input
        for item in items:
            text = self.prepared_text(item)
            unit = f"{item.key}\x1f{stable_id(text)}"
            units.append(unit)
            if unit not in unique:
                unique[unit], texts[unit], keys[unit] = item, text, item.key
        stats["unique"] = len({keys[u] for u in unique})
        decided: dict[str, Classification] = {}
        now = _now()

        stored = self._stored(list(dict.fromkeys(keys.values())))
        # 1. Humans.
        for unit in unique:
            verdict = self._human(keys[unit], texts[unit], stored.get(keys[unit]), now)
            if verdict is not None:
                decided[unit] = verdict
                stats["human"] += 1
        # 2. The cache (needs the prompt version only when something is cached).
        if stored:
            for unit in unique:
                if unit in decided or keys[unit] not in stored:
                    continue
                verdict = self._cached(keys[unit], stored[keys[unit]], now)
                if verdict is not None:
                    decided[unit] = verdict
                    stats["cache_hits"] += 1
        # 3. Rules.
        for unit in unique:
            if unit in decided:
                continue
            verdict = self.rule_verdict(keys[unit], texts[unit], now)
            if verdict is not None:
                decided[unit] = verdict
                stats["rule_hits"] += 1
        # 4. Claude, once per key (its first undecided text); other texts of the key reuse it.
        pending_flags: dict[str, list[str]] = {}
        spent: dict[str, Any] = {}  # outcomes without a usable answer: their cost stays on record
        first_unit: dict[str, str] = {}
        for unit in unique:
            if unit not in decided and (allowed is None or keys[unit] in allowed):
                first_unit.setdefault(keys[unit], unit)
        if self.config.llm_enabled and first_unit:
            answered: dict[str, Classification] = {}
            self._llm(
                list(first_unit),
                {k: unique[u] for k, u in first_unit.items()},
                {k: texts[u] for k, u in first_unit.items()},
                stored,
                mode,
                answered,
                pending_flags,
                spent,
                stats,
                now,
            )
            for unit in unique:
                key = keys[unit]
                if unit in decided or key not in answered:
                    continue
                if first_unit.get(key) == unit:
                    decided[unit] = answered[key]
                elif key in first_unit:
                    decided[unit] = _as_cache_hit(answered[key])
        # 5. The offline model for everything left.
        left = [u for u in unique if u not in decided]
        if left:
            from error_assets.classification.offline import offline_classifier

            model = offline_classifier(self.config.model_cache_dir)
            for unit, verdict in zip(left, model.classify([texts[u] for u in left]), strict=True):
                key = keys[unit]
                mine = first_unit.get(key) == unit
                flags = tuple(pending_flags.get(key, ())) if key in first_unit else ()
                outcome = spent.get(key) if mine else None
                usage = outcome.usage if outcome is not None else None
                decided[unit] = Classification(
                    fingerprint=key,
                    partition="",
                    category=verdict.category,
                    confidence=verdict.confidence,
                    root_cause_summary=model.summary(verdict),
                    evidence_line=verdict.evidence_line,
                    classifier="offline",
                    prompt_version=self.prompt_version if outcome is not None else "",
                    rules_version=self.rules_version,
                    input_tokens=usage.input_tokens if usage else 0,
                    output_tokens=usage.output_tokens if usage else 0,
                    cache_read_tokens=usage.cache_read_tokens if usage else 0,
                    cache_write_tokens=usage.cache_write_tokens if usage else 0,
                    cost_usd=round(outcome.cost_usd, 8) if outcome is not None else 0.0,
                    classified_at=now,
                    flags=flags,
                )
                stats["offline"] += 1
        stats["cost_usd"] = round(stats["cost_usd"], 8)
        return ClassificationRun(self._in_input_order(units, decided), stats)

    def prepared_text(self, item: ClassificationInput) -> str:
        """What every classifier judges: the text (the message if it has none), redacted and
        cut to the configured length."""
        raw = item.text if item.text.strip() else item.message
        return bounded(redact(raw), self.config.max_error_length)

    def rule_verdict(self, key: str, text: str, now: str) -> Classification | None:
        """The rule library's verdict on a prepared text, or None when no rule is sure."""
        match = self.rules.decide(text)
        if match is None:
            return None
        return Classification(
            fingerprint=key,
            partition="",
            category=match.rule.category,
            confidence=round(match.confidence, 3),
            root_cause_summary=match.rule.summary,
            evidence_line=match.evidence_line,
            classifier=f"rules:{match.rule.id}",
            rules_version=self.rules_version,
            classified_at=now,
        )

    @staticmethod
    def _in_input_order(
        units: list[str], decided: Mapping[str, Classification]
    ) -> list[Classification]:
        """One verdict per input. A paid verdict is carried by its first input only; later
        inputs with the same key read as cache hits (as they would in a later run), so summing
        over the verdicts (or the published documents) counts each request once."""
        paid: set[str] = set()  # keys whose paid verdict was already given out
        verdicts = []
        for unit in units:
            verdict = decided[unit]
            if verdict.classifier.startswith("llm:") or verdict.cost_usd or verdict.input_tokens:
                if verdict.fingerprint in paid:
                    verdict = _as_cache_hit(verdict)
                paid.add(verdict.fingerprint)
            verdicts.append(verdict)
        return verdicts

    def _stored(self, keys: list[str]) -> dict[str, Mapping[str, Any]]:
        if self.store is None or not keys:
            return {}
        return dict(self.store.cached_classifications(keys))

    def _human(
        self, key: str, text: str, doc: Mapping[str, Any] | None, now: str
    ) -> Classification | None:
        label: HumanLabel | None = self.labels.find(key, text)
        human_category = (doc or {}).get("s_human_category")
        if label is None and is_category(human_category):
            label = HumanLabel(category=str(human_category), fingerprint=key, source="store")
        if label is None:
            return None
        title = taxonomy_category(label.category).title.lower()
        summary = label.summary or f"Labelled a {title} failure by a person ({label.source})."
        evidence = ""
        if label.source == "store":
            evidence = str((doc or {}).get("s_evidence_line") or "")
        if label.pattern is not None:
            for line in text.splitlines():
                if label.pattern.search(line):
                    evidence = line.strip()
                    break
        return Classification(
            fingerprint=key,
            partition="",
            category=label.category,
            confidence=1.0,
            root_cause_summary=summary,
            evidence_line=evidence,
            classifier="human",
            rules_version=self.rules_version,
            classified_at=now,
        )

    def _cached(self, key: str, doc: Mapping[str, Any], now: str) -> Classification | None:
        category = doc.get("s_primary_category")
        confidence = doc.get("f_confidence_score")
        kind = str(doc.get("s_classifier") or "").split(":", 1)[0]
        if not is_category(category) or not isinstance(confidence, int | float):
            return None
        if kind in ("", "offline", "human") or doc.get("s_flags"):
            return None  # free to redo, or not a decision worth keeping
        if float(confidence) < self.config.min_cache_confidence:
            return None
        if doc.get("s_rules_version") != self.rules_version:
            return None
        if doc.get("s_prompt_version") != self.prompt_version:
            return None
        return Classification(
            fingerprint=key,
            partition="",
            category=str(category),
            confidence=float(confidence),
            root_cause_summary=str(doc.get("s_root_cause_summary") or ""),
            evidence_line=str(doc.get("s_evidence_line") or ""),
            classifier="cache",
            prompt_version=self.prompt_version,
            rules_version=self.rules_version,
            classified_at=now,
        )

    def _human_examples(self, stored: Mapping[str, Mapping[str, Any]]) -> list[WorkedExample]:
        examples = []
        for label in self.labels.labels:
            if label.example:
                text = redact(label.example)
                first = next((ln.strip() for ln in text.splitlines() if ln.strip()), text)
                examples.append(
                    WorkedExample(
                        text, label.category, label.summary or "Labelled by a person.", first
                    )
                )
        for doc in stored.values():
            human = doc.get("s_human_category")
            snippet = str(doc.get("s_snippet") or "")
            if is_category(human) and snippet.strip():
                text = redact(snippet)[:2000]
                evidence = str(doc.get("s_evidence_line") or "").strip()
                if not evidence or evidence not in text:
                    evidence = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
                examples.append(WorkedExample(text, str(human), "Labelled by a person.", evidence))
        return examples[:20]

    def _llm(
        self,
        keys: list[str],
        unique: Mapping[str, ClassificationInput],
        texts: Mapping[str, str],
        stored: Mapping[str, Mapping[str, Any]],
        mode: str,
        decided: dict[str, Classification],
        pending_flags: dict[str, list[str]],
        spent: dict[str, Any],
        stats: dict[str, Any],
        now: str,
    ) -> None:
        from error_assets.classification.llm import (
            ClaudeClassifier,
            ClaudeSettings,
            CostBudget,
            LLMRequest,
            shared_rate_limiter,
        )

        assert self.config.api_key
        use_batch = mode == "batch" or (
            mode == "auto" and len(keys) >= self.config.batch_api_min_clusters
        )
        stats["llm_mode"] = "batch" if use_batch else "interactive"
        claude = ClaudeClassifier(
            ClaudeSettings(
                api_key=self.config.api_key,
                model=self.config.model,
                base_url=self.config.base_url,
                max_retries=self.config.max_retries,
                timeout_seconds=self.config.timeout_seconds,
                concurrency=max(1, min(self.config.batch_size, 8)),
                poll_interval_seconds=self.config.poll_interval_seconds,
                batch_max_wait_seconds=self.config.batch_max_wait_seconds,
                effort=self.config.effort,
                state_dir=self.config.state_dir,
            ),
            system_prompt(self.static_prompt, self._human_examples(stored)),
            self.prompt_version,
            CostBudget(self.config.max_cost_usd_per_run),
            shared_rate_limiter(self.config.requests_per_minute),
            client=self._client,
            sleep=self._sleep,
        )
        requests = [
            LLMRequest(
                key=k,
                text=texts[k],
                source_kind=unique[k].source_kind,
                step_name=unique[k].step_name,
                test_name=unique[k].test_name,
            )
            for k in keys
        ]
        if use_batch:
            outcomes = claude.classify_batch(requests)
        else:
            outcomes = claude.classify_interactive(requests)
        stats["batch_requests"] += claude.batch_requests
        label = f"llm:{self.config.model}"
        for key, outcome in outcomes.items():
            stats["llm_requests"] += 0 if outcome.batch else outcome.requests
            stats["batch_items"] += outcome.requests if outcome.batch else 0
            stats["requests_with_cache_read"] += outcome.cache_read_requests
            stats["input_tokens"] += outcome.usage.input_tokens
            stats["output_tokens"] += outcome.usage.output_tokens
            stats["cache_read_tokens"] += outcome.usage.cache_read_tokens
            stats["cache_write_tokens"] += outcome.usage.cache_write_tokens
            stats["cost_usd"] += outcome.cost_usd
            if "budget_exhausted" in outcome.flags:
                stats["budget_exhausted"] += 1
            if outcome.answer is None:
                stats["llm_failures"] += 1
                pending_flags[key] = [f for f in outcome.flags if f != "resumed"]
                if outcome.requests:
                    spent[key] = outcome
                continue
            answer = outcome.answer
            decided[key] = Classification(
                fingerprint=key,
                partition="",
                category=answer.category,
                confidence=round(answer.confidence, 3),
                root_cause_summary=answer.root_cause_summary,
                evidence_line=answer.evidence_line,
                classifier=label,
                prompt_version=self.prompt_version,
                rules_version=self.rules_version,
                input_tokens=outcome.usage.input_tokens,
                output_tokens=outcome.usage.output_tokens,
                cache_read_tokens=outcome.usage.cache_read_tokens,
                cache_write_tokens=outcome.usage.cache_write_tokens,
                cost_usd=round(outcome.cost_usd, 8),
                classified_at=now,
                flags=tuple(f for f in outcome.flags if f != "resumed"),
            )
            stats["llm"] += 1
        if claude.errors:
            stats["llm_errors"] = claude.errors[:20]


def _as_cache_hit(verdict: Classification) -> Classification:
    """A repeat of a paid verdict: the same decision, at no cost."""
    classifier = "cache" if verdict.classifier.startswith("llm:") else verdict.classifier
    return dataclasses.replace(
        verdict,
        classifier=classifier,
        input_tokens=0,
        output_tokens=0,
        cache_read_tokens=0,
        cache_write_tokens=0,
        cost_usd=0.0,
    )


def build_classifier(config: ClassifierConfig, store: Any | None = None) -> Classifier:
    """The classifier for `config`, reading the cache and human labels from `store`."""
    return Classifier(config, store)


def input_key(text: str, error_id: str | None = None) -> str:
    """The key of a free-standing input: its error id, or a hash of its text."""
    return error_id or stable_id("input", text)
