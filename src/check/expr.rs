//! Typing expressions: resolving names to slots, converting literals, and
//! saying precisely what is wrong and what to write instead.

use std::sync::Arc;

use super::error::CheckError;
use super::ir::{Builtin, Expr, ExprKind};
use super::{Checker, quoted_list};
use crate::region;
use crate::suggest;
use crate::syntax::{self, BinaryOp, Quant, RegionLevel, Span, Spanned, UnaryOp};
use crate::time::{self, Precision};
use crate::types::{RecordType, Type};
use crate::value::Value;

type Ast = Spanned<syntax::Expr>;

fn boxed(e: Expr) -> Box<Expr> {
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
                match time::parse_instant(text, &self.timezone, Precision::Relaxed) {
                    Ok(t) => konst(Value::Time(t), Type::Time),
                    Err(err) => {
                        let reason = match err {
                            time::TimeError::Invalid(_) => "no such date or time".into(),
                            time::TimeError::Shape(_) => "not a date and time".into(),
                        };
                        self.errors.push(CheckError::Time {
                            text: text.clone(),
                            span,
                            reason,
                        });
                        self.error(span)
                    }
                }
            }
            syntax::Expr::Region(level, code) => self.region_lit(*level, code, span),
            syntax::Expr::Now => Expr::new(ExprKind::Now, Type::Time, span),
            syntax::Expr::It => match self.scopes.last() {
                Some(ty) => Expr::new(ExprKind::Element(self.scopes.len() - 1), ty.clone(), span),
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
            syntax::Expr::Quantifier {
                quant,
                subject,
                body,
            } => self.quantifier(*quant, subject, body.as_deref(), span),
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

    fn error(&self, span: Span) -> Expr {
        Expr::new(ExprKind::Const(Value::None), Type::Error, span)
    }

    fn text(&self, span: Span) -> String {
        self.source.slice(span).to_owned()
    }

    /// Reports that `e` is not `expected`, and returns an error node.
    fn mismatch(&mut self, e: Expr, expected: &str, help: Option<String>) -> Expr {
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
    fn expect(&mut self, e: Expr, ty: &Type, what: &str) -> Expr {
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
    fn non_none(&mut self, e: Expr) -> Expr {
        let Type::Optional(inner) = &e.ty else {
            return e;
        };
        let text = self.text(e.span);
        self.errors.push(CheckError::MaybeNone {
            help: format!(
                "give a value for when it is none, like `({text} or now)`, or test it first: `{text} is none or ...`"
            ),
            text,
            ty: e.ty.to_string(),
            span: e.span,
        });
        let inner = (**inner).clone();
        Expr { ty: inner, ..e }
    }

    /// A key naming the place a value comes from, for narrowing.
    fn path_key(e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Element(d) => Some(format!("e{d}")),
            ExprKind::Let(i) => Some(format!("l{i}")),
            ExprKind::Fact(i) => Some(format!("f{i}")),
            ExprKind::Input => Some("in".into()),
            ExprKind::Field(base, slot) => Self::path_key(base).map(|k| format!("{k}.{slot}")),
            _ => None,
        }
    }

    /// `e`'s type, with the optional mark dropped where a test made it safe.
    fn narrow(&self, mut e: Expr) -> Expr {
        if let Type::Optional(inner) = &e.ty
            && Self::path_key(&e).is_some_and(|k| self.narrowed.contains(&k))
        {
            e.ty = (**inner).clone();
        }
        e
    }

    /// Checks `b` knowing that `a` evaluated to `held` (true for the right
    /// of `and`, false for the right of `or`).
    fn with_narrowing(&mut self, a: &Expr, held: bool, b: &Ast) -> Expr {
        let mut keys = Vec::new();
        known_some(a, held, &mut keys);
        let depth = self.narrowed.len();
        self.narrowed.extend(keys);
        let b = self.condition(b);
        self.narrowed.truncate(depth);
        b
    }

    fn name(&mut self, name: &str, span: Span) -> Expr {
        for (depth, scope) in self.scopes.iter().enumerate().rev() {
            if let Type::Record(record) = scope
                && let Some((slot, ty)) = record.field(name)
            {
                let element = Expr::new(ExprKind::Element(depth), scope.clone(), span);
                return self.narrow(Expr::new(
                    ExprKind::Field(boxed(element), slot),
                    ty.clone(),
                    span,
                ));
            }
        }
        if let Some(i) = self.lets.iter().position(|(n, _)| n == name) {
            let ty = self.lets[i].1.clone();
            return self.narrow(Expr::new(ExprKind::Let(i), ty, span));
        }
        if let Some(&defined) = self.later_lets.get(name) {
            self.errors.push(CheckError::LetOrder {
                name: name.to_owned(),
                span,
                defined,
            });
            return self.error(span);
        }
        if let Some((slot, ty)) = self.facts.field(name) {
            return self.narrow(Expr::new(ExprKind::Fact(slot), ty.clone(), span));
        }
        if name == self.input_name {
            return Expr::new(ExprKind::Input, Type::Record(Arc::clone(&self.input)), span);
        }
        let help = self.unknown_name_help(name);
        self.errors.push(CheckError::UnknownName {
            name: name.to_owned(),
            span,
            help,
        });
        self.error(span)
    }

    fn unknown_name_help(&self, name: &str) -> String {
        let mut candidates: Vec<&str> = Vec::new();
        for scope in &self.scopes {
            if let Type::Record(r) = scope {
                candidates.extend(r.fields.iter().map(|(n, _)| n.as_str()));
            }
        }
        candidates.extend(self.lets.iter().map(|(n, _)| n.as_str()));
        candidates.extend(self.facts.fields.iter().map(|(n, _)| n.as_str()));
        candidates.push(&self.input_name);
        if let Some(help) = suggest::help_for(name, candidates.iter().copied()) {
            return help;
        }
        if let Some(path) = find_field(&self.input, name, &self.input_name) {
            return format!(
                "`{name}` is a field of each element of `{path}`: test it inside `any {path} has ...` or `{path} where ...`"
            );
        }
        format!(
            "names here are the `let`s, the facts, `{}` and, inside `where` or `has`, the element's fields",
            self.input_name
        )
    }

    fn field(&mut self, base: Expr, field: &syntax::Ident, span: Span) -> Expr {
        let (record, project) = match &base.ty {
            Type::Record(r) => (Arc::clone(r), false),
            Type::List(inner) => match &**inner {
                Type::Record(r) => (Arc::clone(r), true),
                _ => return self.mismatch(base, "a record or a list of records", None),
            },
            Type::Optional(inner) if matches!(**inner, Type::Record(_)) => {
                let base = self.non_none(base);
                return self.field(base, field, span);
            }
            Type::Error => return self.error(span),
            _ => return self.mismatch(base, "a record or a list of records", None),
        };
        let Some((slot, ty)) = record.field(&field.node) else {
            let names: Vec<&str> = record.fields.iter().map(|(n, _)| n.as_str()).collect();
            let help = suggest::help_for(&field.node, names.iter().copied())
                .unwrap_or_else(|| format!("its fields are {}", quoted_list(&names)));
            self.errors.push(CheckError::UnknownField {
                field: field.node.clone(),
                record: self.text(base.span),
                span: field.span,
                help,
            });
            return self.error(span);
        };
        if project {
            let ty = Type::List(Box::new(ty.clone()));
            Expr::new(ExprKind::Project(boxed(base), slot), ty, span)
        } else {
            self.narrow(Expr::new(
                ExprKind::Field(boxed(base), slot),
                ty.clone(),
                span,
            ))
        }
    }

    fn region_lit(&mut self, level: RegionLevel, code: &str, span: Span) -> Expr {
        let (word, want) = match level {
            RegionLevel::Province => ("province", region::Level::Province),
            RegionLevel::Prefecture => ("prefecture", region::Level::Prefecture),
            RegionLevel::County => ("county", region::Level::County),
        };
        let Some(number) = region::parse_code(code) else {
            self.errors.push(CheckError::Region {
                code: code.to_owned(),
                level: word,
                span,
                reason: "not a six-digit code".into(),
                help: Some("region codes are six digits, like `110000`".into()),
            });
            return self.error(span);
        };
        let found = region::lookup(number);
        // A prefecture-level city without counties is its own county.
        let ok = found.is_some_and(|r| {
            r.level == want
                || (want == region::Level::County
                    && r.level == region::Level::Prefecture
                    && !region::has_counties(number))
        });
        if !ok {
            let (reason, help) = match found {
                None => ("not in the table".to_owned(), None),
                Some(r) => {
                    let (actual, kw) = match r.level {
                        region::Level::Province => ("a province", "province"),
                        region::Level::Prefecture => ("a prefecture-level city", "prefecture"),
                        region::Level::County => ("a county", "county"),
                    };
                    (
                        format!(
                            "{} is {actual}",
                            region::full_name(number).unwrap_or_default()
                        ),
                        Some(format!("write `{kw} \"{code}\"`")),
                    )
                }
            };
            self.errors.push(CheckError::Region {
                code: code.to_owned(),
                level: word,
                span,
                reason,
                help,
            });
            return self.error(span);
        }
        Expr::new(ExprKind::Const(Value::Region(number)), Type::Region, span)
    }

    fn call(&mut self, name: &syntax::Ident, args: &[Ast], span: Span) -> Expr {
        let Some(&(_, builtin)) = Builtin::ALL.iter().find(|(n, _)| *n == name.node) else {
            let names = Builtin::ALL.map(|(n, _)| n);
            let help = suggest::help_for(&name.node, names)
                .unwrap_or_else(|| format!("the functions are {}", quoted_list(&names)));
            self.errors.push(CheckError::UnknownFunction {
                name: name.node.clone(),
                span: name.span,
                help,
            });
            return self.error(span);
        };
        let args: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
        let usage = match builtin {
            Builtin::Prefecture | Builtin::Province => format!("{}(region)", name.node),
            Builtin::Prefectures | Builtin::Provinces => format!("{}(regions)", name.node),
            Builtin::Count => "count(list)".to_owned(),
        };
        let [arg] = <[Expr; 1]>::try_from(args)
            .map_err(|a| a.len())
            .unwrap_or_else(|found| {
                self.errors.push(CheckError::Arity {
                    name: name.node.clone(),
                    expected: "one argument".into(),
                    found: match found {
                        0 => "none".into(),
                        n => format!("{n}"),
                    },
                    usage: usage.clone(),
                    span,
                });
                [self.error(span)]
            });
        let ty = match builtin {
            Builtin::Prefecture | Builtin::Province => {
                if !matches!(arg.ty.non_optional(), Type::Region | Type::Error) {
                    return self.mismatch(arg, "a region", Some(format!("write `{usage}`")));
                }
                Type::Optional(Box::new(Type::Region))
            }
            Builtin::Prefectures | Builtin::Provinces => {
                if !matches!(
                    arg.ty.element().map(Type::non_optional),
                    Some(Type::Region | Type::Error)
                ) {
                    return self.mismatch(
                        arg,
                        "a list or set of regions",
                        Some(format!("write `{usage}`")),
                    );
                }
                Type::Set(Box::new(Type::Region))
            }
            Builtin::Count => {
                if arg.ty.element().is_none() {
                    return self.mismatch(
                        arg,
                        "a list or a set",
                        Some("write `count(LIST)`".into()),
                    );
                }
                Type::Number
            }
        };
        Expr::new(ExprKind::Call(builtin, vec![arg]), ty, span)
    }

    fn quantifier(&mut self, quant: Quant, subject: &Ast, body: Option<&Ast>, span: Span) -> Expr {
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
                self.scopes.push(element);
                let b = self.condition(b);
                self.scopes.pop();
                Some(boxed(b))
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

    fn binary(&mut self, op: BinaryOp, a: &Ast, b: &Ast, span: Span) -> Expr {
        let node = |kind: ExprKind, ty: Type| Expr::new(kind, ty, span);
        match op {
            BinaryOp::Where => {
                let list = self.expr(a);
                let Some(element) = list.ty.element().cloned() else {
                    let help = match &a.node {
                        syntax::Expr::Quantifier { quant, subject, .. } => Some(format!(
                            "to test elements, write `{} {} has CONDITION`",
                            quant.keyword(),
                            self.text(subject.span)
                        )),
                        _ => None,
                    };
                    return self.mismatch(list, "a list or a set before `where`", help);
                };
                self.scopes.push(element);
                let pred = self.condition(b);
                self.scopes.pop();
                let ty = list.ty.clone();
                node(ExprKind::Where(boxed(list), boxed(pred)), ty)
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

    fn operands(
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
    fn coerce(&mut self, e: Expr, target: &Type) -> Expr {
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
    fn window(&mut self, w: &Ast) -> Expr {
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
    fn interval(&mut self, i: &Ast) -> Expr {
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

/// The paths that cannot be none once `e` has evaluated to `held`.
fn known_some(e: &Expr, held: bool, out: &mut Vec<String>) {
    match (&e.kind, held) {
        (ExprKind::IsNone { negated, value }, _) if *negated == held => {
            out.extend(Checker::path_key(value));
        }
        (ExprKind::Not(a), _) => known_some(a, !held, out),
        (ExprKind::And(a, b), true) | (ExprKind::Or(a, b), false) => {
            known_some(a, held, out);
            known_some(b, held, out);
        }
        _ => {}
    }
}

/// The path to a list whose elements have a field `name`: `person.tests`.
fn find_field(record: &RecordType, name: &str, prefix: &str) -> Option<String> {
    for (field, ty) in &record.fields {
        let path = format!("{prefix}.{field}");
        let inner = match ty.element().unwrap_or(ty).non_optional() {
            Type::Record(r) => r,
            _ => continue,
        };
        if ty.element().is_some() && inner.field(name).is_some() {
            return Some(path);
        }
        if let Some(found) = find_field(inner, name, &path) {
            return Some(found);
        }
    }
    None
}
