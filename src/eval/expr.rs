//! Evaluating one expression: a walk over the plan with the person, the
//! facts, `now` and the elements bound by enclosing `where`/`has`.

use std::sync::Arc;

use super::Evaluator;
use crate::check::ir::{Builtin, Expr, ExprKind};
use crate::region;
use crate::syntax::{BinaryOp, Quant};
use crate::value::Value;

impl Evaluator<'_, '_> {
    /// The value of `e`. Total: every expression of a checked program has a
    /// value for every input.
    pub(crate) fn eval(&mut self, e: &Expr) -> Value {
        match &e.kind {
            ExprKind::Const(v) => v.clone(),
            ExprKind::Now => Value::Time(self.now),
            ExprKind::Input => self.person.clone(),
            ExprKind::Fact(slot) => self.facts.values.get(*slot).cloned().unwrap_or(Value::None),
            ExprKind::Hoisted(i) => self.facts.hoisted.get(*i).cloned().unwrap_or(Value::None),
            ExprKind::Let(i) => self.let_value(*i),
            ExprKind::Element(depth) => self.scopes.get(*depth).cloned().unwrap_or(Value::None),
            ExprKind::Field(base, slot) => self.field(base, *slot),
            ExprKind::Project(base, slot) => {
                let list = self.eval(base);
                let items = list
                    .elements()
                    .iter()
                    .map(|r| match r {
                        Value::Record(fields) => fields.get(*slot).cloned().unwrap_or(Value::None),
                        _ => Value::None,
                    })
                    .collect();
                Value::List(Arc::new(items))
            }
            ExprKind::Not(a) => Value::Bool(!self.test(a)),
            ExprKind::Neg(a) => match self.eval(a) {
                Value::Number(n) => Value::Number(-n),
                Value::Duration(d) => Value::Duration(d.saturating_neg()),
                _ => Value::None,
            },
            ExprKind::And(a, b) => Value::Bool(self.test(a) && self.test(b)),
            ExprKind::Or(a, b) => Value::Bool(self.test(a) || self.test(b)),
            ExprKind::Coalesce(a, b) => match self.eval(a) {
                Value::None => self.eval(b),
                v => v,
            },
            ExprKind::Compare(op, a, b) => {
                let (a, b) = (self.eval(a), self.eval(b));
                Value::Bool(compare(*op, &a, &b))
            }
            ExprKind::Arith(op, a, b) => {
                let (a, b) = (self.eval(a), self.eval(b));
                arith(*op, &a, &b)
            }
            ExprKind::Member {
                negated,
                value,
                collection,
            } => {
                let found = match self.eval(value) {
                    Value::None => false,
                    v => member(&v, &self.eval(collection)),
                };
                Value::Bool(found != *negated)
            }
            ExprKind::InRegion {
                negated,
                inner,
                outer,
            } => {
                let inside = match (self.eval(inner), self.eval(outer)) {
                    (Value::Region(i), Value::Region(o)) => region::contains(o, i),
                    _ => false,
                };
                Value::Bool(inside != *negated)
            }
            ExprKind::IsNone { negated, value } => {
                Value::Bool(matches!(self.eval(value), Value::None) != *negated)
            }
            ExprKind::Within(t, w) => match (self.eval(t), self.eval(w)) {
                (Value::Time(t), Value::Interval(a, b)) => Value::Bool(a <= t && t <= b),
                _ => Value::Bool(false),
            },
            ExprKind::Overlaps(i, w) => match (self.eval(i), self.eval(w)) {
                (Value::Interval(a, b), Value::Interval(c, d)) => {
                    Value::Bool(a <= b && c <= d && a <= d && c <= b)
                }
                _ => Value::Bool(false),
            },
            ExprKind::Interval(a, b) => match (self.eval(a), self.eval(b)) {
                (Value::Time(a), Value::Time(b)) => Value::Interval(a, b),
                _ => Value::None,
            },
            ExprKind::Where(list, pred) => {
                let list = self.eval(list);
                let kept: Vec<Value> = list
                    .elements()
                    .iter()
                    .filter(|item| self.holds_for(item, pred))
                    .cloned()
                    .collect();
                match list {
                    Value::Set(_) => Value::Set(Arc::new(kept)),
                    _ => Value::List(Arc::new(kept)),
                }
            }
            ExprKind::Quantifier(quant, subject, body) => {
                let subject = self.eval(subject);
                let items = subject.elements();
                let held = match (quant, body) {
                    (Quant::Any, None) => !items.is_empty(),
                    (Quant::No, None) => items.is_empty(),
                    (Quant::All, None) => true,
                    (Quant::Any, Some(b)) => items.iter().any(|i| self.holds_for(i, b)),
                    (Quant::All, Some(b)) => items.iter().all(|i| self.holds_for(i, b)),
                    (Quant::No, Some(b)) => !items.iter().any(|i| self.holds_for(i, b)),
                };
                Value::Bool(held)
            }
            ExprKind::Call(builtin, args) => {
                let arg = args.first().map_or(Value::None, |a| self.eval(a));
                call(*builtin, &arg)
            }
            ExprKind::List(items) => {
                Value::List(Arc::new(items.iter().map(|i| self.eval(i)).collect()))
            }
        }
    }

    /// Whether the condition `e` holds.
    pub(crate) fn test(&mut self, e: &Expr) -> bool {
        self.eval(e).truthy()
    }

    /// Whether `body` holds with `item` bound as the innermost element.
    pub(crate) fn holds_for(&mut self, item: &Value, body: &Expr) -> bool {
        self.scopes.push(item.clone());
        let held = self.test(body);
        self.scopes.pop();
        held
    }

    fn field(&mut self, base: &Expr, slot: usize) -> Value {
        // The input and elements are read in place, without cloning the record.
        let read = |v: &Value| match v {
            Value::Record(fields) => fields.get(slot).cloned().unwrap_or(Value::None),
            _ => Value::None,
        };
        match &base.kind {
            ExprKind::Input => read(self.person),
            ExprKind::Element(d) => self.scopes.get(*d).map_or(Value::None, read),
            _ => read(&self.eval(base)),
        }
    }

    fn let_value(&mut self, i: usize) -> Value {
        if let Some(Some(v)) = self.lets.get(i) {
            return v.clone();
        }
        let Some(l) = self.plan.program.lets.get(i) else {
            return Value::None;
        };
        // Lets are evaluated outside any `where`/`has`.
        let scopes = std::mem::take(&mut self.scopes);
        let v = self.eval(&l.value);
        self.scopes = scopes;
        if let Some(slot) = self.lets.get_mut(i) {
            *slot = Some(v.clone());
        }
        v
    }
}

fn compare(op: BinaryOp, a: &Value, b: &Value) -> bool {
    match op {
        BinaryOp::Eq => a == b,
        BinaryOp::Ne => a != b,
        // The checker only lets values of one ordered type here; a NaN
        // compares false, as in arithmetic.
        _ => {
            if let (Value::Number(x), Value::Number(y)) = (a, b) {
                return match op {
                    BinaryOp::Lt => x < y,
                    BinaryOp::Le => x <= y,
                    BinaryOp::Gt => x > y,
                    _ => x >= y,
                };
            }
            let ord = a.cmp(b);
            match op {
                BinaryOp::Lt => ord.is_lt(),
                BinaryOp::Le => ord.is_le(),
                BinaryOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }
        }
    }
}

/// Arithmetic on the operand types the checker allows; time arithmetic
/// saturates instead of overflowing.
fn arith(op: BinaryOp, a: &Value, b: &Value) -> Value {
    use Value::{Duration as D, Number as N, Time as T};
    match (op, a, b) {
        (BinaryOp::Add, N(x), N(y)) => N(x + y),
        (BinaryOp::Sub, N(x), N(y)) => N(x - y),
        (BinaryOp::Mul, N(x), N(y)) => N(x * y),
        (BinaryOp::Div, N(x), N(y)) => N(x / y),
        (BinaryOp::Add, T(t), D(d)) | (BinaryOp::Add, D(d), T(t)) => T(t.saturating_add(*d)),
        (BinaryOp::Sub, T(t), D(d)) => T(t.saturating_sub(*d)),
        (BinaryOp::Sub, T(x), T(y)) => D(x.saturating_sub(*y)),
        (BinaryOp::Add, D(x), D(y)) => D(x.saturating_add(*y)),
        (BinaryOp::Sub, D(x), D(y)) => D(x.saturating_sub(*y)),
        (BinaryOp::Mul, D(d), N(n)) | (BinaryOp::Mul, N(n), D(d)) => D((*d as f64 * n) as i64),
        (BinaryOp::Div, D(d), N(n)) => D((*d as f64 / n) as i64),
        (BinaryOp::Div, D(x), D(y)) => N(*x as f64 / *y as f64),
        _ => Value::None,
    }
}

fn member(v: &Value, collection: &Value) -> bool {
    match collection {
        Value::Set(items) => items.binary_search(v).is_ok(),
        Value::List(items) => items.contains(v),
        _ => false,
    }
}

fn call(builtin: Builtin, arg: &Value) -> Value {
    let region_of = |f: fn(u32) -> Option<u32>, v: &Value| match v {
        Value::Region(code) => f(*code).map_or(Value::None, Value::Region),
        _ => Value::None,
    };
    let regions_of = |f: fn(u32) -> Option<u32>| {
        Value::set_of(
            arg.elements()
                .iter()
                .map(|v| region_of(f, v))
                .filter(|v| !matches!(v, Value::None))
                .collect(),
        )
    };
    match builtin {
        Builtin::Prefecture => region_of(region::prefecture_of, arg),
        Builtin::Province => region_of(region::province_of, arg),
        Builtin::Prefectures => regions_of(region::prefecture_of),
        Builtin::Provinces => regions_of(region::province_of),
        Builtin::Count => Value::Number(arg.elements().len() as f64),
    }
}
