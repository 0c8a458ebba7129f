//! The checked program's expressions: every name resolved, every node typed.

use crate::syntax::{BinaryOp, Quant, Span};
use crate::types::Type;
use crate::value::Value;

/// A typed expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it computes.
    pub kind: ExprKind,
    /// Its type.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
}

/// The forms of a typed expression.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal, already converted (times to instants, enumeration strings
    /// to their index).
    Const(Value),
    /// `now`
    Now,
    /// The input record (`person`).
    Input,
    /// A fact, by slot.
    Fact(usize),
    /// A `let`, by index.
    Let(usize),
    /// The element bound by an enclosing `where` or `has`; 0 is the outermost.
    Element(usize),
    /// A record's field, by slot.
    Field(Box<Expr>, usize),
    /// The same field of every record in a list: `phones.number`.
    Project(Box<Expr>, usize),
    /// `not A`
    Not(Box<Expr>),
    /// `-A`
    Neg(Box<Expr>),
    /// `A and B`
    And(Box<Expr>, Box<Expr>),
    /// `A or B` on booleans
    Or(Box<Expr>, Box<Expr>),
    /// `A or B` where `A` is optional: `B` when `A` is none
    Coalesce(Box<Expr>, Box<Expr>),
    /// `A = B`, `A < B`, ...: one of the comparison operators
    Compare(BinaryOp, Box<Expr>, Box<Expr>),
    /// `A + B`, ...: one of the arithmetic operators, on checked types
    Arith(BinaryOp, Box<Expr>, Box<Expr>),
    /// `A in L`, `A not in L` for a list or a set
    Member {
        /// `not in`
        negated: bool,
        /// The value looked for (none is in nothing).
        value: Box<Expr>,
        /// The list or set.
        collection: Box<Expr>,
    },
    /// `R in province "110000"`: a region inside another
    InRegion {
        /// `not in`
        negated: bool,
        /// The region tested (none is inside nothing).
        inner: Box<Expr>,
        /// The enclosing region.
        outer: Box<Expr>,
    },
    /// `A is none`, `A is not none`
    IsNone {
        /// `is not none`
        negated: bool,
        /// The optional value.
        value: Box<Expr>,
    },
    /// `T within W`: an instant inside a closed interval
    Within(Box<Expr>, Box<Expr>),
    /// `I overlaps W`: two closed intervals share an instant
    Overlaps(Box<Expr>, Box<Expr>),
    /// `[A, B]`, and `14d` used as a window: `[now - 14d, now]`
    Interval(Box<Expr>, Box<Expr>),
    /// `L where P`
    Where(Box<Expr>, Box<Expr>),
    /// `any L has P`, `no L`, ...
    Quantifier(Quant, Box<Expr>, Option<Box<Expr>>),
    /// `T + 6 months`, `T - 1 year`: an instant moved on the calendar of
    /// the policy's zone (the period signed).
    Shift(Box<Expr>, crate::time::Period),
    /// `if C then A else B`
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `latest of L by K` (`true`), `earliest of L by K`: `K` is read from
    /// each element
    Extreme(bool, Box<Expr>, Box<Expr>),
    /// A built-in function.
    Call(Builtin, Vec<Expr>),
    /// `[a, b, c]`
    List(Vec<Expr>),
}

/// The built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `prefecture(region)`: the prefecture-level city, none if unknown
    Prefecture,
    /// `province(region)`: the province, none if unknown
    Province,
    /// `prefectures(regions)`: the set of their prefecture-level cities
    Prefectures,
    /// `provinces(regions)`: the set of their provinces
    Provinces,
    /// `count(list)`: how many elements
    Count,
    /// `age(birth)`: whole years from a birth to `now`, on the calendar
    Age,
    /// `start_of_day(time)`: the first instant of its local day
    StartOfDay,
    /// `date(text)`: a date, perhaps only a year or a year and month, as
    /// the last day it may be; none if the text is no such date
    Date,
    /// `A starts with B` on text
    StartsWith,
    /// `A ends with B` on text
    EndsWith,
    /// `A contains B` on text
    Contains,
    /// `length(text)`: how many characters
    Length,
    /// `lower(text)`: the text in lower case
    Lower,
    /// `min(list)`: the least element, none for an empty list
    Min,
    /// `max(list)`: the greatest element, none for an empty list
    Max,
    /// `sum(numbers)`: 0 for an empty list
    Sum,
    /// `sum(durations)`: 0s for an empty list
    SumDurations,
    /// `first(list)`: none for an empty list
    First,
    /// `last(list)`: none for an empty list
    Last,
    /// `distinct(list)`: the set of its elements
    Distinct,
    /// `element(list, n)`: the `n`th element, counted from 1; none when
    /// the list has fewer
    Element,
    /// `R is empty`: a record that gives none of its fields, or none
    Empty,
    /// `R is not empty`: a record that gives at least one of its fields
    NotEmpty,
}

impl Builtin {
    /// Every built-in with its name, for look-up and suggestions.
    pub const ALL: [(&'static str, Builtin); 8] = [
        ("prefecture", Builtin::Prefecture),
        ("province", Builtin::Province),
        ("prefectures", Builtin::Prefectures),
        ("provinces", Builtin::Provinces),
        ("count", Builtin::Count),
        ("age", Builtin::Age),
        ("start_of_day", Builtin::StartOfDay),
        ("date", Builtin::Date),
    ];

    /// The built-ins on text and the aggregates over lists, by name.
    pub const MORE: [(&'static str, Builtin); 9] = [
        ("length", Builtin::Length),
        ("lower", Builtin::Lower),
        ("min", Builtin::Min),
        ("max", Builtin::Max),
        ("sum", Builtin::Sum),
        ("first", Builtin::First),
        ("last", Builtin::Last),
        ("element", Builtin::Element),
        ("distinct", Builtin::Distinct),
    ];
}

/// The children of an expression kind.
macro_rules! children {
    ($kind:expr) => {
        match $kind {
            ExprKind::Const(_)
            | ExprKind::Now
            | ExprKind::Input
            | ExprKind::Fact(_)
            | ExprKind::Let(_)
            | ExprKind::Element(_) => Vec::new(),
            ExprKind::Field(a, _)
            | ExprKind::Project(a, _)
            | ExprKind::Not(a)
            | ExprKind::Neg(a)
            | ExprKind::Shift(a, _)
            | ExprKind::IsNone { value: a, .. }
            | ExprKind::Quantifier(_, a, None) => vec![(&**a, 0)],
            ExprKind::If(a, b, c) => vec![(&**a, 0), (&**b, 0), (&**c, 0)],
            ExprKind::Where(a, b)
            | ExprKind::Extreme(_, a, b)
            | ExprKind::Quantifier(_, a, Some(b)) => {
                vec![(&**a, 0), (&**b, 1)]
            }
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Coalesce(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::Arith(_, a, b)
            | ExprKind::Within(a, b)
            | ExprKind::Overlaps(a, b)
            | ExprKind::Interval(a, b)
            | ExprKind::Member {
                value: a,
                collection: b,
                ..
            }
            | ExprKind::InRegion {
                inner: a, outer: b, ..
            } => vec![(&**a, 0), (&**b, 0)],
            ExprKind::Call(_, args) | ExprKind::List(args) => {
                args.into_iter().map(|a| (a, 0)).collect()
            }
        }
    };
}

impl Expr {
    /// A node of type `ty` at `span`.
    pub fn new(kind: ExprKind, ty: Type, span: Span) -> Self {
        Expr { kind, ty, span }
    }

    /// The direct children, each with the number of `where`/`has` binders
    /// it sits under beyond this node's (1 for a body, 0 otherwise).
    pub fn children(&self) -> Vec<(&Expr, usize)> {
        children!(&self.kind)
    }
}
