"""The labelled clustering set: groups that must merge, and groups that must stay apart.

Two parts, both generated deterministically from a seed (nothing of the realworld files is
copied into the repository):

* realworld: every snippet of ../shared/data/realworld/error_snippets.jsonl, plus variants of
  it with fresh timestamps, ids, SHAs, addresses, IPs, line numbers, durations, runner names,
  checkout roots, colours, line endings and repeated lines (the same failure seen again), and
  *contrast* variants with another exception type or another failing module (a different
  failure, which must not merge). `tests/fixtures/clustering/realworld_groups.json` names the
  snippets that are one failure seen in different places.
* families: `tests/fixtures/clustering/families.json`, templates whose noise slots get fresh
  values per variant and whose module/exception/code slots make different failures.

Used by the quality test and by `bench/cluster_quality.py`; the scale benchmark renders the
families too.
"""

from __future__ import annotations

import json
import random
import re
import string
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from error_assets.models import ErrorOccurrence

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clustering"


@dataclass(frozen=True, slots=True)
class LabelledItem:
    item_id: str
    group: str
    source_kind: str
    message: str
    text: str


@dataclass(frozen=True, slots=True)
class PairwiseScores:
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.4f} recall {self.recall:.4f} "
            f"({self.correct_pairs}/{self.predicted_pairs} predicted pairs correct, "
            f"{self.correct_pairs}/{self.true_pairs} true pairs found)"
        )


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def pairwise_scores(labels: Sequence[str], predicted: Sequence[str]) -> PairwiseScores:
    """Pairwise precision/recall of a clustering against labels (1.0 when there are no pairs)."""
    if len(labels) != len(predicted):
        raise ValueError("labels and predictions differ in length")
    correct = sum(_pairs(n) for n in Counter(zip(labels, predicted, strict=True)).values())
    predicted_pairs = sum(_pairs(n) for n in Counter(predicted).values())
    true_pairs = sum(_pairs(n) for n in Counter(labels).values())
    return PairwiseScores(
        precision=correct / predicted_pairs if predicted_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
    )


# --- noise values ---------------------------------------------------------------------------


def _hex(rng: random.Random, length: int) -> str:
    while True:
        value = "".join(rng.choice("0123456789abcdef") for _ in range(length))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _iso(rng: random.Random) -> str:
    day, hour, minute, second = (
        rng.randint(1, 28),
        rng.randint(0, 23),
        rng.randint(0, 59),
        rng.randint(0, 59),
    )
    return rng.choice(
        [
            f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z",
            f"2026-11-{day:02d} {hour:02d}:{minute:02d}:{second:02d},{rng.randint(0, 999):03d}",
            f"2026-10-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{rng.randint(0, 999999):06d}+00:00",
        ]
    )


def _log_prefix(rng: random.Random) -> str:
    return (
        f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
        f"{rng.randint(0, 59):02d}.{rng.randint(0, 9999999):07d}Z "
    )


def _duration(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 900)}s",
            f"{rng.randint(1, 9000)}ms",
            f"{rng.randint(0, 99)}.{rng.randint(0, 99)}s",
            f"{rng.randint(2, 600)} seconds",
            f"{rng.randint(1, 59)}m{rng.randint(0, 59)}s",
        ]
    )


def _size(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 999)} MB",
            f"{rng.randint(1, 64)}.{rng.randint(0, 9)}GiB",
            f"{rng.randint(1, 99999)}KiB",
            f"{rng.randint(1, 99999)} bytes",
        ]
    )


def _runner(rng: random.Random) -> str:
    return rng.choice(
        [
            f"GitHub Actions {rng.randint(1, 999)}",
            f"fv-az{rng.randint(10, 999)}-{rng.randint(1, 999)}",
            f"ip-10-0-{rng.randint(0, 255)}-{rng.randint(0, 255)}",
            f"arc-runner-{_hex(rng, 5)}-{_hex(rng, 5)}",
        ]
    )


def _root(rng: random.Random) -> str:
    return rng.choice(["/home/runner/work/shop/shop/", "/__w/shop/shop/", "D:\\a\\shop\\shop\\"])


def _tmp(rng: random.Random) -> str:
    return rng.choice(
        [
            f"/tmp/pytest-of-runner/pytest-{rng.randint(0, 99)}/test_case{rng.randint(0, 9)}/",
            f"/tmp/tmp{_hex(rng, 4)}_{rng.randint(100, 999)}/",
            f"/var/folders/{_hex(rng, 2)}/{_hex(rng, 8)}/T/",
        ]
    )


NOISE = {
    "ts": _iso,
    "gts": _log_prefix,
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    "sha": lambda rng: _hex(rng, 40),
    "hex": lambda rng: _hex(rng, rng.randint(8, 16)),
    "ip": lambda rng: (
        f"{rng.randint(10, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    ),
    "port": lambda rng: str(rng.randint(1024, 65535)),
    "pid": lambda rng: str(rng.randint(100, 4_194_304)),
    "tmp": _tmp,
    "dur": _duration,
    "size": _size,
    "runner": _runner,
    "pod": lambda rng: (
        f"ci-runner-{_hex(rng, 10)}-{''.join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))}"
    ),
    "runid": lambda rng: str(rng.randint(10**9, 10**10 - 1)),
    "jobid": lambda rng: str(rng.randint(10**10, 10**11 - 1)),
    "line": lambda rng: str(rng.randint(1, 2000)),
    "col": lambda rng: str(rng.randint(1, 120)),
    "addr": lambda rng: "0x" + _hex(rng, 12),
    "epoch": lambda rng: str(rng.randint(1_700_000_000, 1_799_999_999)),
    "root": _root,
    "param": lambda rng: rng.choice(
        [
            f"utf-8-{rng.choice(['True', 'False'])}-{rng.randint(0, 9)}",
            f"py3.{rng.randint(9, 13)}-linux",
            f"{rng.randint(0, 99)}-{rng.randint(0, 99)}",
        ]
    ),
    "num": lambda rng: str(rng.randint(100_000, 999_999_999)),
}
_SLOT = re.compile(r"\{(\w+)\}")
CONTRAST_SLOTS = ("module", "exc", "code")


def load_families(path: Path | None = None) -> list[dict]:
    data = json.loads((path or FIXTURES / "families.json").read_text(encoding="utf-8"))
    return data["families"]


def family_groups(family: dict) -> list[dict[str, str]]:
    """Each combination of the family's contrast values: one distinct failure each."""
    combos: list[dict[str, str]] = [{}]
    for slot in CONTRAST_SLOTS:
        values = family.get(slot)
        if values:
            combos = [{**c, slot: v} for c in combos for v in values]
    return combos


def render(template: str, rng: random.Random, fixed: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in fixed:
            return fixed[name]
        return NOISE[name](rng)

    return _SLOT.sub(fill, template)


def family_items(
    rng: random.Random, variants: int = 4, families: list[dict] | None = None
) -> list[LabelledItem]:
    items = []
    for family in families or load_families():
        for combo in family_groups(family):
            group = (
                "family:" + family["name"] + "".join(f":{k}={v}" for k, v in sorted(combo.items()))
            )
            for index in range(variants):
                items.append(
                    LabelledItem(
                        item_id=f"{group}#{index}",
                        group=group,
                        source_kind=family["source_kind"],
                        message=render(family["message"], rng, combo),
                        text=render(family["text"], rng, combo),
                    )
                )
    return items


# --- realworld variants ---------------------------------------------------------------------

_MUTATIONS: tuple[tuple[str, re.Pattern[str], object], ...] = (
    (
        "log_prefix",
        re.compile(r"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z "),
        lambda rng: _log_prefix(rng),
    ),
    (
        "iso",
        re.compile(r"(?<=\b\d{4}-)\d\d-\d\d(?=[T ]\d\d:\d\d:\d\d)"),
        lambda rng: f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    ),
    (
        "uuid",
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"),
        NOISE["uuid"],
    ),
    ("sha", re.compile(r"\b[0-9a-f]{40}\b"), NOISE["sha"]),
    ("address", re.compile(r"\b0x[0-9a-f]{6,16}\b"), NOISE["addr"]),
    ("ipv4", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), NOISE["ip"]),
    (
        "long_id",
        re.compile(r"(?<![\w.])\d{7,12}(?![\w.])"),
        lambda rng: str(rng.randint(10**7, 10**11)),
    ),
    (
        "line_number",
        re.compile(
            r"(?<=, line )\d+|(?<=\.py:)\d+|(?<=\.rs:)\d+|(?<=\.java:)\d+|(?<=\.js:)\d+|(?<=\.ts:)\d+"
        ),
        NOISE["line"],
    ),
    (
        "duration",
        re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?=(?:s|ms| seconds)\b)"),
        lambda rng: str(rng.randint(1, 5000)),
    ),
    (
        "runner",
        re.compile(r"GitHub Actions \d+"),
        lambda rng: f"GitHub Actions {rng.randint(1, 999)}",
    ),
    (
        "checkout",
        re.compile(r"/home/runner/work/([\w.-]+)/\1/|/__w/([\w.-]+)/\2/"),
        lambda rng: rng.choice(["/home/runner/work/r/r/", "/__w/r/r/"]),
    ),
)
_ERROR_WORD = re.compile(r"\b(?:ERROR|Error|error|FAILED|FAIL)\b")
_EXCEPTION = re.compile(r"(?<!/)\b([A-Z][a-z]+(?:[A-Z][a-z]+)*)(Error|Exception)\b")
_FAILING_PATH = re.compile(
    r"\b((?:[\w-]+/)+)([a-z_][\w-]*)\.(py|rs|js|ts|tsx|java|go|c|cpp|rb)(?=:\d|\", line \d)"
)
_OTHER_EXCEPTIONS = ("KeyError", "PermissionError", "TimeoutError", "IndexError", "RuntimeError")
_OTHER_MODULES = ("billing", "ledger", "search", "auth")


def noise_variant(text: str, rng: random.Random) -> str:
    """The same failure seen again: ids, times, paths and presentation changed."""
    for _, pattern, make in _MUTATIONS:
        if rng.random() < 0.8:
            text = pattern.sub(lambda _m, make=make: make(rng), text)  # type: ignore[misc]
    if "\x1b" not in text and rng.random() < 0.3:
        text = _ERROR_WORD.sub(lambda m: f"\x1b[1;31m{m.group(0)}\x1b[0m", text, count=1)
    if rng.random() < 0.2:
        text = text.replace("\n", "\r\n")
    lines = text.split("\n")
    if len(lines) > 2 and rng.random() < 0.3:
        position = rng.randrange(len(lines))
        lines.insert(position, lines[position])
        text = "\n".join(lines)
    return text


def contrast_variants(text: str, rng: random.Random) -> dict[str, str]:
    """Different failures of the same template: another exception, another failing module."""
    out: dict[str, str] = {}
    exception = _EXCEPTION.search(text)
    if exception:
        name = exception.group(0)
        choices = [e for e in _OTHER_EXCEPTIONS if e not in text]
        if choices:
            out["exc"] = re.sub(rf"\b{re.escape(name)}\b", rng.choice(choices), text)
    path = _FAILING_PATH.search(text)
    if path:
        old = path.group(1) + path.group(2) + "." + path.group(3)
        choices = [m for m in _OTHER_MODULES if m not in text]
        if choices:
            new = path.group(1) + rng.choice(choices) + "." + path.group(3)
            out["module"] = text.replace(old, new)
    return out


def load_realworld_groups(path: Path | None = None) -> dict[int, str]:
    """1-based snippet line -> group name, for the snippets judged to be one failure."""
    data = json.loads((path or FIXTURES / "realworld_groups.json").read_text(encoding="utf-8"))
    groups = {}
    for entry in data["same_failure"]:
        name = "rw:" + "+".join(str(n) for n in entry["lines"])
        for number in entry["lines"]:
            groups[number] = name
    return groups


def realworld_items(snippets: Path, rng: random.Random, variants: int = 3) -> list[LabelledItem]:
    groups = load_realworld_groups()
    data = json.loads((FIXTURES / "realworld_groups.json").read_text(encoding="utf-8"))
    rows = [
        json.loads(line)
        for line in snippets.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for entry in data["same_failure"]:
        for number, origin in zip(entry["lines"], entry["origins"], strict=True):
            if rows[number - 1]["origin"] != origin:
                raise ValueError(f"{snippets}: line {number} is no longer {origin!r}")
    items = []
    for number, row in enumerate(rows, start=1):
        group = groups.get(number, f"rw:{number}")
        kind = row["source_kind"]
        bases = {group: row["text"]}
        for contrast, text in sorted(contrast_variants(row["text"], rng).items()):
            bases[f"rw:{number}:{contrast}"] = text
        for base_group, text in bases.items():
            items.append(LabelledItem(f"rw{number}:{base_group}#0", base_group, kind, "", text))
            for index in range(1, variants):
                items.append(
                    LabelledItem(
                        f"rw{number}:{base_group}#{index}",
                        base_group,
                        kind,
                        "",
                        noise_variant(text, rng),
                    )
                )
    return items


def quality_set(realworld_dir: Path | None, seed: int = 4) -> list[LabelledItem]:
    """The whole labelled set (without the realworld part when `realworld_dir` is None)."""
    rng = random.Random(seed)
    items = family_items(rng)
    if realworld_dir is not None:
        items += realworld_items(realworld_dir / "error_snippets.jsonl", rng)
    return items


def as_occurrence(
    item: LabelledItem, partition: str = "2026-11-28-03:00", job_id: int = 1
) -> ErrorOccurrence:
    return ErrorOccurrence(
        error_id=item.item_id,
        partition=partition,
        repo="acme/shop",
        workflow_name="ci",
        run_id=job_id,
        run_attempt=1,
        job_id=job_id,
        job_name="test",
        step_name="run",
        source_kind=item.source_kind,
        framework=item.source_kind,
        test_name="",
        file="",
        line=None,
        message=item.message,
        text=item.text,
        role="cause",
    )
