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
//! indexed. In a plan arena the same idea is a per-node flag, set by the
//! compiler for nodes whose value is tested for membership, and a slot for
//! the index beside the node's value.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::budget::Budget;
use crate::value::Value;

/// Lists up to this length are scanned.
pub(crate) const SMALL: usize = 16;

/// Sorted copies of the long lists among the facts and hoisted values.
#[derive(Debug, Clone, Default)]
pub(crate) struct FactIndexes(Vec<(Arc<[Value]>, Box<[Value]>)>);

impl FactIndexes {
    /// Indexes every long list among `values`.
    pub(crate) fn of<'a>(values: impl Iterator<Item = &'a Value>) -> Self {
        FactIndexes(
            values
                .filter_map(|v| match v {
                    Value::List(items) if items.len() > SMALL => Some((Arc::clone(items), sorted(items))),
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

/// The sorted copies made for one person.
#[derive(Default)]
pub(crate) struct Indexes(RefCell<HashMap<usize, Entry>>);

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
        let mut map = self.0.borrow_mut();
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

fn sorted(items: &[Value]) -> Box<[Value]> {
    let mut s = items.to_vec();
    s.sort_unstable();
    s.into_boxed_slice()
}
