//! The compiled path of `error_assets.fingerprinting`: cause text, normaliser and fingerprint
//! of ASCII occurrences, spread over threads.
//!
//! The rule table is not written here: Python hands over `rules.py`'s table (patterns already
//! translated to this regex dialect by `fingerprinting/native.py`), so the table has one
//! source. This file mirrors the *procedure* of `cause.py`, `rules.py` (the RE2 path) and
//! `fingerprint.py` step by step; the parity tests compare both paths on large corpora.
//! Whatever this engine does not handle (a non-ASCII field, a regex that gives up) comes back
//! as `None`, and Python computes it.

mod leaders;

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use pcre2::bytes::{CaptureLocations, Regex as Pcre, RegexBuilder as PcreBuilder};
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyFrozenSet, PyInt, PyString, PyTuple};
use rayon::prelude::*;
use regex::{Regex, RegexSet, RegexSetBuilder};
use regex_automata::hybrid::dfa::{Cache as DfaCache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::util::start::Config as StartConfig;
use regex_automata::{Anchored, MatchKind};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet, FxHasher};
use sha2::{Digest, Sha256};
use std::hash::Hasher;

// Many short strings per line on several threads: mimalloc's per-thread heaps beat glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Bumped whenever the procedure below changes; `native.py` ignores a build of another one.
const ENGINE_VERSION: u32 = 5;
/// Slots of each line cache, per thread: a line whose slot is taken replaces the line there.
const LINE_CACHE_SLOTS: usize = 1 << 16;
/// Distinct keys per batch handed to the pool while the records are still being read.
const KEY_BATCH: usize = 4096;
/// Fewer texts than this are profiled on one thread: waking the pool costs more.
const MIN_PARALLEL_PROFILES: usize = 2048;
/// Error ids to sort before the listings sort on threads.
const MIN_PARALLEL_SORT: usize = 100_000;
/// Lines of one text compared by a scan for repeats; beyond this, through a hash set.
const FEW_LINES: usize = 16;

struct Rule {
    pattern: Pcre,
    replacement: Vec<Piece>,
    triggers: Vec<String>,
    needs_digit: bool,
}

/// A part of a rule's replacement: text, or what a group matched.
enum Piece {
    Text(String),
    Group(usize),
}

/// The pieces of a replacement template in the Rust dialect (`${1}` a group, `$$` a dollar).
fn pieces(template: &str) -> PyResult<Vec<Piece>> {
    let bad = || PyValueError::new_err(format!("replacement {template:?}"));
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        text.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            text.push('$');
            rest = after;
            continue;
        }
        let inner = rest.strip_prefix('{').ok_or_else(bad)?;
        let (group, after) = inner.split_once('}').ok_or_else(bad)?;
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        out.push(Piece::Group(group.parse().map_err(|_| bad())?));
        rest = after;
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

impl Rule {
    fn may_match(&self, text: &str, has_digit: bool) -> bool {
        if self.needs_digit && !has_digit {
            return false;
        }
        self.triggers.is_empty() || self.triggers.iter().any(|t| text.contains(t.as_str()))
    }

    /// `pattern.sub(replacement, text)`; None where Python must (PCRE2 reached its match or
    /// JIT stack limit, or an empty match, whose handling differs between the engines).
    fn apply(&self, text: String, groups: &mut CaptureLocations) -> Option<String> {
        let bytes = text.as_bytes();
        let mut out = String::new();
        let (mut changed, mut copied, mut at) = (false, 0, 0);
        while let Some(found) = self.pattern.captures_read_at(groups, bytes, at).ok()? {
            let (start, end) = (found.start(), found.end());
            if start == end {
                return None;
            }
            out.push_str(&text[copied..start]);
            for piece in &self.replacement {
                match piece {
                    Piece::Text(part) => out.push_str(part),
                    Piece::Group(group) => {
                        if let Some((from, to)) = groups.get(*group) {
                            out.push_str(&text[from..to]);
                        }
                    }
                }
            }
            (changed, copied, at) = (true, end, end);
        }
        if !changed {
            return Some(text);
        }
        out.push_str(&text[copied..]);
        Some(out)
    }
}

fn has_digit(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
}

/// Python's `str.isspace()` on ASCII (which includes the separators \x1c..\x1f).
fn is_py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1f)
}

/// Python's `str.strip()` on ASCII.
fn py_strip(text: &str) -> &str {
    let bytes = text.as_bytes();
    let start = bytes
        .iter()
        .position(|&b| !is_py_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_py_space(b))
        .map_or(start, |i| i + 1);
    &text[start..end.max(start)]
}

/// Python's `str.splitlines()` on ASCII.
fn py_splitlines(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | 0x0b | 0x0c | 0x1c | 0x1d | 0x1e => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if i + 1 < bytes.len() && bytes[i + 1] == b'\n' {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        lines.push(&text[start..]);
    }
    lines
}

#[derive(Clone, Copy)]
struct Limits {
    max_signal: usize,
    max_location: usize,
    fallback: usize,
    max_scanned: usize,
    max_line_length: usize,
    fingerprint_length: usize,
}

/// The non-ASCII characters this engine takes: ones no class, boundary, case rule or string
/// method of either engine treats specially (symbols and punctuation such as Jest's `●` and
/// `›`, box drawing, arrows, emoji). Python proposes them from its own view (`native.py`);
/// the ones Rust's regex classes or char methods see differently are dropped here.
struct Inert(HashSet<char>);

impl Inert {
    fn new(proposed: &str) -> PyResult<Self> {
        let special = plain(r"[\w\s\d]")?; // Unicode classes: what `\b` and (?i) rest on
        let mut buffer = [0u8; 4];
        let agreed = proposed.chars().filter(|&c| {
            !c.is_ascii()
                && !c.is_alphanumeric()
                && !c.is_whitespace()
                && !c.is_control()
                && c.to_lowercase().eq([c])
                && c.to_uppercase().eq([c])
                && !special.is_match(c.encode_utf8(&mut buffer))
        });
        Ok(Inert(agreed.collect()))
    }

    /// True when `text` is all ASCII or inert characters: both engines read it alike.
    fn takes(&self, text: &str) -> bool {
        text.is_ascii() || text.chars().all(|c| c.is_ascii() || self.0.contains(&c))
    }
}

/// Python's `line[:limit]` (characters, not bytes).
fn cut_chars(line: &str, limit: usize) -> &str {
    if line.len() <= limit {
        return line; // fewer bytes than the limit: fewer characters too
    }
    match line.char_indices().nth(limit) {
        Some((at, _)) => &line[..at],
        None => line,
    }
}

struct Engine {
    rules: Vec<Rule>,
    first_probed: usize,
    probes: Probes,
    probe_rules: Vec<usize>, // rule position of each probe, by probe index
    unprobed: Vec<usize>,
    kinds: Probes,        // an error line, a source location (RE2's view: ASCII lines)
    signal_python: Regex, // the same as Python's `re` sees them (other lines)
    location_python: Regex,
    number_or_hex: Regex,
    spaces: Regex,
    limits: Limits,
    inert: Inert,
    caches: Mutex<Option<Caches>>, // built on first use (two tables of LINE_CACHE_SLOTS)
}

fn fx_hash(bytes: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

#[derive(Default)]
struct Slot {
    hash: u64,
    key: String,
    value: String,
}

/// Normalised lines by line, in a fixed table where a new line evicts the one in its slot.
/// Misses are the common case on fresh noise: a miss costs one hash and two copies into the
/// slot's own buffers, with no rehashing, no clearing and, once warm, no allocation.
struct LineCache {
    slots: Vec<Slot>,
}

impl LineCache {
    fn new() -> Self {
        LineCache {
            slots: (0..LINE_CACHE_SLOTS).map(|_| Slot::default()).collect(),
        }
    }

    fn slot(hash: u64) -> usize {
        (hash >> (64 - LINE_CACHE_SLOTS.trailing_zeros())) as usize
    }

    fn get(&self, key: &str, hash: u64) -> Option<&str> {
        let slot = &self.slots[Self::slot(hash)];
        (slot.hash == hash && slot.key == key && !slot.key.is_empty()).then_some(&slot.value)
    }

    fn put(&mut self, key: &str, hash: u64, value: &str) {
        let slot = &mut self.slots[Self::slot(hash)];
        slot.hash = hash;
        slot.key.clear();
        slot.key.push_str(key);
        slot.value.clear();
        slot.value.push_str(value);
    }
}

/// Normalised lines by raw line, and by what the deleting rules left of it (per engine, so
/// per thread; kept between calls like Python's module-level caches).
struct Caches {
    lines: LineCache,
    deleted: LineCache,
    probes: DfaCache,
    kinds: DfaCache,
    groups: Vec<CaptureLocations>, // one per rule, for its matches
    // Hashes of the fingerprints whose text this engine gave for the call numbered `call`.
    given: HashSet<u64>,
    call: u64,
}

impl Caches {
    fn new(engine: &Engine) -> Self {
        Caches {
            lines: LineCache::new(),
            deleted: LineCache::new(),
            probes: engine.probes.dfa.create_cache(),
            kinds: engine.kinds.dfa.create_cache(),
            groups: engine
                .rules
                .iter()
                .map(|r| r.pattern.capture_locations())
                .collect(),
            given: HashSet::default(),
            call: 0,
        }
    }
}

/// The rule table's probes (`rules.PROBES`): which rules can match a line, in one pass (also
/// used for a line's two kinds, `Engine::kinds`).
///
/// A lazy DFA of all probes under `MatchKind::All`, walked here byte by byte: every match
/// state on the way names the probes that matched there. That is the set
/// `RegexSet::matches` gives, but its overlapping search returns to the caller at every match
/// and resumes (measured on 750k lines alone: the walk takes 60% of its time per byte; in
/// the engine, where memory traffic dominates, fingerprinting gained about 3%).
struct Probes {
    dfa: DFA,
    set: RegexSet, // the same probes, when the walk cannot answer
}

impl Probes {
    fn new(patterns: &[String]) -> PyResult<Self> {
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(SET_DFA_LIMIT),
            )
            .build_many(patterns)
            .map_err(|e| PyValueError::new_err(format!("probe set: {e}")))?;
        Ok(Probes {
            dfa,
            set: set(patterns)?,
        })
    }

    /// Indexes of the probes that match somewhere in `text`, in increasing order.
    fn matches(&self, text: &str, cache: &mut DfaCache) -> Vec<usize> {
        if self.dfa.pattern_len() > 64 {
            return self.set.matches(text).into_iter().collect();
        }
        let found = self.bits(text, cache, 0);
        (0..64).filter(|i| found >> i & 1 == 1).collect()
    }

    /// The probes (at most 64) that match in `text` as bits, by the walk or, where the DFA
    /// gives up, the set; the walk stops at the first of the `stop` bits.
    fn bits(&self, text: &str, cache: &mut DfaCache, stop: u64) -> u64 {
        self.walk(text.as_bytes(), cache, stop).unwrap_or_else(|| {
            let found = self.set.matches(text);
            found.iter().fold(0, |bits, at| bits | 1 << at)
        })
    }

    /// The probes matched in `haystack` as bits; None when the DFA gives up (then the set,
    /// which falls back to other engines, answers). Stops at the first of the `stop` bits.
    fn walk(&self, haystack: &[u8], cache: &mut DfaCache, stop: u64) -> Option<u64> {
        let dfa = &self.dfa;
        let start = StartConfig::new().anchored(Anchored::No);
        let mut state = dfa.start_state(cache, &start).ok()?;
        let mut found = 0u64;
        for &byte in haystack {
            state = dfa.next_state(cache, state, byte).ok()?;
            if state.is_tagged() {
                found |= self.matched(state, cache)?;
                if found & stop != 0 {
                    return Some(found);
                }
            }
        }
        // A DFA reports a match one byte late: the end of the text is a last step.
        state = dfa.next_eoi_state(cache, state).ok()?;
        Some(found | self.matched(state, cache)?)
    }

    /// The probes a (tagged) state says have matched, as bits.
    fn matched(&self, state: LazyStateID, cache: &DfaCache) -> Option<u64> {
        if state.is_quit() {
            return None;
        }
        let patterns = if state.is_match() {
            self.dfa.match_len(cache, state)
        } else {
            0
        };
        Some((0..patterns).fold(0, |bits, at| {
            bits | 1 << self.dfa.match_pattern(cache, state, at).as_usize()
        }))
    }
}

impl Engine {
    // ---- rules.py -------------------------------------------------------------------------

    fn probed(&self, text: &str, cache: &mut DfaCache) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .probes
            .matches(text, cache)
            .into_iter()
            .map(|i| self.probe_rules[i])
            .collect();
        found.sort_unstable();
        found
    }

    /// The rules at `positions`, each behind its own pre-checks.
    fn apply_checked(
        &self,
        mut text: String,
        positions: Range<usize>,
        digit: bool,
        groups: &mut [CaptureLocations],
    ) -> Option<String> {
        for position in positions {
            let rule = &self.rules[position];
            if rule.may_match(&text, digit) {
                text = rule.apply(text, &mut groups[position])?;
            }
        }
        Some(text)
    }

    /// `_delete_probed`: the text after the deleting rules, and the other rules probed on it
    /// (None: the deleting rules changed it, probe again).
    fn delete_probed(
        &self,
        text: &str,
        caches: &mut Caches,
    ) -> Option<(String, Option<Vec<usize>>)> {
        let selected = self.probed(text, &mut caches.probes);
        if selected.is_empty() || selected[0] >= self.first_probed {
            return Some((text.to_owned(), Some(selected)));
        }
        let deleting = selected[0]..self.first_probed;
        let digit = has_digit(text);
        let deleted = self.apply_checked(text.to_owned(), deleting, digit, &mut caches.groups)?;
        if deleted != text {
            return Some((deleted, None));
        }
        let rest = selected
            .into_iter()
            .filter(|&p| p >= self.first_probed)
            .collect();
        Some((text.to_owned(), Some(rest)))
    }

    /// `_apply_probed`: the rules at `selected` (none deleting) and the unprobed ones, in order.
    fn apply_probed(
        &self,
        mut text: String,
        mut selected: Vec<usize>,
        groups: &mut [CaptureLocations],
    ) -> Option<String> {
        if !self.unprobed.is_empty() {
            selected.extend_from_slice(&self.unprobed);
            selected.sort_unstable();
        }
        for position in selected {
            let rule = &self.rules[position];
            if self.unprobed.contains(&position) && !rule.may_match(&text, has_digit(&text)) {
                continue;
            }
            text = rule.apply(text, &mut groups[position])?;
        }
        Some(text)
    }

    fn after_deletion(&self, text: String, caches: &mut Caches) -> Option<String> {
        let selected = self.probed(&text, &mut caches.probes);
        let selected = selected
            .into_iter()
            .filter(|&p| p >= self.first_probed)
            .collect();
        self.apply_probed(text, selected, &mut caches.groups)
    }

    fn tidy(&self, line: &str) -> String {
        // Only a double space, \t, \f or \v can make the collapse change anything.
        let bytes = line.as_bytes();
        let collapsible = bytes.windows(2).any(|w| w == b"  ")
            || bytes.iter().any(|&b| matches!(b, b'\t' | 0x0b | 0x0c));
        if !collapsible {
            return py_strip(line).to_owned();
        }
        let collapsed = self.spaces.replace_all(line, " ");
        py_strip(&collapsed).to_owned()
    }

    fn normalize_new_line(&self, line: &str, caches: &mut Caches) -> Option<String> {
        let line = cut_chars(line, self.limits.max_line_length);
        if !line.is_ascii() {
            // Python's path without probes (RE2 sees ASCII only): every rule behind its own
            // substring and digit pre-checks, the digit test made once on the whole line.
            let (digit, groups) = (has_digit(line), &mut caches.groups);
            let deleted =
                self.apply_checked(line.to_owned(), 0..self.first_probed, digit, groups)?;
            let done =
                self.apply_checked(deleted, self.first_probed..self.rules.len(), digit, groups)?;
            return Some(self.tidy(&done));
        }
        // A line that starts with a digit is most often an Actions log line: the deleting
        // rules (their own pre-checks) take its timestamp first, and the probes see only
        // what is left, which often repeats. (Same result: a rule whose probe would not
        // match the raw line cannot change it.)
        let deleted = if line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            let (deleting, digit) = (0..self.first_probed, has_digit(line));
            Some(self.apply_checked(line.to_owned(), deleting, digit, &mut caches.groups)?)
        } else {
            None
        };
        let (text, selected) = match deleted {
            Some(deleted) if deleted != line => (deleted, None),
            _ => self.delete_probed(line, caches)?,
        };
        if let Some(selected) = selected {
            return Some(self.tidy(&self.apply_probed(text, selected, &mut caches.groups)?));
        }
        // The log-line timestamp makes every raw line new; what is left often repeats.
        let hash = fx_hash(text.as_bytes());
        if let Some(known) = caches.deleted.get(&text, hash) {
            return Some(known.to_owned());
        }
        let done = self.tidy(&self.after_deletion(text.clone(), caches)?);
        caches.deleted.put(&text, hash, &done);
        Some(done)
    }

    /// One line normalised, appended to `out`.
    fn normalize_line(&self, line: &str, caches: &mut Caches, out: &mut String) -> Option<()> {
        let hash = fx_hash(line.as_bytes());
        if let Some(known) = caches.lines.get(line, hash) {
            out.push_str(known);
            return Some(());
        }
        let done = self.normalize_new_line(line, caches)?;
        caches.lines.put(line, hash, &done);
        out.push_str(&done);
        Some(())
    }

    /// `normalize`: every line through the rules, tidied, empty and repeated lines dropped.
    fn normalize(&self, text: &str, caches: &mut Caches) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        // (hash, start, end) of each line kept in `out`, to drop a repeated one.
        let mut kept: Vec<(u64, usize, usize)> = Vec::new();
        for raw in text.split('\n') {
            let start = out.len() + usize::from(!out.is_empty());
            if !out.is_empty() {
                out.push('\n');
            }
            self.normalize_line(raw, caches, &mut out)?;
            let line = &out[start..];
            let hash = fx_hash(line.as_bytes());
            let repeated = kept
                .iter()
                .any(|&(h, s, e)| h == hash && out[s..e] == *line);
            if line.is_empty() || repeated {
                out.truncate(start.saturating_sub(usize::from(start > 0)));
            } else {
                kept.push((hash, start, out.len()));
            }
        }
        Some(out)
    }

    // ---- cause.py -------------------------------------------------------------------------

    /// `cause._repeat_key`: the line without its digits, or without its numbers and hex runs
    /// when it holds "0x" (retries of one error differ only there).
    fn repeat_key<'a>(&self, line: &'a str) -> Cow<'a, str> {
        if line.contains("0x") {
            return self.number_or_hex.replace_all(line, "");
        }
        if !has_digit(line) {
            return Cow::Borrowed(line);
        }
        Cow::Owned(line.chars().filter(|c| !c.is_ascii_digit()).collect())
    }

    /// `repeat_key(a) == repeat_key(b)`, without building the keys unless one holds "0x".
    fn same_repeat_key(&self, a: &str, b: &str) -> bool {
        if a.contains("0x") || b.contains("0x") {
            return self.repeat_key(a) == self.repeat_key(b);
        }
        let digitless = |b: &u8| !b.is_ascii_digit();
        a.bytes().filter(digitless).eq(b.bytes().filter(digitless))
    }

    /// A summary of `repeat_key(line)` that equal keys share: its length and byte sum, mixed.
    /// Mostly without building the key, in a loop the compiler vectorises (a byte-serial hash
    /// was a tenth of the engine's time); lines it confuses are told apart by the keys.
    fn repeat_hash(&self, line: &str) -> u64 {
        fn summary(bytes: &[u8], skip_digits: bool) -> u64 {
            let (mut kept, mut sum) = (0u32, 0u32);
            for &b in bytes {
                let keep = u32::from(!(skip_digits && b.is_ascii_digit()));
                kept = kept.wrapping_add(keep);
                sum = sum.wrapping_add(keep * u32::from(b));
            }
            (u64::from(kept) << 32 | u64::from(sum)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        }
        if line.contains("0x") {
            return summary(self.repeat_key(line).as_bytes(), false);
        }
        summary(line.as_bytes(), true)
    }

    /// (an error line, a source location when not an error line) of an ASCII line, in one
    /// pass of both patterns that stops at the first error-line match.
    fn kinds(&self, line: &str, cache: &mut DfaCache) -> (bool, bool) {
        const SIGNAL: u64 = 1;
        const LOCATION: u64 = 2;
        let found = self.kinds.bits(line, cache, SIGNAL);
        (found & SIGNAL != 0, found & (SIGNAL | LOCATION) == LOCATION)
    }

    fn cause_text(&self, message: &str, text: &str, file: &str, kinds: &mut DfaCache) -> String {
        let head = py_strip(message);
        let mut parts: Vec<&str> = Vec::new();
        // Lines kept so far with their repeat hash; equal hashes are confirmed on the keys.
        // A few lines are scanned, more go through a set of the hashes as well.
        let mut seen: Vec<(u64, &str)> = Vec::new();
        let mut seen_hashes: HashSet<u64> = HashSet::default();
        let mut first_sighting = |line| {
            let hash = self.repeat_hash(line);
            let fresh = if seen.len() < FEW_LINES {
                !seen.iter().any(|&(h, _)| h == hash)
            } else {
                if seen_hashes.is_empty() {
                    seen_hashes.extend(seen.iter().map(|&(h, _)| h));
                }
                seen_hashes.insert(hash)
            };
            let repeated = !fresh
                && seen
                    .iter()
                    .any(|&(h, earlier)| h == hash && self.same_repeat_key(earlier, line));
            if !repeated {
                seen.push((hash, line)); // (the set, once in use, holds the hash already)
            }
            !repeated
        };
        if !head.is_empty() {
            parts.push(head);
            first_sighting(head);
        }
        let file_part;
        let file = py_strip(file);
        if !file.is_empty() {
            file_part = format!("in {file}");
            parts.push(&file_part);
        }
        let mut signal: Vec<(usize, &str)> = Vec::new();
        let mut locations: Vec<(usize, &str)> = Vec::new();
        let mut plain: Vec<(usize, &str)> = Vec::new();
        let lines = py_splitlines(text);
        for (number, raw) in lines.iter().take(self.limits.max_scanned).enumerate() {
            let line = py_strip(raw);
            if line.is_empty() || !first_sighting(line) {
                continue;
            }
            let (is_signal, is_location) = if line.is_ascii() {
                self.kinds(line, kinds)
            } else {
                let error_line = self.signal_python.is_match(line);
                (
                    error_line,
                    !error_line && self.location_python.is_match(line),
                )
            };
            if is_signal {
                if signal.len() < self.limits.max_signal {
                    signal.push((number, line));
                }
            } else if is_location {
                locations.push((number, line));
            } else if plain.len() < self.limits.fallback {
                plain.push((number, line));
            }
        }
        if locations.len() > self.limits.max_location {
            let half = self.limits.max_location / 2;
            let tail = locations.split_off(locations.len() - half);
            locations.truncate(half);
            locations.extend(tail);
        }
        let mut chosen = if signal.is_empty() { plain } else { signal };
        chosen.extend(locations);
        chosen.sort_unstable();
        parts.extend(chosen.into_iter().map(|(_, line)| line));
        parts.join("\n")
    }

    // ---- fingerprint.py -------------------------------------------------------------------

    fn fingerprint(&self, normalized: &str, source_kind: &str) -> String {
        let kind = py_strip(source_kind).to_ascii_lowercase();
        let kind = if kind.is_empty() {
            "log".to_owned()
        } else {
            kind
        };
        let mut hasher = Sha256::new();
        hasher.update(b"error-fingerprint\x1f");
        hasher.update(kind.as_bytes());
        hasher.update(b"\x1f");
        hasher.update(normalized.as_bytes());
        let digest = hasher.finalize();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(digest.len() * 2);
        for byte in digest.iter() {
            hex.push(HEX[usize::from(byte >> 4)] as char);
            hex.push(HEX[usize::from(byte & 0x0f)] as char);
        }
        hex.truncate(self.limits.fingerprint_length);
        hex
    }

    /// `cause_text` of fields both engines read alike; None where Python must.
    fn checked_cause_text(
        &self,
        (message, text, file): (&str, &str, &str),
        caches: &mut Caches,
    ) -> Option<String> {
        let inert = &self.inert;
        if !(inert.takes(message) && inert.takes(text) && inert.takes(file)) {
            return None;
        }
        Some(self.cause_text(message, text, file, &mut caches.kinds))
    }

    fn normalized_cause(&self, key: &Key, caches: &mut Caches) -> Option<String> {
        let cause = self.checked_cause_text((&key.1, &key.2, &key.3), caches)?;
        self.normalize(&cause, caches)
    }

    fn fingerprint_key(&self, key: &Key, caches: &mut Caches) -> Option<String> {
        self.fingerprinted(key, caches).map(|(_, value)| value)
    }

    /// (normalised cause text, fingerprint) of one key.
    fn fingerprinted(&self, key: &Key, caches: &mut Caches) -> Option<(String, String)> {
        if !key.0.is_ascii() {
            return None;
        }
        let normalized = self.normalized_cause(key, caches)?;
        let value = self.fingerprint(&normalized, &key.0);
        Some((normalized, value))
    }

    /// The fingerprint of each key and, for `call` (a number per call that wants them), the
    /// normalised text of each fingerprint this engine has not given for that call yet, by
    /// position in `keys`.
    fn fingerprint_batch(&self, keys: &[Key], call: Option<u64>) -> Batch {
        self.with_caches(|caches| {
            if let Some(call) = call.filter(|&call| call != caches.call) {
                caches.given.clear();
                caches.call = call;
            }
            let mut texts = Vec::new();
            let values = keys
                .iter()
                .enumerate()
                .map(|(at, key)| {
                    let (normalized, value) = self.fingerprinted(key, caches)?;
                    if call.is_some() && caches.given.insert(fx_hash(value.as_bytes())) {
                        texts.push((at, normalized));
                    }
                    Some(value)
                })
                .collect();
            (values, texts)
        })
    }

    fn map<F>(&self, keys: &[Key], work: F) -> Vec<Option<String>>
    where
        F: Fn(&Engine, &Key, &mut Caches) -> Option<String>,
    {
        self.with_caches(|caches| keys.iter().map(|k| work(self, k, caches)).collect())
    }

    fn with_caches<R>(&self, work: impl FnOnce(&mut Caches) -> R) -> R {
        let mut caches = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        work(caches.get_or_insert_with(|| Caches::new(self)))
    }
}

type Work = fn(&Engine, &Key, &mut Caches) -> Option<String>;

/// Fingerprints of a batch of keys, and normalised texts by position (`fingerprint_batch`).
type Batch = (Vec<Option<String>>, Vec<(usize, String)>);

/// Numbers the calls that collect normalised texts (see `Caches::given`).
static TEXT_CALLS: AtomicU64 = AtomicU64::new(1);

type Key = (PyBackedStr, PyBackedStr, PyBackedStr, PyBackedStr);

/// The compiled engine; built once from the Python rule table.
#[pyclass(frozen, module = "error_assets_native")]
struct Normalizer {
    engine: Engine,
    spec: Spec,
    workers: Mutex<HashMap<usize, Arc<Workers>>>, // by thread count
}

/// One rule as Python hands it over: pattern, replacement, triggers, needs_digit, probe.
type RuleSpec = (String, String, Vec<String>, bool, Option<String>);

/// What an engine is built from (the constructor's arguments), kept to build one per thread.
struct Spec {
    rules: Vec<RuleSpec>,
    deleting: usize,
    patterns: [String; 6], // signal, location, their Python forms, number_or_hex, spaces
    inert: String,
    limits: [usize; 6],
}

impl Spec {
    fn build(&self) -> PyResult<Engine> {
        let mut compiled = Vec::with_capacity(self.rules.len());
        let mut probes = Vec::new();
        let mut probe_rules = Vec::new();
        let mut unprobed = Vec::new();
        for (position, (pattern, replacement, triggers, needs_digit, probe)) in
            self.rules.iter().enumerate()
        {
            compiled.push(Rule {
                pattern: pcre(pattern)?,
                replacement: pieces(replacement)?,
                triggers: triggers.clone(),
                needs_digit: *needs_digit,
            });
            match probe {
                Some(probe) => {
                    probes.push(probe.clone());
                    probe_rules.push(position);
                }
                None => unprobed.push(position),
            }
        }
        if unprobed.iter().any(|&p| p < self.deleting) {
            return Err(PyValueError::new_err("every deleting rule needs a probe"));
        }
        let [signal, location, signal_python, location_python, number_or_hex, spaces] =
            &self.patterns;
        let limits = self.limits;
        Ok(Engine {
            rules: compiled,
            first_probed: self.deleting,
            probes: Probes::new(&probes)?,
            probe_rules,
            unprobed,
            kinds: Probes::new(&[signal.clone(), location.clone()])?,
            signal_python: plain(signal_python)?,
            location_python: plain(location_python)?,
            number_or_hex: plain(number_or_hex)?,
            spaces: plain(spaces)?,
            limits: Limits {
                max_signal: limits[0],
                max_location: limits[1],
                fallback: limits[2],
                max_scanned: limits[3],
                max_line_length: limits[4],
                fingerprint_length: limits[5],
            },
            inert: Inert::new(&self.inert)?,
            caches: Mutex::new(None),
        })
    }
}

/// A thread pool and one engine per pool thread, kept between calls. Threads sharing one
/// regex contend for its scratch space, and the regex caches are kept per thread: new
/// threads on every call (measured: two threads slower than one) start cold each time.
struct Workers {
    pool: rayon::ThreadPool,
    engines: Vec<Engine>,
    pid: u32, // a forked child inherits the pool but not its threads
}

impl Workers {
    /// Fingerprints `keys` (batch `number`) on a pool thread and sends them back. The batch
    /// is dropped there before sending: its last owner is the reader, which holds the GIL
    /// when it lets go of the keys' Python strings. A panic sends no values (all None):
    /// Python computes them.
    fn spawn(
        self: &Arc<Self>,
        number: usize,
        keys: Arc<Vec<Key>>,
        call: Option<u64>,
        sender: mpsc::Sender<(usize, Batch)>,
    ) {
        let workers = Arc::clone(self);
        self.pool.spawn(move || {
            let count = keys.len();
            let batch = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let index = rayon::current_thread_index().unwrap_or(0);
                workers.engines[index].fingerprint_batch(&keys, call)
            }))
            .unwrap_or_else(|_| (vec![None; count], Vec::new()));
            drop(keys);
            let _ = sender.send((number, batch));
        });
    }
}

impl Normalizer {
    fn workers(&self, threads: usize) -> Option<Arc<Workers>> {
        let mut known = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(workers) = known.get(&threads) {
            if workers.pid == std::process::id() {
                return Some(Arc::clone(workers));
            }
            // Forked: waiting on the parent's pool threads would hang forever. (Leaked, not
            // dropped: dropping would signal threads that do not exist in this process.)
            if let Some(stale) = known.remove(&threads) {
                std::mem::forget(stale);
            }
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()?;
        let engines = (0..threads)
            .map(|_| self.spec.build())
            .collect::<PyResult<_>>()
            .ok()?;
        let workers = Arc::new(Workers {
            pool,
            engines,
            pid: std::process::id(),
        });
        known.insert(threads, Arc::clone(&workers));
        Some(workers)
    }

    fn run(&self, keys: &[Key], threads: usize, work: Work) -> Vec<Option<String>> {
        let threads = threads.clamp(1, keys.len().max(1));
        let workers = if threads > 1 {
            self.workers(threads)
        } else {
            None
        };
        let Some(workers) = workers else {
            return self.engine.map(keys, work);
        };
        let chunk = keys.len().div_ceil(threads);
        let parts: Vec<Vec<Option<String>>> = workers.pool.install(|| {
            keys.par_chunks(chunk)
                .map(|part| {
                    let index = rayon::current_thread_index().unwrap_or(0);
                    workers.engines[index].map(part, work)
                })
                .collect()
        });
        parts.into_iter().flatten().collect()
    }
}

/// A pattern that needs a backtracking engine (lookaround, or a group in the replacement):
/// the rules and the key tokenizer's code numbers. PCRE2 backtracks like Python's `re` and
/// is compiled to machine code: per rule 1.3x to 2.9x faster than fancy-regex was on the
/// generated lines, and the parity tests hold it to Python's answers. Its match limit (10
/// million, PCRE2's default) bounds the backtracking; reaching it hands the text to Python.
fn pcre(pattern: &str) -> PyResult<Pcre> {
    PcreBuilder::new()
        .utf(true)
        .jit_if_available(true)
        .build(pattern)
        .map_err(|e| PyValueError::new_err(format!("pattern {pattern:?}: {e}")))
}

fn plain(pattern: &str) -> PyResult<Regex> {
    Regex::new(pattern).map_err(|e| PyValueError::new_err(format!("pattern {pattern:?}: {e}")))
}

/// Lazy DFAs this large hold every state a probe set needs: smaller ones thrash.
const SET_DFA_LIMIT: usize = 256 << 20;

fn set(patterns: &[String]) -> PyResult<RegexSet> {
    RegexSetBuilder::new(patterns)
        .dfa_size_limit(SET_DFA_LIMIT)
        .build()
        .map_err(|e| PyValueError::new_err(format!("pattern set: {e}")))
}

#[pymethods]
impl Normalizer {
    /// `rules`: (pattern, replacement, triggers, needs_digit, probe or None) in table order;
    /// the first `deleting` of them are the deleting rules. `kinds`: the error-line and
    /// source-location patterns as RE2 sees them, then as Python's `re` does. `limits`: max
    /// signal lines, max location lines, fallback lines, max scanned lines, max line length,
    /// fingerprint length. `inert`: the non-ASCII characters proposed as inert (see `Inert`).
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        rules: Vec<RuleSpec>,
        deleting: usize,
        kinds: [String; 4],
        number_or_hex: String,
        spaces: String,
        limits: [usize; 6],
        inert: String,
    ) -> PyResult<Self> {
        let [signal, location, signal_python, location_python] = kinds;
        let patterns = [
            signal,
            location,
            signal_python,
            location_python,
            number_or_hex,
            spaces,
        ];
        let spec = Spec {
            rules,
            deleting,
            patterns,
            limits,
            inert,
        };
        let engine = spec.build()?;
        Ok(Normalizer {
            engine,
            spec,
            workers: Mutex::new(HashMap::default()),
        })
    }

    /// Fingerprint of each (source_kind, message, text, file); None where Python must do it.
    fn fingerprints(&self, py: Python<'_>, keys: Vec<Key>, threads: usize) -> Vec<Option<String>> {
        py.detach(|| self.run(&keys, threads, Engine::fingerprint_key))
    }

    /// Fingerprint of each occurrence (any object with str attributes source_kind, message,
    /// text and file), computed once per distinct key; None where Python must compute it.
    ///
    /// With several threads, each full batch of new keys goes to the pool while this thread
    /// (holding the GIL) reads on: reading a million records is a tenth of the work, and it
    /// no longer waits in front of the rest.
    ///
    /// Occurrences with one fingerprint share one string. Given a dict as `texts`, it also
    /// receives fingerprint -> normalised cause text of the fingerprints computed here (same
    /// fingerprint, same text), which saves normalising a cluster's text a second time. Given
    /// a dict as `firsts`, it receives fingerprint -> position of its first occurrence, when
    /// every fingerprint was computed here (else it is left empty).
    #[pyo3(signature = (occurrences, threads, texts=None, firsts=None))]
    fn occurrence_fingerprints(
        &self,
        py: Python<'_>,
        occurrences: Vec<Bound<'_, PyAny>>,
        threads: usize,
        texts: Option<Bound<'_, PyDict>>,
        firsts: Option<Bound<'_, PyDict>>,
    ) -> PyResult<Vec<Option<Py<PyString>>>> {
        let call = texts
            .is_some()
            .then(|| TEXT_CALLS.fetch_add(1, AtomicOrdering::Relaxed));
        let names = [
            intern!(py, "source_kind"),
            intern!(py, "message"),
            intern!(py, "text"),
            intern!(py, "file"),
        ];
        let field = |occurrence: &Bound<'_, PyAny>, at: usize| -> Option<PyBackedStr> {
            occurrence.getattr(names[at]).ok()?.extract().ok()
        };
        let workers = if threads > 1 && occurrences.len() > KEY_BATCH {
            self.workers(threads)
        } else {
            None
        };
        let (sender, receiver) = mpsc::channel::<(usize, Batch)>();
        // Distinct keys in first-seen order, in batches of KEY_BATCH (`full`: handed over).
        let mut full: Vec<Arc<Vec<Key>>> = Vec::new();
        let mut batch: Vec<Key> = Vec::with_capacity(KEY_BATCH);
        // Key hash -> first key with it, then a chain through `next` (hashes rarely collide).
        let mut by_hash: HashMap<u64, usize> = HashMap::default();
        let mut next: Vec<usize> = Vec::new();
        let mut slots: Vec<Option<usize>> = Vec::with_capacity(occurrences.len());
        for occurrence in &occurrences {
            let fields = [0, 1, 2, 3].map(|at| field(occurrence, at));
            let [Some(kind), Some(message), Some(text), Some(file)] = fields else {
                slots.push(None);
                continue;
            };
            let mut hasher = FxHasher::default();
            for part in [&kind, &message, &text, &file] {
                hasher.write_usize(part.len());
                hasher.write(part.as_bytes());
            }
            let count = full.len() * KEY_BATCH + batch.len();
            let same = |at: usize| {
                let k = match full.get(at / KEY_BATCH) {
                    Some(done) => &done[at % KEY_BATCH],
                    None => &batch[at % KEY_BATCH],
                };
                *k.0 == *kind && *k.1 == *message && *k.2 == *text && *k.3 == *file
            };
            let mut found = None;
            let mut at = *by_hash.entry(hasher.finish()).or_insert(count);
            while at != count {
                if same(at) {
                    found = Some(at);
                    break;
                }
                if next[at] == usize::MAX {
                    next[at] = count; // a new key with a colliding hash: chain it
                }
                at = next[at];
            }
            if found.is_none() {
                next.push(usize::MAX);
                batch.push((kind, message, text, file));
                if batch.len() == KEY_BATCH {
                    let done =
                        Arc::new(std::mem::replace(&mut batch, Vec::with_capacity(KEY_BATCH)));
                    if let Some(workers) = &workers {
                        workers.spawn(full.len(), Arc::clone(&done), call, sender.clone());
                    }
                    full.push(done);
                }
            }
            slots.push(Some(found.unwrap_or(count)));
        }
        let last = full.len();
        full.push(Arc::new(batch));
        let mut parts: Vec<Batch> = (0..full.len()).map(|_| Default::default()).collect();
        let (into, keys, workers) = (&mut parts, &full, &workers);
        py.detach(move || match workers {
            Some(workers) => {
                workers.spawn(last, Arc::clone(&keys[last]), call, sender);
                for _ in 0..keys.len() {
                    let (number, batch) = receiver.recv().expect("every batch sends its values");
                    into[number] = batch;
                }
            }
            None => {
                for (part, keys) in into.iter_mut().zip(keys) {
                    *part = self.engine.fingerprint_batch(keys, call);
                }
            }
        });
        // One string per distinct fingerprint (numbered in `ids`): fewer objects, and hashed
        // once in Python.
        let mut ids: HashMap<&str, usize> = HashMap::default();
        let mut strings: Vec<Py<PyString>> = Vec::new();
        let mut values: Vec<Option<usize>> = Vec::with_capacity(KEY_BATCH * parts.len());
        for (batch, batch_texts) in &parts {
            for value in batch {
                values.push(value.as_deref().map(|v| {
                    *ids.entry(v).or_insert_with(|| {
                        strings.push(PyString::new(py, v).unbind());
                        strings.len() - 1
                    })
                }));
            }
            if let Some(texts) = &texts {
                for (at, text) in batch_texts {
                    if let Some(value) = &batch[*at] {
                        let key = strings[ids[value.as_str()]].bind(py);
                        if !texts.contains(key)? {
                            texts.set_item(key, text)?;
                        }
                    }
                }
            }
        }
        let mut found = vec![false; strings.len()];
        let mut out = Vec::with_capacity(slots.len());
        for (index, slot) in slots.into_iter().enumerate() {
            let id = slot.and_then(|s| values[s]);
            if let (Some(firsts), Some(id)) = (&firsts, id) {
                if !std::mem::replace(&mut found[id], true) {
                    firsts.set_item(strings[id].bind(py), index)?;
                }
            }
            out.push(id.map(|id| strings[id].clone_ref(py)));
        }
        if let Some(firsts) = firsts.filter(|_| out.iter().any(Option::is_none)) {
            firsts.clear(); // Python computes some: its fingerprints' first positions are unknown
        }
        Ok(out)
    }

    /// Normalised cause text of each (source_kind, message, text, file); None as above.
    fn normalized_causes(
        &self,
        py: Python<'_>,
        keys: Vec<Key>,
        threads: usize,
    ) -> Vec<Option<String>> {
        py.detach(|| self.run(&keys, threads, Engine::normalized_cause))
    }

    /// `rules.normalize` of one text (None where Python must), for the parity tests.
    fn normalize(&self, text: &str) -> Option<String> {
        if !self.engine.inert.takes(text) {
            return None;
        }
        self.engine
            .with_caches(|caches| self.engine.normalize(text, caches))
    }

    /// Forget every remembered line, on every thread (benchmarks start cold).
    fn clear_caches(&self) {
        let known = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        let engines = known.values().flat_map(|w| w.engines.iter());
        for engine in std::iter::once(&self.engine).chain(engines) {
            *engine.caches.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Rule `position` of the table alone on `text` (None where Python must), for the tests.
    fn apply_rule(&self, position: usize, text: &str) -> PyResult<Option<String>> {
        let rule = self
            .engine
            .rules
            .get(position)
            .ok_or_else(|| PyValueError::new_err(format!("no rule at position {position}")))?;
        Ok(if self.engine.inert.takes(text) {
            let groups =
                |caches: &mut Caches| rule.apply(text.to_owned(), &mut caches.groups[position]);
            self.engine.with_caches(groups)
        } else {
            None
        })
    }

    /// `cause.cause_text` of one occurrence (None where Python must), for the parity tests.
    fn cause_text(&self, message: &str, text: &str, file: &str) -> Option<String> {
        let engine = &self.engine;
        engine.with_caches(|caches| engine.checked_cause_text((message, text, file), caches))
    }
}

/// The matches of `similarity`'s token and word patterns: runs of an ASCII class, and for
/// tokens a run in angle brackets (a placeholder) first. A byte scan finds them where the
/// pattern has one of these two forms (the classes read from the pattern itself), the regex
/// otherwise: per match, its search costs more than the scan of the run (measured: the
/// tokens of 58k texts in 89 ms by regex).
enum Runs {
    Scan { class: [bool; 128], bracketed: bool },
    Regex(Regex),
}

impl Runs {
    fn new(pattern: &str) -> PyResult<Self> {
        // `[C]+` or `<[C]+>|[C]+`, C an ASCII class that names no escape class (\w, \p..)
        // and is not negated: it holds ASCII characters only.
        let (class, bracketed) = match pattern.strip_prefix('<').and_then(|p| p.split_once(">|")) {
            Some((inner, rest)) if inner == rest => (rest, true),
            Some(_) => ("", false),
            None => (pattern, false),
        };
        let ascii_class = class.is_ascii()
            && class.starts_with('[')
            && class.ends_with("]+")
            && !class.starts_with("[^")
            && !class[1..class.len() - 2].contains(['[', ']'])
            && !["\\p", "\\P", "\\w", "\\W", "\\d", "\\D", "\\s", "\\S"]
                .iter()
                .any(|escape| class.contains(escape));
        if !ascii_class {
            return Ok(Runs::Regex(plain(pattern)?));
        }
        let member = plain(&format!("^{}$", &class[..class.len() - 1]))?;
        let mut table = [false; 128];
        for (byte, slot) in table.iter_mut().enumerate() {
            *slot = member.is_match(char::from(byte as u8).encode_utf8(&mut [0; 4]));
        }
        Ok(Runs::Scan {
            class: table,
            bracketed,
        })
    }

    /// The matches in `text`, left to right (as `find_iter` gives them).
    fn find<'s, 't: 's>(&'s self, text: &'t str) -> Box<dyn Iterator<Item = &'t str> + 's> {
        let (class, bracketed) = match self {
            Runs::Regex(regex) => return Box::new(regex.find_iter(text).map(|m| m.as_str())),
            Runs::Scan { class, bracketed } => (class, *bracketed),
        };
        let bytes = text.as_bytes();
        let member = |at: usize| bytes.get(at).is_some_and(|&b| b < 128 && class[b as usize]);
        let mut at = 0;
        Box::new(std::iter::from_fn(move || {
            while at < bytes.len() {
                let start = at;
                if bracketed && bytes[at] == b'<' && member(at + 1) {
                    let mut end = at + 1;
                    while member(end) {
                        end += 1;
                    }
                    if bytes.get(end) == Some(&b'>') {
                        at = end + 1;
                        return Some(&text[start..at]);
                    }
                }
                if member(at) {
                    while member(at) {
                        at += 1;
                    }
                    return Some(&text[start..at]);
                }
                at += 1;
            }
            None
        }))
    }
}

/// Key tokens, word tokens and first-line words of one text, as `KeyTokenizer::parts` finds
/// them: slices of the text where they can be.
type PartsOf<'a> = [Vec<Cow<'a, str>>; 3];

/// Key tokens, word tokens and first-line words of one text (`KeyTokenizer::profiles`).
type ProfileSets<'py> = (
    Bound<'py, PyFrozenSet>,
    Bound<'py, PyFrozenSet>,
    Bound<'py, PyFrozenSet>,
);

/// `similarity.key_tokens` of ASCII (and inert) texts: what two texts must share to merge (error names,
/// source paths, frames, status codes). Built from that module's patterns, like `Normalizer`.
#[pyclass(frozen, module = "error_assets_native")]
struct KeyTokenizer {
    token: Runs, // a word token (`similarity.tokens`)
    word: Runs,
    code_word: Regex, // anchored at both ends: Python's fullmatch
    frame: Regex,
    code_number: Pcre,
    suffixes: Vec<String>,
    extensions: HashSet<String>,
    inert: Inert,
}

impl KeyTokenizer {
    /// The key tokens of `text` (unordered); None where Python must compute them.
    fn of<'a>(&self, text: &'a str) -> Option<Vec<Cow<'a, str>>> {
        if !self.inert.takes(text) {
            return None;
        }
        let mut keys: HashSet<Cow<'a, str>> = HashSet::default();
        let words: HashSet<&str> = self.word.find(text).collect();
        for raw in words {
            let word = raw.trim_matches(|c| c == '.' || c == '-');
            let Some(&first) = word.as_bytes().first() else {
                continue;
            };
            if word.contains('/')
                || word.contains('\\')
                || self.suffixes.iter().any(|s| word.ends_with(s.as_str()))
                || (first.is_ascii_uppercase() && self.code_word.is_match(word))
                || word
                    .rsplit_once('.')
                    .is_some_and(|(_, extension)| self.extensions.contains(extension))
            {
                keys.insert(Cow::Borrowed(word));
            }
        }
        if text.contains("at ") {
            for found in self.frame.captures_iter(text) {
                keys.insert(Cow::Borrowed(found.get(1)?.as_str()));
            }
        }
        if has_digit(text) {
            for found in self.code_number.captures_iter(text.as_bytes()) {
                let found = found.ok()?; // match limit: Python does this one
                let code = found.get(1).or_else(|| found.get(2))?;
                keys.insert(Cow::Owned(format!("#{}", &text[code.start()..code.end()])));
            }
        }
        Some(keys.into_iter().collect())
    }
}

impl KeyTokenizer {
    /// Key tokens, word tokens and first-line words (not numbers) of `text`; None where
    /// Python must compute them. The last two may repeat a word (the caller makes sets).
    fn parts<'a>(&self, text: &'a str) -> Option<PartsOf<'a>> {
        let keys = self.of(text)?;
        let words = |part: &'a str| self.token.find(part).map(Cow::Borrowed);
        let head = text.split('\n').next().unwrap_or("");
        let head_words = words(head)
            .filter(|w| !w.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        Some([keys, words(text).collect(), head_words])
    }

    /// `parts` of each text, on rayon's pool when there are many and `threads` > 1.
    fn all_parts<'a>(&self, texts: &'a [PyBackedStr], threads: usize) -> Vec<Option<PartsOf<'a>>> {
        if threads > 1 && texts.len() >= MIN_PARALLEL_PROFILES {
            texts.par_iter().map(|text| self.parts(text)).collect()
        } else {
            texts.iter().map(|text| self.parts(text)).collect()
        }
    }
}

#[pymethods]
impl KeyTokenizer {
    /// Patterns in this dialect (`code_word` as given to fullmatch), then the name suffixes,
    /// the source extensions and the proposed inert characters (see `Inert`).
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        token: &str,
        word: &str,
        code_word: &str,
        frame: &str,
        code_number: &str,
        suffixes: Vec<String>,
        extensions: Vec<String>,
        inert: &str,
    ) -> PyResult<Self> {
        Ok(KeyTokenizer {
            token: Runs::new(token)?,
            word: Runs::new(word)?,
            code_word: plain(&format!(r"\A(?:{code_word})\z"))?,
            frame: plain(frame)?,
            code_number: pcre(code_number)?,
            suffixes,
            extensions: extensions.into_iter().collect(),
            inert: Inert::new(inert)?,
        })
    }

    /// Leaders for normalised `texts` of canonical source `kinds` (`leaders::assign`): the
    /// first `seeds` are added as leaders, then each later text gets the position of the
    /// leader it joins, its own when it leads. Profiles are made here where this tokenizer
    /// takes the text, elsewhere by `fallback(text, kind)` (`similarity.profile`); `threads`
    /// > 1 makes them on the pool for many texts. `thresholds`: Jaccard, ratio, candidates.
    #[allow(clippy::too_many_arguments)]
    fn assign(
        &self,
        py: Python<'_>,
        texts: Vec<PyBackedStr>,
        kinds: Vec<PyBackedStr>,
        seeds: usize,
        fallback: Bound<'_, PyAny>,
        thresholds: (f64, f64, usize),
        threads: usize,
    ) -> PyResult<Vec<usize>> {
        if kinds.len() != texts.len() {
            return Err(PyValueError::new_err("one source kind per text"));
        }
        let made = py.detach(|| self.all_parts(&texts, threads));
        let names = [
            intern!(py, "keys"),
            intern!(py, "tokens"),
            intern!(py, "head_words"),
        ];
        let mut given: Vec<Option<Vec<Vec<PyBackedStr>>>> = Vec::with_capacity(texts.len());
        for ((text, kind), parts) in texts.iter().zip(&kinds).zip(&made) {
            if parts.is_some() {
                given.push(None);
                continue;
            }
            let profile = fallback.call1((text.as_py_str().bind(py), kind.as_py_str().bind(py)))?;
            let mut sets = Vec::with_capacity(3);
            for name in &names {
                let set = profile.getattr(name)?;
                sets.push(
                    set.try_iter()?
                        .map(|value| value?.extract::<PyBackedStr>())
                        .collect::<PyResult<Vec<_>>>()?,
                );
            }
            given.push(Some(sets));
        }
        let parts: Vec<leaders::Parts<'_>> = texts
            .iter()
            .zip(&kinds)
            .zip(made.iter().zip(&given))
            .map(|((text, kind), found)| {
                let [keys, tokens, head]: [Vec<&str>; 3] = match found {
                    (Some(made), _) => made
                        .each_ref()
                        .map(|set| set.iter().map(|word| &**word).collect()),
                    (None, Some(given)) => {
                        [0, 1, 2].map(|at| given[at].iter().map(|s| &**s).collect())
                    }
                    (None, None) => unreachable!("every text has its parts made or given"),
                };
                leaders::Parts {
                    text,
                    kind,
                    keys,
                    tokens,
                    head,
                }
            })
            .collect();
        let (jaccard, ratio, max_candidates) = thresholds;
        let thresholds = leaders::Thresholds::new(jaccard, ratio, max_candidates);
        Ok(py.detach(|| leaders::assign(&parts, seeds, &thresholds)))
    }

    /// Whether the token and the word pattern are matched by a byte scan (for the tests).
    fn scans(&self) -> (bool, bool) {
        let scan = |runs: &Runs| matches!(runs, Runs::Scan { .. });
        (scan(&self.token), scan(&self.word))
    }

    /// What `similarity.profile` takes from each text (for the parity tests: `assign` makes
    /// its own): its key tokens, its word tokens and the words of its first line that are not
    /// numbers, as frozensets; None where Python must compute them.
    fn profiles<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        threads: usize,
    ) -> PyResult<Vec<Option<ProfileSets<'py>>>> {
        let found = py.detach(|| self.all_parts(&texts, threads));
        let set = |tokens: Vec<Cow<'_, str>>| PyFrozenSet::new(py, &tokens);
        found
            .into_iter()
            .map(|parts| {
                parts
                    .map(|[keys, words, head]| Ok((set(keys)?, set(words)?, set(head)?)))
                    .transpose()
            })
            .collect()
    }
}

/// A `str` itself (not a subclass, which may hold references): what the listings' tuples
/// may hold and still be left out of the cyclic GC.
fn exact_str(value: &Bound<'_, PyAny>) -> Option<PyBackedStr> {
    value
        .is_exact_instance_of::<PyString>()
        .then(|| value.extract().ok())
        .flatten()
}

/// A tuple of exact `str` and `int` objects, untracked by the cyclic GC. It cannot be part of
/// a reference cycle (CPython untracks such tuples itself, at its next collection), and a
/// collection no longer visits its items: a million error ids made a 0.15 s pause.
fn untracked_tuple<'py>(
    py: Python<'py>,
    items: impl IntoIterator<Item = Py<PyAny>, IntoIter: ExactSizeIterator>,
) -> PyResult<Py<PyTuple>> {
    let tuple = PyTuple::new(py, items)?;
    // SAFETY: the tuple is tracked (PyTuple_New) and live; untracking only skips it in
    // collections, which is sound for a container of objects that are no containers.
    unsafe { pyo3::ffi::PyObject_GC_UnTrack(tuple.as_ptr().cast()) };
    Ok(tuple.unbind())
}

/// One value of a field a cluster lists (`clustering._distinct_values`): ids are ints, the
/// rest strings; Python sorts each field's values, so one field holds one kind.
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Listed {
    Int(i64),
    Text(PyBackedStr),
}

impl Listed {
    /// Some(None) for an empty value ("" or None); None for a value Python must handle.
    fn read(value: &Bound<'_, PyAny>) -> Option<Option<Listed>> {
        if value.is_none() {
            return Some(None);
        }
        if value.is_instance_of::<PyString>() {
            let text = exact_str(value)?;
            return Some((!text.is_empty()).then_some(Listed::Text(text)));
        }
        if value.is_exact_instance_of::<PyInt>() {
            return Some(Some(Listed::Int(value.extract().ok()?)));
        }
        None
    }

    fn kind(&self) -> u8 {
        match self {
            Listed::Int(_) => 0,
            Listed::Text(_) => 1,
        }
    }

    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match self {
            Listed::Int(value) => value.into_pyobject(py)?.into_any().unbind(),
            Listed::Text(text) => text.into_pyobject(py)?.into_any().unbind(), // moved, no incref
        })
    }
}

/// A representative so far: what decides it (`clustering.representative_order`, then the
/// fingerprint, then the position), with its own copies of the strings (the member's lie
/// cold in Python's heap by the time the next member compares with them).
struct Best {
    role: i64,
    rank: i64,
    error_id: String,
    fingerprint: String,
    index: usize,
}

impl Best {
    fn key(&self) -> (i64, i64, &str, &str, usize) {
        (
            self.role,
            self.rank,
            &self.error_id,
            &self.fingerprint,
            self.index,
        )
    }
}

/// The members of one group of occurrences (one fingerprint, or one cluster).
struct Group {
    error_ids: Vec<PyBackedStr>,
    values: Vec<Vec<Listed>>, // per listed field, unsorted, repeats possible
    best: Option<Best>,
}

impl Group {
    fn new(fields: usize) -> Self {
        Group {
            error_ids: Vec::new(),
            values: (0..fields).map(|_| Vec::new()).collect(),
            best: None,
        }
    }

    fn take_best(&mut self, other: Option<Best>) {
        if let Some(other) = other {
            if self.best.as_ref().is_none_or(|b| other.key() < b.key()) {
                self.best = Some(other);
            }
        }
    }

    /// Error ids sorted (repeats kept), each field's values sorted without repeats.
    fn sort(&mut self) {
        self.error_ids.sort_unstable();
        for field in &mut self.values {
            field.sort_unstable();
            field.dedup();
        }
    }

    fn absorb(&mut self, other: Group) {
        self.error_ids.extend(other.error_ids);
        for (into, values) in self.values.iter_mut().zip(other.values) {
            into.extend(values);
        }
        self.take_best(other.best);
    }
}

/// The members of each group of occurrences, read once (`read_members`), to be listed per
/// cluster (`Members::listings`) once the groups' clusters are known.
#[pyclass(frozen, module = "error_assets_native")]
struct Members {
    groups: Mutex<Option<Vec<Group>>>, // taken by `listings`
    fields: usize,                     // listed fields besides error_id
}

/// Reads the members of `groups` groups (`group_of` gives each occurrence's group; the
/// clustering uses one group per fingerprint): error ids, the values of `fields` (error_id
/// first) and the representative. None when a field holds values Python must sort (neither
/// int nor str, or both).
///
/// It lets other threads take the GIL now and then: the clustering assigns the groups'
/// clusters on another thread meanwhile, mostly outside the GIL.
#[pyfunction]
fn read_members(
    py: Python<'_>,
    occurrences: Vec<Bound<'_, PyAny>>,
    group_of: Vec<usize>,
    groups: usize,
    fingerprints: Vec<PyBackedStr>,
    role_order: HashMap<String, i64>,
    fields: Vec<PyBackedStr>,
) -> PyResult<Option<Members>> {
    if group_of.len() != occurrences.len() || fingerprints.len() != occurrences.len() {
        return Err(PyValueError::new_err(
            "one group and one fingerprint per occurrence",
        ));
    }
    let (role, rank) = (intern!(py, "role"), intern!(py, "rank"));
    // Interned once: a name made afresh per lookup is hashed afresh too.
    let names: Vec<Bound<'_, PyString>> = fields.iter().map(|f| PyString::intern(py, f)).collect();
    let listed_fields = fields.len().saturating_sub(1);
    let mut read: Vec<Group> = (0..groups).map(|_| Group::new(listed_fields)).collect();
    // The object each group and field saw last: the same object again changes nothing.
    // (Held, so that its address cannot be reused by another object while compared.)
    let mut last: Vec<Option<Bound<'_, PyAny>>> =
        (0..groups * listed_fields).map(|_| None).collect();
    let mut kinds: Vec<Option<u8>> = vec![None; fields.len()];
    // A thread waiting for the GIL asks for it after Python's switch interval; releasing it
    // more often than that would only restart the wait (each release wakes the waiter, the
    // reader takes the GIL back first). Released at twice the interval, it is handed over.
    let interval: f64 = py
        .import("sys")?
        .call_method0("getswitchinterval")?
        .extract()?;
    let hand_over = Duration::from_secs_f64(2.0 * interval);
    let mut held = Instant::now();
    for (index, occurrence) in occurrences.iter().enumerate() {
        if index % 1024 == 1023 && held.elapsed() >= hand_over {
            py.detach(|| ());
            held = Instant::now();
        }
        let group_index = group_of[index];
        let Some(group) = read.get_mut(group_index) else {
            return Err(PyValueError::new_err(format!(
                "group index {group_index} out of range"
            )));
        };
        let error_id = occurrence.getattr(&names[0])?;
        let Some(error_id) = exact_str(&error_id) else {
            return Ok(None);
        };
        let role_name = occurrence.getattr(role)?;
        let role_name = role_name.extract::<PyBackedStr>().ok();
        let Ok(member_rank) = occurrence.getattr(rank)?.extract::<i64>() else {
            return Ok(None);
        };
        let member_role = role_name
            .and_then(|r| role_order.get(&*r).copied())
            .unwrap_or(3);
        let fingerprint = &*fingerprints[index];
        let key = (member_role, member_rank, &*error_id, fingerprint, index);
        if group.best.as_ref().is_none_or(|b| key < b.key()) {
            group.best = Some(Best {
                role: member_role,
                rank: member_rank,
                error_id: error_id.to_string(),
                fingerprint: fingerprint.to_owned(),
                index,
            });
        }
        group.error_ids.push(error_id);
        for (at, name) in names.iter().enumerate().skip(1) {
            let object = occurrence.getattr(name)?;
            let slot = group_index * listed_fields + at - 1;
            if last[slot].as_ref().is_some_and(|seen| seen.is(&object)) {
                continue;
            }
            let Some(value) = Listed::read(&object) else {
                return Ok(None);
            };
            if let Some(value) = value {
                if *kinds[at].get_or_insert(value.kind()) != value.kind() {
                    return Ok(None);
                }
                group.values[at - 1].push(value);
            }
            last[slot] = Some(object);
        }
    }
    Ok(Some(Members {
        groups: Mutex::new(Some(read)),
        fields: listed_fields,
    }))
}

#[pymethods]
impl Members {
    /// Per cluster (`cluster_of` gives each group's cluster index): the representative's
    /// position and, for each field, the values as `_distinct_values` lists them. Once.
    fn listings(
        &self,
        py: Python<'_>,
        cluster_of: Vec<usize>,
        clusters: usize,
    ) -> PyResult<Vec<(usize, Vec<Py<PyTuple>>)>> {
        let groups = self
            .groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| PyValueError::new_err("these members were listed already"))?;
        if cluster_of.len() != groups.len() {
            return Err(PyValueError::new_err("one cluster per group"));
        }
        let mut merged: Vec<Group> = (0..clusters).map(|_| Group::new(self.fields)).collect();
        for (group, &cluster) in groups.into_iter().zip(&cluster_of) {
            let Some(into) = merged.get_mut(cluster) else {
                return Err(PyValueError::new_err(format!(
                    "cluster index {cluster} out of range"
                )));
            };
            if into.best.is_none() && into.error_ids.is_empty() {
                *into = group; // the cluster's first group: taken as it is
            } else {
                into.absorb(group);
            }
        }
        // Sorted outside the GIL, on two threads where there is much to sort: the rest of the
        // stage waits for this one.
        if merged.iter().map(|g| g.error_ids.len()).sum::<usize>() >= MIN_PARALLEL_SORT {
            py.detach(|| merged.par_iter_mut().for_each(Group::sort))
        } else {
            merged.iter_mut().for_each(Group::sort)
        }
        let mut listed = Vec::with_capacity(clusters);
        for group in merged {
            let Some(representative) = group.best.map(|b| b.index) else {
                return Err(PyValueError::new_err("a cluster without members"));
            };
            // Moved into the tuples: no reference count of a million strings is touched.
            let ids = group.error_ids.into_iter().map(|id| {
                let Ok(id) = id.into_pyobject(py);
                id.into_any().unbind()
            });
            let mut tuples = vec![untracked_tuple(py, ids)?];
            for field in group.values {
                let objects = field
                    .into_iter()
                    .map(|v| v.into_py(py))
                    .collect::<PyResult<Vec<_>>>()?;
                tuples.push(untracked_tuple(py, objects)?);
            }
            listed.push((representative, tuples));
        }
        Ok(listed)
    }
}

#[pymodule]
fn error_assets_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ENGINE_VERSION", ENGINE_VERSION)?;
    m.add_class::<Normalizer>()?;
    m.add_class::<KeyTokenizer>()?;
    m.add_class::<Members>()?;
    m.add_function(wrap_pyfunction!(read_members, m)?)?;
    m.add_function(wrap_pyfunction!(leaders::indel_ratio_at_least, m)?)?;
    Ok(())
}
