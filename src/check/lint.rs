//! Warnings: a policy that checks but probably does not say what its author
//! meant. Each is decided from the program's text and types alone, never
//! from data, so each says plainly what it can and cannot see.

use std::collections::{HashMap, HashSet};

use miette::Diagnostic;
use thiserror::Error;

use super::Program;
use super::ir::{Expr, ExprKind};
use crate::compile::{Id, Op, Plan, Stage};
use crate::syntax::{self, Item, Span};
use crate::value::Value;

/// A warning about a policy.
#[derive(Debug, Clone, PartialEq, Error, Diagnostic)]
pub enum Lint {
    /// A `let` that nothing uses.
    #[error("`{name}` is never used")]
    #[diagnostic(
        code(policy::lint::unused_let),
        severity(Warning),
        help("use it in a rule, or remove it")
    )]
    UnusedLet {
        /// The name.
        name: String,
        /// Its definition.
        #[label("defined here")]
        span: Span,
    },
    /// An outcome that no rule and no `otherwise` gives.
    #[error("outcome `{name}` is never given")]
    #[diagnostic(
        code(policy::lint::unused_outcome),
        severity(Warning),
        help("give it in a rule, or remove it from `outcomes`")
    )]
    UnusedOutcome {
        /// The outcome.
        name: String,
        /// Where it is declared.
        #[label("declared here")]
        span: Span,
    },
    /// A rule without a payload field that other rules of its outcome give.
    #[error("rule `{rule}` gives `{outcome}` without `{field}`")]
    #[diagnostic(
        code(policy::lint::missing_payload),
        severity(Warning),
        help(
            "other `{outcome}` rules give `{field}`; give it here too, so that every `{outcome}` decision carries it"
        )
    )]
    MissingPayload {
        /// The rule.
        rule: String,
        /// Its outcome.
        outcome: String,
        /// The field it lacks.
        field: String,
        /// The rule.
        #[label("no `{field}` here")]
        span: Span,
        /// Where another rule gives it.
        #[label("given here")]
        other: Span,
    },
    /// A rule that a rule written before it always overrides.
    #[error("rule `{rule}` can never decide")]
    #[diagnostic(code(policy::lint::shadowed_rule), severity(Warning))]
    ShadowedRule {
        /// The rule that never decides.
        rule: String,
        /// The rule that decides instead.
        by: String,
        /// The rule.
        #[label("never decisive")]
        span: Span,
        /// The earlier rule.
        #[label("`{by}` fires whenever it does")]
        earlier: Span,
        /// Why, and what to do.
        #[help]
        help: String,
    },
    /// A window fixed in time, in a policy that decides at `now`.
    #[error("this window is fixed: it does not move with `now`")]
    #[diagnostic(
        code(policy::lint::fixed_window),
        severity(Warning),
        help(
            "a window that follows the decision is written `within 14d` or `[now - 14d, now]`; keep this one only if the policy is about these dates"
        )
    )]
    FixedWindow {
        /// The window.
        #[label("from one fixed instant to another")]
        span: Span,
    },
    /// A translation that leaves some of the policy's texts out.
    #[error("`messages \"{language}\"` lacks {count} of the policy's texts")]
    #[diagnostic(code(policy::lint::missing_messages), severity(Warning))]
    MissingMessages {
        /// The block's language.
        language: String,
        /// How many texts it lacks.
        count: usize,
        /// The block's language tag.
        #[label("people reading `{language}` see these in the policy's own language")]
        span: Span,
        /// What to add.
        #[help]
        help: String,
    },
    /// A quantifier that, for want of parentheses, is part of the
    /// condition of the quantifier before it.
    #[error("`{inner}` is inside the condition of `{outer}`")]
    #[diagnostic(code(policy::lint::swallowed_quantifier), severity(Warning))]
    SwallowedQuantifier {
        /// The inner quantifier's head, like `any person.tests`.
        inner: String,
        /// The outer quantifier's head.
        outer: String,
        /// The outer quantifier, up to its `has`.
        #[label("the condition of this `has` runs on…")]
        head: Span,
        /// The inner quantifier, which the outer one's condition takes in.
        #[label("…to the end of this quantifier")]
        span: Span,
        /// The two ways to write it.
        #[help]
        help: String,
    },
    /// A condition that does not depend on anything.
    #[error("this condition is always {value}")]
    #[diagnostic(code(policy::lint::constant_condition), severity(Warning))]
    ConstantCondition {
        /// Its value.
        value: bool,
        /// The condition.
        #[label("always {value}")]
        span: Span,
        /// What it means for the rule.
        #[help]
        help: String,
    },
    /// An item whose cost grows faster than the record: a loop nested in
    /// another over the lists of the record or the facts.
    #[error("{item} costs {cost} per person")]
    #[diagnostic(
        code(policy::lint::superlinear),
        severity(Warning),
        help(
            "to make it linear, name what the inner loop looks for in a `let` (`let numbers = person.phones.number`) and test it with `in`, a lookup, or compare the element's field with a bound the same for every element; otherwise the evaluation budget (`--budget`) bounds what one record may cost"
        )
    )]
    Superlinear {
        /// The item: rule `name`, let `name`, ...
        item: String,
        /// What it costs.
        cost: String,
        /// How many times the inner loop visits an element, in all.
        inner: String,
        /// The inner loop.
        #[label("{inner} steps in all: this runs once per element of the loop around it")]
        span: Span,
    },
    /// `if C then true else false`: the condition itself, said the long way.
    #[error("this `if` only gives its condition's value")]
    #[diagnostic(
        code(policy::lint::boolean_if),
        severity(Warning),
        help("write `{written}`")
    )]
    BooleanIf {
        /// What says the same.
        written: String,
        /// The `if`.
        #[label("`true` or `false` by its condition")]
        span: Span,
    },
}

/// Every warning about the program of `plan`, in source order. `ast` is
/// the policy it was checked from.
pub fn lints(ast: &syntax::Policy, plan: &Plan) -> Vec<Lint> {
    let program = &plan.program;
    let mut out = Vec::new();
    unused_lets(ast, program, &mut out);
    unused_outcomes(ast, program, &mut out);
    missing_payload(program, &mut out);
    constant_conditions(plan, &mut out);
    shadowed_rules(ast, program, &mut out);
    missing_messages(program, &mut out);
    swallowed_quantifiers(ast, program.source.text(), &mut out);
    for e in roots(program) {
        fixed_windows(e, &mut out);
        boolean_ifs(program, e, &mut out);
    }
    sort(&mut out);
    out
}

/// Adds `more` to `lints`, keeping them in source order.
pub fn merge(lints: &mut Vec<Lint>, more: Vec<Lint>) {
    if !more.is_empty() {
        lints.extend(more);
        sort(lints);
    }
}

/// Sorts warnings in source order (a stable sort: those at one place keep
/// their order).
fn sort(lints: &mut [Lint]) {
    lints.sort_by_key(|l| {
        use miette::Diagnostic as _;
        l.labels().and_then(|mut l| l.next()).map(|l| l.offset())
    });
}

/// Translations that leave texts out. A block in the policy's own
/// `language` only labels, and is not a translation.
fn missing_messages(program: &Program, out: &mut Vec<Lint>) {
    let texts = super::messages::translatable(program);
    for block in &program.messages {
        if program.language.as_deref() == Some(block.language.as_str()) {
            continue;
        }
        let missing: Vec<String> = texts
            .iter()
            .filter(|k| !block.entries.contains_key(k))
            .map(|k| format!("`{}`", k.written()))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let mut help = format!("add {}", missing.join(", "));
        if program.language.is_none() {
            help.push_str(
                "; if this is the language the policy is written in, say so with `language \"",
            );
            help.push_str(&block.language);
            help.push_str("\"`");
        }
        out.push(Lint::MissingMessages {
            language: block.language.clone(),
            count: missing.len(),
            span: block.span,
            help,
        });
    }
}

/// Every top-level expression of the program.
fn roots(program: &Program) -> impl Iterator<Item = &Expr> {
    let lets = program.lets.iter().map(|l| &l.value);
    let rules = program.rules.iter().flat_map(|r| {
        std::iter::once(&r.when)
            .chain(r.unless.as_ref())
            .chain(r.then.payload.iter().map(|(_, v)| v))
    });
    let warnings = program.warnings.iter().map(|w| &w.when);
    let otherwise = program.otherwise.payload.iter().map(|(_, v)| v);
    lets.chain(rules).chain(warnings).chain(otherwise)
}

fn unused_lets(ast: &syntax::Policy, program: &Program, out: &mut Vec<Lint>) {
    fn count(e: &Expr, uses: &mut [usize]) {
        if let ExprKind::Let(i) = e.kind
            && let Some(n) = uses.get_mut(i)
        {
            *n += 1;
        }
        for (child, _) in e.children() {
            count(child, uses);
        }
    }
    let mut uses = vec![0; program.lets.len()];
    for e in roots(program) {
        count(e, &mut uses);
    }
    let decls = ast.lets().map(|l| &l.name);
    for (name, uses) in decls.zip(uses) {
        if uses == 0 {
            out.push(Lint::UnusedLet {
                name: name.node.clone(),
                span: name.span,
            });
        }
    }
}

fn unused_outcomes(ast: &syntax::Policy, program: &Program, out: &mut Vec<Lint>) {
    let given: Vec<usize> = program
        .rules
        .iter()
        .map(|r| r.then.index)
        .chain([program.otherwise.index])
        .collect();
    for item in &ast.items {
        if let Item::Outcomes(names) = item {
            for (i, name) in names.iter().enumerate() {
                if !given.contains(&i) {
                    out.push(Lint::UnusedOutcome {
                        name: name.node.clone(),
                        span: name.span,
                    });
                }
            }
        }
    }
}

fn missing_payload(program: &Program, out: &mut Vec<Lint>) {
    // For each outcome, the payload fields its rules give, each with the
    // first value given, in the order first given: one pass over the rules.
    let mut given: HashMap<usize, Vec<(&str, Span)>> = HashMap::new();
    let mut seen: HashSet<(usize, &str)> = HashSet::new();
    for rule in &program.rules {
        for (field, value) in &rule.then.payload {
            if seen.insert((rule.then.index, field)) {
                given
                    .entry(rule.then.index)
                    .or_default()
                    .push((field, value.span));
            }
        }
    }
    for rule in &program.rules {
        let outcome = rule.then.index;
        let has: HashSet<&str> = rule.then.payload.iter().map(|(f, _)| f.as_str()).collect();
        for (field, other) in given.get(&outcome).into_iter().flatten() {
            if !has.contains(field) {
                out.push(Lint::MissingPayload {
                    rule: rule.name.clone(),
                    outcome: program.outcomes.get(outcome).cloned().unwrap_or_default(),
                    field: (*field).to_owned(),
                    span: rule.span,
                    other: *other,
                });
            }
        }
    }
}

/// Windows made of two constant instants: the decision's `now` moves, the
/// window does not. A window between times from the data (`within [from,
/// to]`) is not flagged: it means an event inside a stay, not a period.
fn fixed_windows(e: &Expr, out: &mut Vec<Lint>) {
    if let ExprKind::Within(_, w) | ExprKind::Overlaps(_, w) = &e.kind
        && let ExprKind::Interval(a, b) = &w.kind
        && matches!((&a.kind, &b.kind), (ExprKind::Const(_), ExprKind::Const(_)))
    {
        out.push(Lint::FixedWindow { span: w.span });
    }
    for (child, _) in e.children() {
        fixed_windows(child, out);
    }
}

/// `if C then true else false` (`C`), `if C then false else true` (`not
/// C`). An `if` with one value a literal (`if C then A else true`, as
/// CertLogic writes) reads as its rule does and is left alone.
fn boolean_ifs(program: &Program, e: &Expr, out: &mut Vec<Lint>) {
    if let ExprKind::If(c, a, b) = &e.kind
        && let (ExprKind::Const(Value::Bool(a)), ExprKind::Const(Value::Bool(b))) =
            (&a.kind, &b.kind)
        && a != b
    {
        let text = program.source.slice(c.span);
        let written = match (a, syntax::enclosed(text)) {
            (true, _) => text.to_owned(),
            (false, true) => format!("not {text}"),
            (false, false) => format!("not ({text})"),
        };
        out.push(Lint::BooleanIf {
            written,
            span: e.span,
        });
    }
    for (child, _) in e.children() {
        boolean_ifs(program, child, out);
    }
}

/// The conjuncts of a condition (`a and b and c`), as written, white space
/// folded.
fn conjuncts<'a>(e: &'a syntax::Spanned<syntax::Expr>, text: &'a str, out: &mut Vec<String>) {
    match &e.node {
        syntax::Expr::Binary(syntax::BinaryOp::And, a, b) => {
            conjuncts(a, text, out);
            conjuncts(b, text, out);
        }
        _ => {
            let written = text.get(e.span.start..e.span.end).unwrap_or("");
            let written = syntax::without_parens(written);
            out.push(written.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
}

/// A rule is never decisive when an earlier rule, with an outcome at least
/// as severe and no `unless`, asks for a subset of its conditions: whenever
/// it fires, so does the earlier one. Only this syntactic case is seen:
/// conditions that imply each other in other ways are not compared.
fn shadowed_rules(ast: &syntax::Policy, program: &Program, out: &mut Vec<Lint>) {
    let text = program.source.text();
    let decls: Vec<&syntax::RuleDecl> = ast.rules().collect();
    let conditions: Vec<Vec<String>> = decls
        .iter()
        .map(|r| {
            let mut c = Vec::new();
            conjuncts(&r.when, text, &mut c);
            c
        })
        .collect();
    // An earlier rule can only shadow a later one that has all its
    // conjuncts, so in particular its rarest one: each earlier rule is
    // looked up by that conjunct instead of comparing every pair of rules.
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for c in conditions.iter().flatten() {
        *frequency.entry(c).or_default() += 1;
    }
    let sets: Vec<HashSet<&str>> = conditions
        .iter()
        .map(|c| c.iter().map(String::as_str).collect())
        .collect();
    let mut by_rarest: HashMap<&str, Vec<usize>> = HashMap::new();
    for (later, rule) in program.rules.iter().enumerate() {
        let shadows = |i: &usize| {
            let before = &program.rules[*i];
            before.unless.is_none()
                && before.then.index >= rule.then.index
                && sets[*i].iter().all(|c| sets[later].contains(c))
        };
        let earlier = sets[later]
            .iter()
            .filter_map(|c| by_rarest.get(c)?.iter().find(|i| shadows(i)))
            .min()
            .map(|i| (*i, &program.rules[*i]));
        if let Some(rarest) = conditions[later]
            .iter()
            .min_by_key(|c| frequency.get(c.as_str()).copied().unwrap_or(0))
        {
            by_rarest.entry(rarest).or_default().push(later);
        }
        if let Some((_, before)) = earlier {
            out.push(Lint::ShadowedRule {
                rule: rule.name.clone(),
                by: before.name.clone(),
                span: rule.span,
                earlier: before.span,
                help: format!(
                    "`{}` gives an outcome at least as severe and asks for no more than `{}` does; \
                     reorder the rules, or make `{}` less general",
                    before.name, rule.name, before.name
                ),
            });
        }
    }
}

/// The value of a condition that nothing changes: the value of a node of
/// the plan's constant stage (`true`, `not false`), or of `not`, `and`,
/// `or` and `if` where constant operands decide it (`true or x`). A
/// condition that is constant only because of what the data can hold is
/// not seen, nor a `let`'s name (its definition is where it is written).
fn constant(plan: &Plan, id: Id) -> Option<bool> {
    let node = plan.node(id);
    // A value hoisted out of its place stands for the node written there.
    if let Op::Hoisted(i) = node.op
        && let Some(&h) = plan.hoisted.get(i)
        && plan.node(h).span == node.span
    {
        return constant(plan, h);
    }
    if node.name.is_some() {
        return None;
    }
    if node.stage == Stage::Constant {
        return match crate::eval::constant(plan, id) {
            Some(Value::Bool(b)) => Some(b),
            _ => None,
        };
    }
    let constant = |e: Id| constant(plan, e);
    match *plan.op(id) {
        Op::Not(a) => constant(a).map(|b| !b),
        Op::And(a, b) => match (constant(a), constant(b)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Op::Or(a, b) => match (constant(a), constant(b)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Op::If(c, a, b) => match (constant(c), constant(a), constant(b)) {
            (Some(true), a, _) => a,
            (Some(false), _, b) => b,
            (None, Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        },
        _ => None,
    }
}

fn constant_conditions(plan: &Plan, out: &mut Vec<Lint>) {
    let mut check = |e: Id, help: &dyn Fn(bool) -> String| {
        if let Some(value) = constant(plan, e) {
            out.push(Lint::ConstantCondition {
                value,
                span: plan.node(e).span,
                help: help(value),
            });
        }
    };
    let program = &plan.program;
    for (rule, roots) in program.rules.iter().zip(&plan.rules) {
        let name = &rule.name;
        check(roots.when, &|v| {
            if v {
                format!("rule `{name}` fires for everyone; write the condition it stands for")
            } else {
                format!(
                    "rule `{name}` never fires; remove it, or write the condition it stands for"
                )
            }
        });
        if let Some(unless) = roots.unless {
            check(unless, &|v| {
                if v {
                    format!("rule `{name}` never fires, whatever its `when`")
                } else {
                    format!("this `unless` never stops rule `{name}`; remove it")
                }
            });
        }
    }
    for (w, &when) in program.warnings.iter().zip(&plan.warnings) {
        let name = &w.name;
        check(when, &|v| {
            if v {
                format!("warning `{name}` is given for everyone")
            } else {
                format!("warning `{name}` is never given")
            }
        });
    }
}

/// The expressions of a policy's lets, rules, warnings and `otherwise`, as
/// written.
fn ast_roots(ast: &syntax::Policy) -> Vec<&Ast> {
    fn payload(call: &syntax::OutcomeCall) -> impl Iterator<Item = &Ast> {
        call.payload.iter().map(|(_, v)| v)
    }
    let mut out = Vec::new();
    for item in &ast.items {
        match item {
            Item::Let(l) => out.push(&l.value),
            Item::Rule(r) => {
                out.push(&r.when);
                out.extend(&r.unless);
                out.extend(payload(&r.then));
            }
            Item::Warning(w) => out.push(&w.when),
            Item::Otherwise(call) => out.extend(payload(call)),
            _ => {}
        }
    }
    out
}

type Ast = syntax::Spanned<syntax::Expr>;

/// The direct subexpressions of `e`.
fn ast_children(e: &Ast) -> Vec<&Ast> {
    use syntax::Expr as E;
    match &e.node {
        E::Field(a, _)
        | E::Unary(_, a)
        | E::IsNone { value: a, .. }
        | E::IsEmpty { value: a, .. } => vec![a],
        E::If {
            guard,
            then,
            otherwise,
        } => vec![guard, then, otherwise],
        E::Extreme {
            list: a, key: b, ..
        }
        | E::Binary(_, a, b)
        | E::Where {
            list: a,
            condition: b,
            ..
        } => vec![a, b],
        E::Quantifier { subject, body, .. } => {
            std::iter::once(&**subject).chain(body.as_deref()).collect()
        }
        E::Call(_, items) | E::Bracket(items) => items.iter().collect(),
        E::Bool(_)
        | E::Number(_)
        | E::Text(_)
        | E::Duration(_)
        | E::Calendar(_)
        | E::Time(_)
        | E::Region(..)
        | E::Now
        | E::It
        | E::Name(_) => Vec::new(),
    }
}

/// `any a.r has X or any a.t has Y` reads as two conditions, but the
/// condition after `has` runs as far as it can: the second quantifier is
/// part of the first one's condition. Flagged when a `has` condition that
/// is not in parentheses is a chain of `and`s and `or`s ending in a
/// quantifier that is not in parentheses either.
fn swallowed_quantifiers(ast: &syntax::Policy, text: &str, out: &mut Vec<Lint>) {
    let written = |span: Span| text.get(span.start..span.end).unwrap_or("");
    let mut stack = ast_roots(ast);
    while let Some(e) = stack.pop() {
        stack.extend(ast_children(e));
        let syntax::Expr::Quantifier {
            body: Some(body), ..
        } = &e.node
        else {
            continue;
        };
        if syntax::enclosed(written(body.span)) {
            continue;
        }
        // The last operand of the chain, and the operator before it.
        let mut last = &**body;
        let mut joined = None;
        while let syntax::Expr::Binary(syntax::BinaryOp::And | syntax::BinaryOp::Or, a, b) =
            &last.node
        {
            if syntax::enclosed(written(last.span)) {
                break;
            }
            joined = Some((&**a, &**b));
            last = b;
        }
        let Some((before, inner)) = joined else {
            continue;
        };
        let syntax::Expr::Quantifier {
            body: inner_body, ..
        } = &inner.node
        else {
            continue;
        };
        if syntax::enclosed(written(inner.span)) {
            continue;
        }
        let head = |q: &Ast, body: Option<&Ast>| {
            let end = body.map_or(q.span.end, |b| b.span.start);
            let head = written(Span::new(q.span.start, end)).trim_end();
            head.strip_suffix("has")
                .unwrap_or(head)
                .trim_end()
                .to_owned()
        };
        let outer = head(e, Some(body));
        let outer_end = written(Span::new(e.span.start, body.span.start))
            .trim_end()
            .len();
        let inner_head = head(inner, inner_body.as_deref());
        let first = written(Span::new(body.span.start, before.span.end));
        let first = first.split_whitespace().collect::<Vec<_>>().join(" ");
        let op = written(Span::new(before.span.end, inner.span.start)).trim();
        let rest = match inner_body {
            Some(_) => format!("{inner_head} has ..."),
            None => inner_head.clone(),
        };
        out.push(Lint::SwallowedQuantifier {
            inner: inner_head,
            outer: outer.clone(),
            span: inner.span,
            head: Span::new(e.span.start, e.span.start + outer_end),
            help: format!(
                "if they are two conditions, write `({outer} has {first}) {op} {rest}`; \
                 if the second is meant inside the first, say so: `{outer} has ({first} {op} {rest})`"
            ),
        });
    }
}
