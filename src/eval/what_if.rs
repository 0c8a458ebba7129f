//! Decisions under other conditions: at later instants (when will this
//! decision change, and its whole timeline) and with a remedy applied.
//!
//! When will a decision change? Exactly, not by sampling: a decision can
//! only change where one of the policy's time comparisons flips, and those
//! lie at the instants of the data and the policy shifted by the policy's
//! durations (a window of 14 days closes 14 days after an event; a
//! future-dated event opens when it happens). The decision is evaluated
//! just after each such instant from `now` on, in order (between two of
//! them it cannot change); the first that differs is the boundary. A window
//! that closes exactly at `now` changes just after `now`.

use super::{Evaluator, Facts};
use crate::check::ir::{Expr, ExprKind};
use crate::compile::Plan;
use crate::decision::Decision;
use crate::types::Type;
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
    // Only the verdict at each candidate; the whole decision at the change.
    let at = |t: i64| Evaluator::new(plan, facts, person, t);
    let current = at(now).verdict();
    // Between two candidates the decision cannot change, so the decision
    // just after each candidate tells whether it changed there: at the
    // candidate itself (a window opening) or just after it (one closing),
    // it is the boundary either way.
    for c in candidates(plan, facts, person, now) {
        let evaluator = at(c.saturating_add(1));
        if evaluator.verdict() != current {
            let decision = evaluator.decide(Vec::new());
            return Some(Change { at: c, decision });
        }
    }
    None
}

/// The instants from `now` on, ascending, at which a time comparison of
/// the policy may flip for this person: every instant of the person, the facts
/// and the policy, shifted either way by every duration of them, and by
/// every sum of two when a comparison of the policy holds two durations
/// (`t + 1d + 12h >= now`, `t < now - 14d - 48h`).
fn candidates(plan: &Plan, facts: &Facts, person: &Value, now: i64) -> Vec<i64> {
    let mut times = Vec::new();
    let mut durations = vec![0];
    collect_values(person, &mut times, &mut durations);
    for v in facts.values.iter().chain(&facts.hoisted) {
        collect_values(v, &mut times, &mut durations);
    }
    let program = &plan.program;
    let exprs = program
        .lets
        .iter()
        .map(|l| &l.value)
        .chain(
            program
                .rules
                .iter()
                .flat_map(|r| std::iter::once(&r.when).chain(r.unless.as_ref())),
        )
        .chain(plan.hoisted.iter());
    let mut sums = false;
    for e in exprs {
        collect_constants(e, &mut times, &mut durations);
        sums |= shifts_twice(e);
    }
    durations.sort_unstable();
    durations.dedup();
    if sums {
        let pairs: Vec<i64> = durations
            .iter()
            .enumerate()
            .flat_map(|(i, a)| durations[i..].iter().map(move |b| a.saturating_add(*b)))
            .collect();
        durations = pairs;
        durations.sort_unstable();
        durations.dedup();
    }
    let mut out: Vec<i64> = times
        .iter()
        .flat_map(|t| {
            durations
                .iter()
                .flat_map(move |d| [t.saturating_add(*d), t.saturating_sub(*d)])
        })
        .filter(|c| *c >= now)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a comparison in `e` shifts an instant by two durations: its
/// boundary then lies at an instant plus the sum of two.
fn shifts_twice(e: &Expr) -> bool {
    /// The durations in `e` that are not made of other durations: literals,
    /// fields and `let`s, not `a - b` between two instants.
    fn durations(e: &Expr) -> usize {
        let children = e.children();
        let own = matches!(e.ty.non_optional(), Type::Duration)
            && !matches!(e.kind, ExprKind::Arith(..))
            && children
                .iter()
                .all(|(c, _)| !matches!(c.ty.non_optional(), Type::Duration));
        usize::from(own) + children.iter().map(|(c, _)| durations(c)).sum::<usize>()
    }
    match &e.kind {
        ExprKind::Compare(..) | ExprKind::Within(..) | ExprKind::Overlaps(..)
            if durations(e) >= 2 =>
        {
            true
        }
        _ => e.children().iter().any(|(c, _)| shifts_twice(c)),
    }
}

fn collect_values(v: &Value, times: &mut Vec<i64>, durations: &mut Vec<i64>) {
    match v {
        Value::Time(t) => times.push(*t),
        Value::Duration(d) => durations.push(d.saturating_abs()),
        Value::Interval(a, b) => times.extend([*a, *b]),
        Value::List(items) | Value::Set(items) | Value::Record(items) => {
            for item in items.iter() {
                collect_values(item, times, durations);
            }
        }
        _ => {}
    }
}

fn collect_constants(e: &Expr, times: &mut Vec<i64>, durations: &mut Vec<i64>) {
    if let ExprKind::Const(v) = &e.kind {
        collect_values(v, times, durations);
    }
    for (child, _) in e.children() {
        collect_constants(child, times, durations);
    }
}

/// The decisions from `now` on, each with the instant after which it holds:
/// the first at `now` itself, then every change until the decision stops
/// changing, at most `limit` changes; and, when there are more, the instant
/// of the first change left out.
pub fn timeline<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    limit: usize,
) -> (Vec<Change<'p>>, Option<i64>) {
    let mut out = vec![Change {
        at: now,
        decision: Evaluator::new(plan, facts, person, now).decide(Vec::new()),
    }];
    let mut from = now;
    while out.len() <= limit {
        let Some(change) = next_change(plan, facts, person, from) else {
            break;
        };
        // The new decision holds just after the boundary: look on from there.
        from = change.at.saturating_add(1);
        out.push(change);
    }
    let cut = if out.len() > limit {
        next_change(plan, facts, person, from).map(|c| c.at)
    } else {
        None
    };
    (out, cut)
}

/// The policy's remedies that would change the decision at `now`, each with
/// the decision it would give: the person, with the remedy's record added
/// to its list (its `now` fields set to `now`), decided again.
pub fn remedies<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
) -> Vec<(&'p str, Decision<'p>)> {
    let current = Evaluator::new(plan, facts, person, now).verdict();
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
        let evaluator = Evaluator::new(plan, facts, &changed, now);
        if evaluator.verdict() != current {
            out.push((remedy.title.as_str(), evaluator.decide(Vec::new())));
        }
    }
    out
}
