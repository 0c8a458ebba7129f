//! The one model of time in a plan: for a comparison of instants (or
//! durations), the values for which it holds ([`holding`]) and, as `now`
//! moves, the instants at which it comes out otherwise
//! ([`first_change`]). Every reading of time comes from it:
//!
//! - a witness's window: the instants of a record that satisfy
//!   `sampled_at within 48h` or `at >= T` at `now` (`explain.rs`);
//! - the changes of a decision: each comparison an evaluation makes
//!   notes where it first changes (`horizon.rs`), and `next_change`
//!   evaluates again only there (`what_if.rs`), at the boundary this
//!   names for it;
//! - what the model cannot solve (a moving value looked up in a list, a
//!   list holding moving values): the instants of its operands that do
//!   not move, shifted by the policy's durations ([`unmodelled`]), the one
//!   place where `next_change` tries candidates.

use crate::syntax::BinaryOp;
use crate::value::Value;

/// The values `v` for which `v op bound` holds, as a closed interval
/// (`None` for an open end); `None` for `!=`, whose values are no
/// interval (it changes where `=` does).
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

/// The first change of `x op y` as `now` moves on, `x - y` being `d` at
/// `now` and moving by `slope` a microsecond: `(flip, boundary)`, both
/// counted from `now`. `flip > 0` is the first instant at which it comes
/// out otherwise (where `d + slope·Δ` enters or leaves the interval
/// [`holding`] gives); `boundary` is the instant `next_change` names for
/// that change: the one at which the two sides meet when they meet just
/// before the flip (`t + 14d >= now` holds at `t + 14d` and changes just
/// after it), the flip itself otherwise (`t <= now` changes at `t`).
/// `None` if it never changes.
pub(crate) fn first_change(op: BinaryOp, d: i128, slope: i128) -> Option<(i128, i128)> {
    let op = match op {
        BinaryOp::Ne => BinaryOp::Eq,
        op => op,
    };
    let (from, to) = holding(op, 0)?;
    // Read as growing: with a falling `x`, `-x` in `[-to, -from]`.
    let (d, s, from, to) = if slope < 0 {
        (-d, -slope, to.map(|t| -t), from.map(|f| -f))
    } else {
        (d, slope, from, to)
    };
    if s == 0 {
        return None;
    }
    let flip = match (from, to) {
        // Below the interval: it enters it, unless it steps over it.
        (Some(from), _) if d < from => {
            let delta = (from - d + s - 1) / s;
            if to.is_some_and(|to| d + s * delta > to) {
                return None;
            }
            delta
        }
        // In it: it leaves it at the top.
        (_, Some(to)) if d <= to => (to - d) / s + 1,
        _ => return None,
    };
    let boundary = if d + s * (flip - 1) == 0 {
        flip - 1
    } else {
        flip
    };
    Some((flip, boundary))
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

/// For a comparison the model cannot solve: the first instant from `from`
/// on at which it may change, among the instants of its operands
/// (`values`, their lists and records included) shifted either way by
/// each of `durations` (the policy's, with 0) and by the durations among
/// the operands. `None` when they hold no instant.
pub(crate) fn unmodelled(values: &[&Value], durations: &[i64], from: i64) -> Option<i64> {
    let (mut times, mut own) = (Vec::new(), Vec::new());
    for v in values {
        instants(v, &mut times, &mut own);
    }
    let shifts = durations.iter().chain(&own);
    let mut first: Option<i64> = None;
    for d in shifts {
        for t in &times {
            for c in [t.saturating_add(*d), t.saturating_sub(*d)] {
                if c >= from && first.is_none_or(|f| c < f) {
                    first = Some(c);
                }
            }
        }
    }
    first
}

/// The instants and durations in `v`, into `times` and `durations`.
pub(crate) fn instants(v: &Value, times: &mut Vec<i64>, durations: &mut Vec<i64>) {
    match v {
        Value::Time(t) => times.push(*t),
        Value::Duration(d) => durations.push(d.saturating_abs()),
        Value::Interval(a, b) => times.extend([*a, *b]),
        Value::List(items) | Value::Set(items) | Value::Record(items) => {
            for item in items.iter() {
                instants(item, times, durations);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(op: BinaryOp, v: i128) -> bool {
        match op {
            BinaryOp::Lt => v < 0,
            BinaryOp::Le => v <= 0,
            BinaryOp::Gt => v > 0,
            BinaryOp::Ge => v >= 0,
            BinaryOp::Eq => v == 0,
            _ => v != 0,
        }
    }

    /// The first change, found by trying every `Δ` up to a bound, with
    /// its boundary: the instant before it when the sides meet there.
    fn tried(op: BinaryOp, d: i128, slope: i128) -> Option<(i128, i128)> {
        let x = |delta: i128| d + slope * delta;
        let flip = (1..=80).find(|delta| holds(op, x(*delta)) != holds(op, d))?;
        Some((flip, if x(flip - 1) == 0 { flip - 1 } else { flip }))
    }

    #[test]
    fn the_first_change_is_where_the_interval_is_entered_or_left() {
        use BinaryOp::{Eq, Ge, Gt, Le, Lt, Ne};
        for op in [Lt, Le, Gt, Ge, Eq, Ne] {
            for slope in -3..=3 {
                for d in -12..12 {
                    let found = first_change(op, d, slope);
                    assert_eq!(found, tried(op, d, slope), "{op:?} at {d}, slope {slope}");
                }
            }
        }
    }

    #[test]
    fn a_window_closes_just_after_its_end_and_an_event_opens_at_itself() {
        // `t + 14 >= now` at now = t: holds until 14, changes just after.
        assert_eq!(first_change(BinaryOp::Ge, 14, -1), Some((15, 14)));
        // `t <= now` at now = t - 5: changes at t.
        assert_eq!(first_change(BinaryOp::Le, 5, -1), Some((5, 5)));
        // A window that closed never opens again.
        assert_eq!(first_change(BinaryOp::Ge, -1, -1), None);
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

    #[test]
    fn what_the_model_cannot_solve_changes_at_its_instants_shifted() {
        let (t, day) = (1_000, 100);
        let list = Value::List(vec![Value::Time(t), Value::Duration(-7)].into());
        assert_eq!(unmodelled(&[&list], &[0, day], 0), Some(t - day));
        assert_eq!(unmodelled(&[&list], &[0, day], t - 8), Some(t - 7));
        assert_eq!(unmodelled(&[&list], &[0, day], t + 8), Some(t + day));
        assert_eq!(unmodelled(&[&Value::Bool(true)], &[0], 0), None);
    }
}
