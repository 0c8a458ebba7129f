//! The commonest conditions a `where`/`has` tests on each element, decoded
//! once when the plan is made: a membership of a field of the element in a
//! `let`, a fact or a hoisted value (`phone in checked_phones.number`), an
//! overlap of an interval of two of its fields with a window (`[from, to or
//! now] overlaps 14d`), a field in a constant region (`region not in
//! province "110000"`), and `and`, `or`, `not` of these. The evaluator
//! answers them from their form, without walking their nodes
//! (`eval/expr.rs`), and only where it notes no horizon and records nothing:
//! what they give is what their nodes give.

use super::node::{Id, Op};
use crate::check::ir::Builtin;

/// How a node is evaluated: by walking its op, or from a decoded form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As its op says.
    Generic,
    /// `f in C` (`not in` when `negated`): `f` the field at `slot` of the
    /// element bound at `depth`, `C` read in place.
    MemberField {
        /// `not in`
        negated: bool,
        /// The binder of the element (0 is the outermost).
        depth: u32,
        /// The field's slot.
        slot: u32,
        /// Where the collection is.
        collection: Collection,
    },
    /// `[f, g] overlaps W`, or `[f, g or now] overlaps W` when `or_now`:
    /// `f` and `g` fields of the element bound at `depth`.
    OverlapsFields {
        /// The binder of the element.
        depth: u32,
        /// The slot of the interval's start.
        from: u32,
        /// The slot of its end.
        to: u32,
        /// Whether an end that is none is `now`.
        or_now: bool,
        /// The window.
        window: Id,
    },
    /// `prefecture(f) in C` (`province(f)` when `province`; `not in` when
    /// `negated`): `f` the field at `slot` of the element bound at
    /// `depth`, `C` read in place.
    MemberRegionOf {
        /// `not in`
        negated: bool,
        /// `province(f)`, not `prefecture(f)`.
        province: bool,
        /// The binder of the element.
        depth: u32,
        /// The field's slot.
        slot: u32,
        /// Where the collection is.
        collection: Collection,
    },
    /// `f in R` (`not in` when `negated`): `f` a field of the element bound
    /// at `depth`, `R` a constant region.
    InRegionField {
        /// `not in`
        negated: bool,
        /// The binder of the element.
        depth: u32,
        /// The field's slot.
        slot: u32,
        /// The region's code.
        outer: u32,
    },
    /// `A and B`, both decoded.
    And(Id, Id),
    /// `A or B` on booleans, both decoded.
    Or(Id, Id),
    /// `not A`, `A` decoded.
    Not(Id),
}

/// A collection that exists before the test that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// `let` `i` (a hidden one included).
    Let(u32),
    /// A fact, by slot.
    Fact(u32),
    /// A hoisted value.
    Hoisted(u32),
}

/// The form of every node of `ops`, by [`Id`].
pub(super) fn forms(ops: &[Op]) -> Box<[Form]> {
    let mut forms = vec![None; ops.len()];
    for i in 0..ops.len() {
        form(ops, Id::new(i), &mut forms);
    }
    forms
        .into_iter()
        .map(|f| f.unwrap_or(Form::Generic))
        .collect()
}

/// The form of `e`, made once (`forms` holds those made).
fn form(ops: &[Op], e: Id, forms: &mut [Option<Form>]) -> Form {
    if let Some(Some(f)) = forms.get(e.index()) {
        return *f;
    }
    let f = match ops.get(e.index()) {
        Some(op) => decoded(ops, op, forms).unwrap_or(Form::Generic),
        None => Form::Generic,
    };
    if let Some(slot) = forms.get_mut(e.index()) {
        *slot = Some(f);
    }
    f
}

fn small(n: usize) -> Option<u32> {
    u32::try_from(n).ok()
}

/// The element field `e` reads: its binder and slot.
fn element_field(ops: &[Op], e: Id) -> Option<(u32, u32)> {
    match *ops.get(e.index())? {
        Op::ElementField(depth, slot) => Some((small(depth)?, small(slot)?)),
        _ => None,
    }
}

fn collection(ops: &[Op], e: Id) -> Option<Collection> {
    Some(match *ops.get(e.index())? {
        Op::Let(i) => Collection::Let(small(i)?),
        Op::Fact(slot) => Collection::Fact(small(slot)?),
        Op::Hoisted(i) => Collection::Hoisted(small(i)?),
        _ => return None,
    })
}

/// The end of an interval: a field, or a field `or now`.
fn end(ops: &[Op], e: Id) -> Option<((u32, u32), bool)> {
    match ops.get(e.index())? {
        &Op::Coalesce(field, now) if matches!(ops.get(now.index()), Some(Op::Now)) => {
            Some((element_field(ops, field)?, true))
        }
        _ => Some((element_field(ops, e)?, false)),
    }
}

fn decoded(ops: &[Op], op: &Op, forms: &mut [Option<Form>]) -> Option<Form> {
    let mut sub = |e: Id| (form(ops, e, forms) != Form::Generic).then_some(e);
    match *op {
        Op::And(a, b) => Some(Form::And(sub(a)?, sub(b)?)),
        Op::Or(a, b) => Some(Form::Or(sub(a)?, sub(b)?)),
        Op::Not(a) => Some(Form::Not(sub(a)?)),
        Op::InRegion {
            negated,
            inner,
            outer,
        } => {
            let (depth, slot) = element_field(ops, inner)?;
            let &Op::Const(crate::value::Value::Region(outer)) = ops.get(outer.index())? else {
                return None;
            };
            Some(Form::InRegionField {
                negated,
                depth,
                slot,
                outer,
            })
        }
        Op::Member {
            negated,
            value,
            collection: c,
        } => {
            let collection = collection(ops, c)?;
            if let Op::Call(builtin @ (Builtin::Prefecture | Builtin::Province), args) =
                ops.get(value.index())?
            {
                let &[arg] = &args[..] else {
                    return None;
                };
                let (depth, slot) = element_field(ops, arg)?;
                return Some(Form::MemberRegionOf {
                    negated,
                    province: matches!(builtin, Builtin::Province),
                    depth,
                    slot,
                    collection,
                });
            }
            let (depth, slot) = element_field(ops, value)?;
            Some(Form::MemberField {
                negated,
                depth,
                slot,
                collection,
            })
        }
        Op::Overlaps(interval, window) => {
            let &Op::Interval(a, b) = ops.get(interval.index())? else {
                return None;
            };
            let ((depth, from), false) = end(ops, a)? else {
                return None;
            };
            let ((to_depth, to), or_now) = end(ops, b)?;
            (to_depth == depth).then_some(Form::OverlapsFields {
                depth,
                from,
                to,
                or_now,
                window,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Collection, Form};
    use crate::compile::Op;

    const TEXT: &str = r#"
        policy p
        outcomes green < red
        input person {
          phones: list of { number: text }
          stays: list of { phone: text, from: time, to: time?, other: time }
        }
        facts { numbers: set of text }
        let window = 14d
        rule a when any person.stays has phone in person.phones.number
          and [from, to or now] overlaps window then red
        rule b when any person.stays has phone not in numbers
          and [from, other] overlaps 14d then red
        rule c when any person.stays has [from, now] overlaps 14d
          or [now, to or now] overlaps 14d then red
        otherwise green
    "#;

    /// `and`, `or`, `not` are decoded when both sides are.
    #[test]
    fn connectives_are_decoded_when_their_sides_are() {
        let policy = crate::Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        let mut found = Vec::new();
        plan.walk(plan.roots().map(|(_, id)| id), |id, node, _| {
            if matches!(node.op, Op::And(..) | Op::Or(..)) {
                found.push(plan.forms()[id.index()]);
            }
        });
        assert!(
            matches!(found[..], [Form::And(..), Form::And(..), Form::Generic]),
            "{found:?}"
        );
    }

    fn forms() -> Vec<(Op, Form)> {
        let policy = crate::Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        let mut found = Vec::new();
        plan.walk(plan.roots().map(|(_, id)| id), |id, node, _| {
            if matches!(node.op, Op::Member { .. } | Op::Overlaps(..)) {
                found.push((node.op.clone(), plan.forms()[id.index()]));
            }
        });
        found
    }

    #[test]
    fn memberships_and_overlaps_of_element_fields_are_decoded() {
        let forms = forms();
        let members: Vec<_> = (forms.iter())
            .filter(|(op, _)| matches!(op, Op::Member { .. }))
            .map(|(_, f)| *f)
            .collect();
        assert!(matches!(
            members[..],
            [
                Form::MemberField {
                    negated: false,
                    depth: 0,
                    collection: Collection::Let(_),
                    ..
                },
                Form::MemberField {
                    negated: true,
                    depth: 0,
                    collection: Collection::Fact(_),
                    ..
                }
            ]
        ));
        let overlaps: Vec<_> = (forms.iter())
            .filter(|(op, _)| matches!(op, Op::Overlaps(..)))
            .map(|(_, f)| *f)
            .collect();
        assert!(matches!(
            overlaps[..],
            [
                Form::OverlapsFields { or_now: true, .. },
                Form::OverlapsFields { or_now: false, from: f, to: t, .. },
                // An end that is `now` itself stays generic.
                Form::Generic,
                Form::Generic,
            ] if f != t
        ));
    }
}
