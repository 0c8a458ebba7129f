//! Typing expressions: resolving names to slots, converting literals, and
//! saying precisely what is wrong and what to write instead.

use super::Checker;
use super::error::CheckError;
use super::ir::{Expr, ExprKind};
use super::names::Scope;
use crate::syntax::{self, Quant, Span, Spanned, UnaryOp};
use crate::time;
use crate::types::Type;
use crate::value::Value;

type Ast = Spanned<syntax::Expr>;

pub(super) fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Checker<'_> {
    /// An expression that must be a `bool`.
    pub(super) fn condition(&mut self, e: &Ast) -> Expr {
        let x = self.expr(e);
        self.expect(x, &Type::Bool, "a condition (`bool`)")
    }

    /// Types an expression; on error, reports it and returns a node of type
    /// `Type::Error` so that checking goes on.
    pub(super) fn expr(&mut self, e: &Ast) -> Expr {
        let span = e.span;
        let konst = |v: Value, ty: Type| Expr::new(ExprKind::Const(v), ty, span);
        match &e.node {
            syntax::Expr::Bool(b) => konst(Value::Bool(*b), Type::Bool),
            syntax::Expr::Number(n) => konst(Value::Number(*n), Type::Number),
            syntax::Expr::Text(s) => konst(Value::Text(s.as_str().into()), Type::Text),
            syntax::Expr::Duration(secs) => {
                konst(Value::Duration(secs * time::SECOND), Type::Duration)
            }
            syntax::Expr::Time(text) => {
                match time::parse_instant(text, &self.timezone, self.resolve) {
                    Ok(t) => konst(Value::Time(t), Type::Time),
                    Err(err) => {
                        self.errors.push(CheckError::Time {
                            text: text.clone(),
                            span,
                            reason: err.reason(),
                            help: err.help(),
                        });
                        self.error(span)
                    }
                }
            }
            syntax::Expr::Calendar(period) => {
                self.errors.push(CheckError::CalendarPlace {
                    text: self.text(span).to_owned(),
                    span,
                    help: format!(
                        "add it to a time or take it from one, like `sampled_at + {0}`, or ask whether a time is recent, like `sampled_at within {0}`; an exact duration is written like `14d`",
                        period.written()
                    ),
                });
                self.error(span)
            }
            syntax::Expr::Region(level, code) => self.region_lit(*level, code, span),
            syntax::Expr::Now => Expr::new(ExprKind::Now, Type::Time, span),
            syntax::Expr::It => match self.scopes.last() {
                Some(scope) => Expr::new(
                    ExprKind::Element(self.scopes.len() - 1),
                    scope.ty.clone(),
                    span,
                ),
                None => {
                    self.errors.push(CheckError::NoElement { span });
                    self.error(span)
                }
            },
            syntax::Expr::Name(name) => self.name(name, span),
            syntax::Expr::Field(base, field) => {
                let base = self.expr(base);
                self.field(base, field, span)
            }
            syntax::Expr::Call(name, args) => self.call(name, args, span),
            syntax::Expr::Unary(UnaryOp::Not, a) => {
                let a = self.condition(a);
                Expr::new(ExprKind::Not(boxed(a)), Type::Bool, span)
            }
            syntax::Expr::Unary(UnaryOp::Neg, a) => {
                let a = self.expr(a);
                let a = self.non_none(a);
                match a.ty {
                    Type::Number | Type::Duration | Type::Error => {
                        let ty = a.ty.clone();
                        Expr::new(ExprKind::Neg(boxed(a)), ty, span)
                    }
                    _ => self.mismatch(a, "a number or a duration", None),
                }
            }
            syntax::Expr::Binary(op, a, b) => self.binary(*op, a, b, span),
            syntax::Expr::IsNone { value, negated } => {
                let value = self.expr(value);
                if !matches!(value.ty, Type::Optional(_) | Type::Error) {
                    let help = Some(format!(
                        "`{}` always has a value; declare it `{}?` in the schema if it may be absent",
                        self.text(value.span),
                        value.ty
                    ));
                    return self.mismatch(value, "an optional value", help);
                }
                Expr::new(
                    ExprKind::IsNone {
                        negated: *negated,
                        value: boxed(value),
                    },
                    Type::Bool,
                    span,
                )
            }
            syntax::Expr::IsEmpty { value, negated } => self.is_empty(value, *negated, span),
            syntax::Expr::Quantifier {
                quant,
                binder,
                subject,
                body,
            } => self.quantifier(*quant, binder.as_ref(), subject, body.as_deref(), span),
            syntax::Expr::Where {
                list,
                binder,
                condition,
            } => self.filter(list, binder.as_ref(), condition, span),
            syntax::Expr::If {
                guard,
                then,
                otherwise,
            } => self.conditional(guard, then, otherwise, span),
            syntax::Expr::Extreme { latest, list, key } => self.extreme(*latest, list, key, span),
            syntax::Expr::Bracket(items) => {
                let items: Vec<Expr> = items.iter().map(|i| self.expr(i)).collect();
                let ty = items.first().map_or(Type::Error, |i| i.ty.clone());
                for item in &items[1.min(items.len())..] {
                    if !item.ty.agrees(&ty) {
                        self.errors.push(CheckError::Mismatch {
                            expected: format!("`{ty}` like the first element"),
                            found: item.ty.to_string(),
                            span: item.span,
                            help: Some("the elements of a list all have one type".into()),
                        });
                    }
                }
                Expr::new(ExprKind::List(items), Type::List(Box::new(ty)), span)
            }
        }
    }

    pub(super) fn error(&self, span: Span) -> Expr {
        Expr::new(ExprKind::Const(Value::None), Type::Error, span)
    }

    pub(super) fn text(&self, span: Span) -> String {
        self.source.slice(span).to_owned()
    }

    /// Reports that `e` is not `expected`, and returns an error node.
    pub(super) fn mismatch(&mut self, e: Expr, expected: &str, help: Option<String>) -> Expr {
        if e.ty != Type::Error {
            self.errors.push(CheckError::Mismatch {
                expected: expected.to_owned(),
                found: e.ty.to_string(),
                span: e.span,
                help,
            });
        }
        self.error(e.span)
    }

    /// `e`, which must have type `ty`.
    pub(super) fn expect(&mut self, e: Expr, ty: &Type, what: &str) -> Expr {
        if let Type::Optional(inner) = &e.ty
            && inner.agrees(ty)
        {
            return self.non_none(e);
        }
        if e.ty.agrees(ty) {
            return e;
        }
        let help = match (&e.ty, ty) {
            (Type::List(_) | Type::Set(_), Type::Bool) => Some(format!(
                "to ask whether it has elements, write `any {0}`; whether it has none, `no {0}`",
                self.text(e.span)
            )),
            _ => None,
        };
        self.mismatch(e, what, help)
    }

    /// `e` with its optional mark dropped; reports it if it may be none here.
    pub(super) fn non_none(&mut self, e: Expr) -> Expr {
        let Type::Optional(inner) = &e.ty else {
            return e;
        };
        let text = self.text(e.span);
        let help = match &**inner {
            // A record has no default to give: it is tested.
            Type::Record(_) => {
                format!("test it first: `{text} is not none and ...`, then read its fields")
            }
            _ => format!(
                "give a value for when it is none, like `({text} or now)`, or test it first: `{text} is none or ...`"
            ),
        };
        self.errors.push(CheckError::MaybeNone {
            help,
            text,
            ty: e.ty.to_string(),
            span: e.span,
        });
        let inner = (**inner).clone();
        Expr { ty: inner, ..e }
    }

    pub(super) fn quantifier(
        &mut self,
        quant: Quant,
        binder: Option<&syntax::Ident>,
        subject: &Ast,
        body: Option<&Ast>,
        span: Span,
    ) -> Expr {
        let subject_span = subject.span;
        let subject = self.expr(subject);
        let Some(element) = subject.ty.element().cloned() else {
            return self.mismatch(
                subject,
                "a list or a set",
                Some(format!(
                    "`{}` ranges over the elements of a list or a set",
                    quant.keyword()
                )),
            );
        };
        let body = match body {
            Some(b) => {
                let scope = Scope {
                    ty: element,
                    binder: binder.map(|b| b.node.clone()),
                    subject: subject_span,
                    form: Some(quant),
                };
                Some(boxed(self.in_scope(scope, |c| c.condition(b))))
            }
            None if quant == Quant::All => {
                self.errors.push(CheckError::AllNeedsBody { span });
                None
            }
            None => None,
        };
        Expr::new(
            ExprKind::Quantifier(quant, boxed(subject), body),
            Type::Bool,
            span,
        )
    }

    /// `L where P`, `L where s has P`: the elements of `L` for which `P`
    /// holds.
    fn filter(
        &mut self,
        list: &Ast,
        binder: Option<&syntax::Ident>,
        condition: &Ast,
        span: Span,
    ) -> Expr {
        let subject = list.span;
        let list_node = &list.node;
        let list = self.expr(list);
        let Some(element) = list.ty.element().cloned() else {
            let help = match list_node {
                syntax::Expr::Quantifier { quant, subject, .. } => Some(format!(
                    "to test elements, write `{} {} has CONDITION`",
                    quant.keyword(),
                    self.text(subject.span)
                )),
                _ => None,
            };
            return self.mismatch(list, "a list or a set before `where`", help);
        };
        let scope = Scope {
            ty: element,
            binder: binder.map(|b| b.node.clone()),
            subject,
            form: None,
        };
        let pred = self.in_scope(scope, |c| c.condition(condition));
        let ty = list.ty.clone();
        Expr::new(ExprKind::Where(boxed(list), boxed(pred)), ty, span)
    }
}
