"""The offline model as plain data: TF-IDF n-gram weights and a logistic regression, in JSON.

scikit-learn fits the model (`offline.py`); this module holds what inference needs and
re-implements it in plain Python, so classifying costs no scikit-learn, numpy or pandas
import (seconds on a CI runner) and the model loads in milliseconds. The arithmetic follows
scikit-learn's as configured: `TfidfVectorizer` (lower-casing, the `char_wb` and `word`
analyzers, raw counts or `1 + ln(count)`, times idf, L2-normalised per feature block), the
blocks side by side as in a `FeatureUnion`, then a binary `LogisticRegression` whose
positive-class probability is the logistic function of `x·coef + intercept`.

`export_pipeline` reads a fitted pipeline's attributes without importing scikit-learn, and
refuses settings this module does not reproduce, so a hyper-parameter change cannot make the
two paths drift apart silently. The artefact's vocabulary is every feature the vectorisers
kept: under an L2 penalty no weight is exactly zero, and even a zero-weight term would count
in the L2 norm of the document vector.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARTIFACT_FORMAT = 1
ANALYZERS = ("char_wb", "word")
# scikit-learn collapses runs of whitespace before cutting character n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")


class ArtifactError(ValueError):
    """An artefact that cannot be used; the message names the file or the setting."""


@dataclass(frozen=True)
class FeatureBlock:
    """One fitted TF-IDF vectoriser: how it cuts a text into terms and what each term weighs."""

    name: str
    analyzer: str  # char_wb | word
    ngram_range: tuple[int, int]
    lowercase: bool
    token_pattern: str | None  # the word analyzer's token regex
    sublinear_tf: bool
    norm: str | None  # l2 | None
    index: Mapping[str, int]  # term -> position within this block
    idf: Sequence[float]
    coef: Sequence[float]  # the logistic regression's weight of each term

    def terms(self, text: str) -> list[str]:
        """The n-grams of `text`, with repeats, as the fitted vectoriser's analyzer makes them."""
        if self.lowercase:
            text = text.lower()
        low, high = self.ngram_range
        if self.analyzer == "char_wb":
            return _char_wb_ngrams(text, low, high)
        tokens = re.findall(self.token_pattern or r"(?u)\b\w\w+\b", text)
        return _word_ngrams(tokens, low, high)

    def weighted(self, text: str) -> tuple[float, float]:
        """(sum of tf-idf·coef, squared L2 norm) of `text` over the terms of this block."""
        counts: dict[int, int] = {}
        for term in self.terms(text):
            column = self.index.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        dot = 0.0
        squares = 0.0
        for column, count in counts.items():
            tf = 1.0 + math.log(count) if self.sublinear_tf else float(count)
            value = tf * self.idf[column]
            dot += value * self.coef[column]
            squares += value * value
        return dot, squares

    def decision_part(self, text: str) -> float:
        """This block's contribution to the linear decision (its vector normalised first)."""
        dot, squares = self.weighted(text)
        if self.norm == "l2" and squares > 0.0:
            return dot / math.sqrt(squares)
        return dot


def _char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """Character n-grams inside words, each word padded with one space on either side; a
    padded word no longer than n gives itself once and no longer n-grams."""
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size <= n:
                grams.append(padded)
                break
            grams.extend(padded[start : start + n] for start in range(size - n + 1))
    return grams


def _word_ngrams(tokens: list[str], low: int, high: int) -> list[str]:
    """Word n-grams from `low` to `high` tokens, shortest first, joined by single spaces."""
    grams: list[str] = []
    for n in range(low, min(high, len(tokens)) + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def _logistic(value: float) -> float:
    """1 / (1 + e^-value), without overflow for large negative values."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


@dataclass(frozen=True)
class LinearTextModel:
    """Binary logistic regression over TF-IDF feature blocks, plus how verdicts are drawn."""

    blocks: tuple[FeatureBlock, ...]
    classes: tuple[str, str]  # as the fitted model orders them; the second is "positive"
    intercept: float
    metadata: Mapping[str, Any]  # digest, thresholds, training facts (see offline.py)

    def decision(self, text: str) -> float:
        return sum(block.decision_part(text) for block in self.blocks) + self.intercept

    def probabilities(self, text: str) -> dict[str, float]:
        """Each class's probability, computed as scikit-learn's `predict_proba` does."""
        positive = _logistic(self.decision(text))
        return {self.classes[0]: 1.0 - positive, self.classes[1]: positive}

    @property
    def feature_count(self) -> int:
        return sum(len(block.idf) for block in self.blocks)

    # -- serialisation -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        blocks = []
        for block in self.blocks:
            terms = sorted(block.index, key=block.index.__getitem__)
            blocks.append(
                {
                    "name": block.name,
                    "analyzer": block.analyzer,
                    "ngram_range": list(block.ngram_range),
                    "lowercase": block.lowercase,
                    "token_pattern": block.token_pattern,
                    "sublinear_tf": block.sublinear_tf,
                    "norm": block.norm,
                    "terms": terms,
                    "idf": list(block.idf),
                    "coef": list(block.coef),
                }
            )
        return {
            "format": ARTIFACT_FORMAT,
            "metadata": dict(self.metadata),
            "classes": list(self.classes),
            "intercept": self.intercept,
            "blocks": blocks,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "artefact") -> LinearTextModel:
        """The model from `to_json`'s data; `source` names the file in errors."""
        try:
            if data["format"] != ARTIFACT_FORMAT:
                raise ArtifactError(
                    f"{source}: format {data['format']!r}, this code reads {ARTIFACT_FORMAT}"
                )
            blocks = []
            for raw in data["blocks"]:
                terms, idf, coef = raw["terms"], raw["idf"], raw["coef"]
                if not len(terms) == len(idf) == len(coef):
                    raise ArtifactError(f"{source}: block {raw['name']!r} has uneven columns")
                block = FeatureBlock(
                    name=str(raw["name"]),
                    analyzer=str(raw["analyzer"]),
                    ngram_range=(int(raw["ngram_range"][0]), int(raw["ngram_range"][1])),
                    lowercase=bool(raw["lowercase"]),
                    token_pattern=raw["token_pattern"],
                    sublinear_tf=bool(raw["sublinear_tf"]),
                    norm=raw["norm"],
                    index={term: column for column, term in enumerate(terms)},
                    idf=[float(v) for v in idf],
                    coef=[float(v) for v in coef],
                )
                _check_block(block, source)
                blocks.append(block)
            classes = tuple(str(c) for c in data["classes"])
            if len(classes) != 2:
                raise ArtifactError(f"{source}: a binary model needs two classes, not {classes}")
            return cls(
                blocks=tuple(blocks),
                classes=(classes[0], classes[1]),
                intercept=float(data["intercept"]),
                metadata=dict(data["metadata"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, ArtifactError):
                raise
            raise ArtifactError(f"{source}: malformed model ({type(exc).__name__}: {exc})") from exc


def _check_block(block: FeatureBlock, source: str) -> None:
    if block.analyzer not in ANALYZERS:
        raise ArtifactError(f"{source}: analyzer {block.analyzer!r} is not one of {ANALYZERS}")
    if block.norm not in ("l2", None):
        raise ArtifactError(f"{source}: norm {block.norm!r} is not reproduced (l2 or none)")
    low, high = block.ngram_range
    if not 1 <= low <= high:
        raise ArtifactError(f"{source}: bad ngram_range {block.ngram_range}")


def write_artifact(model: LinearTextModel, path: Path) -> None:
    """Write the model as JSON, atomically (a reader never sees half a file)."""
    text = json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)


def read_artifact(path: Path) -> LinearTextModel:
    """The model in `path`; `ArtifactError` naming the file if it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: cannot read the model ({exc})") from exc
    if not isinstance(data, dict):
        raise ArtifactError(f"{path}: malformed model (not a JSON object)")
    return LinearTextModel.from_json(data, source=str(path))


# -- export from a fitted scikit-learn pipeline -------------------------------------------

# Vectoriser settings the plain-Python path reproduces; any other value is refused.
_REQUIRED = {
    "input": "content",
    "encoding": "utf-8",
    "strip_accents": None,
    "preprocessor": None,
    "tokenizer": None,
    "stop_words": None,
    "binary": False,
    "use_idf": True,
    "smooth_idf": True,
    "vocabulary": None,
}


def export_pipeline(pipeline: Any, metadata: Mapping[str, Any]) -> LinearTextModel:
    """The plain-data copy of a fitted `make_pipeline(FeatureUnion([...]), LogisticRegression)`.

    Reads attributes only (no scikit-learn import here); raises `ArtifactError` for any
    setting the plain-Python inference does not reproduce.
    """
    (_, union), (_, classifier) = pipeline.steps
    if getattr(union, "transformer_weights", None):
        raise ArtifactError("export: FeatureUnion transformer_weights are not reproduced")
    coef_rows = classifier.coef_.tolist()
    if len(coef_rows) != 1 or len(classifier.classes_) != 2:
        raise ArtifactError("export: only a binary logistic regression is reproduced")
    coef = coef_rows[0]
    blocks = []
    start = 0
    for name, vectorizer in union.transformer_list:
        params = vectorizer.get_params()
        for key, wanted in _REQUIRED.items():
            if params.get(key) != wanted:
                raise ArtifactError(f"export: {name}.{key}={params.get(key)!r} is not reproduced")
        dtype = params.get("dtype")
        if getattr(dtype, "__name__", str(dtype)) != "float64":
            raise ArtifactError(f"export: {name}.dtype={dtype!r} is not reproduced (float64)")
        if params["analyzer"] == "word" and re.compile(params["token_pattern"]).groups > 1:
            raise ArtifactError(f"export: {name}.token_pattern has more than one group")
        vocabulary = {str(term): int(column) for term, column in vectorizer.vocabulary_.items()}
        width = len(vocabulary)
        block = FeatureBlock(
            name=name,
            analyzer=params["analyzer"],
            ngram_range=tuple(params["ngram_range"]),
            lowercase=bool(params["lowercase"]),
            token_pattern=params["token_pattern"] if params["analyzer"] == "word" else None,
            sublinear_tf=bool(params["sublinear_tf"]),
            norm=params["norm"],
            index=vocabulary,
            idf=[float(v) for v in vectorizer.idf_.tolist()],
            coef=coef[start : start + width],
        )
        _check_block(block, "export")
        blocks.append(block)
        start += width
    if start != len(coef):
        raise ArtifactError(f"export: {start} features but {len(coef)} coefficients")
    return LinearTextModel(
        blocks=tuple(blocks),
        classes=(str(classifier.classes_[0]), str(classifier.classes_[1])),
        intercept=float(classifier.intercept_[0]),
        metadata=dict(metadata),
    )
