//! Region literals and the built-in functions.

use super::error::CheckError;
use super::expr::boxed;
use super::ir::{Builtin, Expr, ExprKind};
use super::names::Scope;
use super::{Checker, quoted_list};
use crate::region;
use crate::suggest;
use crate::syntax::{self, RegionLevel, Span, Spanned};
use crate::types::Type;
use crate::value::Value;

type Ast = Spanned<syntax::Expr>;

impl Checker<'_> {
    pub(super) fn region_lit(&mut self, level: RegionLevel, code: &str, span: Span) -> Expr {
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

    pub(super) fn call(&mut self, name: &syntax::Ident, args: &[Ast], span: Span) -> Expr {
        if let Some(&(_, builtin)) = Builtin::MORE.iter().find(|(n, _)| *n == name.node) {
            return self.aggregate(builtin, name, args, span);
        }
        let Some(&(_, builtin)) = Builtin::ALL.iter().find(|(n, _)| *n == name.node) else {
            let names: Vec<&str> = (Builtin::ALL.iter().chain(&Builtin::MORE))
                .map(|(n, _)| *n)
                .collect();
            let help = suggest::help_for(&name.node, names.iter().copied())
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
            Builtin::Age => "age(birth)".to_owned(),
            Builtin::StartOfDay => "start_of_day(time)".to_owned(),
            Builtin::Date => "date(text)".to_owned(),
            _ => "count(list)".to_owned(),
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
            Builtin::Date => {
                let what = format!("a text: write `{usage}`");
                let arg = self.expect(arg, &Type::Text, &what);
                let ty = Type::Optional(Box::new(Type::Time));
                return Expr::new(ExprKind::Call(builtin, vec![arg]), ty, span);
            }
            Builtin::Age | Builtin::StartOfDay => {
                let what = format!("a time: write `{usage}`");
                let arg = self.expect(arg, &Type::Time, &what);
                let help = match builtin {
                    Builtin::Age => {
                        "an age is counted from a birth in the data, like `age(person.dob) >= 18`"
                    }
                    _ => {
                        "take the start of the day of a time of the data, like `now >= start_of_day(person.arrived) + 14 days`"
                    }
                };
                let arg = self.calendar_start(arg, help);
                let ty = match builtin {
                    Builtin::Age => Type::Number,
                    _ => Type::Time,
                };
                return Expr::new(ExprKind::Call(builtin, vec![arg]), ty, span);
            }
            _ => unreachable!("the built-ins on text and lists are typed by `aggregate`"),
        };
        Expr::new(ExprKind::Call(builtin, vec![arg]), ty, span)
    }

    /// `length(text)`, `lower(text)`, and the aggregates over a list:
    /// `min`, `max`, `sum`, `first`, `last`, `distinct`. Those that have no
    /// value for an empty list are optional, so that the author says what
    /// an empty list means (`min(L) or now`).
    fn aggregate(
        &mut self,
        builtin: Builtin,
        name: &syntax::Ident,
        args: &[Ast],
        span: Span,
    ) -> Expr {
        if builtin == Builtin::Element {
            return self.element(args, span);
        }
        let usage = match builtin {
            Builtin::Length | Builtin::Lower => format!("{}(text)", name.node),
            _ => format!("{}(list)", name.node),
        };
        let mut args: Vec<Expr> = args.iter().map(|a| self.expr(a)).collect();
        if args.len() != 1 {
            self.errors.push(CheckError::Arity {
                name: name.node.clone(),
                expected: "one argument".into(),
                found: match args.len() {
                    0 => "none".into(),
                    n => format!("{n}"),
                },
                usage,
                span,
            });
            return self.error(span);
        }
        let arg = args.remove(0);
        let help = Some(format!("write `{usage}`"));
        if let Builtin::Length | Builtin::Lower = builtin {
            let arg = self.non_none(arg);
            if !matches!(arg.ty, Type::Text | Type::Error) {
                return self.mismatch(arg, "a text", help);
            }
            let ty = match builtin {
                Builtin::Length => Type::Number,
                _ => Type::Text,
            };
            return Expr::new(ExprKind::Call(builtin, vec![arg]), ty, span);
        }
        let Some(element) = arg.ty.element().cloned() else {
            return self.mismatch(arg, "a list or a set", help);
        };
        let optional = |t: Type| match t {
            Type::Optional(_) | Type::Error => t,
            t => Type::Optional(Box::new(t)),
        };
        let (builtin, ty) = match builtin {
            Builtin::Min | Builtin::Max => {
                if !matches!(
                    element,
                    Type::Number | Type::Time | Type::Duration | Type::Text | Type::Error
                ) {
                    return self.mismatch(
                        arg,
                        "a list of numbers, times, durations or texts",
                        Some(format!(
                            "to find the record with the {} field, write `{} of LIST by FIELD`",
                            if builtin == Builtin::Max {
                                "greatest"
                            } else {
                                "least"
                            },
                            if builtin == Builtin::Max {
                                "latest"
                            } else {
                                "earliest"
                            },
                        )),
                    );
                }
                (builtin, optional(element))
            }
            Builtin::Sum => match element {
                Type::Number | Type::Error => (Builtin::Sum, Type::Number),
                Type::Duration => (Builtin::SumDurations, Type::Duration),
                _ => return self.mismatch(arg, "a list of numbers or durations", help),
            },
            Builtin::First | Builtin::Last => (builtin, optional(element)),
            _ => (builtin, Type::Set(Box::new(element))),
        };
        Expr::new(ExprKind::Call(builtin, vec![arg]), ty, span)
    }

    /// `element(L, n)`: the `n`th element of a list, counted from 1, as
    /// CertLogic's `payload.t.1` is the second test; none when the list
    /// has fewer (so it is optional, as `first(L)` is).
    fn element(&mut self, args: &[Ast], span: Span) -> Expr {
        let usage = "element(list, n)";
        let [list, place] = args else {
            self.errors.push(CheckError::Arity {
                name: "element".into(),
                expected: "two arguments".into(),
                found: match args.len() {
                    0 => "none".into(),
                    n => format!("{n}"),
                },
                usage: usage.into(),
                span,
            });
            return self.error(span);
        };
        let (list, place) = (self.expr(list), self.expr(place));
        let element = match &list.ty {
            Type::List(element) => (**element).clone(),
            Type::Error => Type::Error,
            Type::Set(_) => {
                let help = "a set has no order: ask it with `x in S`, or count it".to_owned();
                return self.mismatch(list, "a list", Some(help));
            }
            _ => return self.mismatch(list, "a list", Some(format!("write `{usage}`"))),
        };
        let place = self.expect(place, &Type::Number, &format!("a number: write `{usage}`"));
        let literal = match &place.kind {
            ExprKind::Const(Value::Number(n)) => Some(*n),
            ExprKind::Neg(inner) => match inner.kind {
                ExprKind::Const(Value::Number(n)) => Some(-n),
                _ => None,
            },
            _ => None,
        };
        if let Some(n) = literal
            && !(n >= 1.0 && n.fract() == 0.0)
        {
            self.errors.push(CheckError::ElementPlace {
                text: self.text(place.span),
                span: place.span,
            });
            return self.error(span);
        }
        let ty = match element {
            Type::Optional(_) | Type::Error => element,
            t => Type::Optional(Box::new(t)),
        };
        Expr::new(
            ExprKind::Call(Builtin::Element, vec![list, place]),
            ty,
            span,
        )
    }

    /// `latest of L by K`, `earliest of L by K`: the element whose `K`,
    /// read from it as after `has`, is greatest or least; none for an empty
    /// list.
    pub(super) fn extreme(&mut self, latest: bool, list: &Ast, key: &Ast, span: Span) -> Expr {
        let subject = list.span;
        let list = self.expr(list);
        let word = if latest { "latest" } else { "earliest" };
        let Some(element) = list.ty.element().cloned() else {
            return self.mismatch(
                list,
                "a list or a set",
                Some(format!("`{word} of` picks one element of a list or a set")),
            );
        };
        let scope = Scope {
            ty: element.clone(),
            binder: None,
            subject,
            form: None,
        };
        let key = self.in_scope(scope, |c| {
            let k = c.expr(key);
            c.non_none(k)
        });
        if !matches!(
            key.ty,
            Type::Number | Type::Time | Type::Duration | Type::Text | Type::Error
        ) {
            return self.mismatch(
                key,
                "a number, a time, a duration or a text",
                Some(format!(
                    "`{word} of LIST by FIELD` orders the elements by a field they have"
                )),
            );
        }
        let ty = match element {
            Type::Optional(_) | Type::Error => element,
            t => Type::Optional(Box::new(t)),
        };
        Expr::new(ExprKind::Extreme(latest, boxed(list), boxed(key)), ty, span)
    }

    /// `if C then A else B`: both arms of one type; each checked knowing
    /// how `C` came out.
    pub(super) fn conditional(
        &mut self,
        guard: &Ast,
        then: &Ast,
        otherwise: &Ast,
        span: Span,
    ) -> Expr {
        let guard = self.condition(guard);
        let a = self.narrowed_by(&guard, true, then, Self::expr);
        let b = self.narrowed_by(&guard, false, otherwise, Self::expr);
        let b = self.coerce(b, &a.ty);
        let a = self.coerce(a, &b.ty);
        if !a.ty.agrees(&b.ty) {
            self.errors.push(CheckError::Mismatch {
                expected: format!("`{}` like the value after `then`", a.ty),
                found: b.ty.to_string(),
                span: b.span,
                help: Some("both values of an `if` have one type".into()),
            });
            return self.error(span);
        }
        let ty = match (&a.ty, &b.ty) {
            (Type::Error, t) | (t, Type::Error) => t.clone(),
            (Type::Optional(_), _) => a.ty.clone(),
            (_, Type::Optional(_)) => b.ty.clone(),
            (t, _) => t.clone(),
        };
        Expr::new(ExprKind::If(boxed(guard), boxed(a), boxed(b)), ty, span)
    }
}

impl Checker<'_> {
    /// `R is empty`, `R is not empty`: whether a record (perhaps none)
    /// gives none of its fields, as CertLogic reads `{}` as false.
    pub(super) fn is_empty(&mut self, value: &Ast, negated: bool, span: Span) -> Expr {
        let value = self.expr(value);
        let text = self.text(value.span);
        let record = match &value.ty {
            Type::Record(r) => Some((r, false)),
            Type::Optional(inner) => match &**inner {
                Type::Record(r) => Some((r, true)),
                _ => None,
            },
            Type::Error => return self.error(span),
            _ => None,
        };
        let Some((record, optional)) = record else {
            let help = match value.ty.non_optional() {
                Type::List(_) | Type::Set(_) => format!(
                    "to ask whether a list has elements, write `{} {text}`",
                    if negated { "any" } else { "no" }
                ),
                Type::Text => {
                    let test = match (matches!(value.ty, Type::Optional(_)), negated) {
                        (false, false) => format!("length({text}) = 0"),
                        (false, true) => format!("length({text}) > 0"),
                        (true, false) => format!("{text} is none or length({text}) = 0"),
                        (true, true) => format!("{text} is not none and length({text}) > 0"),
                    };
                    format!("to ask whether a text has characters, write `{test}`")
                }
                _ if matches!(value.ty, Type::Optional(_)) => format!(
                    "to ask whether it has a value, write `{text} is {}none`",
                    if negated { "not " } else { "" }
                ),
                _ => "`is empty` asks whether a record gives any of its fields".to_owned(),
            };
            return self.mismatch(value, "a record", Some(help));
        };
        // A field that always has a value: a record of this type is never
        // empty, so the test is `is none` or always the same.
        let given = record
            .fields
            .iter()
            .find(|(_, ty)| !matches!(ty, Type::Optional(_) | Type::List(_) | Type::Set(_)));
        if let Some((field, ty)) = given {
            let help = if optional {
                format!(
                    "only none is empty here: write `{text} is {}none`",
                    if negated { "not " } else { "" }
                )
            } else {
                format!(
                    "declare `{field}` optional (`{ty}?`) if the data may leave it out, or drop the test"
                )
            };
            self.errors.push(CheckError::NeverEmpty {
                text,
                field: field.clone(),
                span: value.span,
                help,
            });
            return self.error(span);
        }
        let builtin = if negated {
            Builtin::NotEmpty
        } else {
            Builtin::Empty
        };
        Expr::new(ExprKind::Call(builtin, vec![value]), Type::Bool, span)
    }
}
