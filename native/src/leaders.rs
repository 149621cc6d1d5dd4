//! `similarity.LeaderIndex` as `clustering.assign_cluster_ids` runs it: history seeds added
//! first, then each new text joins its most similar near-duplicate leader or becomes one.
//!
//! Step for step the Python procedure (token order, prefix, block, candidate cap, sorted
//! candidates, earliest best); rapidfuzz's Indel distance comes from the `rapidfuzz` crate
//! (the same library as Python's), and its ratio is computed with Python rapidfuzz's own
//! floating-point steps, so thresholds and ties fall the same way. Parity tests compare both.

use pyo3::prelude::*;
use rapidfuzz::distance::indel;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// One profile as the index reads it: token ids (interned strings of the call).
struct Item<'a> {
    text: &'a str,
    block: usize,
    tokens: Vec<u32>, // by id, for the Jaccard intersection
    prefix: Vec<u32>, // the rarest tokens, in rank order ("" when it has none)
}

/// What the thresholds of `similarity` say (Jaccard, ratio, candidates per text).
pub struct Thresholds {
    jaccard: f64,
    ratio: f64,
    max_candidates: usize,
}

/// Python rapidfuzz's `fuzz.ratio(a, b, score_cutoff)` >= `cutoff`, and `fuzz.ratio(a, b)`:
/// None when below. The distance is searched only up to the bound rapidfuzz itself uses.
fn ratio_at_least(
    comparator: &indel::BatchComparator<char>,
    a_len: usize,
    b: &str,
    cutoff: f64,
) -> Option<f64> {
    let b_len = b.chars().count();
    let maximum = a_len + b_len;
    // rapidfuzz: normalized-distance cutoff = min(1, 1 - sim_cutoff + 1e-5), ceil'd to chars.
    let norm_cutoff = (1.0 - cutoff / 100.0 + 0.00001).min(1.0);
    let bound = (maximum as f64 * norm_cutoff).ceil() as usize;
    let distance =
        comparator.distance_with_args(b.chars(), &indel::Args::default().score_cutoff(bound))?;
    let norm_distance = if maximum == 0 {
        0.0
    } else {
        distance as f64 / maximum as f64
    };
    let similarity = 1.0 - norm_distance;
    (similarity >= cutoff / 100.0 && similarity * 100.0 >= cutoff).then_some(similarity * 100.0)
}

fn prefix_length(size: usize, threshold: f64) -> usize {
    if size == 0 {
        return 0;
    }
    size - (threshold * size as f64).ceil() as usize + 1
}

/// One profile as the index takes it: the normalised text, its (canonical) source kind, its
/// key tokens, word tokens and first-line words.
pub struct Parts<'a> {
    pub text: &'a str,
    pub kind: &'a str,
    pub keys: Vec<&'a str>,
    pub tokens: Vec<&'a str>,
    pub head: Vec<&'a str>,
}

impl Thresholds {
    pub fn new(jaccard: f64, ratio: f64, max_candidates: usize) -> Self {
        Thresholds {
            jaccard,
            ratio,
            max_candidates,
        }
    }
}

/// The id of `token`, given on first sight.
fn intern<'a>(ids: &mut HashMap<&'a str, u32>, names: &mut Vec<&'a str>, token: &'a str) -> u32 {
    let next = names.len() as u32;
    *ids.entry(token).or_insert_with(|| {
        names.push(token);
        next
    })
}

/// For each profile after the first `seeds`: the position (in `profiles`) of the leader it
/// joins, its own position when it leads a new cluster. Seeds are added as leaders first.
pub fn assign<'a>(profiles: &[Parts<'a>], seeds: usize, thresholds: &Thresholds) -> Vec<usize> {
    let seeds = seeds.min(profiles.len());
    // Token ids; "" is the placeholder prefix of a text without tokens (as in Python).
    let mut ids: HashMap<&str, u32> = HashMap::default();
    let mut names: Vec<&str> = Vec::new();
    let empty = intern(&mut ids, &mut names, "");
    let mut interned: Vec<(Vec<u32>, Vec<u32>, Vec<u32>)> = Vec::with_capacity(profiles.len());
    for parts in profiles {
        let mut set = |values: &[&'a str]| -> Vec<u32> {
            let mut found: Vec<u32> = values
                .iter()
                .map(|v| intern(&mut ids, &mut names, v))
                .collect();
            found.sort_unstable();
            found.dedup(); // the engine's word lists may repeat a word
            found
        };
        interned.push((set(&parts.keys), set(&parts.tokens), set(&parts.head)));
    }
    // The global order: rarer first, ties by the token itself (`LeaderIndex.for_texts`).
    let mut frequency = vec![0usize; names.len()];
    for (_, tokens, _) in &interned {
        for &token in tokens {
            frequency[token as usize] += 1;
        }
    }
    let mut order: Vec<u32> = (0..names.len() as u32)
        .filter(|&t| frequency[t as usize] > 0)
        .collect();
    order.sort_unstable_by(|&a, &b| {
        (frequency[a as usize], names[a as usize]).cmp(&(frequency[b as usize], names[b as usize]))
    });
    let mut rank = vec![usize::MAX; names.len()];
    for (place, &token) in order.iter().enumerate() {
        rank[token as usize] = place;
    }
    let mut blocks: HashMap<(&str, &[u32], &[u32]), usize> = HashMap::default();
    let items: Vec<Item<'_>> = profiles
        .iter()
        .zip(&interned)
        .map(|(parts, (keys, tokens, head))| {
            let count = blocks.len();
            let block = *blocks
                .entry((parts.kind, keys.as_slice(), head.as_slice()))
                .or_insert(count);
            let prefix = if tokens.is_empty() {
                vec![empty]
            } else {
                let mut ordered = tokens.clone();
                ordered.sort_unstable_by_key(|&t| rank[t as usize]);
                ordered.truncate(prefix_length(ordered.len(), thresholds.jaccard));
                ordered
            };
            Item {
                text: parts.text,
                block,
                tokens: tokens.clone(),
                prefix,
            }
        })
        .collect();

    let mut leaders: Vec<usize> = Vec::new(); // profile position of each leader
    let mut postings: Vec<HashMap<u32, Vec<usize>>> = vec![HashMap::default(); blocks.len()];
    let add = |leaders: &mut Vec<usize>, postings: &mut [HashMap<u32, Vec<usize>>], at: usize| {
        let position = leaders.len();
        leaders.push(at);
        let block = &mut postings[items[at].block];
        for &token in &items[at].prefix {
            block.entry(token).or_default().push(position);
        }
    };
    for at in 0..seeds {
        add(&mut leaders, &mut postings, at);
    }
    let mut assigned = Vec::with_capacity(profiles.len() - seeds);
    for at in seeds..profiles.len() {
        let found = best_match(&items, at, &leaders, &postings, thresholds);
        match found {
            Some(leader) => assigned.push(leader),
            None => {
                add(&mut leaders, &mut postings, at);
                assigned.push(at);
            }
        }
    }
    assigned
}

/// `LeaderIndex.best_match`: the profile position of the most similar near-duplicate leader.
fn best_match(
    items: &[Item<'_>],
    at: usize,
    leaders: &[usize],
    postings: &[HashMap<u32, Vec<usize>>],
    thresholds: &Thresholds,
) -> Option<usize> {
    let item = &items[at];
    let block = &postings[item.block];
    if block.is_empty() {
        return None;
    }
    let mut seen: HashSet<usize> = HashSet::default();
    'tokens: for token in &item.prefix {
        for &position in block.get(token).map_or(&[][..], Vec::as_slice) {
            seen.insert(position);
            if seen.len() >= thresholds.max_candidates {
                break 'tokens;
            }
        }
    }
    let mut candidates: Vec<usize> = seen.into_iter().collect();
    candidates.sort_unstable();
    // Built for the first candidate that passes the Jaccard filter (most texts have none).
    let mut comparator: Option<(indel::BatchComparator<char>, usize)> = None;
    let mut best: Option<(f64, usize)> = None;
    for position in candidates {
        let leader = &items[leaders[position]];
        if jaccard(&item.tokens, &leader.tokens) < thresholds.jaccard {
            continue;
        }
        let (comparator, length) = comparator.get_or_insert_with(|| {
            let chars = item.text.chars();
            (indel::BatchComparator::new(chars.clone()), chars.count())
        });
        let Some(score) = ratio_at_least(comparator, *length, leader.text, thresholds.ratio) else {
            continue;
        };
        if best.is_none_or(|(top, _)| score > top) {
            best = Some((score, position));
        }
    }
    best.map(|(_, position)| leaders[position])
}

/// `similarity.jaccard` of two id sets sorted by id.
fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// `fuzz.ratio(a, b)` >= `cutoff` as the index decides it (None below), for parity tests.
#[pyfunction]
pub fn indel_ratio_at_least(a: &str, b: &str, cutoff: f64) -> Option<f64> {
    let comparator = indel::BatchComparator::new(a.chars());
    ratio_at_least(&comparator, a.chars().count(), b, cutoff)
}
