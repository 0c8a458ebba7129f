//! Calendar time is exact in `next_change`: the boundaries of calendar
//! arithmetic (the end of February, a change of the clocks in Europe/Paris,
//! a birthday on 29 February) are found to the microsecond, and no change
//! is missed between them, as an hour-by-hour scan of the same people
//! shows.

#[path = "support/scan.rs"]
mod scan;

use policyc::Policy;
use scan::HOUR;

const POLICY: &str = include_str!("corpus/decide/calendar.policy");

fn policy() -> Policy {
    Policy::compile("calendar.policy", POLICY).unwrap_or_else(|e| unreachable!("{e}"))
}

fn person(dob: &str, arrived: &str, sampled: &str) -> String {
    format!(
        r#"{{"dob": "{dob}", "arrived": "{arrived}", "tests": [{{"sampled_at": "{sampled}"}}]}}"#
    )
}

/// The announced change: when, and the verdict after it.
fn next(p: &Policy, line: &str, now: &str) -> Option<(String, String)> {
    scan::announced(p, line, now, |d| format!("{} {}", d.outcome, kind(d)))
}

fn kind(d: &policyc::Decision<'_>) -> String {
    d.rules
        .iter()
        .find(|r| r.outcome == d.outcome)
        .map_or("-".to_owned(), |r| r.name.to_owned())
}

#[test]
fn six_months_after_31_august_end_on_28_february() {
    let p = policy();
    let line = person("1990-05-12", "2024-01-01T18:00", "2024-08-31T10:00");
    assert_eq!(
        next(&p, &line, "2025-01-01T00:00"),
        Some(("2025-02-28T10:00:00+01:00".into(), "refused no_test".into()))
    );
    // In a leap year, on the 29th.
    let line = person("1990-05-12", "2023-01-01T18:00", "2023-08-31T10:00");
    assert_eq!(
        next(&p, &line, "2024-01-01T00:00").map(|(at, _)| at),
        Some("2024-02-29T10:00:00+01:00".into())
    );
}

#[test]
fn fourteen_calendar_days_across_the_change_to_summer_time() {
    let p = policy();
    // Day 0 is 24 March at +01:00; day 14 starts at midnight at +02:00,
    // 13 days and 23 hours later.
    let line = person("1990-05-12", "2024-03-24T23:30", "2024-03-20T10:00");
    assert_eq!(
        next(&p, &line, "2024-03-25T12:00"),
        Some(("2024-04-07T00:00:00+02:00".into(), "admitted -".into()))
    );
    // The test, sampled at 10:00 in winter time, lasts until 10:00 in
    // summer time six months later: not 4 380 hours.
    assert_eq!(
        next(&p, &line, "2024-04-07T00:00").map(|(at, _)| at),
        Some("2024-09-20T10:00:00+02:00".into())
    );
}

#[test]
fn born_on_29_february_one_is_18_on_28_february() {
    let p = policy();
    let line = person("2000-02-29", "2017-01-01T18:00", "2018-01-15T10:00");
    assert_eq!(
        next(&p, &line, "2018-01-20T00:00"),
        Some(("2018-02-28T00:00:00+01:00".into(), "admitted -".into()))
    );
    // Born on 1 March, not before 1 March.
    let line = person("2000-03-01", "2017-01-01T18:00", "2018-01-15T10:00");
    assert_eq!(
        next(&p, &line, "2018-01-20T00:00").map(|(at, _)| at),
        Some("2018-03-01T00:00:00+01:00".into())
    );
}

#[test]
fn a_partial_date_of_birth_is_its_last_possible_day() {
    let p = policy();
    let line = |dob: &str| {
        format!(
            r#"{{"dob": "1990-05-12", "arrived": "2024-01-01T18:00", "tests": [{{"sampled_at": "2024-08-31T10:00"}}], "certificate_dob": "{dob}"}}"#
        )
    };
    let at = |dob: &str| next(&p, &line(dob), "2024-01-02T00:00").map(|(at, _)| at);
    assert_eq!(at("2006"), Some("2024-12-31T00:00:00+01:00".into()));
    assert_eq!(at("2006-02"), Some("2024-02-28T00:00:00+01:00".into()));
    assert_eq!(at("2006-02-03"), Some("2024-02-03T00:00:00+01:00".into()));
    // Unknown (`""`) or not a date: no age to count; the quarantine of
    // day 0 (1 January) ends first.
    assert_eq!(at(""), Some("2024-01-15T00:00:00+01:00".into()));
    assert_eq!(at("2006-13"), Some("2024-01-15T00:00:00+01:00".into()));
}

/// Every change an hour-by-hour scan sees is the one `next_change`
/// announced, at the microsecond it said.
#[test]
fn no_change_is_missed_between_the_calendar_boundaries() {
    let p = policy();
    let facts = p.facts("{}").unwrap_or_else(|e| unreachable!("{e}"));
    let people = [
        person("2000-02-29", "2018-02-20T23:30", "2017-08-31T10:00"),
        person(
            "2006-10-27",
            "2024-10-20T02:30+02:00",
            "2024-04-30T02:30+02:00",
        ),
        person("2006-03-31", "2024-03-30T12:00", "2023-09-30T23:59"),
        person("1990-01-31", "2024-02-15T00:00", "2024-01-31T00:00"),
        r#"{"dob": "1990-01-01", "arrived": "2017-01-01", "tests": [{"sampled_at": "2024-05-31T00:00"}], "certificate_dob": "2006-02"}"#.to_owned(),
    ];
    let starts = ["2017-12-01T00:00", "2024-03-01T00:00", "2023-12-01T00:00"];
    let mut changes = 0;
    for line in &people {
        for start in starts {
            let now = p.instant(start).unwrap_or_else(|e| unreachable!("{e}"));
            let verdict = |d: &policyc::Decision<'_>| format!("{} {}", d.outcome, kind(d));
            changes += scan::scan(&p, &facts, line, (now, now + 400 * 24 * HOUR), verdict);
        }
    }
    assert!(changes > 10, "{changes}");
}

/// How a person reads calendar conditions, in the policy's language and in
/// Chinese: the condition that holds, the test that is too old, and when
/// the decision changes (the 18th birthday of someone born on 29 February).
#[test]
fn calendar_conditions_are_explained_in_english_and_chinese() {
    let p = policy();
    let facts = p.facts("{}").unwrap_or_else(|e| unreachable!("{e}"));
    let now = p
        .instant("2018-02-27T12:00")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let line = person("2000-02-29", "2018-02-20T18:00", "2017-08-31T10:00");
    let explanation = p
        .explain_json(&facts, &line, now)
        .unwrap_or_else(|e| unreachable!("{e}"));
    for lang in [None, Some("zh")] {
        let words = p.words(lang).unwrap_or_else(|e| unreachable!("{e}"));
        insta::assert_snapshot!(
            format!("explained_{}", lang.unwrap_or("en")),
            explanation.render(&words)
        );
    }
}
