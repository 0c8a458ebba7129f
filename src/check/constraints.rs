//! What a schema says beyond types: the constraints on its records
//! (`requiring ...`) and how the policy's zone reads local times.

use std::sync::Arc;

use super::Checker;
use super::error::CheckError;
use super::ir::{Expr, ExprKind};
use super::names::Scope;
use crate::syntax::{self, LocalCase, Resolution, Spanned};
use crate::time::Resolve;
use crate::types::{Constraint, RecordType, Type};

impl Checker<'_> {
    /// Checks `requiring COND` on a record of type `record`: a condition
    /// over the record's fields (bare, as in a `where`), and nothing else.
    pub(super) fn constraint(
        &mut self,
        record: &RecordType,
        requiring: &Spanned<syntax::Expr>,
    ) -> Option<Constraint> {
        let element = Scope {
            ty: Type::Record(Arc::new(record.clone())),
            binder: None,
            subject: requiring.span,
            form: None,
        };
        let scopes = std::mem::replace(&mut self.scopes, vec![element]);
        let narrowed = std::mem::take(&mut self.narrowed);
        let errors = self.errors.len();
        let condition = self.condition(requiring);
        self.scopes = scopes;
        self.narrowed = narrowed;
        self.only_the_record(&condition);
        if self.errors.len() != errors {
            return None;
        }
        self.constraints += 1;
        Some(Constraint {
            id: self.constraints - 1,
            text: self.text(requiring.span),
            condition,
        })
    }

    /// Reports what in a constraint is not the record: a fact, a `let`, the
    /// input, `now`.
    fn only_the_record(&mut self, e: &Expr) {
        let what = match &e.kind {
            ExprKind::Fact(_) => Some("a fact".to_owned()),
            ExprKind::Let(_) => Some("a `let`".to_owned()),
            ExprKind::Input => Some("the input".to_owned()),
            ExprKind::Now => Some("`now`".to_owned()),
            _ => None,
        };
        if let Some(what) = what {
            self.errors
                .push(CheckError::ConstraintScope { what, span: e.span });
            return;
        }
        for (child, _) in e.children() {
            self.only_the_record(child);
        }
    }

    /// `resolving gaps later, folds earlier`, each case said once.
    pub(super) fn resolving(&mut self, resolutions: &[Resolution]) -> Resolve {
        let mut resolve = Resolve::default();
        let mut said: [Option<crate::syntax::Span>; 2] = [None, None];
        for r in resolutions {
            let (i, name, slot) = match r.case.node {
                LocalCase::Gaps => (0, "gaps", &mut resolve.gaps),
                LocalCase::Folds => (1, "folds", &mut resolve.folds),
            };
            if let Some(first) = said[i] {
                self.errors.push(CheckError::Resolving {
                    case: name,
                    span: r.case.span,
                    first,
                });
            }
            said[i] = Some(r.case.span);
            *slot = Some(r.side);
        }
        resolve
    }
}
