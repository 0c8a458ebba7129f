//! Building a plan: the checked expressions copied into the arena, then
//! rewritten there (hoisting, lifting, element fields in one node), then
//! the stages, the order of the `let`s and the time analysis.

use std::sync::OnceLock;

use super::node::{Id, Node, Op, Root, Stage};
use super::{Plan, RuleRoots};
use crate::check::ir::{Builtin, Expr, ExprKind};
use crate::check::{Expected, Program};
use crate::types::{RecordType, Type};

/// The plan of `program`.
pub(super) fn plan(program: Program) -> Plan {
    let mut c = Compiler {
        nodes: Vec::new(),
        hoisted: Vec::new(),
        lifted: Vec::new(),
        fact_only_lets: Vec::with_capacity(program.lets.len()),
        first_lifted: program.lets.len(),
    };
    let mut lets: Vec<Id> = Vec::with_capacity(program.lets.len());
    for l in &program.lets {
        let id = c.lower(&program, &l.value);
        let fact_only = c.root(id);
        c.fact_only_lets
            .push(fact_only.then(|| c.nodes[id.index()].op.clone()));
        lets.push(id);
    }
    let mut rules = Vec::with_capacity(program.rules.len());
    for r in &program.rules {
        let when = c.lowered_root(&program, &r.when);
        let unless = r.unless.as_ref().map(|u| c.lowered_root(&program, u));
        let payload = r
            .then
            .payload
            .iter()
            .map(|(_, v)| c.lowered_root(&program, v))
            .collect();
        rules.push(RuleRoots {
            when,
            unless,
            payload,
        });
    }
    let warnings: Vec<Id> = program
        .warnings
        .iter()
        .map(|w| c.lowered_root(&program, &w.when))
        .collect();
    let otherwise: Vec<Id> = (program.otherwise.payload.iter())
        .map(|(_, v)| c.lowered_root(&program, v))
        .collect();
    let expected: Vec<Vec<Vec<Id>>> = (program.tests.iter())
        .map(|t| {
            (t.expects.iter())
                .map(|e| match &e.what {
                    Expected::Outcome { payload, .. } => {
                        payload.iter().map(|(_, v)| c.lower(&program, v)).collect()
                    }
                    Expected::Rules(_) => Vec::new(),
                })
                .collect()
        })
        .collect();
    let mut constraints = Vec::new();
    for schema in [&program.input, &program.facts] {
        c.constraints(&program, schema, &mut constraints);
    }
    lets.append(&mut c.lifted);
    let hoisted = std::mem::take(&mut c.hoisted);
    let mut nodes = c.nodes;
    specialise(&mut nodes);
    let mut roots: Vec<(Root, Id)> = lets
        .iter()
        .enumerate()
        .map(|(i, l)| (Root::Let(i), *l))
        .collect();
    for (i, r) in rules.iter().enumerate() {
        roots.push((Root::When(i), r.when));
        roots.extend(r.unless.map(|u| (Root::Unless(i), u)));
        roots.extend(r.payload.iter().enumerate().map(|(field, p)| {
            let rule = Some(i);
            (Root::Payload { rule, field }, *p)
        }));
    }
    roots.extend(
        warnings
            .iter()
            .enumerate()
            .map(|(i, w)| (Root::Warning(i), *w)),
    );
    roots.extend(otherwise.iter().enumerate().map(|(field, p)| {
        let rule = None;
        (Root::Payload { rule, field }, *p)
    }));
    roots.extend(
        hoisted
            .iter()
            .enumerate()
            .map(|(i, h)| (Root::Hoisted(i), *h)),
    );
    roots.extend(
        (constraints.iter().enumerate()).filter_map(|(i, c)| c.map(|c| (Root::Constraint(i), c))),
    );
    for (t, test) in expected.iter().enumerate() {
        for (e, fields) in test.iter().enumerate() {
            roots.extend(fields.iter().enumerate().map(|(field, id)| {
                (
                    Root::Expected {
                        test: t,
                        expect: e,
                        field,
                    },
                    *id,
                )
            }));
        }
    }
    // A constraint's record is the element bound around it.
    let at = |r: &(Root, Id)| (r.1, usize::from(matches!(r.0, Root::Constraint(_))));
    stages(&mut nodes, &roots.iter().map(at).collect::<Vec<_>>());
    let ops: Box<[Op]> = nodes.iter().map(|n| n.op.clone()).collect();
    let forms = super::form::forms(&ops);
    let mut plan = Plan {
        program,
        nodes,
        ops,
        forms,
        roots,
        lets,
        rules,
        warnings,
        otherwise,
        hoisted,
        constraints,
        expected,
        let_order: Vec::new(),
        witnessed_lets: Vec::new(),
        time_flow: Default::default(),
        texts: Box::default(),
    };
    plan.let_order = let_order(&plan);
    plan.witnessed_lets = witnessed_lets(&plan);
    plan.time_flow = crate::eval::horizon::TimeFlow::of(&plan);
    plan.texts = plan.nodes.iter().map(|_| OnceLock::new()).collect();
    plan
}

/// The `let`s that something of the decision uses (a rule, a warning,
/// `otherwise`, a constraint, a test's expectation, directly or through
/// other `let`s), in an order where each comes after those it uses. A
/// `let` that nothing uses is not computed: a library's `let` that the
/// policy does not need costs it nothing.
fn let_order(plan: &Plan) -> Vec<usize> {
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
    let deps: Vec<Vec<usize>> = (plan.lets.iter())
        .map(|l| {
            let mut out = Vec::new();
            plan.walk(std::iter::once(*l), |_, node, _| {
                if let Op::Let(i) = node.op {
                    out.push(i);
                }
            });
            out
        })
        .collect();
    // A `let` is marked before its uses are walked, so the walk ends even on
    // a cycle; the checker rules cycles out, so the order is a true one.
    let mut used = Vec::new();
    let roots = (plan.roots()).filter(|(r, _)| !matches!(r, Root::Let(_)));
    plan.walk(roots.map(|(_, id)| id), |_, node, _| {
        if let Op::Let(i) = node.op {
            used.push(i);
        }
    });
    let mut needed = vec![false; plan.lets.len()];
    while let Some(i) = used.pop() {
        if let Some(n) = needed.get_mut(i).filter(|n| !**n) {
            *n = true;
            used.extend(deps.get(i).into_iter().flatten());
        }
    }
    let mut done = vec![false; plan.lets.len()];
    let mut order = Vec::with_capacity(plan.lets.len());
    for i in (0..plan.lets.len()).filter(|&i| needed[i]) {
        visit(i, &deps, &mut done, &mut order);
    }
    order
}

/// For each `let`, whether its value is a condition a witness explains:
/// one named in the `and`/`or`/`not` of a rule's or warning's condition.
fn witnessed_lets(plan: &Plan) -> Vec<bool> {
    let mut witnessed = vec![false; plan.lets.len()];
    let conditions = plan
        .roots()
        .filter(|(r, _)| matches!(r, Root::When(_) | Root::Unless(_) | Root::Warning(_)));
    let mut stack: Vec<Id> = conditions.map(|(_, id)| id).collect();
    while let Some(id) = stack.pop() {
        match *plan.op(id) {
            Op::And(a, b) | Op::Or(a, b) => stack.extend([a, b]),
            Op::Not(a) => stack.push(a),
            Op::Let(i) if matches!(plan.node(id).ty, Type::Bool) => {
                if let (Some(w), Some(&l)) = (witnessed.get_mut(i), plan.lets.get(i))
                    && !*w
                {
                    *w = true;
                    stack.push(l);
                }
            }
            _ => {}
        }
    }
    witnessed
}

/// Rewrites `Field(Element(d), slot)` into `ElementField(d, slot)`.
fn specialise(nodes: &mut [Node]) {
    for i in 0..nodes.len() {
        if let Op::Field(base, slot) = nodes[i].op
            && let Op::Element(depth) = nodes[base.index()].op
        {
            nodes[i].op = Op::ElementField(depth, slot);
        }
    }
}

/// Sets the stage of every node under `roots` (each with the binders
/// around it): the latest of its children's, and `Element` where it reads
/// an element bound outside it.
fn stages(nodes: &mut [Node], roots: &[(Id, usize)]) {
    /// The node's stage without elements, and the outermost element it
    /// reads.
    type Seen = Option<(Stage, Option<usize>)>;
    fn visit(
        nodes: &mut [Node],
        seen: &mut [Seen],
        id: Id,
        depth: usize,
    ) -> (Stage, Option<usize>) {
        let i = id.index();
        if let Some(known) = seen[i] {
            return known;
        }
        let (own, mut outer) = match nodes[i].op {
            Op::Const(_) => (Stage::Constant, None),
            Op::Fact(_) | Op::Hoisted(_) => (Stage::Facts, None),
            // An age moves with `now`, whatever it is the age of.
            Op::Now | Op::Input | Op::Let(_) | Op::Call(Builtin::Age, _) => (Stage::Person, None),
            Op::Element(d) | Op::ElementField(d, _) => (Stage::Constant, Some(d)),
            _ => (Stage::Constant, None),
        };
        let mut stage = own;
        let children: Vec<(Id, usize)> = nodes[i].op.children().collect();
        for (c, binds) in children {
            let (s, o) = visit(nodes, seen, c, depth + binds);
            stage = stage.max(s);
            outer = match (outer, o) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        seen[i] = Some((stage, outer));
        nodes[i].stage = if outer.is_some_and(|d| d < depth) {
            Stage::Element
        } else {
            stage
        };
        (stage, outer)
    }
    let mut seen = vec![None; nodes.len()];
    for &(root, depth) in roots {
        visit(nodes, &mut seen, root, depth);
    }
}

struct Compiler {
    nodes: Vec<Node>,
    hoisted: Vec<Id>,
    lifted: Vec<Id>,
    /// For each `let` so far, its rewritten value if it depends only on the
    /// facts: uses of it are replaced by that value, so that hoisted
    /// expressions never read a `let`.
    fact_only_lets: Vec<Option<Op>>,
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
    fn push(&mut self, op: Op, ty: Type, span: crate::syntax::Span) -> Id {
        let id = Id::new(self.nodes.len());
        self.nodes.push(Node {
            op,
            ty,
            span,
            stage: Stage::Constant,
            name: None,
        });
        id
    }

    /// The name of a checked expression written as a name or a path of
    /// names; `base` is the lowered node of its record, for a field.
    fn name(&self, program: &Program, e: &Expr, base: Option<Id>) -> Option<Box<str>> {
        let field = |ty: &Type, slot: usize| match ty.non_optional() {
            Type::Record(r) => r.fields.get(slot).map(|(n, _)| n.as_str().into()),
            _ => None,
        };
        let path = |b: Id| {
            let node = &self.nodes[b.index()];
            node.name.is_some() || matches!(node.op, Op::Element(_))
        };
        match &e.kind {
            ExprKind::Fact(slot) => program
                .facts
                .fields
                .get(*slot)
                .map(|(n, _)| n.as_str().into()),
            ExprKind::Let(i) => program.lets.get(*i).map(|l| l.name.as_str().into()),
            ExprKind::Input => Some(program.input_name.as_str().into()),
            ExprKind::Field(record, slot) => base
                .filter(|b| path(*b))
                .and_then(|_| field(&record.ty, *slot)),
            ExprKind::Project(list, slot) => {
                let element = list.ty.element()?;
                base.filter(|b| path(*b))
                    .and_then(|_| field(element, *slot))
            }
            _ => None,
        }
    }

    /// Copies a checked expression into the arena, children first.
    fn lower(&mut self, program: &Program, e: &Expr) -> Id {
        let op = match &e.kind {
            ExprKind::Const(v) => Op::Const(v.clone()),
            ExprKind::Now => Op::Now,
            ExprKind::Input => Op::Input,
            ExprKind::Fact(s) => Op::Fact(*s),
            ExprKind::Let(i) => Op::Let(*i),
            ExprKind::Element(d) => Op::Element(*d),
            ExprKind::Field(a, s) => Op::Field(self.lower(program, a), *s),
            ExprKind::Project(a, s) => Op::Project(self.lower(program, a), *s),
            ExprKind::Not(a) => Op::Not(self.lower(program, a)),
            ExprKind::Neg(a) => Op::Neg(self.lower(program, a)),
            ExprKind::And(a, b) => Op::And(self.lower(program, a), self.lower(program, b)),
            ExprKind::Or(a, b) => Op::Or(self.lower(program, a), self.lower(program, b)),
            ExprKind::Coalesce(a, b) => {
                Op::Coalesce(self.lower(program, a), self.lower(program, b))
            }
            ExprKind::Compare(op, a, b) => {
                Op::Compare(*op, self.lower(program, a), self.lower(program, b))
            }
            ExprKind::Arith(op, a, b) => {
                Op::Arith(*op, self.lower(program, a), self.lower(program, b))
            }
            ExprKind::Member {
                negated,
                value,
                collection,
            } => Op::Member {
                negated: *negated,
                value: self.lower(program, value),
                collection: self.lower(program, collection),
            },
            ExprKind::InRegion {
                negated,
                inner,
                outer,
            } => Op::InRegion {
                negated: *negated,
                inner: self.lower(program, inner),
                outer: self.lower(program, outer),
            },
            ExprKind::IsNone { negated, value } => Op::IsNone {
                negated: *negated,
                value: self.lower(program, value),
            },
            ExprKind::Within(a, b) => Op::Within(self.lower(program, a), self.lower(program, b)),
            ExprKind::Overlaps(a, b) => {
                Op::Overlaps(self.lower(program, a), self.lower(program, b))
            }
            ExprKind::Interval(a, b) => {
                Op::Interval(self.lower(program, a), self.lower(program, b))
            }
            ExprKind::Where(a, b) => Op::Where(self.lower(program, a), self.lower(program, b)),
            ExprKind::If(c, a, b) => Op::If(
                self.lower(program, c),
                self.lower(program, a),
                self.lower(program, b),
            ),
            ExprKind::Extreme(latest, a, b) => {
                Op::Extreme(*latest, self.lower(program, a), self.lower(program, b))
            }
            ExprKind::Quantifier(q, a, b) => Op::Quantifier(
                *q,
                self.lower(program, a),
                b.as_ref().map(|b| self.lower(program, b)),
            ),
            ExprKind::Shift(a, period) => Op::Shift(self.lower(program, a), *period),
            ExprKind::Call(f, args) => {
                Op::Call(*f, args.iter().map(|a| self.lower(program, a)).collect())
            }
            ExprKind::List(items) => {
                Op::List(items.iter().map(|a| self.lower(program, a)).collect())
            }
        };
        let base = match op {
            Op::Field(b, _) | Op::Project(b, _) => Some(b),
            _ => None,
        };
        let name = self.name(program, e, base);
        let id = self.push(op, e.ty.clone(), e.span);
        self.nodes[id.index()].name = name;
        id
    }

    /// Lowers and rewrites a top-level expression.
    fn lowered_root(&mut self, program: &Program, e: &Expr) -> Id {
        let id = self.lower(program, e);
        self.root(id);
        id
    }

    /// Lowers the constraints of `schema` and of the records nested in it,
    /// each once, into `out` by id.
    fn constraints(&mut self, program: &Program, schema: &RecordType, out: &mut Vec<Option<Id>>) {
        for c in &schema.constraints {
            if out.get(c.id).is_some_and(Option::is_some) {
                continue;
            }
            if out.len() <= c.id {
                out.resize(c.id + 1, None);
            }
            out[c.id] = Some(self.lower(program, &c.condition));
        }
        for (_, ty) in &schema.fields {
            let mut ty = ty;
            loop {
                match ty {
                    Type::Optional(t) | Type::List(t) | Type::Set(t) => ty = t,
                    Type::Record(r) => {
                        self.constraints(program, r, out);
                        break;
                    }
                    _ => break,
                }
            }
        }
    }

    /// Rewrites a top-level expression; says whether it is fact-only (then
    /// it is hoisted whole).
    fn root(&mut self, id: Id) -> bool {
        let fact_only = self.visit(id, 0).fact_only(0);
        if fact_only {
            self.hoist(id, 0);
        }
        fact_only
    }

    /// Rewrites the children of `id` (found under `depth` binders) and
    /// returns what it depends on. A child that can move out is moved
    /// unless the node itself will move whole.
    fn visit(&mut self, id: Id, depth: usize) -> Deps {
        let i = id.index();
        if let Op::Let(l) = self.nodes[i].op
            && let Some(Some(value)) = self.fact_only_lets.get(l)
        {
            self.nodes[i].op = value.clone();
        }
        let own = Deps {
            person: matches!(self.nodes[i].op, Op::Now | Op::Input | Op::Let(_)),
            outermost_element: match self.nodes[i].op {
                Op::Element(d) => Some(d),
                _ => None,
            },
        };
        let children: Vec<(Id, usize)> = self.nodes[i].op.children().collect();
        let found: Vec<Deps> = (children.iter())
            .map(|(c, binds)| self.visit(*c, depth + *binds))
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

    /// Moves node `id` elsewhere (its copy gets a new id, renumbered for a
    /// place outside `depth` binders) and leaves `placeholder` in its
    /// place; `None` when it is too cheap to move.
    fn displace(&mut self, id: Id, depth: usize, placeholder: Op) -> Option<Id> {
        if self.cheap(id) {
            return None;
        }
        let node = self.nodes[id.index()].clone();
        let copy = self.push(node.op, node.ty, node.span);
        self.nodes[copy.index()].name = node.name;
        self.nodes[id.index()].op = placeholder;
        self.unbind(copy, depth);
        Some(copy)
    }

    /// Moves a fact-only node into the hoisted table.
    fn hoist(&mut self, id: Id, depth: usize) {
        let placeholder = Op::Hoisted(self.hoisted.len());
        if let Some(copy) = self.displace(id, depth, placeholder) {
            self.hoisted.push(copy);
        }
    }

    /// Moves a person-level node out of the binders around it, into a
    /// hidden `let`.
    fn lift(&mut self, id: Id, depth: usize) {
        let placeholder = Op::Let(self.first_lifted + self.lifted.len());
        if let Some(copy) = self.displace(id, depth, placeholder) {
            self.lifted.push(copy);
        }
    }

    /// Too cheap to be worth a slot of its own.
    fn cheap(&self, id: Id) -> bool {
        match self.nodes[id.index()].op {
            Op::Const(_)
            | Op::Fact(_)
            | Op::Hoisted(_)
            | Op::Let(_)
            | Op::Input
            | Op::Now
            | Op::Element(_) => true,
            Op::Field(base, _) => self.cheap(base),
            _ => false,
        }
    }

    /// Renumbers the elements bound inside `id` for its new place outside
    /// `depth` binders.
    fn unbind(&mut self, id: Id, depth: usize) {
        let node = &mut self.nodes[id.index()];
        if let Op::Element(d) = &mut node.op {
            *d -= depth;
        }
        let children: Vec<Id> = node.op.children().map(|(c, _)| c).collect();
        for c in children {
            self.unbind(c, depth);
        }
    }
}
