"""The classifier's order of trust, the offline model, the labels file and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from error_assets.classification import (
    PROMPT_VERSION,
    RULES_VERSION,
    ClassificationInput,
    Classifier,
    ClassifierConfig,
)
from error_assets.classification.labels import load_labels
from error_assets.classification.offline import (
    MAX_CONFIDENCE,
    OfflineClassifier,
    load_training_corpus,
)
from error_assets.taxonomy import CODE, INFRASTRUCTURE

REPO = Path(__file__).resolve().parents[2]
NO_RULE = "the nightly widget report came out empty for shard 7"


class MemoryStore:
    """A test double for the store: only `cached_classifications`, over a dict of documents."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents
        self.asked: list[list[str]] = []

    def cached_classifications(self, fingerprints: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(fingerprints)
        self.asked.append(wanted)
        return {f: self.documents[f] for f in wanted if f in self.documents}


def cached_doc(**changes: Any) -> dict[str, Any]:
    doc = {
        "s_primary_category": INFRASTRUCTURE,
        "f_confidence_score": 0.9,
        "s_root_cause_summary": "Registry outage.",
        "s_evidence_line": "502 Bad Gateway",
        "s_classifier": "llm:claude-haiku-5-5",
        "s_rules_version": RULES_VERSION,
        "s_prompt_version": PROMPT_VERSION,
        "s_flags": [],
    }
    doc.update(changes)
    return doc


def classify(texts: dict[str, str], store: Any = None, **config: Any) -> list[Any]:
    items = [ClassificationInput(key=k, text=t) for k, t in texts.items()]
    return Classifier(ClassifierConfig(**config), store).classify_inputs(items).classifications


def test_rules_decide_before_the_offline_model() -> None:
    verdicts = classify({"a": "OSError: [Errno 28] No space left on device", "b": NO_RULE})
    assert verdicts[0].classifier == "rules:disk-full" and verdicts[0].category == INFRASTRUCTURE
    assert verdicts[0].evidence_line == "OSError: [Errno 28] No space left on device"
    assert verdicts[1].classifier == "offline"
    assert 0.0 < verdicts[1].confidence <= MAX_CONFIDENCE
    assert verdicts[1].evidence_line == NO_RULE


def test_cache_is_used_for_the_same_versions_only() -> None:
    store = MemoryStore(
        {
            "hit": cached_doc(),
            "old-prompt": cached_doc(s_prompt_version="p0+deadbeef"),
            "old-rules": cached_doc(s_rules_version="2020.01.01+00000000"),
            "unsure": cached_doc(f_confidence_score=0.3),
            "offline": cached_doc(s_classifier="offline"),
            "flagged": cached_doc(s_flags=["budget_exhausted"]),
        }
    )
    verdicts = classify({key: NO_RULE for key in store.documents}, store)
    by_key = {v.fingerprint: v for v in verdicts}
    assert by_key["hit"].classifier == "cache"
    assert by_key["hit"].category == INFRASTRUCTURE and by_key["hit"].cost_usd == 0.0
    assert by_key["hit"].evidence_line == "502 Bad Gateway"
    for key in ("old-prompt", "old-rules", "unsure", "offline", "flagged"):
        assert by_key[key].classifier == "offline", key


def test_human_category_in_the_store_wins_over_the_cache_and_rules() -> None:
    store = MemoryStore({"k": cached_doc(s_human_category=CODE)})
    (verdict,) = classify({"k": "OSError: No space left on device"}, store)
    assert verdict.classifier == "human" and verdict.category == CODE and verdict.confidence == 1.0


def test_labels_file_wins_and_reports_bad_entries(tmp_path: Path) -> None:
    labels = tmp_path / "labels.yaml"
    labels.write_text(
        "- fingerprint: fp1\n  category: code_error\n  summary: Our own bug.\n"
        "- pattern: 'ghrc\\.io/'\n  category: code_error\n  summary: Misspelled registry.\n"
        "- pattern: 'x'\n  category: weather\n"
        "- fingerprint: fp2\n  pattern: y\n  category: code_error\n",
        encoding="utf-8",
    )
    loaded = load_labels(labels)
    assert len(loaded.labels) == 2
    assert any("entry 3" in p and "weather" in p for p in loaded.problems)
    assert any("entry 4" in p and "exactly one" in p for p in loaded.problems)
    verdicts = classify(
        {
            "fp1": "OSError: No space left on device",
            "other": "Step 1/3 : FROM ghrc.io/acme/base:1\nerror: connection reset by peer",
        },
        labels_path=labels,
    )
    assert [v.classifier for v in verdicts] == ["human", "human"]
    assert verdicts[1].evidence_line == "Step 1/3 : FROM ghrc.io/acme/base:1"
    assert verdicts[1].root_cause_summary == "Misspelled registry."


def test_labels_as_json_lines_with_a_broken_line(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        '{"fingerprint": "a", "category": "infrastructure_error"}\nnot json\n', encoding="utf-8"
    )
    loaded = load_labels(labels)
    assert [label.fingerprint for label in loaded.labels] == ["a"]
    assert loaded.problems and f"{labels}:2" in loaded.problems[0]


def test_texts_are_redacted_before_any_classifier_sees_them() -> None:
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    (verdict,) = classify({"k": f"fatal: Authentication failed using {secret}\nAssertionError: no"})
    assert secret not in verdict.evidence_line + verdict.root_cause_summary


def test_identical_keys_are_classified_once_and_order_is_kept() -> None:
    store = MemoryStore({})
    items = [
        ClassificationInput(key="a", text="AssertionError: x"),
        ClassificationInput(key="b", text=NO_RULE),
        ClassificationInput(key="a", text="AssertionError: x"),
    ]
    run = Classifier(ClassifierConfig(), store).classify_inputs(items)
    assert [c.fingerprint for c in run.classifications] == ["a", "b", "a"]
    assert run.stats["unique"] == 2 and store.asked == [["a", "b"]]


def test_offline_model_learns_its_corpus() -> None:
    corpus = load_training_corpus()
    assert {label for _, label in corpus} == {CODE, INFRASTRUCTURE}
    # Hold out every fifth example: the model must generalise beyond what it saw.
    train = [row for i, row in enumerate(corpus) if i % 5]
    held_out = [row for i, row in enumerate(corpus) if not i % 5]
    model = OfflineClassifier.train(train)
    verdicts = model.classify([t for t, _ in held_out])
    right = sum(v.category == label for v, (_, label) in zip(verdicts, held_out, strict=True))
    assert right / len(held_out) >= 0.8
    assert all(0.0 < v.confidence <= MAX_CONFIDENCE for v in verdicts)


def run_cli(*args: str, stdin: str | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"ERROR_ASSETS_HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "error_assets.cli", "classify", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )


def test_cli_reads_stdin_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = "\n".join(
        [
            json.dumps({"text": "OSError: No space left on device", "error_id": "e1"}),
            "{broken",
            json.dumps({"message": "no text"}),
            json.dumps({"text": "E   AssertionError: assert 1 == 2", "source_kind": "pytest"}),
        ]
    )
    result = run_cli("--offline", "--input", "-", stdin=lines, home=tmp_path)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["error_id"] == "e1" and out[0]["category"] == INFRASTRUCTURE
    assert out[1]["error"].startswith("<stdin>:2:") and out[2]["error"].startswith("<stdin>:3:")
    assert out[3]["category"] == CODE and out[3]["classifier"] == "rules:assertion-failure"
    for row in (out[0], out[3]):
        assert set(row) >= {
            "category",
            "confidence",
            "classifier",
            "root_cause_summary",
            "evidence_line",
        }
    assert "<stdin>:2" in result.stderr


def test_cli_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("--offline", "--input", str(tmp_path / "nope.jsonl"), home=tmp_path)
    assert result.returncode == 2 and "nope.jsonl" in result.stderr


@pytest.mark.realworld
@pytest.mark.slow
def test_offline_classification_of_the_realworld_snippets(
    realworld_dir: Path, tmp_path: Path
) -> None:
    """Done-when: >= 85% accuracy and >= 95% infrastructure precision, fully offline."""
    snippets = realworld_dir / "error_snippets.jsonl"
    output = tmp_path / "out.jsonl"
    result = run_cli("--offline", "--input", str(snippets), "--output", str(output), home=tmp_path)
    assert result.returncode == 0, result.stderr
    gold = [json.loads(line) for line in snippets.read_text(encoding="utf-8").splitlines()]
    predicted = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(predicted) == len(gold)
    matrix = Counter((g["label"], p["category"]) for g, p in zip(gold, predicted, strict=True))
    infra_right = matrix[(INFRASTRUCTURE, INFRASTRUCTURE)]
    infra_claimed = infra_right + matrix[(CODE, INFRASTRUCTURE)]
    accuracy = (infra_right + matrix[(CODE, CODE)]) / len(gold)
    precision = infra_right / infra_claimed
    print("\nconfusion matrix (rows: label, columns: predicted)")
    print(f"{'':>22} {'infrastructure':>15} {'code':>6}")
    for label in (INFRASTRUCTURE, CODE):
        print(f"{label:>22} {matrix[(label, INFRASTRUCTURE)]:>15} {matrix[(label, CODE)]:>6}")
    print(f"accuracy {accuracy:.3f}  infrastructure precision {precision:.3f}")
    print("by classifier:", Counter(p["classifier"].split(":")[0] for p in predicted))
    for number, (g, p) in enumerate(zip(gold, predicted, strict=True), 1):
        if g["label"] != p["category"]:
            print(f"  miss #{number} {g['label']} -> {p['classifier']}: {g['why'][:90]}")
    assert accuracy >= 0.85
    assert precision >= 0.95
