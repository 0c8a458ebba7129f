//! The abstract syntax tree: what the author wrote, with a span on every node.

use std::fmt;

/// A byte range in the policy source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.end - span.start).into()
    }
}

/// A node with its place in the source; equality ignores the place, so tests
/// compare shapes.
#[derive(Clone)]
pub struct Spanned<T> {
    /// The node.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps `node` with its span.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}..{} ", self.span.start, self.span.end)?;
        self.node.fmt(f)
    }
}

/// A name written by the author.
pub type Ident = Spanned<String>;

/// A whole `.policy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `policy NAME`
    pub name: Ident,
    /// `policy NAME "title"`
    pub title: Option<Spanned<String>>,
    /// Everything after the header, in source order.
    pub items: Vec<Item>,
}

impl Policy {
    /// The `let`s, in source order.
    pub fn lets(&self) -> impl Iterator<Item = &LetDecl> {
        self.items.iter().filter_map(|i| match i {
            Item::Let(l) => Some(l),
            _ => None,
        })
    }

    /// The rules, in source order.
    pub fn rules(&self) -> impl Iterator<Item = &RuleDecl> {
        self.items.iter().filter_map(|i| match i {
            Item::Rule(r) => Some(r),
            _ => None,
        })
    }

    /// The remedies, in source order.
    pub fn remedies(&self) -> impl Iterator<Item = &RemedyDecl> {
        self.items.iter().filter_map(|i| match i {
            Item::Remedy(r) => Some(r),
            _ => None,
        })
    }

    /// Whether the file is a library (`library NAME`), not a policy.
    pub fn is_library(&self) -> bool {
        matches!(self.items.first(), Some(Item::Library(_)))
    }

    /// The files it uses (`use "..."`), in source order.
    pub fn uses(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.items.iter().filter_map(|i| match i {
            Item::Use(u) => Some(u),
            _ => None,
        })
    }

    /// The tests, in source order.
    pub fn tests(&self) -> impl Iterator<Item = &TestDecl> {
        self.items.iter().filter_map(|i| match i {
            Item::Test(t) => Some(t),
            _ => None,
        })
    }
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The header said `library` rather than `policy`: a file of shared
    /// definitions, with no rules of its own (always the first item; the
    /// span is the word).
    Library(Span),
    /// `use "beijing-common.policy"`: the path, as written.
    Use(Spanned<String>),
    /// `version "2021-10-30"`
    Version(Spanned<String>),
    /// `timezone "Asia/Shanghai"`, `timezone "Europe/Paris" resolving gaps later`
    Timezone(TimezoneDecl),
    /// `effective from 2021-10-30T00:00 until 2021-12-01T00:00`
    Effective(EffectiveDecl),
    /// `outcomes green < popup`
    Outcomes(Vec<Ident>),
    /// `input person { ... }`
    Input {
        /// The name the input is known by in expressions.
        name: Ident,
        /// Its fields.
        fields: Vec<FieldDecl>,
    },
    /// `facts { ... }`
    Facts(Vec<FieldDecl>),
    /// `facts expire 36h after as_of`: the duration, in seconds
    FactsExpire(Spanned<i64>),
    /// `let NAME = EXPR`
    Let(LetDecl),
    /// `rule NAME "title" when EXPR unless EXPR then OUTCOME(...)`
    Rule(RuleDecl),
    /// `warning NAME "message" when EXPR`
    Warning(WarningDecl),
    /// `otherwise OUTCOME(...)`
    Otherwise(OutcomeCall),
    /// `test "name" { ... }`
    Test(TestDecl),
    /// `remedy "title" adds LIST { ... }`
    Remedy(RemedyDecl),
    /// `language "zh"`
    Language(Spanned<String>),
    /// `messages "en" { ... }`
    Messages(MessagesDecl),
}

/// `effective from 2021-10-30T00:00 until 2021-12-01T00:00`: when this
/// version of the policy is in force; the times as written.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveDecl {
    /// The first instant it is in force.
    pub from: Spanned<String>,
    /// The first instant it no longer is, if known.
    pub until: Option<Spanned<String>>,
}

/// `timezone "Europe/Paris" resolving gaps later, folds earlier`
#[derive(Debug, Clone, PartialEq)]
pub struct TimezoneDecl {
    /// The IANA name.
    pub name: Spanned<String>,
    /// How local times that the zone skips or repeats are read, as written.
    pub resolving: Vec<Resolution>,
}

/// `gaps later`: one case of local time and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// `gaps` or `folds`.
    pub case: Spanned<LocalCase>,
    /// `earlier` or `later`.
    pub side: crate::time::Side,
}

/// Local times a zone's clocks do not show exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalCase {
    /// `gaps`: skipped when the clocks go forward
    Gaps,
    /// `folds`: repeated when the clocks go back
    Folds,
}

/// `messages "en" { ... }`: the policy's texts in one language.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesDecl {
    /// The language tag, like `en` or `zh-Hant`.
    pub language: Spanned<String>,
    /// The entries, in source order.
    pub entries: Vec<Message>,
}

/// One entry of a `messages` block: what it translates, and the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// What it gives the text of.
    pub key: Spanned<MessageKey>,
    /// The text in the block's language.
    pub text: Spanned<String>,
}

/// What a message gives the text of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageKey {
    /// `policy`: the policy's title
    Policy,
    /// `outcome NAME`
    Outcome(String),
    /// `rule NAME`: the rule's title
    Rule(String),
    /// `warning NAME`: the warning's message
    Warning(String),
    /// `name NAME`: a field, an input, a fact or a `let`, as a person
    /// reads it
    Name(String),
    /// `remedy "title"`
    Remedy(String),
    /// `text "..."`: a string of the policy (a payload text, a choice)
    Text(String),
}

impl MessageKey {
    /// The key as its author writes it: `rule county_exposure`, `text "请..."`.
    pub fn written(&self) -> String {
        match self {
            MessageKey::Policy => "policy".into(),
            MessageKey::Outcome(n) => format!("outcome {n}"),
            MessageKey::Rule(n) => format!("rule {n}"),
            MessageKey::Warning(n) => format!("warning {n}"),
            MessageKey::Name(n) => format!("name {n}"),
            MessageKey::Remedy(t) => format!("remedy {t:?}"),
            MessageKey::Text(t) => format!("text {t:?}"),
        }
    }
}

/// `remedy "take a nucleic-acid test" adds tests { sampled_at: now, result: "negative" }`:
/// something a person can do, as a record it would add to one of their lists.
#[derive(Debug, Clone, PartialEq)]
pub struct RemedyDecl {
    /// What the person would do, for people.
    pub title: Spanned<String>,
    /// The list of the input it adds to.
    pub list: Ident,
    /// The record it adds; `now` stands for the instant of the decision.
    pub record: Spanned<Data>,
}

/// `test "name" { now ... person { ... } expect ... }`
#[derive(Debug, Clone, PartialEq)]
pub struct TestDecl {
    /// What the test is about.
    pub name: Spanned<String>,
    /// Its steps, in source order.
    pub steps: Vec<TestStep>,
}

/// One line of a test.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStep {
    /// `now 2021-11-01T10:00+08:00`
    Now(Spanned<String>),
    /// `facts { ... }`
    Facts(Spanned<Data>),
    /// `person { ... }`, named like the policy's input
    Input(Ident, Spanned<Data>),
    /// `expect [at TIME] OUTCOME(...)` or `expect [at TIME] rules a, b`
    Expect(Spanned<ExpectStep>),
}

/// `expect [at TIME] ...`
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectStep {
    /// `at TIME`: decide at another instant.
    pub at: Option<Spanned<String>>,
    /// What is expected.
    pub what: Expectation,
}

/// What a test expects of a decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    /// `popup(kind: "test_required")`: the outcome and these payload fields
    Outcome(OutcomeCall),
    /// `rules a, b`: exactly these rules fire
    Rules(Vec<Ident>),
}

/// Data written in the language, for tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `{ a: ..., b: ... }`
    Record(Vec<(Ident, Spanned<Data>)>),
    /// `[..., ...]`
    List(Vec<Spanned<Data>>),
    /// `"text"`
    Text(String),
    /// `18`, `-0.5`
    Number(f64),
    /// `true`, `false`
    Bool(bool),
    /// `2021-10-25`, as written
    Time(String),
    /// `48h`, in seconds
    Duration(i64),
    /// `county "130102"`
    Region(RegionLevel, String),
    /// `none`
    None,
    /// `now`: the instant of the decision (in a remedy) or of the test
    Now,
}

/// `name: type` inside a record type.
#[derive(Clone, PartialEq)]
pub struct FieldDecl {
    /// The field's name.
    pub name: Ident,
    /// `name from "key": T`: the data's key, when it is not the name.
    pub key: Option<Spanned<String>>,
    /// Its declared type.
    pub ty: Spanned<TypeExpr>,
    /// `required name: T`: the data must give it (for facts: one of the
    /// files), even when it is a list or optional.
    pub required: bool,
    /// `private name: T`: personal data, masked where decisions are
    /// logged.
    pub private: bool,
}

/// As derived, but for a `key` left out when there is none.
impl fmt::Debug for FieldDecl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("FieldDecl");
        s.field("name", &self.name);
        if let Some(key) = &self.key {
            s.field("key", key);
        }
        s.field("ty", &self.ty)
            .field("required", &self.required)
            .field("private", &self.private)
            .finish()
    }
}

/// A type as written.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `text`, `bool`, `number`, `time`, `duration`, `region`
    Named(String),
    /// `"negative" | "positive"`
    Enum(Vec<Spanned<String>>),
    /// `T?`
    Optional(Box<Spanned<TypeExpr>>),
    /// `list of T`
    List(Box<Spanned<TypeExpr>>),
    /// `set of T`
    Set(Box<Spanned<TypeExpr>>),
    /// `{ a: T, b: U }`
    Record(Vec<FieldDecl>),
    /// `{ from: time, to: time? } requiring to is none or to >= from`
    Constrained {
        /// The record's fields.
        fields: Vec<FieldDecl>,
        /// What every record of the type must satisfy.
        requiring: Box<Spanned<Expr>>,
    },
}

/// `let NAME = EXPR`
#[derive(Debug, Clone, PartialEq)]
pub struct LetDecl {
    /// The bound name.
    pub name: Ident,
    /// Its definition.
    pub value: Spanned<Expr>,
}

/// `rule NAME [code "..."] "title" when EXPR [unless EXPR] then OUTCOME(...)`
#[derive(Clone, PartialEq)]
pub struct RuleDecl {
    /// The rule's name, reported in decisions.
    pub name: Ident,
    /// `code "VR-AT-0001"`: its code in the authority's list, reported
    /// beside the name.
    pub code: Option<Spanned<String>>,
    /// A title for people.
    pub title: Option<Spanned<String>>,
    /// `when EXPR`
    pub when: Spanned<Expr>,
    /// `unless EXPR`
    pub unless: Option<Spanned<Expr>>,
    /// `then OUTCOME(...)`
    pub then: OutcomeCall,
}

/// As derived, but for a `code` left out when there is none.
impl fmt::Debug for RuleDecl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("RuleDecl");
        s.field("name", &self.name);
        if let Some(code) = &self.code {
            s.field("code", code);
        }
        s.field("title", &self.title)
            .field("when", &self.when)
            .field("unless", &self.unless)
            .field("then", &self.then)
            .finish()
    }
}

/// `warning NAME "message" when EXPR`
#[derive(Debug, Clone, PartialEq)]
pub struct WarningDecl {
    /// The warning's name.
    pub name: Ident,
    /// What the warning says.
    pub message: Spanned<String>,
    /// When it is given.
    pub when: Spanned<Expr>,
}

/// `popup(kind: "test_required", message: "...")`
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeCall {
    /// The outcome's name.
    pub outcome: Ident,
    /// Payload fields, in source order.
    pub payload: Vec<(Ident, Spanned<Expr>)>,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `true`, `false`
    Bool(bool),
    /// `42`, `0.5`
    Number(f64),
    /// `"text"`
    Text(String),
    /// `14d`, `48h`, `1d12h`: the length in seconds
    Duration(i64),
    /// `2021-11-01T10:00+08:00`, `2021-10-25`: as written
    Time(String),
    /// `14 days`, `6 months`, `18 years`: a calendar duration
    Calendar(crate::time::Period),
    /// `province "110000"`
    Region(RegionLevel, String),
    /// `now`
    Now,
    /// `it`: the element in a `where` or `has` body
    It,
    /// A name: a `let`, a fact, the input, or a field of the current element.
    Name(String),
    /// `EXPR.field`
    Field(Box<Spanned<Expr>>, Ident),
    /// `f(a, b)`
    Call(Ident, Vec<Spanned<Expr>>),
    /// `not EXPR`, `-EXPR`
    Unary(UnaryOp, Box<Spanned<Expr>>),
    /// `A op B`
    Binary(BinaryOp, Box<Spanned<Expr>>, Box<Spanned<Expr>>),
    /// `EXPR is none` (`negated`: `is not none`)
    IsNone {
        /// The optional value tested.
        value: Box<Spanned<Expr>>,
        /// `is not none`
        negated: bool,
    },
    /// `EXPR is empty` (`negated`: `is not empty`): a record that gives
    /// none of its fields, or none
    IsEmpty {
        /// The record tested.
        value: Box<Spanned<Expr>>,
        /// `is not empty`
        negated: bool,
    },
    /// `any L has P`, `all L has P`, `no L has P`, `any L`, `any t in L has P`
    Quantifier {
        /// Which quantifier.
        quant: Quant,
        /// `any t in L`: the element's name.
        binder: Option<Ident>,
        /// The list or set ranged over.
        subject: Box<Spanned<Expr>>,
        /// The condition on each element, if any.
        body: Option<Box<Spanned<Expr>>>,
    },
    /// `[a, b]`: an interval where one is expected, otherwise a list
    Bracket(Vec<Spanned<Expr>>),
    /// `if C then A else B`: `A` when `C` holds, `B` otherwise
    If {
        /// The condition.
        guard: Box<Spanned<Expr>>,
        /// The value when it holds.
        then: Box<Spanned<Expr>>,
        /// The value when it does not.
        otherwise: Box<Spanned<Expr>>,
    },
    /// `latest of L by F`, `earliest of L by F`: the element of `L` whose
    /// `F` (read from the element, as after `has`) is greatest or least
    Extreme {
        /// `latest` (the greatest) or `earliest` (the least).
        latest: bool,
        /// The list or set.
        list: Box<Spanned<Expr>>,
        /// What orders the elements.
        key: Box<Spanned<Expr>>,
    },
    /// `L where P`, `L where s has P`: the elements of `L` for which `P`
    /// holds
    Where {
        /// The list or set filtered.
        list: Box<Spanned<Expr>>,
        /// `where s has`: the element's name.
        binder: Option<Ident>,
        /// The condition on each element.
        condition: Box<Spanned<Expr>>,
    },
}

/// A region literal's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionLevel {
    /// `province "110000"`
    Province,
    /// `prefecture "620100"`
    Prefecture,
    /// `county "620103"`
    County,
}

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// A quantifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    /// `any`: at least one element
    Any,
    /// `all`: every element
    All,
    /// `no`: not a single element
    No,
}

/// An infix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `or`: logical or, or a default for an optional value
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `within`
    Within,
    /// `overlaps`
    Overlaps,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `starts with`: text that begins with another
    StartsWith,
    /// `ends with`: text that ends with another
    EndsWith,
    /// `contains`: text with another inside it
    Contains,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Within => "within",
            BinaryOp::Overlaps => "overlaps",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::StartsWith => "starts with",
            BinaryOp::EndsWith => "ends with",
            BinaryOp::Contains => "contains",
        }
    }
}

impl Quant {
    /// The quantifier as written.
    pub fn keyword(self) -> &'static str {
        match self {
            Quant::Any => "any",
            Quant::All => "all",
            Quant::No => "no",
        }
    }
}

/// Whether `text` is one parenthesised whole: `(a or b)`, not `(a) or (b)`.
pub fn enclosed(text: &str) -> bool {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1 == text.len() && text.starts_with('(');
                }
            }
            _ if depth == 0 => return false,
            _ => {}
        }
    }
    false
}

/// `text` without the parentheses that enclose all of it: `((a or b))`
/// gives `a or b`.
pub fn without_parens(mut text: &str) -> &str {
    while enclosed(text) {
        text = text[1..text.len() - 1].trim();
    }
    text
}

#[cfg(test)]
mod paren_tests {
    use super::{enclosed, without_parens};

    #[test]
    fn one_parenthesised_whole() {
        assert!(enclosed("(a or b)"));
        assert!(enclosed("((a) or b)"));
        assert!(!enclosed("(a) or (b)"));
        assert!(!enclosed("a or b"));
        assert!(!enclosed("count(x) > 1"));
        assert!(!enclosed("(a"));
        assert_eq!(without_parens("(( a or b ))"), "a or b");
        assert_eq!(without_parens("(a) or (b)"), "(a) or (b)");
    }
}
