//! Why a rule fired: the records behind each condition, in words. Only run
//! for rules that fired, so deciding stays cheap.

use std::fmt::Write as _;

use super::Evaluator;
use crate::check::ir::{Expr, ExprKind};
use crate::region;
use crate::syntax::Quant;
use crate::time;
use crate::types::Type;
use crate::value::Value;

impl Evaluator<'_, '_> {
    /// Adds to `out` what made `cond` come out as `held`.
    pub(crate) fn because(&self, cond: &Expr, held: bool, out: &mut Vec<String>) {
        match (&cond.kind, held) {
            (ExprKind::And(a, b), true) => {
                self.because(a, true, out);
                self.because(b, true, out);
            }
            (ExprKind::Or(a, b), false) => {
                self.because(a, false, out);
                self.because(b, false, out);
            }
            (ExprKind::Or(a, b), true) => {
                let side = if self.test(a) { a } else { b };
                self.because(side, true, out);
            }
            (ExprKind::And(a, b), false) => {
                let side = if self.test(a) { b } else { a };
                self.because(side, false, out);
            }
            (ExprKind::Not(a), _) => self.because(a, !held, out),
            // Elements that match: the witnesses of `any`, the
            // counter-examples of a failed `no`.
            (ExprKind::Quantifier(Quant::Any, subject, body), true)
            | (ExprKind::Quantifier(Quant::No, subject, body), false) => {
                let list = self.eval(subject);
                let element = subject.ty.element().cloned().unwrap_or(Type::Error);
                let name = self.source_text(subject);
                for item in list.elements() {
                    if body.as_ref().is_none_or(|b| self.holds_for(item, b)) {
                        out.push(format!("{name}: {}", self.describe(item, &element)));
                    }
                }
            }
            (ExprKind::Quantifier(Quant::Any, subject, Some(body)), false)
            | (ExprKind::Quantifier(Quant::No, subject, Some(body)), true) => {
                out.push(format!(
                    "no element of {} has {}",
                    self.source_text(subject),
                    self.source_text(body)
                ));
            }
            _ => {
                let text = self.source_text(cond);
                out.push(if held { text } else { format!("not ({text})") });
            }
        }
    }

    fn source_text(&self, e: &Expr) -> String {
        let text = self.plan.program.source.slice(e.span);
        // Conditions written over several lines read as one.
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A value in words: regions with their names, times in the policy's
    /// zone, records as `field value, ...`.
    pub(crate) fn describe(&self, v: &Value, ty: &Type) -> String {
        let mut out = String::new();
        self.describe_into(&mut out, v, ty);
        out
    }

    fn describe_into(&self, out: &mut String, v: &Value, ty: &Type) {
        let tz = &self.plan.program.timezone;
        match (v, ty.non_optional()) {
            (Value::None, _) => out.push_str("none"),
            (Value::Bool(b), _) => {
                let _ = write!(out, "{b}");
            }
            (Value::Number(n), _) => {
                let _ = write!(out, "{n}");
            }
            (Value::Text(t), _) => out.push_str(t),
            (Value::Time(t), _) => time::write_instant(out, *t, tz),
            (Value::Duration(d), _) => out.push_str(&time::format_duration(*d)),
            (Value::Region(code), _) => {
                let _ = write!(out, "{code:06}");
                if let Some(name) = region::full_name(*code) {
                    let _ = write!(out, " {name}");
                }
            }
            (Value::Enum(i), Type::Enum(choices)) => {
                out.push_str(choices.get(*i as usize).map_or("?", String::as_str));
            }
            (Value::Record(fields), Type::Record(record)) => {
                let mut first = true;
                for (value, (name, fty)) in fields.iter().zip(&record.fields) {
                    if matches!(value, Value::None) {
                        continue;
                    }
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    let _ = write!(out, "{name} ");
                    self.describe_into(out, value, fty);
                }
            }
            (Value::List(items) | Value::Set(items), t) => {
                let element = t.element().cloned().unwrap_or(Type::Error);
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.describe_into(out, item, &element);
                }
                out.push(']');
            }
            (Value::Interval(a, b), _) => {
                out.push('[');
                time::write_instant(out, *a, tz);
                out.push_str(", ");
                time::write_instant(out, *b, tz);
                out.push(']');
            }
            (Value::Enum(i), _) => {
                let _ = write!(out, "#{i}");
            }
            (Value::Record(_), _) => out.push_str("{…}"),
        }
    }
}
