//! Why a condition came out as it did: the records behind it, as
//! [`Witness`]es. Only run for rules that fired (and, for `policyc
//! explain`, for the rest), so deciding stays cheap.

use super::trace::{Scan, Trace};
use super::{Evaluator, window};
use crate::check::ir::Builtin;
use crate::check::{Rule, Warning};
use crate::compile::{Id, Op, Plan};
use crate::region;
use crate::syntax::{BinaryOp, Quant};
use crate::types::Type;
use crate::value::Value;
use crate::witness::{Found, Match, Window, Witness};

/// The type of what has none.
static UNKNOWN: Type = Type::Error;

/// How one rule came out for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleState {
    /// Its condition held and its exception (if any) did not: it fired.
    Fired,
    /// Its condition did not hold.
    NotMet,
    /// Its condition held, but so did its exception (`unless`).
    Excepted,
}

/// A rule, how it came out and the records behind that.
#[derive(Debug, Clone)]
pub struct RuleReport<'p> {
    /// The rule.
    pub rule: &'p Rule,
    /// How it came out.
    pub state: RuleState,
    /// Why its condition held (or did not).
    pub witnesses: Vec<Witness<'p>>,
    /// Why its exception held (or did not), when it has one and the
    /// condition held.
    pub exception: Vec<Witness<'p>>,
}

impl<'p> Evaluator<'p, '_> {
    /// Every rule of the policy, in order, with how it came out and why:
    /// for a person to read. More work than deciding, so only asked for
    /// by explanations.
    pub fn rule_reports(&self) -> Vec<RuleReport<'p>> {
        let plan: &'p Plan = self.plan;
        let mut trace = Trace::default();
        (plan.program.rules.iter().zip(&plan.rules))
            .enumerate()
            .map(|(i, (rule, roots))| {
                // What the verdict recorded, when it did: nothing is
                // evaluated again.
                let recorded = self.traces.get(i).and_then(Option::as_ref);
                let held = |id: Id, trace: &mut Trace| match recorded {
                    Some(_) => trace.held(id).unwrap_or(false),
                    None => self.traced(id, trace),
                };
                match recorded {
                    Some((_, verdict)) => trace.clone_from(verdict),
                    None => trace.clear(),
                }
                let when = held(roots.when, &mut trace);
                let mut witnesses = Vec::new();
                self.witnesses(&mut trace, roots.when, when, &mut witnesses);
                let mut exception = Vec::new();
                let mut state = if when {
                    RuleState::Fired
                } else {
                    RuleState::NotMet
                };
                if let (true, Some(u)) = (when, roots.unless) {
                    let unless = held(u, &mut trace);
                    self.witnesses(&mut trace, u, unless, &mut exception);
                    if unless {
                        state = RuleState::Excepted;
                    }
                }
                RuleReport {
                    rule,
                    state,
                    witnesses,
                    exception,
                }
            })
            .collect()
    }

    /// The policy's warnings that hold, each with its records.
    pub fn warning_reports(&self) -> Vec<(&'p Warning, Vec<Witness<'p>>)> {
        let plan: &'p Plan = self.plan;
        let mut trace = Trace::default();
        (plan.program.warnings.iter().zip(&plan.warnings))
            .filter_map(|(w, &when)| {
                trace.clear();
                self.traced(when, &mut trace).then(|| {
                    let mut witnesses = Vec::new();
                    self.witnesses(&mut trace, when, true, &mut witnesses);
                    (w, witnesses)
                })
            })
            .collect()
    }

    /// Whether the condition `id` holds for `trace`, evaluated by
    /// [`Evaluator::traced`].
    fn held(&self, trace: &Trace, id: Id) -> bool {
        match trace.held(id).or_else(|| self.lets_trace.held(id)) {
            Some(held) => held,
            None => self.test(id),
        }
    }

    /// Adds to `out` what made `cond` come out as `held`, as `trace`
    /// recorded it.
    pub(crate) fn witnesses(
        &self,
        trace: &mut Trace,
        cond: Id,
        held: bool,
        out: &mut Vec<Witness<'p>>,
    ) {
        let plan: &'p Plan = self.plan;
        match (plan.op(cond), held) {
            (&Op::And(a, b), true) => {
                self.witnesses(trace, a, true, out);
                self.witnesses(trace, b, true, out);
            }
            (&Op::Or(a, b), false) => {
                self.witnesses(trace, a, false, out);
                self.witnesses(trace, b, false, out);
            }
            (&Op::Or(a, b), true) => {
                let side = if self.held(trace, a) { a } else { b };
                self.witnesses(trace, side, true, out);
            }
            (&Op::And(a, b), false) => {
                let side = if self.held(trace, a) { b } else { a };
                self.witnesses(trace, side, false, out);
            }
            (&Op::Not(a), _) => self.witnesses(trace, a, !held, out),
            // Elements that match: the witnesses of `any`, the
            // counter-examples of a failed `no`; the records that break an
            // `all`.
            (&Op::Quantifier(quant, subject, body), _)
                if matches!(
                    (quant, held),
                    (Quant::Any, true) | (Quant::No | Quant::All, false)
                ) && (body.is_some() || quant != Quant::All) =>
            {
                let ty = plan.node(subject).ty.element().unwrap_or(&UNKNOWN);
                if let Some(scan) = trace.scan_mut(cond) {
                    self.complete(scan);
                }
                let records = match self.scan_of(trace, cond) {
                    Some(scan) => self.found(scan, body, ty),
                    None => Vec::new(),
                };
                let condition = match (quant, body) {
                    (Quant::All, Some(b)) => Some(format!("not ({})", plan.text(b))),
                    (_, b) => b.map(|b| plan.text(b)),
                };
                out.push(Witness::Found {
                    list: plan.text(subject),
                    list_name: plan.node(subject).name.as_deref(),
                    condition,
                    records,
                });
            }
            // A condition given a name: what stands behind the name.
            (&Op::Let(i), _) if matches!(plan.node(cond).ty, Type::Bool) => {
                match plan.lets.get(i) {
                    Some(&l) => {
                        if trace.held(l).or_else(|| self.lets_trace.held(l)).is_none() {
                            // Traced where the `let` was computed, unless its
                            // evaluator tracked horizons: then here.
                            self.noted(l, trace);
                        }
                        self.witnesses(trace, l, held, out)
                    }
                    None => out.push(Witness::Condition {
                        text: plan.text(cond),
                        held,
                    }),
                }
            }
            (&Op::Quantifier(Quant::Any, subject, Some(body)), false)
            | (&Op::Quantifier(Quant::No, subject, Some(body)), true) => {
                out.push(Witness::Nothing {
                    list: plan.text(subject),
                    list_name: plan.node(subject).name.as_deref(),
                    condition: plan.text(body),
                    window: self.window(body),
                });
            }
            (&Op::If(c, a, b), _) => {
                let then = self.held(trace, c);
                out.push(Witness::Arm {
                    guard: plan.text(c),
                    then,
                });
                // Why the condition came out so, when more than itself
                // says it (the records of a quantifier).
                let mut why = Vec::new();
                self.witnesses(trace, c, then, &mut why);
                if !matches!(why[..], [Witness::Condition { .. }]) {
                    out.extend(why);
                }
                self.witnesses(trace, if then { a } else { b }, held, out);
            }
            _ => {
                out.push(Witness::Condition {
                    text: plan.text(cond),
                    held,
                });
                let mut ifs = Vec::new();
                super::trace::guards(plan, cond, &mut ifs);
                for g in ifs {
                    if let Some(then) = trace.held(g).or_else(|| self.lets_trace.held(g)) {
                        out.push(Witness::Arm {
                            guard: plan.text(g),
                            then,
                        });
                    }
                }
            }
        }
    }

    /// The records quantifier `id` found, from `trace` or the `let`s'.
    fn scan_of<'t>(&'t self, trace: &'t Trace, id: Id) -> Option<&'t Scan> {
        trace.scan(id).or_else(|| self.lets_trace.scan(id))
    }

    /// The records of a scan, as witnesses show them.
    fn found(&self, scan: &Scan, body: Option<Id>, ty: &'p Type) -> Vec<Found<'p>> {
        let items = scan.list.elements();
        let found = |item: &Value, looked_for: &[(Id, Value)]| Found {
            record: item.clone(),
            ty,
            matched: match body {
                Some(_) if self.detailed => self.matches(item, looked_for),
                _ => Vec::new(),
            },
        };
        match &scan.hits {
            None => items.iter().map(|item| found(item, &[])).collect(),
            Some(hits) => (hits.iter())
                .filter_map(|h| Some(found(items.get(h.index)?, &h.looked_for)))
                .collect(),
        }
    }

    /// The memberships among the conjuncts of a body that `item`
    /// satisfied, as the scan recorded them, each with the entries of the
    /// data that gave it.
    fn matches(&self, item: &Value, looked_for: &[(Id, Value)]) -> Vec<Match<'p>> {
        let plan: &'p Plan = self.plan;
        let mut out = Vec::new();
        for (c, found) in looked_for {
            let (value, collection) = match *plan.op(*c) {
                Op::Member {
                    value, collection, ..
                } => (value, collection),
                Op::InRegion { inner, outer, .. } => (inner, outer),
                _ => continue,
            };
            let (origin, members) = self.origins(collection, found, item);
            let origin_ty = &plan.node(origin).ty;
            out.push(Match {
                condition: plan.text(*c),
                value: found.clone(),
                ty: &plan.node(value).ty,
                collection: plan.text(collection),
                members_of: plan.text(origin),
                members_of_name: plan.node(origin).name.as_deref(),
                members,
                members_ty: origin_ty.element().unwrap_or(origin_ty),
            });
        }
        out
    }

    /// The data behind `collection` and its entries that make `value` one
    /// of its members: for `prefectures(S)`, `S` and its regions in the
    /// prefecture `value`; otherwise the collection and `value` itself.
    fn origins(&self, collection: Id, value: &Value, item: &Value) -> (Id, Vec<Value>) {
        let plan = self.plan;
        let source = plan.definition(collection);
        if let Op::Call(builtin @ (Builtin::Prefectures | Builtin::Provinces), args) =
            plan.op(source)
            && let Some(&arg) = args.first()
            && let Value::Region(target) = value
        {
            let up = match builtin {
                Builtin::Prefectures => region::prefecture_of,
                _ => region::province_of,
            };
            let members = self
                .eval_for(item, arg)
                .elements()
                .iter()
                .filter(|m| matches!(m, Value::Region(code) if up(*code) == Some(*target)))
                .cloned()
                .collect();
            return (arg, members);
        }
        (collection, vec![value.clone()])
    }

    /// The window of time that the conjuncts of `body` give one instant of
    /// the record: `sampled_at within 48h` gives `[now - 48h, now]`,
    /// `at >= T` gives `[T, ∞)`. The first such instant is taken, and all
    /// its bounds are intersected.
    fn window(&self, body: Id) -> Option<Window> {
        let plan = self.plan;
        let mut window: Option<(Id, Window)> = None;
        for c in conjuncts(plan, body) {
            let Some((of, from, to)) = self.bounds(c) else {
                continue;
            };
            match &mut window {
                None => {
                    let of_text = plan.text(of);
                    window = Some((
                        of,
                        Window {
                            of: of_text,
                            from,
                            to,
                        },
                    ));
                }
                Some((first, w))
                    if plan.node(*first).span == plan.node(of).span
                        || same_read(plan, *first, of) =>
                {
                    w.from = w.from.max(from);
                    w.to = match (w.to, to) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Some(_) => {}
            }
        }
        window.map(|(_, w)| w)
    }

    /// The record's instant a condition bounds, and the bounds, when the
    /// bounds do not depend on the record.
    fn bounds(&self, c: Id) -> Option<(Id, Option<i64>, Option<i64>)> {
        let plan = self.plan;
        let instant = |e: Id| match self.eval(e) {
            Value::Time(t) => Some(i128::from(t)),
            _ => None,
        };
        let clamp = |v: Option<i128>| {
            v.map(|v| i64::try_from(v).unwrap_or(if v > 0 { i64::MAX } else { i64::MIN }))
        };
        match *plan.op(c) {
            Op::Within(t, w) if plan.reads_element(t) && !plan.reads_element(w) => {
                match self.eval(w) {
                    // `a <= t and t <= b`
                    Value::Interval(a, b) => {
                        let (from, _) = window::holding(BinaryOp::Ge, a.into())?;
                        let (_, to) = window::holding(BinaryOp::Le, b.into())?;
                        Some((t, clamp(from), clamp(to)))
                    }
                    _ => None,
                }
            }
            Op::Compare(op, a, b) if plan.reads_element(a) != plan.reads_element(b) => {
                let (of, bound, op) = if plan.reads_element(a) {
                    (a, b, op)
                } else {
                    (b, a, window::flip(op))
                };
                let ordered = matches!(
                    op,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                );
                if !ordered || !matches!(plan.node(of).ty.non_optional(), Type::Time) {
                    return None;
                }
                let (from, to) = window::holding(op, instant(bound)?)?;
                Some((of, clamp(from), clamp(to)))
            }
            _ => None,
        }
    }
}

/// Two reads of the same field of the record.
fn same_read(plan: &Plan, a: Id, b: Id) -> bool {
    match (plan.op(a), plan.op(b)) {
        (Op::ElementField(d, s), Op::ElementField(e, t)) => d == e && s == t,
        _ => false,
    }
}

/// The conjuncts of a condition: `A and B and C` gives A, B, C.
pub(super) fn conjuncts(plan: &Plan, e: Id) -> Vec<Id> {
    match *plan.op(e) {
        Op::And(a, b) => {
            let mut out = conjuncts(plan, a);
            out.extend(conjuncts(plan, b));
            out
        }
        _ => vec![e],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(when: &str) -> crate::Policy {
        let text = format!(
            "policy p\noutcomes green < red\ninput person {{ tests: list of {{ a: bool, b: bool, c: bool, at: time }} }}\nrule r when {when} then red\notherwise green\n"
        );
        crate::Policy::compile("p", &text).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn conjuncts_flatten_nested_ands_in_order() {
        let policy = plan("any person.tests has (a and b) and c");
        let plan = policy.plan();
        let &Op::Quantifier(_, _, Some(body)) = plan.op(plan.rules[0].when) else {
            unreachable!("a quantifier")
        };
        let texts: Vec<_> = conjuncts(plan, body)
            .into_iter()
            .map(|c| plan.text(c))
            .collect();
        assert_eq!(texts, ["a", "b", "c"]);
    }

    #[test]
    fn a_comparison_reads_from_the_side_of_the_record() {
        let policy = plan("any person.tests has now < at");
        let plan = policy.plan();
        let &Op::Quantifier(_, _, Some(body)) = plan.op(plan.rules[0].when) else {
            unreachable!("a quantifier")
        };
        let &Op::Compare(_, now, at) = plan.op(body) else {
            unreachable!("a comparison")
        };
        assert!(plan.reads_element(at) && plan.reads_element(body));
        assert!(!plan.reads_element(now));
        assert!(plan.reads_element_at(at, 0) && !plan.reads_element_at(at, 1));
    }
}
