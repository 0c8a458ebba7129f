//! Resolving names and fields to slots, and narrowing optional values
//! where a test has shown they are present.

use std::sync::Arc;

use super::error::CheckError;
use super::ir::{Builtin, Expr, ExprKind};
use super::{Checker, quoted_list};
use crate::suggest;
use crate::syntax::{self, Quant, Span, Spanned};
use crate::types::{RecordType, Type};

type Ast = Spanned<syntax::Expr>;

use super::expr::boxed;

/// How many unknown names of one policy get a "did you mean".
const MAX_SUGGESTIONS: usize = 32;

/// An element bound by an enclosing `where` or `has`.
pub(super) struct Scope {
    /// The element's type.
    pub ty: Type,
    /// `any t in ...`, `... where t has`: the element's name.
    pub binder: Option<String>,
    /// What the element ranges over.
    pub subject: Span,
    /// `where`, or the quantifier's keyword: how the element is named.
    pub form: Option<Quant>,
}

impl Scope {
    /// Whether `name` is this element's name, or a field it has.
    fn provides(&self, name: &str) -> Option<Provided> {
        if self.binder.as_deref() == Some(name) {
            return Some(Provided::Binder);
        }
        match &self.ty {
            Type::Record(r) => r
                .field(name)
                .map(|(slot, ty)| Provided::Field(slot, ty.clone())),
            _ => None,
        }
    }
}

/// How an element provides a name.
enum Provided {
    /// It is the element's name.
    Binder,
    /// It is a field of the element, at this slot.
    Field(usize, Type),
}

impl Checker<'_> {
    /// Checks `body` with the element of `subject` in scope.
    pub(super) fn in_scope<T>(&mut self, scope: Scope, body: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(scope);
        let out = body(self);
        self.scopes.pop();
        out
    }

    /// `name` as an enclosing element or a field of one. A field that two
    /// elements have is ambiguous: nested conditions over lists of the same
    /// records would otherwise compare the inner element with itself.
    fn element_name(&mut self, name: &str, span: Span) -> Option<Expr> {
        let mut found = self
            .scopes
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(depth, s)| s.provides(name).map(|p| (depth, p)));
        let (depth, provided) = found.next()?;
        let scope = &self.scopes[depth];
        let element = Expr::new(ExprKind::Element(depth), scope.ty.clone(), span);
        let (slot, ty) = match provided {
            Provided::Binder => return Some(element),
            Provided::Field(slot, ty) => (slot, ty),
        };
        if let Some((outer, how)) = found.next() {
            let error = self.ambiguous(name, span, depth, outer, &how);
            self.errors.push(error);
            return Some(self.error(span));
        }
        Some(self.narrow(Expr::new(ExprKind::Field(boxed(element), slot), ty, span)))
    }

    /// The error for `name`, a field of the element at `inner` and, as
    /// `how`, of the enclosing one at `outer`.
    fn ambiguous(
        &self,
        name: &str,
        span: Span,
        inner: usize,
        outer: usize,
        how: &Provided,
    ) -> CheckError {
        let (i, o) = (&self.scopes[inner], &self.scopes[outer]);
        let each = |s: &Scope| match &s.binder {
            Some(b) => format!("each `{b}`"),
            None => "each element".to_owned(),
        };
        let outer_label = match how {
            Provided::Binder => format!("`{name}` is each element here"),
            Provided::Field(..) => format!("and so does {} here", each(o)),
        };
        let mut ways = vec![self.naming(i, name, None)];
        match how {
            Provided::Field(..) => ways.push(self.naming(o, name, i.binder.as_deref())),
            Provided::Binder => ways.push(format!(
                "give the element of `{}` another name than `{name}`",
                self.text(o.subject)
            )),
        }
        CheckError::AmbiguousName {
            name: name.to_owned(),
            span,
            inner: i.subject,
            inner_label: format!("{} here has a `{name}`", each(i)),
            outer: o.subject,
            outer_label,
            help: format!("name the element you mean: {}", ways.join(", or ")),
        }
    }

    /// How to say `name` of the element of `scope`: `c.grid`, or a way to
    /// name the element first. `taken` is a name not to suggest.
    fn naming(&self, scope: &Scope, name: &str, taken: Option<&str>) -> String {
        let subject = self.text(scope.subject);
        if let Some(b) = &scope.binder {
            return format!("`{b}.{name}` for the element of `{subject}`");
        }
        let last = subject.rsplit('.').next().unwrap_or("");
        let initial = last.chars().next().filter(char::is_ascii_lowercase);
        let element = match initial.map(String::from) {
            Some(i) if Some(i.as_str()) != taken && i != name => i,
            _ => "e".to_owned(),
        };
        let named = match scope.form {
            Some(quant) => format!("{} {element} in {subject} has ...", quant.keyword()),
            None => format!("{subject} where {element} has ..."),
        };
        format!("`{named}` and `{element}.{name}` for the element of `{subject}`")
    }

    /// Reports payload fields named like a key of the decision, which they
    /// would stand beside.
    pub(super) fn payload_names(&mut self, call: &syntax::OutcomeCall) {
        for (name, _) in &call.payload {
            let Some((_, meaning)) = crate::decision::KEYS.iter().find(|(k, _)| *k == name.node)
            else {
                continue;
            };
            self.errors.push(CheckError::PayloadKey {
                field: name.node.clone(),
                span: name.span,
                meaning,
                help: format!(
                    "payload fields stand beside the decision's own keys; call it something else, like `{}_{}`",
                    call.outcome.node, name.node
                ),
            });
        }
    }

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
        self.narrowed_by(a, held, b, Self::condition)
    }

    /// `check(b)` knowing that `a` evaluated to `held`: an arm of an `if`.
    pub(super) fn narrowed_by(
        &mut self,
        a: &Expr,
        held: bool,
        b: &Ast,
        check: impl FnOnce(&mut Self, &Ast) -> Expr,
    ) -> Expr {
        let mut keys = Vec::new();
        known_some(a, held, &mut keys);
        let depth = self.narrowed.len();
        self.narrowed.extend(keys);
        let b = check(self, b);
        self.narrowed.truncate(depth);
        b
    }

    pub(super) fn name(&mut self, name: &str, span: Span) -> Expr {
        if let Some(found) = self.element_name(name, span) {
            return found;
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
        for scope in &self.scopes {
            candidates.extend(scope.binder.as_deref());
            if let Type::Record(r) = &scope.ty {
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
        // A record that gives a field is there.
        (ExprKind::Call(Builtin::NotEmpty, args), true)
        | (ExprKind::Call(Builtin::Empty, args), false) => {
            out.extend(args.first().and_then(Checker::path_key));
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
