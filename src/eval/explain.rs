//! Why a condition came out as it did: the records behind it, as
//! [`Witness`]es. Only run for rules that fired (and, for `policyc
//! explain`, for the rest), so deciding stays cheap.

use super::Evaluator;
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
        (plan.program.rules.iter().zip(&plan.rules))
            .map(|(rule, roots)| {
                let when = self.test(roots.when);
                let mut witnesses = Vec::new();
                self.witnesses(roots.when, when, &mut witnesses);
                let mut exception = Vec::new();
                let mut state = if when {
                    RuleState::Fired
                } else {
                    RuleState::NotMet
                };
                if let (true, Some(u)) = (when, roots.unless) {
                    let unless = self.test(u);
                    self.witnesses(u, unless, &mut exception);
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
        (plan.program.warnings.iter().zip(&plan.warnings))
            .filter(|(_, when)| self.test(**when))
            .map(|(w, &when)| {
                let mut witnesses = Vec::new();
                self.witnesses(when, true, &mut witnesses);
                (w, witnesses)
            })
            .collect()
    }

    /// Adds to `out` what made `cond` come out as `held`.
    pub(crate) fn witnesses(&self, cond: Id, held: bool, out: &mut Vec<Witness<'p>>) {
        let plan: &'p Plan = self.plan;
        match (plan.op(cond), held) {
            (&Op::And(a, b), true) => {
                self.witnesses(a, true, out);
                self.witnesses(b, true, out);
            }
            (&Op::Or(a, b), false) => {
                self.witnesses(a, false, out);
                self.witnesses(b, false, out);
            }
            (&Op::Or(a, b), true) => {
                let side = if self.test(a) { a } else { b };
                self.witnesses(side, true, out);
            }
            (&Op::And(a, b), false) => {
                let side = if self.test(a) { b } else { a };
                self.witnesses(side, false, out);
            }
            (&Op::Not(a), _) => self.witnesses(a, !held, out),
            // Elements that match: the witnesses of `any`, the
            // counter-examples of a failed `no`.
            (&Op::Quantifier(Quant::Any, subject, body), true)
            | (&Op::Quantifier(Quant::No, subject, body), false) => {
                let list = self.eval(subject);
                let ty = plan.node(subject).ty.element().unwrap_or(&UNKNOWN);
                let records = list
                    .elements()
                    .iter()
                    .filter(|item| body.is_none_or(|b| self.holds_for(item, b)))
                    .map(|item| Found {
                        record: item.clone(),
                        ty,
                        matched: match body {
                            Some(b) if self.detailed => self.matches(item, b),
                            _ => Vec::new(),
                        },
                    })
                    .collect();
                out.push(Witness::Found {
                    list: plan.text(subject),
                    condition: body.map(|b| plan.text(b)),
                    records,
                });
            }
            // The records that break an `all`.
            (&Op::Quantifier(Quant::All, subject, Some(body)), false) => {
                let list = self.eval(subject);
                let ty = plan.node(subject).ty.element().unwrap_or(&UNKNOWN);
                let records = list
                    .elements()
                    .iter()
                    .filter(|item| !self.holds_for(item, body))
                    .map(|item| Found {
                        record: item.clone(),
                        ty,
                        matched: Vec::new(),
                    })
                    .collect();
                out.push(Witness::Found {
                    list: plan.text(subject),
                    condition: Some(format!("not ({})", plan.text(body))),
                    records,
                });
            }
            // A condition given a name: what stands behind the name.
            (&Op::Let(i), _) if matches!(plan.node(cond).ty, Type::Bool) => {
                match plan.lets.get(i) {
                    Some(&l) => self.witnesses(l, held, out),
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
                    condition: plan.text(body),
                    window: self.window(body),
                });
            }
            _ => out.push(Witness::Condition {
                text: plan.text(cond),
                held,
            }),
        }
    }

    /// The memberships among the conjuncts of `body` that `item` satisfies,
    /// each with the entries of the data that gave it.
    fn matches(&self, item: &Value, body: Id) -> Vec<Match<'p>> {
        let plan: &'p Plan = self.plan;
        let mut out = Vec::new();
        for c in conjuncts(plan, body) {
            let (value, collection) = match *plan.op(c) {
                Op::Member {
                    negated: false,
                    value,
                    collection,
                } => (value, collection),
                Op::InRegion {
                    negated: false,
                    inner,
                    outer,
                } => (inner, outer),
                _ => continue,
            };
            if !self.holds_for(item, c) {
                continue;
            }
            let found = self.eval_for(item, value);
            let (origin, members) = self.origins(collection, &found, item);
            let origin_ty = &plan.node(origin).ty;
            out.push(Match {
                condition: plan.text(c),
                value: found,
                ty: &plan.node(value).ty,
                collection: plan.text(collection),
                members_of: plan.text(origin),
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
            Value::Time(t) => Some(t),
            _ => None,
        };
        match *plan.op(c) {
            Op::Within(t, w) if plan.reads_element(t) && !plan.reads_element(w) => {
                match self.eval(w) {
                    Value::Interval(a, b) => Some((t, Some(a), Some(b))),
                    _ => None,
                }
            }
            Op::Compare(op, a, b) if plan.reads_element(a) != plan.reads_element(b) => {
                let (of, bound, op) = if plan.reads_element(a) {
                    (a, b, op)
                } else {
                    (b, a, flip(op))
                };
                if !matches!(plan.node(of).ty.non_optional(), Type::Time) {
                    return None;
                }
                let t = instant(bound)?;
                match op {
                    BinaryOp::Ge => Some((of, Some(t), None)),
                    BinaryOp::Gt => Some((of, Some(t.saturating_add(1)), None)),
                    BinaryOp::Le => Some((of, None, Some(t))),
                    BinaryOp::Lt => Some((of, None, Some(t.saturating_sub(1)))),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// `A < B` read from `B`'s side: `B > A`.
pub(super) fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
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
fn conjuncts(plan: &Plan, e: Id) -> Vec<Id> {
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
        assert_eq!(flip(BinaryOp::Lt), BinaryOp::Gt);
        assert_eq!(flip(BinaryOp::Ge), BinaryOp::Le);
        assert_eq!(flip(BinaryOp::Eq), BinaryOp::Eq);
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
