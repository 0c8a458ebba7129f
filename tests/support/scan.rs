//! An hour-by-hour scan that checks `next_change`: no change is missed
//! between the instants it announces, and each is a change to the
//! microsecond.

use policyc::decision::NextChange;
use policyc::{Decision, Facts, Policy};

/// An hour, in microseconds.
pub const HOUR: i64 = 3_600_000_000;

/// `next_change`, and nothing else.
pub const NEXT: policyc::Extras = policyc::Extras {
    next_change: true,
    timeline: false,
    remedies: false,
    witnesses: false,
};

/// Follows the decision for `line` from `now` to `end`, change by
/// announced change: the `verdict` is the same at every hour before the
/// announced instant, and another just after it. The changes seen.
pub fn scan(
    p: &Policy,
    facts: &Facts,
    line: &str,
    (mut now, end): (i64, i64),
    verdict: impl Fn(&Decision<'_>) -> String,
) -> usize {
    let outcome = |at: i64| {
        let d = p
            .decide_json(facts, line, at)
            .unwrap_or_else(|e| unreachable!("{e}"));
        verdict(&d)
    };
    let mut changes = 0;
    while now < end {
        let d = p
            .decide_json_with(facts, line, now, NEXT)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let current = verdict(&d);
        let announced = match &d.next_change {
            NextChange::At { at, .. } => *at,
            _ => i64::MAX,
        };
        // Unchanged at every hour before the announced instant.
        let mut t = now + HOUR;
        while t < announced.min(end) {
            assert_eq!(outcome(t), current, "{line} at {t}");
            t += HOUR;
        }
        if announced >= end {
            break;
        }
        assert_ne!(outcome(announced + 1), current, "{line} at {announced}");
        changes += 1;
        now = announced + 1;
    }
    changes
}

/// The change announced for `line` at `now` (read in the policy's zone):
/// its instant as the policy writes it, and the `verdict` after it.
pub fn announced(
    p: &Policy,
    line: &str,
    now: &str,
    verdict: impl Fn(&Decision<'_>) -> String,
) -> Option<(String, String)> {
    let facts = p.facts("{}").unwrap_or_else(|e| unreachable!("{e}"));
    let now = p.instant(now).unwrap_or_else(|e| unreachable!("{e}"));
    let d = p
        .decide_json_with(&facts, line, now, NEXT)
        .unwrap_or_else(|e| unreachable!("{e}"));
    match &d.next_change {
        NextChange::At { at, then } => Some((
            policyc::time::format_instant(*at, &p.program().timezone),
            verdict(then),
        )),
        _ => None,
    }
}
