"""The offline model's plain-Python inference against scikit-learn, and its packaged artefact.

The reference is scikit-learn itself: a pipeline fitted here to the packaged corpus. The
plain-Python model exported from it must give the same probabilities, verdicts and evidence
lines on the realworld snippets and on the training corpus.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from error_assets.classification import offline
from error_assets.classification.offline import (
    PACKAGED_ARTIFACT,
    OfflineClassifier,
    cache_file,
    export_fitted,
    fit_pipeline,
    load_training_corpus,
    model_text,
    offline_classifier,
    salient_lines,
    training_digest,
)
from error_assets.classification.offline_artifact import (
    ArtifactError,
    LinearTextModel,
    read_artifact,
    write_artifact,
)
from error_assets.taxonomy import CODE, INFRASTRUCTURE

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "numpy", "pandas", "scipy")
REBUILD = "python -m error_assets.classification.offline --rebuild"


class ScikitLearnReference(OfflineClassifier):
    """The same verdict logic, with probabilities straight from the fitted scikit-learn pipeline."""

    def __init__(self, model: LinearTextModel, pipeline: Any) -> None:
        super().__init__(model)
        self.pipeline = pipeline

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        rows = self.pipeline.predict_proba([model_text(t) for t in texts])
        classes = [str(c) for c in self.pipeline.classes_]
        return [dict(zip(classes, map(float, row), strict=True)) for row in rows]


@pytest.fixture(scope="module")
def fitted() -> tuple[Any, LinearTextModel]:
    """scikit-learn's pipeline fitted to the packaged corpus, and its plain-Python export."""
    examples = load_training_corpus()
    pipeline = fit_pipeline(examples)
    return pipeline, export_fitted(pipeline, examples)


def realworld_texts(realworld_dir: Path) -> list[str]:
    lines = (realworld_dir / "error_snippets.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def evaluation_texts(realworld_dir: Path) -> list[str]:
    """The realworld snippets, the training corpus, and the snippets' single lines (which the
    evidence choice scores one by one)."""
    snippets = realworld_texts(realworld_dir)
    single_lines = [line for text in snippets for line in salient_lines(text)]
    return snippets + [text for text, _ in load_training_corpus()] + single_lines


@pytest.mark.slow
@pytest.mark.realworld
def test_plain_python_probabilities_equal_scikit_learns(
    fitted: tuple[Any, LinearTextModel], realworld_dir: Path
) -> None:
    pipeline, model = fitted
    texts = evaluation_texts(realworld_dir)
    prepared = [model_text(text) for text in texts]
    reference = pipeline.predict_proba(prepared)
    decisions = pipeline.decision_function(prepared)
    assert [str(c) for c in pipeline.classes_] == list(model.classes)
    worst = 0.0
    for text, row, decision in zip(prepared, reference, decisions, strict=True):
        mine = model.probabilities(text)
        assert model.decision(text) == pytest.approx(float(decision), abs=1e-9, rel=1e-9)
        for column, name in enumerate(model.classes):
            worst = max(worst, abs(mine[name] - float(row[column])))
    assert worst <= 1e-9, f"largest probability difference {worst:g}"
    # The comparison covers confident and unsure texts of both classes.
    positive = reference[:, 1]
    assert (positive > 0.9).any() and (positive < 0.1).any()
    assert ((positive > 0.4) & (positive < 0.6)).any()


@pytest.mark.slow
@pytest.mark.realworld
def test_plain_python_verdicts_equal_scikit_learns(
    fitted: tuple[Any, LinearTextModel], realworld_dir: Path
) -> None:
    pipeline, model = fitted
    texts = realworld_texts(realworld_dir) + [text for text, _ in load_training_corpus()]
    plain = OfflineClassifier(model).classify(texts)
    reference = ScikitLearnReference(model, pipeline).classify(texts)
    assert {v.category for v in reference} == {CODE, INFRASTRUCTURE}
    for text, mine, theirs in zip(texts, plain, reference, strict=True):
        where = text[:80]
        assert mine.category == theirs.category, where
        assert mine.confidence == pytest.approx(theirs.confidence, abs=1e-6), where
        assert mine.probability == pytest.approx(theirs.probability, abs=1e-9), where
        assert mine.evidence_line == theirs.evidence_line, where


def test_analyzers_cut_text_as_scikit_learn_does(fitted: tuple[Any, LinearTextModel]) -> None:
    pipeline, model = fitted
    vectorizers = dict(pipeline.steps[0][1].transformer_list)
    samples = [
        "",
        "a",
        "ab  cd\t\tef\n\nx",
        "  leading and trailing  ",
        "E   AssertionError: assert 0 == 0",
        "Ünïcödé ΣΊΣΥΦΟΣ straße ǅ naïve_café",
        "x\u00a0\u2003y\u3000z",  # non-breaking, em and ideographic spaces
        "snake_case CamelCase __dunder__ a1b2 ab",
        "npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree",
    ]
    for block in model.blocks:
        analyze = vectorizers[block.name].build_analyzer()
        for sample in samples:
            assert block.terms(sample) == analyze(sample), (block.name, sample)


def test_packaged_artifact_is_current() -> None:
    """Fails when the corpus or the training settings changed without a rebuild."""
    packaged = read_artifact(PACKAGED_ARTIFACT)
    expected = training_digest(load_training_corpus())
    assert packaged.metadata["digest"] == expected, f"stale {PACKAGED_ARTIFACT.name}: run {REBUILD}"
    assert packaged.metadata["settings"] == json.loads(json.dumps(offline.training_settings()))
    assert PACKAGED_ARTIFACT.stat().st_size < 4_000_000


@pytest.mark.slow
@pytest.mark.realworld
def test_packaged_artifact_is_what_a_rebuild_writes(
    fitted: tuple[Any, LinearTextModel], realworld_dir: Path, tmp_path: Path
) -> None:
    """The packaged model is the current corpus's fit, not a hand-edited or truncated copy."""
    import sklearn

    packaged = read_artifact(PACKAGED_ARTIFACT)
    built_with = packaged.metadata["trained_with"]["scikit-learn"]
    if built_with.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        pytest.skip(
            f"packaged model fitted with scikit-learn {built_with}, not {sklearn.__version__}"
        )
    _, fresh = fitted
    assert [len(b.idf) for b in packaged.blocks] == [len(b.idf) for b in fresh.blocks]
    for text in evaluation_texts(realworld_dir):
        prepared = model_text(text)
        assert packaged.probabilities(prepared) == pytest.approx(
            fresh.probabilities(prepared), abs=1e-6
        ), text[:80]
    # And it round-trips through the file format unchanged.
    write_artifact(fresh, tmp_path / "model.json")
    again = read_artifact(tmp_path / "model.json")
    assert again.to_json() == fresh.to_json()


def small_corpus(directory: Path, marker: str) -> Path:
    """A corpus unlike the packaged one (a part of it, plus a line unique to the test)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("code_error.txt", "infrastructure_error.txt"):
        lines = (REPO / "error_assets/classification/training" / name).read_text().splitlines()
        kept = [line for line in lines if line.strip() and not line.startswith("#")][:40]
        (directory / name).write_text("\n".join([*kept, f"{marker} {name}"]) + "\n")
    return directory


PROBE = """
import json, sys
from pathlib import Path
blocked = json.loads(sys.argv[3])
for name in blocked:
    sys.modules[name] = None  # an import of it now fails: proof it is not needed
from error_assets.classification.offline import offline_classifier
cache = Path(sys.argv[1])
training = Path(sys.argv[2]) if sys.argv[2] != "-" else None
model = offline_classifier(cache, training_dir=training)
verdicts = model.classify(json.loads(sys.stdin.read()))
heavy = {"sklearn", "numpy", "pandas", "scipy", "dagster", "anthropic"}
print(json.dumps({
    "digest": model.digest,
    "verdicts": [[v.category, v.confidence, v.evidence_line, v.probability] for v in verdicts],
    "heavy": sorted({m.split(".")[0] for m, v in sys.modules.items() if v is not None} & heavy),
}))
"""


def probe(
    cache: Path, training: Path | None, texts: list[str], blocked: Sequence[str] = HEAVY
) -> tuple[dict[str, Any], str]:
    """Load the offline model in a fresh interpreter; its verdicts, digest, heavy imports."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(cache), str(training or "-"), json.dumps(list(blocked))],
        input=json.dumps(texts), capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


TEXTS = [
    "E   assert response.status_code == 200",
    "fatal: unable to access 'https://github.com/org/repo/': Could not resolve host: github.com",
    "the nightly widget report came out empty for shard 7",
]


def test_a_fresh_process_uses_the_packaged_model_without_scikit_learn(tmp_path: Path) -> None:
    report, _ = probe(tmp_path / "cache", None, TEXTS)
    assert report["heavy"] == []
    assert report["digest"] == read_artifact(PACKAGED_ARTIFACT).metadata["digest"]
    here = offline_classifier().classify(TEXTS)
    assert report["verdicts"] == [
        [v.category, v.confidence, v.evidence_line, v.probability] for v in here
    ]
    assert not (tmp_path / "cache").exists()  # nothing to fit, nothing cached


@pytest.mark.slow
def test_an_edited_corpus_is_refitted_and_cached(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "training", f"edited corpus {tmp_path.name}:")
    cache = tmp_path / "cache"
    digest = training_digest(load_training_corpus(corpus))
    assert digest != read_artifact(PACKAGED_ARTIFACT).metadata["digest"]

    fitted_here = offline_classifier(cache, training_dir=corpus)
    assert fitted_here.digest == digest
    assert cache_file(cache, digest).is_file()
    assert offline_classifier(cache, training_dir=corpus) is fitted_here  # once per process

    # A later process reads the cached fit, scikit-learn not even importable.
    report, _ = probe(cache, corpus, TEXTS)
    assert report["digest"] == digest and report["heavy"] == []
    assert report["verdicts"] == [
        [v.category, v.confidence, v.evidence_line, v.probability]
        for v in fitted_here.classify(TEXTS)
    ]


@pytest.mark.slow
def test_a_damaged_cached_model_is_refitted(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "training", f"damaged cache {tmp_path.name}:")
    cache = tmp_path / "cache"
    digest = training_digest(load_training_corpus(corpus))
    cache.mkdir()
    cache_file(cache, digest).write_text('{"format": 1, "blocks": [')
    with pytest.raises(ArtifactError, match=cache_file(cache, digest).name):
        read_artifact(cache_file(cache, digest))
    model = offline_classifier(cache, training_dir=corpus)
    assert model.digest == digest
    assert read_artifact(cache_file(cache, digest)).metadata["digest"] == digest


def test_without_scikit_learn_a_stale_packaged_model_beats_none(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "training", f"no sklearn {tmp_path.name}:")
    report, stderr = probe(tmp_path / "cache", corpus, TEXTS)
    assert report["digest"] == read_artifact(PACKAGED_ARTIFACT).metadata["digest"]
    assert "scikit-learn is not installed" in stderr and PACKAGED_ARTIFACT.name in stderr
    packaged = OfflineClassifier(read_artifact(PACKAGED_ARTIFACT)).classify(TEXTS)
    assert report["verdicts"] == [
        [v.category, v.confidence, v.evidence_line, v.probability] for v in packaged
    ]


def test_settings_the_plain_path_does_not_reproduce_are_refused() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    from error_assets.classification.offline_artifact import export_pipeline

    texts = ["disk full on runner", "assert x == y failed", "no space left", "type error in x"]
    labels = [INFRASTRUCTURE, CODE, INFRASTRUCTURE, CODE]
    cases = {
        "norm": TfidfVectorizer(analyzer="char_wb", norm="l1"),
        "analyzer": TfidfVectorizer(analyzer="char"),
        "strip_accents": TfidfVectorizer(strip_accents="unicode"),
        "binary": TfidfVectorizer(binary=True),
        "smooth_idf": TfidfVectorizer(smooth_idf=False),
    }
    for setting, vectorizer in cases.items():
        pipeline = make_pipeline(FeatureUnion([("v", vectorizer)]), LogisticRegression())
        pipeline.fit(texts, labels)
        with pytest.raises(ArtifactError, match=setting):
            export_pipeline(pipeline, {})


def test_malformed_artifacts_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    good = read_artifact(PACKAGED_ARTIFACT).to_json()
    cases: dict[str, Any] = {
        "format 99": {**good, "format": 99},
        "uneven columns": {
            **good,
            "blocks": [{**good["blocks"][0], "coef": good["blocks"][0]["coef"][:-1]}],
        },
        "malformed model": {**good, "classes": None},
        "not a JSON object": [],
    }
    for problem, data in cases.items():
        path.write_text(json.dumps(data))
        with pytest.raises(ArtifactError, match=problem) as caught:
            read_artifact(path)
        assert str(path) in str(caught.value)


def test_check_command_reports_the_packaged_model() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "error_assets.classification.offline", "--check"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "current" in result.stdout and PACKAGED_ARTIFACT.name in result.stdout
