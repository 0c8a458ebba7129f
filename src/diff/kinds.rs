//! The payload `kind` of each decision (`popup(kind: "test_required")`),
//! for the transition matrix of kinds: known from the policy when a rule's
//! `kind` is a constant (no evaluation per person), evaluated otherwise.

use std::sync::Arc;

use crate::Policy;
use crate::compile::{Id, Op};
use crate::eval::Evaluator;
use crate::value::Value;

/// The payload field whose values the matrix of kinds counts.
pub(super) const FIELD: &str = "kind";

/// The most kinds that are not constants of the policy a tally tells
/// apart; past it, they are counted together as other kinds.
pub(super) const MAX_OTHERS: usize = 64;

/// A decision's outcome and kind, as the tally counts it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Kind {
    /// One of the version's known kinds, by index in [`Kinds::known`].
    Known(usize),
    /// A kind computed from the person that no rule gives as a constant:
    /// the outcome (by index) and the kind's text (`None`: no value).
    Other(usize, Option<Arc<str>>),
    /// Any of the other kinds, once there are more than [`MAX_OTHERS`].
    More,
}

/// How one version's decisions get their kind.
#[derive(Debug, Clone)]
pub(super) struct Kinds {
    /// The kinds the policy gives as constants, in the order of its rules
    /// then `otherwise`, each once: the outcome (by index) and the text
    /// (`None`: that outcome's payload has no `kind`).
    pub(super) known: Vec<(usize, Option<Arc<str>>)>,
    /// For each rule, then `otherwise`: its known kind, or the node that
    /// computes it and its outcome.
    by_rule: Vec<Source>,
    /// Whether any outcome's payload has a `kind`.
    pub(super) any: bool,
}

#[derive(Debug, Clone, Copy)]
enum Source {
    Known(usize),
    Computed(usize, Id),
}

impl Kinds {
    /// The kinds of `policy`'s decisions.
    pub(super) fn new(policy: &Policy) -> Kinds {
        let (program, plan) = (policy.program(), policy.plan());
        let outcomes = (program.rules.iter().map(|r| &r.then)).chain([&program.otherwise]);
        let roots = (plan.rules.iter().map(|r| &r.payload)).chain([&plan.otherwise]);
        let mut kinds = Kinds {
            known: Vec::new(),
            by_rule: Vec::new(),
            any: false,
        };
        for (outcome, roots) in outcomes.zip(roots) {
            let at = outcome.payload.iter().position(|(name, _)| name == FIELD);
            let node = at.and_then(|i| roots.get(i).copied());
            kinds.any |= node.is_some();
            let text = match node.map(|id| plan.op(id)) {
                None => Some(None),
                Some(Op::Const(Value::Text(t))) => Some(Some(Arc::clone(t))),
                Some(Op::Const(Value::None)) => Some(None),
                Some(_) => None,
            };
            let source = match (text, node) {
                (Some(text), _) => Source::Known(kinds.known_index(outcome.index, text)),
                (None, Some(id)) => Source::Computed(outcome.index, id),
                (None, None) => Source::Known(kinds.known_index(outcome.index, None)),
            };
            kinds.by_rule.push(source);
        }
        kinds
    }

    /// The index of a known kind, added if new.
    fn known_index(&mut self, outcome: usize, text: Option<Arc<str>>) -> usize {
        let key = (outcome, text);
        match self.known.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                self.known.push(key);
                self.known.len() - 1
            }
        }
    }

    /// The kind of the decision whose deciding rule is `rule` (`None`:
    /// `otherwise`), read from `evaluator` only when it is computed.
    pub(super) fn of(&self, rule: Option<usize>, evaluator: &Evaluator<'_, '_>) -> Kind {
        let at = rule.unwrap_or(self.by_rule.len().saturating_sub(1));
        match self.by_rule.get(at) {
            Some(Source::Known(i)) => Kind::Known(*i),
            Some(&Source::Computed(outcome, id)) => {
                let text = match evaluator.eval(id) {
                    Value::Text(t) => Some(t),
                    _ => None,
                };
                match self
                    .known
                    .iter()
                    .position(|k| k.0 == outcome && k.1 == text)
                {
                    Some(i) => Kind::Known(i),
                    None => Kind::Other(outcome, text),
                }
            }
            None => Kind::More,
        }
    }
}

/// Counts of pairs of kinds (old, new), telling at most [`MAX_OTHERS`]
/// kinds apart that are not known: what they add up to does not depend on
/// the order in which people and tallies come.
#[derive(Debug, Clone, Default)]
pub(super) struct KindCounts {
    pub(super) pairs: Vec<((Kind, Kind), u64)>,
    /// Whether the kinds that are not known are counted as one.
    lumped: bool,
}

impl KindCounts {
    /// Counts `n` people with kinds `pair`.
    pub(super) fn count(&mut self, pair: (Kind, Kind), n: u64) {
        let pair = if self.lumped {
            (lumped(pair.0), lumped(pair.1))
        } else {
            pair
        };
        if let Some((_, count)) = self.pairs.iter_mut().find(|(p, _)| *p == pair) {
            *count += n;
            return;
        }
        self.pairs.push((pair, n));
        if self.others() > MAX_OTHERS {
            self.lump();
        }
    }

    /// Adds the counts of `other`.
    pub(super) fn merge(&mut self, other: KindCounts) {
        if other.lumped && !self.lumped {
            self.lump();
        }
        for (pair, n) in other.pairs {
            self.count(pair, n);
        }
    }

    /// How many kinds that are not known there are, on either side.
    fn others(&self) -> usize {
        let mut others: Vec<&Kind> = (self.pairs.iter())
            .flat_map(|((a, b), _)| [a, b])
            .filter(|k| matches!(k, Kind::Other(..)))
            .collect();
        others.sort();
        others.dedup();
        others.len()
    }

    /// Counts every kind that is not known as [`Kind::More`].
    fn lump(&mut self) {
        self.lumped = true;
        let pairs = std::mem::take(&mut self.pairs);
        for ((a, b), n) in pairs {
            let pair = (lumped(a), lumped(b));
            match self.pairs.iter_mut().find(|(p, _)| *p == pair) {
                Some((_, count)) => *count += n,
                None => self.pairs.push((pair, n)),
            }
        }
    }
}

/// A kind as it is counted once the kinds that are not known are lumped.
fn lumped(k: Kind) -> Kind {
    match k {
        Kind::Other(..) => Kind::More,
        k => k,
    }
}
