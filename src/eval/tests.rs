//! Time windows at their exact boundaries, and the region built-ins on the
//! table's special cases, through the language itself.

use crate::Policy;
use crate::time::SECOND;

const HEADER: &str = r#"
policy windows
timezone "Asia/Shanghai"
outcomes green < red
input person { at: time?, from: time?, to: time?, region: region?, wait: duration? }
facts { since: time? }
"#;

/// Compiles a policy whose only rule is `when COND`.
fn policy(cond: &str) -> Policy {
    let text = format!("{HEADER}\nrule r when {cond} then red\notherwise green\n");
    compiled("test.policy", &text)
}

/// A policy that must compile, its errors rendered if it does not.
pub(super) fn compiled(name: &str, text: &str) -> Policy {
    Policy::compile(name, text).unwrap_or_else(|e| {
        let rendered: Vec<String> = e
            .errors
            .iter()
            .map(|d| crate::render(d.as_ref(), crate::ErrorFormat::Human { colour: false }))
            .collect();
        unreachable!("{}", rendered.join("\n"))
    })
}

fn holds(p: &Policy, person: &str, now: &str) -> bool {
    let facts = crate::Facts::empty(p.plan());
    let now = p.instant(now).unwrap_or_else(|e| unreachable!("{e}"));
    let d = p
        .decide_json(&facts, person, now)
        .unwrap_or_else(|e| unreachable!("{e}"));
    d.outcome == "red"
}

const NOW: &str = "2021-11-01T10:00:00+08:00";

#[test]
fn within_is_closed_at_both_ends() {
    let p = policy("person.at is not none and person.at within 48h");
    for (at, expect) in [
        ("2021-10-30T10:00:00+08:00", true),  // exactly 48h before
        ("2021-10-30T09:59:59+08:00", false), // one second more
        ("2021-11-01T10:00:00+08:00", true),  // exactly now
        ("2021-11-01T10:00:01+08:00", false), // after now: in no past window
    ] {
        assert_eq!(
            holds(&p, &format!(r#"{{"at": "{at}"}}"#), NOW),
            expect,
            "{at}"
        );
    }
}

#[test]
fn overlaps_touches_at_a_single_instant() {
    let p = policy("person.from is not none and [person.from, person.to or now] overlaps 14d");
    for (from, to, expect) in [
        (
            "2021-10-10T00:00:00+08:00",
            "2021-10-18T10:00:00+08:00",
            true,
        ),
        (
            "2021-10-10T00:00:00+08:00",
            "2021-10-18T09:59:59+08:00",
            false,
        ),
        (
            "2021-11-01T10:00:00+08:00",
            "2021-11-03T00:00:00+08:00",
            true,
        ),
        (
            "2021-11-01T10:00:01+08:00",
            "2021-11-03T00:00:00+08:00",
            false,
        ),
        // An interval that ends before it starts is empty.
        (
            "2021-10-30T00:00:00+08:00",
            "2021-10-29T00:00:00+08:00",
            false,
        ),
    ] {
        let person = format!(r#"{{"from": "{from}", "to": "{to}"}}"#);
        assert_eq!(holds(&p, &person, NOW), expect, "{from} .. {to}");
    }
    // No end: still there, so the interval reaches now.
    assert!(holds(&p, r#"{"from": "2021-01-01T00:00:00+08:00"}"#, NOW));
}

#[test]
fn explicit_windows_and_arithmetic() {
    let p =
        policy("person.at is not none and person.at within [2021-10-01, 2021-10-02T00:00+08:00]");
    assert!(holds(&p, r#"{"at": "2021-10-02T00:00:00+08:00"}"#, NOW));
    assert!(!holds(&p, r#"{"at": "2021-10-02T00:00:01+08:00"}"#, NOW));
    let p = policy("person.at is not none and now - person.at >= 1d12h");
    assert!(holds(&p, r#"{"at": "2021-10-30T22:00:00+08:00"}"#, NOW));
    assert!(!holds(&p, r#"{"at": "2021-10-30T22:00:01+08:00"}"#, NOW));
}

#[test]
fn offsetless_instants_are_read_in_the_policy_zone() {
    let p = policy("person.at is not none and person.at within 1h");
    assert!(holds(&p, r#"{"at": "2021-11-01T09:30:00"}"#, NOW));
    assert!(!holds(&p, r#"{"at": "2021-11-01T09:30:00Z"}"#, NOW));
    let _ = SECOND;
}

#[test]
fn municipalities_are_one_prefecture() {
    let p = policy("prefecture(person.region) = prefecture \"110100\"");
    assert!(holds(&p, r#"{"region": "110105"}"#, NOW));
    assert!(holds(&p, r#"{"region": "110114"}"#, NOW));
    assert!(!holds(&p, r#"{"region": "120101"}"#, NOW));
    let p = policy("prefecture(person.region) = prefecture \"500100\"");
    assert!(
        holds(&p, r#"{"region": "500229"}"#, NOW),
        "a Chongqing county"
    );
    assert!(
        holds(&p, r#"{"region": "500101"}"#, NOW),
        "a Chongqing district"
    );
}

#[test]
fn province_administered_counties_are_their_own_prefecture() {
    let p = policy("prefecture(person.region) = county \"429004\"");
    assert!(holds(&p, r#"{"region": "429004"}"#, NOW));
    let p = policy(
        "person.region in province \"420000\" and prefecture(person.region) = person.region",
    );
    assert!(holds(&p, r#"{"region": "429004"}"#, NOW));
    assert!(
        !holds(&p, r#"{"region": "420102"}"#, NOW),
        "a Wuhan district"
    );
}

#[test]
fn cities_without_counties_are_their_own_county() {
    let p = policy(
        "person.region = county \"441900\" and prefecture(person.region) = prefecture \"441900\"",
    );
    assert!(holds(&p, r#"{"region": "441900"}"#, NOW));
}

#[test]
fn unknown_codes_belong_to_nothing_but_match_exactly() {
    let p = policy("prefecture(person.region) is none and province(person.region) is none");
    assert!(holds(&p, r#"{"region": "999999"}"#, NOW));
    let p = policy("person.region not in province \"110000\"");
    assert!(
        holds(&p, r#"{"region": "110199"}"#, NOW),
        "unknown is outside Beijing"
    );
    let p = policy("person.region in [county \"110105\", person.region]");
    assert!(holds(&p, r#"{"region": "999999"}"#, NOW));
}

// ---------------------------------------------------------------------------
// When a decision changes: the candidate instants of each time construct.
// Each case gives the exact instant `next_change` must find, and checks it
// by deciding one second before and one second after.
// ---------------------------------------------------------------------------

/// When the decision for `person` first changes after `NOW`, under `cond`
/// and `facts`, as RFC 3339 in the policy's zone; checked against the
/// decisions on either side of it.
fn changes_at(cond: &str, facts: &str, person: &str) -> Option<String> {
    let p = policy(cond);
    let facts = p.facts(facts).unwrap_or_else(|e| unreachable!("{e}"));
    let now = p.instant(NOW).unwrap_or_else(|e| unreachable!("{e}"));
    let reading = crate::data::Reading::new(&p.program().timezone, p.program().resolve);
    let person = crate::data::decode(person, &p.program().input, reading)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .value;
    let decide = |at: i64| {
        super::Evaluator::new(p.plan(), &facts, &person, at)
            .decide(Vec::new())
            .outcome
    };
    let change = super::what_if::next_change(p.plan(), &facts, &person, now)?;
    // Just before `at` (to the microsecond, and a second before) today's
    // decision holds; just after it, the announced one.
    for before in [change.at - 1, change.at - SECOND] {
        assert_eq!(decide(before), decide(now), "before {}", change.at);
    }
    for after in [change.at + 1, change.at + SECOND] {
        assert_eq!(
            decide(after),
            change.decision.outcome,
            "after {}",
            change.at
        );
    }
    assert_ne!(change.decision.outcome, decide(now));
    Some(crate::time::format_instant(
        change.at,
        &p.program().timezone,
    ))
}

#[test]
fn a_window_closes_its_length_after_a_past_event() {
    let cond = "person.at is not none and person.at within 48h";
    let at = changes_at(cond, "{}", r#"{"at": "2021-10-31T08:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-02T08:00:00+08:00"));
}

#[test]
fn a_window_that_closes_exactly_now_changes_just_after_now() {
    let cond = "person.at is not none and person.at within 48h";
    let at = changes_at(cond, "{}", r#"{"at": "2021-10-30T10:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-01T10:00:00+08:00"));
    let cond = "person.from is not none and [person.from, person.to or now] overlaps 14d";
    let person = r#"{"from": "2021-10-10T08:00:00+08:00", "to": "2021-10-18T10:00:00+08:00"}"#;
    let at = changes_at(cond, "{}", person);
    assert_eq!(at.as_deref(), Some("2021-11-01T10:00:00+08:00"));
}

#[test]
fn a_future_dated_event_opens_its_window_when_it_happens() {
    let cond = "person.at is not none and person.at within 48h";
    // In the future, the event is in no past window; it enters one the
    // instant it happens.
    let at = changes_at(cond, "{}", r#"{"at": "2021-11-03T12:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-03T12:00:00+08:00"));
}

#[test]
fn an_interval_overlapping_a_window_ends_its_length_after_the_interval() {
    let cond = "person.from is not none and [person.from, person.to or now] overlaps 14d";
    let person = r#"{"from": "2021-10-24T08:00:00+08:00", "to": "2021-10-27T18:00:00+08:00"}"#;
    let at = changes_at(cond, "{}", person);
    assert_eq!(at.as_deref(), Some("2021-11-10T18:00:00+08:00"));
    // An open interval (`to or now`) overlaps every window from now on.
    let ongoing = r#"{"from": "2021-10-24T08:00:00+08:00"}"#;
    assert_eq!(changes_at(cond, "{}", ongoing), None);
}

#[test]
fn a_comparison_with_now_minus_a_duration() {
    let cond = "person.at is not none and person.at > now - 14d";
    let at = changes_at(cond, "{}", r#"{"at": "2021-10-25T00:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-08T00:00:00+08:00"));
}

#[test]
fn a_duration_since_an_event() {
    let cond = "person.at is not none and now - person.at < 3d";
    let at = changes_at(cond, "{}", r#"{"at": "2021-10-31T00:00:00+08:00"}"#);
    // `<` holds until three days have passed.
    assert_eq!(at.as_deref(), Some("2021-11-03T00:00:00+08:00"));
}

#[test]
fn two_durations_added_to_an_event() {
    let cond = "person.at is not none and person.at + 1d + 12h >= now";
    let at = changes_at(cond, "{}", r#"{"at": "2021-11-01T00:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-02T12:00:00+08:00"));
}

#[test]
fn a_duration_from_the_data() {
    let cond =
        "person.at is not none and person.wait is not none and now < person.at + person.wait";
    let person = r#"{"at": "2021-11-01T00:00:00+08:00", "wait": "36h"}"#;
    let at = changes_at(cond, "{}", person);
    assert_eq!(at.as_deref(), Some("2021-11-02T12:00:00+08:00"));
}

#[test]
fn now_inside_an_interval_of_the_data() {
    let cond =
        "person.from is not none and person.to is not none and now within [person.from, person.to]";
    let person = r#"{"from": "2021-11-03T00:00:00+08:00", "to": "2021-11-05T00:00:00+08:00"}"#;
    // It opens at `from` ...
    let at = changes_at(cond, "{}", person);
    assert_eq!(at.as_deref(), Some("2021-11-03T00:00:00+08:00"));
    // ... and closes just after `to`.
    let inside = r#"{"from": "2021-10-30T00:00:00+08:00", "to": "2021-11-05T00:00:00+08:00"}"#;
    let at = changes_at(cond, "{}", inside);
    assert_eq!(at.as_deref(), Some("2021-11-05T00:00:00+08:00"));
}

#[test]
fn an_instant_of_the_facts() {
    let cond = "since is not none and now >= since + 1d";
    let at = changes_at(cond, r#"{"since": "2021-11-02T00:00:00+08:00"}"#, "{}");
    assert_eq!(at.as_deref(), Some("2021-11-03T00:00:00+08:00"));
}

#[test]
fn a_constant_instant_of_the_policy() {
    let cond = "now > 2021-11-20T00:00+08:00";
    let at = changes_at(cond, "{}", "{}");
    assert_eq!(at.as_deref(), Some("2021-11-20T00:00:00+08:00"));
}

#[test]
fn nothing_in_time_never_changes() {
    assert_eq!(changes_at("person.region is none", "{}", "{}"), None);
}

// ---------------------------------------------------------------------------
// Witnesses: the records behind each kind of condition.
// ---------------------------------------------------------------------------

/// The `because` lines of rule `r` for `person`, under a policy whose
/// input is a list of tests.
fn because(lets: &str, cond: &str, person: &str) -> Vec<String> {
    let text = format!(
        "policy w\ntimezone \"Asia/Shanghai\"\noutcomes green < red\n\
         input person {{ tests: list of {{ at: time, result: \"negative\" | \"positive\" }} }}\n\
         {lets}\nrule r when {cond} then red\notherwise green\n"
    );
    let p = Policy::compile("w.policy", &text).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = crate::Facts::empty(p.plan());
    let now = p.instant(NOW).unwrap_or_else(|e| unreachable!("{e}"));
    let d = p
        .decide_json(&facts, person, now)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let tz = &p.program().timezone;
    d.rules.first().map(|r| r.because(tz)).unwrap_or_default()
}

const TESTS: &str = r#"{"tests": [{"at": "2021-10-31T10:00:00+08:00", "result": "negative"},
                                  {"at": "2021-10-20T10:00:00+08:00", "result": "positive"}]}"#;

#[test]
fn an_any_names_the_records_that_match() {
    assert_eq!(
        because("", "any person.tests has result = \"positive\"", TESTS),
        ["person.tests: at 2021-10-20T10:00:00+08:00, result positive"]
    );
}

#[test]
fn a_no_gives_the_window_in_which_nothing_qualified() {
    assert_eq!(
        because(
            "",
            "no person.tests has result = \"positive\" and at within 7d",
            TESTS
        ),
        [
            "no element of person.tests has result = \"positive\" and at within 7d \
             (at from 2021-10-25T10:00:00+08:00 to 2021-11-01T10:00:00+08:00)"
        ]
    );
    // Comparisons bound the window too, and bounds on one field intersect.
    assert_eq!(
        because(
            "",
            "no person.tests has at >= 2021-10-21 and at < now and result = \"positive\"",
            TESTS
        ),
        [
            "no element of person.tests has at >= 2021-10-21 and at < now and result = \"positive\" \
             (at from 2021-10-21T00:00:00+08:00 to 2021-11-01T09:59:59.999999+08:00)"
        ]
    );
}

#[test]
fn an_all_that_fails_names_the_records_that_break_it() {
    assert_eq!(
        because(
            "",
            "not (all person.tests has result = \"negative\")",
            TESTS
        ),
        ["person.tests: at 2021-10-20T10:00:00+08:00, result positive"]
    );
}

#[test]
fn a_named_condition_gives_what_stands_behind_the_name() {
    assert_eq!(
        because(
            "let infected = any person.tests has result = \"positive\"",
            "infected",
            TESTS
        ),
        ["person.tests: at 2021-10-20T10:00:00+08:00, result positive"]
    );
}

#[test]
fn other_conditions_are_quoted_as_written() {
    assert_eq!(
        because(
            "",
            "count(person.tests) >= 2 and not (count(person.tests) > 5)",
            TESTS
        ),
        ["count(person.tests) >= 2", "not (count(person.tests) > 5)"]
    );
}

#[test]
fn next_change_follows_the_value_an_if_takes() {
    let cond = "person.at is not none and (if person.wait is none then person.at + 1d else person.at + 3d) > now";
    let at = changes_at(cond, "{}", r#"{"at": "2021-11-01T09:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-02T09:00:00+08:00"));
    let with_wait = r#"{"at": "2021-11-01T09:00:00+08:00", "wait": "1h"}"#;
    let at = changes_at(cond, "{}", with_wait);
    assert_eq!(at.as_deref(), Some("2021-11-04T09:00:00+08:00"));
}

#[test]
fn next_change_finds_where_the_condition_of_an_if_flips() {
    let cond = "person.at is not none and (if now > person.at then person.wait is none else person.wait is not none)";
    let at = changes_at(cond, "{}", r#"{"at": "2021-11-03T00:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-03T00:00:00+08:00"));
}

#[test]
fn next_change_through_an_aggregate_and_its_default() {
    // The latest of two instants, none of them given: the default.
    let cond = "(max([person.at or 2021-11-02, person.from or 2021-11-05]) or now) > now";
    let at = changes_at(cond, "{}", r#"{"from": "2021-11-03T00:00:00+08:00"}"#);
    assert_eq!(at.as_deref(), Some("2021-11-03T00:00:00+08:00"));
}

#[test]
fn a_record_is_empty_when_it_gives_none_of_its_fields() {
    let text = r#"policy entries
outcomes green < red
input person { entries: list of { code: text?, tags: list of text, inner: { note: text? }? } }
rule r when element(person.entries, 2) is empty then red
otherwise green
"#;
    let p = compiled("entries.policy", text);
    let now = "2021-11-01T10:00:00Z";
    for (entries, empty) in [
        (r#"[{}, {}]"#, true),
        (r#"[{}, {"code": null, "tags": [], "inner": null}]"#, true),
        // A field the type does not declare is not one of its fields.
        (r#"[{}, {"extra": 1}]"#, true),
        // No second element: none, which is empty.
        (r#"[{"code": "A"}]"#, true),
        (r#"[{}, {"code": ""}]"#, false),
        (r#"[{}, {"tags": ["a"]}]"#, false),
        // A record given is a field given, though it gives nothing itself.
        (r#"[{}, {"inner": {}}]"#, false),
    ] {
        let person = format!(r#"{{"entries": {entries}}}"#);
        assert_eq!(holds(&p, &person, now), empty, "{entries}");
    }
}

#[test]
fn an_element_is_counted_from_one_and_a_place_past_the_end_is_none() {
    let text = r#"policy places
outcomes green < red
input person { codes: list of text, place: number }
rule r when (element(person.codes, person.place) or "none") = "B" then red
otherwise green
"#;
    let p = compiled("places.policy", text);
    let now = "2021-11-01T10:00:00Z";
    for (place, second) in [
        ("2", true),
        ("1", false),
        ("3", false),
        ("0", false),
        ("1.5", false),
        ("-1", false),
        ("1e300", false),
    ] {
        let person = format!(r#"{{"codes": ["A", "B"], "place": {place}}}"#);
        assert_eq!(holds(&p, &person, now), second, "place {place}");
    }
}
