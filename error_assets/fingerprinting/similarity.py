"""When two normalised cause texts are near-duplicates, and how candidates are found cheaply.

Two texts are near-duplicates when all of these hold:

* same source kind;
* the same words in the first line (the message, or the first error line), numbers aside:
  noise there is already masked, so a word that differs names a different command, module
  or resource, and shared boilerplate below different errors (for example "Process
  completed with exit code 1") cannot carry a merge;
* same *key tokens*: exception and error-code names (`ValueError`, `ECONNRESET`, `E0425`,
  `F401`), source paths (`src/cart/utils.py`), stack-frame methods
  (`at com.acme.orders.Service.create(`) and status/exit codes (`exit code 137`, `503`).
  Two failures of one template in different modules, or with different exception types,
  therefore never merge, however similar the rest is;
* token-set Jaccard similarity >= `JACCARD_THRESHOLD`;
* rapidfuzz's normalised Indel similarity (`fuzz.ratio`) >= `RATIO_THRESHOLD`.

Candidates come from blocks (source kind, key tokens and first-line words must be equal, so
only texts sharing all three are ever compared) and, within a block, from a prefix-filter
index (the AllPairs / PPJoin idea): tokens are ordered from rare to common, and two sets with
Jaccard >= t must share one of the first `|x| - ceil(t*|x|) + 1` tokens of each. Only those
prefix tokens are indexed, at most `MAX_CANDIDATES` candidates are verified per text, and
only cluster leaders are indexed, so the work stays near-linear in the number of distinct
texts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

JACCARD_THRESHOLD = 0.6
RATIO_THRESHOLD = 85.0
MAX_CANDIDATES = 64

_DIGIT = re.compile(r"\d")
# The patterns are public for the compiled engine (`native.py`), which runs them too.
TOKEN_PATTERN = r"<\w+>|\w+"
_TOKEN = re.compile(TOKEN_PATTERN)
WORD_PATTERN = r"[\w.<>$/\\-]+"
_WORD = re.compile(WORD_PATTERN)
NAME_SUFFIXES = ("Error", "Exception", "Exit", "Failure", "Fault", "Panic", "Interrupt", "Warning")
CODE_WORD_PATTERN = r"E[A-Z]{4,}|[A-Z]{1,3}\d{3,5}"
_CODE_WORD = re.compile(CODE_WORD_PATTERN)
FRAME_PATTERN = r"\bat ([\w$.]+)\("
_FRAME = re.compile(FRAME_PATTERN)
SOURCE_EXTENSIONS = frozenset(
    [
        "py",
        "pyx",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "rs",
        "go",
        "java",
        "kt",
        "scala",
        "rb",
        "php",
        "cs",
        "c",
        "cc",
        "cpp",
        "h",
        "hpp",
        "swift",
        "m",
        "sh",
        "yml",
        "yaml",
        "toml",
        "json",
        "xml",
        "gradle",
    ]
)
CODE_NUMBER_PATTERN = (
    r"(?:code|status|exit|signal|errno|returned|responded with|HTTP/\d\.\d|HTTP)\D{0,3}(\d{1,3})\b"
    r"|\b([45]\d\d)\b(?= [A-Z]| error| Client| Server)"
)
_CODE_NUMBER = re.compile(CODE_NUMBER_PATTERN, re.IGNORECASE)


try:  # RE2 (a DFA) tells in one cheap pass whether `_CODE_NUMBER` could match at all
    import re2

    # A necessary condition for `_CODE_NUMBER`, case-insensitive like it (on ASCII text only:
    # there RE2's \d, \D and case folding agree with Python's).
    # A one-pattern set: its Match skips building a match object.
    _CODE_NUMBER_PROBE = re2.Set.SearchSet()
    _CODE_NUMBER_PROBE.Add(
        r"(?i)(?:code|status|exit|signal|errno|returned|responded with|http)\D{0,3}\d"
        r"|[45]\d\d [a-z]"
    )
    _CODE_NUMBER_PROBE.Compile()
except ImportError:
    _CODE_NUMBER_PROBE = None


def tokens(normalized_text: str) -> frozenset[str]:
    """The word tokens of a normalised text (placeholders such as `<hex>` count as words)."""
    return frozenset(_TOKEN.findall(normalized_text))


def key_tokens(normalized_text: str) -> frozenset[str]:
    """What must be equal for two texts to merge: error names, source paths, status codes."""
    keys: set[str] = set()
    for raw in set(_WORD.findall(normalized_text)):  # the answer is a set: each word once
        word = raw.strip(".-")
        if not word:
            continue
        if (
            "/" in word
            or "\\" in word
            or word.endswith(NAME_SUFFIXES)
            or ("A" <= word[0] <= "Z" and _CODE_WORD.fullmatch(word))  # it starts with A-Z
            or ("." in word and word.rsplit(".", 1)[1] in SOURCE_EXTENSIONS)
        ):
            keys.add(word)
    if "at " in normalized_text:  # part of every frame match
        keys.update(_FRAME.findall(normalized_text))
    if _may_hold_code_number(normalized_text):
        for match in _CODE_NUMBER.finditer(normalized_text):
            keys.add("#" + (match.group(1) or match.group(2)))
    return frozenset(keys)


def _may_hold_code_number(text: str) -> bool:
    """False only when `_CODE_NUMBER` cannot match (it is slow to run on every text)."""
    if _DIGIT.search(text) is None:
        return False
    if _CODE_NUMBER_PROBE is None or not text.isascii():
        return True
    return _CODE_NUMBER_PROBE.Match(text.encode()) is not None


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(slots=True)
class Profile:
    """What the index keeps of one text."""

    text: str
    source_kind: str
    tokens: frozenset[str]
    keys: frozenset[str]
    head_words: frozenset[str]

    @property
    def block(self) -> tuple[str, frozenset[str], frozenset[str]]:
        """What near-duplicates share exactly: the index only compares within a block."""
        return (self.source_kind, self.keys, self.head_words)


def profile(normalized_text: str, source_kind: str, keys: frozenset[str] | None = None) -> Profile:
    """The profile of a normalised text; `keys` are its `key_tokens` when already known."""
    head = normalized_text.split("\n", 1)[0]
    head_words = frozenset(t for t in _TOKEN.findall(head) if not t.isdigit())
    return Profile(
        normalized_text,
        source_kind,
        tokens(normalized_text),
        key_tokens(normalized_text) if keys is None else keys,
        head_words,
    )


def near_duplicates(a: Profile, b: Profile) -> bool:
    """True when `a` and `b` are near-duplicates (see the module docstring)."""
    if a.source_kind != b.source_kind or a.keys != b.keys or a.head_words != b.head_words:
        return False
    if jaccard(a.tokens, b.tokens) < JACCARD_THRESHOLD:
        return False
    return fuzz.ratio(a.text, b.text, score_cutoff=RATIO_THRESHOLD) >= RATIO_THRESHOLD


def prefix_length(size: int, threshold: float = JACCARD_THRESHOLD) -> int:
    """How many of a set's rarest tokens must be indexed/probed for Jaccard >= threshold."""
    if size == 0:
        return 0
    return size - math.ceil(threshold * size) + 1


@dataclass(slots=True)
class LeaderIndex:
    """Cluster leaders, blocked by what near-duplicates share exactly (`Profile.block`), and
    within a block indexed by the prefix of their rare-first token order.

    `frequency` fixes the global token order (rarer first, ties by token) for one run; it
    must count the tokens of every text that will be added or probed.
    """

    frequency: Counter[str]
    leaders: list[tuple[str, Profile]] = field(default_factory=list)
    postings: dict[tuple, dict[str, list[int]]] = field(default_factory=dict)
    # Each token's place in that order, so sorting a set needs no per-token key tuple; filled
    # by `for_texts` (an index built without it sorts by (frequency, token) directly).
    rank: dict[str, int] = field(default_factory=dict)
    # The last prefix computed: `best_match` then `add` of one text sort its tokens once.
    _last_prefix: tuple[Profile | None, list[str]] = (None, [])

    @classmethod
    def for_texts(cls, profiles: Iterable[Profile]) -> LeaderIndex:
        frequency: Counter[str] = Counter()
        for item in profiles:
            frequency.update(item.tokens)
        order = sorted(frequency, key=lambda t: (frequency[t], t))
        return cls(frequency, rank={token: place for place, token in enumerate(order)})

    def _prefix(self, item: Profile) -> list[str]:
        last, prefix = self._last_prefix
        if last is item:
            return prefix
        if not item.tokens:
            prefix = [""]
        else:
            try:
                ordered = sorted(item.tokens, key=self.rank.__getitem__)
            except KeyError:  # a token not counted (or no rank): the same order, computed
                ordered = sorted(item.tokens, key=lambda t: (self.frequency[t], t))
            prefix = ordered[: prefix_length(len(ordered))]
        self._last_prefix = (item, prefix)
        return prefix

    def add(self, cluster_id: str, item: Profile) -> None:
        position = len(self.leaders)
        self.leaders.append((cluster_id, item))
        block = self.postings.setdefault(item.block, {})
        for token in self._prefix(item):
            block.setdefault(token, []).append(position)

    def best_match(self, item: Profile) -> str | None:
        """The cluster id of the most similar near-duplicate leader, or None.

        At most `MAX_CANDIDATES` leaders are verified; among equally similar ones the earliest
        added wins, so the answer does not depend on dictionary order.
        """
        block = self.postings.get(item.block)
        if not block:
            return None
        seen: set[int] = set()
        for token in self._prefix(item):
            for position in block.get(token, ()):
                seen.add(position)
                if len(seen) >= MAX_CANDIDATES:
                    break
            if len(seen) >= MAX_CANDIDATES:
                break
        best: tuple[float, int] | None = None
        for position in sorted(seen):
            leader = self.leaders[position][1]
            if not near_duplicates(item, leader):
                continue
            score = fuzz.ratio(item.text, leader.text)
            if best is None or score > best[0]:
                best = (score, position)
        return None if best is None else self.leaders[best[1]][0]
