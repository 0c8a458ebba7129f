//! The nodes of a plan.

use crate::check::ir::Builtin;
use crate::syntax::{BinaryOp, Quant, Span};
use crate::types::Type;
use crate::value::Value;

/// A node of a plan, by its place in the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(u32);

impl Id {
    pub(super) fn new(index: usize) -> Id {
        Id(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Its place in the arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// When a node's value is known: the stages are ordered, each node at the
/// latest stage of its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// A constant of the policy.
    Constant,
    /// The same for every person: computed from the facts.
    Facts,
    /// The same for every element of the `where`/`has` around it.
    Person,
    /// Read from an element bound by a `where`/`has`.
    Element,
}

/// A node: what it computes and what is known of it before it runs.
#[derive(Debug, Clone)]
pub struct Node {
    /// What it computes.
    pub op: Op,
    /// Its type.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
    /// When its value is known.
    pub stage: Stage,
    /// The name people call it by, when it is written as a name or a path
    /// of names (`outside`, `person.tests`: `tests`): what explanations
    /// show for a list, translated by the policy's messages.
    pub name: Option<Box<str>>,
}

/// What a node computes; children are node ids.
///
/// With a tag byte of its own (`repr(u8)`), which the evaluator's every
/// step reads with one load, rather than one folded into a list's
/// capacity, which takes a few instructions to decode; the size is the
/// same (32 bytes).
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum Op {
    /// A literal, already converted.
    Const(Value),
    /// `now`
    Now,
    /// The input record (`person`).
    Input,
    /// A fact, by slot.
    Fact(usize),
    /// A `let` (or a hidden one), by index.
    Let(usize),
    /// The element bound by an enclosing `where` or `has`; 0 is the outermost.
    Element(usize),
    /// A field of an enclosing element, `Field(Element(depth), slot)` in one
    /// node: the most common read.
    ElementField(usize, usize),
    /// A value that depends only on the facts, computed once per facts.
    Hoisted(usize),
    /// A record's field, by slot.
    Field(Id, usize),
    /// The same field of every record in a list: `phones.number`.
    Project(Id, usize),
    /// `not A`
    Not(Id),
    /// `-A`
    Neg(Id),
    /// `A and B`
    And(Id, Id),
    /// `A or B` on booleans
    Or(Id, Id),
    /// `A or B` where `A` is optional
    Coalesce(Id, Id),
    /// `A = B`, `A < B`, ...
    Compare(BinaryOp, Id, Id),
    /// `A + B`, ...
    Arith(BinaryOp, Id, Id),
    /// `A in L`, `A not in L`
    Member {
        /// `not in`
        negated: bool,
        /// The value looked for.
        value: Id,
        /// The list or set.
        collection: Id,
    },
    /// `R in province "110000"`
    InRegion {
        /// `not in`
        negated: bool,
        /// The region tested.
        inner: Id,
        /// The enclosing region.
        outer: Id,
    },
    /// `A is none`, `A is not none`
    IsNone {
        /// `is not none`
        negated: bool,
        /// The optional value.
        value: Id,
    },
    /// `T within W`
    Within(Id, Id),
    /// `I overlaps W`
    Overlaps(Id, Id),
    /// `[A, B]`, and `14d` used as a window
    Interval(Id, Id),
    /// `L where P`
    Where(Id, Id),
    /// `any L has P`, `no L`, ...
    Quantifier(Quant, Id, Option<Id>),
    /// `T + 6 months`: an instant moved on the calendar of the policy's
    /// zone.
    Shift(Id, crate::time::Period),
    /// `if C then A else B`
    If(Id, Id, Id),
    /// `latest of L by K` (`true`), `earliest of L by K`: `K` is read from
    /// each element
    Extreme(bool, Id, Id),
    /// A built-in function.
    Call(Builtin, Vec<Id>),
    /// `[a, b, c]`
    List(Vec<Id>),
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Op>() == 32);

/// The children of a node: up to three, or a list.
pub enum Children<'a> {
    /// Fixed ones, each with the binders it sits under beyond the node's.
    Few([Option<(Id, usize)>; 3]),
    /// The arguments of a call or the items of a list.
    Many(std::slice::Iter<'a, Id>),
}

impl Iterator for Children<'_> {
    type Item = (Id, usize);

    fn next(&mut self) -> Option<(Id, usize)> {
        match self {
            Children::Few(few) => few.iter_mut().find_map(Option::take),
            Children::Many(ids) => ids.next().map(|id| (*id, 0)),
        }
    }
}

impl Op {
    /// The direct children, each with the number of `where`/`has` binders
    /// it sits under beyond this node's (1 for a body, 0 otherwise).
    pub fn children(&self) -> Children<'_> {
        let few = |a: Option<(Id, usize)>, b| Children::Few([a, b, None]);
        match self {
            Op::Const(_)
            | Op::Now
            | Op::Input
            | Op::Fact(_)
            | Op::Let(_)
            | Op::Element(_)
            | Op::ElementField(..)
            | Op::Hoisted(_) => few(None, None),
            Op::Field(a, _)
            | Op::Project(a, _)
            | Op::Not(a)
            | Op::Neg(a)
            | Op::Shift(a, _)
            | Op::IsNone { value: a, .. }
            | Op::Quantifier(_, a, None) => few(Some((*a, 0)), None),
            Op::Where(a, b) | Op::Extreme(_, a, b) | Op::Quantifier(_, a, Some(b)) => {
                few(Some((*a, 0)), Some((*b, 1)))
            }
            Op::If(c, a, b) => Children::Few([Some((*c, 0)), Some((*a, 0)), Some((*b, 0))]),
            Op::And(a, b)
            | Op::Or(a, b)
            | Op::Coalesce(a, b)
            | Op::Compare(_, a, b)
            | Op::Arith(_, a, b)
            | Op::Within(a, b)
            | Op::Overlaps(a, b)
            | Op::Interval(a, b)
            | Op::Member {
                value: a,
                collection: b,
                ..
            }
            | Op::InRegion {
                inner: a, outer: b, ..
            } => few(Some((*a, 0)), Some((*b, 0))),
            Op::Call(_, args) | Op::List(args) => Children::Many(args.iter()),
        }
    }
}

/// What a root of a plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The value of `let` `i` (hidden ones included).
    Let(usize),
    /// Rule `i`'s condition.
    When(usize),
    /// Rule `i`'s exception.
    Unless(usize),
    /// Field `field` of rule `rule`'s payload (`None`: `otherwise`'s).
    Payload {
        /// The rule, none for `otherwise`.
        rule: Option<usize>,
        /// The field.
        field: usize,
    },
    /// Warning `i`'s condition.
    Warning(usize),
    /// Hoisted value `i`.
    Hoisted(usize),
    /// Constraint `i`'s condition (its record is element 0).
    Constraint(usize),
    /// A payload field a test block's expectation gives.
    Expected {
        /// The test block.
        test: usize,
        /// The expectation.
        expect: usize,
        /// The field.
        field: usize,
    },
}
