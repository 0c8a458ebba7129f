//! Plan + facts + person + `now` → decision.
//!
//! What depends only on the facts is computed once, when the facts are
//! loaded ([`Facts`]); each person is then evaluated by a small
//! [`Evaluator`] that borrows the plan, the facts and the person, and takes
//! its steps from a [`Budget`]. Its cost is near-linear in the record: see
//! `index.rs` (membership), `horizon.rs` (`next_change`) and `budget.rs`.

mod budget;
pub use budget::{Budget, DEFAULT_BUDGET};
pub(crate) mod constraints;
mod explain;
pub use explain::{RuleReport, RuleState};
mod expr;
pub(crate) use expr::lends;
mod facts;
pub(crate) mod horizon;
mod index;
mod kept;
mod selection;
mod trace;
mod window;
pub(crate) use facts::with_as_of;
pub use facts::{AS_OF, Facts, FactsError, FactsFile};
pub mod what_if;

use std::cell::Cell;
use std::sync::Arc;

use crate::compile::{Op, Plan};
use crate::decision::{Decision, FiredRule};
use crate::value::Value;
use crate::witness;

/// The state of one person's evaluation.
pub struct Evaluator<'p, 'v> {
    plan: &'p Plan,
    /// The plan's ops, what each step reads.
    ops: &'p [Op],
    /// The plan's forms, by node: the conditions answered without walking
    /// their nodes when no horizon is noted.
    forms: &'p [crate::compile::Form],
    facts: &'p Facts,
    person: &'v Value,
    now: i64,
    /// `let` values, computed when the evaluator is made.
    lets: Vec<Value>,
    /// Without horizons, the `let`s defined by a `where`, kept as the
    /// places of the elements they keep (their value in `lets` is none
    /// until something reads it whole).
    selected: Vec<Option<selection::Selection>>,
    /// Whether witnesses name the entries of the data each record matched
    /// (for `--witnesses` and explanations; `because` does not need them).
    detailed: bool,
    /// The steps left for this record.
    budget: Budget,
    /// Sorted copies of the long lists it tests membership in.
    indexes: index::Indexes,
    /// When `next_change` asks: the first instant after `now` at which a
    /// comparison made so far may flip (see `horizon.rs`).
    horizon: Option<Cell<horizon::Horizon>>,
    /// When it tracks horizons: those of the `let`s that filter a list,
    /// element by element.
    lists: Vec<Option<horizon::ListHorizon>>,
    /// What the evaluation of the `let`s that witnesses explain recorded.
    lets_trace: trace::Trace,
    /// When it tracks horizons: those of each `let` and rule apart, for
    /// the evaluation at a later instant to keep what cannot change.
    noted: kept::Noted,
    /// When its verdict tracked horizons: for each rule decided, whether
    /// it fired and what its evaluation recorded for its witnesses.
    traces: Vec<Option<(bool, trace::Trace)>>,
    /// The vector a `where` keeps its elements in before they become its
    /// list, reused (see `eval_in`).
    kept: Cell<Vec<Value>>,
}

impl<'p, 'v> Evaluator<'p, 'v> {
    /// An evaluator for `person` at `now` (microseconds since the epoch),
    /// with the `let`s computed, each once.
    pub fn new(plan: &'p Plan, facts: &'p Facts, person: &'v Value, now: i64) -> Self {
        Self::within(plan, facts, person, now, &Budget::unlimited())
    }

    /// [`Evaluator::new`], taking its steps from `budget`: when it runs
    /// out, what is computed is meaningless and [`Budget::exceeded`] says
    /// so.
    pub fn within(
        plan: &'p Plan,
        facts: &'p Facts,
        person: &'v Value,
        now: i64,
        budget: &Budget,
    ) -> Self {
        Self::made(plan, facts, person, now, budget, None)
    }

    /// [`Evaluator::within`], noting the horizon of what it evaluates.
    pub(crate) fn tracking(
        plan: &'p Plan,
        facts: &'p Facts,
        person: &'v Value,
        now: i64,
        budget: &Budget,
    ) -> Self {
        Self::made(plan, facts, person, now, budget, Some(horizon::open()))
    }

    /// [`Evaluator::tracking`] at `now`, after an evaluation at an earlier
    /// instant that recorded `earlier`: the `let`s that cannot have changed
    /// since are taken from it, not computed again.
    pub(crate) fn tracking_after(
        plan: &'p Plan,
        facts: &'p Facts,
        person: &'v Value,
        now: i64,
        budget: &Budget,
        earlier: &kept::Recorded,
    ) -> Self {
        let mut ev = Self::bare_within(plan, facts, person, now, budget.clone());
        ev.horizon = Some(horizon::open());
        ev.compute_lets(Some(earlier));
        ev
    }

    fn made(
        plan: &'p Plan,
        facts: &'p Facts,
        person: &'v Value,
        now: i64,
        budget: &Budget,
        horizon: Option<Cell<horizon::Horizon>>,
    ) -> Self {
        let mut ev = Self::bare_within(plan, facts, person, now, budget.clone());
        ev.horizon = horizon;
        ev.compute_lets(None);
        ev
    }

    /// Computes the `let`s, in order, each once; when tracking horizons
    /// after an evaluation that recorded `earlier`, only those that may
    /// have changed since.
    fn compute_lets(&mut self, earlier: Option<&kept::Recorded>) {
        let plan = self.plan;
        let ev = self;
        ev.lets = vec![Value::None; plan.lets.len()];
        // Horizons element by element, where a list's elements stay put.
        let apart = ev.horizon.is_some() && plan.horizons();
        if apart {
            ev.lists = vec![None; plan.lets.len()];
        }
        for &i in &plan.let_order {
            if let Some(&l) = plan.lets.get(i) {
                if ev.kept_let(earlier, i) {
                    continue;
                }
                let started = ev.let_started();
                let v = match *plan.op(l) {
                    Op::Where(list, pred) if apart => {
                        let (v, list) = ev.where_apart(list, pred);
                        ev.lists[i] = list;
                        v
                    }
                    Op::Where(list, pred) if ev.horizon.is_none() => {
                        let s = ev.select(list, pred);
                        if ev.selected.len() <= i {
                            ev.selected.resize_with(plan.lets.len().max(i + 1), || None);
                        }
                        ev.selected[i] = Some(s);
                        Value::None
                    }
                    Op::Project(list, _) if apart => {
                        let (v, list) = ev.project_apart(list, l);
                        ev.lists[i] = list;
                        v
                    }
                    Op::And(..) | Op::Or(..) | Op::Not(_) | Op::Quantifier(..)
                        if ev.horizon.is_none() && plan.witnessed_lets.get(i) == Some(&true) =>
                    {
                        let mut trace = std::mem::take(&mut ev.lets_trace);
                        let held = ev.noted(l, &mut trace);
                        for scan in trace.scans_mut() {
                            ev.complete(scan);
                        }
                        ev.lets_trace = trace;
                        Value::Bool(held)
                    }
                    _ => ev.eval(l),
                };
                ev.lets[i] = v;
                ev.let_ended(i, started);
            }
        }
    }

    /// Makes the witnesses name the entries of the data each record
    /// matched: more work, for people and tools that read them.
    pub fn detailed(mut self) -> Self {
        self.detailed = true;
        self
    }

    /// An evaluator without `let`s, for expressions that use none.
    fn bare(plan: &'p Plan, facts: &'p Facts, person: &'v Value, now: i64) -> Self {
        Self::bare_within(plan, facts, person, now, Budget::unlimited())
    }

    /// [`Evaluator::bare`], taking its steps from `budget` (made once, not
    /// an unlimited one made and dropped for every person).
    fn bare_within(
        plan: &'p Plan,
        facts: &'p Facts,
        person: &'v Value,
        now: i64,
        budget: Budget,
    ) -> Self {
        Evaluator {
            plan,
            ops: plan.ops(),
            forms: plan.forms(),
            facts,
            person,
            now,
            lets: Vec::new(),
            selected: Vec::new(),
            detailed: false,
            budget,
            indexes: index::Indexes::default(),
            horizon: None,
            lists: Vec::new(),
            lets_trace: trace::Trace::default(),
            noted: kept::Noted::default(),
            traces: Vec::new(),
            kept: Cell::new(Vec::new()),
        }
    }

    /// For an evaluator made with [`Evaluator::tracking`]: when what it
    /// evaluated so far may first change after `now`.
    pub(crate) fn horizon(&self) -> horizon::Horizon {
        self.horizon.as_ref().map_or(
            horizon::Horizon {
                at: self.now.saturating_add(1),
                boundary: self.now,
            },
            Cell::get,
        )
    }

    /// Whether rule `i` fires: its condition holds and its exception does
    /// not.
    fn fires(&self, i: usize) -> bool {
        self.plan
            .rules
            .get(i)
            .is_some_and(|r| self.test(r.when) && !r.unless.is_some_and(|u| self.test(u)))
    }

    /// The outcome (by index) and the deciding rule (by index), without the
    /// rest of the decision: what tells two decisions apart, cheaply.
    pub fn verdict(&self) -> (usize, Option<usize>) {
        let program = &self.plan.program;
        verdict_of(program, (0..program.rules.len()).filter(|&i| self.fires(i)))
    }

    /// Decides: every rule, the winner, its payload, the witnesses of the
    /// rules that fired and the warnings.
    pub fn decide(mut self, data_warnings: Vec<String>) -> Decision<'p> {
        let program: &'p crate::check::Program = &self.plan.program;
        let plan: &'p Plan = self.plan;
        // Each rule evaluated once, recording what its witnesses read: by
        // the verdict, when it recorded it.
        let mut recorded = std::mem::take(&mut self.traces);
        let mut trace = trace::Trace::default();
        let mut fired = Vec::new();
        for (i, roots) in plan.rules.iter().enumerate() {
            let fires = match recorded.get_mut(i).and_then(Option::take) {
                Some((fires, verdict)) => {
                    trace = verdict;
                    fires
                }
                None => {
                    trace.clear();
                    self.traced(roots.when, &mut trace)
                        && !roots.unless.is_some_and(|u| self.traced(u, &mut trace))
                }
            };
            if !fires {
                continue;
            }
            let mut witnesses = Vec::new();
            self.witnesses(&mut trace, roots.when, true, &mut witnesses);
            if let Some(u) = roots.unless {
                self.witnesses(&mut trace, u, false, &mut witnesses);
            }
            fired.push((i, witnesses));
        }
        let mut warnings = data_warnings;
        for (w, &when) in program.warnings.iter().zip(&plan.warnings) {
            trace.clear();
            if self.traced(when, &mut trace) {
                let mut witnesses = Vec::new();
                self.witnesses(&mut trace, when, true, &mut witnesses);
                warnings.push(warning_line(program, w, &witnesses));
            }
        }
        self.decision(fired, warnings)
    }

    /// The decision that [`Evaluator::rule_reports`] and
    /// [`Evaluator::warning_reports`] explain, made from them without
    /// evaluating the rules again.
    pub fn decision_of(
        self,
        rules: &[RuleReport<'p>],
        warnings: &[(&'p crate::check::Warning, Vec<witness::Witness<'p>>)],
        data_warnings: Vec<String>,
    ) -> Decision<'p> {
        let program: &'p crate::check::Program = &self.plan.program;
        let fired = (rules.iter().enumerate())
            .filter(|(_, r)| r.state == RuleState::Fired)
            .map(|(i, r)| (i, r.witnesses.iter().chain(&r.exception).cloned().collect()))
            .collect();
        let mut lines = data_warnings;
        lines.extend(warnings.iter().map(|(w, ws)| warning_line(program, w, ws)));
        self.decision(fired, lines)
    }

    /// The decision given the rules that fired, by index, each with its
    /// witnesses, and the warnings.
    fn decision(
        self,
        fired: Vec<(usize, Vec<witness::Witness<'p>>)>,
        warnings: Vec<String>,
    ) -> Decision<'p> {
        let program: &'p crate::check::Program = &self.plan.program;
        let plan: &'p Plan = self.plan;
        let winner = winner(program, fired.iter().map(|(i, _)| *i));
        let outcome = winner.map_or(&program.otherwise, |i| &program.rules[i].then);
        let roots = winner.map_or(&plan.otherwise, |i| &plan.rules[i].payload);
        let payload = (outcome.payload.iter().zip(roots))
            .map(|((name, _), &e)| (name.as_str(), self.eval(e), &plan.node(e).ty))
            .collect();
        let rules = (fired.into_iter())
            .map(|(i, witnesses)| {
                let rule = &program.rules[i];
                FiredRule {
                    name: &rule.name,
                    code: rule.code.as_deref(),
                    title: rule.title.as_deref(),
                    outcome: &program.outcomes[rule.then.index],
                    witnesses,
                }
            })
            .collect();
        let id = program.id_slot.and_then(|slot| match self.person {
            Value::Record(fields) => match fields.get(slot) {
                Some(Value::Text(id)) => Some(Arc::clone(id)),
                _ => None,
            },
            _ => None,
        });
        Decision {
            id,
            outcome: &program.outcomes[outcome.index],
            payload,
            policy: program,
            now: self.now,
            rules,
            warnings,
            next_change: crate::decision::NextChange::NotAsked,
            timeline: None,
            timeline_cut: None,
            timeline_ends: None,
            remedies: None,
            show_witnesses: false,
        }
    }
}

/// A warning that holds, as a decision gives it: its name, its message
/// and what its witnesses say.
fn warning_line(
    program: &crate::check::Program,
    w: &crate::check::Warning,
    witnesses: &[witness::Witness<'_>],
) -> String {
    let because = witness::because(witnesses, &program.timezone);
    if because.is_empty() {
        format!("{}: {}", w.name, w.message)
    } else {
        format!("{}: {} ({})", w.name, w.message, because.join("; "))
    }
}

/// The value of node `id` when it is of the constant stage (nothing of
/// the facts, the person or `now` changes it): what lints read.
pub(crate) fn constant(plan: &Plan, id: crate::compile::Id) -> Option<Value> {
    if plan.node(id).stage != crate::compile::Stage::Constant {
        return None;
    }
    let facts = Facts::none();
    Some(Evaluator::bare(plan, &facts, &Value::None, 0).eval(id))
}

/// The outcome (by index) and the deciding rule given the rules that
/// fired.
fn verdict_of(
    program: &crate::check::Program,
    fired: impl Iterator<Item = usize>,
) -> (usize, Option<usize>) {
    let rule = winner(program, fired);
    let outcome = rule.map_or(&program.otherwise, |i| &program.rules[i].then);
    (outcome.index, rule)
}

/// The rule that decides among those that fired: the most severe outcome
/// wins; among equals, the rule written first.
fn winner(program: &crate::check::Program, fired: impl Iterator<Item = usize>) -> Option<usize> {
    fired.reduce(|best, i| {
        if program.rules[i].then.index > program.rules[best].then.index {
            i
        } else {
            best
        }
    })
}

/// The generated people of the benchmarks, for tests.
#[cfg(test)]
#[path = "../../benches/support/population.rs"]
pub(crate) mod population;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod values_tests;
