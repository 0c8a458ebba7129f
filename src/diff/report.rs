//! What a diff found, as data: the report that the terminal table, the
//! JSON and the HTML page all show.

use serde::Serialize;

use super::kinds::{Kind, KindCounts, Kinds};
use super::{BadRecord, Differ, Kept, Pair, Tally, Verdict, Version};
use crate::eval::RuleState;
use crate::explain::{Explanation, Words};
use crate::time::{format_duration, format_instant};
use crate::witness;

/// A diff's findings; its JSON is documented in docs/contract.md.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The old version.
    pub old: About,
    /// The new version.
    pub new: About,
    /// The instant of the decisions.
    pub now: String,
    /// The records read.
    pub people: u64,
    /// Those decided under both versions: what shares are of.
    pub decided: u64,
    /// Those decided under both whose outcome or deciding rule changed.
    pub changed: u64,
    /// The records that could not be decided under one version or both.
    pub errors: Errors,
    /// The transition matrix of outcomes.
    pub outcomes: Matrix,
    /// The transition matrix of outcomes with their payload's `kind`, when
    /// a version's payloads have one.
    pub kinds: Option<KindMatrix>,
    /// Every pair of verdicts that some person has, the most common first,
    /// each changed one with its sample.
    pub transitions: Vec<Transition>,
    /// The people whose decision is the same now and parts within the
    /// horizon, when one was asked for.
    pub horizon: Option<Horizon>,
    /// The `--fail-if` conditions and whether each holds.
    pub conditions: Vec<Checked>,
}

/// One version of the policy, as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct About {
    /// Where it was read from.
    pub file: String,
    /// `policy NAME`.
    pub policy: String,
    /// `version "..."`, if it says.
    pub version: Option<String>,
}

/// The records that could not be decided.
#[derive(Debug, Clone, Serialize)]
pub struct Errors {
    /// Under the old version only.
    pub old_only: u64,
    /// Under the new version only.
    pub new_only: u64,
    /// Under both.
    pub both: u64,
    /// The first few, in input order.
    pub first: Vec<ErrorLine>,
}

/// A record that could not be decided, and why under each version.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorLine {
    /// Its line in the input.
    pub line: usize,
    /// The error under the old version, if any.
    pub old: Option<String>,
    /// The error under the new version, if any.
    pub new: Option<String>,
}

/// Outcomes under the old version (rows) against the new (columns).
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// The old version's outcomes.
    pub old: Vec<String>,
    /// The new version's outcomes.
    pub new: Vec<String>,
    /// `counts[i][j]`: the people with old outcome `i` and new `j`.
    pub counts: Vec<Vec<u64>>,
}

/// Outcomes with their payload's `kind` under the old version (rows)
/// against the new (columns).
#[derive(Debug, Clone, Serialize)]
pub struct KindMatrix {
    /// The old version's kinds: those its rules give as constants, in the
    /// order of its rules, then those computed, in order.
    pub old: Vec<PayloadKind>,
    /// The new version's.
    pub new: Vec<PayloadKind>,
    /// `counts[i][j]`: the people with old kind `i` and new `j`.
    pub counts: Vec<Vec<u64>>,
}

/// An outcome and its payload's `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadKind {
    /// The outcome; `None` stands for every computed kind past the first
    /// 64 (counted together).
    pub outcome: Option<String>,
    /// The kind, as text; `None` where the payload has none.
    pub kind: Option<String>,
}

/// An outcome and the rule that gave it (`None`: `otherwise`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    /// The outcome.
    pub outcome: String,
    /// The deciding rule.
    pub rule: Option<String>,
}

/// The people with one pair of verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    /// Their verdict under the old version.
    pub old: Named,
    /// Under the new.
    pub new: Named,
    /// How many.
    pub count: u64,
    /// Their share of the people decided under both.
    pub share: f64,
    /// Whether the verdict changed.
    pub changed: bool,
    /// For a change, a seeded sample of the people, each explained.
    pub sample: Vec<Sample>,
}

/// A sampled person, with why their decision differs.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Their line in the input.
    pub line: usize,
    /// Their `id`, if the record has one.
    pub id: Option<String>,
    /// For the horizon's sample: when the decisions part, and to what.
    pub parts: Option<Parting>,
    /// Every rule whose state differs between the versions, with its
    /// records under each.
    pub rules: Vec<RuleChange>,
    /// The explanation under the old version, in its words.
    pub old: String,
    /// The explanation under the new version, in its words.
    pub new: String,
}

/// When two decisions that agree now part.
#[derive(Debug, Clone, Serialize)]
pub struct Parting {
    /// The instant just after which they differ.
    pub at: String,
    /// The old version's verdict then.
    pub old: Named,
    /// The new version's verdict then.
    pub new: Named,
}

/// A rule that came out differently.
#[derive(Debug, Clone, Serialize)]
pub struct RuleChange {
    /// Its name.
    pub rule: String,
    /// Its title in the new version's words (or the old's, if it is gone).
    pub title: String,
    /// How it came out under the old version (`None`: it has no such rule).
    pub old: Option<RuleSide>,
    /// Under the new.
    pub new: Option<RuleSide>,
}

/// How a rule came out under one version, and the records behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSide {
    /// `applies`, `does_not_apply` or `excepted`.
    pub state: &'static str,
    /// Why its condition held or did not, as the contract's `because`.
    pub because: Vec<String>,
    /// Why its exception held or did not, when it was looked at.
    pub unless: Vec<String>,
}

/// The people whose decision is the same now and parts within the horizon.
#[derive(Debug, Clone, Serialize)]
pub struct Horizon {
    /// How far ahead, as a duration (`14d`).
    pub within: String,
    /// How many people's decisions part.
    pub people: u64,
    /// The length of each bucket of the horizon (`1d`).
    pub bucket: String,
    /// Each bucket, in order.
    pub buckets: Vec<Bucket>,
    /// A seeded sample of the people, each with when.
    pub sample: Vec<Sample>,
}

/// One stretch of the horizon.
#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    /// Its end.
    pub until: String,
    /// The people whose decisions part in it.
    pub parting: u64,
    /// The people whose decisions differ at its end.
    pub differing: u64,
}

/// A `--fail-if` condition, its value and whether it holds.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// As written.
    pub condition: String,
    /// The people it counts.
    pub count: u64,
    /// Their share of the people decided under both.
    pub share: f64,
    /// Whether it holds (then the run fails).
    pub holds: bool,
}

/// A share rounded to six decimals, so that reports read the same
/// everywhere.
pub(super) fn share(count: u64, of: u64) -> f64 {
    if of == 0 {
        return 0.0;
    }
    (count as f64 / of as f64 * 1e6).round() / 1e6
}

impl Differ<'_> {
    /// The report of a whole run's tally: the counts, and each sampled
    /// person explained under both versions in `words` (old, new). `files`
    /// name the two versions.
    pub fn report(
        &self,
        tally: Tally,
        files: (&str, &str),
        words: (&Words<'_>, &Words<'_>),
    ) -> Report {
        let (old, new) = (self.old.policy.program(), self.new.policy.program());
        let about = |file: &str, p: &crate::check::Program| About {
            file: file.to_owned(),
            policy: p.name.clone(),
            version: p.version.clone(),
        };
        let mut counts = vec![vec![0; new.outcomes.len()]; old.outcomes.len()];
        let (mut decided, mut changed) = (0, 0);
        let mut errors = Errors {
            old_only: 0,
            new_only: 0,
            both: 0,
            first: tally.errors.iter().map(error_line).collect(),
        };
        let mut pairs = tally.pairs;
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut transitions = Vec::new();
        for &((a, b), n) in &pairs {
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (a, b),
                (None, None) => {
                    errors.both += n;
                    continue;
                }
                (None, Some(_)) => {
                    errors.old_only += n;
                    continue;
                }
                (Some(_), None) => {
                    errors.new_only += n;
                    continue;
                }
            };
            decided += n;
            if let Some(cell) = counts.get_mut(a.outcome).and_then(|r| r.get_mut(b.outcome)) {
                *cell += n;
            }
            let is_change = !self.same(a, b);
            if is_change {
                changed += n;
            }
            transitions.push((a, b, n, is_change));
        }
        let mut samples = tally.samples;
        let transitions = transitions
            .into_iter()
            .map(|(a, b, count, is_change)| {
                let pair: Pair = (Some(a), Some(b));
                let kept = samples
                    .iter_mut()
                    .find(|(p, _)| *p == pair)
                    .map(|(_, k)| std::mem::take(k))
                    .unwrap_or_default();
                Transition {
                    old: named(self.old, a),
                    new: named(self.new, b),
                    count,
                    share: share(count, decided),
                    changed: is_change,
                    sample: kept.iter().map(|k| self.sample(k, words)).collect(),
                }
            })
            .collect();
        let horizon = self.settings.horizon.map(|within| {
            let (bucket, n) = self.buckets();
            let tz = &old.timezone;
            Horizon {
                within: format_duration(within),
                people: tally.parted,
                bucket: format_duration(bucket),
                buckets: (0..n)
                    .map(|i| Bucket {
                        until: format_instant(
                            self.now.saturating_add(bucket.saturating_mul(i as i64 + 1)),
                            tz,
                        ),
                        parting: tally.parted_by_bucket.get(i).copied().unwrap_or(0),
                        differing: tally.differ_by_bucket.get(i).copied().unwrap_or(0),
                    })
                    .collect(),
                sample: tally
                    .horizon_sample
                    .iter()
                    .map(|k| self.sample(k, words))
                    .collect(),
            }
        });
        Report {
            old: about(files.0, old),
            new: about(files.1, new),
            now: format_instant(self.now, &old.timezone),
            people: tally.records,
            decided,
            changed,
            errors,
            outcomes: Matrix {
                old: old.outcomes.clone(),
                new: new.outcomes.clone(),
                counts,
            },
            kinds: self.kind_matrix(tally.kinds),
            transitions,
            horizon,
            conditions: Vec::new(),
        }
    }

    /// The matrix of payload kinds, if a version's payloads have one.
    fn kind_matrix(&self, counts: KindCounts) -> Option<KindMatrix> {
        let (a, b) = &self.kinds;
        if !a.any && !b.any {
            return None;
        }
        let axis = |known: &Kinds, side: fn(&(Kind, Kind)) -> &Kind| {
            let mut seen: Vec<Kind> = (0..known.known.len()).map(Kind::Known).collect();
            let mut others: Vec<Kind> = (counts.pairs.iter())
                .map(|(p, _)| side(p).clone())
                .filter(|k| !matches!(k, Kind::Known(_)))
                .collect();
            others.sort();
            others.dedup();
            seen.extend(others);
            seen
        };
        let rows = axis(a, |p| &p.0);
        let columns = axis(b, |p| &p.1);
        let mut cells = vec![vec![0; columns.len()]; rows.len()];
        for ((old, new), n) in &counts.pairs {
            let i = rows.iter().position(|k| k == old);
            let j = columns.iter().position(|k| k == new);
            if let Some(cell) = i.zip(j).and_then(|(i, j)| cells.get_mut(i)?.get_mut(j)) {
                *cell += n;
            }
        }
        let named = |version: Version<'_>, kinds: &Kinds, k: &Kind| {
            let outcomes = &version.policy.program().outcomes;
            let (outcome, text) = match k {
                Kind::Known(i) => match kinds.known.get(*i) {
                    Some((o, t)) => (Some(*o), t.clone()),
                    None => (None, None),
                },
                Kind::Other(o, t) => (Some(*o), t.clone()),
                Kind::More => (None, None),
            };
            PayloadKind {
                outcome: outcome.and_then(|o| outcomes.get(o).cloned()),
                kind: text.map(|t| t.to_string()),
            }
        };
        Some(KindMatrix {
            old: rows.iter().map(|k| named(self.old, a, k)).collect(),
            new: columns.iter().map(|k| named(self.new, b, k)).collect(),
            counts: cells,
        })
    }

    /// A kept person, explained under both versions.
    fn sample(&self, kept: &Kept, (old_words, new_words): (&Words<'_>, &Words<'_>)) -> Sample {
        let old = self
            .old
            .policy
            .explain_record(self.old.facts, &kept.old, self.now);
        let new = self
            .new
            .policy
            .explain_record(self.new.facts, &kept.new, self.now);
        let text = |e: &Result<Explanation<'_>, crate::DataError>, words: &Words<'_>| match e {
            Ok(e) => e.render(words),
            Err(e) => e.to_string(),
        };
        let id = old
            .as_ref()
            .ok()
            .and_then(|e| e.decision.id.as_deref().map(str::to_owned));
        let rules = match (&old, &new) {
            (Ok(o), Ok(n)) => rule_changes(o, n, new_words, old_words),
            _ => Vec::new(),
        };
        let tz = &self.old.policy.program().timezone;
        Sample {
            line: kept.line,
            id,
            parts: kept.parts.map(|(at, a, b)| Parting {
                at: format_instant(at, tz),
                old: named(self.old, a),
                new: named(self.new, b),
            }),
            rules,
            old: text(&old, old_words),
            new: text(&new, new_words),
        }
    }
}

/// A bad record as the report gives it.
fn error_line(bad: &BadRecord) -> ErrorLine {
    ErrorLine {
        line: bad.line,
        old: bad.old.as_ref().map(ToString::to_string),
        new: bad.new.as_ref().map(ToString::to_string),
    }
}

/// A verdict by name.
fn named(version: Version<'_>, v: Verdict) -> Named {
    let program = version.policy.program();
    Named {
        outcome: program.outcomes.get(v.outcome).cloned().unwrap_or_default(),
        rule: v
            .rule
            .and_then(|r| program.rules.get(r))
            .map(|r| r.name.clone()),
    }
}

/// The rules whose state differs between two explanations of one person,
/// in the new version's order, then those only the old one has.
fn rule_changes(
    old: &Explanation<'_>,
    new: &Explanation<'_>,
    words: &Words<'_>,
    old_words: &Words<'_>,
) -> Vec<RuleChange> {
    let side = |e: &Explanation<'_>, name: &str| {
        let tz = &e.decision.policy.timezone;
        e.rules
            .iter()
            .find(|r| r.rule.name == name)
            .map(|r| RuleSide {
                state: match r.state {
                    RuleState::Fired => "applies",
                    RuleState::NotMet => "does_not_apply",
                    RuleState::Excepted => "excepted",
                },
                because: witness::because(&r.witnesses, tz),
                unless: witness::because(&r.exception, tz),
            })
    };
    let names = new.rules.iter().map(|r| (&r.rule.name, words)).chain(
        old.rules
            .iter()
            .filter(|r| !new.rules.iter().any(|n| n.rule.name == r.rule.name))
            .map(|r| (&r.rule.name, old_words)),
    );
    names
        .filter_map(|(name, words)| {
            let (a, b) = (side(old, name), side(new, name));
            let state = |s: &Option<RuleSide>| s.as_ref().map(|s| s.state);
            (state(&a) != state(&b)).then(|| RuleChange {
                rule: name.clone(),
                title: words.rule(name).to_owned(),
                old: a,
                new: b,
            })
        })
        .collect()
}

impl Report {
    /// The report as one JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
    }
}
