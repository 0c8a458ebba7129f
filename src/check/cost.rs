//! What a policy costs per person, as a polynomial in the sizes of the
//! lists it reads (`O(stays)`, `O(stays × phones)`, `O(tests²)`), the way
//! CEL estimates an expression's cost before it runs.
//!
//! The estimate is made on the compiled plan, in one walk over each root,
//! so that it counts what the evaluator really does: a `let` is computed
//! once per person (a use costs O(1)), and so is a value the compiler lifted
//! out of a `where`/`has`; what depends only on the facts is computed once
//! per facts load (O(1) per person); membership in a list that exists
//! beyond the test (a `let`, a fact, a field of the record) is a lookup
//! (its sorted copy is made once); a quantifier comparing a field of its
//! element with a bound the same for every element reads the least or
//! greatest field, found once per list. Log factors are left out, and the
//! estimate is that of a decision: with `next_change`, a bound that moves
//! with `now` is compared element by element.
//!
//! A nested quantifier over a list's elements' own lists costs the total
//! length of those lists, not the product: `any s in stays has any c in
//! s.contacts` is `O(stays.contacts)`.

use std::fmt;

use super::ir::Builtin;
use super::lint::Lint;
use crate::compile::{Id, Op, Plan, Root};
use crate::eval::lends;
use crate::syntax::{BinaryOp, Span};
use crate::types::Type;

/// A product of list sizes, each with its power, sorted by name; empty for
/// a constant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Term(Vec<(String, u32)>);

impl Term {
    /// The sum of the powers: 0 for a constant, 1 for a linear term.
    pub fn degree(&self) -> u32 {
        self.0.iter().map(|(_, p)| p).sum()
    }

    fn var(name: String) -> Self {
        Term(vec![(name, 1)])
    }

    fn divides(&self, other: &Term) -> bool {
        self.0
            .iter()
            .all(|(v, p)| other.0.iter().any(|(w, q)| w == v && q >= p))
    }

    fn times(&self, other: &Term) -> Term {
        let mut out = self.0.clone();
        for (v, p) in &other.0 {
            match out.iter_mut().find(|(w, _)| w == v) {
                Some((_, q)) => *q += p,
                None => out.push((v.clone(), *p)),
            }
        }
        // The lists of each element of `stays`, over all of them, are
        // `stays.contacts` long: one power of `stays` is absorbed.
        let subs: Vec<(String, u32)> = out
            .iter()
            .filter_map(|(v, p)| Some((v.rsplit_once('.')?.0.to_owned(), *p)))
            .collect();
        for (parent, p) in subs {
            if let Some((_, q)) = out.iter_mut().find(|(w, _)| *w == parent) {
                *q = q.saturating_sub(p);
            }
        }
        out.retain(|(_, p)| *p > 0);
        out.sort();
        Term(out)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("1");
        }
        for (i, (v, p)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" × ")?;
            }
            match p {
                1 => write!(f, "{v}")?,
                2 => write!(f, "{v}²")?,
                3 => write!(f, "{v}³")?,
                _ => write!(f, "{v}^{p}")?,
            }
        }
        Ok(())
    }
}

/// A cost in O-notation: its terms, none dividing another, highest degree
/// first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost(Vec<Term>);

impl Cost {
    /// O(1).
    pub fn one() -> Self {
        Cost(vec![Term(Vec::new())])
    }

    fn var(name: String) -> Self {
        Cost(vec![Term::var(name)])
    }

    /// Its terms, highest degree first.
    pub fn terms(&self) -> &[Term] {
        &self.0
    }

    /// The highest degree of its terms.
    pub fn degree(&self) -> u32 {
        self.0.iter().map(Term::degree).max().unwrap_or(0)
    }

    /// The terms, without those another divides. Terms of one degree
    /// divide each other only when equal, so each is compared with those
    /// of a higher degree only: near-linear when most are linear.
    fn reduced(mut terms: Vec<Term>) -> Self {
        terms.sort_by(|a, b| b.degree().cmp(&a.degree()).then_with(|| a.cmp(b)));
        terms.dedup();
        let mut kept: Vec<Term> = Vec::with_capacity(terms.len());
        let mut higher = 0;
        for t in terms {
            let d = t.degree();
            while kept.get(higher).is_some_and(|k| k.degree() > d) {
                higher += 1;
            }
            if !kept[..higher].iter().any(|k| t.divides(k)) {
                kept.push(t);
            }
        }
        Cost(kept)
    }

    /// The sum of `costs`, reduced once.
    pub fn sum<'a>(costs: impl IntoIterator<Item = &'a Cost>) -> Cost {
        let terms: Vec<Term> = costs
            .into_iter()
            .flat_map(|c| c.0.iter().cloned())
            .collect();
        if terms.is_empty() {
            return Cost::one();
        }
        Cost::reduced(terms)
    }

    /// `self + other`.
    pub fn plus(&self, other: &Cost) -> Cost {
        Cost::reduced(self.0.iter().chain(&other.0).cloned().collect())
    }

    /// `self × other`.
    pub fn times(&self, other: &Cost) -> Cost {
        Cost::reduced(
            self.0
                .iter()
                .flat_map(|a| other.0.iter().map(move |b| a.times(b)))
                .collect(),
        )
    }
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("O(")?;
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            write!(f, "{t}")?;
        }
        f.write_str(")")
    }
}

/// What one item costs per person.
#[derive(Debug, Clone)]
pub struct Item {
    /// `let`, `rule`, `warning`, `otherwise` or `remedy`.
    pub kind: &'static str,
    /// Its name (a remedy's title), empty for `otherwise`.
    pub name: String,
    /// Its cost.
    pub cost: Cost,
    /// Where it becomes superlinear: the innermost loop that makes it so,
    /// and what that loop costs.
    pub superlinear: Option<(Span, Cost)>,
}

impl fmt::Display for Item {
    /// `rule county_exposure`, `remedy "a test"`, `otherwise`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            "otherwise" => f.write_str("otherwise"),
            "remedy" => write!(f, "remedy {:?}", self.name),
            kind => write!(f, "{kind} {}", self.name),
        }
    }
}

/// The estimate of a whole policy.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// Each item, in source order within its kind: lets, rules, warnings,
    /// `otherwise`, remedies.
    pub items: Vec<Item>,
    /// A decision's cost: every let, rule, warning and `otherwise`.
    pub per_person: Cost,
}

impl Estimate {
    /// One item a line with its cost (`rule county_exposure: O(stays)`),
    /// then the cost per person.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            out.push_str(&format!("  {item}: {}\n", item.cost));
        }
        out.push_str(&format!("  per person: {}", self.per_person));
        out
    }
}

/// An element bound by an enclosing `where`/`has`.
struct Binder {
    /// The name its own lists are known by (`stays` for `stays.contacts`).
    name: Option<String>,
    /// Its type.
    ty: Type,
}

/// What one walk over an item gathers besides the cost of its evaluation.
#[derive(Default)]
struct Gathered {
    /// Costs paid once per person whatever the loops around them.
    once: Vec<Cost>,
    /// The lifted `let`s it uses.
    lifted: Vec<usize>,
    /// The first loop found superlinear.
    superlinear: Option<(Span, Cost)>,
}

struct Estimator<'a> {
    plan: &'a Plan,
    /// The size of each `let`'s value, when it is a list.
    let_size: Vec<Cost>,
    /// The same for the hoisted values.
    hoisted_size: Vec<Cost>,
    /// The index of the first let the compiler lifted.
    first_lifted: usize,
}

/// The estimate of `plan`, in one walk over each of its roots.
pub fn estimate(plan: &Plan) -> Estimate {
    let program = &plan.program;
    let mut est = Estimator {
        plan,
        let_size: vec![Cost::one(); plan.lets.len()],
        hoisted_size: Vec::with_capacity(plan.hoisted.len()),
        first_lifted: plan.first_lifted(),
    };
    for &h in &plan.hoisted {
        let size = est.size(h, &[]);
        est.hoisted_size.push(size);
    }
    // Each let's own cost, then with the lifted lets it uses, in an order
    // where each uses only earlier ones.
    let mut own: Vec<Option<(Cost, Gathered)>> = (0..plan.lets.len()).map(|_| None).collect();
    let mut total: Vec<Cost> = vec![Cost::one(); plan.lets.len()];
    for &i in &plan.let_order {
        let Some(&l) = plan.lets.get(i) else {
            continue;
        };
        let size = est.size(l, &[]);
        if let Some(s) = est.let_size.get_mut(i) {
            *s = size;
        }
        let mut g = Gathered::default();
        let cost = est.cost(l, &mut Vec::new(), &Cost::one(), &mut g);
        let t = whole(&cost, &g, &total);
        if let Some(slot) = total.get_mut(i) {
            *slot = t;
        }
        if let Some(slot) = own.get_mut(i) {
            *slot = Some((cost, g));
        }
    }
    // One item for each `let` of the program, rule, warning and
    // `otherwise`, its cost that of its roots.
    let mut items: Vec<Item> = Vec::new();
    let mut open: Option<(Option<usize>, Cost, Gathered)> = None;
    let close = |open: &mut Option<(Option<usize>, Cost, Gathered)>, items: &mut Vec<Item>| {
        if let Some((item, cost, g)) = open.take() {
            let (kind, name) = match item {
                Some(i) => ("rule", program.rules[i].name.clone()),
                None => ("otherwise", String::new()),
            };
            items.push(finish(kind, name, cost, g, &total));
        }
    };
    for (root, id) in plan.decision_roots() {
        let item = match root {
            Root::Let(i) => {
                close(&mut open, &mut items);
                if i < est.first_lifted
                    && let Some((cost, g)) = own.get_mut(i).and_then(Option::take)
                {
                    items.push(finish("let", plan.let_name(i), cost, g, &total));
                }
                continue;
            }
            Root::Warning(i) => {
                close(&mut open, &mut items);
                let mut g = Gathered::default();
                let cost = Cost::one().plus(&est.cost(id, &mut Vec::new(), &Cost::one(), &mut g));
                let name = program.warnings[i].name.clone();
                items.push(finish("warning", name, cost, g, &total));
                continue;
            }
            Root::When(i) | Root::Unless(i) => Some(i),
            Root::Payload { rule, .. } => rule,
            Root::Hoisted(_) | Root::Constraint(_) | Root::Expected { .. } => continue,
        };
        if open.as_ref().is_none_or(|(o, _, _)| *o != item) {
            close(&mut open, &mut items);
            open = Some((item, Cost::one(), Gathered::default()));
        }
        if let Some((_, cost, g)) = &mut open {
            let c = est.cost(id, &mut Vec::new(), &Cost::one(), g);
            *cost = cost.plus(&c);
        }
    }
    close(&mut open, &mut items);
    let per_person = Cost::sum(items.iter().map(|i| &i.cost));
    // A remedy decides the person again with one more record.
    for r in &program.remedies {
        items.push(Item {
            kind: "remedy",
            name: r.title.clone(),
            cost: per_person.clone(),
            superlinear: None,
        });
    }
    Estimate { items, per_person }
}

/// What an item costs in all: its evaluation, what it pays once per
/// person, and the lifted lets it uses (`total`: each let's whole cost).
fn whole(cost: &Cost, g: &Gathered, total: &[Cost]) -> Cost {
    let lifted = g.lifted.iter().filter_map(|&u| total.get(u));
    Cost::sum(std::iter::once(cost).chain(&g.once).chain(lifted))
}

fn finish(kind: &'static str, name: String, cost: Cost, g: Gathered, total: &[Cost]) -> Item {
    Item {
        kind,
        name,
        cost: whole(&cost, &g, total),
        superlinear: g.superlinear,
    }
}

/// A warning for each item whose cost is superlinear, on the loop that
/// makes it so.
pub fn lints(estimate: &Estimate) -> Vec<Lint> {
    estimate
        .items
        .iter()
        .filter_map(|i| {
            let (span, inner) = i.superlinear.clone()?;
            Some(Lint::Superlinear {
                item: match i.kind {
                    "otherwise" => "`otherwise`".to_owned(),
                    kind => format!("{kind} `{}`", i.name),
                },
                cost: i.cost.to_string(),
                inner: inner.to_string(),
                span,
            })
        })
        .collect()
}

impl Estimator<'_> {
    /// How many elements the list or set `e` has.
    fn size(&self, e: Id, env: &[Binder]) -> Cost {
        let plan = self.plan;
        match plan.op(e) {
            Op::Let(i) => self.let_size.get(*i).cloned().unwrap_or_else(Cost::one),
            Op::Hoisted(i) => self.hoisted_size.get(*i).cloned().unwrap_or_else(Cost::one),
            Op::Where(l, _) | Op::Project(l, _) => self.size(*l, env),
            Op::Call(Builtin::Prefectures | Builtin::Provinces | Builtin::Distinct, args) => {
                args.first().map_or_else(Cost::one, |a| self.size(*a, env))
            }
            Op::If(_, a, b) => self.size(*a, env).plus(&self.size(*b, env)),
            Op::Coalesce(a, b) => self.size(*a, env).plus(&self.size(*b, env)),
            _ if !is_collection(&plan.node(e).ty) => Cost::one(),
            _ => self.name(e, env).map_or_else(Cost::one, Cost::var),
        }
    }

    /// The name a list read from the data goes by: `stays`, `case_counties`,
    /// `stays.contacts` for the lists of the elements of `stays`.
    fn name(&self, e: Id, env: &[Binder]) -> Option<String> {
        let plan = self.plan;
        let program = &plan.program;
        let field = |ty: &Type, slot: usize| match ty.non_optional() {
            Type::Record(r) => r.fields.get(slot).map(|(n, _)| n.clone()),
            _ => None,
        };
        match *plan.op(e) {
            Op::Fact(slot) => program.facts.fields.get(slot).map(|(n, _)| n.clone()),
            Op::Field(base, slot) => {
                let own = field(&plan.node(base).ty, slot)?;
                match plan.op(base) {
                    Op::Input => Some(own),
                    _ => Some(format!("{}.{own}", self.name(base, env)?)),
                }
            }
            Op::ElementField(d, slot) => {
                let b = env.get(d)?;
                let own = field(element_type(&b.ty)?, slot)?;
                Some(match &b.name {
                    Some(n) => format!("{n}.{own}"),
                    None => own,
                })
            }
            Op::Element(d) => env.get(d)?.name.as_ref().map(|n| format!("{n}[]")),
            _ => None,
        }
    }

    /// What one evaluation of `e` costs, with the elements of `env` bound,
    /// evaluated `outer` times in all by the loops around it.
    fn cost(&self, e: Id, env: &mut Vec<Binder>, outer: &Cost, g: &mut Gathered) -> Cost {
        let plan = self.plan;
        let span = plan.node(e).span;
        match plan.op(e) {
            Op::Let(i) => {
                if *i >= self.first_lifted && !g.lifted.contains(i) {
                    g.lifted.push(*i);
                }
                Cost::one()
            }
            &Op::Where(list, body) => self.looping(span, list, Some(body), env, outer, g),
            &Op::Quantifier(_, list, Some(body)) => {
                if self.by_bound(list, body, env) {
                    let size = self.size(list, env);
                    let mut c = self.cost(list, env, outer, g);
                    // The extreme is found once per list: once per person
                    // for a list that does not depend on an element.
                    if plan.reads_element(list) {
                        self.note(span, &size, outer, g);
                        c = c.plus(&size);
                    } else {
                        g.once.push(size);
                    }
                    let bound = bound_of(plan, body, env.len());
                    env.push(self.binder(list, env));
                    let b = bound.map_or_else(Cost::one, |b| self.cost(b, env, outer, g));
                    env.pop();
                    c.plus(&b)
                } else {
                    self.looping(span, list, Some(body), env, outer, g)
                }
            }
            &Op::Member {
                value, collection, ..
            } => {
                let c = self
                    .cost(value, env, outer, g)
                    .plus(&self.cost(collection, env, outer, g));
                if matches!(plan.node(collection).ty.non_optional(), Type::Set(_)) {
                    return c;
                }
                let size = self.size(collection, env);
                if lends(plan, collection) && !plan.reads_element(collection) {
                    // A sorted copy, made once per person (or per facts
                    // load), then a lookup.
                    if !matches!(
                        plan.op(collection),
                        Op::Fact(_) | Op::Hoisted(_) | Op::Const(_)
                    ) {
                        g.once.push(size);
                    }
                    c
                } else {
                    self.note(span, &size, outer, g);
                    c.plus(&size)
                }
            }
            &Op::Project(list, _) => self.scan(span, list, env, outer, g),
            Op::Call(
                Builtin::Prefectures
                | Builtin::Provinces
                | Builtin::Min
                | Builtin::Max
                | Builtin::Sum
                | Builtin::SumDurations
                | Builtin::Distinct,
                args,
            ) => match args.first() {
                Some(&list) => self.scan(span, list, env, outer, g),
                None => Cost::one(),
            },
            &Op::Extreme(_, list, key) => self.looping(span, list, Some(key), env, outer, g),
            op => {
                let children: Vec<Cost> = op
                    .children()
                    .map(|(child, _)| self.cost(child, env, outer, g))
                    .collect();
                Cost::sum(&children)
            }
        }
    }

    /// A projection or a built-in over a list: the list, then each element.
    fn scan(
        &self,
        span: Span,
        list: Id,
        env: &mut Vec<Binder>,
        outer: &Cost,
        g: &mut Gathered,
    ) -> Cost {
        let size = self.size(list, env);
        self.note(span, &size, outer, g);
        self.cost(list, env, outer, g).plus(&size)
    }

    /// A `where` or `has`: the list, then the body once per element.
    fn looping(
        &self,
        span: Span,
        list: Id,
        body: Option<Id>,
        env: &mut Vec<Binder>,
        outer: &Cost,
        g: &mut Gathered,
    ) -> Cost {
        let mut c = self.scan(span, list, env, outer, g);
        if let Some(body) = body {
            let size = self.size(list, env);
            let inside = outer.times(&size);
            env.push(self.binder(list, env));
            let b = self.cost(body, env, &inside, g);
            env.pop();
            c = c.plus(&size.times(&b));
        }
        c
    }

    fn binder(&self, list: Id, env: &[Binder]) -> Binder {
        Binder {
            name: self
                .size(list, env)
                .terms()
                .first()
                .and_then(|t| match &t.0[..] {
                    [(n, 1)] => Some(n.clone()),
                    _ => None,
                }),
            ty: self.plan.node(list).ty.clone(),
        }
    }

    /// Notes the loop at `span`, over `size` elements, evaluated `outer`
    /// times, if together they are superlinear.
    fn note(&self, span: Span, size: &Cost, outer: &Cost, g: &mut Gathered) {
        let all = outer.times(size);
        if g.superlinear.is_none() && all.degree() >= 2 {
            g.superlinear = Some((span, all));
        }
    }

    /// Whether the evaluator answers `any x in list has x.f <op> bound` by
    /// the least or greatest `f` (see `by_bound` in `eval/expr.rs`).
    fn by_bound(&self, list: Id, body: Id, env: &[Binder]) -> bool {
        let plan = self.plan;
        let depth = env.len();
        let &Op::Compare(op, l, r) = plan.op(body) else {
            return false;
        };
        let ordered = matches!(
            op,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        );
        let field = match (plan.op(l), plan.op(r)) {
            (Op::ElementField(d, _), _) if *d == depth => l,
            (_, Op::ElementField(d, _)) if *d == depth => r,
            _ => return false,
        };
        ordered
            && !matches!(plan.node(field).ty.non_optional(), Type::Number)
            && lends(plan, list)
            && bound_of(plan, body, depth).is_some_and(|b| !plan.reads_element_at(b, depth))
    }
}

/// The bound of `x.f <op> bound`, bound at `depth`.
fn bound_of(plan: &Plan, body: Id, depth: usize) -> Option<Id> {
    match *plan.op(body) {
        Op::Compare(_, l, r) => match (plan.op(l), plan.op(r)) {
            (Op::ElementField(d, _), _) if *d == depth => Some(r),
            (_, Op::ElementField(d, _)) if *d == depth => Some(l),
            _ => None,
        },
        _ => None,
    }
}

fn is_collection(ty: &Type) -> bool {
    matches!(ty.non_optional(), Type::List(_) | Type::Set(_))
}

fn element_type(ty: &Type) -> Option<&Type> {
    match ty.non_optional() {
        Type::List(t) | Type::Set(t) => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
