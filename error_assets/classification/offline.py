"""The offline classifier: character n-gram TF-IDF + logistic regression, no network.

scikit-learn fits it from the labelled corpus the project owns (`training/<category>.txt`,
one example per line, `\\n` inside an example); the fitted model is then exported to plain
data (`offline_artifact.py`) and classifies in plain Python, so using it costs no
scikit-learn, numpy or pandas import. A pre-built copy ships in the package
(`offline_model.json`), stamped with the digest of the corpus and the training settings, so a
fresh install loads it in milliseconds. When the corpus or the settings change, the digest
no longer matches: the model is refitted (scikit-learn needed then) and kept in the cache
directory; `python -m error_assets.classification.offline --rebuild` refreshes the packaged
copy, and a test fails while it is stale.

Its confidences are honest and low: probabilities from a calibrated model, capped at
`MAX_CONFIDENCE`, because it only ever sees what no rule recognised.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from error_assets.classification.offline_artifact import (
    ArtifactError,
    LinearTextModel,
    export_pipeline,
    read_artifact,
    write_artifact,
)
from error_assets.taxonomy import CODE, INFRASTRUCTURE, category, is_category

log = logging.getLogger(__name__)

MAX_CONFIDENCE = 0.8
# Claiming infrastructure wrongly hides a real bug, so the model must be surer of it.
INFRASTRUCTURE_THRESHOLD = 0.55
MAX_LINES = 40
MAX_EVIDENCE_CHARS = 500
# Bump when the fitting or preprocessing code changes in a way the settings below do not show.
TRAINING_CODE_VERSION = "2"
PACKAGED_ARTIFACT = Path(__file__).with_name("offline_model.json")

CHAR_FEATURES: dict[str, Any] = {
    "analyzer": "char_wb",
    "ngram_range": (3, 5),
    "sublinear_tf": True,
    "lowercase": True,
    "min_df": 2,
    "max_features": 40_000,
}
WORD_FEATURES: dict[str, Any] = {
    "analyzer": "word",
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "token_pattern": r"[A-Za-z_][A-Za-z_]+",
}
# Logistic regression's probabilities are reasonably calibrated on their own; a strong
# regularisation keeps them away from 0 and 1 on texts unlike the training corpus.
LOGISTIC_REGRESSION: dict[str, Any] = {"C": 2.0, "class_weight": "balanced", "max_iter": 2000}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\[[0-9;]{1,12}m")
_TIMESTAMP = re.compile(
    r"^\s*(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?|\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[\d.,]*\]?)\s*"
)
_HEX = re.compile(r"\b(?:[0-9a-f]{12,}|0x[0-9a-f]+)\b", re.IGNORECASE)
# Long numbers (ids, sizes, durations) vary; short ones (exit codes, HTTP statuses) mean something.
_DIGITS = re.compile(r"\d{4,}|\d+(?=\.\d)|(?<=\.)\d+")
_SALIENT = re.compile(
    r"error|fail|fatal|exception|killed|denied|timeout|timed out|refused|reset|panic|assert"
    r"|not found|unable|cannot|can't|could not|couldn't|invalid|unexpected|abort|cancel"
    r"|no space|out of memory|rate limit|unavailable|lost|signal|exit code|expected",
    re.IGNORECASE,
)


# Wrapper lines report that something failed, never why; they are left out of the model's
# view (when anything else is left) so they cannot tip the balance either way.
_WRAPPER = re.compile(
    r"process completed with exit code \d+\.?\s*$|executing the (?:custom )?container"
    r"(?: implementation| step)? failed|the process '[^']+' failed with exit code \d+\s*$"
    r"|^\s*error: command failed with exit code \d+\.?\s*$|^\s*make(?:\[\d+\])?: \*\*\* .* error \d+\s*$"
    r"|did not complete successfully: exit code: \d+\s*$|^\s*error: recipe `\w+` failed",
    re.IGNORECASE,
)


class TrainingDataError(ValueError):
    """The training corpus is unusable; the message names the file."""


@dataclass(frozen=True, slots=True)
class OfflineVerdict:
    category: str
    confidence: float
    evidence_line: str
    probability: float  # the model's calibrated probability of `category`


def normalize_line(line: str) -> str:
    """A log line stripped of what varies between runs (timestamps, colours, hashes, numbers)."""
    line = _ANSI.sub("", line)
    line = _TIMESTAMP.sub("", line)
    line = line.replace("##[error]", "").replace("##[warning]", "warning: ")
    line = _HEX.sub("<hex>", line)
    return _DIGITS.sub("0", line).strip()


def salient_lines(text: str) -> list[str]:
    """The lines that carry the failure: error-like lines plus the last few, in order."""
    lines = [line for line in text.splitlines() if line.strip()]
    causes = [line for line in lines if not _WRAPPER.search(line)]
    lines = causes or lines
    if len(lines) <= MAX_LINES:
        return lines
    keep = {i for i, line in enumerate(lines) if _SALIENT.search(line)}
    keep.update(range(max(0, len(lines) - 5), len(lines)))
    chosen = sorted(keep)
    return [lines[i] for i in chosen[-MAX_LINES:]]


def model_text(text: str) -> str:
    return "\n".join(normalize_line(line) for line in salient_lines(text))


def load_training_corpus(directory: Path | None = None) -> list[tuple[str, str]]:
    """(text, category) pairs from `training/<category>.txt` files."""
    examples: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    if directory is None:
        root = resources.files(__package__).joinpath("training")
        for entry in root.iterdir():
            if entry.name.endswith(".txt"):
                files.append((entry.name, entry.read_text(encoding="utf-8")))
    else:
        files = [(p.name, p.read_text(encoding="utf-8")) for p in directory.glob("*.txt")]
    for name, content in sorted(files):
        label = name.removesuffix(".txt")
        if not is_category(label):
            raise TrainingDataError(f"training/{name}: {label!r} is not a taxonomy category")
        for line in content.splitlines():
            if line.strip() and not line.startswith("#"):
                examples.append((line.replace("\\n", "\n"), label))
    labels = {label for _, label in examples}
    if len(labels) < 2:
        raise TrainingDataError("training corpus: needs examples of at least two categories")
    return examples


def training_settings() -> dict[str, Any]:
    """Everything besides the corpus that shapes the fitted model and its verdicts."""
    return {
        "training_code_version": TRAINING_CODE_VERSION,
        "preprocessing": {
            "max_lines": MAX_LINES,
            "patterns": {
                name: pattern.pattern
                for name, pattern in (
                    ("ansi", _ANSI),
                    ("timestamp", _TIMESTAMP),
                    ("hex", _HEX),
                    ("digits", _DIGITS),
                    ("salient", _SALIENT),
                    ("wrapper", _WRAPPER),
                )
            },
        },
        "features": {"chars": CHAR_FEATURES, "words": WORD_FEATURES},
        "logistic_regression": LOGISTIC_REGRESSION,
        "verdict": {
            "max_confidence": MAX_CONFIDENCE,
            "infrastructure_threshold": INFRASTRUCTURE_THRESHOLD,
        },
    }


def training_digest(examples: Sequence[tuple[str, str]]) -> str:
    """A hash of the corpus and the training settings: a model fitted to anything else is stale.

    Pure Python (no scikit-learn), so checking the packaged model costs a millisecond.
    """
    digest = hashlib.sha256(json.dumps(training_settings(), sort_keys=True).encode())
    for text, label in examples:
        digest.update(f"{label}\x1f{text}\x1e".encode())
    return digest.hexdigest()[:16]


def fit_pipeline(examples: Sequence[tuple[str, str]]) -> Any:
    """The scikit-learn pipeline fitted to `examples` (imports scikit-learn: seconds)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion(
        [("chars", TfidfVectorizer(**CHAR_FEATURES)), ("words", TfidfVectorizer(**WORD_FEATURES))]
    )
    pipeline = make_pipeline(features, LogisticRegression(**LOGISTIC_REGRESSION))
    pipeline.fit([model_text(t) for t, _ in examples], [label for _, label in examples])
    return pipeline


def export_fitted(pipeline: Any, examples: Sequence[tuple[str, str]]) -> LinearTextModel:
    """The plain-data model of a pipeline fitted to `examples`, stamped with their digest."""
    import sklearn

    settings = training_settings()
    metadata = {
        "digest": training_digest(examples),
        "examples": {
            label: sum(1 for _, other in examples if other == label)
            for label in sorted({label for _, label in examples})
        },
        "trained_with": {"scikit-learn": sklearn.__version__},
        **settings["verdict"],
        "settings": settings,
    }
    # As JSON has it (tuples become lists), so a model equals its own reloaded copy.
    return export_pipeline(pipeline, json.loads(json.dumps(metadata)))


class OfflineClassifier:
    """Classify texts with honest, capped confidences, in plain Python."""

    def __init__(self, model: LinearTextModel) -> None:
        self.model = model
        self.digest = str(model.metadata.get("digest", ""))
        self.max_confidence = float(model.metadata.get("max_confidence", MAX_CONFIDENCE))
        self.infrastructure_threshold = float(
            model.metadata.get("infrastructure_threshold", INFRASTRUCTURE_THRESHOLD)
        )

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]] | None = None) -> OfflineClassifier:
        """Fit with scikit-learn, then keep only the exported plain-data model."""
        examples = list(examples or load_training_corpus())
        return cls(export_fitted(fit_pipeline(examples), examples))

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [self.model.probabilities(model_text(text)) for text in texts]

    def classify(self, texts: Sequence[str]) -> list[OfflineVerdict]:
        verdicts = []
        for text, probs in zip(texts, self.probabilities(texts), strict=True):
            p_infra = probs.get(INFRASTRUCTURE, 0.0)
            chosen = INFRASTRUCTURE if p_infra >= self.infrastructure_threshold else CODE
            probability = probs.get(chosen, 0.0)
            verdicts.append(
                OfflineVerdict(
                    category=chosen,
                    confidence=round(min(self.max_confidence, probability), 3),
                    evidence_line=self._evidence(text, chosen),
                    probability=probability,
                )
            )
        return verdicts

    def _evidence(self, text: str, chosen: str) -> str:
        """The line the model finds most typical of `chosen` (a verbatim line of `text`)."""
        lines = [line for line in salient_lines(text) if _SALIENT.search(line)]
        lines = lines or [line for line in text.splitlines() if line.strip()]
        if not lines:
            return ""
        scores = self.probabilities(lines)
        best = max(range(len(lines)), key=lambda i: scores[i].get(chosen, 0.0))
        return lines[best].strip()[:MAX_EVIDENCE_CHARS]

    def summary(self, verdict: OfflineVerdict) -> str:
        title = category(verdict.category).title.lower()
        return (
            f"No rule matched; the offline text model rates this a {title} failure "
            f"(probability {verdict.probability:.0%}) from the evidence line."
        )


_lock = threading.Lock()
_loaded: dict[str, OfflineClassifier] = {}


def offline_classifier(
    cache_dir: Path | None = None, *, training_dir: Path | None = None
) -> OfflineClassifier:
    """The classifier for the corpus (the packaged one by default), once per process.

    The packaged model when it was fitted to this corpus, else the one in `cache_dir`, else
    a fresh fit (scikit-learn), kept in `cache_dir`. Without scikit-learn a stale packaged
    model is used, with a warning, rather than none.
    """
    examples = load_training_corpus(training_dir)
    digest = training_digest(examples)
    with _lock:
        found = _loaded.get(digest)
        if found is None:
            found = _load_current(cache_dir, digest) or _fit_and_cache(examples, cache_dir)
            _loaded[digest] = found
        return found


def _load_current(cache_dir: Path | None, digest: str) -> OfflineClassifier | None:
    candidates = [PACKAGED_ARTIFACT]
    if cache_dir is not None:
        candidates.append(cache_file(cache_dir, digest))
    for path in candidates:
        if not path.is_file():
            continue
        try:
            model = read_artifact(path)
        except ArtifactError as exc:
            log.warning("offline model ignored: %s", exc)  # a damaged copy is rebuilt
            continue
        if model.metadata.get("digest") == digest:
            return OfflineClassifier(model)
    return None


def _fit_and_cache(
    examples: Sequence[tuple[str, str]], cache_dir: Path | None
) -> OfflineClassifier:
    try:
        pipeline = fit_pipeline(examples)
    except ImportError:
        if not PACKAGED_ARTIFACT.is_file():
            raise
        log.warning(
            "scikit-learn is not installed and %s was fitted to another corpus; using it anyway",
            PACKAGED_ARTIFACT.name,
        )
        return OfflineClassifier(read_artifact(PACKAGED_ARTIFACT))
    model = export_fitted(pipeline, examples)
    if cache_dir is not None:
        try:
            write_artifact(model, cache_file(cache_dir, model.metadata["digest"]))
        except OSError as exc:
            log.warning("offline model not cached in %s: %s", cache_dir, exc)  # an optimisation
    return OfflineClassifier(model)


def cache_file(cache_dir: Path, digest: str) -> Path:
    """Where a model fitted to the corpus with `digest` is kept in `cache_dir`."""
    return cache_dir / f"offline-model-{digest}.json"


def packaged_artifact_is_current() -> bool:
    """Whether the packaged model was fitted to the packaged corpus and settings."""
    try:
        model = read_artifact(PACKAGED_ARTIFACT)
    except ArtifactError:
        return False
    return model.metadata.get("digest") == training_digest(load_training_corpus())


def rebuild_packaged_artifact(path: Path = PACKAGED_ARTIFACT) -> LinearTextModel:
    """Fit to the packaged corpus and write the model shipped in the package."""
    examples = load_training_corpus()
    model = export_fitted(fit_pipeline(examples), examples)
    write_artifact(model, path)
    return model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m error_assets.classification.offline",
        description="Check or rebuild the offline model shipped in the package.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--rebuild", action="store_true", help=f"refit and write {PACKAGED_ARTIFACT.name}"
    )
    action.add_argument(
        "--check", action="store_true", help="exit 1 if the packaged model is stale"
    )
    args = parser.parse_args(argv)
    if args.check:
        current = packaged_artifact_is_current()
        print(f"{PACKAGED_ARTIFACT}: {'current' if current else 'STALE (run --rebuild)'}")
        return 0 if current else 1
    model = rebuild_packaged_artifact()
    size = PACKAGED_ARTIFACT.stat().st_size
    print(
        f"wrote {PACKAGED_ARTIFACT} ({size / 1e6:.2f} MB, {model.feature_count} features,"
        f" digest {model.metadata['digest']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
