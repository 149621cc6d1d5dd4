"""The compiled engine (`native/`) gives exactly the Python path's answers.

Both paths are run on the same inputs: every rule example and edge case of the table, generated
family texts, seeded random texts built from the rules' own examples and awkward characters,
and (marked realworld) the realworld snippets and logs. A fingerprint that depended on whether
the extension is installed would split clusters between machines, so any difference fails.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import json
import os
import random
import re
import signal
import sys
import threading
import time
import types

import pytest

from error_assets.extraction import extract_file
from error_assets.fingerprinting import cause, native, rules, similarity
from error_assets.fingerprinting.clustering import _python_leaders
from error_assets.fingerprinting.fingerprint import (
    fingerprint_key,
    fingerprint_keys,
    normalized_cause,
)
from tests.fingerprinting.quality_set import family_items
from tests.fingerprinting.test_fast_paths import CODE_NUMBER_CASES, DELETION_CASES


@pytest.fixture(scope="module")
def engine():
    """The compiled engine: skipped when it is not built, a failure under CI=true."""
    compiled = native.engine()
    if compiled is None:
        message = "error_assets_native is not installed (make setup builds it with cargo)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return compiled


def _python_normalize(text: str) -> str:
    rules.clear_line_cache()  # the cache must not hide a difference of the cold path
    return rules.normalize(text)


# Characters that sit on the edges of the rules: separators Python treats as whitespace or
# line breaks, brackets, the placeholders' own characters, hex letters and digits.
AWKWARD = [
    *"0123456789abcdefABCDEF:;.,-_/\\[](){}<>#=@'\"xX ",
    "\t",
    "\r",
    "\r\n",
    "\n",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1c",
    "\x1f",
    "  ",
    "0x",
    "::",
    "Z ",
]


def _fragments() -> list[str]:
    pieces: list[str] = []
    for rule in rules.RULES:
        pieces += re.split(r"(\s+)", rule.example)
    for line in DELETION_CASES + CODE_NUMBER_CASES:
        pieces += re.split(r"(\s+)", line)
    return [piece for piece in pieces if piece and piece.isascii()]


def random_texts(seed: int, count: int) -> list[str]:
    """Texts made of rule-example fragments and awkward characters, glued at random."""
    rng = random.Random(seed)
    fragments = _fragments()
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 14)):
            pool = fragments if rng.random() < 0.6 else AWKWARD
            parts.append(rng.choice(pool))
        texts.append("".join(parts))
    return texts


def _family_texts() -> list[tuple[str, str]]:
    return [(i.message, i.text) for i in family_items(random.Random(21), variants=4)]


def test_translation_of_the_python_dialect() -> None:
    translate = native._translate_pattern
    assert translate(r"a\sb") == r"a[\t\n\x0B\x0C\r \x1C-\x1F]b"
    assert translate(r"[^\s'\"]+") == r"[^\t\n\x0B\x0C\r \x1C-\x1F'\"]+"
    assert translate(r"\d\w", re.IGNORECASE | re.MULTILINE) == "(?im)[0-9][0-9A-Za-z_]"
    assert translate(r"[\d.]\b") == r"[0-9.]\b"  # PCRE2 keeps \b (ASCII there)
    assert translate(r"\bx\s", space=native.RE2_SPACE, plain=True) == r"(?-u:\b)x[\t\n\f\r ]"
    assert translate(r"^\ufeff?x") == r"^\x{feff}?x"
    assert translate(r"[]\s]") == r"[]\t\n\x0B\x0C\r \x1C-\x1F]"  # a leading "]" is a literal
    assert native._translate_replacement(r"\1<id>$") == "${1}<id>$$"


def test_every_rule_has_a_plain_replacement_and_the_engine_builds(engine) -> None:
    assert all(isinstance(rule.replacement, str) for rule in rules.RULES)
    assert engine is native.engine()  # built once


@pytest.mark.parametrize("position", range(len(rules.RULES)), ids=[r.name for r in rules.RULES])
def test_each_rule_alone_matches_python_re(engine, position: int) -> None:
    # Every pattern's translation, on its own example and on random texts (no probes here).
    rule = rules.RULES[position]
    texts = [rule.example, rule.expected, *random_texts(position, 400)]
    for text in texts:
        assert engine.apply_rule(position, text) == rule.pattern.sub(rule.replacement, text)


@pytest.mark.parametrize("text", [r.example for r in rules.RULES] + DELETION_CASES)
def test_rule_examples_and_deletion_cases(engine, text: str) -> None:
    assert engine.normalize(text) == _python_normalize(text)


@functools.cache
def _agreed_inert() -> frozenset[str]:
    """The proposed inert characters the engine kept (it drops those its classes see)."""
    compiled = native.engine()
    assert compiled is not None
    return frozenset(c for c in native.inert_characters() if compiled.normalize(c) is not None)


def _taken(text: str) -> bool:
    """What the engine computes: ASCII and inert characters (the rest is Python's)."""
    return all(char.isascii() or char in _agreed_inert() for char in text)


def test_family_texts_normalise_and_pick_the_same_cause(engine) -> None:
    compared, with_symbols = 0, 0
    for message, text in _family_texts():
        joined = f"{message}\n{text}"
        if not _taken(joined):  # the engine leaves these to Python
            assert engine.cause_text(message, text, "") is None
            assert engine.normalize(joined) is None
            continue
        assert engine.cause_text(message, text, "") == cause.cause_text(message, text)
        assert engine.normalize(joined) == _python_normalize(joined)
        compared += 1
        with_symbols += not joined.isascii()
    assert compared > 100 and with_symbols > 0


@pytest.mark.parametrize("seed", range(4))
def test_random_texts_normalise_alike(engine, seed: int) -> None:
    texts = random_texts(seed, 3_000)
    native.clear_line_caches()
    expected = [rules.normalize(t) for t in texts]
    got = [engine.normalize(t) for t in texts]
    differing = [(t, e, g) for t, e, g in zip(texts, expected, got, strict=True) if e != g]
    assert not differing, differing[:3]


@pytest.mark.parametrize("seed", range(2))
def test_random_texts_give_the_same_cause_text(engine, seed: int) -> None:
    rng = random.Random(100 + seed)
    texts = random_texts(seed + 50, 2_000)
    for text in texts:
        message = rng.choice(texts) if rng.random() < 0.5 else ""
        file = rng.choice(["", " src/a.py ", "\tMakefile"])
        assert engine.cause_text(message, text, file) == cause.cause_text(message, text, file)


@pytest.mark.parametrize(
    "text",
    [
        "a\r\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x1fi\n",  # every line boundary of str.splitlines
        "\n\n  \t\n",
        "ERROR x\n" * 30 + "at a.B.c(B.java:1)\n" * 9,  # more than 12 signals, 4 locations
        "\n".join(f"line {i} failed" for i in range(450)),  # past the 400 scanned lines
        "retry 1 failed\nretry 2 failed\nat 0x1f fault\nat 0xabc fault",  # repeat keys
        "x" * 2500 + " 1764299565123",  # cut at 2,000 characters
        "e\tsomething\nE   assert 1 == 2",
    ],
)
def test_cause_text_edges(engine, text: str) -> None:
    for message in ("", "  boom 0x12  ", "ERROR x"):
        assert engine.cause_text(message, text, "") == cause.cause_text(message, text)
        assert engine.normalize(text) == _python_normalize(text)


def test_fingerprints_equal_with_and_without_the_engine(engine, monkeypatch) -> None:
    keys = [("gha_log", m, t, "") for m, t in _family_texts()]
    keys += [("JUnit ", t[:40], t, "tests/x.py") for t in random_texts(9, 500)]
    keys += [("log", "größe 12 MiB exceeded", "über 3 tries", ""), ("ünicode", "a", "b", "")]
    native_values = fingerprint_keys(keys, workers=2)
    assert native_values == fingerprint_keys(keys, workers=1)
    compiled = engine.fingerprints(keys, 1)
    taken = [key[0].isascii() and all(_taken(part) for part in key[1:]) for key in keys]
    assert [value is not None for value in compiled] == taken  # the rest: Python's job
    assert not taken[-1] and not taken[-2]
    monkeypatch.setenv("ERROR_ASSETS_NATIVE", "0")
    assert native.engine() is None
    native.clear_line_caches()
    assert fingerprint_keys(keys, workers=1) == native_values
    assert [fingerprint_key(k) for k in keys] == native_values


def test_occurrence_fingerprints_read_the_records_and_match_python(engine, monkeypatch) -> None:
    from error_assets.fingerprinting.fingerprint import occurrence_fingerprints
    from error_assets.models import ErrorOccurrence

    def record(index: int, kind: str, message: str, text: str, file: str = "") -> ErrorOccurrence:
        return ErrorOccurrence(
            error_id=f"e{index}", partition="", repo="r", workflow_name="w", run_id=1,
            run_attempt=1, job_id=index, job_name="j", step_name="s", source_kind=kind,
            framework="", test_name="", file=file, line=None, message=message, text=text,
            role="cause",
        )  # fmt: skip

    texts = random_texts(13, 300)
    occurrences = [record(i, "gha_log", t[:30], t) for i, t in enumerate(texts)]
    occurrences += occurrences[:50]  # the same keys again: computed once, answered twice
    occurrences += [
        record(900, "log", "größe 12 MiB exceeded", "über 3 tries"),  # left to Python
        record(901, "Cargo", "error[E0425]", "x", file="src/lib.rs"),
        record(902, "cargo", "error[E0425]", "x", file="src/main.rs"),  # only the file differs
    ]
    compiled = native.occurrence_fingerprints(occurrences, 2)
    made: dict[str, str] = {}
    assert native.occurrence_fingerprints(occurrences, 1, made) == compiled
    assert set(made) == set(compiled) - {None}  # none for the one left to Python
    assert all(made[v] == normalized_cause((o.source_kind, o.message, o.text, o.file))
               for o, v in zip(occurrences, compiled, strict=True) if v is not None)  # fmt: skip
    assert compiled[-3] is None and compiled[-2] is not None
    assert compiled[-2] != compiled[-1]
    assert compiled[300:350] == compiled[:50]
    values = occurrence_fingerprints(occurrences, workers=2)
    monkeypatch.setenv("ERROR_ASSETS_NATIVE", "0")
    native.clear_line_caches()
    assert occurrence_fingerprints(occurrences, workers=1) == values
    assert values == [
        fingerprint_key((o.source_kind, o.message, o.text, o.file)) for o in occurrences
    ]


def test_occurrence_fingerprints_in_batches_on_threads_match_python(engine, monkeypatch) -> None:
    """Past a few thousand distinct keys, batches go to the pool while the records are read:
    keys repeated across batches are computed once, and every answer lands in its place."""
    from error_assets.fingerprinting.fingerprint import occurrence_fingerprints
    from error_assets.models import ErrorOccurrence

    def record(index: int, text: str) -> ErrorOccurrence:
        return ErrorOccurrence(
            error_id=f"e{index}", partition="", repo="r", workflow_name="w", run_id=1,
            run_attempt=1, job_id=index, job_name="j", step_name="s", source_kind="gha_log",
            framework="", test_name="", file="", line=None, message=text[:40], text=text,
            role="cause",
        )  # fmt: skip

    texts = random_texts(17, 10_000)
    rng = random.Random(17)
    picks = list(range(len(texts))) + [rng.randrange(len(texts)) for _ in range(4_000)]
    rng.shuffle(picks)  # repeats fall in other batches than their first sighting
    occurrences = [record(index, texts[pick]) for index, pick in enumerate(picks)]
    native.clear_line_caches()
    compiled = native.occurrence_fingerprints(occurrences, 2)
    assert len(compiled) == len(occurrences)
    first = {}
    for pick, value in zip(picks, compiled, strict=True):
        assert first.setdefault(pick, value) == value  # a repeated key, the same answer
    assert native.occurrence_fingerprints(occurrences, 1) == compiled
    # Asked for them, each fingerprint made here comes with its normalised text, once per
    # fingerprint however many batches and threads met it; one string object per value.
    made: dict[str, str] = {}
    assert native.occurrence_fingerprints(occurrences, 2, made) == compiled
    assert set(made) == {value for value in compiled if value is not None}
    again: dict[str, str] = {}  # a new call: the threads give every text again
    native.occurrence_fingerprints(occurrences, 2, again)
    assert again == made
    shared: dict[str, str] = {}
    assert all(shared.setdefault(v, v) is v for v in compiled if v is not None)
    # First positions come only when every fingerprint was computed here.
    firsts: dict[str, int] = {}
    assert native.occurrence_fingerprints(occurrences, 2, None, firsts) == compiled
    assert None not in compiled
    assert firsts == {v: at for at, v in reversed(list(enumerate(compiled)))}
    assert list(firsts.values()) == sorted(firsts.values())  # filled in reading order
    left = [*occurrences, record(len(occurrences), "größe 12 MiB exceeded")]  # Python's
    assert native.occurrence_fingerprints(left, 2, None, firsts)[-1] is None
    assert firsts == {}
    monkeypatch.setenv("ERROR_ASSETS_NATIVE", "0")
    python = occurrence_fingerprints(occurrences, workers=1)
    assert [c or p for c, p in zip(compiled, python, strict=True)] == python
    assert sum(value is not None for value in compiled) > 9_000  # most were compiled
    assert len(made) < len(set(picks))  # some texts share a fingerprint
    for occurrence, value in zip(occurrences, compiled, strict=True):
        if value is not None:
            key = (occurrence.source_kind, occurrence.message, occurrence.text, occurrence.file)
            assert made[value] == normalized_cause(key)


def _clusters_both_ways(occurrences, monkeypatch) -> tuple[list, list]:
    from error_assets.fingerprinting import build_clusters

    compiled = build_clusters(occurrences, "2026-11-28-03:00", {}, workers=2)
    with monkeypatch.context() as patch:
        patch.setenv("ERROR_ASSETS_NATIVE", "0")
        python = build_clusters(occurrences, "2026-11-28-03:00", {}, workers=1)
    return compiled, python


def test_cluster_members_and_representatives_match_python(engine, monkeypatch) -> None:
    from tests.fingerprinting.quality_set import as_occurrence

    rng = random.Random(21)
    occurrences = []
    for item in family_items(rng, variants=4):
        occurrence = as_occurrence(item, "2026-11-28-03:00", rng.randint(1, 40))
        occurrences.append(
            dataclasses.replace(
                occurrence,
                # Roles, ranks and repeated error ids make the order and its ties matter;
                # empty and None values must not be listed.
                error_id=f"e{rng.randint(0, len(occurrences))}",
                role=rng.choice(["cause", "symptom", "wrapper", "other"]),
                rank=rng.randint(0, 2),
                run_id=rng.choice([7, 8, 9]),
                test_name=rng.choice(["", "test_a", "test_b", "tést_ü"]),
                step_name=rng.choice(["", "build", "test"]),
                repo=rng.choice(["acme/shop", "acme/api"]),
                framework=rng.choice(["", "pytest", "jest"]),
            )
        )
    compiled, python = _clusters_both_ways(occurrences, monkeypatch)
    assert compiled == python
    assert any(len(c.member_fingerprints) > 1 for c in compiled)  # near-duplicates merged
    assert any(len(set(c.error_ids)) < len(c.error_ids) for c in compiled)  # ids repeat
    # The engine's tuples of str and int are left out of the cyclic GC (no cycle can pass
    # through them), so a collection does not visit a million ids. (Read with the collector
    # off: a collection would untrack them too.)
    group_of = [at % 5 for at in range(len(occurrences))]
    cluster_of = {str(group): group % 2 for group in range(5)}
    gc.disable()
    try:
        listings = _engine_listings(
            occurrences, group_of, [str(g) for g in range(5)], cluster_of, ["error_id", "run_id"]
        )
    finally:
        gc.enable()
    assert [len(listed) for _, listed in listings] == [2, 2]
    assert not any(gc.is_tracked(values) for _, listed in listings for values in listed)


class _Computed:
    """A record whose names are made afresh on every read (freed right after, so an address
    can come back for a different value)."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.error_id, self.role, self.rank = f"e{index}", "cause", 0

    @property
    def repo(self) -> str:
        return "".join(["acme/", "shop" if self.index % 3 else "api"])

    @property
    def job_id(self) -> int:
        return 10**12 + self.index % 5  # a new int object each time


def _engine_listings(records, group_of, groups, cluster_of, fields, fingerprints=None):
    """The engine's listings: members read per group, listed per cluster."""
    fingerprints = fingerprints or ["f"] * len(records)
    read = native.read_members(records, group_of, groups, fingerprints, fields)
    return None if read is None else read.listings(cluster_of, len(set(cluster_of.values())))


@pytest.mark.parametrize("clusters", [7, 3])
def test_cluster_members_compare_values_not_addresses(engine, clusters: int) -> None:
    """Seven groups listed as they are, or merged into three clusters (group % 3)."""
    records = [_Computed(i) for i in range(300)]
    groups = [f"g{i}" for i in range(7)]
    cluster_of = {g: i % clusters for i, g in enumerate(groups)}
    fields = ["error_id", "repo", "job_id"]
    found = _engine_listings(records, [i % 7 for i in range(300)], groups, cluster_of, fields)
    assert found is not None and len(found) == clusters
    for cluster, (representative, (error_ids, repos, job_ids)) in enumerate(found):
        members = [r for r in records if r.index % 7 % clusters == cluster]
        assert representative == min(members, key=lambda r: r.error_id).index
        assert error_ids == tuple(sorted(r.error_id for r in members))
        assert repos == tuple(sorted({r.repo for r in members}))
        assert job_ids == tuple(sorted({r.job_id for r in members}))


def test_reading_members_lets_other_threads_run(engine) -> None:
    """The clustering assigns cluster ids on a thread while the members are read: the reader
    hands the GIL over when asked (every few thousand records), not only at its end."""
    # Plain attributes: a property would run bytecode, where Python hands the GIL over itself.
    records = [
        types.SimpleNamespace(error_id=f"e{i}", role="cause", rank=0, repo="acme/shop")
        for i in range(400_000)
    ]
    ticks, stop = [0], threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.0001)  # gives the GIL back, then waits for it (asking after 5 ms)

    interval = sys.getswitchinterval()
    ticker = threading.Thread(target=tick)
    sys.setswitchinterval(0.005)
    try:
        ticker.start()
        time.sleep(0.01)
        before, started = ticks[0], time.perf_counter()
        group_of = [i % 3 for i in range(len(records))]
        read = native.read_members(
            records, group_of, ["a", "b", "c"], ["f"] * len(records), ["error_id", "repo"]
        )
        during, seconds = ticks[0] - before, time.perf_counter() - started
    finally:
        stop.set()
        ticker.join()
        sys.setswitchinterval(interval)
    assert read is not None
    # Holding the GIL throughout, the reader would let the ticker in once or twice (in the
    # wrapper's Python code); handing it over, about once per 10 ms of reading.
    assert seconds > 0.05, "too few records to tell"
    assert during >= 5, (during, seconds)
    # Listed per cluster (groups a and c together); this many ids are sorted on threads.
    (first, (ids, repos)), (second, (other_ids, _)) = read.listings({"a": 0, "b": 1, "c": 0}, 2)
    assert (first, second, repos) == (0, 1, ("acme/shop",))
    assert ids == tuple(sorted(r.error_id for i, r in enumerate(records) if i % 3 != 1))
    assert other_ids == tuple(sorted(r.error_id for i, r in enumerate(records) if i % 3 == 1))


def test_representative_ties_go_to_the_smaller_fingerprint_then_the_earlier_one(
    engine, monkeypatch
) -> None:
    from tests.fingerprinting.quality_set import LabelledItem, as_occurrence

    line = (
        "2026-11-28T03:00:0{}Z warning: spurious network error ({} tries remaining): [6] Could"
        " not resolve hostname (Could not resolve host: index.crates.io)"
    )
    texts = [line.format(second, n) for second, n in ((1, 3), (2, 2), (3, 1), (4, 3), (5, 2))]
    # One error id, role and rank for all: only the tie-breaks tell them apart.
    items = [LabelledItem("same", "", "gha_log", "", text) for text in texts]
    occurrences = [as_occurrence(item, "2026-11-28-03:00", job) for job, item in enumerate(items)]
    keys = [(o.source_kind, o.message, o.text, o.file) for o in occurrences]
    order = sorted(range(len(keys)), key=lambda i: (fingerprint_key(keys[i]), i))
    assert len({fingerprint_key(k) for k in keys}) == 3  # two fingerprints hold two texts
    compiled, python = _clusters_both_ways(occurrences, monkeypatch)
    assert compiled == python
    (cluster,) = compiled
    assert cluster.representative_text == texts[order[0]]
    reversed_clusters, _ = _clusters_both_ways(occurrences[::-1], monkeypatch)
    expected_reversed = min(range(len(keys)), key=lambda i: (fingerprint_key(keys[i]), -i))
    assert reversed_clusters[0].representative_text == texts[expected_reversed]


class _Name(str):
    """A str subclass: its instances have a __dict__ and are tracked by the cyclic GC."""


def test_cluster_members_leave_odd_field_types_to_python(engine, monkeypatch) -> None:
    from tests.fingerprinting.quality_set import as_occurrence

    items = family_items(random.Random(3), variants=2)
    occurrences = [as_occurrence(item, "2026-11-28-03:00", i) for i, item in enumerate(items)]
    occurrences[0] = dataclasses.replace(occurrences[0], job_id=True)  # a bool, not an int
    # A str subclass may hold references (and so join a cycle): Python lists it.
    occurrences[1] = dataclasses.replace(occurrences[1], repo=_Name("acme/shop"))
    fingerprints = [
        fingerprint_key((o.source_kind, o.message, o.text, o.file)) for o in occurrences
    ]
    one = ([0] * len(items), ["all"], {"all": 0})
    assert _engine_listings(occurrences, *one, ["error_id", "job_id"], fingerprints) is None
    assert _engine_listings(occurrences, *one, ["error_id", "repo"], fingerprints) is None
    assert _engine_listings(occurrences, *one, ["error_id", "run_id"], fingerprints)
    renamed = [dataclasses.replace(occurrences[2], error_id=_Name("e2")), *occurrences[3:]]
    assert _engine_listings(renamed, [0] * len(renamed), *one[1:], ["error_id"]) is None
    compiled, python = _clusters_both_ways(occurrences, monkeypatch)
    assert compiled == python


def test_normalized_causes_fill_in_what_the_engine_leaves(engine) -> None:
    from error_assets.fingerprinting.fingerprint import normalized_causes

    keys = [("log", "über 5 fails", "x 12 MiB", ""), ("log", "plain 0x1f", "at 12:30:01", "")]
    expected = [rules.normalize(cause.cause_text(k[1], k[2], k[3])) for k in keys]
    assert normalized_causes(keys, workers=1) == expected


def test_a_pathological_line_still_gives_the_python_answer(engine) -> None:
    # Long lazy scans (installed_packages) and long digit runs near the 2,000 character cut.
    texts = ["/a" * 3000 + "/site-packages/x.py", "1" * 5000, "ab-" * 900 + "0x" + "f" * 500]
    keys = [("log", "", text, "") for text in texts]
    rules.clear_line_cache()
    assert fingerprint_keys(keys, workers=1) == [fingerprint_key(k) for k in keys]


def test_rule_replacements_fill_groups_and_leave_what_pcre2_cannot_do_to_python(engine) -> None:
    table = [
        (r"(\w+)@(\w+)", "${2}$$${1}", [], False, None),  # groups and a literal dollar
        (r"x*", "-", [], False, None),  # an empty match: the engines differ, Python answers
        (r"(a+)+$", "", [], False, None),  # past PCRE2's match limit
        (r"(?<=k)\d+(?!\d)", "<n>", [], False, None),  # lookaround
    ]
    custom = native._normalizer(table, 0)
    assert (
        custom.apply_rule(0, "a@b c@d") == "b$a d$c" == re.sub(r"(\w+)@(\w+)", r"\2$\1", "a@b c@d")
    )
    assert custom.apply_rule(0, "nothing here") == "nothing here"
    assert custom.apply_rule(1, "abc") is None
    assert custom.apply_rule(2, "a" * 40 + "b") is None
    assert custom.apply_rule(2, "aaa") == ""
    assert custom.apply_rule(3, "k12 12 k3x") == "k<n> 12 k<n>x"


def test_splitting_build_file_line_changed_no_output() -> None:
    # Until n1's table became plain data, one rule did both with a function as replacement.
    combined = re.compile(
        r"\b(Dockerfile|Containerfile|Makefile|makefile|GNUmakefile|Jenkinsfile|Gemfile|Rakefile)"
        r":\d+\b|^#\d+(?= )",
        re.MULTILINE,
    )
    by_name = {rule.name: rule for rule in rules.RULES}

    def old(text: str) -> str:
        return combined.sub(lambda m: f"{m.group(1)}:<line>" if m.group(1) else "#<step>", text)

    def new(text: str) -> str:
        text = by_name["build_file_line"].pattern.sub(by_name["build_file_line"].replacement, text)
        return by_name["buildkit_step"].pattern.sub(by_name["buildkit_step"].replacement, text)

    lines = [
        "#12 ERROR: failed to solve: Dockerfile:25",
        "#3 [2/5] RUN make\n#4 Makefile:12: recipe failed",
        "make: *** [GNUmakefile:7: all] Error 2 #9 later",
        "#7 Dockerfile:1:2 and Rakefile:99",
        *random_texts(77, 2_000),
    ]
    assert [new(line) for line in lines] == [old(line) for line in lines]


KEY_TOKEN_CASES = [
    "Error: HTTP/1.1 503 Service Unavailable",
    "http/2 404 not found; returned 500 error; responded with 429 Client",
    "exit code 137 / Exit Code: 1 / status=2 / signal 9 / errno 28 / returned 404",
    "at com.acme.orders.Service.create(Service.java:<n>) at $Proxy12.call(Unknown)",
    "cat (at x(), att y(, at a.b.c(d) at ()",
    "ECONNRESET EADDRINUSE E0425 F401 TS2304 ABCD1234 EAB Econnreset",
    "src/cart/utils.py C:\\work\\app.ts ./lib/x.rs- .-.x.go-. -- ... x.PY a.b.c",
    "ValueError: TypeError AssertionError, KeyboardInterrupt SystemExit DeprecationWarning",
    "<path>/x.py:<n> <hex> $HOME/bin/run.sh",
    "502 Bad Gateway 500 error 400 client 4000 Server 50 Server",
    "",
    *CODE_NUMBER_CASES,
]


def _key_token_texts(seed: int, count: int) -> list[str]:
    """Texts glued from key-token cases, rule examples and awkward characters."""
    rng = random.Random(seed)
    fragments = _fragments()
    for case in KEY_TOKEN_CASES:
        fragments += re.split(r"(\s+)", case)
    fragments = [f for f in fragments if f]
    texts = []
    for _ in range(count):
        parts = [rng.choice(fragments + AWKWARD) for _ in range(rng.randint(1, 16))]
        texts.append("".join(parts))
    return texts


def _python_parts(text: str) -> native.ProfileParts:
    made = similarity.profile(text, "log")
    return (made.keys, made.tokens, made.head_words)


@pytest.mark.parametrize("text", KEY_TOKEN_CASES)
def test_profile_parts_of_each_case_match_python(engine, text: str) -> None:
    assert native.profile_parts([text]) == [_python_parts(text)]


def test_profile_parts_of_random_and_normalised_texts_match_python(engine) -> None:
    texts = _key_token_texts(5, 6_000)
    texts += [rules.normalize(t) for t in texts[:1_500]]
    texts += [rules.normalize(f"{m}\n{t}") for m, t in _family_texts() if (m + t).isascii()]
    assert native._key_tokenizer().scans() == (True, True)  # tokens and words by byte scan
    compiled = native.profile_parts(texts)
    assert compiled == [_python_parts(t) for t in texts]
    assert sum(bool(keys) for keys, _, _ in compiled) > len(texts) // 3  # not all empty
    assert native.profile_parts(texts, 2) == compiled  # on two threads, in the same order


def test_profile_parts_leave_letters_beyond_ascii_to_python(engine) -> None:
    texts = ["ValueError: caf\u00e9", "\u00dcber ECONNRESET", "\u25cf Cart \u203a adds EPIPE 42"]
    parts = native.profile_parts(texts)
    assert parts[:2] == [None, None]
    assert parts[2] == (
        frozenset({"EPIPE"}),
        frozenset({"Cart", "adds", "EPIPE", "42"}),
        frozenset({"Cart", "adds", "EPIPE"}),
    )
    assert parts[2] == _python_parts(texts[2])


# Symbols CI output is full of (Jest, cargo, box drawing, check marks, emoji), and a sample of
# the rest of the inert set.
SYMBOLS = list("\u25cf\u203a\u2713\u2715\u2500\u2502\u2514\u251c\u2026\u2192\u2022\u00b7\u00b0")
SYMBOLS += list(
    "\u00d7\u20ac\u00a3\u00a7\u00a9\u00ae\u2122\u274c\u2705\u26a0\U0001f680\u00ab\u00bb"
)


def _symbol_texts(seed: int, count: int) -> list[str]:
    """Random texts of rule fragments and awkward characters with inert symbols among them."""
    rng = random.Random(seed)
    symbols = SYMBOLS + rng.sample(sorted(_agreed_inert()), 200)
    texts = []
    for text in random_texts(seed, count):
        pieces = list(text)
        for _ in range(rng.randint(1, 4)):
            pieces.insert(rng.randint(0, len(pieces)), rng.choice(symbols))
        texts.append("".join(pieces))
    return texts


def test_inert_symbols_are_checked_by_both_engines(engine) -> None:
    inert = native.inert_characters()
    assert set(SYMBOLS) <= _agreed_inert()
    assert len(_agreed_inert()) > 0.9 * len(inert)
    # Proposed by Python, dropped by the engine: Rust's \w counts it (Other_Alphabetic).
    assert "\U0001f130" in inert and engine.normalize("boom \U0001f130 12 MiB") is None
    for letter in "\u00b5\u00e9\u24b6\u2460\u0301\u00a0\u2028\u203f":  # cased, spaces, marks
        assert letter not in inert
        assert engine.normalize(f"boom {letter} 12 MiB") is None


@pytest.mark.parametrize("seed", range(3))
def test_texts_with_inert_symbols_normalise_alike(engine, seed: int) -> None:
    texts = _symbol_texts(100 + seed, 2_000)
    native.clear_line_caches()
    expected = [rules.normalize(t) for t in texts]
    assert [engine.normalize(t) for t in texts] == expected
    messages = [t.split("\n", 1)[0] for t in texts]
    assert [engine.cause_text(m, t, "") for m, t in zip(messages, texts, strict=True)] == [
        cause.cause_text(m, t) for m, t in zip(messages, texts, strict=True)
    ]
    assert native.profile_parts(expected) == [_python_parts(t) for t in expected]


@pytest.mark.parametrize("position", range(len(rules.RULES)), ids=[r.name for r in rules.RULES])
def test_each_rule_alone_matches_python_re_beside_inert_symbols(engine, position: int) -> None:
    rule = rules.RULES[position]
    texts = [*_symbol_texts(position, 150), f"\u25cf {rule.example} \u203a"]
    for text in texts:
        assert engine.apply_rule(position, text) == rule.pattern.sub(rule.replacement, text)


@pytest.mark.realworld
def test_realworld_snippets_and_logs_alike(engine, realworld_dir, monkeypatch) -> None:
    rows = [
        json.loads(line)
        for line in (realworld_dir / "error_snippets.jsonl").read_text("utf-8").splitlines()
    ]
    keys = [("log", "", row["text"], "") for row in rows]
    for path in sorted((realworld_dir / "logs").rglob("*")) + sorted(
        (realworld_dir / "junit").rglob("*.xml")
    ):
        if path.is_file():
            for finding in extract_file(path).findings:
                keys.append((finding.source_kind, finding.message, finding.text, finding.file))
    assert len(keys) > 400
    compiled = fingerprint_keys(keys, workers=2)
    assert sum(engine.fingerprints(keys, 1)[i] is not None for i in range(len(keys))) > 300
    rules.clear_line_cache()
    assert [fingerprint_key(k) for k in keys] == compiled


def test_the_switch_is_validated_like_every_setting(monkeypatch) -> None:
    from error_assets.settings import SettingsError

    monkeypatch.setenv("ERROR_ASSETS_NATIVE", "maybe")
    with pytest.raises(SettingsError, match="ERROR_ASSETS_NATIVE"):
        native.engine()
    monkeypatch.setenv("ERROR_ASSETS_NATIVE", "off")
    assert native.engine() is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_threads_of_its_own(engine) -> None:
    # The parent's thread pool is inherited without its threads: using it would hang.
    keys = [("log", m, t, "") for m, t in _family_texts() if (m + t).isascii()][:300]
    expected = engine.fingerprints(keys, 2)  # the parent's pool exists now
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's exit code is the verdict
        os._exit(0 if engine.fingerprints(keys, 2) == expected else 3)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    pytest.fail("the forked child hung on the parent's thread pool")


def test_a_stale_build_falls_back_to_python(monkeypatch) -> None:
    module = pytest.importorskip("error_assets_native")
    monkeypatch.setattr(module, "ENGINE_VERSION", native.ENGINE_VERSION + 1)
    native._engine.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="engine version"):
            assert native.engine() is None
        keys = [("log", "boom 0x1f at 12:30:01", "x", "")]
        assert fingerprint_keys(keys) == [fingerprint_key(keys[0])]
    finally:
        native._engine.cache_clear()


def _edited(rng: random.Random, text: str, edits: int) -> str:
    words = text.split(" ")
    for _ in range(edits):
        at = rng.randrange(len(words))
        choice = rng.random()
        if choice < 0.4:
            words[at] = words[at] + rng.choice("xyz")
        elif choice < 0.7 and len(words) > 1:
            del words[at]
        else:
            words.insert(at, rng.choice(["retry", "done", "<num>", "at", "in"]))
    return " ".join(words)


def test_indel_ratio_matches_rapidfuzz_to_the_last_bit(engine) -> None:
    import error_assets_native
    from rapidfuzz import fuzz

    rng = random.Random(8)
    alphabet = "ab cd\nef<>_1\u00e9\u25cf"
    for _ in range(20_000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70)))
        b = _edited(rng, a, rng.randint(0, 4)) if rng.random() < 0.8 else a[::-1]
        for cutoff in (similarity.RATIO_THRESHOLD, 60.0, 97.5):
            score = fuzz.ratio(a, b, score_cutoff=cutoff)
            expected = score if score >= cutoff else None
            assert error_assets_native.indel_ratio_at_least(a, b, cutoff) == expected, (a, b)


def test_assign_leaders_matches_the_python_index(engine) -> None:
    rng = random.Random(12)
    texts = [rules.normalize(f"{m}\n{t}") for m, t in _family_texts()]
    texts += [_edited(rng, rng.choice(texts), rng.randint(1, 6)) for _ in range(1_500)]
    # One block of 600 leaders with equal token sets: the candidate cap decides.
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    texts += ["Error: fetch failed\n" + " ".join(rng.sample(words, 9)) for _ in range(600)]
    texts += [
        "",
        "   ",
        "\u00dcberlauf: caf\u00e9 ECONNRESET",
        "\u00dcberlauf: caf\u00e9 ECONNRESET 2",
    ]
    rng.shuffle(texts)
    kinds = ["pytest" if i % 7 == 0 else "gha_log" for i in range(len(texts))]
    for seeds in (0, 400):
        expected = _python_leaders(texts, kinds, seeds, 1)
        assert native.assign_texts(texts, kinds, seeds) == expected
        assert native.assign_texts(texts, kinds, seeds, threads=2) == expected
        merged = sum(leader != at for at, leader in enumerate(expected, start=seeds))
        assert merged > len(texts) // 5  # near-duplicates were found, not only new leaders


def test_assign_cluster_ids_with_history_match_python(engine, monkeypatch) -> None:
    from error_assets.fingerprinting.clustering import assign_cluster_ids
    from error_assets.fingerprinting.fingerprint import fingerprint
    from error_assets.stores.base import ClusterSighting

    rng = random.Random(14)
    texts = [rules.normalize(f"{m}\n{t}") for m, t in _family_texts()]
    texts += [_edited(rng, rng.choice(texts), rng.randint(1, 5)) for _ in range(800)]
    keyed = {fingerprint(t, "gha_log"): ("gha_log", t) for t in texts}
    known = list(keyed.items())[:150]
    history = {
        f: ClusterSighting(
            fingerprint=f,
            first_seen=f"2026-11-{10 + i % 9}T00:00:00Z",
            last_seen="",
            partitions=1,
            normalized_text=text,
            member_fingerprints=(f,),
            source_kind=kind,
        )
        for i, (f, (kind, text)) in enumerate(known)
    }
    fresh = dict(list(keyed.items())[150:])
    compiled = assign_cluster_ids(fresh, history)
    monkeypatch.setenv("ERROR_ASSETS_NATIVE", "0")
    assert assign_cluster_ids(fresh, history) == compiled
    assert sum(cluster in history for cluster in compiled.values()) > 50  # seeds were joined


def test_assign_leaders_caps_candidates_and_orders_ties_like_python(engine) -> None:
    """Where the candidate cap decides: over 64 leaders behind each of two equally rare tokens
    (ties go by the token itself), then a text near the 65th leader behind the first, and
    one near a leader behind the second that also holds the first."""
    rng = random.Random(15)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    head = "Error: fetch failed\n"
    # One more B text than A texts: the first probe adds an "aaa", so the counts tie.
    b_texts = [head + "zzz " + " ".join(rng.sample(words, 9)) for _ in range(91)]
    a_texts = [head + "aaa " + " ".join(rng.sample(words, 9)) for _ in range(90)]
    texts = b_texts[:1] + a_texts + b_texts[1:]  # "zzz" is met first: ties must not care
    profiles = [similarity.profile(t, "gha_log") for t in texts]
    index = similarity.LeaderIndex.for_texts(profiles)
    for at, item in enumerate(profiles):
        if index.best_match(item) is None:
            index.add(str(at), item)
    behind = index.postings[profiles[1].block]
    a_leaders = [texts[int(index.leaders[p][0])] for p in behind["aaa"]]
    b_leaders = [texts[int(index.leaders[p][0])] for p in behind["zzz"]]
    assert len(a_leaders) > similarity.MAX_CANDIDATES and len(b_leaders) > similarity.MAX_CANDIDATES
    probes = [
        a_leaders[similarity.MAX_CANDIDATES] + " golf",  # past the cap: not seen
        b_leaders[3].replace("zzz", "aaa zzz"),  # "aaa" ranks first: only A leaders seen
    ]
    texts += probes
    expected = _python_leaders(texts, ["gha_log"] * len(texts), 0, 1)
    assert native.assign_texts(texts, ["gha_log"] * len(texts), 0) == expected
    assert expected[-2:] == [len(texts) - 2, len(texts) - 1]  # both lead: the cap held
