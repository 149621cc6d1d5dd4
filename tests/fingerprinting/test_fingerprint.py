"""The fingerprint: documented recipe, golden values, stable across processes."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys

import pytest

from error_assets.fingerprinting import (
    NORMALIZER_VERSION,
    cause_text,
    fingerprint,
    fingerprint_occurrences,
    normalize,
)
from tests.fingerprinting.quality_set import LabelledItem, as_occurrence

# Golden values: if one changes, every stored cluster id and cached classification is orphaned.
GOLDEN = [
    ("", "pytest", "fd86ff180c6103e9"),
    ("AssertionError: assert <n> == 200", "pytest", "347b0e5a0ee2cc17"),
    ("AssertionError: assert <n> == 200", "junit", "32a29ae6ab0d422a"),
    ("ünïcode: failed", "gha_log", "d7736d567850785a"),
]
RAW = (
    "2026-11-28T03:12:45.1234567Z ##[error]connect ECONNREFUSED 10.0.0.7:5432 after 3.2s "
    "(pid 4242) in /home/runner/work/shop/shop/src/db.py:17"
)
RAW_GOLDEN = "971865fa0cd7a6fb"


@pytest.mark.parametrize(("text", "kind", "expected"), GOLDEN)
def test_golden_values(text: str, kind: str, expected: str) -> None:
    assert fingerprint(text, kind) == expected


def test_recipe_is_the_documented_one() -> None:
    payload = b"error-fingerprint\x1fpytest\x1fAssertionError: assert <n> == 200"
    assert (
        fingerprint("AssertionError: assert <n> == 200", "pytest")
        == (hashlib.sha256(payload).hexdigest()[:16])
    )
    assert fingerprint("x", " PyTest ") == fingerprint("x", "pytest")
    assert fingerprint("x", "") == fingerprint("x", "log")


def test_raw_text_golden_value() -> None:
    assert fingerprint(normalize(RAW), "gha_log") == RAW_GOLDEN


def test_identical_in_other_processes_with_other_hash_seeds() -> None:
    code = (
        "from error_assets.fingerprinting import fingerprint, normalize;"
        f"print(fingerprint(normalize({RAW!r}), 'gha_log'))"
    )
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == RAW_GOLDEN


def _item(message: str, text: str, kind: str = "pytest", item_id: str = "e1") -> LabelledItem:
    return LabelledItem(item_id, "g", kind, message, text)


def test_fingerprint_occurrences_fills_copies_in_order() -> None:
    occurrences = [
        as_occurrence(_item("ValueError: bad id 48151623", "", item_id="a")),
        as_occurrence(_item("ValueError: bad id 99999999", "", item_id="b")),
        as_occurrence(_item("KeyError: 'user'", "", item_id="c")),
    ]
    result = fingerprint_occurrences(occurrences)
    assert [o.error_id for o in result] == ["a", "b", "c"]
    assert all(o.normalizer_version == NORMALIZER_VERSION for o in result)
    assert result[0].fingerprint == result[1].fingerprint != result[2].fingerprint
    assert all(o.fingerprint == "" for o in occurrences)  # inputs untouched
    assert dataclasses.replace(result[0], fingerprint="", normalizer_version="") == occurrences[0]


def test_source_kind_is_part_of_the_fingerprint() -> None:
    a, b = fingerprint_occurrences(
        [
            as_occurrence(_item("boom", "", kind="pytest", item_id="a")),
            as_occurrence(_item("boom", "", kind="junit", item_id="b")),
        ]
    )
    assert a.fingerprint != b.fingerprint


def test_cause_text_keeps_error_lines_and_drops_context() -> None:
    text = "\n".join(
        [
            "Collecting numpy",
            "  Downloading numpy-2.1.0.tar.gz (18.9 MB)",
            "ERROR: Could not install packages due to an OSError: Read timed out.",
            "WARNING: Retrying (Retry(total=4)) after connection refused",
            "WARNING: Retrying (Retry(total=3)) after connection refused",
        ]
    )
    cause = cause_text("pip failed", text, file="requirements.txt")
    assert cause.splitlines() == [
        "pip failed",
        "in requirements.txt",
        "ERROR: Could not install packages due to an OSError: Read timed out.",
        "WARNING: Retrying (Retry(total=4)) after connection refused",
    ]


def test_cause_text_falls_back_to_first_lines_without_error_words() -> None:
    text = "\n".join(f"step {i} output" for i in range(10))
    assert cause_text("", text).splitlines() == ["step 0 output"]  # the rest repeat it up to digits


def test_cause_text_keeps_first_and_last_stack_frames() -> None:
    names = ["Pool", "Queue", "Store", "Cache", "Index", "Shard", "Table", "Lease", "Lock", "Sink"]
    frames = [f"    at com.acme.{n}.run({n}.java:{i + 10})" for i, n in enumerate(names)]
    text = "java.lang.IllegalStateException: closed\n" + "\n".join(frames)
    lines = cause_text("", text).splitlines()
    assert lines[0] == "java.lang.IllegalStateException: closed"
    assert [line.split("(")[0].split(".")[-2] for line in lines[1:]] == [
        "Pool",
        "Queue",
        "Lock",
        "Sink",
    ]


def test_noise_does_not_change_the_fingerprint() -> None:
    first = (
        "2026-11-28T03:00:01.1Z Error: lease 123e4567-e89b-12d3-a456-426614174000 lost on fv-az12-3"
    )
    again = "2026-11-29T17:45:59.9Z Error: lease 9b2f7c1e-0d4a-4e8b-9c3f-1a2b3c4d5e6f lost on fv-az77-91"
    a, b = fingerprint_occurrences(
        [as_occurrence(_item("", first, item_id="a")), as_occurrence(_item("", again, item_id="b"))]
    )
    assert a.fingerprint == b.fingerprint


@pytest.mark.slow
def test_forked_workers_give_the_same_fingerprints() -> None:
    import random

    from tests.fingerprinting.quality_set import family_items

    items = family_items(random.Random(2), variants=300)  # > 20,000 distinct texts: forks
    occurrences = [as_occurrence(item, job_id=i) for i, item in enumerate(items)]
    assert len(occurrences) > 20_000
    assert fingerprint_occurrences(occurrences, workers=2) == fingerprint_occurrences(occurrences)
