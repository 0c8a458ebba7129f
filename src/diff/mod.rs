//! The impact of a policy change on a population: every person decided
//! under an old and a new version of a policy in one pass, and what
//! changed (`policyc diff`).
//!
//! A [`Differ`] decides one person under both versions, reading the record
//! once when the two schemas read it alike, and counts the pair of
//! verdicts (outcome and deciding rule) in a [`Tally`]. Tallies of any
//! parts of the input add up ([`Tally::merge`]); [`run`] goes through JSON
//! Lines on all cores with the stream engine, and another record source
//! feeds [`Differ::person`] itself. Each changed pair keeps a seeded sample
//! of its people (those with the smallest hash of seed and line, so the
//! sample depends on neither the order nor the threads), which
//! [`Differ::report`] explains under both versions once the pass is done.
//! With a horizon, the people whose verdict is the same now are also
//! followed through their changes until the horizon ends, and those whose
//! two timelines part are counted by the instant they part.

mod condition;
mod html;
mod kinds;
mod report;
mod table;
mod tally;

use std::io::BufRead;

pub use condition::{Comparison, Condition, ConditionError, Subject};
pub use report::{
    About, Bucket, Checked, ErrorLine, Errors, Horizon, KindMatrix, Matrix, Named, Parting,
    PayloadKind, Report, RuleChange, RuleSide, Sample, Transition,
};
pub use tally::{BadRecord, Tally};

use tally::{ERRORS_KEPT, Kept, add, hash, offer, sample_of};

use crate::data::Decoded;
use crate::eval::{Budget, Evaluator, what_if};
use crate::stream::{self, Options, Record, Sink, StreamError, Work};
use crate::{DataError, Facts, Policy};

/// One version of the policy, with its facts.
#[derive(Clone, Copy)]
pub struct Version<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// Its facts for the run.
    pub facts: &'a Facts,
}

/// What a diff looks for beyond the verdicts now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The people kept, and explained, for each changed transition.
    pub sample: usize,
    /// The seed of the sample.
    pub seed: u64,
    /// How far ahead to compare the decisions of the people whose decision
    /// is the same now, in microseconds.
    pub horizon: Option<i64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            sample: 3,
            seed: 0,
            horizon: None,
        }
    }
}

/// How a person came out under one version: the outcome and the deciding
/// rule (`None`: `otherwise`), by index in that version's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Verdict {
    /// The outcome.
    pub outcome: usize,
    /// The rule that decided.
    pub rule: Option<usize>,
}

/// The verdicts of one person, old and new; `None` where the person could
/// not be decided.
pub type Pair = (Option<Verdict>, Option<Verdict>);

/// The most changes followed per person and version within the horizon.
const HORIZON_CHANGES: usize = crate::TIMELINE_LIMIT;

/// Decides people under two versions of a policy; shared freely (it only
/// reads).
pub struct Differ<'a> {
    old: Version<'a>,
    new: Version<'a>,
    now: i64,
    settings: Settings,
    /// Whether a record read by the old version is read alike by the new.
    shared: bool,
    /// Whether it also has the same constraints (`requiring`) under both.
    same_constraints: bool,
    /// The new version's index of each old outcome and rule, by name.
    outcomes: Vec<Option<usize>>,
    rules: Vec<Option<usize>>,
    /// The length of a bucket of the horizon, and how many there are.
    bucket: i64,
    buckets: usize,
    /// How each version's decisions get their payload kind.
    kinds: (kinds::Kinds, kinds::Kinds),
}

/// The most buckets a horizon is cut into.
const MAX_BUCKETS: i64 = 366;

impl<'a> Differ<'a> {
    /// Decides under `old` and `new` at `now`, looking for what `settings`
    /// asks.
    pub fn new(old: Version<'a>, new: Version<'a>, now: i64, settings: Settings) -> Self {
        let (a, b) = (old.policy.program(), new.policy.program());
        let outcomes = a
            .outcomes
            .iter()
            .map(|o| b.outcomes.iter().position(|p| p == o))
            .collect();
        let rules = a
            .rules
            .iter()
            .map(|r| b.rules.iter().position(|s| s.name == r.name))
            .collect();
        let (bucket, buckets) = buckets(settings.horizon.unwrap_or(0));
        Differ {
            old,
            new,
            now,
            settings,
            shared: old.policy.reads_as(new.policy),
            same_constraints: a.input == b.input,
            outcomes,
            rules,
            bucket,
            buckets,
            kinds: (kinds::Kinds::new(old.policy), kinds::Kinds::new(new.policy)),
        }
    }

    /// Whether each record is read once for both versions.
    pub fn shares_reading(&self) -> bool {
        self.shared
    }

    /// The two versions.
    pub fn versions(&self) -> (Version<'a>, Version<'a>) {
        (self.old, self.new)
    }

    /// Whether an old verdict and a new one are the same: the same outcome
    /// and deciding rule, by name.
    pub fn same(&self, old: Verdict, new: Verdict) -> bool {
        let outcome = self.outcomes.get(old.outcome).copied().flatten();
        let rule = old.rule.map(|r| self.rules.get(r).copied().flatten());
        outcome == Some(new.outcome)
            && match (rule, new.rule) {
                (None, None) => true,
                (Some(r), Some(n)) => r == Some(n),
                _ => false,
            }
    }

    /// Adds one person's JSON record, read once when both versions read it
    /// alike (then each checks its own constraints).
    pub fn json(&self, tally: &mut Tally, line: usize, text: &str) {
        let (a, b) = (self.old.policy, self.new.policy);
        if self.shared {
            return self.decoded(tally, line, a.read_json(text));
        }
        let old = a.read_json(text).and_then(|d| a.checked(d));
        let new = b.read_json(text).and_then(|d| b.checked(d));
        self.person(tally, line, old, new);
    }

    /// Adds one person decoded once for both versions (from JSON or
    /// Parquet), when [`Differ::shares_reading`]: each version checks its own
    /// constraints.
    pub fn decoded(&self, tally: &mut Tally, line: usize, person: Result<Decoded, DataError>) {
        let (a, b) = (self.old.policy, self.new.policy);
        let (old, new) = match person {
            Ok(decoded) => {
                let old = a.check_person(&decoded.value);
                let new = if self.same_constraints {
                    old.clone()
                } else {
                    b.check_person(&decoded.value)
                };
                (old.map(|()| decoded.clone()), new.map(|()| decoded))
            }
            Err(e) => (Err(e.clone()), Err(e)),
        };
        self.person(tally, line, old, new);
    }

    /// Adds a record that could not be read at all.
    pub fn unread(&self, tally: &mut Tally, line: usize, error: DataError) {
        self.person(tally, line, Err(error.clone()), Err(error));
    }

    /// Adds one person, as each version read them (or why it could not).
    pub fn person(
        &self,
        tally: &mut Tally,
        line: usize,
        old: Result<Decoded, DataError>,
        new: Result<Decoded, DataError>,
    ) {
        tally.records += 1;
        let (now, kinds) = (self.now, &self.kinds);
        let old = old.and_then(|d| verdict(self.old, &kinds.0, &d, now).map(|v| (d, v)));
        let new = new.and_then(|d| verdict(self.new, &kinds.1, &d, now).map(|v| (d, v)));
        let ((old, (a, old_kind)), (new, (b, new_kind))) = match (old, new) {
            (Ok(old), Ok(new)) => (old, new),
            (old, new) => {
                let pair = (
                    old.as_ref().ok().map(|o| o.1.0),
                    new.as_ref().ok().map(|n| n.1.0),
                );
                tally.count(pair, 1);
                if tally.errors.len() < ERRORS_KEPT {
                    tally.errors.push(BadRecord {
                        line,
                        old: old.err().map(|e| e.on_line(line)),
                        new: new.err().map(|e| e.on_line(line)),
                    });
                }
                return;
            }
        };
        tally.count((Some(a), Some(b)), 1);
        if kinds.0.any || kinds.1.any {
            tally.kinds.count((old_kind, new_kind), 1);
        }
        let size = self.settings.sample;
        let h = hash(self.settings.seed, line);
        if !self.same(a, b) {
            let sample = sample_of(&mut tally.samples, (Some(a), Some(b)));
            offer(sample, size, (h, line), (old, new), None);
            return;
        }
        let Some(horizon) = self.settings.horizon else {
            return;
        };
        let end = self.now.saturating_add(horizon);
        let (Some(was), Some(will)) = (
            changes(self.old, &old, a, self.now, end),
            changes(self.new, &new, b, self.now, end),
        ) else {
            // Past the budget: the verdicts now stand, the future is unknown.
            return;
        };
        let Some(at) = self.parting(&was, &will) else {
            return;
        };
        tally.parted += 1;
        let bucket = self.bucket_of(at);
        add(&mut tally.parted_by_bucket, &one_at(bucket, self.buckets));
        let differ: Vec<u64> = (1..=self.buckets)
            .map(|i| {
                let t = self
                    .now
                    .saturating_add(self.bucket.saturating_mul(i as i64));
                u64::from(!self.same(at_instant(&was, t), at_instant(&will, t)))
            })
            .collect();
        add(&mut tally.differ_by_bucket, &differ);
        let parts = Some((at, at_instant(&was, at), at_instant(&will, at)));
        offer(
            &mut tally.horizon_sample,
            size,
            (h, line),
            (old, new),
            parts,
        );
    }

    /// The first instant from now on just after which the two timelines
    /// differ (now itself when a window closes exactly then).
    fn parting(&self, was: &[(i64, Verdict)], will: &[(i64, Verdict)]) -> Option<i64> {
        let mut instants: Vec<i64> = was.iter().chain(will).map(|c| c.0).collect();
        instants.sort_unstable();
        instants.dedup();
        instants
            .into_iter()
            .filter(|&t| t >= self.now)
            .find(|&t| !self.same(at_instant(was, t), at_instant(will, t)))
    }

    /// The bucket of the horizon an instant after now falls in.
    fn bucket_of(&self, at: i64) -> usize {
        let i = (at - self.now - 1).max(0) / self.bucket.max(1);
        usize::try_from(i)
            .unwrap_or(0)
            .min(self.buckets.saturating_sub(1))
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The instant of the decisions.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The horizon's buckets: their length and number.
    pub fn buckets(&self) -> (i64, usize) {
        (self.bucket, self.buckets)
    }
}

/// A vector of `n` zeros with a one at `i`.
fn one_at(i: usize, n: usize) -> Vec<u64> {
    (0..n).map(|j| u64::from(i == j)).collect()
}

/// Cuts a horizon into buckets: days, or hours for one under two days,
/// longer when there would be more than [`MAX_BUCKETS`].
fn buckets(horizon: i64) -> (i64, usize) {
    const HOUR: i64 = 3_600_000_000;
    const DAY: i64 = 24 * HOUR;
    if horizon <= 0 {
        return (DAY, 0);
    }
    let unit = if horizon < 2 * DAY { HOUR } else { DAY };
    let mut bucket = unit;
    while horizon / bucket > MAX_BUCKETS {
        bucket = bucket.saturating_mul(2);
    }
    let n = (horizon + bucket - 1) / bucket;
    (bucket, usize::try_from(n).unwrap_or(0))
}

/// The verdict holding just after `t` in a list of changes (the first at
/// now).
fn at_instant(changes: &[(i64, Verdict)], t: i64) -> Verdict {
    let i = changes.partition_point(|c| c.0 <= t);
    changes.get(i.saturating_sub(1)).map_or(
        Verdict {
            outcome: 0,
            rule: None,
        },
        |c| c.1,
    )
}

/// The verdict of a person under one version, and its payload's kind,
/// within the policy's budget.
fn verdict(
    version: Version<'_>,
    kinds: &kinds::Kinds,
    person: &Decoded,
    now: i64,
) -> Result<(Verdict, kinds::Kind), DataError> {
    let policy = version.policy;
    let budget = policy.fresh_budget();
    let evaluator = Evaluator::within(policy.plan(), version.facts, &person.value, now, &budget);
    let (outcome, rule) = evaluator.verdict();
    let kind = kinds.of(rule, &evaluator);
    policy.within_budget(&budget, (Verdict { outcome, rule }, kind))
}

/// The verdicts of a person from now until `end`: `first` at now, then
/// each change up to `end`; `None` when the budget runs out.
fn changes(
    version: Version<'_>,
    person: &Decoded,
    first: Verdict,
    now: i64,
    end: i64,
) -> Option<Vec<(i64, Verdict)>> {
    let policy = version.policy;
    let program = policy.program();
    let budget: Budget = policy.fresh_budget();
    let mut out = vec![(now, first)];
    let mut from = now;
    while out.len() <= HORIZON_CHANGES {
        let Some(change) =
            what_if::next_change_within(policy.plan(), version.facts, &person.value, from, &budget)
        else {
            break;
        };
        if change.at > end {
            break;
        }
        let d = &change.decision;
        let outcome = program.outcomes.iter().position(|o| o == d.outcome);
        let rule = d
            .deciding_rule()
            .and_then(|name| program.rules.iter().position(|r| r.name == name));
        out.push((
            change.at,
            Verdict {
                outcome: outcome?,
                rule,
            },
        ));
        from = change.at.saturating_add(1);
    }
    (!budget.exceeded()).then_some(out)
}

impl Work for Differ<'_> {
    type Done = Tally;

    fn start(&self) -> Tally {
        Tally::default()
    }

    fn bytes(&self, tally: &mut Tally, line: usize, bytes: &[u8]) {
        match stream::text(bytes) {
            Ok(text) => self.json(tally, line, text),
            Err(e) => self.unread(tally, line, e),
        }
    }

    fn other(&self, tally: &mut Tally, record: Record) {
        if let Err(e) = stream::bytes(&record.body) {
            self.unread(tally, record.line, e);
        }
    }
}

/// Merges the tallies of the batches as they come.
struct Merge<'s> {
    tally: Tally,
    settings: &'s Settings,
}

impl Sink<Tally> for Merge<'_> {
    type Error = StreamError;

    fn take(&mut self, done: Tally) -> Result<(), StreamError> {
        self.tally.merge(done, self.settings);
        Ok(())
    }

    fn idle(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
}

/// Decides every person of `input` (JSON Lines, or one JSON object) under
/// both versions, on [`Options::jobs`] threads, and gives the tally of all.
/// A read error ends the run.
pub fn run(
    differ: &Differ<'_>,
    input: impl BufRead + Send,
    options: Options,
) -> Result<Tally, StreamError> {
    let mut merge = Merge {
        tally: Tally::default(),
        settings: &differ.settings,
    };
    stream::each(differ, input, options, &mut merge)?;
    Ok(merge.tally)
}

/// Decides every row of `batches` (Arrow batches of people, as
/// [`crate::columnar::ParquetFile::open_for`] reads them for both
/// versions) under both versions on `jobs` threads, and gives the tally
/// of all. A row is decoded once when the versions read it alike
/// ([`Differ::shares_reading`]), and otherwise by each version as it
/// declares its input, as JSON Lines are: a column only one version
/// declares is only read by it. An error of the input as a whole (a
/// column of the wrong type for either version) ends the run.
pub fn run_rows<E>(
    differ: &Differ<'_>,
    batches: impl Iterator<Item = Result<arrow_array::RecordBatch, crate::columnar::ColumnarError>>
    + Send,
    jobs: std::num::NonZeroUsize,
) -> Result<Tally, E>
where
    E: From<crate::columnar::ColumnarError> + From<std::io::Error>,
{
    use crate::columnar::{Dictionaries, Opened, Rows, in_chunks};
    let settings = &differ.settings;
    let (a, b) = (differ.old.policy, differ.new.policy);
    let mut total = Tally::default();
    let sink = |tally: Tally| {
        total.merge(tally, settings);
        Ok::<(), E>(())
    };
    let shared = differ.shared;
    // Each version keeps the entries of a row group's dictionaries it has
    // read from batch to batch, on each thread.
    let rows = Opened {
        len: arrow_array::RecordBatch::num_rows,
        state: <(Dictionaries, Dictionaries)>::default,
        open: |(old_words, new_words): &mut (Dictionaries, Dictionaries),
               batch: arrow_array::RecordBatch| {
            let old = Rows::after(&batch, a, old_words)?;
            let new = if shared {
                None
            } else {
                Some(Rows::after(&batch, b, new_words)?)
            };
            Ok::<_, crate::columnar::ColumnarError>((old, new))
        },
    };
    in_chunks(batches, jobs, sink, rows, |(old, new), before, range| {
        let mut tally = Tally::default();
        match new {
            None => old.decode_each(range, |i, person| {
                differ.decoded(&mut tally, before + i + 1, person);
            }),
            Some(new) => {
                let mut news = new.decode_range(range.clone()).into_iter();
                old.decode_each(range, |i, old| {
                    let new = news.next().unwrap_or_else(|| new.decode(i));
                    let old = old.and_then(|d| a.checked(d));
                    let new = new.and_then(|d| b.checked(d));
                    differ.person(&mut tally, before + i + 1, old, new);
                });
            }
        }
        tally
    })?;
    Ok(total)
}

#[cfg(test)]
mod tests;
