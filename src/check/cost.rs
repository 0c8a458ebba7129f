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

use super::ir::{Builtin, Expr, ExprKind};
use super::lint::Lint;
use crate::compile::Plan;
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
        let_size: vec![Cost::one(); program.lets.len()],
        hoisted_size: Vec::with_capacity(plan.hoisted.len()),
        first_lifted: program
            .lets
            .iter()
            .position(|l| l.name.starts_with("<lifted"))
            .unwrap_or(program.lets.len()),
    };
    for h in &plan.hoisted {
        let size = est.size(h, &[]);
        est.hoisted_size.push(size);
    }
    // Each let's own cost, then with the lifted lets it uses, in an order
    // where each uses only earlier ones.
    let mut own: Vec<Option<(Cost, Gathered)>> = (0..program.lets.len()).map(|_| None).collect();
    let mut total: Vec<Cost> = vec![Cost::one(); program.lets.len()];
    for &i in &plan.let_order {
        let Some(l) = program.lets.get(i) else {
            continue;
        };
        let size = est.size(&l.value, &[]);
        if let Some(s) = est.let_size.get_mut(i) {
            *s = size;
        }
        let mut g = Gathered::default();
        let cost = est.cost(&l.value, &mut Vec::new(), &Cost::one(), &mut g);
        let t = whole(&cost, &g, &total);
        if let Some(slot) = total.get_mut(i) {
            *slot = t;
        }
        if let Some(slot) = own.get_mut(i) {
            *slot = Some((cost, g));
        }
    }
    let mut items = Vec::new();
    let item = |kind, name: String, roots: &[&Expr], est: &Estimator<'_>| {
        let mut g = Gathered::default();
        let mut cost = Cost::one();
        for r in roots {
            cost = cost.plus(&est.cost(r, &mut Vec::new(), &Cost::one(), &mut g));
        }
        finish(kind, name, cost, g, &total)
    };
    for (i, l) in program.lets.iter().enumerate().take(est.first_lifted) {
        let name = l.name.clone();
        match own.get_mut(i).and_then(Option::take) {
            Some((cost, g)) => items.push(finish("let", name, cost, g, &total)),
            None => items.push(item("let", name, &[&l.value], &est)),
        }
    }
    for r in &program.rules {
        let roots: Vec<&Expr> = std::iter::once(&r.when)
            .chain(r.unless.as_ref())
            .chain(r.then.payload.iter().map(|(_, v)| v))
            .collect();
        items.push(item("rule", r.name.clone(), &roots, &est));
    }
    for w in &program.warnings {
        items.push(item("warning", w.name.clone(), &[&w.when], &est));
    }
    if !program.otherwise.payload.is_empty() {
        let roots: Vec<&Expr> = program.otherwise.payload.iter().map(|(_, v)| v).collect();
        items.push(item("otherwise", String::new(), &roots, &est));
    }
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
    fn size(&self, e: &Expr, env: &[Binder]) -> Cost {
        match &e.kind {
            ExprKind::Let(i) => self.let_size.get(*i).cloned().unwrap_or_else(Cost::one),
            ExprKind::Hoisted(i) => self.hoisted_size.get(*i).cloned().unwrap_or_else(Cost::one),
            ExprKind::Where(l, _) | ExprKind::Project(l, _) => self.size(l, env),
            ExprKind::Call(Builtin::Prefectures | Builtin::Provinces, args) => {
                args.first().map_or_else(Cost::one, |a| self.size(a, env))
            }
            ExprKind::Coalesce(a, b) => self.size(a, env).plus(&self.size(b, env)),
            _ if !is_collection(&e.ty) => Cost::one(),
            _ => self.name(e, env).map_or_else(Cost::one, Cost::var),
        }
    }

    /// The name a list read from the data goes by: `stays`, `case_counties`,
    /// `stays.contacts` for the lists of the elements of `stays`.
    fn name(&self, e: &Expr, env: &[Binder]) -> Option<String> {
        let program = &self.plan.program;
        let field = |ty: &Type, slot: usize| match ty.non_optional() {
            Type::Record(r) => r.fields.get(slot).map(|(n, _)| n.clone()),
            _ => None,
        };
        match &e.kind {
            ExprKind::Fact(slot) => program.facts.fields.get(*slot).map(|(n, _)| n.clone()),
            ExprKind::Field(base, slot) => {
                let own = field(&base.ty, *slot)?;
                match &base.kind {
                    ExprKind::Input => Some(own),
                    _ => Some(format!("{}.{own}", self.name(base, env)?)),
                }
            }
            ExprKind::ElementField(d, slot) => {
                let b = env.get(*d)?;
                let own = field(element_type(&b.ty)?, *slot)?;
                Some(match &b.name {
                    Some(n) => format!("{n}.{own}"),
                    None => own,
                })
            }
            ExprKind::Element(d) => env.get(*d)?.name.as_ref().map(|n| format!("{n}[]")),
            _ => None,
        }
    }

    /// What one evaluation of `e` costs, with the elements of `env` bound,
    /// evaluated `outer` times in all by the loops around it.
    fn cost(&self, e: &Expr, env: &mut Vec<Binder>, outer: &Cost, g: &mut Gathered) -> Cost {
        match &e.kind {
            ExprKind::Let(i) => {
                if *i >= self.first_lifted && !g.lifted.contains(i) {
                    g.lifted.push(*i);
                }
                Cost::one()
            }
            ExprKind::Where(list, body) => self.looping(e, list, Some(body), env, outer, g),
            ExprKind::Quantifier(_, list, Some(body)) => {
                if self.by_bound(list, body, env) {
                    let size = self.size(list, env);
                    let mut c = self.cost(list, env, outer, g);
                    // The extreme is found once per list: once per person
                    // for a list that does not depend on an element.
                    if list.reads_element() {
                        self.note(e.span, &size, outer, g);
                        c = c.plus(&size);
                    } else {
                        g.once.push(size);
                    }
                    let bound = bound_of(body, env.len());
                    env.push(self.binder(list, env));
                    let b = bound.map_or_else(Cost::one, |b| self.cost(b, env, outer, g));
                    env.pop();
                    c.plus(&b)
                } else {
                    self.looping(e, list, Some(body), env, outer, g)
                }
            }
            ExprKind::Member {
                value, collection, ..
            } => {
                let c = self
                    .cost(value, env, outer, g)
                    .plus(&self.cost(collection, env, outer, g));
                if matches!(collection.ty.non_optional(), Type::Set(_)) {
                    return c;
                }
                let size = self.size(collection, env);
                if lent(collection) && !collection.reads_element() {
                    // A sorted copy, made once per person (or per facts
                    // load), then a lookup.
                    if !matches!(
                        collection.kind,
                        ExprKind::Fact(_) | ExprKind::Hoisted(_) | ExprKind::Const(_)
                    ) {
                        g.once.push(size);
                    }
                    c
                } else {
                    self.note(e.span, &size, outer, g);
                    c.plus(&size)
                }
            }
            ExprKind::Project(list, _) => self.scan(e, list, env, outer, g),
            ExprKind::Call(Builtin::Prefectures | Builtin::Provinces, args) => match args.first() {
                Some(list) => self.scan(e, list, env, outer, g),
                None => Cost::one(),
            },
            _ => {
                let children: Vec<Cost> = e
                    .children()
                    .into_iter()
                    .map(|(child, _)| self.cost(child, env, outer, g))
                    .collect();
                Cost::sum(&children)
            }
        }
    }

    /// A projection or a built-in over a list: the list, then each element.
    fn scan(
        &self,
        e: &Expr,
        list: &Expr,
        env: &mut Vec<Binder>,
        outer: &Cost,
        g: &mut Gathered,
    ) -> Cost {
        let size = self.size(list, env);
        self.note(e.span, &size, outer, g);
        self.cost(list, env, outer, g).plus(&size)
    }

    /// A `where` or `has`: the list, then the body once per element.
    fn looping(
        &self,
        e: &Expr,
        list: &Expr,
        body: Option<&Expr>,
        env: &mut Vec<Binder>,
        outer: &Cost,
        g: &mut Gathered,
    ) -> Cost {
        let mut c = self.scan(e, list, env, outer, g);
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

    fn binder(&self, list: &Expr, env: &[Binder]) -> Binder {
        Binder {
            name: self
                .size(list, env)
                .terms()
                .first()
                .and_then(|t| match &t.0[..] {
                    [(n, 1)] => Some(n.clone()),
                    _ => None,
                }),
            ty: list.ty.clone(),
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
    fn by_bound(&self, list: &Expr, body: &Expr, env: &[Binder]) -> bool {
        let depth = env.len();
        let ExprKind::Compare(op, l, r) = &body.kind else {
            return false;
        };
        let ordered = matches!(
            op,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        );
        let field = match (&l.kind, &r.kind) {
            (ExprKind::ElementField(d, _), _) if *d == depth => l,
            (_, ExprKind::ElementField(d, _)) if *d == depth => r,
            _ => return false,
        };
        ordered
            && !matches!(field.ty.non_optional(), Type::Number)
            && lent(list)
            && bound_of(body, depth).is_some_and(|b| !b.reads_element_at(depth))
    }
}

/// The bound of `x.f <op> bound`, bound at `depth`.
fn bound_of(body: &Expr, depth: usize) -> Option<&Expr> {
    match &body.kind {
        ExprKind::Compare(_, l, r) => match (&l.kind, &r.kind) {
            (ExprKind::ElementField(d, _), _) if *d == depth => Some(r),
            (_, ExprKind::ElementField(d, _)) if *d == depth => Some(l),
            _ => None,
        },
        _ => None,
    }
}

/// Whether the evaluator lends `e`'s value rather than making it (see
/// `operand` in `eval/expr.rs`): a value that exists beyond the test.
fn lent(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Const(_)
        | ExprKind::Fact(_)
        | ExprKind::Hoisted(_)
        | ExprKind::Let(_)
        | ExprKind::Input
        | ExprKind::Element(_)
        | ExprKind::ElementField(..) => true,
        ExprKind::Field(base, _) => lent(base),
        _ => false,
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
