//! Evaluation is near-linear in the size of a record: one huge record per
//! shipped policy, decided with `next_change`, within a time bound that the
//! quadratic and cubic evaluations of before missed by far (membership in
//! a list by a scan, `next_change` evaluating the person at every
//! candidate instant, a quantifier nested in another over the same list).
//! Debug builds are slow: the bounds leave room for that, and for a busy
//! machine, while the old code took minutes to hours on the same records.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use policyc::decision::NextChange;
use policyc::{Extras, Policy};

const SECOND: i64 = 1_000_000;
const HOUR: i64 = 3_600 * SECOND;
const DAY: i64 = 24 * HOUR;
/// 2021-11-01T10:00:00+08:00.
const NOW: i64 = 1_635_732_000 * SECOND;
const N: i64 = 30_000;
/// Far below what the old evaluation took on these records (minutes to
/// hours), far above what this one takes in a debug build.
const BOUND: Duration = Duration::from_secs(30);

fn instant(t: i64) -> String {
    policyc::time::format_instant(t, &jiff::tz::TimeZone::UTC)
}

/// `n` records from `each`, as a JSON list.
fn list(n: i64, each: impl Fn(i64) -> String) -> String {
    let mut out = String::from("[");
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&each(i));
    }
    out.push(']');
    out
}

/// Stays over the last 20 days and the next 3: a tenth in a case county,
/// a seventh without an end.
fn stays(phone: bool) -> String {
    let step = 23 * DAY / N;
    list(N, |i| {
        let from = NOW - 20 * DAY + i * step;
        let region = match i % 10 {
            3 => "152923",
            5 => "610104",
            _ => ["120116", "130102", "110105"][(i % 3) as usize],
        };
        let mut s = format!(r#"{{"region":"{region}","from":"{}""#, instant(from));
        if phone {
            let _ = write!(s, r#","phone":"{}""#, 13_000_000_000 + (i * 7919) % N);
        }
        if i % 7 != 0 {
            let _ = write!(s, r#","to":"{}""#, instant(from + step));
        }
        s.push('}');
        s
    })
}

/// Tests every `every`, the last an hour ago, each `result(i)`.
fn tests(n: i64, every: i64, result: impl Fn(i64) -> &'static str) -> String {
    list(n, |i| {
        format!(
            r#"{{"sampled_at":"{}","result":"{}"}}"#,
            instant(NOW - HOUR - (n - 1 - i) * every),
            result(i)
        )
    })
}

/// Decides `person` with `next_change` within [`BOUND`], and checks the
/// change it announces: the decision of now one microsecond before, the
/// announced one just after.
fn decide_huge(policy: &str, facts: &str, person: &str) -> NextChange<'static> {
    let policy: &'static Policy = Box::leak(Box::new(
        Policy::load(policy).unwrap_or_else(|e| unreachable!("{e}")),
    ));
    let facts: &'static policyc::Facts = Box::leak(Box::new(
        policy.facts(facts).unwrap_or_else(|e| unreachable!("{e}")),
    ));
    let next = Extras {
        next_change: true,
        ..Extras::default()
    };
    let start = Instant::now();
    let d = policy
        .decide_json_with(facts, person, NOW, next)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let took = start.elapsed();
    assert!(
        took < BOUND,
        "{took:?} for one record of {} bytes",
        person.len()
    );
    let key = |d: &policyc::Decision<'_>| {
        let rule = d
            .rules
            .iter()
            .find(|r| r.outcome == d.outcome)
            .map(|r| r.name);
        (d.outcome.to_owned(), rule.map(str::to_owned))
    };
    if let NextChange::At { at, then } = &d.next_change {
        let at_time = |t: i64| {
            policy
                .decide_json(facts, person, t)
                .map(|d| key(&d))
                .unwrap_or_else(|e| unreachable!("{e}"))
        };
        if *at > NOW {
            assert_eq!(at_time(at - 1), key(&d), "just before the change");
        }
        assert_eq!(at_time(at + 1), key(then), "just after the change");
    }
    d.next_change
}

#[test]
fn beijing_with_30000_phones_and_stays() {
    let phones = list(N, |i| {
        let unbound = if i % 50 == 0 {
            format!(r#","unbound_at":"{}""#, instant(NOW - 5 * DAY + i * SECOND))
        } else {
            String::new()
        };
        format!(
            r#"{{"number":"{}","bound_at":"{}","itinerary_checked":{}{unbound}}}"#,
            13_000_000_000 + i,
            instant(NOW - 400 * DAY + i * SECOND),
            i % 1000 != 1
        )
    });
    let person = format!(
        r#"{{"phones":{phones},"stays":{},"tests":{}}}"#,
        stays(true),
        tests(40, 5 * HOUR, |_| "negative")
    );
    let change = decide_huge(
        "policies/beijing-2021-10-30.policy",
        include_str!("../examples/beijing/facts.json"),
        &person,
    );
    // Stays without an end in a case county: the popup never ends.
    assert!(matches!(change, NextChange::Never), "{change:?}");
}

/// The quarantine policy's next change for 30,000 tests `every` apart,
/// every third pending.
fn quarantine(every: i64) -> NextChange<'static> {
    let person = format!(
        r#"{{"quarantine_started":"{}","tests":{}}}"#,
        instant(NOW - 20 * DAY),
        tests(N, every, |i| if i % 3 == 0 {
            "pending"
        } else {
            "negative"
        })
    );
    decide_huge("policies/quarantine-release.policy", "{}", &person)
}

#[test]
fn quarantine_with_30000_tests_none_24_hours_apart() {
    // No later test has an earlier one 24 hours before it: the nested
    // quantifier looked through all of them for each.
    let change = quarantine(20 * HOUR / N);
    assert!(matches!(change, NextChange::Never), "{change:?}");
}

#[test]
fn quarantine_with_30000_tests_an_hour_apart() {
    // Released now; quarantined again once the last negative test is 48
    // hours old.
    let change = quarantine(HOUR);
    assert!(matches!(change, NextChange::At { .. }), "{change:?}");
}

/// A person with [`stays`] and 30,000 tests 20 minutes apart, every other
/// one pending, and `fields` beside them.
fn stays_and_tests(fields: &str) -> String {
    let tests = tests(N, 20 * 60 * SECOND, |i| {
        if i % 2 == 0 { "negative" } else { "pending" }
    });
    format!(r#"{{{fields}"stays":{},"tests":{tests}}}"#, stays(false))
}

#[test]
fn winter_olympics_with_30000_stays_and_tests() {
    let change = decide_huge(
        "policies/beijing-2022-winter-olympics.policy",
        r#"{"risk_area_counties":["152923"]}"#,
        &stays_and_tests(""),
    );
    assert!(matches!(change, NextChange::Never), "{change:?}");
}

#[test]
fn three_colour_code_with_30000_stays_and_tests() {
    let change = decide_huge(
        "policies/three-colour-health-code.policy",
        r#"{"high_risk_counties":["110105"]}"#,
        &stays_and_tests(r#""status":"none","test_every":"3d","#),
    );
    assert!(matches!(change, NextChange::Never), "{change:?}");
}
