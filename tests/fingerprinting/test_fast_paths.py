"""The speed-ups give the answers of the plain code paths they shortcut.

Each fast path (RE2 probes, byte-level repeat keys, rank-ordered prefixes, direct copies,
the paused collector) is compared with the slower path it replaces, on generated family
texts, hand-written edge cases and, where marked, the realworld snippets.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import random
from collections import Counter

import pytest

from error_assets.fingerprinting import cause, fingerprint_occurrences, rules, similarity
from error_assets.fingerprinting.gc_pause import gc_paused
from error_assets.fingerprinting.rules import apply_rules, normalize, normalize_line
from error_assets.fingerprinting.similarity import LeaderIndex, key_tokens, profile
from tests.fingerprinting.quality_set import as_occurrence, family_items

needs_re2 = pytest.mark.skipif(rules._PROBE_SET is None, reason="google-re2 is not installed")

# Lines where a deleting rule (ANSI, lost-ESC residue, carriage return, log prefix) changes
# what the later rules see, so the probes must be taken again after it.
DELETION_CASES = [
    "12\x1b[0m34567 items",  # the escape splits a long number
    "[1m2026-11-28T03:12:45.1234567Z ##[error]boom 0x1f",  # residue hides a log prefix
    "pid 42\r42 and 1764299\r565123",  # carriage returns split numbers
    "2026-11-28T03:12:45Z \x1b[31mcommit 050ce9e1226b95d6b5938bdd5e245491f7219fd8\x1b[0m",
    "\x1b]8;;http://x\x07link\x1b]8;;\x07 at 10.0.0.1:80",
    "2026-11-28T03:12:45.1Z 2026-11-28T03:12:46.1Z twice",
    "[[1;31mERROR[m] Failed after 3.2s in /home/runner/work/a/a/src/x.py:12",
    "plain words only",
    "",
]

CODE_NUMBER_CASES = [
    "HTTP/1.1 503 Service Unavailable",
    "http 404",
    "request returned 500",
    "server responded with 429",
    "Process completed with EXIT CODE 137",
    "exit status: 2",
    "errno=28",
    "got 502 bad gateway",
    "got 418 teapot",
    "a 401 Client error",
    "404",
    "version 3.10 has 400 tests",
    "signal 9 (SIGKILL)",
    "Status=403",
    "no numbers here",
]


def _family_lines(seed: int = 5, variants: int = 4) -> list[str]:
    items = family_items(random.Random(seed), variants=variants)
    return [line for i in items for text in (i.message, i.text) for line in text.split("\n")]


@needs_re2
@pytest.mark.parametrize("line", DELETION_CASES)
def test_probes_after_deleting_rules_match_the_plain_checks(line: str) -> None:
    assert apply_rules(line) == apply_rules(line, use_probes=False)


@needs_re2
def test_probed_normalize_equals_unprobed_on_family_lines(monkeypatch) -> None:
    lines = _family_lines() + DELETION_CASES + [r.example for r in rules.RULES]
    rules.clear_line_cache()
    fast = [normalize_line(line) for line in lines]
    monkeypatch.setattr(rules, "_PROBE_SET", None)
    rules.clear_line_cache()
    try:
        slow = [normalize_line(line) for line in lines]
    finally:
        rules.clear_line_cache()
    assert fast == slow


@pytest.mark.parametrize("text", ["a\t b", "a\f\vb", "a  b", " a b ", "a b", "tab\tonly"])
def test_blank_collapse_is_skipped_only_when_it_would_change_nothing(text: str) -> None:
    rules.clear_line_cache()
    assert normalize_line(text) == rules._SPACES.sub(" ", apply_rules(text)).strip()


def test_line_cache_gives_the_uncached_answer() -> None:
    lines = _family_lines(seed=6, variants=2)
    rules.clear_line_cache()
    cold = [normalize(line) for line in lines]
    warm = [normalize(line) for line in lines]  # every line now answered from the cache
    assert cold == warm


@needs_re2
def test_cause_text_with_re2_line_kinds_equals_the_python_regexes(monkeypatch) -> None:
    items = family_items(random.Random(7), variants=4)
    extra = [("", "ERROR: über fail\n  at x.Y.z(Y.java:3)\nCaused by: boom\n  plain ümlaut")]
    pairs = [(i.message, i.text) for i in items] + extra
    fast = [cause.cause_text(m, t) for m, t in pairs]
    monkeypatch.setattr(cause, "_KINDS", None)
    assert [cause.cause_text(m, t) for m, t in pairs] == fast


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("retry 3 of 5", "retry 4 of 5", True),
        ("retry 3 of 5", "retry  of ", True),  # the digits removed, nothing else
        ("at 0x7ffd5e3c2a10 fault", "at 0x00ab fault", True),
        ("at 0x7ffd5e3c2a10 fault", "at x fault", True),  # the hex-stripped form of the first
        ("wert ٣ ok", "wert ٤ ok", False),  # only ASCII digits are dropped without "0x"
        ("größe 12 MiB", "größe 99 MiB", True),
        ("größe 12 MiB", "grösse 12 MiB", False),
    ],
)
def test_repeat_keys_equal_exactly_when_the_stripped_lines_do(
    first: str, second: str, same: bool
) -> None:
    assert (cause._repeat_key(first) == cause._repeat_key(second)) is same


def test_code_number_probe_never_hides_a_status_code(monkeypatch) -> None:
    texts = CODE_NUMBER_CASES + [
        normalize(i.message + "\n" + i.text) for i in family_items(random.Random(8), variants=3)
    ]
    fast = [key_tokens(t) for t in texts]
    assert any("#503" in keys for keys in fast)
    monkeypatch.setattr(similarity, "_CODE_NUMBER_PROBE", None)
    assert [key_tokens(t) for t in texts] == fast


@pytest.mark.realworld
def test_fast_paths_agree_on_realworld_snippets(realworld_dir, monkeypatch) -> None:
    path = realworld_dir / "error_snippets.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    texts = [row["text"] for row in rows]
    rules.clear_line_cache()
    fast_causes = [cause.cause_text("", t) for t in texts]
    fast_normal = [normalize(t) for t in fast_causes]
    fast_keys = [key_tokens(t) for t in fast_normal]
    monkeypatch.setattr(cause, "_KINDS", None)
    monkeypatch.setattr(rules, "_PROBE_SET", None)
    monkeypatch.setattr(similarity, "_CODE_NUMBER_PROBE", None)
    rules.clear_line_cache()
    try:
        assert [cause.cause_text("", t) for t in texts] == fast_causes
        assert [normalize(t) for t in fast_causes] == fast_normal
        assert [key_tokens(t) for t in fast_normal] == fast_keys
    finally:
        rules.clear_line_cache()


def test_rank_order_is_the_frequency_then_token_order() -> None:
    texts = [normalize(i.text) for i in family_items(random.Random(10), variants=2)]
    items = [profile(t, "log") for t in texts]
    index = LeaderIndex.for_texts(items)
    frequency: Counter[str] = Counter()
    for item in items:
        frequency.update(item.tokens)
    plain = LeaderIndex(frequency)  # no rank: sorts by (frequency, token) itself
    assert not plain.rank
    for item in items:
        assert index._prefix(item) == plain._prefix(item)
    outsider = profile("never counted tokens zzz", "log")
    assert index._prefix(outsider) == plain._prefix(outsider)


def test_indexes_with_and_without_rank_choose_the_same_leaders() -> None:
    items = [
        profile(normalize(i.message + "\n" + i.text), i.source_kind)
        for i in family_items(random.Random(11), variants=5)
    ]
    ranked = LeaderIndex.for_texts(items)
    plain = LeaderIndex(Counter(ranked.frequency))
    choices = {}
    for name, index in (("ranked", ranked), ("plain", plain)):
        picked = []
        for position, item in enumerate(items):
            match = index.best_match(item)
            if match is None:
                index.add(str(position), item)
                match = str(position)
            picked.append(match)
        choices[name] = picked
    assert choices["ranked"] == choices["plain"]
    assert len(set(choices["ranked"])) < len(items)  # some texts did merge


def test_direct_copies_equal_the_dataclass_constructor() -> None:
    items = family_items(random.Random(12), variants=1)[:50]
    occurrences = [as_occurrence(item, job_id=i) for i, item in enumerate(items)]
    for original, copy in zip(occurrences, fingerprint_occurrences(occurrences), strict=True):
        rebuilt = dataclasses.replace(
            original, fingerprint=copy.fingerprint, normalizer_version=copy.normalizer_version
        )
        assert copy == rebuilt
        assert type(copy) is type(original)
        assert hash(copy) == hash(rebuilt)
        with pytest.raises(dataclasses.FrozenInstanceError):
            copy.fingerprint = "x"  # type: ignore[misc]


def test_gc_paused_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: stays off
    finally:
        gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


@needs_re2
def test_lines_differing_only_in_deleted_text_share_the_cached_answer(monkeypatch) -> None:
    rest = "npm ERR! network request to https://registry.npmjs.org/x failed 10.0.0.7:443"
    lines = (
        [f"2026-11-2{day}T0{day}:12:45.{day}234567Z {rest}" for day in range(1, 6)]
        + [f"\x1b[3{day}m{rest}\x1b[0m" for day in range(1, 4)]
        + [
            "2026-11-28T03:12:45Z 2026-11-28T03:12:46Z doubled prefix",
            "2026-11-28T03:12:47Z 2026-11-28T03:12:48Z doubled prefix",
        ]
    )
    rules.clear_line_cache()
    fast = [normalize_line(line) for line in lines]
    assert rules._DELETED_CACHE  # the second sighting of each rest came from there
    monkeypatch.setattr(rules, "_PROBE_SET", None)
    rules.clear_line_cache()
    try:
        assert [normalize_line(line) for line in lines] == fast
    finally:
        rules.clear_line_cache()
    assert len(set(fast[:5])) == 1
    assert fast[-1] == fast[-2]
