//! AST → checked program: names resolved, types checked, declarations
//! consistent. Every error is reported, not only the first.

mod builtins;
mod calendar;
mod constraints;
pub mod cost;
mod error;
mod expr;
pub mod ir;
pub mod lint;
pub mod messages;
mod names;
mod operators;
mod test_blocks;

use std::collections::HashMap;
use std::sync::Arc;

use jiff::tz::TimeZone;

pub use error::CheckError;
use ir::Expr;

use crate::source::Source;
use crate::suggest;
use crate::syntax::{self, Ident, Item, Span, Spanned, TypeExpr};
use crate::types::{RecordType, Type};

/// A policy whose names resolve and whose types check.
#[derive(Debug, Clone)]
pub struct Program {
    /// The text it was checked from.
    pub source: Source,
    /// `policy NAME`
    pub name: String,
    /// `policy NAME "title"`
    pub title: Option<String>,
    /// `version "..."`
    pub version: Option<String>,
    /// `effective from T until U`: when this version is in force.
    pub effective: Option<Effective>,
    /// `timezone "..."`: where instants without an offset are read
    pub timezone: TimeZone,
    /// `timezone "..." resolving ...`: how local times that the zone skips
    /// or repeats are read (unsaid: they are errors).
    pub resolve: crate::time::Resolve,
    /// `facts expire 36h after as_of`: how old the facts may be at `now`,
    /// in microseconds.
    pub facts_expire: Option<i64>,
    /// Outcome names, least severe first.
    pub outcomes: Vec<String>,
    /// The name the input goes by (`person`).
    pub input_name: String,
    /// The input schema.
    pub input: Arc<RecordType>,
    /// The facts schema.
    pub facts: Arc<RecordType>,
    /// `let`s, in source order; each uses only those before it.
    pub lets: Vec<Let>,
    /// Rules, in source order.
    pub rules: Vec<Rule>,
    /// Warnings, in source order.
    pub warnings: Vec<Warning>,
    /// `otherwise`
    pub otherwise: Outcome,
    /// The input's `id` field, copied into decisions.
    pub id_slot: Option<usize>,
    /// `test` blocks, in source order.
    pub tests: Vec<Test>,
    /// `remedy` declarations, in source order.
    pub remedies: Vec<Remedy>,
    /// `language "..."`: the language of the policy's own texts.
    pub language: Option<String>,
    /// `messages` blocks: the policy's texts in other languages, and
    /// labels for people.
    pub messages: Vec<messages::Messages>,
}

/// `remedy "title" adds LIST { ... }`, checked.
#[derive(Debug, Clone)]
pub struct Remedy {
    /// What the person would do.
    pub title: String,
    /// The slot of the input list it adds to.
    pub list: usize,
    /// The record it adds, decoded with `now` as the epoch.
    pub record: crate::value::Value,
    /// The record's fields that stand for `now`.
    pub now_slots: Vec<usize>,
}

/// `test "name" { ... }`, checked: its data decoded against the schemas.
#[derive(Debug, Clone)]
pub struct Test {
    /// What it is about.
    pub name: String,
    /// Its name in the source.
    pub span: Span,
    /// `now`.
    pub now: i64,
    /// The facts record, if given.
    pub facts: Option<crate::value::Value>,
    /// Which fields of the facts record its `facts` step gives, by slot
    /// (none without one): read like a facts file, so that `required`
    /// facts are checked when the test runs.
    pub facts_given: Vec<bool>,
    /// The input record.
    pub person: crate::value::Value,
    /// Its expectations, in order.
    pub expects: Vec<Expect>,
}

/// `expect [at TIME] ...`
#[derive(Debug, Clone)]
pub struct Expect {
    /// The instant to decide at, if not the test's `now`.
    pub at: Option<i64>,
    /// What is expected.
    pub what: Expected,
    /// The line in the source.
    pub span: Span,
}

/// What a test expects.
#[derive(Debug, Clone)]
pub enum Expected {
    /// The outcome (by index) and these payload values.
    Outcome {
        /// The outcome.
        index: usize,
        /// Payload fields and their expected values.
        payload: Vec<(String, Expr)>,
    },
    /// Exactly these rules fire.
    Rules(Vec<String>),
}

/// `let NAME = EXPR`
#[derive(Debug, Clone)]
pub struct Let {
    /// The name.
    pub name: String,
    /// The definition.
    pub value: Expr,
}

/// A rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name.
    pub name: String,
    /// `code "VR-AT-0001"`: its code in the authority's list.
    pub code: Option<String>,
    /// Its title.
    pub title: Option<String>,
    /// `when`
    pub when: Expr,
    /// `unless`
    pub unless: Option<Expr>,
    /// `then`
    pub then: Outcome,
    /// The rule's name in the source.
    pub span: Span,
}

/// An outcome with its payload.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Index into `Program::outcomes`: its severity.
    pub index: usize,
    /// Payload fields, in source order.
    pub payload: Vec<(String, Expr)>,
}

/// `warning NAME "message" when EXPR`
#[derive(Debug, Clone)]
pub struct Warning {
    /// Its name.
    pub name: String,
    /// What it says.
    pub message: String,
    /// When it is given.
    pub when: Expr,
}

/// Checks a parsed policy.
pub fn check(policy: &syntax::Policy, source: &Source) -> Result<Program, Vec<CheckError>> {
    let mut c = Checker {
        errors: Vec::new(),
        source,
        timezone: TimeZone::UTC,
        resolve: crate::time::Resolve::default(),
        input_name: "input".to_owned(),
        input: Arc::default(),
        facts: Arc::default(),
        lets: Vec::new(),
        let_index: HashMap::new(),
        moving_lets: Vec::new(),
        suggested: 0,
        later_lets: HashMap::new(),
        scopes: Vec::new(),
        narrowed: Vec::new(),
        constraints: 0,
    };
    let program = c.policy(policy);
    if c.errors.is_empty() {
        Ok(program)
    } else {
        // In the order a reader meets them.
        c.errors.sort_by_key(|e| {
            use miette::Diagnostic as _;
            e.labels().and_then(|mut l| l.next()).map(|l| l.offset())
        });
        Err(c.errors)
    }
}

/// The checker's state while it walks one policy.
pub(crate) struct Checker<'a> {
    errors: Vec<CheckError>,
    source: &'a Source,
    timezone: TimeZone,
    resolve: crate::time::Resolve,
    input_name: String,
    input: Arc<RecordType>,
    facts: Arc<RecordType>,
    /// The `let`s checked so far: name, type, where defined.
    lets: Vec<(String, Type)>,
    /// Where each name of `lets` first stands in it, so that a use of a
    /// name costs the same however many `let`s there are.
    let_index: HashMap<String, usize>,
    /// For each of `lets`, whether its value moves with `now`.
    moving_lets: Vec<bool>,
    /// How many unknown names have been given a suggestion.
    suggested: usize,
    /// Every `let` of the policy, to tell "defined later" from "unknown".
    later_lets: HashMap<String, Span>,
    /// The elements bound by enclosing `where`/`has`, outermost first, with
    /// their names (`any t in ...`) if they have one.
    scopes: Vec<names::Scope>,
    /// Paths known not to be none here (`x is none or x > 1`).
    narrowed: Vec<String>,
    /// How many constraints it has made: the next one's id.
    constraints: usize,
}

/// `effective from T until U`: the instants, in microseconds since the
/// epoch, from which this version of the policy is in force and from which
/// it no longer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    /// The first instant it is in force.
    pub from: i64,
    /// The first instant it is no longer in force, if known.
    pub until: Option<i64>,
}

/// Declarations that may be given once.
#[derive(Default)]
struct Once<'p> {
    version: Option<&'p Spanned<String>>,
    effective: Option<&'p syntax::EffectiveDecl>,
    timezone: Option<&'p syntax::TimezoneDecl>,
    facts_expire: Option<&'p Spanned<i64>>,
    language: Option<&'p Spanned<String>>,
    outcomes: Option<(&'p [Ident], Span)>,
    input: Option<(&'p Ident, &'p [syntax::FieldDecl])>,
    facts: Option<&'p [syntax::FieldDecl]>,
    otherwise: Option<&'p syntax::OutcomeCall>,
}

impl Checker<'_> {
    fn policy(&mut self, policy: &syntax::Policy) -> Program {
        let once = self.declarations(policy);
        if let Some(tz) = once.timezone {
            self.timezone = self.time_zone(&tz.name);
            self.resolve = self.resolving(&tz.resolving);
        }
        let outcomes: Vec<String> = match once.outcomes {
            Some((names, _)) => {
                self.unique("outcome", names.iter());
                names.iter().map(|n| n.node.clone()).collect()
            }
            // A library has no rules: the policies that use it decide.
            None if policy.is_library() => Vec::new(),
            None => {
                self.errors.push(CheckError::Missing {
                    what: "outcomes",
                    span: policy.name.span,
                    help: "declare the outcomes, least severe first, like `outcomes green < popup`"
                        .into(),
                });
                Vec::new()
            }
        };
        if let Some((name, fields)) = once.input {
            self.input_name = name.node.clone();
            self.input = Arc::new(self.record_type(fields));
        }
        if let Some(fields) = once.facts {
            self.facts = Arc::new(self.record_type(fields));
        }
        let facts_expire = once.facts_expire.map(|d| {
            if self.facts.fields.is_empty() {
                self.errors
                    .push(CheckError::ExpireWithoutFacts { span: d.span });
            }
            d.node * crate::time::SECOND
        });
        let lets = self.lets(policy);
        let mut payload_uses = Vec::new();
        let mut rules = Vec::new();
        let mut warnings = Vec::new();
        let mut names: Vec<&Ident> = Vec::new();
        for item in &policy.items {
            match item {
                Item::Rule(r) => {
                    names.push(&r.name);
                    let when = self.condition(&r.when);
                    let unless = r.unless.as_ref().map(|u| self.condition(u));
                    let then = self.outcome_call(&r.then, &outcomes, &mut payload_uses);
                    rules.push(Rule {
                        name: r.name.node.clone(),
                        code: r.code.as_ref().map(|c| c.node.clone()),
                        title: r.title.as_ref().map(|t| t.node.clone()),
                        when,
                        unless,
                        then,
                        span: r.name.span,
                    });
                }
                Item::Warning(w) => {
                    names.push(&w.name);
                    warnings.push(Warning {
                        name: w.name.node.clone(),
                        message: w.message.node.clone(),
                        when: self.condition(&w.when),
                    });
                }
                _ => {}
            }
        }
        self.unique("rule", names.into_iter());
        self.unique("rule code", policy.rules().filter_map(|r| r.code.as_ref()));
        let otherwise = match once.otherwise {
            Some(call) => self.outcome_call(call, &outcomes, &mut payload_uses),
            None if policy.is_library() => Outcome {
                index: 0,
                payload: Vec::new(),
            },
            None => {
                self.errors.push(CheckError::Missing {
                    what: "otherwise",
                    span: policy.name.span,
                    help: "say what holds when no rule fires, like `otherwise green`".into(),
                });
                Outcome {
                    index: 0,
                    payload: Vec::new(),
                }
            }
        };
        let payload_types = self.payload_types(payload_uses);
        let known_rules: Vec<String> = rules.iter().map(|r: &Rule| r.name.clone()).collect();
        let tests = self.tests(policy, &outcomes, &known_rules, &payload_types);
        let remedies = self.remedies(policy);
        let effective = once.effective.and_then(|e| self.effective(e));
        let id_slot = self
            .input
            .field("id")
            .filter(|(_, t)| matches!(t.non_optional(), Type::Text))
            .map(|(slot, _)| slot);
        let mut program = Program {
            source: self.source.clone(),
            name: policy.name.node.clone(),
            title: policy.title.as_ref().map(|t| t.node.clone()),
            version: once.version.map(|v| v.node.clone()),
            effective,
            timezone: self.timezone.clone(),
            resolve: self.resolve,
            facts_expire,
            outcomes,
            input_name: self.input_name.clone(),
            input: Arc::clone(&self.input),
            facts: Arc::clone(&self.facts),
            lets,
            rules,
            warnings,
            otherwise,
            id_slot,
            tests,
            remedies,
            language: None,
            messages: Vec::new(),
        };
        (program.language, program.messages) = self.messages(policy, &program);
        program
    }

    /// `effective from T until U`, read in the policy's zone.
    fn effective(&mut self, decl: &syntax::EffectiveDecl) -> Option<Effective> {
        let from = self.test_time(&decl.from);
        let until = decl.until.as_ref().map(|u| (self.test_time(u), u.span));
        let from = from?;
        let until = match until {
            Some((Some(until), _)) if until > from => Some(until),
            Some((Some(_), span)) => {
                self.errors.push(CheckError::EffectiveUntil {
                    from: decl.from.span,
                    until: span,
                });
                return None;
            }
            Some((None, _)) => return None,
            None => None,
        };
        Some(Effective { from, until })
    }

    /// Finds the declarations that may be given once, reporting repeats.
    fn declarations<'p>(&mut self, policy: &'p syntax::Policy) -> Once<'p> {
        let mut once = Once::default();
        for item in &policy.items {
            let (what, span, repeated) = match item {
                Item::Version(v) => ("version", v.span, once.version.replace(v).map(|f| f.span)),
                Item::Effective(e) => (
                    "effective",
                    e.from.span,
                    once.effective.replace(e).map(|f| f.from.span),
                ),
                Item::Timezone(t) => (
                    "timezone",
                    t.name.span,
                    once.timezone.replace(t).map(|f| f.name.span),
                ),
                Item::FactsExpire(d) => (
                    "facts expire",
                    d.span,
                    once.facts_expire.replace(d).map(|f| f.span),
                ),
                Item::Outcomes(names) => {
                    let span = names.first().map_or(policy.name.span, |f| {
                        f.span.to(names.last().map_or(f.span, |l| l.span))
                    });
                    (
                        "outcomes",
                        span,
                        once.outcomes.replace((names, span)).map(|(_, s)| s),
                    )
                }
                Item::Input { name, fields } => (
                    "input",
                    name.span,
                    once.input.replace((name, fields)).map(|(n, _)| n.span),
                ),
                Item::Facts(fields) => {
                    let span = fields.first().map_or(policy.name.span, |f| f.name.span);
                    let first = once
                        .facts
                        .replace(fields)
                        .map(|f| f.first().map_or(policy.name.span, |f| f.name.span));
                    ("facts", span, first)
                }
                Item::Otherwise(call) => (
                    "otherwise",
                    call.outcome.span,
                    once.otherwise.replace(call).map(|c| c.outcome.span),
                ),
                Item::Language(l) => ("language", l.span, once.language.replace(l).map(|f| f.span)),
                Item::Library(_)
                | Item::Use(_)
                | Item::Let(_)
                | Item::Rule(_)
                | Item::Warning(_)
                | Item::Test(_)
                | Item::Remedy(_)
                | Item::Messages(_) => continue,
            };
            if let Some(first) = repeated {
                self.errors.push(CheckError::Repeated { what, span, first });
            }
        }
        once
    }

    fn time_zone(&mut self, name: &Spanned<String>) -> TimeZone {
        match TimeZone::get(&name.node) {
            Ok(tz) => tz,
            Err(_) => {
                let known: Vec<String> =
                    jiff::tz::db().available().map(|n| n.to_string()).collect();
                let help = suggest::help_for(&name.node, known.iter().map(String::as_str))
                    .unwrap_or_else(|| "write an IANA time zone name like `Asia/Shanghai`".into());
                self.errors.push(CheckError::TimeZone {
                    name: name.node.clone(),
                    span: name.span,
                    help,
                });
                TimeZone::UTC
            }
        }
    }

    /// Reports names declared twice.
    fn unique<'i>(&mut self, what: &'static str, names: impl Iterator<Item = &'i Ident>) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for name in names {
            if let Some(first) = seen.insert(&name.node, name.span) {
                self.errors.push(CheckError::Duplicate {
                    what,
                    name: name.node.clone(),
                    span: name.span,
                    first,
                });
            }
        }
    }

    fn record_type(&mut self, fields: &[syntax::FieldDecl]) -> RecordType {
        self.unique("field", fields.iter().map(|f| &f.name));
        for key in fields.iter().filter_map(|f| f.key.as_ref()) {
            if key.node.contains(['"', '\\']) || key.node.contains(char::is_control) {
                self.errors.push(CheckError::BadKey {
                    key: key.node.clone(),
                    span: key.span,
                });
            }
        }
        // Two fields may not read one key (only worth saying when a key is
        // written: names alone are unique already).
        if fields.iter().any(|f| f.key.is_some()) {
            let keys: Vec<&Spanned<String>> = fields
                .iter()
                .map(|f| f.key.as_ref().unwrap_or(&f.name))
                .collect();
            self.unique("data key", keys.into_iter());
        }
        RecordType {
            keys: (fields.iter().enumerate())
                .filter_map(|(slot, f)| Some((slot, f.key.as_ref()?.node.clone())))
                .collect(),
            fields: fields
                .iter()
                .map(|f| (f.name.node.clone(), self.type_expr(&f.ty)))
                .collect(),
            required: (fields.iter().enumerate())
                .filter(|(_, f)| f.required)
                .map(|(slot, _)| slot)
                .collect(),
            private: (fields.iter().enumerate())
                .filter(|(_, f)| f.private)
                .map(|(slot, _)| slot)
                .collect(),
            constraints: Vec::new(),
        }
    }

    fn type_expr(&mut self, ty: &Spanned<TypeExpr>) -> Type {
        match &ty.node {
            TypeExpr::Named(name) => match name.as_str() {
                "bool" => Type::Bool,
                "number" => Type::Number,
                "text" => Type::Text,
                "time" => Type::Time,
                "duration" => Type::Duration,
                "region" => Type::Region,
                _ => {
                    const TYPES: [&str; 6] =
                        ["bool", "number", "text", "time", "duration", "region"];
                    let help = suggest::help_for(name, TYPES).unwrap_or_else(|| {
                        "the types are `bool`, `number`, `text`, `time`, `duration`, `region`, \
                         `list of T`, `set of T`, `T?`, records `{ a: T }` and choices `\"a\" | \"b\"`"
                            .into()
                    });
                    self.errors.push(CheckError::UnknownType {
                        name: name.clone(),
                        span: ty.span,
                        help,
                    });
                    Type::Error
                }
            },
            TypeExpr::Enum(names) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for n in names {
                    if let Some(first) = seen.insert(&n.node, n.span) {
                        self.errors.push(CheckError::Duplicate {
                            what: "choice",
                            name: n.node.clone(),
                            span: n.span,
                            first,
                        });
                    }
                }
                Type::Enum(names.iter().map(|n| n.node.clone()).collect())
            }
            TypeExpr::Optional(inner) => match self.type_expr(inner) {
                Type::Optional(t) => Type::Optional(t),
                t => Type::Optional(Box::new(t)),
            },
            TypeExpr::List(inner) => Type::List(Box::new(self.type_expr(inner))),
            TypeExpr::Set(inner) => Type::Set(Box::new(self.type_expr(inner))),
            TypeExpr::Record(fields) => Type::Record(Arc::new(self.record_type(fields))),
            TypeExpr::Constrained { fields, requiring } => {
                let mut record = self.record_type(fields);
                if let Some(c) = self.constraint(&record, requiring) {
                    record.constraints.push(c);
                }
                Type::Record(Arc::new(record))
            }
        }
    }

    fn lets(&mut self, policy: &syntax::Policy) -> Vec<Let> {
        let decls: Vec<&syntax::LetDecl> = policy.lets().collect();
        self.unique("let", decls.iter().map(|l| &l.name));
        self.later_lets = decls
            .iter()
            .map(|l| (l.name.node.clone(), l.name.span))
            .collect();
        let mut lets = Vec::with_capacity(decls.len());
        for decl in decls {
            let value = self.expr(&decl.value);
            self.let_index
                .entry(decl.name.node.clone())
                .or_insert(self.lets.len());
            self.lets.push((decl.name.node.clone(), value.ty.clone()));
            self.moving_lets.push(self.moves_with_now(&value));
            lets.push(Let {
                name: decl.name.node.clone(),
                value,
            });
        }
        lets
    }

    fn outcome_call(
        &mut self,
        call: &syntax::OutcomeCall,
        outcomes: &[String],
        payload_uses: &mut Vec<(String, Type, Span)>,
    ) -> Outcome {
        let index = match outcomes.iter().position(|o| *o == call.outcome.node) {
            Some(i) => i,
            None => {
                if !outcomes.is_empty() {
                    let help =
                        suggest::help_for(&call.outcome.node, outcomes.iter().map(String::as_str))
                            .unwrap_or_else(|| {
                                format!("the outcomes are {}", quoted_list(outcomes))
                            });
                    self.errors.push(CheckError::UnknownOutcome {
                        name: call.outcome.node.clone(),
                        span: call.outcome.span,
                        help,
                    });
                }
                0
            }
        };
        self.unique("payload field", call.payload.iter().map(|(n, _)| n));
        self.payload_names(call);
        let mut payload = Vec::with_capacity(call.payload.len());
        for (name, value) in &call.payload {
            let value = self.expr(value);
            payload_uses.push((name.node.clone(), value.ty.clone(), value.span));
            payload.push((name.node.clone(), value));
        }
        Outcome { index, payload }
    }

    /// The type of each payload field: the one most places give it. Each
    /// place that gives another is reported once, pointing at where the
    /// expected type is given.
    fn payload_types(&mut self, uses: Vec<(String, Type, Span)>) -> HashMap<String, (Type, Span)> {
        /// Places whose types agree.
        type Group = Vec<(Type, Span)>;
        // For each field, its places grouped by agreeing types, in order.
        let mut fields: Vec<(String, Vec<Group>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (field, ty, span) in uses {
            let at = *index.entry(field.clone()).or_insert_with(|| {
                fields.push((field, Vec::new()));
                fields.len() - 1
            });
            let groups = &mut fields[at].1;
            match groups.iter_mut().find(|g| g[0].0.agrees(&ty)) {
                Some(group) => group.push((ty, span)),
                None => groups.push(vec![(ty, span)]),
            }
        }
        let mut types = HashMap::new();
        for (field, mut groups) in fields {
            // The most given type; among as many, the first given.
            let most = groups.iter().map(Vec::len).max().unwrap_or(0);
            let Some(at) = groups.iter().position(|g| g.len() == most) else {
                continue;
            };
            let expected = groups.remove(at);
            let (ty, why) = expected[0].clone();
            for (found, span) in groups.into_iter().flatten() {
                let others = match expected.len() {
                    1 => "another place gives it".to_owned(),
                    n => format!("{n} other places give it"),
                };
                self.errors.push(CheckError::Payload {
                    field: field.clone(),
                    found: found.to_string(),
                    expected: ty.to_string(),
                    help: format!(
                        "an outcome's payload field has one type: {others} a `{ty}`, so write a `{ty}` here too"
                    ),
                    span,
                    why,
                });
            }
            types.insert(field, (ty, why));
        }
        types
    }
}

/// `a`, `b` and `c`, each in backticks.
pub(crate) fn quoted_list(names: &[impl AsRef<str>]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.as_slice() {
        [] => "none".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
