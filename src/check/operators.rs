//! Typing the infix operators, windows and intervals.

use std::sync::Arc;

use super::Checker;
use super::error::CheckError;
use super::ir::{Builtin, Expr, ExprKind};
use crate::suggest;
use crate::syntax::{self, BinaryOp, Span, Spanned};
use crate::types::Type;
use crate::value::Value;

type Ast = Spanned<syntax::Expr>;
use super::expr::boxed;

impl Checker<'_> {
    pub(super) fn binary(&mut self, op: BinaryOp, a: &Ast, b: &Ast, span: Span) -> Expr {
        let node = |kind: ExprKind, ty: Type| Expr::new(kind, ty, span);
        match op {
            BinaryOp::StartsWith | BinaryOp::EndsWith | BinaryOp::Contains => {
                let (a, b) = (self.expr(a), self.expr(b));
                let (left, right) = (self.non_none(a), self.non_none(b));
                if !matches!(
                    (&left.ty, &right.ty),
                    (Type::Text | Type::Error, Type::Text | Type::Error)
                ) {
                    let help = if op == BinaryOp::Contains && left.ty.element().is_some() {
                        format!(
                            "to ask whether a list has a value, write `{} in {}`",
                            self.text(right.span),
                            self.text(left.span)
                        )
                    } else {
                        format!("`{}` tests a text against a text", op.symbol())
                    };
                    return self.operands(op, &left, &right, span, &help);
                }
                let builtin = match op {
                    BinaryOp::StartsWith => Builtin::StartsWith,
                    BinaryOp::EndsWith => Builtin::EndsWith,
                    _ => Builtin::Contains,
                };
                node(ExprKind::Call(builtin, vec![left, right]), Type::Bool)
            }
            BinaryOp::And => {
                let a = self.condition(a);
                let b = self.with_narrowing(&a, true, b);
                node(ExprKind::And(boxed(a), boxed(b)), Type::Bool)
            }
            BinaryOp::Or => {
                let left = self.expr(a);
                match &left.ty {
                    Type::Optional(inner) => {
                        let inner = (**inner).clone();
                        let right = self.expr(b);
                        if !right.ty.agrees(&inner) {
                            return self.operands(
                                op,
                                &left,
                                &right,
                                span,
                                "a default for an optional value must have its type",
                            );
                        }
                        let ty = right.ty.clone();
                        node(ExprKind::Coalesce(boxed(left), boxed(right)), ty)
                    }
                    _ => {
                        let left = self.expect(
                            left,
                            &Type::Bool,
                            "a condition (`bool`) or an optional value",
                        );
                        let right = self.with_narrowing(&left, false, b);
                        node(ExprKind::Or(boxed(left), boxed(right)), Type::Bool)
                    }
                }
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let (left, right) = (self.expr(a), self.expr(b));
                let left = self.coerce(left, &right.ty);
                let right = self.coerce(right, &left.ty);
                if !left.ty.agrees(&right.ty) {
                    let help =
                        match region_text(&left, &right).or_else(|| region_text(&right, &left)) {
                            Some(code) => format!(
                                "a region literal names its level: write `county \"{code}\"`"
                            ),
                            None => "`=` and `!=` compare values of one type".to_owned(),
                        };
                    return self.operands(op, &left, &right, span, &help);
                }
                node(ExprKind::Compare(op, boxed(left), boxed(right)), Type::Bool)
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let a = self.expr(a);
                let left = self.non_none(a);
                let b = self.expr(b);
                let right = self.non_none(b);
                let ordered = matches!(
                    (&left.ty, &right.ty),
                    (Type::Number, Type::Number)
                        | (Type::Time, Type::Time)
                        | (Type::Duration, Type::Duration)
                        | (Type::Text, Type::Text)
                        | (Type::Error, _)
                        | (_, Type::Error)
                );
                if !ordered {
                    return self.operands(
                        op,
                        &left,
                        &right,
                        span,
                        "ordering compares two numbers, two times, two durations or two texts; \
                         to compare a time with a window, write `TIME within 14d`",
                    );
                }
                node(ExprKind::Compare(op, boxed(left), boxed(right)), Type::Bool)
            }
            BinaryOp::In | BinaryOp::NotIn => {
                let negated = op == BinaryOp::NotIn;
                let right = self.expr(b);
                let left = self.expr(a);
                if matches!(right.ty.non_optional(), Type::Region) {
                    let right = self.non_none(right);
                    if !matches!(left.ty.non_optional(), Type::Region | Type::Error) {
                        return self.operands(
                            op,
                            &left,
                            &right,
                            span,
                            "`in` a region takes a region on its left",
                        );
                    }
                    return node(
                        ExprKind::InRegion {
                            negated,
                            inner: boxed(left),
                            outer: boxed(right),
                        },
                        Type::Bool,
                    );
                }
                let Some(element) = right.ty.element().cloned() else {
                    let help = if matches!(right.ty, Type::Text) {
                        Some("`in` tests membership of a list or a set, or whether a region lies inside another".into())
                    } else {
                        None
                    };
                    return self.mismatch(right, "a list, a set or a region after `in`", help);
                };
                let left = self.coerce(left, &element);
                if !left.ty.agrees(&element) {
                    return self.operands(
                        op,
                        &left,
                        &right,
                        span,
                        "`in` looks for a value among elements of its type",
                    );
                }
                node(
                    ExprKind::Member {
                        negated,
                        value: boxed(left),
                        collection: boxed(right),
                    },
                    Type::Bool,
                )
            }
            BinaryOp::Within => {
                if let syntax::Expr::Calendar(period) = &b.node {
                    return self.calendar_window(a, *period, b.span, span);
                }
                let t = self.expr(a);
                let t = self.expect(t, &Type::Time, "a time before `within`");
                let w = self.window(b);
                node(ExprKind::Within(boxed(t), boxed(w)), Type::Bool)
            }
            BinaryOp::Overlaps => {
                let i = self.interval(a);
                let w = self.window(b);
                node(ExprKind::Overlaps(boxed(i), boxed(w)), Type::Bool)
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                if let (BinaryOp::Add | BinaryOp::Sub, syntax::Expr::Calendar(period)) =
                    (op, &b.node)
                {
                    return self.shift(op, a, *period, span);
                }
                let a = self.expr(a);
                let left = self.non_none(a);
                let b = self.expr(b);
                let right = self.non_none(b);
                use Type::{Duration as D, Number as N, Time as T};
                let ty = match (op, &left.ty, &right.ty) {
                    (_, Type::Error, _) | (_, _, Type::Error) => Type::Error,
                    (_, N, N) => N,
                    (BinaryOp::Add | BinaryOp::Sub, T, D) | (BinaryOp::Add, D, T) => T,
                    (BinaryOp::Sub, T, T) => D,
                    (BinaryOp::Add | BinaryOp::Sub, D, D)
                    | (BinaryOp::Mul | BinaryOp::Div, D, N)
                    | (BinaryOp::Mul, N, D) => D,
                    (BinaryOp::Div, D, D) => N,
                    _ => {
                        return self.operands(
                            op,
                            &left,
                            &right,
                            span,
                            "arithmetic works on numbers, on a time plus or minus a duration, \
                             on two durations, and on a duration times a number",
                        );
                    }
                };
                node(ExprKind::Arith(op, boxed(left), boxed(right)), ty)
            }
        }
    }

    pub(super) fn operands(
        &mut self,
        op: BinaryOp,
        left: &Expr,
        right: &Expr,
        span: Span,
        help: &str,
    ) -> Expr {
        if left.ty != Type::Error && right.ty != Type::Error {
            self.errors.push(CheckError::Operands {
                op: op.symbol().to_owned(),
                left: left.ty.to_string(),
                right: right.ty.to_string(),
                span,
                help: help.to_owned(),
            });
        }
        self.error(span)
    }

    /// A string literal where a choice of strings is expected becomes the
    /// choice's index.
    pub(super) fn coerce(&mut self, e: Expr, target: &Type) -> Expr {
        let (Type::Enum(choices), ExprKind::Const(Value::Text(text))) =
            (target.non_optional(), &e.kind)
        else {
            return e;
        };
        match choices.iter().position(|c| **c == **text) {
            Some(i) => Expr::new(
                ExprKind::Const(Value::Enum(i as u32)),
                Type::Enum(Arc::clone(choices)),
                e.span,
            ),
            None => {
                self.errors.push(CheckError::NotInEnum {
                    value: text.to_string(),
                    choices: target.non_optional().to_string(),
                    span: e.span,
                    help: suggest::help_for(text, choices.iter().map(String::as_str))
                        .map(|h| h.replace('`', "\"")),
                });
                self.error(e.span)
            }
        }
    }

    /// The right of `within` or `overlaps`: `[a, b]`, or a duration `d`
    /// meaning `[now - d, now]`.
    pub(super) fn window(&mut self, w: &Ast) -> Expr {
        if matches!(&w.node, syntax::Expr::Bracket(items) if items.len() == 2) {
            return self.interval(w);
        }
        let e = self.expr(w);
        match e.ty {
            Type::Duration => {
                let now = || Expr::new(ExprKind::Now, Type::Time, w.span);
                let start = Expr::new(
                    ExprKind::Arith(BinaryOp::Sub, boxed(now()), boxed(e)),
                    Type::Time,
                    w.span,
                );
                Expr::new(
                    ExprKind::Interval(boxed(start), boxed(now())),
                    Type::Interval,
                    w.span,
                )
            }
            Type::Interval | Type::Error => e,
            _ => self.mismatch(
                e,
                "a window: a duration like `14d` (the last 14 days) or an interval `[from, to]`",
                None,
            ),
        }
    }

    /// `[a, b]` with two times.
    pub(super) fn interval(&mut self, i: &Ast) -> Expr {
        match &i.node {
            syntax::Expr::Bracket(items) if items.len() == 2 => {
                let a = self.expr(&items[0]);
                let a = self.expect(a, &Type::Time, "a time");
                let b = self.expr(&items[1]);
                let b = self.expect(b, &Type::Time, "a time");
                Expr::new(
                    ExprKind::Interval(boxed(a), boxed(b)),
                    Type::Interval,
                    i.span,
                )
            }
            _ => {
                let e = self.expr(i);
                if matches!(e.ty, Type::Interval | Type::Error) {
                    return e;
                }
                self.mismatch(e, "an interval like `[from, to]`", None)
            }
        }
    }
}

/// The code of a text literal compared with a region.
fn region_text(region: &Expr, text: &Expr) -> Option<String> {
    match (&region.ty.non_optional(), &text.kind) {
        (Type::Region, ExprKind::Const(Value::Text(t))) => Some(t.to_string()),
        _ => None,
    }
}
