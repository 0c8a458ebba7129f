//! The constraints of a schema's records (`requiring ...`), checked on
//! decoded data: a record that breaks one is bad input, named by its JSON
//! path, like a value of the wrong type.
//!
//! The common shapes (`to is none or to >= from`, a comparison of two
//! fields or of a field and a constant, `kind in ["a", "b"]`, and `and`,
//! `or`, `not` of these) are compiled once into tests that read the
//! record's slots straight; anything else is answered by the one
//! evaluator, as it answers any condition.

use super::expr::{compare, ordered};
use super::{Evaluator, Facts};
use crate::compile::{Id, Op, Plan};
use crate::data::DataError;
use crate::data::path::Path;
use crate::syntax::BinaryOp;
use crate::types::{RecordType, Type};
use crate::value::Value;

/// Checks every record of `value` (of type `schema`) against its type's
/// constraints. Only the parts of the schema that hold constraints are
/// walked, and nothing is allocated unless a record breaks one.
pub(crate) fn check(plan: &Plan, value: &Value, schema: &RecordType) -> Result<(), DataError> {
    Checks::new(plan, schema).run(plan, value)
}

/// The constraints of a schema, compiled: what [`check`] runs, made once
/// per policy for its input schema.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checks {
    /// The checks of the schema's record; `None` when nothing in it is
    /// constrained.
    root: Option<RecordChecks>,
    /// Whether a test needs the evaluator.
    evaluator: bool,
}

/// The checks of one record type.
#[derive(Debug, Clone)]
struct RecordChecks {
    /// Its own constraints, in the schema's order: the text as written and
    /// the test.
    own: Vec<(Box<str>, Test)>,
    /// The fields that hold constrained records, in slot order: slot, the
    /// name its path shows, and how to reach the records.
    fields: Vec<(usize, Box<str>, Walk)>,
}

/// How the constrained records of a field's value are reached.
#[derive(Debug, Clone)]
enum Walk {
    /// The value is a record (or none).
    Record(Box<RecordChecks>),
    /// Each element of a list or a set.
    Each(Box<Walk>),
}

/// A constraint's condition, compiled.
#[derive(Debug, Clone)]
enum Test {
    /// A field that is a boolean.
    Truthy(usize),
    /// `f is none`, `f is not none`.
    IsNone {
        slot: usize,
        negated: bool,
    },
    /// `a < b`, `a = "x"`, ...
    Compare(BinaryOp, Leaf, Leaf),
    /// `f is none or a < b` (`to is none or to >= from`): the commonest
    /// constraint of an interval's records, answered without the two
    /// boxed sides of an `or`.
    NoneOrCompare {
        /// The slot of `f`.
        slot: usize,
        /// The comparison.
        op: BinaryOp,
        /// Its operands.
        sides: Box<(Leaf, Leaf)>,
    },
    /// `f in [...]`, `f not in [...]` with constant elements: sorted, once.
    Member {
        negated: bool,
        slot: usize,
        items: Box<[Value]>,
    },
    And(Box<Test>, Box<Test>),
    Or(Box<Test>, Box<Test>),
    Not(Box<Test>),
    /// Anything else: the evaluator, with the record as the element.
    Eval(Id),
}

/// An operand of a compiled comparison.
#[derive(Debug, Clone)]
enum Leaf {
    /// A field of the record, by slot.
    Field(usize),
    /// A constant.
    Const(Value),
}

static NONE: Value = Value::None;

impl Checks {
    /// The checks of `schema`'s records, compiled from `plan`.
    pub(crate) fn new(plan: &Plan, schema: &RecordType) -> Checks {
        let mut evaluator = false;
        let root = schema
            .is_constrained()
            .then(|| RecordChecks::new(plan, schema, &mut evaluator));
        Checks { root, evaluator }
    }

    /// Checks every record of `value` (of the schema they were made for)
    /// against its type's constraints.
    pub(crate) fn run(&self, plan: &Plan, value: &Value) -> Result<(), DataError> {
        let Some(root) = &self.root else {
            return Ok(());
        };
        if !self.evaluator {
            return root.run(None, value, &Path::Root);
        }
        let facts = Facts::none();
        let none = Value::None;
        let evaluator = Evaluator::bare(plan, &facts, &none, 0);
        root.run(Some(&evaluator), value, &Path::Root)
    }
}

impl RecordChecks {
    fn new(plan: &Plan, schema: &RecordType, evaluator: &mut bool) -> RecordChecks {
        let own = (schema.constraints.iter())
            .filter_map(|c| {
                let id = plan.constraints.get(c.id).copied().flatten()?;
                Some((c.text.as_str().into(), Test::new(plan, id, evaluator)))
            })
            .collect();
        let fields = (schema.fields.iter().enumerate())
            .filter(|(_, (_, ty))| ty.is_constrained())
            .filter_map(|(slot, (name, ty))| {
                Some((slot, name.as_str().into(), Walk::new(plan, ty, evaluator)?))
            })
            .collect();
        RecordChecks { own, fields }
    }

    fn run(
        &self,
        ev: Option<&Evaluator<'_, '_>>,
        value: &Value,
        path: &Path<'_>,
    ) -> Result<(), DataError> {
        let Value::Record(fields) = value else {
            return Ok(());
        };
        if let Some(text) = self.broken(ev, value, fields) {
            return Err(broken(path, text));
        }
        for (slot, name, walk) in &self.fields {
            let v = fields.get(*slot).unwrap_or(&NONE);
            walk.run(ev, v, &Path::Field(path, name))?;
        }
        Ok(())
    }

    /// The first of its own constraints the record `value` breaks.
    #[inline]
    fn broken(
        &self,
        ev: Option<&Evaluator<'_, '_>>,
        value: &Value,
        fields: &[Value],
    ) -> Option<&str> {
        (self.own.iter())
            .find(|(_, t)| !t.passes(ev, value, fields))
            .map(|(text, _)| &**text)
    }
}

/// The error of a record at `path` that breaks `requiring {text}`.
#[cold]
fn broken(path: &Path<'_>, text: &str) -> DataError {
    DataError {
        message: format!("{}: breaks `requiring {text}`", path.quoted()),
        line: None,
        column: None,
    }
}

impl Walk {
    /// How to reach the constrained records of a value of type `ty`;
    /// `None` when it holds none.
    fn new(plan: &Plan, ty: &Type, evaluator: &mut bool) -> Option<Walk> {
        match ty {
            Type::Optional(inner) => Walk::new(plan, inner, evaluator),
            Type::Record(r) => Some(Walk::Record(Box::new(RecordChecks::new(
                plan, r, evaluator,
            )))),
            Type::List(inner) | Type::Set(inner) => {
                Some(Walk::Each(Box::new(Walk::new(plan, inner, evaluator)?)))
            }
            _ => None,
        }
    }

    fn run(
        &self,
        ev: Option<&Evaluator<'_, '_>>,
        value: &Value,
        path: &Path<'_>,
    ) -> Result<(), DataError> {
        match self {
            Walk::Record(r) => r.run(ev, value, path),
            // The commonest case, a list of records without constrained
            // fields of their own, without a call or a path per element.
            Walk::Each(inner) => match &**inner {
                Walk::Record(r) if r.fields.is_empty() => {
                    for (i, item) in value.elements().iter().enumerate() {
                        if let Value::Record(fields) = item
                            && let Some(text) = r.broken(ev, item, fields)
                        {
                            return Err(broken(&Path::Index(path, i), text));
                        }
                    }
                    Ok(())
                }
                _ => (value.elements().iter().enumerate())
                    .try_for_each(|(i, item)| inner.run(ev, item, &Path::Index(path, i))),
            },
        }
    }
}

impl Test {
    /// The test of the condition `id`, whose element is the record.
    fn new(plan: &Plan, id: Id, evaluator: &mut bool) -> Test {
        let field = |e: Id| match plan.op(e) {
            Op::ElementField(0, slot) => Some(*slot),
            _ => None,
        };
        let leaf = |e: Id| match plan.op(e) {
            Op::ElementField(0, slot) => Some(Leaf::Field(*slot)),
            Op::Const(v) => Some(Leaf::Const(v.clone())),
            _ => None,
        };
        let mut sub = |e: Id| Box::new(Test::new(plan, e, evaluator));
        let test = match *plan.op(id) {
            Op::And(a, b) => Some(Test::And(sub(a), sub(b))),
            Op::Or(a, b) => match (*sub(a), *sub(b)) {
                (
                    Test::IsNone {
                        slot,
                        negated: false,
                    },
                    Test::Compare(op, x, y),
                ) => Some(Test::NoneOrCompare {
                    slot,
                    op,
                    sides: Box::new((x, y)),
                }),
                (a, b) => Some(Test::Or(Box::new(a), Box::new(b))),
            },
            Op::Not(a) => Some(Test::Not(sub(a))),
            Op::ElementField(0, slot) => Some(Test::Truthy(slot)),
            Op::IsNone { negated, value } => {
                field(value).map(|slot| Test::IsNone { slot, negated })
            }
            Op::Compare(op, a, b) => leaf(a).zip(leaf(b)).map(|(a, b)| Test::Compare(op, a, b)),
            Op::Member {
                negated,
                value,
                collection,
            } => field(value)
                .zip(constants(plan, collection))
                .map(|(slot, items)| Test::Member {
                    negated,
                    slot,
                    items,
                }),
            _ => None,
        };
        test.unwrap_or_else(|| {
            *evaluator = true;
            Test::Eval(id)
        })
    }

    /// [`Test::holds`], with the commonest constraint (`to is none or
    /// to >= from`) answered in the loop over the records, without a call.
    #[inline(always)]
    fn passes(&self, ev: Option<&Evaluator<'_, '_>>, value: &Value, fields: &[Value]) -> bool {
        match self {
            Test::NoneOrCompare { slot, op, sides } => match fields.get(*slot) {
                None | Some(Value::None) => true,
                Some(_) => compared(*op, &sides.0, &sides.1, fields),
            },
            _ => self.holds(ev, value, fields),
        }
    }

    /// Whether the record `value`, whose fields are `fields`, passes.
    fn holds(&self, ev: Option<&Evaluator<'_, '_>>, value: &Value, fields: &[Value]) -> bool {
        match self {
            Test::NoneOrCompare { .. } => self.passes(ev, value, fields),
            Test::And(a, b) => a.side(ev, value, fields) && b.side(ev, value, fields),
            Test::Or(a, b) => a.side(ev, value, fields) || b.side(ev, value, fields),
            Test::Not(a) => !a.holds(ev, value, fields),
            leaf => leaf.side(ev, value, fields),
        }
    }

    /// [`Test::holds`], with the tests of fields answered without a call.
    #[inline(always)]
    fn side(&self, ev: Option<&Evaluator<'_, '_>>, value: &Value, fields: &[Value]) -> bool {
        let slot = |s: &usize| fields.get(*s).unwrap_or(&NONE);
        match self {
            Test::Truthy(s) => slot(s).truthy(),
            Test::IsNone { slot: s, negated } => matches!(slot(s), Value::None) != *negated,
            Test::Compare(op, a, b) => compared(*op, a, b, fields),
            Test::Member {
                negated,
                slot: s,
                items,
            } => {
                let v = slot(s);
                let found = !matches!(v, Value::None) && items.binary_search(v).is_ok();
                found != *negated
            }
            // `Checks::new` made an evaluator for every test that needs one.
            Test::Eval(id) => ev.is_some_and(|ev| ev.holds_for(value, *id)),
            composite => composite.holds(ev, value, fields),
        }
    }
}

/// Whether `a op b` holds of the record whose fields are `fields`: two
/// instants (`to >= from`) compared without a call.
#[inline(always)]
fn compared(op: BinaryOp, a: &Leaf, b: &Leaf, fields: &[Value]) -> bool {
    match (a.value(fields), b.value(fields)) {
        (Value::Time(x), Value::Time(y)) => ordered(op, x.cmp(y)),
        (x, y) => compare(op, x, y),
    }
}

impl Leaf {
    #[inline(always)]
    fn value<'a>(&'a self, fields: &'a [Value]) -> &'a Value {
        match self {
            Leaf::Field(s) => fields.get(*s).unwrap_or(&NONE),
            Leaf::Const(v) => v,
        }
    }
}

/// The elements of a constant list or set, or of a list written of
/// constants, sorted and without duplicates (membership is equality with
/// an element, and the order of values agrees with their equality).
fn constants(plan: &Plan, e: Id) -> Option<Box<[Value]>> {
    let mut items = match plan.op(e) {
        Op::Const(Value::List(items) | Value::Set(items)) => items.to_vec(),
        Op::List(ids) => (ids.iter())
            .map(|id| match plan.op(*id) {
                Op::Const(v) => Some(v.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    Value::as_set(&mut items);
    Some(items.into())
}

#[cfg(test)]
mod tests {
    use super::{Checks, Evaluator, Test};
    use crate::eval::tests::compiled;
    use crate::types::Type;
    use crate::value::Value;

    /// A constraint of each shape: compiled (`is none`, comparisons,
    /// membership, `and`/`or`/`not`), through the evaluator (`count`),
    /// and one on records nested in a list's records.
    const SHAPES: &str = r#"
policy shapes
timezone "Asia/Shanghai"
outcomes green < popup
input person {
  stays: list of { from: time, to: time? }
    requiring to is none or to >= from
  tests: list of { result: text, n: number }
    requiring result in ["negative", "positive"] and not (n < 0)
  visits: list of { done: bool, tags: list of text }
    requiring done or count(tags) > 1
  trips: list of { legs: list of { a: number, b: number } requiring a <= b }
}
otherwise green
"#;

    #[test]
    fn each_shape_passes_and_breaks_as_the_evaluator_says() {
        let p = compiled("shapes.policy", SHAPES);
        let plan = p.plan();
        let checks = Checks::new(plan, &plan.program.input);
        assert!(
            checks.evaluator,
            "`count(tags) > 1` is left to the evaluator"
        );
        let own = |field: usize| match checks.root.as_ref().map(|r| &r.fields[field].2) {
            Some(super::Walk::Each(inner)) => match &**inner {
                super::Walk::Record(r) => r.own.first().map(|(_, t)| t.clone()),
                super::Walk::Each(_) => None,
            },
            _ => None,
        };
        assert!(
            matches!(own(0), Some(Test::NoneOrCompare { .. })),
            "{:?}",
            own(0)
        );
        assert!(matches!(own(1), Some(Test::And(..))), "{:?}", own(1));
        assert!(matches!(own(2), Some(Test::Or(..))), "{:?}", own(2));
        let t = |d: u32| format!("\"2021-10-{d:02}T00:00:00+08:00\"");
        let cases = [
            (format!(r#"{{"stays": [{{"from": {}}}, {{"from": {}, "to": {}}}]}}"#, t(1), t(2), t(2)), None),
            (format!(r#"{{"stays": [{{"from": {}, "to": {}}}]}}"#, t(3), t(2)), Some("`stays[0]`: breaks `requiring to is none or to >= from`")),
            (r#"{"tests": [{"result": "negative", "n": 0}, {"result": "pending", "n": 1}]}"#.into(), Some("`tests[1]`: breaks `requiring result in [\"negative\", \"positive\"] and not (n < 0)`")),
            (r#"{"tests": [{"result": "positive", "n": -1}]}"#.into(), Some("`tests[0]`: breaks `requiring result in [\"negative\", \"positive\"] and not (n < 0)`")),
            (r#"{"visits": [{"done": true, "tags": []}, {"done": false, "tags": ["a", "b"]}]}"#.into(), None),
            (r#"{"visits": [{"done": false, "tags": ["a"]}]}"#.into(), Some("`visits[0]`: breaks `requiring done or count(tags) > 1`")),
            (r#"{"trips": [{"legs": [{"a": 1, "b": 1}]}, {"legs": [{"a": 0, "b": 1}, {"a": 2, "b": 1}]}]}"#.into(), Some("`trips[1].legs[1]`: breaks `requiring a <= b`")),
        ];
        for (person, expected) in cases {
            let decoded = p.read_json(&person).unwrap_or_else(|e| unreachable!("{e}"));
            let broken = checks.run(plan, &decoded.value).err().map(|e| e.message);
            assert_eq!(broken.as_deref(), expected, "{person}");
            // The evaluator says the same of every record of the lists.
            let (facts, none) = (crate::eval::Facts::none(), Value::None);
            let ev = Evaluator::bare(plan, &facts, &none, 0);
            let Value::Record(fields) = &decoded.value else {
                unreachable!("a person is a record")
            };
            for (field, (_, ty)) in plan.program.input.fields.iter().enumerate().take(3) {
                let Some(Type::Record(r)) = ty.element() else {
                    unreachable!("{ty}")
                };
                let id = r.constraints.first().and_then(|c| plan.constraints[c.id]);
                let (Some(id), Some(test)) = (id, own(field)) else {
                    unreachable!("{field}")
                };
                for item in fields[field].elements() {
                    let Value::Record(slots) = item else {
                        unreachable!("{item:?}")
                    };
                    assert_eq!(
                        test.holds(Some(&ev), item, slots),
                        ev.holds_for(item, id),
                        "{person}: {item:?}"
                    );
                }
            }
        }
    }
}
