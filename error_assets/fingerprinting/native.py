"""The compiled fast path (`native/`, Rust): cause text, normaliser and fingerprint together,
and the clustering stage's profiles, leader index and member listings.

`error_assets_native` is built from `native/` by `make setup` when cargo is present. It takes
the rule table of `rules.py` and the patterns of `cause.py` and `similarity.py` (translated
here to its regex dialect) and mirrors the Python procedure step by step for text made of
ASCII and inert characters (`inert_characters`); anything else comes back as None and the
Python path computes it. The parity tests compare the two on large corpora, so a machine
without the extension computes the same fingerprints and clusters, only slower.

`ERROR_ASSETS_NATIVE=0` turns it off (the tests use it to compare both paths).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from error_assets.fingerprinting import cause, rules, similarity
from error_assets.models import ROLE_ORDER
from error_assets.settings import native_engine_enabled

T = TypeVar("T")
R = TypeVar("R")

# The engine procedure this module was written against (native/src/lib.rs ENGINE_VERSION).
ENGINE_VERSION = 5
# `\s` on ASCII: Python's `re` (the rules) is [\t\n\v\f\r ] and \x1c..\x1f, RE2 (the probes
# and the cause-line kinds) leaves out \v and \x1c..\x1f; the Rust engine's takes Unicode.
PYTHON_SPACE = r"\t\n\x0B\x0C\r \x1C-\x1F"
RE2_SPACE = r"\t\n\f\r "
_ASCII_CLASSES = {"s": "", "d": "0-9", "w": "0-9A-Za-z_"}
_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"))


def _translate_pattern(
    pattern: str, flags: int = 0, space: str = PYTHON_SPACE, plain: bool = False
) -> str:
    r"""A Python `re` (or RE2) pattern in the engine's dialect, for ASCII input: the one
    PCRE2 (the rules, the key tokenizer's code numbers) and the regex crate (`plain`: probes,
    line kinds, tokens) share.

    Only `\s` differs there (`space` is the class it stands for); `\d`, `\w` and `\b` agree
    on ASCII text and are written as their ASCII forms (`\b` only in a `plain` pattern, one
    for the regex crate). Flags become an inline group.
    """
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            if escaped in _ASCII_CLASSES:
                # ASCII classes spelt out: the engine's Unicode ones make its DFAs far larger.
                members = space if escaped == "s" else _ASCII_CLASSES[escaped]
                out.append(members if in_class else f"[{members}]")
            elif escaped == "b" and plain and not in_class:  # PCRE2 has no (?-u: (its \b is ASCII)
                out.append(r"(?-u:\b)")
            elif escaped == "u" and not in_class:
                out.append(r"\x{" + pattern[index + 2 : index + 6] + "}")
                index += 4
            else:
                out.append(char + escaped)
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            # A "]" right after "[" or "[^" is a literal in both dialects.
            for prefix in ("^]", "]", "^"):
                if pattern.startswith(prefix, index + 1):
                    out.append(prefix)
                    index += len(prefix)
                    break
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        index += 1
    inline = "".join(letter for flag, letter in _FLAGS if flags & flag)
    translated = "".join(out)
    return f"(?{inline}){translated}" if inline else translated


def _translate_replacement(replacement: str) -> str:
    r"""A `re.sub` template (`\1`) in the Rust one (`${1}`); `$` is escaped."""
    escaped = replacement.replace("$", "$$")
    return re.sub(r"\\(\d+)", r"${\1}", escaped)


def _rule_tuple(rule: rules.Rule) -> tuple[str, str, list[str], bool, str | None]:
    if not isinstance(rule.replacement, str):
        raise TypeError(f"rule {rule.name}: the compiled path needs a string replacement")
    probe = rules.PROBES.get(rule.name)
    return (
        _translate_pattern(rule.pattern.pattern, rule.pattern.flags),
        _translate_replacement(rule.replacement),
        list(rule.triggers),
        rule.needs_digit,
        None if probe is None else _translate_pattern(probe, space=RE2_SPACE, plain=True),
    )


def enabled() -> bool:
    return native_engine_enabled()


# Where the non-ASCII characters of CI output live: the Basic Multilingual Plane, and the
# emoji and pictograph blocks.
_SCANNED = (range(0x80, 0x10000), range(0x1F000, 0x1FC00))
_CLASSES = re.compile(r"[\w\s\d]")


def _pattern_text() -> str:
    """Every pattern of the rule table, its probes and the cause and similarity patterns."""
    patterns = [rule.pattern.pattern for rule in rules.RULES] + list(rules.PROBES.values())
    patterns += [cause.SIGNAL_PATTERN, cause.LOCATION_PATTERN, cause.NUMBER_OR_HEX_PATTERN]
    patterns += [similarity.WORD_PATTERN, similarity.CODE_WORD_PATTERN]
    patterns += [similarity.FRAME_PATTERN, similarity.CODE_NUMBER_PATTERN]
    return "".join(patterns)


@cache
def inert_characters() -> str:
    r"""Non-ASCII characters the Python path treats like any other ASCII symbol: punctuation
    or a symbol (not a connector), printable, not matched by `\w`, `\s` or `\d`, without case,
    and named by no pattern. Text made of ASCII and these reads the same through the engine's
    ASCII classes as through Python's Unicode ones (the engine drops any its own regex classes
    see otherwise), so Jest's `●` and `›`, box drawing, arrows and emoji stay compiled.
    """
    named = set(_pattern_text())
    proposed = []
    for block in _SCANNED:
        for code in block:
            char = chr(code)
            category = unicodedata.category(char)
            if (
                category[0] in "PS"
                and category != "Pc"
                and char.isprintable()
                and not char.isspace()
                and not char.isalnum()
                and _CLASSES.match(char) is None
                and char.lower() == char == char.upper() == char.casefold()
                and char not in named
            ):
                proposed.append(char)
    return "".join(proposed)


@cache
def _engine() -> Any | None:
    try:
        import error_assets_native
    except ImportError:
        return None
    if error_assets_native.ENGINE_VERSION != ENGINE_VERSION:
        # A stale build must not change fingerprints: the Python path takes over.
        warnings.warn(
            f"error_assets_native has engine version {error_assets_native.ENGINE_VERSION}, "
            f"this package needs {ENGINE_VERSION}: using the Python path (make setup rebuilds it)",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return _normalizer([_rule_tuple(rule) for rule in rules.RULES], rules.FIRST_PROBED)


def _normalizer(table: list[tuple[str, str, list[str], bool, str | None]], deleting: int) -> Any:
    """An engine of `table` (rule tuples; the first `deleting` delete text), with cause.py's
    and rules.py's other patterns and limits."""
    import error_assets_native

    return error_assets_native.Normalizer(
        table,
        deleting,
        [  # ASCII lines: RE2's view (cause.py's set); other lines: Python's `re`
            _translate_pattern("(?i)" + cause.SIGNAL_PATTERN, space=RE2_SPACE, plain=True),
            _translate_pattern(cause.LOCATION_PATTERN, space=RE2_SPACE, plain=True),
            _translate_pattern(cause.SIGNAL_PATTERN, re.IGNORECASE, plain=True),
            _translate_pattern(cause.LOCATION_PATTERN, plain=True),
        ],
        _translate_pattern(cause.NUMBER_OR_HEX_PATTERN, plain=True),
        _translate_pattern(rules.SPACES_PATTERN, plain=True),
        (
            cause.MAX_SIGNAL_LINES,
            cause.MAX_LOCATION_LINES,
            cause.FALLBACK_LINES,
            cause.MAX_SCANNED_LINES,
            rules.MAX_LINE_LENGTH,
            16,
        ),
        inert_characters(),
    )


def engine() -> Any | None:
    """The compiled engine, or None when it is not installed or turned off."""
    return _engine() if enabled() else None


@cache
def _key_tokenizer() -> Any:
    import error_assets_native

    return error_assets_native.KeyTokenizer(
        _translate_pattern(similarity.TOKEN_PATTERN, plain=True),
        _translate_pattern(similarity.WORD_PATTERN, plain=True),
        _translate_pattern(similarity.CODE_WORD_PATTERN, plain=True),
        _translate_pattern(similarity.FRAME_PATTERN, plain=True),
        _translate_pattern(similarity.CODE_NUMBER_PATTERN, re.IGNORECASE),
        list(similarity.NAME_SUFFIXES),
        sorted(similarity.SOURCE_EXTENSIONS),
        inert_characters(),
    )


CauseKey = tuple[str, str, str, str]  # (source_kind, message, text, file)


def fingerprints(keys: Sequence[CauseKey], threads: int) -> list[str | None] | None:
    """Fingerprint per key (None where Python must compute it); None without the engine."""
    compiled = engine()
    return None if compiled is None else compiled.fingerprints(list(keys), max(threads, 1))


def occurrence_fingerprints(
    occurrences: Sequence[Any],
    threads: int,
    texts: dict[str, str] | None = None,
    firsts: dict[str, int] | None = None,
) -> list[str | None] | None:
    """Fingerprint per occurrence, each distinct (source kind, message, text, file) computed
    once (None where Python must compute it); None without the engine. `texts`, when given,
    receives fingerprint -> normalised cause text for the fingerprints computed here;
    `firsts`, fingerprint -> position of its first occurrence when all were computed here."""
    compiled = engine()
    if compiled is None:
        return None
    return compiled.occurrence_fingerprints(list(occurrences), max(threads, 1), texts, firsts)


def normalized_causes(keys: Sequence[CauseKey], threads: int) -> list[str | None] | None:
    """Normalised cause text per key (None where Python must); None without the engine."""
    compiled = engine()
    return None if compiled is None else compiled.normalized_causes(list(keys), max(threads, 1))


ProfileParts = tuple[frozenset[str], frozenset[str], frozenset[str]]


def profile_parts(texts: Sequence[str], threads: int = 1) -> list[ProfileParts | None] | None:
    """What `similarity.profile` computes of each normalised text: key tokens, word tokens and
    first-line words (None where Python must), on `threads` threads for many texts; None
    without the engine. For the parity tests: `assign_texts` makes its own."""
    if engine() is None:  # not installed, stale (it warned) or turned off
        return None
    return _key_tokenizer().profiles(list(texts), max(threads, 1))


def assign_texts(
    normalized: Sequence[str], kinds: Sequence[str], seeds: int, threads: int = 1
) -> list[int] | None:
    """`similarity.LeaderIndex` over normalised texts of canonical source `kinds`: the first
    `seeds` added as leaders, then for each later text the position of the leader it joins
    (its own when it leads). The engine profiles the texts it takes, `similarity.profile` the
    others. None without the engine."""
    if engine() is None:
        return None
    return _key_tokenizer().assign(
        list(normalized),
        list(kinds),
        seeds,
        similarity.profile,
        (similarity.JACCARD_THRESHOLD, similarity.RATIO_THRESHOLD, similarity.MAX_CANDIDATES),
        max(threads, 1),
    )


class MemberGroups:
    """The engine's reading of the members of groups of occurrences (`read_members`)."""

    def __init__(self, read: Any, groups: Sequence[str]) -> None:
        self._read = read
        self._groups = groups

    def listings(
        self, cluster_of: Mapping[str, int], clusters: int
    ) -> list[tuple[int, list[tuple]]]:
        """Per cluster (`cluster_of`: group name -> cluster index below `clusters`): its
        representative's position and its members' listed fields (see
        `clustering._member_listings`). Once."""
        return self._read.listings(list(map(cluster_of.__getitem__, self._groups)), clusters)


def read_members(
    occurrences: Sequence[Any],
    group_of: list[int],
    groups: Sequence[str],
    fingerprints: Sequence[str],
    fields: Sequence[str],
) -> MemberGroups | None:
    """The members of each group (`group_of`: the group index of each occurrence; `groups`:
    the groups' names) read by the engine: representatives (by `representative_order`, then
    fingerprint, then position) and `fields` (error_id first). None without the engine or
    where it declines (odd field types)."""
    if engine() is None:
        return None
    import error_assets_native

    read = error_assets_native.read_members(
        list(occurrences), group_of, len(groups), list(fingerprints), ROLE_ORDER, list(fields)
    )
    return None if read is None else MemberGroups(read, groups)


def python_where_missing(
    compiled: list[R | None] | None,
    items: Sequence[T],
    compute: Callable[[list[T]], list[R]],
) -> list[R]:
    """The engine's answers, with `compute` (the Python path over a list of items) run on the
    items it gave none for (all of them without the engine)."""
    if compiled is None:
        return compute(list(items))
    if None not in compiled:  # the common case, found by a C loop (a million values)
        return compiled  # type: ignore[return-value]  # no None
    missing = [index for index, value in enumerate(compiled) if value is None]
    if not missing:
        return compiled  # type: ignore[return-value]  # no None
    computed = compute([items[i] for i in missing])
    for index, value in zip(missing, computed, strict=True):
        compiled[index] = value
    return compiled  # type: ignore[return-value]  # no None is left


def clear_line_caches() -> None:
    """Forget the lines remembered by the Python path and by the engine, on every thread
    (benchmarks and parity tests start cold; no cache is ever required)."""
    rules.clear_line_cache()
    compiled = _engine()
    if compiled is not None:
        compiled.clear_caches()
