//! What a pass over part of the input gathers: counts by pair of
//! verdicts, the seeded samples and the horizon's counts, which add up
//! from any parts in any order.

use super::kinds::KindCounts;
use super::{Pair, Settings, Verdict};
use crate::DataError;
use crate::data::Decoded;

/// The most bad records whose errors a tally keeps (all are counted).
pub(super) const ERRORS_KEPT: usize = 20;

/// A record that could not be decided under one version or both.
#[derive(Debug, Clone)]
pub struct BadRecord {
    /// Its first line in the input.
    pub line: usize,
    /// The error under the old version.
    pub old: Option<DataError>,
    /// The error under the new version.
    pub new: Option<DataError>,
}

/// A person kept for a sample: the records as each version read them.
#[derive(Debug, Clone)]
pub(super) struct Kept {
    pub(super) hash: u64,
    pub(super) line: usize,
    pub(super) old: Decoded,
    pub(super) new: Decoded,
    /// For the horizon's sample: when the two decisions part, and the
    /// verdicts then.
    pub(super) parts: Option<(i64, Verdict, Verdict)>,
}

/// What a part of the input gave: counts by pair of verdicts, the samples,
/// the first bad records, and the horizon's counts.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// The records read.
    pub records: u64,
    /// How many people had each pair of verdicts.
    pub(super) pairs: Vec<(Pair, u64)>,
    /// The samples of the changed pairs.
    pub(super) samples: Vec<(Pair, Vec<Kept>)>,
    /// The first bad records.
    pub(super) errors: Vec<BadRecord>,
    /// The people whose decisions part within the horizon: how many, and
    /// when, by bucket of the horizon.
    pub(super) parted: u64,
    pub(super) parted_by_bucket: Vec<u64>,
    /// How many people's decisions differ at the end of each bucket.
    pub(super) differ_by_bucket: Vec<u64>,
    pub(super) horizon_sample: Vec<Kept>,
    /// How many people decided under both had each pair of payload kinds.
    pub(super) kinds: KindCounts,
}

impl Tally {
    /// Adds the counts and samples of `other`, a tally of other records;
    /// with the same settings, the order in which tallies are merged does
    /// not change the result, except which bad records are kept.
    pub fn merge(&mut self, other: Tally, settings: &Settings) {
        self.records += other.records;
        for (pair, n) in other.pairs {
            self.count(pair, n);
        }
        for (pair, kept) in other.samples {
            for k in kept {
                keep(sample_of(&mut self.samples, pair), k, settings.sample);
            }
        }
        let room = ERRORS_KEPT.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
        self.parted += other.parted;
        add(&mut self.parted_by_bucket, &other.parted_by_bucket);
        add(&mut self.differ_by_bucket, &other.differ_by_bucket);
        for k in other.horizon_sample {
            keep(&mut self.horizon_sample, k, settings.sample);
        }
        self.kinds.merge(other.kinds);
    }

    pub(super) fn count(&mut self, pair: Pair, n: u64) {
        match self.pairs.iter_mut().find(|(p, _)| *p == pair) {
            Some((_, count)) => *count += n,
            None => self.pairs.push((pair, n)),
        }
    }
}

/// Adds `b` to `a`, element by element.
pub(super) fn add(a: &mut Vec<u64>, b: &[u64]) {
    if a.len() < b.len() {
        a.resize(b.len(), 0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// The sample of `pair`, made if it has none yet.
pub(super) fn sample_of(samples: &mut Vec<(Pair, Vec<Kept>)>, pair: Pair) -> &mut Vec<Kept> {
    let at = match samples.iter().position(|(p, _)| *p == pair) {
        Some(at) => at,
        None => {
            samples.push((pair, Vec::new()));
            samples.len() - 1
        }
    };
    &mut samples[at].1
}

/// Whether a person with `hash` would enter a sample of `size`.
pub(super) fn enters(sample: &[Kept], hash: u64, size: usize) -> bool {
    sample.len() < size || sample.last().is_some_and(|k| hash < k.hash)
}

/// Keeps `k` if it is among the `size` smallest hashes, sorted by hash.
pub(super) fn keep(sample: &mut Vec<Kept>, k: Kept, size: usize) {
    if !enters(sample, k.hash, size) {
        return;
    }
    let at = sample.partition_point(|o| (o.hash, o.line) < (k.hash, k.line));
    if sample.get(at).is_some_and(|o| o.line == k.line) {
        return;
    }
    sample.insert(at, k);
    sample.truncate(size);
}

/// Keeps the person of `line`, whose place in the sample is `hash`, if
/// they enter it.
pub(super) fn offer(
    sample: &mut Vec<Kept>,
    size: usize,
    (hash, line): (u64, usize),
    (old, new): (Decoded, Decoded),
    parts: Option<(i64, Verdict, Verdict)>,
) {
    if enters(sample, hash, size) {
        let k = Kept {
            hash,
            line,
            old,
            new,
            parts,
        };
        keep(sample, k, size);
    }
}

/// splitmix64 of the seed and the line: the person's place in the sample.
pub(super) fn hash(seed: u64, line: usize) -> u64 {
    let mut z = seed ^ (line as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
