//! Calendar time: an instant moved by a calendar duration (`t + 6 months`),
//! a calendar window (`t within 6 months`), `age(dob)` and
//! `start_of_day(t)`, all counted on the calendar of the policy's zone.
//!
//! A calendar count starts from an instant of the data, never from `now`:
//! a month back from `now` jumps back at the end of every month that is
//! longer than the one before it (31 March − 1 month = 28 February, like
//! 28 March), so a condition on it would flicker; counted from the event
//! (`t + 1 month >= now`) it holds until one instant and then never again,
//! as the law counts it, and `next_change` finds that instant exactly.

use super::Checker;
use super::error::CheckError;
use super::expr::boxed;
use super::ir::{Builtin, Expr, ExprKind};
use crate::syntax::{self, BinaryOp, Span, Spanned};
use crate::time::Period;
use crate::types::Type;

type Ast = Spanned<syntax::Expr>;

/// What to write for a calendar count from `now`.
const FROM_THE_EVENT: &str = "count from the event instead: for `t > now - 1 year` write `t + 1 year > now`; for `t within 6 months`, `t` must not move with `now` either";

impl Checker<'_> {
    /// Whether the value of `e` moves with `now`.
    pub(super) fn moves_with_now(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Now | ExprKind::Call(Builtin::Age, _) => true,
            ExprKind::Let(i) => self.moving_lets.get(*i).copied().unwrap_or(false),
            _ => e
                .children()
                .into_iter()
                .any(|(c, _)| self.moves_with_now(c)),
        }
    }

    /// Whether `e` is already counted on the calendar.
    fn counted(&self, e: &Expr) -> bool {
        matches!(e.kind, ExprKind::Shift(..))
            || e.children().into_iter().any(|(c, _)| self.counted(c))
    }

    /// `t`, the instant a calendar count starts from: a time of the data,
    /// not moving with `now`, not counted on the calendar already.
    pub(super) fn calendar_start(&mut self, t: Expr, help: &str) -> Expr {
        if t.ty == Type::Error {
            return t;
        }
        if self.moves_with_now(&t) {
            self.errors.push(CheckError::CalendarNow {
                text: self.text(t.span),
                span: t.span,
                help: help.to_owned(),
            });
            return self.error(t.span);
        }
        if self.counted(&t) {
            self.errors.push(CheckError::CalendarTwice {
                text: self.text(t.span),
                span: t.span,
            });
            return self.error(t.span);
        }
        t
    }

    /// `t + 6 months`, `t - 1 year`.
    pub(super) fn shift(&mut self, op: BinaryOp, a: &Ast, period: Period, span: Span) -> Expr {
        let t = self.expr(a);
        let t = self.expect(t, &Type::Time, "a time before a calendar duration");
        let t = self.calendar_start(t, FROM_THE_EVENT);
        let period = match op {
            BinaryOp::Sub => period.negated(),
            _ => period,
        };
        Expr::new(ExprKind::Shift(boxed(t), period), Type::Time, span)
    }

    /// `t within 6 months`: `now` is in `[t, t + 6 months]`.
    pub(super) fn calendar_window(&mut self, a: &Ast, period: Period, w: Span, span: Span) -> Expr {
        let t = self.expr(a);
        let t = self.expect(t, &Type::Time, "a time before `within`");
        let t = self.calendar_start(t, FROM_THE_EVENT);
        let end = Expr::new(ExprKind::Shift(boxed(t.clone()), period), Type::Time, w);
        let window = Expr::new(ExprKind::Interval(boxed(t), boxed(end)), Type::Interval, w);
        let now = Expr::new(ExprKind::Now, Type::Time, span);
        Expr::new(
            ExprKind::Within(boxed(now), boxed(window)),
            Type::Bool,
            span,
        )
    }
}
