//! A `let` defined by `L where P`, kept as the places in `L` of the
//! elements it keeps rather than as a copy of them: what reads it in a loop
//! (a quantifier, another `where`, a projection, the trace of a witness)
//! reads the elements where they are, in `L`. The list is made only when
//! something needs it whole (a payload, a membership, an explanation that
//! shows it, a witness that shows its records), once, the first time.
//!
//! Only without horizons: with them, a filtered `let` keeps the horizon of
//! each element it keeps (`horizon.rs`), beside a list of its own.

use std::cell::OnceCell;
use std::sync::Arc;

use super::expr::Operand;
use crate::value::Value;

/// The elements a `where` kept, by their place in the list it filtered.
pub(crate) struct Selection {
    /// The list filtered, shared, not copied.
    source: Arc<[Value]>,
    /// Whether it is a set (and the selection one too).
    set: bool,
    /// The places of the elements kept, in order.
    picked: Vec<u32>,
    /// The list of the elements kept, made when something reads it whole.
    whole: OnceCell<Value>,
}

impl Selection {
    /// The selection of the elements of `source` at `picked`.
    pub(super) fn new(source: Arc<[Value]>, set: bool, picked: Vec<u32>) -> Self {
        Selection {
            source,
            set,
            picked,
            whole: OnceCell::new(),
        }
    }

    /// Its elements, read where they are.
    pub(super) fn items(&self) -> Items<'_> {
        Items::Picked(&self.source, &self.picked)
    }

    /// The list it stands for, made the first time it is asked for.
    pub(super) fn whole(&self) -> &Value {
        self.whole.get_or_init(|| {
            let items: Arc<[Value]> = self.items().iter().cloned().collect();
            if self.set {
                Value::Set(items)
            } else {
                Value::List(items)
            }
        })
    }

    /// The places of the elements it keeps, in order.
    pub(super) fn picked(&self) -> &[u32] {
        &self.picked
    }

    /// The list it selects from, and whether it is a set.
    pub(super) fn source(&self) -> (&Arc<[Value]>, bool) {
        (&self.source, self.set)
    }
}

/// The elements a loop reads: those of a list, or those a selection kept.
#[derive(Clone, Copy)]
pub(super) enum Items<'a> {
    /// Every element of a list.
    All(&'a [Value]),
    /// The elements of a list at these places.
    Picked(&'a [Value], &'a [u32]),
}

impl<'a> Items<'a> {
    /// How many there are.
    pub(super) fn len(&self) -> usize {
        match self {
            Items::All(items) => items.len(),
            Items::Picked(_, picked) => picked.len(),
        }
    }

    /// Whether there are none.
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Them, in order.
    pub(super) fn iter(&self) -> Iter<'a> {
        match *self {
            Items::All(items) => Iter::All(items.iter()),
            Items::Picked(items, picked) => Iter::Picked(items, picked.iter()),
        }
    }
}

/// The elements of [`Items`], in order.
pub(super) enum Iter<'a> {
    All(std::slice::Iter<'a, Value>),
    Picked(&'a [Value], std::slice::Iter<'a, u32>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Value;

    #[inline]
    fn next(&mut self) -> Option<&'a Value> {
        match self {
            Iter::All(items) => items.next(),
            Iter::Picked(items, picked) => picked.find_map(|&j| items.get(j as usize)),
        }
    }
}

/// A list operand: a value, or a selection read in place.
pub(super) enum ListOperand<'a> {
    /// A value (its elements, when it is a list or a set).
    Value(Operand<'a>),
    /// A filtered `let`.
    Selected(&'a Selection),
}

impl ListOperand<'_> {
    /// Its elements: none, when it is no list.
    pub(super) fn items(&self) -> Items<'_> {
        match self {
            ListOperand::Value(v) => Items::All(v.elements()),
            ListOperand::Selected(s) => s.items(),
        }
    }

    /// The list it stands for.
    pub(super) fn into_value(self) -> Value {
        match self {
            ListOperand::Value(v) => v.into_value(),
            ListOperand::Selected(s) => s.whole().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Policy;
    use crate::eval::{Evaluator, Facts};
    use crate::value::Value;

    const TEXT: &str = r#"
        policy p
        outcomes green < red
        input person { xs: list of { v: number, tag: text } }
        let big = person.xs where v > 1
        let mid = big where v < 5
        let tags = mid.tag
        rule r when any mid has tag = "b" then red(n: count(mid), t: tags)
        otherwise green
    "#;

    /// A filtered `let` is kept as places in the list it filters (a
    /// `where` over one, as places in that same list), read in place by a
    /// quantifier and a projection, and made whole, the same list a copy
    /// would be, only where it is read whole.
    #[test]
    fn a_where_let_is_a_selection_made_whole_when_read_whole() {
        let policy = Policy::compile("p", TEXT).unwrap_or_else(|e| unreachable!("{e}"));
        let plan = policy.plan();
        let facts = Facts::empty(plan);
        let json =
            r#"{"xs":[{"v":0,"tag":"a"},{"v":2,"tag":"b"},{"v":7,"tag":"c"},{"v":3,"tag":"d"}]}"#;
        let person = policy
            .person(json)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .value;
        let ev = Evaluator::new(plan, &facts, &person, 0);
        let place = |name: &str| {
            (plan.program.lets.iter().position(|l| l.name == name))
                .unwrap_or_else(|| unreachable!("{name}"))
        };
        let (big, mid, tags) = (place("big"), place("mid"), place("tags"));
        let picked = |i: usize| -> Vec<u32> {
            match ev.selected.get(i) {
                Some(Some(s)) => {
                    assert!(s.whole.get().is_none(), "not made whole yet");
                    s.picked().to_vec()
                }
                _ => unreachable!("let {i} is a selection"),
            }
        };
        assert_eq!(picked(big), [1, 2, 3]);
        assert_eq!(picked(mid), [1, 3], "places in `person.xs`");
        assert!(matches!(ev.lets[mid], Value::None));
        // The projection read the selection in place.
        let text = |t: &str| Value::Text(t.into());
        assert_eq!(ev.lets[tags], Value::List([text("b"), text("d")].into()));
        assert!(ev.test(plan.rules[0].when));
        // Read whole: the elements kept, in order.
        let whole = ev.let_value(mid).cloned().unwrap_or_default();
        let Value::Record(fields) = &person else {
            unreachable!("a record")
        };
        let xs = fields[0].elements();
        assert_eq!(whole, Value::List([xs[1].clone(), xs[3].clone()].into()));
        let d = ev.decide(Vec::new());
        assert_eq!(d.outcome, "red");
        assert_eq!(d.payload[0].1, Value::Number(2.0));
    }
}
