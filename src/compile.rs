//! Checked program → plan: what depends only on the facts is found and
//! hoisted, so that it is computed once per facts, not once per person.

use crate::check::Program;
use crate::check::ir::{Expr, ExprKind};

/// A checked program ready to evaluate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The program, with fact-only subexpressions replaced by
    /// [`ExprKind::Hoisted`].
    pub program: Program,
    /// The hoisted expressions, with the number of `where`/`has` binders
    /// around the place each was taken from.
    pub hoisted: Vec<(Expr, usize)>,
}

/// Hoists every largest fact-only subexpression of the program.
pub fn compile(mut program: Program) -> Plan {
    let mut h = Hoister {
        hoisted: Vec::new(),
        fact_only_lets: Vec::with_capacity(program.lets.len()),
    };
    for l in &mut program.lets {
        let fact_only = h.hoist(&mut l.value, 0);
        h.fact_only_lets.push(fact_only);
    }
    for rule in &mut program.rules {
        h.hoist(&mut rule.when, 0);
        if let Some(u) = &mut rule.unless {
            h.hoist(u, 0);
        }
        for (_, v) in &mut rule.then.payload {
            h.hoist(v, 0);
        }
    }
    for w in &mut program.warnings {
        h.hoist(&mut w.when, 0);
    }
    for (_, v) in &mut program.otherwise.payload {
        h.hoist(v, 0);
    }
    Plan {
        program,
        hoisted: h.hoisted,
    }
}

struct Hoister {
    hoisted: Vec<(Expr, usize)>,
    fact_only_lets: Vec<bool>,
}

impl Hoister {
    /// Hoists inside `e` (found under `depth` binders) and says whether `e`
    /// itself depends on the facts alone; such an `e` is left for the caller
    /// to hoist whole, unless it is at the top.
    fn hoist(&mut self, e: &mut Expr, depth: usize) -> bool {
        let fact_only = self.visit(e, depth);
        if fact_only {
            self.take(e, depth);
        }
        fact_only
    }

    /// Whether `e` depends on the facts alone; hoists the fact-only children
    /// of an `e` that does not.
    fn visit(&mut self, e: &mut Expr, depth: usize) -> bool {
        let own = match &e.kind {
            ExprKind::Now | ExprKind::Input => false,
            ExprKind::Element(d) => *d >= depth,
            ExprKind::Let(i) => self.fact_only_lets.get(*i).copied().unwrap_or(false),
            _ => true,
        };
        let mut children = e.children_mut();
        let flags: Vec<bool> = children
            .iter_mut()
            .map(|(c, binds)| self.visit(c, depth + *binds))
            .collect();
        let all = own && flags.iter().all(|f| *f);
        if !all {
            for ((child, binds), fact_only) in children.into_iter().zip(flags) {
                if fact_only {
                    self.take(child, depth + binds);
                }
            }
        }
        all
    }

    /// Moves `e` into the hoisted table, unless it is too cheap to matter.
    fn take(&mut self, e: &mut Expr, depth: usize) {
        if matches!(
            e.kind,
            ExprKind::Const(_) | ExprKind::Fact(_) | ExprKind::Hoisted(_)
        ) {
            return;
        }
        let index = self.hoisted.len();
        let placeholder = Expr::new(ExprKind::Hoisted(index), e.ty.clone(), e.span);
        let taken = std::mem::replace(e, placeholder);
        self.hoisted.push((taken, depth));
    }
}
