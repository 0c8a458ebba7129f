//! Membership in long lists (`phone in checked_phones.number`) as a
//! binary search in a sorted copy instead of a scan, so that a `where`
//! testing each of n elements against a list of m costs n log m, not n m.
//!
//! The copies are made where the list is made: once per facts load for
//! the facts and the values hoisted from them ([`FactIndexes`]), once per
//! person for a `let` or a field of the record ([`Indexes`], on the
//! second lookup in the same list: one lookup is cheaper as a scan). Sets
//! are sorted already and need none; a list of at most [`SMALL`]
//! elements is scanned. `Value`'s equality is its order's, so a binary
//! search finds exactly what a scan finds.
//!
//! A list is known by the address of its elements, and the index keeps the
//! list alive, so an address cannot be reused for another list while it is
//! indexed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::budget::Budget;
use crate::value::Value;

/// Lists up to this length are scanned.
pub(crate) const SMALL: usize = 16;

/// A list, kept alive, and its elements sorted.
type Sorted = (Arc<[Value]>, Box<[Value]>);

/// A list, kept alive, and the least and greatest value of a field of it.
type Extremes = (Arc<[Value]>, Value, Value);

/// Sorted copies of the long lists among the facts and hoisted values.
#[derive(Debug, Clone, Default)]
pub(crate) struct FactIndexes(Vec<Sorted>);

impl FactIndexes {
    /// Indexes every long list among `values`.
    pub(crate) fn of<'a>(values: impl Iterator<Item = &'a Value>) -> Self {
        FactIndexes(
            values
                .filter_map(|v| match v {
                    Value::List(items) if items.len() > SMALL => {
                        Some((Arc::clone(items), sorted(items)))
                    }
                    _ => None,
                })
                .collect(),
        )
    }

    fn get(&self, items: &Arc<[Value]>) -> Option<&[Value]> {
        self.0
            .iter()
            .find(|(list, _)| Arc::ptr_eq(list, items))
            .map(|(_, s)| &**s)
    }
}

/// What one person's evaluation knows of a long list.
enum Entry {
    /// Looked in once, by a scan. The list is kept alive with its entry.
    Seen(Arc<[Value]>),
    /// Looked in again: sorted.
    Sorted(Arc<[Value]>, Box<[Value]>),
}

/// The sorted copies made for one person, and the least and greatest
/// value of a field over a list (for `any x in L has x.f <= bound`).
#[derive(Default)]
pub(crate) struct Indexes {
    sorted: RefCell<HashMap<usize, Entry>>,
    extremes: RefCell<HashMap<(usize, usize), Extremes>>,
}

impl Indexes {
    /// Whether `v` is among `items`, a list longer than [`SMALL`].
    pub(crate) fn contains(
        &self,
        facts: &FactIndexes,
        items: &Arc<[Value]>,
        v: &Value,
        budget: &Budget,
    ) -> bool {
        if let Some(s) = facts.get(items) {
            return budget.take(1) && s.binary_search(v).is_ok();
        }
        let key = items.as_ptr() as *const u8 as usize;
        let mut map = self.sorted.borrow_mut();
        match map.get(&key) {
            Some(Entry::Sorted(list, s)) if Arc::ptr_eq(list, items) => {
                budget.take(1) && s.binary_search(v).is_ok()
            }
            Some(Entry::Seen(list)) if Arc::ptr_eq(list, items) => {
                // Sorting costs about as much as a few scans.
                if !budget.take(2 * items.len() as u64) {
                    return false;
                }
                let s = sorted(items);
                let found = s.binary_search(v).is_ok();
                map.insert(key, Entry::Sorted(Arc::clone(items), s));
                found
            }
            _ => {
                map.insert(key, Entry::Seen(Arc::clone(items)));
                budget.take(items.len() as u64) && items.contains(v)
            }
        }
    }
}

impl Indexes {
    /// The greatest (`max`) or least value of field `slot` over the records
    /// `items`, computed once per list and field.
    pub(crate) fn extreme(
        &self,
        items: &Arc<[Value]>,
        slot: usize,
        max: bool,
        budget: &Budget,
    ) -> Option<Value> {
        let key = (items.as_ptr() as *const u8 as usize, slot);
        let mut map = self.extremes.borrow_mut();
        let pick =
            |(_, lo, hi): &(Arc<[Value]>, Value, Value)| if max { hi.clone() } else { lo.clone() };
        if let Some(entry) = map.get(&key).filter(|(list, ..)| Arc::ptr_eq(list, items)) {
            return budget.take(1).then(|| pick(entry));
        }
        if !budget.take(items.len() as u64) {
            return None;
        }
        let none = Value::None;
        let field = |v: &'_ Value| -> Value {
            match v {
                Value::Record(fields) => fields.get(slot).unwrap_or(&none).clone(),
                _ => Value::None,
            }
        };
        let mut values = items.iter().map(field);
        let first = values.next()?;
        let (lo, hi) = values.fold((first.clone(), first), |(lo, hi), v| {
            (lo.min(v.clone()), hi.max(v))
        });
        let entry = (Arc::clone(items), lo, hi);
        let found = pick(&entry);
        map.insert(key, entry);
        Some(found)
    }
}

fn sorted(items: &[Value]) -> Box<[Value]> {
    let mut s = items.to_vec();
    s.sort_unstable();
    s.into_boxed_slice()
}
