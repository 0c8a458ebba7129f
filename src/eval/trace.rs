//! What the evaluation of a condition records for its witnesses: the value
//! of the left side of each `and`/`or` it evaluated, and for
//! each quantifier whose records a witness shows, its list and the indices
//! of those records (with, for detailed witnesses, the values each looked
//! for in a set). Witnesses are then read from the trace (`explain.rs`),
//! not evaluated again.
//!
//! A quantifier whose value a witness explains by records (`any` that
//! held, `no` or `all` that failed) is scanned to the end, to find every
//! such record; one whose value needs none (`any` that failed, ...) may
//! stop early or be answered by the least or greatest field of its list,
//! as in a decision without witnesses.

use super::Evaluator;
use super::expr::{Env, Operand};
use super::selection::Items;
use crate::compile::{Id, Op, Plan};
use crate::syntax::Quant;
use crate::value::Value;

/// The records a quantifier found.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    /// The quantifier.
    pub(crate) id: Id,
    /// Its list.
    pub(crate) list: Value,
    /// The records, by index, each with the values its membership
    /// conjuncts looked for; `None` for every record (a bare `any L`).
    pub(crate) hits: Option<Vec<Hit>>,
    /// The body, and whether a record that satisfies it decides (`any`,
    /// `no`) or one that fails it (`all`).
    body: Option<(Id, bool)>,
    /// Where the evaluation stopped, once the value was decided: the
    /// records from there on are read only if a witness shows them.
    next: Option<usize>,
}

/// One record a quantifier found.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    /// Its index in the list.
    pub(crate) index: usize,
    /// For detailed witnesses: each membership conjunct of the body that
    /// held, with the value it looked for.
    pub(crate) looked_for: Vec<(Id, Value)>,
}

/// What the evaluation of conditions recorded: the value of the left side
/// of each `and`/`or` evaluated (and of each condition traced whole, with
/// [`Evaluator::noted`]), and the quantifiers' records.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    held: Vec<(Id, bool)>,
    scans: Vec<Scan>,
}

impl Trace {
    /// The value node `id` took, if it was evaluated.
    pub(crate) fn held(&self, id: Id) -> Option<bool> {
        self.held
            .iter()
            .rev()
            .find(|(n, _)| *n == id)
            .map(|(_, h)| *h)
    }

    /// The records quantifier `id` found, if a witness needs them.
    pub(crate) fn scan(&self, id: Id) -> Option<&Scan> {
        self.scans.iter().rev().find(|s| s.id == id)
    }

    /// [`Trace::scan`], to read the rest of its records.
    pub(crate) fn scan_mut(&mut self, id: Id) -> Option<&mut Scan> {
        self.scans.iter_mut().rev().find(|s| s.id == id)
    }

    /// Every scan, to read the rest of their records.
    pub(crate) fn scans_mut(&mut self) -> impl Iterator<Item = &mut Scan> {
        self.scans.iter_mut()
    }

    /// Forgets everything, keeping the storage.
    pub(crate) fn clear(&mut self) {
        self.held.clear();
        self.scans.clear();
    }
}

/// The conditions of the `if`s among the values of `id` that are read at
/// the top of a rule: not inside a `where`/`has`, nor in the values of
/// another `if` (which may not be taken).
pub(crate) fn guards(plan: &Plan, id: Id, out: &mut Vec<Id>) {
    if let Op::If(g, _, _) = plan.op(id) {
        return guards(plan, *g, out);
    }
    for (c, binds) in plan.op(id).children() {
        if binds > 0 {
            continue;
        }
        if let Op::If(g, _, _) = plan.op(c)
            && !plan.reads_element(*g)
        {
            out.push(*g);
        }
        guards(plan, c, out);
    }
}

/// Whether a quantifier with this value is explained by records.
fn shows_records(quant: Quant, held: bool) -> bool {
    matches!(
        (quant, held),
        (Quant::Any, true) | (Quant::No | Quant::All, false)
    )
}

impl Evaluator<'_, '_> {
    /// Whether condition `id` holds at the top of a rule, recording in
    /// `trace` what its witnesses read.
    pub(crate) fn traced(&self, id: Id, trace: &mut Trace) -> bool {
        match *self.plan.op(id) {
            // The left side's value tells a witness which side decided;
            // tracking horizons, that side's horizon is the one noted.
            Op::And(a, b) | Op::Or(a, b) if let Some(h) = &self.horizon => {
                let conjunction = matches!(self.plan.op(id), Op::And(..));
                let side = |second: bool| {
                    if second {
                        self.traced(b, trace)
                    } else {
                        self.noted(a, trace)
                    }
                };
                self.logic_with(h, conjunction, side)
            }
            Op::And(a, b) => self.noted(a, trace) && self.traced(b, trace),
            Op::Or(a, b) => self.noted(a, trace) || self.traced(b, trace),
            Op::Not(a) => !self.traced(a, trace),
            Op::Quantifier(quant, subject, body) => self.scan(id, quant, subject, body, trace),
            // The condition tells which value was taken.
            Op::If(c, a, b) => {
                if self.noted(c, trace) {
                    self.traced(a, trace)
                } else {
                    self.traced(b, trace)
                }
            }
            _ => {
                // The `if`s among its values: their conditions tell a
                // witness which value each took.
                let mut ifs = Vec::new();
                guards(self.plan, id, &mut ifs);
                for g in ifs {
                    // Their values only: what they compare is noted where
                    // the condition reads them.
                    let saved = self.horizon.as_ref().map(|h| h.get());
                    self.noted(g, trace);
                    if let (Some(h), Some(saved)) = (&self.horizon, saved) {
                        h.set(saved);
                    }
                }
                self.test(id)
            }
        }
    }

    /// [`Evaluator::traced`], its value noted in `trace`.
    pub(crate) fn noted(&self, id: Id, trace: &mut Trace) -> bool {
        let held = self.traced(id, trace);
        trace.held.push((id, held));
        held
    }

    /// A quantifier at the top of a rule, its records recorded when a
    /// witness shows them.
    fn scan(&self, id: Id, quant: Quant, subject: Id, body: Option<Id>, trace: &mut Trace) -> bool {
        if let Some(b) = body
            && let Some(held) = self.by_bound(quant, subject, b, None)
        {
            if !shows_records(quant, held) {
                return held;
            }
            // Its records, with the horizon the bound gave: none.
            if let Some(h) = &self.horizon {
                let saved = h.get();
                let found = self.scan_records(id, quant, subject, body, trace);
                h.set(saved);
                return found;
            }
        } else if self.horizon.is_some() {
            return self.scan_apart(id, quant, subject, body, trace);
        }
        self.scan_records(id, quant, subject, body, trace)
    }

    /// A quantifier at the top of a rule, its records recorded as
    /// [`Evaluator::scan`] records them, for an evaluator that tracks
    /// horizons: they are the ones its horizon is found from.
    fn scan_apart(
        &self,
        id: Id,
        quant: Quant,
        subject: Id,
        body: Option<Id>,
        trace: &mut Trace,
    ) -> bool {
        let none = Value::None;
        let list = self.list_horizon(subject);
        let items = match (self.plan.op(subject), list) {
            (Op::Let(i), Some(_)) => Operand::Lent(self.lets.get(*i).unwrap_or(&none)),
            _ => self.operand(subject, None),
        };
        let (mut indices, mut next) = (Vec::new(), None);
        let found = Some((&mut indices, &mut next));
        let held = self.quantifier_found(quant, list, items.elements(), body, None, found);
        if !shows_records(quant, held) {
            return held;
        }
        let deciding = !matches!(quant, Quant::All);
        let hits = body.map(|b| {
            let conjuncts = match (self.detailed, deciding) {
                (true, true) => super::explain::conjuncts(self.plan, b),
                _ => Vec::new(),
            };
            (indices.into_iter())
                .map(|index| Hit {
                    index,
                    looked_for: self.looked_for(items.elements().get(index), &conjuncts),
                })
                .collect()
        });
        trace.scans.push(Scan {
            id,
            list: items.into_value(),
            hits,
            body: body.map(|b| (b, deciding)),
            next,
        });
        held
    }

    /// For detailed witnesses: the value each membership among the
    /// `conjuncts` of a body that `item` satisfied looked for, read
    /// without noting horizons.
    fn looked_for(&self, item: Option<&Value>, conjuncts: &[Id]) -> Vec<(Id, Value)> {
        let Some(item) = item.filter(|_| !conjuncts.is_empty()) else {
            return Vec::new();
        };
        let saved = self.horizon.as_ref().map(|h| h.get());
        let (_, looked_for) =
            self.within_element(item, None, |env| self.conjuncts_hold(conjuncts, env));
        if let (Some(h), Some(saved)) = (&self.horizon, saved) {
            h.set(saved);
        }
        looked_for
    }

    /// [`Evaluator::scan`], reading the records one by one.
    fn scan_records(
        &self,
        id: Id,
        quant: Quant,
        subject: Id,
        body: Option<Id>,
        trace: &mut Trace,
    ) -> bool {
        let list = self.list_operand(subject, None);
        let items = list.items();
        let Some(body) = body else {
            let held = match quant {
                Quant::Any => !items.is_empty(),
                Quant::No => items.is_empty(),
                Quant::All => true,
            };
            if shows_records(quant, held) {
                trace.scans.push(Scan {
                    id,
                    list: list.into_value(),
                    hits: None,
                    body: None,
                    next: None,
                });
            }
            return held;
        };
        // The records that decide: those that hold for `any` and `no`,
        // those that fail for `all`. The first decides the value.
        let deciding = !matches!(quant, Quant::All);
        let mut hits = Vec::new();
        let next = self.read(items, 0, (body, deciding), true, &mut hits);
        let held = match quant {
            Quant::Any => !hits.is_empty(),
            Quant::No | Quant::All => hits.is_empty(),
        };
        if shows_records(quant, held) {
            trace.scans.push(Scan {
                id,
                list: list.into_value(),
                hits: Some(hits),
                body: Some((body, deciding)),
                next,
            });
        }
        held
    }

    /// Reads the rest of a scan's records, each once: those after the one
    /// that decided its value.
    pub(crate) fn complete(&self, scan: &mut Scan) {
        let Scan {
            list,
            hits: Some(hits),
            body: Some(body),
            next,
            ..
        } = scan
        else {
            return;
        };
        if let Some(start) = next.take() {
            self.read(Items::All(list.elements()), start, *body, false, hits);
        }
    }

    /// Reads `items` from `start`, adding to `hits` each that decides
    /// (`body` holds for it, or fails for `all`); after the first, when
    /// `first`, stops and gives the index to go on from.
    fn read(
        &self,
        items: Items<'_>,
        start: usize,
        (body, deciding): (Id, bool),
        first: bool,
        hits: &mut Vec<Hit>,
    ) -> Option<usize> {
        let conjuncts = match (self.detailed, deciding) {
            (true, true) => super::explain::conjuncts(self.plan, body),
            _ => Vec::new(),
        };
        for (index, item) in items.iter().enumerate().skip(start) {
            // A spent budget ends the loop: what is computed is then
            // meaningless, and the caller says so.
            if !self.budget.take(1) {
                return None;
            }
            let (held, looked_for) = if conjuncts.is_empty() {
                (self.holds_in(item, body, None), Vec::new())
            } else {
                self.within_element(item, None, |env| self.conjuncts_hold(&conjuncts, env))
            };
            if held == deciding {
                hits.push(Hit { index, looked_for });
                if first {
                    return Some(index + 1);
                }
            }
        }
        None
    }

    /// Whether every one of `conjuncts` holds, in order, as their `and`
    /// would; with the value each membership among them looked for.
    fn conjuncts_hold(&self, conjuncts: &[Id], env: Env<'_>) -> (bool, Vec<(Id, Value)>) {
        let mut looked_for = Vec::new();
        for &c in conjuncts {
            let (held, value) = match *self.plan.op(c) {
                Op::Member {
                    negated: false,
                    value,
                    collection,
                } => {
                    let (held, v) = self.membership(false, value, collection, env);
                    (held, held.then(|| v.into_value()))
                }
                Op::InRegion {
                    negated: false,
                    inner,
                    outer,
                } => {
                    let (held, v) = self.in_region(false, inner, outer, env);
                    (held, held.then(|| v.into_value()))
                }
                _ => (self.operand(c, env).truthy(), None),
            };
            if !held {
                return (false, Vec::new());
            }
            looked_for.extend(value.map(|v| (c, v)));
        }
        (true, looked_for)
    }
}

#[cfg(test)]
mod tests {
    use super::Trace;
    use crate::Policy;
    use crate::eval::{Budget, Evaluator, Facts};

    const TEXT: &str = r#"
        policy p
        outcomes green < red
        input person { tests: list of { ok: bool, xs: list of bool } }
        rule r when any person.tests has count(xs) >= 0 and ok then red
        otherwise green
    "#;

    fn record(policy: &Policy, oks: &[bool]) -> crate::value::Value {
        let tests: Vec<String> = (oks.iter())
            .map(|ok| format!(r#"{{"ok":{ok},"xs":[true]}}"#))
            .collect();
        let json = format!(r#"{{"tests":[{}]}}"#, tests.join(","));
        policy
            .person(&json)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .value
    }

    #[test]
    fn a_quantifier_that_held_records_every_record_it_found() {
        let policy = Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        let facts = Facts::empty(plan);
        let person = record(&policy, &[false, true, false, true]);
        let evaluator = Evaluator::new(plan, &facts, &person, 0);
        let mut trace = Trace::default();
        let when = plan.rules[0].when;
        assert!(evaluator.noted(when, &mut trace));
        assert_eq!(trace.held(when), Some(true));
        let found = |trace: &mut Trace| -> Vec<usize> {
            let scan = trace.scan(when).unwrap_or_else(|| unreachable!("a scan"));
            (scan.hits.iter().flatten()).map(|h| h.index).collect()
        };
        assert_eq!(found(&mut trace), [1], "the first record decides");
        if let Some(scan) = trace.scan_mut(when) {
            evaluator.complete(scan);
        }
        assert_eq!(found(&mut trace), [1, 3], "a witness reads the rest");
        // One that failed needs no records.
        let person = record(&policy, &[false, false]);
        let evaluator = Evaluator::new(plan, &facts, &person, 0);
        trace.clear();
        assert!(!evaluator.traced(when, &mut trace));
        assert!(trace.scan(when).is_none());
    }

    /// Deciding with witnesses takes the steps of deciding alone: the
    /// witnesses read the trace, their quantifier is not run again.
    #[test]
    fn witnesses_cost_no_second_evaluation() {
        let policy = Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        let facts = Facts::empty(plan);
        // Only the last record holds: deciding alone reads every one.
        let person = record(&policy, &[false, false, false, true]);
        let verdict = Budget::unlimited();
        let (outcome, _) = Evaluator::within(plan, &facts, &person, 0, &verdict).verdict();
        assert_eq!(plan.program.outcomes[outcome], "red");
        let decision = Budget::unlimited();
        let d = Evaluator::within(plan, &facts, &person, 0, &decision).decide(Vec::new());
        assert_eq!(d.rules.len(), 1);
        assert!(!d.rules[0].witnesses.is_empty());
        assert!(verdict.spent() > 0);
        assert_eq!(decision.spent(), verdict.spent());
        // The first record holds: deciding alone stops there, the
        // witnesses read the others, each record once (a step for the
        // record, one for its `count`).
        let person = record(&policy, &[true, true, false, true]);
        let decision = Budget::unlimited();
        let d = Evaluator::within(plan, &facts, &person, 0, &decision).decide(Vec::new());
        let crate::witness::Witness::Found { records, .. } = &d.rules[0].witnesses[0] else {
            unreachable!("records found")
        };
        assert_eq!(records.len(), 3);
        assert_eq!(decision.spent(), 2 * 4);
    }

    /// With `next_change`, the verdict that notes horizons records what
    /// the witnesses read: deciding after it evaluates no rule again, and
    /// an explanation's rule reports neither.
    #[test]
    fn witnesses_read_the_verdict_that_noted_horizons() {
        let policy = Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        let facts = Facts::empty(plan);
        let person = record(&policy, &[true, true, false, true]);
        let budget = Budget::unlimited();
        let (evaluator, _) =
            crate::eval::what_if::tracked(plan, &facts, &person, 0, &budget, false);
        // The first record decides for good: the verdict stops there.
        assert_eq!(budget.spent(), 2);
        let reports = evaluator.rule_reports();
        assert_eq!(reports[0].state, crate::eval::RuleState::Fired);
        let d = evaluator.decide(Vec::new());
        let crate::witness::Witness::Found { records, .. } = &d.rules[0].witnesses[0] else {
            unreachable!("records found")
        };
        assert_eq!(records.len(), 3);
        // Each record read once by the decision, and once more by the
        // rule reports, which complete a copy of the trace.
        assert_eq!(budget.spent(), 2 + 2 * 2 * 3);
    }
}
