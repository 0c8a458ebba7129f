//! The audit of issue 10's "Done when": the constructs beyond calendar
//! units (aggregates over times, `if`, text tests, names from the data,
//! rule codes, `is empty`) together in one policy of a European zone
//! (`tests/corpus/decide/constructs.policy`), with `next_change` exact at
//! the calendar boundaries they meet (the end of February, the change to
//! summer time, a birthday on 29 February), as an hour-by-hour scan
//! confirms, and their explanations in English and Chinese. (Calendar
//! units alone: `tests/calendar.rs`.)

#[path = "support/scan.rs"]
mod scan;

use policyc::Policy;
use scan::HOUR;

const POLICY: &str = "tests/corpus/decide/constructs.policy";

fn policy() -> Policy {
    Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"))
}

/// A person with a French certificate, born on `born`, with one dose
/// (with its product) on `dose`, and tests of two kinds sampled on
/// `tests` (or one test alone, of one kind, if one instant is given).
fn person(born: &str, recovered: bool, dose: &str, tests: &[&str]) -> String {
    let kinds = ["pcr", "rat"];
    let tests: Vec<String> = (tests.iter().zip(kinds))
        .map(|(at, kind)| format!(r#"{{"sc": "{at}", "tt": "{kind}"}}"#))
        .collect();
    format!(
        r#"{{"date-of-birth": "{born}", "recovered": {recovered}, "certificate-id": "URN:UVCI:01:FR:X", "doses": [{{"dt": "{dose}", "mp": "EU/1/20/1528"}}], "tests": [{}], "r": [{{"co": "FR"}}]}}"#,
        tests.join(", ")
    )
}

/// The verdict, as `next_change` follows it: the outcome and the rule
/// that decided.
fn fired(d: &policyc::Decision<'_>) -> String {
    format!("{} {}", d.outcome, d.deciding_rule().unwrap_or_default())
}

/// The announced change: when, and the verdict after it.
fn next(p: &Policy, line: &str, now: &str) -> Option<(String, String)> {
    scan::announced(p, line, now, fired)
}

/// `latest of`/`max` of the doses plus 9 months (6 after recovery), in an
/// `if`, ends on the last day of February when the dose was on the 31st
/// of May (of August).
#[test]
fn an_aggregate_in_an_if_plus_months_ends_at_the_end_of_february() {
    let p = policy();
    let tests = ["2024-01-02T10:00", "2024-01-03T10:00"];
    let line = person("1990-05-12", false, "2023-05-31T10:00", &tests);
    assert_eq!(
        next(&p, &line, "2024-02-01T00:00"),
        Some((
            "2024-02-29T10:00:00+01:00".into(),
            "refused protection".into()
        ))
    );
    let line = person("1990-05-12", true, "2022-08-31T10:00", &tests);
    assert_eq!(
        next(&p, &line, "2023-02-01T00:00").map(|(at, _)| at),
        Some("2023-02-28T10:00:00+01:00".into())
    );
}

/// The earliest test (`min`) plus 14 calendar days across the change to
/// summer time: 10:00 in summer time, 13 days and 23 hours later.
#[test]
fn the_earliest_test_plus_calendar_days_across_summer_time() {
    let p = policy();
    let line = person(
        "1990-05-12",
        false,
        "2024-01-10T10:00",
        &["2024-03-20T10:00"],
    );
    assert_eq!(
        next(&p, &line, "2024-03-21T00:00"),
        Some(("2024-04-03T10:00:00+02:00".into(), "refused tests".into()))
    );
}

/// An age inside an `if`: born on 29 February, 18 on 28 February of a
/// common year, when the `if` takes the age.
#[test]
fn an_age_in_an_if_turns_18_on_28_february() {
    let p = policy();
    let line = person(
        "2004-02-29",
        false,
        "2021-12-10T10:00",
        &["2022-02-20T10:00"],
    );
    assert_eq!(
        next(&p, &line, "2022-02-21T00:00"),
        Some(("2022-02-28T00:00:00+01:00".into(), "admitted ".into()))
    );
}

/// Every change an hour-by-hour scan sees is the one `next_change`
/// announced, at the microsecond it said.
#[test]
fn no_change_is_missed_between_the_boundaries() {
    let p = policy();
    let facts = p.facts("{}").unwrap_or_else(|e| unreachable!("{e}"));
    let people = [
        person(
            "2004-02-29",
            false,
            "2021-05-31T10:00",
            &["2022-02-20T10:00"],
        ),
        person(
            "1990-05-12",
            true,
            "2021-08-31T10:00",
            &["2021-10-20T02:30+02:00"],
        ),
        person(
            "2004-03-01",
            false,
            "2021-11-30T23:30",
            &["2022-03-20T10:00"],
        ),
    ];
    let start = p
        .instant("2021-10-01T00:00")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let changes: usize = (people.iter())
        .map(|line| scan::scan(&p, &facts, line, (start, start + 300 * 24 * HOUR), fired))
        .sum();
    assert!(changes >= 6, "{changes}");
}

/// How a person reads the constructs, in the policy's language and in
/// Chinese: a certificate of another country (`lower`, `starts with`), a
/// dose without its product (`latest of`), an old first test of one kind
/// (`min`, `distinct`), an empty recovery entry (`is empty`), each rule
/// with its code; and when it changes.
#[test]
fn the_constructs_are_explained_in_english_and_chinese() {
    let p = policy();
    let facts = p.facts("{}").unwrap_or_else(|e| unreachable!("{e}"));
    let now = p
        .instant("2024-02-27T12:00")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let line = r#"{"date-of-birth": "1990-05-12", "recovered": true, "certificate-id": "urn:uvci:01:de:X", "doses": [{"dt": "2023-08-31T10:00"}], "tests": [{"sc": "2024-02-01T10:00", "tt": "pcr"}, {"sc": "2024-02-10T10:00", "tt": "pcr"}], "r": [{}]}"#;
    let explanation = p
        .explain_json(&facts, line, now)
        .unwrap_or_else(|e| unreachable!("{e}"));
    for lang in [None, Some("zh")] {
        let words = p.words(lang).unwrap_or_else(|e| unreachable!("{e}"));
        insta::assert_snapshot!(
            format!("explained_{}", lang.unwrap_or("en")),
            explanation.render(&words)
        );
    }
    let decision = p
        .decide_json_with(&facts, line, now, scan::NEXT)
        .unwrap_or_else(|e| unreachable!("{e}"));
    insta::assert_snapshot!("decided", decision.to_json());
}
