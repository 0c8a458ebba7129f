//! Evaluating one expression: a walk over the plan with the person, the
//! facts, `now` and the elements bound by enclosing `where`/`has`.
//!
//! The elements are a chain of [`Scope`]s on the stack that borrow each
//! element, and operands that already exist somewhere — a field of the
//! person or of an element, a fact, a `let` — are compared in place, so
//! deciding clones almost nothing.

use std::sync::Arc;

use super::selection::{ListOperand, Selection};
use super::{Evaluator, index};
use crate::check::ir::Builtin;
use crate::compile::{Collection, Form, Id, Op};
use crate::region;
use crate::syntax::{BinaryOp, Quant};
use crate::time;
use crate::types::Type;
use crate::value::Value;

/// The element bound by one `where`/`has`, and those around it.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'s> {
    item: &'s Value,
    /// 0 for the outermost binder.
    depth: usize,
    parent: Env<'s>,
}

/// The elements in scope: none at the top of a rule.
pub(crate) type Env<'s> = Option<&'s Scope<'s>>;

/// What an absent value reads as.
static NONE: Value = Value::None;

/// The field at `slot` of the element bound at `depth`, none when it has
/// none: what [`Op::ElementField`] reads.
#[inline(always)]
fn field<'s>(env: Env<'s>, depth: u32, slot: u32) -> &'s Value {
    match element(env, depth as usize) {
        Some(Value::Record(fields)) => fields.get(slot as usize).unwrap_or(&NONE),
        _ => &NONE,
    }
}

fn element<'s>(mut env: Env<'s>, depth: usize) -> Option<&'s Value> {
    while let Some(scope) = env {
        if scope.depth == depth {
            return Some(scope.item);
        }
        env = scope.parent;
    }
    None
}

/// The ops whose value exists before any test reads it, which
/// [`Evaluator::operand`] always lends: a pattern.
macro_rules! existing {
    () => {
        Op::Const(_)
            | Op::Fact(_)
            | Op::Hoisted(_)
            | Op::Let(_)
            | Op::Input
            | Op::Element(_)
            | Op::ElementField(..)
    };
}

/// Whether [`Evaluator::operand`] lends `e`'s value for every input,
/// never making it: a value that exists beyond the test that reads it (a
/// constant, a fact, a `let`, the input, an element, a field of one of
/// these, an `if` whose arms both are). `check --cost` counts on it: a
/// membership in such a value is a lookup in a sorted copy made once. The
/// match is exhaustive, so that a new op says whether it is lent; the
/// test `lends_is_what_operand_lends` holds it to `operand`.
pub(crate) fn lends(plan: &crate::compile::Plan, e: Id) -> bool {
    match *plan.op(e) {
        existing!() => true,
        Op::Field(base, _) => lends(plan, base),
        Op::If(_, a, b) => lends(plan, a) && lends(plan, b),
        Op::Now
        | Op::Project(..)
        | Op::Not(_)
        | Op::Neg(_)
        | Op::And(..)
        | Op::Or(..)
        | Op::Coalesce(..)
        | Op::Compare(..)
        | Op::Arith(..)
        | Op::Member { .. }
        | Op::InRegion { .. }
        | Op::IsNone { .. }
        | Op::Within(..)
        | Op::Overlaps(..)
        | Op::Interval(..)
        | Op::Where(..)
        | Op::Quantifier(..)
        | Op::Shift(..)
        | Op::Extreme(..)
        | Op::Call(..)
        | Op::List(_) => false,
    }
}

/// An operand: lent when it already exists, computed otherwise.
pub(super) enum Operand<'a> {
    Lent(&'a Value),
    Made(Value),
}

impl std::ops::Deref for Operand<'_> {
    type Target = Value;

    fn deref(&self) -> &Value {
        match self {
            Operand::Lent(v) => v,
            Operand::Made(v) => v,
        }
    }
}

impl Operand<'_> {
    pub(super) fn into_value(self) -> Value {
        match self {
            Operand::Lent(v) => v.clone(),
            Operand::Made(v) => v,
        }
    }
}

impl Evaluator<'_, '_> {
    /// The value of `e` at the top of a rule. Total: every expression of a
    /// checked program has a value for every input.
    pub(crate) fn eval(&self, e: Id) -> Value {
        self.eval_in(e, None)
    }

    /// Whether the condition `e` holds at the top of a rule.
    pub(crate) fn test(&self, e: Id) -> bool {
        self.truth(e, None)
    }

    /// Whether `body` holds for `item`, bound by a top-level `where`/`has`.
    pub(crate) fn holds_for(&self, item: &Value, body: Id) -> bool {
        self.holds_in(item, body, None)
    }

    /// The value of `e` with `item` bound by a top-level `where`/`has`.
    pub(crate) fn eval_for(&self, item: &Value, e: Id) -> Value {
        let scope = Scope {
            item,
            depth: 0,
            parent: None,
        };
        self.eval_in(e, Some(&scope))
    }

    #[inline]
    pub(super) fn holds_in(&self, item: &Value, body: Id, env: Env<'_>) -> bool {
        self.within_element(item, env, |scope| self.truth(body, scope))
    }

    /// Whether `e` holds: `self.operand(e, env).truthy()`, with the
    /// conditions a filter or a quantifier tests answered in one dispatch,
    /// without making a value. One that has a form ([`Form`]) and may be
    /// answered from it ([`Evaluator::formed`]) is, without the prologue
    /// of the walk.
    #[inline(always)]
    pub(super) fn truth(&self, e: Id, env: Env<'_>) -> bool {
        if self.formed(e) && !matches!(self.forms.get(e.index()), Some(Form::Generic) | None) {
            return self.decided(e, env);
        }
        self.walked(e, env)
    }

    /// Whether `e` may be answered from its form: always without a
    /// horizon; with one, when `now` does not reach it (its value is the
    /// same at every instant and notes no horizon, as its form's is).
    #[inline(always)]
    fn formed(&self, e: Id) -> bool {
        self.horizon.is_none() || self.plan.time_flow.timeless(e)
    }

    /// [`Evaluator::truth`] by the nodes. With a horizon, every node that
    /// `now` reaches goes through [`Evaluator::eval_in`], which notes what
    /// may change; one it does not reach (`region in case_counties`) can
    /// note nothing and is answered here as without one.
    #[inline(never)]
    fn walked(&self, e: Id, env: Env<'_>) -> bool {
        if self.horizon.is_some() && !self.plan.time_flow.timeless(e) {
            return self.operand(e, env).truthy();
        }
        if let Some(answer) = self.quick_test(e, env) {
            return answer;
        }
        match self.ops[e.index()] {
            Op::And(a, b) => self.side(a, env) && self.side(b, env),
            Op::Or(a, b) => self.side(a, env) || self.side(b, env),
            Op::Not(a) => !self.truth(a, env),
            Op::InRegion {
                negated,
                inner,
                outer,
            } => self.in_region(negated, inner, outer, env).0,
            // Instants and intervals compared as they are read, without
            // making the values `within` and `overlaps` would compare.
            Op::Within(t, w) => match (self.instant(t, env), self.interval(w, env)) {
                (Some(t), Some((a, b))) => a <= t && t <= b,
                _ => false,
            },
            // Made, never lent: straight to the evaluator.
            Op::Quantifier(..) => self.eval_in(e, env).truthy(),
            _ => self.operand(e, env).truthy(),
        }
    }

    /// [`Evaluator::truth`] of a side of `and`/`or`, a test of a leaf
    /// (`to is none`, `to >= from`) answered without a call, a membership
    /// and an overlap (`phone in checked_phones.number`, `[from, to or
    /// now] overlaps 14d`) by a call to what answers it, not to `truth`.
    #[inline(always)]
    fn side(&self, e: Id, env: Env<'_>) -> bool {
        match self.quick_test(e, env) {
            Some(answer) => answer,
            None => self.truth(e, env),
        }
    }

    /// The tests [`Evaluator::side`] answers without a call to `truth`,
    /// and `truth` itself first; `None` for every other node.
    #[inline(always)]
    fn quick_test(&self, e: Id, env: Env<'_>) -> Option<bool> {
        Some(match self.ops[e.index()] {
            Op::IsNone { negated, value } => {
                matches!(*self.leaf(value, env), Value::None) != negated
            }
            Op::Compare(op, a, b) => compare(op, &self.leaf(a, env), &self.leaf(b, env)),
            Op::Member {
                negated,
                value,
                collection,
            } => self.member_test(e, negated, value, collection, env),
            Op::Overlaps(i, w) => self.overlaps_test(e, i, w, env),
            _ => return None,
        })
    }

    /// Whether `value in collection` holds (`not in` when `negated`): out
    /// of line, so that `truth` and the sides of `and`/`or` share one copy.
    /// One of a field of the element (or of its region) in a collection
    /// that exists is answered from its form where it may be.
    #[inline(never)]
    fn member_test(&self, e: Id, negated: bool, value: Id, collection: Id, env: Env<'_>) -> bool {
        if self.formed(e)
            && let Some(Form::MemberField { .. } | Form::MemberRegionOf { .. }) =
                self.forms.get(e.index())
        {
            return self.form_leaf(e, env);
        }
        self.membership(negated, value, collection, env).0
    }

    /// [`Form::MemberField`]: what [`Evaluator::membership`] gives where
    /// reading a `let` notes nothing (no horizon, or one `now` does not
    /// reach).
    #[inline(always)]
    fn member_field(
        &self,
        negated: bool,
        (depth, slot): (u32, u32),
        collection: Collection,
        env: Env<'_>,
    ) -> bool {
        let v = field(env, depth, slot);
        if matches!(v, Value::None) {
            return negated;
        }
        self.member_of(v, self.collection(collection), true) != negated
    }

    /// A collection that exists, read as `member` reads it where reading
    /// a `let` notes nothing.
    #[inline(always)]
    fn collection(&self, collection: Collection) -> &Value {
        let c = match collection {
            Collection::Let(i) => self.let_value(i as usize),
            Collection::Fact(slot) => self.facts.values.get(slot as usize),
            Collection::Hoisted(i) => self.facts.hoisted.get(i as usize),
        };
        c.unwrap_or(&NONE)
    }

    /// [`Form::MemberRegionOf`]: the region of the field computed as the
    /// call computes it (with the steps it takes), looked for as
    /// [`Evaluator::member_field`] looks.
    #[inline(always)]
    fn member_region_of(
        &self,
        (negated, province): (bool, bool),
        (depth, slot): (u32, u32),
        collection: Collection,
        env: Env<'_>,
    ) -> bool {
        let arg = field(env, depth, slot);
        if !self.budget.take(arg.elements().len() as u64) {
            return negated;
        }
        let of = match arg {
            Value::Region(code) if province => region::province_of(*code),
            Value::Region(code) => region::prefecture_of(*code),
            _ => None,
        };
        match of {
            Some(code) => {
                self.member_of(&Value::Region(code), self.collection(collection), true) != negated
            }
            None => negated,
        }
    }

    /// Whether `e`, which has a form other than [`Form::Generic`] and may
    /// be answered from it, holds: answered from its form, the sides of its `and`,
    /// `or` and `not` without a call when they are tests of a field.
    #[inline(never)]
    fn decided(&self, e: Id, env: Env<'_>) -> bool {
        match self.forms.get(e.index()) {
            Some(&Form::And(a, b)) => self.form_side(a, env) && self.form_side(b, env),
            Some(&Form::Or(a, b)) => self.form_side(a, env) || self.form_side(b, env),
            Some(&Form::Not(a)) => !self.form_side(a, env),
            _ => self.form_leaf(e, env),
        }
    }

    /// [`Evaluator::decided`] of a side of a decoded `and`, `or`, `not`.
    #[inline(always)]
    fn form_side(&self, e: Id, env: Env<'_>) -> bool {
        match self.forms.get(e.index()) {
            Some(Form::And(..) | Form::Or(..) | Form::Not(_)) => self.decided(e, env),
            _ => self.form_leaf(e, env),
        }
    }

    /// A decoded test of a field of an element; [`Evaluator::truth`] of
    /// any other node.
    #[inline(always)]
    fn form_leaf(&self, e: Id, env: Env<'_>) -> bool {
        match self.forms.get(e.index()) {
            Some(&Form::MemberField {
                negated,
                depth,
                slot,
                collection,
            }) => self.member_field(negated, (depth, slot), collection, env),
            Some(&Form::OverlapsFields {
                depth,
                from,
                to,
                or_now,
                window,
            }) => self.overlaps_fields(depth, (from, to, or_now), window, env),
            Some(&Form::MemberRegionOf {
                negated,
                province,
                depth,
                slot,
                collection,
            }) => self.member_region_of((negated, province), (depth, slot), collection, env),
            // As `in_region` compares them.
            Some(&Form::InRegionField {
                negated,
                depth,
                slot,
                outer,
            }) => match *field(env, depth, slot) {
                Value::Region(inner) => region::contains(outer, inner) != negated,
                _ => negated,
            },
            _ => self.walked(e, env),
        }
    }

    /// `f` with `item` bound by a `where`/`has` inside `env`.
    #[inline]
    pub(super) fn within_element<T>(
        &self,
        item: &Value,
        env: Env<'_>,
        f: impl FnOnce(Env<'_>) -> T,
    ) -> T {
        let scope = Scope {
            item,
            depth: env.map_or(0, |s| s.depth + 1),
            parent: env,
        };
        f(Some(&scope))
    }

    /// `e`'s value, lent without a clone when it already exists: a constant,
    /// a fact, a `let`, the input, an element, or a field of one of these.
    ///
    /// One function looks the node up and matches it (the hottest call of
    /// the evaluator: a wrapper around it costs a call and a prologue on
    /// every operand).
    pub(super) fn operand<'a>(&'a self, e: Id, env: Env<'a>) -> Operand<'a> {
        let ops: &'a [Op] = self.ops;
        let lent = match &ops[e.index()] {
            Op::Const(v) => Some(v),
            Op::Fact(slot) => self.facts.values.get(*slot),
            Op::Hoisted(i) => self.facts.hoisted.get(*i),
            Op::Let(i) => {
                self.note_let(*i);
                self.let_value(*i)
            }
            Op::Input => Some(self.person),
            &Op::If(c, a, b) => return self.arm(c, a, b, env),
            Op::Element(depth) => element(env, *depth),
            Op::ElementField(depth, slot) => match element(env, *depth) {
                Some(Value::Record(fields)) => fields.get(*slot),
                _ => None,
            },
            Op::Field(base, slot) => {
                return match self.operand(*base, env) {
                    Operand::Lent(Value::Record(fields)) => {
                        Operand::Lent(fields.get(*slot).unwrap_or(&NONE))
                    }
                    Operand::Made(Value::Record(fields)) => {
                        Operand::Made(fields.get(*slot).cloned().unwrap_or_default())
                    }
                    _ => Operand::Lent(&NONE),
                };
            }
            _ => return Operand::Made(self.eval_in(e, env)),
        };
        Operand::Lent(lent.unwrap_or(&NONE))
    }

    /// The value of `let` `i`; a selection's list is made the first time
    /// it is read whole.
    #[inline(always)]
    pub(super) fn let_value(&self, i: usize) -> Option<&Value> {
        match self.lets.get(i) {
            Some(Value::None) => self.selection_whole(i),
            v => v,
        }
    }

    /// The list the selection of `let` `i` stands for, none when it is
    /// none: out of line, so that reading a `let` costs one more test.
    #[cold]
    #[inline(never)]
    fn selection_whole(&self, i: usize) -> Option<&Value> {
        match self.selected.get(i) {
            Some(Some(s)) => Some(s.whole()),
            _ => Some(&NONE),
        }
    }

    /// The list `e` gives, as a loop reads it: a filtered `let` in place,
    /// anything else as [`Evaluator::operand`] gives it.
    #[inline]
    pub(super) fn list_operand<'a>(&'a self, e: Id, env: Env<'a>) -> ListOperand<'a> {
        if let Op::Let(i) = self.ops[e.index()]
            && let Some(Some(s)) = self.selected.get(i)
        {
            self.note_let(i);
            return ListOperand::Selected(s);
        }
        ListOperand::Value(self.operand(e, env))
    }

    /// `list where pred` at the top of a `let`, without horizons: the
    /// places of the elements kept in the list filtered (in the list a
    /// filtered `let` filters, when `list` is one).
    pub(super) fn select(&self, list: Id, pred: Id) -> Selection {
        let list = self.list_operand(list, None);
        // Room for every element at once: one allocation, not one per
        // doubling.
        let mut picked = Vec::with_capacity(list.items().len());
        match list {
            ListOperand::Selected(s) => {
                let (source, set) = s.source();
                for item in s.items().iter().zip(s.picked()) {
                    if !self.budget.take(1) {
                        break;
                    }
                    if self.holds_in(item.0, pred, None) {
                        picked.push(*item.1);
                    }
                }
                Selection::new(Arc::clone(source), set, picked)
            }
            ListOperand::Value(v) => {
                let (source, set) = match &*v {
                    Value::List(items) => (Arc::clone(items), false),
                    Value::Set(items) => (Arc::clone(items), true),
                    _ => match Value::empty_list() {
                        Value::List(items) => (items, false),
                        _ => (Arc::from([]), false),
                    },
                };
                for (j, item) in source.iter().enumerate() {
                    if !self.budget.take(1) {
                        break;
                    }
                    if self.holds_in(item, pred, None) {
                        picked.push(u32::try_from(j).unwrap_or(u32::MAX));
                    }
                }
                Selection::new(source, set, picked)
            }
        }
    }

    /// [`Evaluator::operand`] with the commonest reads of a condition, a
    /// field of an element and a constant, answered in place without a
    /// call.
    #[inline(always)]
    pub(super) fn leaf<'a>(&'a self, e: Id, env: Env<'a>) -> Operand<'a> {
        match &self.ops[e.index()] {
            Op::ElementField(depth, slot) => Operand::Lent(match element(env, *depth) {
                Some(Value::Record(fields)) => fields.get(*slot).unwrap_or(&NONE),
                _ => &NONE,
            }),
            Op::Const(v) => Operand::Lent(v),
            _ => self.operand(e, env),
        }
    }

    /// The instant `e` gives, `None` when it gives none: what `within`
    /// and `overlaps` compare, read without making a value (`to or now`
    /// is the first instant of the two that is given). It reads what
    /// [`Evaluator::eval_in`] would read, so that with a horizon the same
    /// things are noted.
    #[inline(always)]
    fn instant(&self, e: Id, env: Env<'_>) -> Option<i64> {
        match self.ops[e.index()] {
            // As `Coalesce` takes them: the first unless it is none.
            Op::Coalesce(a, b) => match *self.leaf(a, env) {
                Value::None => self.instant_leaf(b, env),
                Value::Time(t) => Some(t),
                _ => None,
            },
            _ => self.instant_leaf(e, env),
        }
    }

    /// [`Evaluator::instant`] of `now` or of what [`Evaluator::leaf`]
    /// reads.
    #[inline(always)]
    fn instant_leaf(&self, e: Id, env: Env<'_>) -> Option<i64> {
        match self.ops[e.index()] {
            Op::Now => Some(self.now),
            _ => match *self.leaf(e, env) {
                Value::Time(t) => Some(t),
                _ => None,
            },
        }
    }

    /// The interval `e` gives, `None` when it gives none (as
    /// [`Op::Interval`] of an end that is none): its ends read by
    /// [`Evaluator::instant`], both, as [`Evaluator::eval_in`] reads them
    /// (with a horizon, what it notes is the same). Out of line: one call
    /// instead of one per end, and [`Evaluator::truth`] stays small.
    #[inline(never)]
    pub(super) fn interval(&self, e: Id, env: Env<'_>) -> Option<(i64, i64)> {
        self.interval_here(e, env)
    }

    /// Whether `i overlaps w` holds where it notes no horizon: both intervals read
    /// in one call, each by [`Evaluator::interval_here`] inlined into it;
    /// one of two fields of an element and a window
    /// ([`Form::OverlapsFields`]) answered from its form, the element found
    /// once.
    #[inline(never)]
    fn overlaps_test(&self, e: Id, i: Id, w: Id, env: Env<'_>) -> bool {
        if self.formed(e)
            && let Some(Form::OverlapsFields { .. }) = self.forms.get(e.index())
        {
            return self.form_leaf(e, env);
        }
        overlapping(self.interval_here(i, env), self.interval_here(w, env))
    }

    /// [`Form::OverlapsFields`]: the element found once, its ends read as
    /// [`Evaluator::instant`] reads them.
    #[inline(always)]
    fn overlaps_fields(
        &self,
        depth: u32,
        (from, to, or_now): (u32, u32, bool),
        window: Id,
        env: Env<'_>,
    ) -> bool {
        let fields = match element(env, depth as usize) {
            Some(Value::Record(fields)) => &fields[..],
            _ => &[],
        };
        let from = match fields.get(from as usize) {
            Some(Value::Time(t)) => Some(*t),
            _ => None,
        };
        // `to or now`: `now` when `to` is none.
        let to = match fields.get(to as usize) {
            Some(Value::Time(t)) => Some(*t),
            Some(Value::None) | None if or_now => Some(self.now),
            _ => None,
        };
        overlapping(from.zip(to), self.interval_here(window, env))
    }

    /// [`Evaluator::interval`], inlined where it is called.
    #[inline(always)]
    fn interval_here(&self, e: Id, env: Env<'_>) -> Option<(i64, i64)> {
        match self.ops[e.index()] {
            Op::Interval(a, b) => {
                let (from, to) = (self.instant(a, env), self.instant(b, env));
                from.zip(to)
            }
            // A window lifted out of the loop (`14d`), read in place.
            Op::Let(i) if let Some(&Value::Interval(a, b)) = self.lets.get(i) => {
                self.note_let(i);
                Some((a, b))
            }
            _ => match *self.operand(e, env) {
                Value::Interval(a, b) => Some((a, b)),
                _ => None,
            },
        }
    }

    /// The instant an end of an interval gives, `None` when it gives none:
    /// the ends of a window (`14d` is `[now - 14d, now]`) read without the
    /// calls that make and lend their values, anything else as
    /// [`Evaluator::operand`] gives it. Neither notes a horizon: what they
    /// compare is noted where the interval is compared.
    #[inline(always)]
    fn end_of(&self, e: Id, env: Env<'_>) -> Option<i64> {
        let ops = self.ops;
        match ops[e.index()] {
            Op::Now => Some(self.now),
            Op::Arith(op @ (BinaryOp::Add | BinaryOp::Sub), t, d)
                if matches!(ops[t.index()], Op::Now)
                    && let Op::Const(Value::Duration(d)) = ops[d.index()] =>
            {
                Some(shifted(op, self.now, d))
            }
            _ => match *self.operand(e, env) {
                Value::Time(t) => Some(t),
                _ => None,
            },
        }
    }

    /// The arm of `if c then a else b` that is taken, lent when it exists.
    /// Out of line: in [`Evaluator::operand`] it would make every operand
    /// pay for the registers it needs.
    #[inline(never)]
    fn arm<'a>(&'a self, c: Id, a: Id, b: Id, env: Env<'a>) -> Operand<'a> {
        let arm = if self.operand(c, env).truthy() { a } else { b };
        self.operand(arm, env)
    }

    /// The value of `e`: what [`Evaluator::operand`] lends, cloned, or
    /// what it computes.
    pub(super) fn eval_in(&self, e: Id, env: Env<'_>) -> Value {
        match &self.ops[e.index()] {
            Op::Now => Value::Time(self.now),
            existing!() | Op::If(..) | Op::Field(..) => self.operand(e, env).into_value(),
            &Op::Extreme(latest, list, key) => self.extreme(latest, list, key, env),
            &Op::Project(base, slot) => {
                let list = self.list_operand(base, env);
                let list = list.items();
                if !self.budget.take(list.len() as u64) {
                    return Value::empty_list();
                }
                let items: Arc<[Value]> = list
                    .iter()
                    .map(|r| match r {
                        Value::Record(fields) => fields.get(slot).cloned().unwrap_or_default(),
                        _ => Value::None,
                    })
                    .collect();
                Value::List(items)
            }
            &Op::Not(a) => Value::Bool(!self.truth(a, env)),
            &Op::Neg(a) => match *self.operand(a, env) {
                Value::Number(n) => Value::Number(-n),
                Value::Duration(d) => Value::Duration(d.saturating_neg()),
                _ => Value::None,
            },
            &Op::And(a, b) => Value::Bool(match &self.horizon {
                Some(h) => self.logic_apart(h, true, a, b, env),
                None => self.truth(a, env) && self.truth(b, env),
            }),
            &Op::Or(a, b) => Value::Bool(match &self.horizon {
                Some(h) => self.logic_apart(h, false, a, b, env),
                None => self.truth(a, env) || self.truth(b, env),
            }),
            &Op::Coalesce(a, b) => match self.operand(a, env) {
                v if matches!(*v, Value::None) => self.operand(b, env).into_value(),
                v => v.into_value(),
            },
            &Op::Compare(op, a, b) => {
                let (x, y) = (self.operand(a, env), self.operand(b, env));
                if let Some(h) = &self.horizon {
                    self.track_compare(h, op, (a, &x), (b, &y), env);
                }
                Value::Bool(compare(op, &x, &y))
            }
            &Op::Arith(op, a, b) => arith(op, &self.operand(a, env), &self.operand(b, env)),
            &Op::Member {
                negated,
                value,
                collection,
            } => Value::Bool(self.membership(negated, value, collection, env).0),
            &Op::InRegion {
                negated,
                inner,
                outer,
            } => Value::Bool(self.in_region(negated, inner, outer, env).0),
            &Op::IsNone { negated, value } => {
                Value::Bool(matches!(*self.operand(value, env), Value::None) != negated)
            }
            &Op::Within(t, w) => {
                let (tv, wv) = (self.operand(t, env), self.operand(w, env));
                if let Some(h) = &self.horizon {
                    self.track_within(h, (t, &tv), (w, &wv), env);
                }
                Value::Bool(within(&tv, &wv))
            }
            // Its intervals read in place, as `truth` reads them.
            &Op::Overlaps(i, w) => Value::Bool(match &self.horizon {
                Some(h) => self.overlaps_tracked(h, i, w, env),
                None => self.overlaps_test(e, i, w, env),
            }),
            &Op::Interval(a, b) => match (self.end_of(a, env), self.end_of(b, env)) {
                (Some(a), Some(b)) => Value::Interval(a, b),
                _ => Value::None,
            },
            &Op::Where(list, pred) => {
                let list = self.list_operand(list, env);
                // Kept in a vector reused from one `where` to the next
                // (a nested one takes a new one), then moved into the list,
                // allocated once at its size.
                let mut kept = self.kept.take();
                kept.extend(
                    (list.items().iter())
                        .take_while(|_| self.budget.take(1))
                        .filter(|item| self.holds_in(item, pred, env))
                        .cloned(),
                );
                let items: Arc<[Value]> = kept.drain(..).collect();
                self.kept.set(kept);
                let set = match &list {
                    ListOperand::Value(v) => matches!(**v, Value::Set(_)),
                    ListOperand::Selected(s) => s.source().1,
                };
                if set {
                    Value::Set(items)
                } else {
                    Value::List(items)
                }
            }
            &Op::Quantifier(quant, subject, body) => {
                if let Some(b) = body
                    && let Some(held) = self.by_bound(quant, subject, b, env)
                {
                    return Value::Bool(held);
                }
                if self.horizon.is_some() {
                    let list = self.list_horizon(subject);
                    let items = match (self.plan.op(subject), list) {
                        (Op::Let(i), Some(_)) => Operand::Lent(self.lets.get(*i).unwrap_or(&NONE)),
                        _ => self.operand(subject, env),
                    };
                    let held = self.quantifier_apart(quant, list, items.elements(), body, env);
                    return Value::Bool(held);
                }
                let subject = self.list_operand(subject, env);
                let items = subject.items();
                let held = match (quant, body) {
                    (Quant::Any, None) => !items.is_empty(),
                    (Quant::No, None) => items.is_empty(),
                    (Quant::All, None) => true,
                    // A spent budget ends every loop at its next element.
                    (Quant::Any | Quant::No, Some(b)) => {
                        let any = items
                            .iter()
                            .any(|i| !self.budget.take(1) || self.holds_in(i, b, env));
                        any == matches!(quant, Quant::Any)
                    }
                    (Quant::All, Some(b)) => items
                        .iter()
                        .all(|i| self.budget.take(1) && self.holds_in(i, b, env)),
                };
                Value::Bool(held)
            }
            &Op::Shift(a, period) => match *self.operand(a, env) {
                Value::Time(t) => {
                    let program = &self.plan.program;
                    Value::Time(time::shift(t, period, &program.timezone, program.resolve))
                }
                _ => Value::None,
            },
            Op::Call(builtin @ (Builtin::Age | Builtin::StartOfDay | Builtin::Date), args) => {
                let program = &self.plan.program;
                let tz = &program.timezone;
                match (
                    builtin,
                    args.first().map(|a| self.operand(*a, env)).as_deref(),
                ) {
                    (Builtin::Age, Some(Value::Time(birth))) => {
                        if let Some(h) = &self.horizon {
                            self.track_birthday(h, *birth);
                        }
                        Value::Number(time::age(*birth, self.now, tz, program.resolve) as f64)
                    }
                    (Builtin::StartOfDay, Some(Value::Time(t))) => {
                        Value::Time(time::start_of_day(*t, tz))
                    }
                    (Builtin::Date, Some(Value::Text(text))) => {
                        time::parse_date(text, tz).map_or(Value::None, Value::Time)
                    }
                    _ => Value::None,
                }
            }
            Op::Call(Builtin::Element, args) => match args[..] {
                [list, place] => {
                    let place = self.operand(place, env);
                    match *place {
                        // Counted from 1; a place that is no whole number
                        // from 1 is no element's.
                        Value::Number(n) if n >= 1.0 && n.fract() == 0.0 && self.budget.take(1) => {
                            let list = self.operand(list, env);
                            usize::try_from(n as u64 - 1)
                                .ok()
                                .and_then(|i| list.elements().get(i).cloned())
                                .unwrap_or_default()
                        }
                        _ => Value::None,
                    }
                }
                _ => Value::None,
            },
            Op::Call(builtin, args) => match args.first() {
                Some(&a) if is_text_test(*builtin) => match args.get(1) {
                    Some(&b) => {
                        let (x, y) = (self.operand(a, env), self.operand(b, env));
                        Value::Bool(text_test(*builtin, &x, &y))
                    }
                    None => Value::None,
                },
                Some(a) => {
                    let arg = self.operand(*a, env);
                    let steps = match builtin {
                        Builtin::Count
                        | Builtin::First
                        | Builtin::Last
                        | Builtin::Length
                        | Builtin::Lower
                        | Builtin::Empty
                        | Builtin::NotEmpty => 1,
                        _ => arg.elements().len() as u64,
                    };
                    if self.budget.take(steps) {
                        call(*builtin, &arg)
                    } else {
                        Value::None
                    }
                }
                None => Value::None,
            },
            Op::List(items) => {
                Value::List(Arc::from_iter(items.iter().map(|i| self.eval_in(*i, env))))
            }
        }
    }
}

impl Evaluator<'_, '_> {
    /// `latest of list by key` (`earliest`, when not `latest`): the first
    /// element whose key is greatest (least), none for an empty list. One
    /// pass, the key read once per element.
    fn extreme(&self, latest: bool, list: Id, key: Id, env: Env<'_>) -> Value {
        let list = self.operand(list, env);
        let mut best: Option<(&Value, Value)> = None;
        for item in list.elements() {
            if !self.budget.take(1) {
                return Value::None;
            }
            let k = self.within_element(item, env, |scope| self.operand(key, scope).into_value());
            let better = best.as_ref().is_none_or(|(_, b)| {
                let ord = k.cmp(b);
                if latest { ord.is_gt() } else { ord.is_lt() }
            });
            if better {
                best = Some((item, k));
            }
        }
        best.map_or(Value::None, |(item, _)| item.clone())
    }

    /// Whether `value in collection` holds (`not in` when `negated`), with
    /// the value looked for.
    // Inlined into the evaluator's match, where the value looked for is
    // dropped at once.
    #[inline(always)]
    pub(super) fn membership<'a>(
        &'a self,
        negated: bool,
        value: Id,
        collection: Id,
        env: Env<'a>,
    ) -> (bool, Operand<'a>) {
        let v = self.leaf(value, env);
        let found = !matches!(*v, Value::None) && self.member(&v, collection, env);
        if let Some(h) = &self.horizon {
            self.track_member(h, value, collection, env);
        }
        (found != negated, v)
    }

    /// Whether the region `inner` is inside `outer` (not, when `negated`),
    /// with the region tested.
    // Inlined into the evaluator's match, where the value looked for is
    // dropped at once.
    #[inline(always)]
    pub(super) fn in_region<'a>(
        &'a self,
        negated: bool,
        inner: Id,
        outer: Id,
        env: Env<'a>,
    ) -> (bool, Operand<'a>) {
        let i = self.leaf(inner, env);
        let inside = match (&*i, &*self.leaf(outer, env)) {
            (Value::Region(i), Value::Region(o)) => region::contains(*o, *i),
            _ => false,
        };
        (inside != negated, i)
    }

    /// `any x in L has x.f <= bound` (or `all`, `no`, with any order) with
    /// `bound` the same for every `x`, answered by the least or greatest
    /// `f` of `L`, computed once per list (a long one that exists beyond
    /// this test) instead of once per test: what makes a quantifier nested
    /// in another over the same list linear. `None` where that does not
    /// apply; numbers are left out, as their comparison is not their order.
    pub(super) fn by_bound(
        &self,
        quant: Quant,
        subject: Id,
        body: Id,
        env: Env<'_>,
    ) -> Option<bool> {
        let plan = self.plan;
        let &Op::Compare(op, l, r) = plan.op(body) else {
            return None;
        };
        let depth = env.map_or(0, |s| s.depth + 1);
        let (field, slot, bound, op) = match (plan.op(l), plan.op(r)) {
            (Op::ElementField(d, slot), _) if *d == depth => (l, *slot, r, op),
            (_, Op::ElementField(d, slot)) if *d == depth => (r, *slot, l, super::window::flip(op)),
            _ => return None,
        };
        let ordered = matches!(
            op,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        );
        if !ordered || matches!(plan.node(field).ty.non_optional(), Type::Number) {
            return None;
        }
        if self.horizon.is_some()
            && (self.plan.time_flow.moving(bound)
                || self.list_horizon(subject).is_some_and(|l| !l.fixed()))
        {
            return None;
        }
        // A short selection is read in place; a long one, whole.
        if let ListOperand::Selected(s) = self.list_operand(subject, env)
            && s.items().len() <= index::SMALL
        {
            return None;
        }
        let Operand::Lent(Value::List(items) | Value::Set(items)) = self.operand(subject, env)
        else {
            return None;
        };
        if items.len() <= index::SMALL || plan.reads_element_at(bound, depth) {
            return None;
        }
        // `any`: the least (for `<`) or greatest (for `>`) element decides;
        // `all`: the other one.
        let greatest = matches!(op, BinaryOp::Gt | BinaryOp::Ge) != matches!(quant, Quant::All);
        let extreme = self.indexes.extreme(items, slot, greatest, &self.budget)?;
        let held = compare(op, &extreme, &self.operand(bound, env));
        Some(held != matches!(quant, Quant::No))
    }

    /// Whether `v` is in the collection `e`: a binary search in a set or in
    /// the sorted copy of a long list that exists beyond this test, a scan
    /// of any other list.
    #[inline]
    fn member(&self, v: &Value, e: Id, env: Env<'_>) -> bool {
        if let Some(found) = self.member_apart(v, e) {
            return found;
        }
        // The commonest collections, a `let` (`checked_phones.number`,
        // lifted out of the loop), a fact and a hoisted value, read in
        // place without the call `operand` costs.
        let collection = match self.ops[e.index()] {
            Op::Let(i) => {
                self.note_let(i);
                Operand::Lent(self.let_value(i).unwrap_or(&NONE))
            }
            Op::Fact(slot) => Operand::Lent(self.facts.values.get(slot).unwrap_or(&NONE)),
            Op::Hoisted(i) => Operand::Lent(self.facts.hoisted.get(i).unwrap_or(&NONE)),
            _ => self.operand(e, env),
        };
        self.member_of(v, &collection, matches!(collection, Operand::Lent(_)))
    }

    /// Whether `v` is in `collection`: a binary search in a set or in the
    /// sorted copy of a long list that exists beyond this test (`lent`), a
    /// scan of any other list.
    #[inline(always)]
    fn member_of(&self, v: &Value, collection: &Value, lent: bool) -> bool {
        match collection {
            Value::List(items) if lent && items.len() > index::SMALL => {
                self.indexes
                    .contains(&self.facts.indexes, items, v, &self.budget)
            }
            c => {
                let steps = match c {
                    Value::List(items) => items.len() as u64,
                    _ => 1,
                };
                self.budget.take(steps) && member(v, c)
            }
        }
    }
}

/// `t within w`: the time inside the interval, its ends included.
fn within(t: &Value, w: &Value) -> bool {
    match (t, w) {
        (Value::Time(t), Value::Interval(a, b)) => a <= t && t <= b,
        _ => false,
    }
}

/// `i overlaps w`: two intervals, neither reversed, that share an instant.
pub(super) fn overlapping(i: Option<(i64, i64)>, w: Option<(i64, i64)>) -> bool {
    match (i, w) {
        (Some((a, b)), Some((c, d))) => a <= b && c <= d && a <= d && c <= b,
        _ => false,
    }
}

pub(super) fn compare(op: BinaryOp, a: &Value, b: &Value) -> bool {
    match op {
        BinaryOp::Eq => a == b,
        BinaryOp::Ne => a != b,
        // The checker only lets values of one ordered type here; a NaN
        // compares false, as in arithmetic.
        _ => {
            let ord = match (a, b) {
                (Value::Number(x), Value::Number(y)) => {
                    return match op {
                        BinaryOp::Lt => x < y,
                        BinaryOp::Le => x <= y,
                        BinaryOp::Gt => x > y,
                        _ => x >= y,
                    };
                }
                // As `Value::cmp` orders them, without the call.
                (Value::Time(x), Value::Time(y)) | (Value::Duration(x), Value::Duration(y)) => {
                    x.cmp(y)
                }
                _ => a.cmp(b),
            };
            ordered(op, ord)
        }
    }
}

/// Whether `op` holds of two values in the order `ord`.
#[inline(always)]
pub(super) fn ordered(op: BinaryOp, ord: std::cmp::Ordering) -> bool {
    match op {
        BinaryOp::Eq => ord.is_eq(),
        BinaryOp::Ne => ord.is_ne(),
        BinaryOp::Lt => ord.is_lt(),
        BinaryOp::Le => ord.is_le(),
        BinaryOp::Gt => ord.is_gt(),
        _ => ord.is_ge(),
    }
}

/// The instant `t` shifted by the duration `d` (`op` is `+` or `-`),
/// saturating instead of overflowing: what [`arith`] gives for an
/// instant and a duration, and the ends of a window read in place.
#[inline(always)]
fn shifted(op: BinaryOp, t: i64, d: i64) -> i64 {
    match op {
        BinaryOp::Sub => t.saturating_sub(d),
        _ => t.saturating_add(d),
    }
}

/// Arithmetic on the operand types the checker allows; time arithmetic
/// saturates instead of overflowing.
pub(super) fn arith(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use Value::{Duration as D, Number as N, Time as T};
    match (op, a, b) {
        (BinaryOp::Add, N(x), N(y)) => N(x + y),
        (BinaryOp::Sub, N(x), N(y)) => N(x - y),
        (BinaryOp::Mul, N(x), N(y)) => N(x * y),
        (BinaryOp::Div, N(x), N(y)) => N(x / y),
        (BinaryOp::Add, T(t), D(d)) | (BinaryOp::Add, D(d), T(t)) => T(shifted(op, *t, *d)),
        (BinaryOp::Sub, T(t), D(d)) => T(shifted(op, *t, *d)),
        (BinaryOp::Sub, T(x), T(y)) => D(x.saturating_sub(*y)),
        (BinaryOp::Add, D(x), D(y)) => D(x.saturating_add(*y)),
        (BinaryOp::Sub, D(x), D(y)) => D(x.saturating_sub(*y)),
        (BinaryOp::Mul, D(d), N(n)) | (BinaryOp::Mul, N(n), D(d)) => D((*d as f64 * n) as i64),
        (BinaryOp::Div, D(d), N(n)) => D((*d as f64 / n) as i64),
        (BinaryOp::Div, D(x), D(y)) => N(*x as f64 / *y as f64),
        _ => Value::None,
    }
}

/// Whether `v` is among the elements of `collection`. Texts and regions,
/// the commonest, are compared as such, without [`Value`]'s order: equal
/// values are of one kind, and two texts are equal when they are one text
/// or the same characters.
fn member(v: &Value, collection: &Value) -> bool {
    match (collection, v) {
        (Value::Set(items), Value::Region(r)) => items
            .binary_search_by(|x| match x {
                Value::Region(x) => x.cmp(r),
                _ => x.cmp(v),
            })
            .is_ok(),
        (Value::Set(items), _) => items.binary_search(v).is_ok(),
        (Value::List(items), Value::Text(t)) => items
            .iter()
            .any(|x| matches!(x, Value::Text(x) if Arc::ptr_eq(x, t) || **x == **t)),
        (Value::List(items), Value::Region(r)) => items
            .iter()
            .any(|x| matches!(x, Value::Region(x) if x == r)),
        (Value::List(items), _) => items.contains(v),
        _ => false,
    }
}

fn call(builtin: Builtin, arg: &Value) -> Value {
    let region_of = |f: fn(u32) -> Option<u32>, v: &Value| match v {
        Value::Region(code) => f(*code).map_or(Value::None, Value::Region),
        _ => Value::None,
    };
    let regions_of = |f: fn(u32) -> Option<u32>| {
        Value::set_of(
            arg.elements()
                .iter()
                .map(|v| region_of(f, v))
                .filter(|v| !matches!(v, Value::None))
                .collect(),
        )
    };
    match builtin {
        Builtin::Prefecture => region_of(region::prefecture_of, arg),
        Builtin::Province => region_of(region::province_of, arg),
        Builtin::Prefectures => regions_of(region::prefecture_of),
        Builtin::Provinces => regions_of(region::province_of),
        Builtin::Count => Value::Number(arg.elements().len() as f64),
        Builtin::Length => match arg {
            Value::Text(t) => Value::Number(t.chars().count() as f64),
            _ => Value::None,
        },
        Builtin::Lower => match arg {
            Value::Text(t) => Value::Text(t.to_lowercase().into()),
            _ => Value::None,
        },
        Builtin::Min => arg.elements().iter().min().cloned().unwrap_or_default(),
        Builtin::Max => arg.elements().iter().max().cloned().unwrap_or_default(),
        Builtin::Sum => Value::Number(
            arg.elements()
                .iter()
                .map(|v| match v {
                    Value::Number(n) => *n,
                    _ => 0.0,
                })
                .sum(),
        ),
        Builtin::SumDurations => {
            Value::Duration(arg.elements().iter().fold(0, |total, v| match v {
                Value::Duration(d) => total.saturating_add(*d),
                _ => total,
            }))
        }
        Builtin::First => arg.elements().first().cloned().unwrap_or_default(),
        Builtin::Last => arg.elements().last().cloned().unwrap_or_default(),
        Builtin::Distinct => Value::set_of(arg.elements().to_vec()),
        // Of two operands, by the evaluator.
        Builtin::Element => Value::None,
        Builtin::Empty => Value::Bool(is_empty(arg)),
        Builtin::NotEmpty => Value::Bool(!is_empty(arg)),
        Builtin::StartsWith | Builtin::EndsWith | Builtin::Contains => Value::None,
        // Counted on the policy's calendar, by the evaluator.
        Builtin::Age | Builtin::StartOfDay | Builtin::Date => Value::None,
    }
}

/// Whether a record gives none of its fields: each is none, or an empty
/// list or set (which is what an absent one reads as). None is empty too.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Record(fields) => fields.iter().all(|field| match field {
            Value::None => true,
            Value::List(items) | Value::Set(items) => items.is_empty(),
            _ => false,
        }),
        Value::None => true,
        _ => false,
    }
}

/// Whether a built-in is one of the tests on text, of two operands.
pub(crate) fn is_text_test(builtin: Builtin) -> bool {
    matches!(
        builtin,
        Builtin::StartsWith | Builtin::EndsWith | Builtin::Contains
    )
}

/// `a starts with b`, `a ends with b`, `a contains b` on texts: compared
/// exactly, character by character (`lower(a)` compares without case).
fn text_test(builtin: Builtin, a: &Value, b: &Value) -> bool {
    let (Value::Text(a), Value::Text(b)) = (a, b) else {
        return false;
    };
    match builtin {
        Builtin::StartsWith => a.starts_with(&**b),
        Builtin::EndsWith => a.ends_with(&**b),
        _ => a.contains(&**b),
    }
}

#[cfg(test)]
mod tests {
    use super::{Operand, Scope, lends, overlapping};
    use crate::compile::{Form, Id, Op};
    use crate::eval::{Evaluator, Facts};
    use crate::value::Value;

    /// What a decoded condition gives, by its nodes, without its form.
    fn generic(ev: &Evaluator<'_, '_>, id: Id, env: super::Env<'_>) -> bool {
        match *ev.plan.op(id) {
            Op::And(a, b) => generic(ev, a, env) && generic(ev, b, env),
            Op::Or(a, b) => generic(ev, a, env) || generic(ev, b, env),
            Op::Not(a) => !generic(ev, a, env),
            Op::Member {
                negated,
                value,
                collection,
            } => ev.membership(negated, value, collection, env).0,
            Op::InRegion {
                negated,
                inner,
                outer,
            } => ev.in_region(negated, inner, outer, env).0,
            Op::Overlaps(i, w) => overlapping(ev.interval(i, env), ev.interval(w, env)),
            _ => unreachable!("no other node has a form"),
        }
    }

    /// The conditions answered from their forms give what their nodes
    /// give, for every element of the lists of generated and example
    /// people (bound where any of the forms reads it, whatever its
    /// fields), at instants before, at and after theirs.
    #[test]
    fn forms_answer_as_their_nodes() {
        use crate::eval::population;
        let policy =
            crate::Policy::load(population::POLICY).unwrap_or_else(|e| unreachable!("{e}"));
        let facts = policy
            .facts(population::FACTS)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        let mut decoded: Vec<Id> = Vec::new();
        plan.walk(plan.roots().map(|(_, id)| id), |id, _, _| {
            if plan.forms()[id.index()] != Form::Generic && !decoded.contains(&id) {
                decoded.push(id);
            }
        });
        // `phone in checked_phones.number or phone not in ...`, its `and`
        // with `[from, to or now] overlaps 14d`, `region not in province
        // "110000"`, `region in case_counties`, ...
        assert!(decoded.len() >= 7, "{decoded:?}");
        let now = population::NOW_UNIX * 1_000_000;
        let generated = population::population(200, 7);
        let people = generated
            .lines()
            .chain(include_str!("../../examples/beijing/people.jsonl").lines());
        let odd = [
            Value::None,
            Value::Record(std::sync::Arc::from([])),
            Value::Record(std::sync::Arc::from([
                Value::None,
                Value::None,
                Value::None,
                Value::None,
            ])),
        ];
        let (mut answered, mut held) = (0, 0);
        for line in people {
            let line = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("person").map(ToString::to_string))
                .unwrap_or_else(|| line.to_owned());
            let Ok(person) = policy.person(&line) else {
                continue;
            };
            let Value::Record(fields) = &person.value else {
                continue;
            };
            let items = (fields.iter())
                .flat_map(|f| match f {
                    Value::List(items) => items.to_vec(),
                    _ => Vec::new(),
                })
                .chain(odd.iter().cloned());
            let items: Vec<Value> = items.collect();
            for days in [-20, 0, 5] {
                let at = now + days * 86_400_000_000;
                let ev = Evaluator::new(plan, &facts, &person.value, at);
                for item in &items {
                    let scope = Scope {
                        item,
                        depth: 0,
                        parent: None,
                    };
                    let env = Some(&scope);
                    for &id in &decoded {
                        let generic = generic(&ev, id, env);
                        let quick = match plan.op(id) {
                            Op::Member { .. } | Op::Overlaps(..) => ev.quick_test(id, env),
                            _ => Some(ev.truth(id, env)),
                        };
                        assert_eq!(
                            quick,
                            Some(generic),
                            "node {} ({:?}) for {item:?} at {at}",
                            id.index(),
                            plan.op(id)
                        );
                        answered += 1;
                        held += usize::from(generic);
                    }
                }
            }
        }
        assert!(
            answered > 10_000 && held > 1_000 && held < answered,
            "{answered} {held}"
        );
    }

    /// Every node of every shipped policy, evaluated by `operand` with
    /// elements bound around it: lent where `lends` says so, made where it
    /// says not (but for an `if` or a field of one, lent when the arm
    /// taken is). This ties `check --cost`'s reading of what is lent to
    /// what the evaluator does.
    #[test]
    fn lends_is_what_operand_lends() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut checked = 0;
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        paths.sort();
        for path in paths {
            let name = path.to_string_lossy().into_owned();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(crate::Compiled::Policy(policy)) = crate::Compiled::compile(&name, &text) else {
                continue;
            };
            let plan = policy.plan();
            let facts = Facts::none();
            let ev = Evaluator::new(plan, &facts, &Value::None, 0);
            // Four elements bound, each a record of no fields.
            let item = Value::Record(std::sync::Arc::from([]));
            let s0 = Scope {
                item: &item,
                depth: 0,
                parent: None,
            };
            let s1 = Scope {
                item: &item,
                depth: 1,
                parent: Some(&s0),
            };
            let s2 = Scope {
                item: &item,
                depth: 2,
                parent: Some(&s1),
            };
            let s3 = Scope {
                item: &item,
                depth: 3,
                parent: Some(&s2),
            };
            plan.walk(plan.roots().map(|(_, id)| id), |id: Id, _, _| {
                let lent = matches!(ev.operand(id, Some(&s3)), Operand::Lent(_));
                let conditional = matches!(plan.op(id), Op::If(..) | Op::Field(..));
                assert!(
                    lent == lends(plan, id) || (conditional && lent),
                    "{name}: node {} ({:?}): operand lends it: {lent}",
                    id.index(),
                    plan.op(id)
                );
                checked += 1;
            });
        }
        assert!(checked > 500, "only {checked} nodes checked");
    }
}
