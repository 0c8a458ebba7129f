//! Why a condition came out as it did: the records behind it, as
//! [`Witness`]es. Only run for rules that fired (and, for `policyc
//! explain`, for the rest), so deciding stays cheap.

use super::Evaluator;
use crate::check::ir::{Builtin, Expr, ExprKind};
use crate::check::{Rule, Warning};
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
        let plan: &'p crate::compile::Plan = self.plan;
        plan.program
            .rules
            .iter()
            .map(|rule| {
                let when = self.test(&rule.when);
                let mut witnesses = Vec::new();
                self.witnesses(&rule.when, when, &mut witnesses);
                let mut exception = Vec::new();
                let mut state = if when {
                    RuleState::Fired
                } else {
                    RuleState::NotMet
                };
                if let (true, Some(u)) = (when, &rule.unless) {
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
        let plan: &'p crate::compile::Plan = self.plan;
        plan.program
            .warnings
            .iter()
            .filter(|w| self.test(&w.when))
            .map(|w| {
                let mut witnesses = Vec::new();
                self.witnesses(&w.when, true, &mut witnesses);
                (w, witnesses)
            })
            .collect()
    }

    /// Adds to `out` what made `cond` come out as `held`.
    pub(crate) fn witnesses(&self, cond: &'p Expr, held: bool, out: &mut Vec<Witness<'p>>) {
        match (&cond.kind, held) {
            (ExprKind::And(a, b), true) => {
                self.witnesses(a, true, out);
                self.witnesses(b, true, out);
            }
            (ExprKind::Or(a, b), false) => {
                self.witnesses(a, false, out);
                self.witnesses(b, false, out);
            }
            (ExprKind::Or(a, b), true) => {
                let side = if self.test(a) { a } else { b };
                self.witnesses(side, true, out);
            }
            (ExprKind::And(a, b), false) => {
                let side = if self.test(a) { b } else { a };
                self.witnesses(side, false, out);
            }
            (ExprKind::Not(a), _) => self.witnesses(a, !held, out),
            // Elements that match: the witnesses of `any`, the
            // counter-examples of a failed `no`.
            (ExprKind::Quantifier(Quant::Any, subject, body), true)
            | (ExprKind::Quantifier(Quant::No, subject, body), false) => {
                let list = self.eval(subject);
                let ty = subject.ty.element().unwrap_or(&UNKNOWN);
                let records = list
                    .elements()
                    .iter()
                    .filter(|item| body.as_ref().is_none_or(|b| self.holds_for(item, b)))
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
                    list: self.source_text(subject),
                    condition: body.as_ref().map(|b| self.source_text(b)),
                    records,
                });
            }
            // The records that break an `all`.
            (ExprKind::Quantifier(Quant::All, subject, Some(body)), false) => {
                let list = self.eval(subject);
                let ty = subject.ty.element().unwrap_or(&UNKNOWN);
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
                    list: self.source_text(subject),
                    condition: Some(format!("not ({})", self.source_text(body))),
                    records,
                });
            }
            // A condition given a name: what stands behind the name.
            (ExprKind::Let(i), _) if matches!(cond.ty, Type::Bool) => {
                let plan: &'p crate::compile::Plan = self.plan;
                match plan.program.lets.get(*i) {
                    Some(l) => self.witnesses(&l.value, held, out),
                    None => out.push(Witness::Condition {
                        text: self.source_text(cond),
                        held,
                    }),
                }
            }
            (ExprKind::Quantifier(Quant::Any, subject, Some(body)), false)
            | (ExprKind::Quantifier(Quant::No, subject, Some(body)), true) => {
                out.push(Witness::Nothing {
                    list: self.source_text(subject),
                    condition: self.source_text(body),
                    window: self.window(body),
                });
            }
            _ => out.push(Witness::Condition {
                text: self.source_text(cond),
                held,
            }),
        }
    }

    /// A condition as its author wrote it, on one line.
    pub(crate) fn source_text(&self, e: &Expr) -> String {
        let text = self.plan.program.source.slice(e.span);
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The memberships among the conjuncts of `body` that `item` satisfies,
    /// each with the entries of the data that gave it.
    fn matches(&self, item: &Value, body: &'p Expr) -> Vec<Match<'p>> {
        let mut out = Vec::new();
        for c in conjuncts(body) {
            let (value, collection) = match &c.kind {
                ExprKind::Member {
                    negated: false,
                    value,
                    collection,
                } => (value, collection),
                ExprKind::InRegion {
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
            out.push(Match {
                condition: self.source_text(c),
                value: found,
                ty: &value.ty,
                collection: self.source_text(collection),
                members_of: self.source_text(origin),
                members,
                members_ty: origin.ty.element().unwrap_or(&origin.ty),
            });
        }
        out
    }

    /// The data behind `collection` and its entries that make `value` one
    /// of its members: for `prefectures(S)`, `S` and its regions in the
    /// prefecture `value`; otherwise the collection and `value` itself.
    fn origins(&self, collection: &'p Expr, value: &Value, item: &Value) -> (&'p Expr, Vec<Value>) {
        let source = self.definition(collection);
        if let ExprKind::Call(builtin @ (Builtin::Prefectures | Builtin::Provinces), args) =
            &source.kind
            && let Some(arg) = args.first()
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

    /// What a hoisted value or a `let` stands for; any other expression
    /// stands for itself.
    fn definition(&self, e: &'p Expr) -> &'p Expr {
        match &e.kind {
            ExprKind::Hoisted(i) => self.plan.hoisted.get(*i).map_or(e, |h| self.definition(h)),
            ExprKind::Let(i) => self
                .plan
                .program
                .lets
                .get(*i)
                .map_or(e, |l| self.definition(&l.value)),
            _ => e,
        }
    }

    /// The window of time that the conjuncts of `body` give one instant of
    /// the record: `sampled_at within 48h` gives `[now - 48h, now]`,
    /// `at >= T` gives `[T, ∞)`. The first such instant is taken, and all
    /// its bounds are intersected.
    fn window(&self, body: &'p Expr) -> Option<Window> {
        let mut window: Option<(&Expr, Window)> = None;
        for c in conjuncts(body) {
            let Some((of, from, to)) = self.bounds(c) else {
                continue;
            };
            match &mut window {
                None => {
                    let of_text = self.source_text(of);
                    window = Some((
                        of,
                        Window {
                            of: of_text,
                            from,
                            to,
                        },
                    ));
                }
                Some((first, w)) if first.span == of.span || same_read(first, of) => {
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
    fn bounds(&self, c: &'p Expr) -> Option<(&'p Expr, Option<i64>, Option<i64>)> {
        let instant = |e: &Expr| match self.eval(e) {
            Value::Time(t) => Some(t),
            _ => None,
        };
        match &c.kind {
            ExprKind::Within(t, w) if t.reads_element() && !w.reads_element() => match self.eval(w)
            {
                Value::Interval(a, b) => Some((t, Some(a), Some(b))),
                _ => None,
            },
            ExprKind::Compare(op, a, b) if a.reads_element() != b.reads_element() => {
                let (of, bound, op) = if a.reads_element() {
                    (a, b, *op)
                } else {
                    (b, a, flip(*op))
                };
                if !matches!(of.ty.non_optional(), Type::Time) {
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
fn same_read(a: &Expr, b: &Expr) -> bool {
    match (&a.kind, &b.kind) {
        (ExprKind::ElementField(d, s), ExprKind::ElementField(e, t)) => d == e && s == t,
        _ => false,
    }
}

/// The conjuncts of a condition: `A and B and C` gives A, B, C.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::And(a, b) => {
            let mut out = conjuncts(a);
            out.extend(conjuncts(b));
            out
        }
        _ => vec![e],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::Span;

    fn expr(kind: ExprKind, ty: Type) -> Expr {
        Expr::new(kind, ty, Span::default())
    }

    #[test]
    fn conjuncts_flatten_nested_ands_in_order() {
        let leaf = |i| expr(ExprKind::ElementField(0, i), Type::Bool);
        let e = expr(
            ExprKind::And(
                Box::new(expr(
                    ExprKind::And(Box::new(leaf(0)), Box::new(leaf(1))),
                    Type::Bool,
                )),
                Box::new(leaf(2)),
            ),
            Type::Bool,
        );
        let slots: Vec<_> = conjuncts(&e)
            .iter()
            .map(|c| match c.kind {
                ExprKind::ElementField(_, s) => s,
                _ => usize::MAX,
            })
            .collect();
        assert_eq!(slots, [0, 1, 2]);
    }

    #[test]
    fn a_comparison_reads_from_the_side_of_the_record() {
        assert_eq!(flip(BinaryOp::Lt), BinaryOp::Gt);
        assert_eq!(flip(BinaryOp::Ge), BinaryOp::Le);
        assert_eq!(flip(BinaryOp::Eq), BinaryOp::Eq);
        let field = expr(ExprKind::ElementField(0, 1), Type::Time);
        let now = expr(ExprKind::Now, Type::Time);
        assert!(field.reads_element());
        assert!(!now.reads_element());
        let cmp = expr(
            ExprKind::Compare(BinaryOp::Lt, Box::new(now), Box::new(field)),
            Type::Bool,
        );
        assert!(cmp.reads_element());
    }
}
