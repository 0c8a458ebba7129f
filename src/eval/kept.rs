//! What the evaluation just after a horizon keeps from the one before it.
//!
//! `next_change` evaluates the person again just after each instant its
//! horizon names (`what_if.rs`); only what the time analysis says may
//! change there is computed again. An evaluation that tracks horizons
//! notes them apart for each `let` and each rule ([`Noted`]): the horizon
//! of what was compared while computing it, and the first instant at
//! which it, or a `let` it reads, may change. Evaluation being
//! deterministic, a `let` or a rule whose horizon lies beyond the new
//! instant has there the value it had, and would note the same horizon
//! (each is an instant solved for, not one counted from `now`): it is
//! taken as it was, its horizon noted again, and the next horizon is the
//! one a full evaluation would give. A `let` whose value moves with `now`
//! (`now - 14d`) is always computed again.

use super::Evaluator;
use super::horizon::{Horizon, ListHorizon};
use super::trace::Trace;

use crate::value::Value;

/// The `let`s each `let` and each rule reads, by index: what their
/// values depend on beside the person, the facts and `now`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reads {
    lets: Vec<Vec<usize>>,
    rules: Vec<Vec<usize>>,
}

impl Reads {
    /// The `let`s read by each `let` and by each rule's condition and
    /// exception, in any order and repeated.
    pub(crate) fn new(mut lets: Vec<Vec<usize>>, mut rules: Vec<Vec<usize>>) -> Self {
        for read in lets.iter_mut().chain(&mut rules) {
            read.sort_unstable();
            read.dedup();
        }
        Reads { lets, rules }
    }
}

/// The horizons an evaluation noted for each `let` and rule apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct Noted {
    /// For each `let`: the horizon of what computing it compared, and
    /// when it or a `let` it reads may first change.
    lets: Vec<(Horizon, Horizon)>,
    /// For each rule: whether it fired, the horizon of what deciding it
    /// compared, and when it or a `let` it reads may first change.
    rules: Vec<(bool, Horizon, Horizon)>,
}

/// What an evaluation that tracked horizons computed, for the one at a
/// later instant to keep.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    lets: Vec<Value>,
    lists: Vec<Option<ListHorizon>>,
    noted: Noted,
}

impl Evaluator<'_, '_> {
    /// What this evaluation computed, for [`Evaluator::tracking_after`].
    pub(crate) fn recorded(&self) -> Recorded {
        Recorded {
            lets: self.lets.clone(),
            lists: self.lists.clone(),
            noted: self.noted.clone(),
        }
    }

    /// When tracking horizons: the horizon so far, before `let` `i` is
    /// computed with a horizon of its own.
    pub(super) fn let_started(&self) -> Option<Horizon> {
        self.horizon.as_ref().map(|h| h.replace(Horizon::NEVER))
    }

    /// Notes the horizon of the `let` `i` just computed, `started` being
    /// the horizon before it ([`Evaluator::let_started`]).
    pub(super) fn let_ended(&mut self, i: usize, started: Option<Horizon>) {
        let (Some(h), Some(before)) = (&self.horizon, started) else {
            return;
        };
        let own = h.replace(before.min(h.get()));
        let list = self.lists.get(i).and_then(Option::as_ref);
        let mut whole = list.map_or(own, |l| own.min(l.first()));
        for &j in self.reads_of_let(i) {
            if let Some((_, w)) = self.noted.lets.get(j) {
                whole = whole.min(*w);
            }
        }
        self.noted_let(i, (own, whole));
    }

    fn noted_let(&mut self, i: usize, noted: (Horizon, Horizon)) {
        let lets = &mut self.noted.lets;
        if lets.len() <= i {
            lets.resize(
                self.plan.lets.len().max(i + 1),
                (Horizon::NEVER, Horizon::NEVER),
            );
        }
        lets[i] = noted;
    }

    fn reads_of_let(&self, i: usize) -> &[usize] {
        let reads = &self.plan.time_flow.reads;
        reads.lets.get(i).map_or(&[], Vec::as_slice)
    }

    /// Takes `let` `i` from `earlier` when it cannot have changed since:
    /// its value does not move with `now` and neither it nor a `let` it
    /// reads may change before this evaluation's instant.
    pub(super) fn kept_let(&mut self, earlier: Option<&Recorded>, i: usize) -> bool {
        let (Some(earlier), Some(h)) = (earlier, &self.horizon) else {
            return false;
        };
        let Some(&(own, whole)) = earlier.noted.lets.get(i) else {
            return false;
        };
        let moving = self
            .plan
            .lets
            .get(i)
            .is_none_or(|&l| self.plan.time_flow.moving(l));
        if moving || whole.at <= self.now {
            return false;
        }
        self.note(h, own);
        self.lets[i] = earlier.lets.get(i).cloned().unwrap_or_default();
        if let (Some(slot), Some(list)) = (self.lists.get_mut(i), earlier.lists.get(i)) {
            slot.clone_from(list);
        }
        self.noted_let(i, (own, whole));
        true
    }

    /// The verdict, noting the horizon of each rule apart; after an
    /// evaluation that recorded `earlier`, a rule that cannot have changed
    /// since is not decided again.
    pub(crate) fn verdict_noting(&mut self, earlier: Option<&Recorded>) -> super::what_if::Verdict {
        let Some(h) = &self.horizon else {
            return self.verdict();
        };
        let plan = self.plan;
        let mut rules = Vec::with_capacity(plan.rules.len());
        let mut traces = Vec::with_capacity(plan.rules.len());
        for i in 0..plan.rules.len() {
            let kept = earlier
                .and_then(|e| e.noted.rules.get(i))
                .filter(|(_, _, whole)| whole.at > self.now);
            if let Some(&(fires, own, whole)) = kept {
                self.note(h, own);
                rules.push((fires, own, whole));
                traces.push(None);
                continue;
            }
            let before = h.replace(Horizon::NEVER);
            // Traced, for its witnesses to read rather than decide it again.
            let mut trace = Trace::default();
            let fires = plan.rules.get(i).is_some_and(|r| {
                self.noted(r.when, &mut trace)
                    && !r.unless.is_some_and(|u| self.noted(u, &mut trace))
            });
            traces.push(Some((fires, trace)));
            let own = h.replace(before.min(h.get()));
            let reads = plan
                .time_flow
                .reads
                .rules
                .get(i)
                .map_or(&[][..], Vec::as_slice);
            let whole = (reads.iter())
                .filter_map(|&j| self.noted.lets.get(j))
                .fold(own, |w, (_, l)| w.min(*l));
            rules.push((fires, own, whole));
        }
        let fired = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.0)
            .map(|(i, _)| i);
        let verdict = super::verdict_of(&plan.program, fired);
        self.noted.rules = rules;
        self.traces = traces;
        verdict
    }
}
