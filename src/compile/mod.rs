//! Checked program → plan: an arena of nodes the evaluator runs, apart
//! from the checked [`Program`], which stays as the author wrote it.
//!
//! Each node has an [`Id`]; its children are ids ([`Op`]). Beside what it
//! computes, a node carries its type, its span (the text explanations
//! show is the source under it, on one line: [`Plan::text`]) and its
//! [`Stage`]: whether its value is a constant, the same for every person
//! (facts), for every element of the `where`/`has` around it (person), or
//! none of these (element). The plan's roots ([`Plan::roots`]) are the
//! `let`s, each rule's condition, exception and payload, the warnings,
//! `otherwise`'s payload, the hoisted values and the schemas' constraints;
//! [`Plan::walk`] visits every node under them, once per pass, for every
//! pass that needs every expression.
//!
//! Two rewrites make evaluation cheap:
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
//! near-linear: sorted copies of the long lists tested for membership
//! (`eval/index.rs`), the least and greatest field of a list a quantifier
//! compares with a bound, and a budget of steps per record
//! (`eval/budget.rs`).

mod form;
mod lower;
mod node;
#[cfg(test)]
mod tests;

pub use form::{Collection, Form};
pub use node::{Id, Node, Op, Root, Stage};

use std::sync::OnceLock;

use crate::check::Program;
use crate::syntax::Span;

/// A checked program ready to evaluate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The program as the author wrote it (no hidden `let`s, nothing
    /// hoisted): names, outcomes, schemas, tests.
    pub program: Program,
    /// The nodes, by [`Id`].
    nodes: Vec<Node>,
    /// Their ops again, side by side: what the evaluator reads at every
    /// step, in one small array.
    ops: Box<[Op]>,
    /// Their forms, by [`Id`]: the conditions answered without walking
    /// their nodes.
    forms: Box<[Form]>,
    /// Every root, with what it is, in the order of the program.
    roots: Vec<(Root, Id)>,
    /// The value of each `let`: the program's, then the hidden ones
    /// `compile` lifted out of loops.
    pub lets: Vec<Id>,
    /// Each rule's condition, exception and payload, as in the program.
    pub rules: Vec<RuleRoots>,
    /// Each warning's condition.
    pub warnings: Vec<Id>,
    /// `otherwise`'s payload.
    pub otherwise: Vec<Id>,
    /// The hoisted expressions, in an order where each uses only earlier ones.
    pub hoisted: Vec<Id>,
    /// Each constraint's condition, by [`crate::types::Constraint::id`].
    pub constraints: Vec<Option<Id>>,
    /// The payload values each test block's expectations give, by test,
    /// expectation and field.
    pub expected: Vec<Vec<Vec<Id>>>,
    /// The `let`s (hidden ones included) in an order where each uses only
    /// earlier ones: the order they are computed in, once per person.
    pub let_order: Vec<usize>,
    /// For each `let`, whether it is a condition witnesses explain (named
    /// in the `and`/`or`/`not` of a rule's or warning's condition): its
    /// evaluation is traced.
    pub(crate) witnessed_lets: Vec<bool>,
    /// Which values move with `now`, for the horizons of `next_change`.
    pub(crate) time_flow: crate::eval::horizon::TimeFlow,
    /// The text of each node on one line ([`Plan::text`]), by [`Id`]:
    /// made the first time an explanation asks for it.
    texts: Box<[OnceLock<Box<str>>]>,
}

/// The roots of one rule.
#[derive(Debug, Clone)]
pub struct RuleRoots {
    /// `when`
    pub when: Id,
    /// `unless`
    pub unless: Option<Id>,
    /// Its outcome's payload, in the program's order.
    pub payload: Vec<Id>,
}

/// Builds the plan of a checked program.
pub fn compile(program: Program) -> Plan {
    lower::plan(program)
}

impl Plan {
    /// The node `id`.
    #[inline]
    pub fn node(&self, id: Id) -> &Node {
        &self.nodes[id.index()]
    }

    /// What node `id` computes.
    #[inline]
    pub fn op(&self, id: Id) -> &Op {
        &self.ops[id.index()]
    }

    /// Every node's op, by [`Id`].
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Every node's form, by [`Id`].
    pub fn forms(&self) -> &[Form] {
        &self.forms
    }

    /// Every root, with what it is, in the order of the program.
    pub fn roots(&self) -> impl Iterator<Item = (Root, Id)> + '_ {
        self.roots.iter().copied()
    }

    /// The roots a decision evaluates: the `let`s, rules, warnings and
    /// `otherwise` (not the hoisted values, nor the constraints).
    pub fn decision_roots(&self) -> impl Iterator<Item = (Root, Id)> + '_ {
        self.roots().filter(|(r, _)| {
            !matches!(
                r,
                Root::Hoisted(_) | Root::Constraint(_) | Root::Expected { .. }
            )
        })
    }

    /// Calls `f` on every node under `roots`, parents before children,
    /// each with the number of `where`/`has` binders around it within its
    /// root.
    pub fn walk(&self, roots: impl Iterator<Item = Id>, mut f: impl FnMut(Id, &Node, usize)) {
        let mut stack: Vec<(Id, usize)> = roots.map(|r| (r, 0)).collect();
        stack.reverse();
        while let Some((id, depth)) = stack.pop() {
            let node = self.node(id);
            f(id, node, depth);
            let at = stack.len();
            stack.extend(node.op.children().map(|(c, binds)| (c, depth + binds)));
            stack[at..].reverse();
        }
    }

    /// The text of node `id` as the author wrote it, on one line: what
    /// explanations show.
    pub fn text(&self, id: Id) -> String {
        let Some(text) = self.texts.get(id.index()) else {
            return self.span_text(self.node(id).span);
        };
        String::from(&**text.get_or_init(|| self.span_text(self.node(id).span).into()))
    }

    /// The source under `span`, on one line.
    pub(crate) fn span_text(&self, span: Span) -> String {
        let text = self.program.source.slice(span);
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Whether node `id` reads an element bound by a `where`/`has`.
    pub fn reads_element(&self, id: Id) -> bool {
        self.node(id).stage == Stage::Element
    }

    /// Whether node `id` reads the element bound at `depth` (0 is the
    /// outermost).
    pub fn reads_element_at(&self, id: Id, depth: usize) -> bool {
        match self.op(id) {
            Op::Element(d) | Op::ElementField(d, _) => *d == depth,
            op => {
                self.reads_element(id)
                    && op.children().any(|(c, _)| self.reads_element_at(c, depth))
            }
        }
    }

    /// What a hoisted value or a `let` stands for; any other node stands
    /// for itself.
    pub fn definition(&self, id: Id) -> Id {
        match self.op(id) {
            Op::Hoisted(i) => self.hoisted.get(*i).map_or(id, |h| self.definition(*h)),
            Op::Let(i) => self.lets.get(*i).map_or(id, |l| self.definition(*l)),
            _ => id,
        }
    }

    /// The index of the first hidden `let`.
    pub fn first_lifted(&self) -> usize {
        self.program.lets.len()
    }

    /// The name of `let` `i`: the author's, or `<lifted k>` for a hidden one.
    pub fn let_name(&self, i: usize) -> String {
        match self.program.lets.get(i) {
            Some(l) => l.name.clone(),
            None => format!("<lifted {}>", i - self.first_lifted()),
        }
    }
}
