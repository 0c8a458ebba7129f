//! Checked program → plan. Two rewrites make evaluation cheap:
//!
//! - what depends only on the facts (`prefectures(case_counties)`) is
//!   *hoisted*: computed once per facts, not once per person;
//! - what depends on the person but not on the element of an enclosing
//!   `where`/`has` (`checked_phones.number` inside `person.stays where ...`)
//!   is *lifted* into a hidden `let`: computed once per person, not once per
//!   element.
//!
//! It also records which values move with `now` (`Plan::time_flow`), for
//! the horizons that let `next_change` skip candidate instants
//! (`eval/horizon.rs`). The evaluator adds the rest of what keeps the cost
//! near-linear, each an idea a plan arena keeps as per-node metadata: sorted
//! copies of the long lists tested for membership (`eval/index.rs`), the
//! least and greatest field of a list a quantifier compares with a bound,
//! and a budget of steps per record (`eval/budget.rs`).

use crate::check::ir::{Expr, ExprKind};
use crate::check::{Let, Program};

/// A checked program ready to evaluate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The program, with fact-only subexpressions replaced by
    /// [`ExprKind::Hoisted`] and loop-invariant ones by hidden `let`s.
    pub program: Program,
    /// The hoisted expressions, in an order where each uses only earlier ones.
    pub hoisted: Vec<Expr>,
    /// The `let`s (hidden ones included) in an order where each uses only
    /// earlier ones: the order they are computed in, once per person.
    pub let_order: Vec<usize>,
    /// Which values move with `now`, for the horizons of `next_change`.
    pub(crate) time_flow: crate::eval::horizon::TimeFlow,
}

/// Rewrites the program for evaluation.
pub fn compile(mut program: Program) -> Plan {
    let mut c = Compiler {
        hoisted: Vec::new(),
        lifted: Vec::new(),
        fact_only_lets: Vec::with_capacity(program.lets.len()),
        first_lifted: program.lets.len(),
    };
    for l in &mut program.lets {
        let fact_only = c.root(&mut l.value);
        c.fact_only_lets.push(fact_only.then(|| l.value.clone()));
    }
    let roots = program.rules.iter_mut().flat_map(|r| {
        std::iter::once(&mut r.when)
            .chain(r.unless.as_mut())
            .chain(r.then.payload.iter_mut().map(|(_, v)| v))
    });
    let roots = roots
        .chain(program.warnings.iter_mut().map(|w| &mut w.when))
        .chain(program.otherwise.payload.iter_mut().map(|(_, v)| v));
    for e in roots {
        c.root(e);
    }
    program
        .lets
        .extend(c.lifted.into_iter().enumerate().map(|(i, value)| Let {
            name: format!("<lifted {i}>"),
            value,
        }));
    let mut hoisted = c.hoisted;
    let lets = program.lets.iter_mut().map(|l| &mut l.value);
    let rules = program.rules.iter_mut().flat_map(|r| {
        std::iter::once(&mut r.when)
            .chain(r.unless.as_mut())
            .chain(r.then.payload.iter_mut().map(|(_, v)| v))
    });
    let rest = program
        .warnings
        .iter_mut()
        .map(|w| &mut w.when)
        .chain(program.otherwise.payload.iter_mut().map(|(_, v)| v));
    for e in lets.chain(rules).chain(rest).chain(hoisted.iter_mut()) {
        specialise(e);
    }
    let let_order = let_order(&mut program.lets);
    let time_flow = {
        let roots: Vec<&Expr> = program
            .rules
            .iter()
            .flat_map(|r| std::iter::once(&r.when).chain(r.unless.as_ref()))
            .chain(program.warnings.iter().map(|w| &w.when))
            .collect();
        crate::eval::horizon::TimeFlow::of(&program.lets, &let_order, &roots)
    };
    Plan {
        program,
        hoisted,
        let_order,
        time_flow,
    }
}

/// The `let`s in an order where each comes after those it uses.
fn let_order(lets: &mut [Let]) -> Vec<usize> {
    fn uses(e: &mut Expr, out: &mut Vec<usize>) {
        if let ExprKind::Let(i) = e.kind {
            out.push(i);
        }
        for (child, _) in e.children_mut() {
            uses(child, out);
        }
    }
    fn visit(i: usize, deps: &[Vec<usize>], done: &mut [bool], order: &mut Vec<usize>) {
        if done.get(i).copied().unwrap_or(true) {
            return;
        }
        done[i] = true;
        for &d in &deps[i] {
            visit(d, deps, done, order);
        }
        order.push(i);
    }
    let deps: Vec<Vec<usize>> = lets
        .iter_mut()
        .map(|l| {
            let mut out = Vec::new();
            uses(&mut l.value, &mut out);
            out
        })
        .collect();
    // A `let` is marked before its uses are walked, so the walk ends even on
    // a cycle; the checker rules cycles out, so the order is a true one.
    let mut done = vec![false; lets.len()];
    let mut order = Vec::with_capacity(lets.len());
    for i in 0..lets.len() {
        visit(i, &deps, &mut done, &mut order);
    }
    order
}

/// Rewrites `Field(Element(d), slot)` into `ElementField(d, slot)`.
fn specialise(e: &mut Expr) {
    if let ExprKind::Field(base, slot) = &e.kind
        && let ExprKind::Element(depth) = base.kind
    {
        e.kind = ExprKind::ElementField(depth, *slot);
        return;
    }
    for (child, _) in e.children_mut() {
        specialise(child);
    }
}

struct Compiler {
    hoisted: Vec<Expr>,
    lifted: Vec<Expr>,
    /// For each `let` so far, its rewritten value if it depends only on the
    /// facts: uses of it are replaced by that value, so that hoisted
    /// expressions never read a `let`.
    fact_only_lets: Vec<Option<Expr>>,
    first_lifted: usize,
}

/// What a subexpression depends on.
#[derive(Clone, Copy)]
struct Deps {
    /// On the person or `now`, not only on the facts and constants.
    person: bool,
    /// The outermost `where`/`has` element it reads, if any.
    outermost_element: Option<usize>,
}

impl Deps {
    /// Whether it is the same for every element of the binders around it
    /// (there are `depth` of them).
    fn invariant(self, depth: usize) -> bool {
        self.outermost_element.is_none_or(|d| d >= depth)
    }

    /// Whether, under `depth` binders, it depends on the facts alone.
    fn fact_only(self, depth: usize) -> bool {
        !self.person && self.invariant(depth)
    }
}

impl Compiler {
    /// Rewrites a top-level expression; says whether it is fact-only (then
    /// it is hoisted whole).
    fn root(&mut self, e: &mut Expr) -> bool {
        let fact_only = self.visit(e, 0).fact_only(0);
        if fact_only {
            self.hoist(e, 0);
        }
        fact_only
    }

    /// Rewrites the children of `e` (found under `depth` binders) and
    /// returns what `e` depends on. A child that can move out is moved
    /// unless `e` itself will move whole.
    fn visit(&mut self, e: &mut Expr, depth: usize) -> Deps {
        if let ExprKind::Let(i) = e.kind
            && let Some(Some(value)) = self.fact_only_lets.get(i)
        {
            *e = Expr::new(value.kind.clone(), e.ty.clone(), e.span);
        }
        let own = Deps {
            person: matches!(e.kind, ExprKind::Now | ExprKind::Input | ExprKind::Let(_)),
            outermost_element: match &e.kind {
                ExprKind::Element(d) => Some(*d),
                _ => None,
            },
        };
        let mut children = e.children_mut();
        let found: Vec<Deps> = children
            .iter_mut()
            .map(|(c, binds)| self.visit(c, depth + *binds))
            .collect();
        let deps = found.iter().fold(own, |acc, d| Deps {
            person: acc.person || d.person,
            outermost_element: match (acc.outermost_element, d.outermost_element) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        });
        let moves_whole = deps.fact_only(depth) || (depth > 0 && deps.invariant(depth));
        if !moves_whole {
            for ((child, binds), d) in children.into_iter().zip(found) {
                let at = depth + binds;
                if d.fact_only(at) {
                    self.hoist(child, at);
                } else if at > 0 && d.invariant(at) {
                    self.lift(child, at);
                }
            }
        }
        deps
    }

    /// Moves a fact-only `e` into the hoisted table.
    fn hoist(&mut self, e: &mut Expr, depth: usize) {
        if cheap(e) {
            return;
        }
        let index = self.hoisted.len();
        let placeholder = Expr::new(ExprKind::Hoisted(index), e.ty.clone(), e.span);
        let mut taken = std::mem::replace(e, placeholder);
        unbind(&mut taken, depth);
        self.hoisted.push(taken);
    }

    /// Moves a person-level `e` out of the binders around it, into a hidden
    /// `let`.
    fn lift(&mut self, e: &mut Expr, depth: usize) {
        if cheap(e) {
            return;
        }
        let index = self.first_lifted + self.lifted.len();
        let placeholder = Expr::new(ExprKind::Let(index), e.ty.clone(), e.span);
        let mut taken = std::mem::replace(e, placeholder);
        unbind(&mut taken, depth);
        self.lifted.push(taken);
    }
}

/// Too cheap to be worth a slot of its own.
fn cheap(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(_)
        | ExprKind::Fact(_)
        | ExprKind::Hoisted(_)
        | ExprKind::Let(_)
        | ExprKind::Input
        | ExprKind::Now
        | ExprKind::Element(_) => true,
        ExprKind::Field(base, _) => cheap(base),
        _ => false,
    }
}

/// Renumbers the elements bound inside `e` for its new place outside
/// `depth` binders.
fn unbind(e: &mut Expr, depth: usize) {
    if let ExprKind::Element(d) = &mut e.kind {
        *d -= depth;
    }
    for (child, _) in e.children_mut() {
        unbind(child, depth);
    }
}

#[cfg(test)]
mod tests {
    use crate::Policy;
    use crate::check::ir::{Expr, ExprKind};

    fn count(e: &Expr, pred: &impl Fn(&Expr) -> bool) -> usize {
        let mut e = e.clone();
        let here = usize::from(pred(&e));
        here + e
            .children_mut()
            .into_iter()
            .map(|(c, _)| count(c, pred))
            .sum::<usize>()
    }

    #[test]
    fn facts_are_hoisted_and_invariants_lifted() {
        let text = r#"
            policy p
            outcomes green < red
            input person { phones: list of { number: text }, stays: list of { id: text, region: region } }
            facts { counties: set of region }
            rule r
              when any person.stays has id in person.phones.number and prefecture(region) in prefectures(counties where it in counties)
              then red
            otherwise green
        "#;
        let policy = Policy::compile("p", text).unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        assert_eq!(
            plan.hoisted.len(),
            1,
            "prefectures(...) is computed once per facts"
        );
        assert!(matches!(plan.hoisted[0].kind, ExprKind::Call(..)));
        let lifted: Vec<_> = plan
            .program
            .lets
            .iter()
            .filter(|l| l.name.starts_with("<lifted"))
            .collect();
        assert_eq!(
            lifted.len(),
            1,
            "person.phones.number is the same for every stay"
        );
        assert!(matches!(lifted[0].value.kind, ExprKind::Project(..)));
        let when = &plan.program.rules[0].when;
        assert_eq!(count(when, &|e| matches!(e.kind, ExprKind::Hoisted(_))), 1);
        assert_eq!(
            count(when, &|e| matches!(e.kind, ExprKind::ElementField(0, _))),
            2,
            "id and region, each read in one node"
        );
    }
}
