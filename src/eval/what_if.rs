//! Decisions under other conditions: at later instants (when will this
//! decision change, and its whole timeline) and with a remedy applied.
//!
//! When will a decision change? Exactly, not by sampling: a decision can
//! only change where one of the time comparisons it made comes out
//! otherwise, and each comparison says where that is: the evaluation at
//! `now` gives its *horizon* (`horizon.rs`), the first change of any
//! comparison it made that can change its value, solved from the one
//! model of a comparison of instants (`window.rs`), with the boundary it
//! names for it (`t + 14d >= now` holds at `t + 14d` and changes just
//! after it). Until that boundary the decision is the same; the
//! evaluation just after it tells whether it changed there, and if not,
//! gives the next horizon. A window that closes exactly at `now` changes
//! just after `now`.
//!
//! So the person is evaluated once per instant at which something the
//! decision consulted changes, never at the instants of the record that
//! cannot change it (a window that closed, a stay that does not decide):
//! no candidates are collected or sorted. And that evaluation computes
//! only the `let`s and rules whose own horizon that instant reaches,
//! keeping the others' values from the one before (`kept.rs`). Only what
//! the model cannot solve (a moving value looked up in a list, a list
//! holding moving values) is tried at candidates: the instants of its
//! operands shifted by the policy's durations (`window::unmodelled`).

use super::horizon::Horizon;
use super::kept::Recorded;
use super::{Budget, Evaluator, Facts};
use crate::compile::Plan;
use crate::decision::Decision;
use crate::value::Value;

/// The first change of a decision.
#[derive(Debug, Clone)]
pub struct Change<'p> {
    /// The boundary: just before it the current decision holds, just after
    /// it the new one.
    pub at: i64,
    /// The decision just after `at`.
    pub decision: Decision<'p>,
}

/// The first boundary from `now` on at which the decision for `person`
/// changes its outcome or its deciding rule, with the decision just after
/// it; `None` if, with no new data, it never changes. The boundary may be
/// `now` itself, when a window closes exactly then.
pub fn next_change<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
) -> Option<Change<'p>> {
    next_change_within(plan, facts, person, now, &Budget::unlimited())
}

/// [`next_change`], its evaluations taking their steps from `budget`
/// (`None` once it is spent: [`Budget::exceeded`] tells).
pub fn next_change_within<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    budget: &Budget,
) -> Option<Change<'p>> {
    let (_, start) = tracked(plan, facts, person, now, budget, false);
    next_change_from(plan, facts, person, start, budget)
}

/// The outcome and deciding rule of a decision (`Evaluator::verdict`).
pub(crate) type Verdict = (usize, Option<usize>);

/// What the evaluation at `now` found for `next_change`: its instant,
/// verdict and horizon, and, when the horizon names an instant, what it
/// computed, for the evaluation there to keep what cannot change.
#[derive(Debug, Clone)]
pub(crate) struct Start {
    now: i64,
    pub(crate) verdict: Verdict,
    horizon: Horizon,
    recorded: Option<Recorded>,
}

/// The evaluation at `now` that `next_change` starts from: an evaluator
/// whose verdict notes its horizon, with what it found. The evaluator, no
/// longer noting, then decides or explains as any other, from the same
/// `let`s and from what its verdict recorded for the witnesses (`detailed`
/// ones, for [`Evaluator::detailed`]): one evaluation of the person serves
/// the decision, its witnesses and its change.
pub(crate) fn tracked<'p, 'v>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &'v Value,
    now: i64,
    budget: &Budget,
    detailed: bool,
) -> (Evaluator<'p, 'v>, Start) {
    let mut evaluator = Evaluator::tracking(plan, facts, person, now, budget);
    evaluator.detailed = detailed;
    let verdict = evaluator.verdict_noting(None);
    let horizon = evaluator.horizon();
    let recorded = (!horizon.never()).then(|| evaluator.recorded());
    evaluator.horizon = None;
    let start = Start {
        now,
        verdict,
        horizon,
        recorded,
    };
    (evaluator, start)
}

/// The first change after the evaluation `start` ([`tracked`]).
pub(crate) fn next_change_from<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    start: Start,
    budget: &Budget,
) -> Option<Change<'p>> {
    next_change_after(plan, facts, person, start, budget, true)
}

/// [`next_change_from`]; each evaluation after a horizon computes only
/// what may have changed there when `keep`, everything otherwise.
fn next_change_after<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    start: Start,
    budget: &Budget,
    keep: bool,
) -> Option<Change<'p>> {
    let Start {
        now: mut t,
        verdict: current,
        mut horizon,
        mut recorded,
    } = start;
    // Only the verdict at each instant; the whole decision at the change.
    while !horizon.never() {
        // The decision is `current` up to the boundary; just after it, it
        // tells whether it changed there.
        let next = horizon.boundary.saturating_add(1);
        if next <= t || budget.exceeded() {
            return None;
        }
        t = next;
        let mut evaluator = match recorded.as_ref().filter(|_| keep) {
            Some(earlier) => Evaluator::tracking_after(plan, facts, person, t, budget, earlier),
            None => Evaluator::tracking(plan, facts, person, t, budget),
        };
        let earlier = recorded.as_ref().filter(|_| keep);
        if evaluator.verdict_noting(earlier) != current {
            let decision = evaluator.decide(Vec::new());
            return Some(Change {
                at: horizon.boundary,
                decision,
            });
        }
        horizon = evaluator.horizon();
        recorded = (keep && !horizon.never()).then(|| evaluator.recorded());
    }
    None
}

/// The decisions from `now` on, each with the instant after which it holds:
/// the first at `now` itself, then every change until the decision stops
/// changing, at most `limit` changes; and, when there are more, the instant
/// of the first change left out. Its evaluations take their steps from
/// `budget`.
pub fn timeline<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    limit: usize,
    budget: &Budget,
) -> (Vec<Change<'p>>, Option<i64>) {
    let mut out = vec![Change {
        at: now,
        decision: Evaluator::within(plan, facts, person, now, budget).decide(Vec::new()),
    }];
    let mut from = now;
    while out.len() <= limit {
        let Some(change) = next_change_within(plan, facts, person, from, budget) else {
            break;
        };
        // The new decision holds just after the boundary: look on from there.
        from = change.at.saturating_add(1);
        out.push(change);
    }
    let cut = if out.len() > limit {
        next_change_within(plan, facts, person, from, budget).map(|c| c.at)
    } else {
        None
    };
    (out, cut)
}

/// The policy's remedies that would change the decision at `now`, each with
/// the decision it would give: the person, with the remedy's record added
/// to its list (its `now` fields set to `now`), decided again, taking its
/// steps from `budget`.
pub fn remedies<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    budget: &Budget,
) -> Vec<(&'p str, Decision<'p>)> {
    let current = Evaluator::within(plan, facts, person, now, budget).verdict();
    remedies_from(plan, facts, person, (now, current), budget)
}

/// [`remedies`], the verdict at `now` being `current`.
pub(crate) fn remedies_from<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    (now, current): (i64, Verdict),
    budget: &Budget,
) -> Vec<(&'p str, Decision<'p>)> {
    let Value::Record(fields) = person else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for remedy in &plan.program.remedies {
        let Value::Record(template) = &remedy.record else {
            continue;
        };
        let mut record = template.to_vec();
        for &slot in &remedy.now_slots {
            if let Some(v) = record.get_mut(slot) {
                *v = Value::Time(now);
            }
        }
        let mut changed = fields.to_vec();
        if let Some(list) = changed.get_mut(remedy.list) {
            let items: Vec<Value> = list
                .elements()
                .iter()
                .cloned()
                .chain([Value::Record(record.into())])
                .collect();
            *list = Value::List(items.into());
        }
        let changed = Value::Record(changed.into());
        let evaluator = Evaluator::within(plan, facts, &changed, now, budget);
        if evaluator.verdict() != current {
            out.push((remedy.title.as_str(), evaluator.decide(Vec::new())));
        }
    }
    out
}

#[cfg(test)]
#[path = "what_if_tests.rs"]
mod tests;
