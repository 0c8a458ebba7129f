//! Region literals and the built-in functions.

use super::error::CheckError;
use super::ir::{Builtin, Expr, ExprKind};
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
            Builtin::Age => "age(birth)".to_owned(),
            Builtin::StartOfDay => "start_of_day(time)".to_owned(),
            Builtin::Date => "date(text)".to_owned(),
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
        };
        Expr::new(ExprKind::Call(builtin, vec![arg]), ty, span)
    }
}
