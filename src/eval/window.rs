//! The one model of a comparison of instants: the values `v` for which
//! `v op bound` holds, as a closed interval ([`holding`]). Both readings
//! of time come from it:
//!
//! - a witness's window: the instants of a record that satisfy
//!   `sampled_at within 48h` or `at >= T` at `now` (`explain.rs`);
//! - a horizon: the first instant after `now` at which such a comparison
//!   comes out otherwise, as one side moves with `now` ([`first_flip`],
//!   read by `horizon.rs`, whose horizons let `next_change` skip its
//!   candidate instants).

use crate::syntax::BinaryOp;

/// The values `v` for which `v op bound` holds, as a closed interval
/// (`None` for an open end); `None` for `!=`, whose values are no
/// interval (it flips where `=` does).
pub(crate) fn holding(op: BinaryOp, bound: i128) -> Option<(Option<i128>, Option<i128>)> {
    match op {
        BinaryOp::Ge => Some((Some(bound), None)),
        BinaryOp::Gt => Some((Some(bound + 1), None)),
        BinaryOp::Le => Some((None, Some(bound))),
        BinaryOp::Lt => Some((None, Some(bound - 1))),
        BinaryOp::Eq => Some((Some(bound), Some(bound))),
        _ => None,
    }
}

/// The first change, `Δ > 0` microseconds on, of `x op 0` where `x` is `d`
/// now and grows by one a microsecond; `None` if it never changes: where
/// `d + Δ` enters or leaves the interval [`holding`] gives.
pub(crate) fn first_flip(op: BinaryOp, d: i128) -> Option<i128> {
    let op = match op {
        BinaryOp::Ne => BinaryOp::Eq,
        op => op,
    };
    let (from, to) = holding(op, 0)?;
    match (from, to) {
        (Some(from), _) if d < from => Some(from - d),
        (_, Some(to)) if d <= to => Some(to - d + 1),
        _ => None,
    }
}

/// `A < B` read from `B`'s side: `B > A`.
pub(crate) fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Le => BinaryOp::Ge,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Ge => BinaryOp::Le,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first flip, found by trying every `Δ` up to a bound.
    fn tried(op: BinaryOp, d: i128) -> Option<i128> {
        let holds = |v: i128| match op {
            BinaryOp::Lt => v < 0,
            BinaryOp::Le => v <= 0,
            BinaryOp::Gt => v > 0,
            BinaryOp::Ge => v >= 0,
            BinaryOp::Eq => v == 0,
            _ => v != 0,
        };
        (1..=20).find(|delta| holds(d + delta) != holds(d))
    }

    #[test]
    fn the_first_flip_is_where_the_interval_is_entered_or_left() {
        use BinaryOp::{Eq, Ge, Gt, Le, Lt, Ne};
        for op in [Lt, Le, Gt, Ge, Eq, Ne] {
            for d in -8..8 {
                assert_eq!(first_flip(op, d), tried(op, d), "{op:?} at {d}");
            }
        }
    }

    #[test]
    fn a_window_is_the_values_that_hold() {
        assert_eq!(holding(BinaryOp::Gt, 10), Some((Some(11), None)));
        assert_eq!(holding(BinaryOp::Lt, 10), Some((None, Some(9))));
        assert_eq!(holding(BinaryOp::Ne, 10), None);
        assert_eq!(flip(BinaryOp::Lt), BinaryOp::Gt);
        assert_eq!(flip(BinaryOp::Ge), BinaryOp::Le);
        assert_eq!(flip(BinaryOp::Eq), BinaryOp::Eq);
    }
}
