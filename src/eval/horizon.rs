//! How long a decision stays as it is: the *horizon* of an evaluation at
//! `now`, the first instant after it at which one of the time comparisons
//! it made may come out otherwise, with the boundary `next_change` names
//! for that change.
//!
//! Evaluation is deterministic: if every comparison it made comes out the
//! same at a later instant, it takes the same path there and gives the same
//! values. A comparison of instants and durations that move with `now` is
//! linear in `now`: each side is a value plus `now` times a *slope* (0 for
//! data, 1 for `now - 14d`, −1 for `x - now`; `to or now` takes the slope of
//! the side it chose), so the instant at which it flips is solved for, not
//! searched. The minimum over the comparisons made is the horizon; until
//! then the decision cannot change, and `next_change` evaluates again only
//! just after its boundary (see `what_if.rs`). A number or duration made
//! from a moving one by steps that keep or reverse its order (`(now - t) /
//! 1d`, `2 * (t - now)`) flips at most once against a fixed side, at an
//! instant found by halving with the evaluator's own arithmetic. Anything
//! this does not model (a moving value looked up in a list, a list holding
//! moving values, two moving numbers) gives the horizon of the first instant of
//! its operands shifted by a duration of the policy
//! ([`window::unmodelled`]): there, and only there, `next_change` tries
//! candidates.
//!
//! A comparison that can never flip back (a window that closed) adds
//! nothing, so a record's past costs one evaluation, not one per event.
//! Where a comparison changes is read from the one model of a time
//! comparison, `window.rs`, which also gives witnesses their windows.

use std::cell::Cell;

use super::expr::Env;
use super::{Evaluator, window};
use crate::check::ir::Builtin;
use crate::compile::{Id, Op, Plan, Root};
use crate::syntax::{BinaryOp, Quant};
use crate::value::Value;

/// Which values of a plan move with `now`.
#[derive(Debug, Clone, Default)]
pub struct TimeFlow {
    /// For each `let`, whether its value moves with `now` (an instant,
    /// duration or interval computed from it).
    lets: Vec<bool>,
    /// Whether a list of the policy holds moving values: then its elements
    /// move too, every comparison of an element is one the model cannot
    /// solve, and lists have no horizons element by element.
    moving_elements: bool,
    /// The durations among the policy's constants, with 0, ascending:
    /// what a comparison the model cannot solve is shifted by.
    durations: Vec<i64>,
    /// For each node, by [`Id`], whether its value moves with `now`
    /// ([`TimeFlow::moves`], computed once).
    nodes: Vec<bool>,
    /// For each node, how fast it moves when that does not depend on the
    /// person ([`Slope`]).
    slopes: Vec<Slope>,
    /// For each node, whether `now` does not reach it: it reads neither
    /// `now`, nor an age, nor a `let` that `now` reaches (nor an element,
    /// when elements move). Its value is the same at every instant, and
    /// evaluating it notes no horizon ([`TimeFlow::timeless`]).
    timeless: Vec<bool>,
    /// For each node that gives an interval, the slopes of its ends when
    /// they do not depend on the person (`14d`, a `let` of it), found once.
    ends: Vec<Option<(i64, i64)>>,
    /// The `let`s each `let` and rule reads.
    pub(super) reads: super::kept::Reads,
}

/// How fast a node's value moves with `now`, as far as the plan says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slope {
    /// Always this (`None`: not linear in `now`).
    Fixed(Option<i64>),
    /// It depends on which side of a `to or now` or an `if` is taken.
    Taken,
}

impl TimeFlow {
    /// The analysis of `plan`'s lets (in `let_order`) and lists.
    pub(crate) fn of(plan: &Plan) -> Self {
        let mut flow = TimeFlow {
            lets: vec![false; plan.lets.len()],
            moving_elements: false,
            durations: vec![0],
            nodes: Vec::new(),
            slopes: Vec::new(),
            timeless: Vec::new(),
            ends: Vec::new(),
            reads: super::kept::Reads::default(),
        };
        // Every node under a root, children after parents: read backwards,
        // each node's children are known before it.
        // And the `let`s each `let` and rule reads.
        let mut order = Vec::new();
        let mut reads = (
            vec![Vec::new(); plan.lets.len()],
            vec![Vec::new(); plan.rules.len()],
        );
        for (root, id) in plan.roots() {
            let mut read = Vec::new();
            plan.walk(std::iter::once(id), |id, node, _| {
                order.push(id);
                match &node.op {
                    Op::Const(v) => window::instants(v, &mut Vec::new(), &mut flow.durations),
                    Op::Let(j) => read.push(*j),
                    _ => {}
                }
            });
            let into = match root {
                Root::Let(i) => reads.0.get_mut(i),
                Root::When(r) | Root::Unless(r) => reads.1.get_mut(r),
                _ => None,
            };
            if let Some(into) = into {
                into.append(&mut read);
            }
        }
        flow.reads = super::kept::Reads::new(reads.0, reads.1);
        flow.durations.sort_unstable();
        flow.durations.dedup();
        for &i in &plan.let_order {
            if let Some(&l) = plan.lets.get(i) {
                let moves = flow.moves(plan, l);
                flow.lets[i] = moves;
            }
        }
        let mut moving = false;
        // What a verdict reads: not the payloads.
        let verdict = plan
            .decision_roots()
            .filter(|(r, _)| !matches!(r, Root::Payload { .. }));
        plan.walk(verdict.map(|(_, id)| id), |_, node, _| {
            if let Op::List(items) = &node.op {
                moving |= items.iter().any(|i| flow.moves(plan, *i));
            }
        });
        flow.moving_elements = moving;
        let mut nodes = vec![true; plan.ops().len()];
        for &id in order.iter().rev() {
            let m = flow.moves_with(plan, id, |c| nodes.get(c.index()).copied().unwrap_or(true));
            nodes[id.index()] = m;
        }
        flow.nodes = nodes;
        let mut slopes = vec![None; plan.ops().len()];
        for &id in &order {
            flow.slope_memo(plan, id, &mut slopes);
        }
        flow.slopes = (slopes.into_iter())
            .map(|s| s.unwrap_or(Slope::Taken))
            .collect();
        flow.timeless = flow.timeless_nodes(plan, &order);
        let mut ends = vec![None; plan.ops().len()];
        for &id in &order {
            if let Some(slot) = ends.get_mut(id.index()) {
                *slot = flow.fixed_ends(plan, id);
            }
        }
        flow.ends = ends;
        flow
    }

    /// The slopes of the ends of the interval `e` when they do not depend
    /// on the person: what [`Evaluator::ends`] finds for every one.
    fn fixed_ends(&self, plan: &Plan, e: Id) -> Option<(i64, i64)> {
        if !self.moving(e) {
            return Some((0, 0));
        }
        let fixed = |c: Id| match self.slopes.get(c.index()) {
            Some(Slope::Fixed(s)) => *s,
            _ => None,
        };
        match *plan.op(e) {
            Op::Interval(a, b) => Some((fixed(a)?, fixed(b)?)),
            Op::Let(i) => self.fixed_ends(plan, *plan.lets.get(i)?),
            _ => None,
        }
    }

    /// [`TimeFlow::timeless`] of every node under a root (`order`: each
    /// root's nodes, parents first): the `let`s first, in an order where
    /// each comes after those it reads, then every node, children first.
    fn timeless_nodes(&self, plan: &Plan, order: &[Id]) -> Vec<bool> {
        let mut nodes = vec![false; plan.ops().len()];
        let mut lets = vec![false; plan.lets.len()];
        let visit = |ids: &[Id], nodes: &mut Vec<bool>, lets: &[bool]| {
            for &id in ids.iter().rev() {
                let timeless = match plan.op(id) {
                    Op::Now | Op::Call(Builtin::Age, _) => false,
                    Op::Let(i) => lets.get(*i).copied().unwrap_or(false),
                    Op::Element(_) | Op::ElementField(..) => !self.moving_elements,
                    op => op
                        .children()
                        .all(|(c, _)| nodes.get(c.index()).copied().unwrap_or(false)),
                };
                if let Some(slot) = nodes.get_mut(id.index()) {
                    *slot = timeless;
                }
            }
        };
        let mut under = Vec::new();
        for &i in &plan.let_order {
            if let Some(&l) = plan.lets.get(i) {
                under.clear();
                plan.walk(std::iter::once(l), |id, _, _| under.push(id));
                visit(&under, &mut nodes, &lets);
                lets[i] = nodes.get(l.index()).copied().unwrap_or(false);
            }
        }
        visit(order, &mut nodes, &lets);
        nodes
    }

    /// Whether `now` does not reach node `e`: its value is the same at
    /// every instant, and evaluating it notes no horizon.
    #[inline]
    pub(crate) fn timeless(&self, e: Id) -> bool {
        self.timeless.get(e.index()).copied().unwrap_or(false)
    }

    /// The slope of `e` as far as the plan says, with the answers so far
    /// in `memo`.
    fn slope_memo(&self, plan: &Plan, e: Id, memo: &mut Vec<Option<Slope>>) -> Slope {
        if let Some(Some(s)) = memo.get(e.index()) {
            return *s;
        }
        let mut of = |id: Id| self.slope_memo(plan, id, memo);
        let both = |a: Slope, b: Slope, f: fn(i64, i64) -> Option<i64>| match (a, b) {
            (Slope::Fixed(a), Slope::Fixed(b)) => Slope::Fixed(a.zip(b).and_then(|(a, b)| f(a, b))),
            _ => Slope::Taken,
        };
        let s = if !self.moving(e) {
            Slope::Fixed(Some(0))
        } else {
            match *plan.op(e) {
                Op::Now => Slope::Fixed(Some(1)),
                Op::Let(i) => match plan.lets.get(i) {
                    Some(&l) => of(l),
                    None => Slope::Fixed(None),
                },
                Op::Arith(BinaryOp::Add, a, b) => both(of(a), of(b), i64::checked_add),
                Op::Arith(BinaryOp::Sub, a, b) => both(of(a), of(b), i64::checked_sub),
                Op::Neg(a) => match of(a) {
                    Slope::Fixed(a) => Slope::Fixed(a.and_then(i64::checked_neg)),
                    Slope::Taken => Slope::Taken,
                },
                Op::Coalesce(..) | Op::If(..) => Slope::Taken,
                _ => Slope::Fixed(None),
            }
        };
        if let Some(slot) = memo.get_mut(e.index()) {
            *slot = Some(s);
        }
        s
    }

    /// Whether the value of node `e` moves with `now`: [`TimeFlow::moves`],
    /// read from the table made once.
    #[inline]
    pub(super) fn moving(&self, e: Id) -> bool {
        self.nodes.get(e.index()).copied().unwrap_or(true)
    }

    /// Whether the value of `e` moves with `now`, worked out from the
    /// plan (the evaluator reads [`TimeFlow::moving`]).
    fn moves(&self, plan: &Plan, e: Id) -> bool {
        self.moves_with(plan, e, |c| self.moves(plan, c))
    }

    /// [`TimeFlow::moves`], whether a child moves given by `child`.
    fn moves_with(&self, plan: &Plan, e: Id, child: impl Fn(Id) -> bool) -> bool {
        match plan.op(e) {
            Op::Now => true,
            Op::Let(i) => self.lets.get(*i).copied().unwrap_or(true),
            Op::Arith(_, a, b) | Op::Coalesce(a, b) | Op::Interval(a, b) => child(*a) || child(*b),
            Op::Neg(a) | Op::Where(a, _) | Op::Extreme(_, a, _) => child(*a),
            Op::If(_, a, b) => child(*a) || child(*b),
            Op::List(items) => items.iter().any(|i| child(*i)),
            // An age notes its own next birthday.
            Op::Call(Builtin::Age, _) => false,
            Op::Call(_, args) => args.iter().any(|a| child(*a)),
            Op::Element(_) | Op::ElementField(..) => self.moving_elements,
            _ => false,
        }
    }

    /// Whether lists have horizons element by element in this plan.
    pub(crate) fn usable(&self) -> bool {
        !self.moving_elements
    }
}

/// When what an evaluation computed may first change as `now` moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Horizon {
    /// The first instant at which it may come out otherwise.
    pub(crate) at: i64,
    /// The instant `next_change` names for that change: `at`, or the one
    /// before it where the two sides of a comparison meet
    /// ([`window::first_change`]).
    pub(crate) boundary: i64,
}

impl Horizon {
    /// Nothing changes.
    pub(crate) const NEVER: Horizon = Horizon {
        at: i64::MAX,
        boundary: i64::MAX,
    };

    /// Changing already.
    const ALWAYS: Horizon = Horizon {
        at: i64::MIN,
        boundary: i64::MIN,
    };

    /// A change at `t` itself.
    fn at(t: i64) -> Horizon {
        Horizon { at: t, boundary: t }
    }

    /// Whether nothing changes.
    pub(crate) fn never(self) -> bool {
        self.at == i64::MAX
    }

    /// The later of two; of two at one instant, the one named first.
    fn later(self, other: Horizon) -> Horizon {
        match self.at.cmp(&other.at) {
            std::cmp::Ordering::Less => other,
            std::cmp::Ordering::Greater => self,
            std::cmp::Ordering::Equal => self.min(other),
        }
    }
}

/// Instants this far from zero are where saturating time arithmetic stops
/// being linear: no horizon is solved for near them.
const FAR: i128 = 1 << 60;

impl Evaluator<'_, '_> {
    /// Notes that something may change at `at`.
    pub(super) fn note(&self, h: &Cell<Horizon>, at: Horizon) {
        if at < h.get() {
            h.set(at);
        }
    }

    /// Notes where something this does not model, of these operands, may
    /// change: at the first instant from `now` on of those that do not
    /// move, shifted by a duration. (What moves is where it is at `now`
    /// only: the instants made of it would follow `now` for ever.)
    fn note_unknown(&self, h: &Cell<Horizon>, operands: [(Id, &Value); 2]) {
        let flow = &self.plan.time_flow;
        let fixed: Vec<&Value> = (operands.iter())
            .filter(|(e, _)| !flow.moving(*e))
            .map(|(_, v)| *v)
            .collect();
        if let Some(c) = window::unmodelled(&fixed, &flow.durations, self.now) {
            self.note(h, Horizon::at(c));
        }
    }

    /// Notes where `x op y` may flip, `x` and `y` the values of `a` and `b`.
    pub(super) fn track_compare(
        &self,
        h: &Cell<Horizon>,
        op: BinaryOp,
        (a, x): (Id, &Value),
        (b, y): (Id, &Value),
        env: Env<'_>,
    ) {
        let flow = &self.plan.time_flow;
        if !flow.moving(a) && !flow.moving(b) {
            return;
        }
        let (Some(sa), Some(sb)) = (self.slope(a, env), self.slope(b, env)) else {
            if self.track_monotone(h, op, (a, x), (b, y), env) {
                return;
            }
            return self.note_unknown(h, [(a, x), (b, y)]);
        };
        let solved = match (x, y) {
            (Value::Time(p), Value::Time(q)) | (Value::Duration(p), Value::Duration(q)) => {
                self.track_difference(h, op, *p, *q, sa - sb)
            }
            _ => false,
        };
        if !solved {
            self.note_unknown(h, [(a, x), (b, y)]);
        }
    }

    /// Notes where `x op y` may flip when one side is fixed and the other
    /// a number (or duration) computed from a moving instant by steps that
    /// each keep its order or reverse it (`(now - t) / 1d > 3`, `2 * (now -
    /// t) < 1d`): as `now` moves on, the comparison then flips at most
    /// once, and the first instant at which it does is searched for by
    /// halving, each instant tried computing the side as the evaluator does
    /// (the same arithmetic, the same rounding). `false` when it is not of
    /// that form.
    fn track_monotone(
        &self,
        h: &Cell<Horizon>,
        op: BinaryOp,
        (a, x): (Id, &Value),
        (b, y): (Id, &Value),
        env: Env<'_>,
    ) -> bool {
        use BinaryOp::{Ge, Gt, Le, Lt};
        if !matches!(op, Lt | Le | Gt | Ge) {
            return false;
        }
        let flow = &self.plan.time_flow;
        let (side, fixed, op, current) = match (flow.moving(a), flow.moving(b)) {
            (true, false) => (a, y, op, x),
            (false, true) => (b, x, window::flip(op), y),
            _ => return false,
        };
        let Some(form) = self.form(side, env) else {
            return false;
        };
        if form.start.unsigned_abs() > FAR as u64 || form.at(0).as_ref() != Some(current) {
            return false;
        }
        let holds = |delta: i64| {
            form.at(delta)
                .is_some_and(|v| super::expr::compare(op, &v, fixed))
        };
        let now = holds(0);
        // Far enough for any instant, near enough for no sum to saturate.
        let last = (FAR as i64) / form.slope.saturating_abs().max(1);
        if holds(last) == now {
            return true;
        }
        // `holds` is `now` at `low`, not at `high`.
        let (mut low, mut high) = (0, last);
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            if holds(mid) == now {
                low = mid;
            } else {
                high = mid;
            }
        }
        let flip = high;
        let met =
            (form.at(flip - 1)).is_some_and(|v| super::expr::compare(BinaryOp::Eq, &v, fixed));
        let boundary = if met { flip - 1 } else { flip };
        let instant = |delta: i64| self.now.saturating_add(delta);
        self.note(
            h,
            Horizon {
                at: instant(flip),
                boundary: instant(boundary),
            },
        );
        true
    }

    /// The value of `e` as a function of how far `now` moves on, when it
    /// is a moving instant or duration taken through steps that each keep
    /// or reverse its order ([`Monotone`]).
    fn form(&self, e: Id, env: Env<'_>) -> Option<Monotone> {
        if let Some(slope) = self.slope(e, env) {
            let (start, time) = match self.eval_in(e, env) {
                Value::Time(t) => (t, true),
                Value::Duration(d) => (d, false),
                _ => return None,
            };
            return (slope != 0).then(|| Monotone {
                start,
                time,
                slope,
                steps: Vec::new(),
            });
        }
        let flow = &self.plan.time_flow;
        let (inner, step) = match *self.plan.op(e) {
            Op::Neg(a) => (a, Step::Neg),
            Op::Arith(op, a, b) => match (flow.moving(a), flow.moving(b)) {
                // A moving divisor passes through zero: no order kept.
                (true, false) => (a, Step::Then(op, self.eval_in(b, env))),
                (false, true) if op != BinaryOp::Div => (b, Step::Before(op, self.eval_in(a, env))),
                _ => return None,
            },
            _ => return None,
        };
        let mut form = self.form(inner, env)?;
        form.steps.push(step);
        Some(form)
    }

    /// Notes where `p op q` may change, `p - q` moving by `slope` a
    /// microsecond; `false` where saturating time arithmetic may make it
    /// otherwise than linear.
    fn track_difference(
        &self,
        h: &Cell<Horizon>,
        op: BinaryOp,
        p: i64,
        q: i64,
        slope: i64,
    ) -> bool {
        let (p, q) = (i128::from(p), i128::from(q));
        if slope == 0 {
            return true;
        }
        if p.abs() > FAR || q.abs() > FAR {
            return false;
        }
        if let Some((flip, boundary)) = window::first_change(op, p - q, i128::from(slope)) {
            let now = i128::from(self.now);
            let instant = |delta: i128| i64::try_from(now + delta).unwrap_or(i64::MAX);
            self.note(
                h,
                Horizon {
                    at: instant(flip),
                    boundary: instant(boundary),
                },
            );
        }
        true
    }

    /// Notes where `t within w` may change.
    pub(super) fn track_within(
        &self,
        h: &Cell<Horizon>,
        (te, t): (Id, &Value),
        (we, w): (Id, &Value),
        env: Env<'_>,
    ) {
        let flow = &self.plan.time_flow;
        if !flow.moving(te) && !flow.moving(we) {
            return;
        }
        let (Value::Time(tv), Value::Interval(a, b)) = (t, w) else {
            return;
        };
        let (Some(st), Some((sa, sb))) = (self.slope(te, env), self.ends(we, env)) else {
            return self.note_unknown(h, [(te, t), (we, w)]);
        };
        let solved = self.track_difference(h, BinaryOp::Le, *a, *tv, sa - st)
            & self.track_difference(h, BinaryOp::Le, *tv, *b, st - sb);
        if !solved {
            self.note_unknown(h, [(te, t), (we, w)]);
        }
    }

    /// Whether `ie overlaps we`, noting where that may change. The
    /// intervals are read in place ([`Evaluator::interval`] reads what
    /// [`Evaluator::eval_in`] would, and so notes the same), not made as
    /// values: one record's stays cost a few comparisons each.
    pub(super) fn overlaps_tracked(&self, h: &Cell<Horizon>, ie: Id, we: Id, env: Env<'_>) -> bool {
        let (i, w) = (self.interval(ie, env), self.interval(we, env));
        let held = super::expr::overlapping(i, w);
        let flow = &self.plan.time_flow;
        if !flow.moving(ie) && !flow.moving(we) {
            return held;
        }
        let (Some((a, b)), Some((c, d))) = (i, w) else {
            return held;
        };
        let solved = match (self.ends(ie, env), self.ends(we, env)) {
            (Some((sa, sb)), Some((sc, sd))) => {
                self.track_difference(h, BinaryOp::Le, a, b, sa - sb)
                    & self.track_difference(h, BinaryOp::Le, c, d, sc - sd)
                    & self.track_difference(h, BinaryOp::Le, a, d, sa - sd)
                    & self.track_difference(h, BinaryOp::Le, c, b, sc - sb)
            }
            _ => false,
        };
        if !solved {
            let (i, w) = (Value::Interval(a, b), Value::Interval(c, d));
            self.note_unknown(h, [(ie, &i), (we, &w)]);
        }
        held
    }

    /// Notes that an age counted from `birth` grows at the next birthday.
    pub(super) fn track_birthday(&self, h: &Cell<Horizon>, birth: i64) {
        let program = &self.plan.program;
        let next = crate::time::next_birthday(birth, self.now, &program.timezone, program.resolve);
        self.note(h, Horizon::at(next));
    }

    /// Notes a membership test in which the value looked for or the
    /// collection moves with `now`.
    pub(super) fn track_member(&self, h: &Cell<Horizon>, value: Id, collection: Id, env: Env<'_>) {
        let flow = &self.plan.time_flow;
        if flow.moving(value) || flow.moving(collection) {
            let (v, c) = (self.operand(value, env), self.operand(collection, env));
            self.note_unknown(h, [(value, &v), (collection, &c)]);
        }
    }

    /// How fast the value of `e`, an instant or a duration, moves with
    /// `now`: `None` when it is not a linear function of it.
    fn slope(&self, e: Id, env: Env<'_>) -> Option<i64> {
        let plan = self.plan;
        if let Some(Slope::Fixed(s)) = plan.time_flow.slopes.get(e.index()) {
            return *s;
        }
        match *plan.op(e) {
            Op::Now => Some(1),
            Op::Let(i) => self.slope(*plan.lets.get(i)?, None),
            Op::Arith(BinaryOp::Add, a, b) => self.slope(a, env)?.checked_add(self.slope(b, env)?),
            Op::Arith(BinaryOp::Sub, a, b) => self.slope(a, env)?.checked_sub(self.slope(b, env)?),
            Op::Neg(a) => self.slope(a, env)?.checked_neg(),
            Op::Coalesce(a, b) => {
                if matches!(*self.leaf(a, env), Value::None) {
                    self.slope(b, env)
                } else {
                    self.slope(a, env)
                }
            }
            // The slope of the value taken; the condition's own
            // comparisons note where it flips.
            Op::If(c, a, b) => {
                if self.eval_in(c, env).truthy() {
                    self.slope(a, env)
                } else {
                    self.slope(b, env)
                }
            }
            _ => None,
        }
    }

    /// The slopes of the two ends of the interval `e`.
    fn ends(&self, e: Id, env: Env<'_>) -> Option<(i64, i64)> {
        let plan = self.plan;
        if let Some(&Some(fixed)) = plan.time_flow.ends.get(e.index()) {
            return Some(fixed);
        }
        if !plan.time_flow.moving(e) {
            return Some((0, 0));
        }
        match *plan.op(e) {
            Op::Interval(a, b) => Some((self.slope(a, env)?, self.slope(b, env)?)),
            // A window like `14d` inside a `where` is lifted into a `let`.
            Op::Let(i) => self.ends(*plan.lets.get(i)?, None),
            _ => None,
        }
    }
}

/// A value computed from an instant or duration that moves with `now` by
/// steps that each keep or reverse its order: `start + slope·Δ` when
/// `now` has moved on by `Δ`, then each step.
struct Monotone {
    start: i64,
    /// Whether `start` is an instant (a duration otherwise).
    time: bool,
    slope: i64,
    steps: Vec<Step>,
}

/// One step of a [`Monotone`] value.
enum Step {
    /// `-v`
    Neg,
    /// `v op w`
    Then(BinaryOp, Value),
    /// `w op v`
    Before(BinaryOp, Value),
}

impl Monotone {
    /// Its value when `now` has moved on by `delta`, computed as the
    /// evaluator computes it.
    fn at(&self, delta: i64) -> Option<Value> {
        let x = self.start.checked_add(self.slope.checked_mul(delta)?)?;
        let mut v = if self.time {
            Value::Time(x)
        } else {
            Value::Duration(x)
        };
        for step in &self.steps {
            v = match step {
                Step::Neg => match v {
                    Value::Number(n) => Value::Number(-n),
                    Value::Duration(d) => Value::Duration(d.saturating_neg()),
                    _ => Value::None,
                },
                Step::Then(op, w) => super::expr::arith(*op, &v, w),
                Step::Before(op, w) => super::expr::arith(*op, w, &v),
            };
        }
        Some(v)
    }
}

/// The horizon an evaluator tracks: none noted yet.
pub(super) fn open() -> Cell<Horizon> {
    Cell::new(Horizon::NEVER)
}

impl Plan {
    /// Whether its lists have horizons element by element: none of them
    /// holds a value that moves with `now`.
    pub(crate) fn horizons(&self) -> bool {
        self.time_flow.usable()
    }
}

/// The horizon of a list filtered by a `let`'s `where`, element by element:
/// an element that leaves the list can only change an `any` that it made
/// true, and one that enters only an `any` that was false, so a quantifier
/// over the list takes from it only the horizons that can change its own
/// value, not the first change of any element.
#[derive(Debug, Clone)]
pub(super) struct ListHorizon {
    /// When an element may first enter the list.
    enter: Horizon,
    /// For each element, when it may first leave it.
    leave: Vec<Horizon>,
    /// When the list may first change at all.
    any: Horizon,
    /// Its elements, sorted, each with the last time at which one equal
    /// to it may leave: made on the first membership test in it.
    members: std::cell::OnceCell<Vec<(Value, Horizon)>>,
}

impl ListHorizon {
    fn new(enter: Horizon, leave: Vec<Horizon>) -> Self {
        let any = leave.iter().copied().fold(enter, Horizon::min);
        ListHorizon {
            enter,
            leave,
            any,
            members: std::cell::OnceCell::new(),
        }
    }

    /// When it may first change at all.
    pub(super) fn first(&self) -> Horizon {
        self.any
    }

    /// Whether it never changes.
    pub(super) fn fixed(&self) -> bool {
        self.any.never()
    }

    fn leave(&self, i: usize) -> Horizon {
        self.leave.get(i).copied().unwrap_or(Horizon::ALWAYS)
    }
}

impl Evaluator<'_, '_> {
    /// Whether `v` is in the list of `let` `i` whose horizon is known
    /// element by element, noting the horizon of the answer: a member stays
    /// one while one element equal to it stays in the list, a non-member
    /// until an element enters. `None` when `i` is no such `let`.
    pub(super) fn member_apart(&self, v: &Value, collection: Id) -> Option<bool> {
        let (Some(h), Op::Let(i)) = (&self.horizon, self.plan.op(collection)) else {
            return None;
        };
        let list = self.lists.get(*i)?.as_ref()?;
        let members = list.members.get_or_init(|| {
            let items = self.lets.get(*i).map_or(&[][..], Value::elements);
            let mut members: Vec<(Value, Horizon)> = items
                .iter()
                .enumerate()
                .map(|(j, item)| (item.clone(), list.leave(j)))
                .collect();
            // Of equal elements, the one that leaves last first.
            members.sort_unstable_by(|a, b| {
                (a.0.cmp(&b.0))
                    .then(b.1.at.cmp(&a.1.at))
                    .then(a.1.boundary.cmp(&b.1.boundary))
            });
            members.dedup_by(|later, first| later.0 == first.0);
            members
        });
        if !self.budget.take(1) {
            return Some(false);
        }
        match members.binary_search_by(|(m, _)| m.cmp(v)) {
            Ok(j) => {
                self.note(h, members[j].1);
                Some(true)
            }
            Err(_) => {
                self.note(h, list.enter);
                Some(false)
            }
        }
    }

    /// The horizon of the value of `let` `i` noted where it is used other
    /// than by a quantifier or a `where` over it.
    pub(super) fn note_let(&self, i: usize) {
        if let (Some(h), Some(Some(list))) = (&self.horizon, self.lists.get(i)) {
            self.note(h, list.any);
        }
    }

    /// The horizon of `list` if it is a `let` whose horizon is known
    /// element by element.
    pub(super) fn list_horizon(&self, list: Id) -> Option<&ListHorizon> {
        match *self.plan.op(list) {
            Op::Let(i) if self.horizon.is_some() => self.lists.get(i)?.as_ref(),
            _ => None,
        }
    }

    /// `body` for `item`, with its own horizon, apart from the rest.
    fn holds_apart(
        &self,
        h: &Cell<Horizon>,
        item: &Value,
        body: Id,
        env: Env<'_>,
    ) -> (bool, Horizon) {
        let saved = h.replace(Horizon::NEVER);
        let held = self.holds_in(item, body, env);
        (held, h.replace(saved))
    }

    /// A `let`'s `list.field`, with the horizon of `list` when it is known
    /// element by element: each element enters and leaves with its record.
    pub(super) fn project_apart(&self, list: Id, e: Id) -> (Value, Option<ListHorizon>) {
        let horizon = self
            .list_horizon(list)
            .map(|l| ListHorizon::new(l.enter, l.leave.clone()));
        match (horizon, self.plan.op(list)) {
            (Some(h), Op::Let(_)) => {
                // Read without noting the list's own horizon.
                let saved = self.horizon.as_ref().map(|c| c.replace(Horizon::NEVER));
                let value = self.eval(e);
                if let (Some(c), Some(saved)) = (&self.horizon, saved) {
                    c.set(saved);
                }
                (value, Some(h))
            }
            _ => (self.eval(e), None),
        }
    }

    /// A `let`'s `list where pred`, with its horizon element by element;
    /// only for an evaluator that tracks horizons.
    pub(super) fn where_apart(&self, list: Id, pred: Id) -> (Value, Option<ListHorizon>) {
        let Some(h) = &self.horizon else {
            return (Value::None, None);
        };
        let source = self.list_horizon(list);
        let items = match *self.plan.op(list) {
            Op::Let(i) => self.lets.get(i).cloned().unwrap_or_default(),
            _ => self.eval(list),
        };
        let mut enter = source.map_or(Horizon::NEVER, |s| s.enter);
        // Room for every element at once: one allocation, not one per
        // doubling.
        let mut kept = Vec::with_capacity(items.elements().len());
        let mut leave = Vec::with_capacity(items.elements().len());
        for (j, item) in items.elements().iter().enumerate() {
            if !self.budget.take(1) {
                break;
            }
            let (held, at) = self.holds_apart(h, item, pred, None);
            if held {
                kept.push(item.clone());
                leave.push(at.min(source.map_or(Horizon::NEVER, |s| s.leave(j))));
            } else {
                enter = enter.min(at);
            }
        }
        let value = match items {
            Value::Set(_) => Value::Set(kept.into()),
            _ => Value::List(kept.into()),
        };
        (value, Some(ListHorizon::new(enter, leave)))
    }

    /// A quantifier over `items`, the elements of a list with the horizon
    /// `list` (`None`: a list whose own changes are noted already).
    ///
    /// Its value holds while one element that decides it (one that holds,
    /// for `any` and `no`; one that does not, for `all`) stays in the list
    /// and keeps deciding, so all are tried, not only the first, until one
    /// decides for good; when none decides, while no element changes and
    /// none enters.
    pub(super) fn quantifier_apart(
        &self,
        quant: Quant,
        list: Option<&ListHorizon>,
        items: &[Value],
        body: Option<Id>,
        env: Env<'_>,
    ) -> bool {
        self.quantifier_found(quant, list, items, body, env, None)
    }

    /// [`Evaluator::quantifier_apart`], adding to `found`, when given, the
    /// index of each record that decides it (one that holds, for `any` and
    /// `no`; one that does not, for `all`) up to the one that decides it
    /// for good, with the index after that one (`None` when all were
    /// read).
    pub(super) fn quantifier_found(
        &self,
        quant: Quant,
        list: Option<&ListHorizon>,
        items: &[Value],
        body: Option<Id>,
        env: Env<'_>,
        mut found: Option<(&mut Vec<usize>, &mut Option<usize>)>,
    ) -> bool {
        let Some(h) = &self.horizon else {
            return false;
        };
        let enter = list.map_or(Horizon::NEVER, |l| l.enter);
        let leave = |j: usize| list.map_or(Horizon::NEVER, |l| l.leave(j));
        let Some(body) = body else {
            // Not empty while one element stays; empty until one enters.
            let at = if items.is_empty() {
                enter
            } else {
                (0..items.len())
                    .map(leave)
                    .fold(Horizon::ALWAYS, Horizon::later)
            };
            self.note(h, at);
            return match quant {
                Quant::Any => !items.is_empty(),
                Quant::No => items.is_empty(),
                Quant::All => true,
            };
        };
        let deciding = !matches!(quant, Quant::All);
        let mut decided: Option<Horizon> = None;
        let mut agreed = enter;
        for (j, item) in items.iter().enumerate() {
            if !self.budget.take(1) {
                return false;
            }
            let (held, at) = self.holds_apart(h, item, body, env);
            if held == deciding {
                if let Some((indices, _)) = &mut found {
                    indices.push(j);
                }
                let at = at.min(leave(j));
                decided = Some(decided.map_or(at, |d| d.later(at)));
                if at.never() {
                    if let Some((_, next)) = &mut found {
                        **next = Some(j + 1).filter(|&n| n < items.len());
                    }
                    break;
                }
            } else {
                agreed = agreed.min(at);
            }
        }
        match decided {
            Some(at) => {
                self.note(h, at);
                matches!(quant, Quant::Any)
            }
            None => {
                self.note(h, agreed);
                !matches!(quant, Quant::Any)
            }
        }
    }
}

impl Evaluator<'_, '_> {
    /// `a and b` (`conjunction`) or `a or b`, its horizon that of the side
    /// that decides it: a false side holds a conjunction false whatever the
    /// other does, a true one a disjunction true.
    pub(super) fn logic_apart(
        &self,
        h: &Cell<Horizon>,
        conjunction: bool,
        a: Id,
        b: Id,
        env: Env<'_>,
    ) -> bool {
        let side = |second: bool| self.eval_in(if second { b } else { a }, env).truthy();
        self.logic_with(h, conjunction, side)
    }

    /// [`Evaluator::logic_apart`], `side(false)` giving the value of the
    /// first side, `side(true)` of the second.
    pub(super) fn logic_with(
        &self,
        h: &Cell<Horizon>,
        conjunction: bool,
        mut side: impl FnMut(bool) -> bool,
    ) -> bool {
        let saved = h.replace(Horizon::NEVER);
        let x = side(false);
        let at_a = h.replace(Horizon::NEVER);
        if x != conjunction {
            h.set(saved);
            self.note(h, at_a);
            return x;
        }
        let y = side(true);
        let at_b = h.replace(saved);
        self.note(
            h,
            if y != conjunction {
                at_b
            } else {
                at_a.min(at_b)
            },
        );
        y
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::{Op, Plan};

    /// The nodes whose text is `text` in `plan`.
    fn nodes<'p>(plan: &'p Plan, text: &'p str) -> impl Iterator<Item = crate::compile::Id> + 'p {
        let mut found = Vec::new();
        plan.walk(plan.roots().map(|(_, id)| id), |id, _, _| {
            if plan.text(id) == text {
                found.push(id);
            }
        });
        found.into_iter()
    }

    /// `now` reaches what reads it, an age, and a `let` it reaches; not a
    /// test of an element of a list that moves with it, nor a fact.
    #[test]
    fn timeless_is_what_now_does_not_reach() {
        let text = r#"
            policy p
            outcomes green < red
            input person { xs: list of { at: time, tag: text }, born: time }
            facts { tags: set of text }
            let recent = person.xs where at within 14d
            let old = person.xs where tag = "x"
            rule r when any recent has tag in tags and age(person.born) > 3 then red
            rule s when any old has tag = "y" then red
            otherwise green
        "#;
        let policy = crate::Policy::compile("p", text).unwrap_or_else(|e| unreachable!("{e:?}"));
        let plan = policy.plan();
        let flow = &plan.time_flow;
        let timeless = |text: &str| -> Vec<bool> {
            let found: Vec<bool> = nodes(plan, text).map(|id| flow.timeless(id)).collect();
            assert!(!found.is_empty(), "no node {text}");
            found
        };
        assert_eq!(timeless("tag in tags"), [true]);
        assert_eq!(timeless("tag = \"x\""), [true]);
        assert!(timeless("at within 14d").iter().all(|t| !t));
        assert!(timeless("age(person.born) > 3").iter().all(|t| !t));
        assert!(
            (timeless("any recent has tag in tags and age(person.born) > 3").iter()).all(|t| !t)
        );
        assert_eq!(timeless("any old has tag = \"y\""), [true]);
        // The `let`s themselves, by the nodes that read them.
        let mut lets = Vec::new();
        plan.walk(plan.roots().map(|(_, id)| id), |id, node, _| {
            if let Op::Let(l @ (0 | 1)) = node.op {
                lets.push((l, flow.timeless(id)));
            }
        });
        assert!(
            lets.contains(&(0, false)) && lets.contains(&(1, true)),
            "{lets:?}"
        );
    }
}
