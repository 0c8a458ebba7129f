//! Resolving names and fields to slots, and narrowing optional values
//! where a test has shown they are present.

use std::sync::Arc;

use super::error::CheckError;
use super::ir::{Expr, ExprKind};
use super::{Checker, quoted_list};
use crate::suggest;
use crate::syntax::{self, Span, Spanned};
use crate::types::{RecordType, Type};

type Ast = Spanned<syntax::Expr>;

use super::expr::boxed;

/// How many unknown names of one policy get a "did you mean".
const MAX_SUGGESTIONS: usize = 32;

impl Checker<'_> {
    /// A key naming the place a value comes from, for narrowing.
    pub(super) fn path_key(e: &Expr) -> Option<String> {
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
    pub(super) fn narrow(&self, mut e: Expr) -> Expr {
        if let Type::Optional(inner) = &e.ty
            && Self::path_key(&e).is_some_and(|k| self.narrowed.contains(&k))
        {
            e.ty = (**inner).clone();
        }
        e
    }

    /// Checks `b` knowing that `a` evaluated to `held` (true for the right
    /// of `and`, false for the right of `or`).
    pub(super) fn with_narrowing(&mut self, a: &Expr, held: bool, b: &Ast) -> Expr {
        let mut keys = Vec::new();
        known_some(a, held, &mut keys);
        let depth = self.narrowed.len();
        self.narrowed.extend(keys);
        let b = self.condition(b);
        self.narrowed.truncate(depth);
        b
    }

    pub(super) fn name(&mut self, name: &str, span: Span) -> Expr {
        for (depth, (scope, binder)) in self.scopes.iter().enumerate().rev() {
            if binder.as_deref() == Some(name) {
                return Expr::new(ExprKind::Element(depth), scope.clone(), span);
            }
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
        if let Some(&i) = self.let_index.get(name) {
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

    pub(super) fn unknown_name_help(&mut self, name: &str) -> String {
        // Each suggestion reads every name in scope: past a number of
        // unknown names, they get the general help, so that a policy full
        // of them is still checked in linear time.
        self.suggested += 1;
        if self.suggested > MAX_SUGGESTIONS {
            return format!(
                "names here are the `let`s, the facts, `{}` and, inside `where` or `has`, the element's fields",
                self.input_name
            );
        }
        let mut candidates: Vec<&str> = Vec::new();
        for (scope, binder) in &self.scopes {
            candidates.extend(binder.as_deref());
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

    pub(super) fn field(&mut self, base: Expr, field: &syntax::Ident, span: Span) -> Expr {
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
