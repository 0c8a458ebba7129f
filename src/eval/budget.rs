//! The evaluation budget: how many steps (elements visited by `where`,
//! `has`, projections and membership scans) deciding one record may take.
//!
//! A policy whose own structure is superlinear (a quantifier nested in
//! another over the same list) costs the square of a record's size; the
//! budget turns such a record into an error line instead of a stall. One
//! budget covers everything asked for one record — the decision and its
//! `next_change`, timeline and remedies — so the extras cannot multiply it.
//!
//! The idea carries over to any evaluator: a counter decremented where the
//! evaluator loops, checked where it loops, with every loop cut short once
//! it is spent (the value computed then is thrown away).

use std::cell::Cell;
use std::rc::Rc;

/// The default budget: ten million steps, a few seconds at worst, far
/// beyond what any shipped policy needs for a record of a few megabytes.
pub const DEFAULT_BUDGET: u64 = 10_000_000;

/// Steps left for one record, shared by every evaluation made for it.
#[derive(Debug, Clone)]
pub struct Budget {
    limit: u64,
    /// Steps left, and whether a step was refused.
    left: Rc<(Cell<u64>, Cell<bool>)>,
}

impl Budget {
    /// A budget of `limit` steps.
    pub fn new(limit: u64) -> Self {
        Budget {
            limit,
            left: Rc::new((Cell::new(limit), Cell::new(false))),
        }
    }

    /// No limit, for callers that bound their input otherwise.
    pub fn unlimited() -> Self {
        Self::new(u64::MAX)
    }

    /// The steps it started with.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The steps taken so far.
    #[cfg(test)]
    pub(crate) fn spent(&self) -> u64 {
        self.limit - self.left.0.get()
    }

    /// Whether it ran out.
    pub fn exceeded(&self) -> bool {
        self.left.1.get()
    }

    /// Takes `n` steps; false, for good, once fewer than `n` remain.
    pub(crate) fn take(&self, n: u64) -> bool {
        let (left, refused) = &*self.left;
        match left.get().checked_sub(n) {
            Some(rest) if !refused.get() => {
                left.set(rest);
                true
            }
            _ => {
                refused.set(true);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn a_budget_runs_out_and_stays_out() {
        let b = Budget::new(3);
        assert!(b.take(2));
        assert!(b.take(1), "the last step");
        assert!(!b.exceeded(), "spending it all is not exceeding it");
        assert!(!b.take(1), "none left");
        assert!(b.exceeded());
        assert!(!b.take(0), "nothing more once spent");
        assert_eq!(b.limit(), 3);
    }
}
