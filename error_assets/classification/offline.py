"""The offline classifier: character n-gram TF-IDF + logistic regression, no network.

It is trained at first use from the labelled corpus the project owns
(`training/<category>.txt`, one example per line, `\\n` inside an example), and kept for
the life of the process; with a `cache_dir` the fitted model is also stored on disk,
keyed by a hash of the corpus and the scikit-learn version.

Its confidences are honest and low: probabilities from a calibrated model, capped at
`MAX_CONFIDENCE`, because it only ever sees what no rule recognised.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from error_assets.taxonomy import CODE, INFRASTRUCTURE, category, is_category

MAX_CONFIDENCE = 0.8
# Claiming infrastructure wrongly hides a real bug, so the model must be surer of it.
INFRASTRUCTURE_THRESHOLD = 0.55
MAX_LINES = 40
MAX_EVIDENCE_CHARS = 500

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


def corpus_digest(examples: Sequence[tuple[str, str]]) -> str:
    import sklearn

    digest = hashlib.sha256(sklearn.__version__.encode())
    for text, label in examples:
        digest.update(f"{label}\x1f{text}\x1e".encode())
    return digest.hexdigest()[:16]


def _build_pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    lowercase=True,
                    min_df=2,
                    max_features=40_000,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"[A-Za-z_][A-Za-z_]+",
                ),
            ),
        ]
    )
    # Logistic regression's probabilities are reasonably calibrated on their own; a strong
    # regularisation keeps them away from 0 and 1 on texts unlike the training corpus.
    model = LogisticRegression(C=2.0, class_weight="balanced", max_iter=2000)
    return make_pipeline(features, model)


class OfflineClassifier:
    """Fit once, then classify texts with honest, capped confidences."""

    def __init__(self, pipeline: Any, digest: str) -> None:
        self._pipeline = pipeline
        self.digest = digest
        self._classes = list(pipeline.classes_)

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]] | None = None) -> OfflineClassifier:
        examples = list(examples or load_training_corpus())
        pipeline = _build_pipeline()
        pipeline.fit([model_text(t) for t, _ in examples], [label for _, label in examples])
        return cls(pipeline, corpus_digest(examples))

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        rows = self._pipeline.predict_proba([model_text(t) for t in texts])
        return [dict(zip(self._classes, map(float, row), strict=True)) for row in rows]

    def classify(self, texts: Sequence[str]) -> list[OfflineVerdict]:
        verdicts = []
        for text, probs in zip(texts, self.probabilities(texts), strict=True):
            p_infra = probs.get(INFRASTRUCTURE, 0.0)
            chosen = INFRASTRUCTURE if p_infra >= INFRASTRUCTURE_THRESHOLD else CODE
            probability = probs.get(chosen, 0.0)
            verdicts.append(
                OfflineVerdict(
                    category=chosen,
                    confidence=round(min(MAX_CONFIDENCE, probability), 3),
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
_trained: dict[str, OfflineClassifier] = {}


def offline_classifier(cache_dir: Path | None = None) -> OfflineClassifier:
    """The classifier for the packaged corpus: trained once per process, optionally cached."""
    examples = load_training_corpus()
    digest = corpus_digest(examples)
    with _lock:
        model = _trained.get(digest) or _load_cached(cache_dir, digest)
        if model is None:
            model = OfflineClassifier.train(examples)
        if cache_dir is not None and not _cache_file(cache_dir, digest).is_file():
            _store_cached(cache_dir, model)
        _trained[digest] = model
        return model


def _cache_file(cache_dir: Path, digest: str) -> Path:
    return cache_dir / f"offline-classifier-{digest}.pickle"


def _load_cached(cache_dir: Path | None, digest: str) -> OfflineClassifier | None:
    if cache_dir is None:
        return None
    path = _cache_file(cache_dir, digest)
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            model = pickle.load(handle)  # our own file, written by _store_cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # a damaged cache is rebuilt, never fatal
    return model if isinstance(model, OfflineClassifier) and model.digest == digest else None


def _store_cached(cache_dir: Path | None, model: OfflineClassifier) -> None:
    if cache_dir is None:
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = _cache_file(cache_dir, model.digest).with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pickle.dump(model, handle)
        temporary.replace(_cache_file(cache_dir, model.digest))
    except OSError:
        pass  # the cache is an optimisation
