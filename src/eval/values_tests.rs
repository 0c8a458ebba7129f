//! The tests on text, `if`, and the aggregates over lists, through the
//! language itself: their values at the edges (empty lists and texts,
//! ties, case, characters beyond ASCII).

use crate::Policy;

const HEADER: &str = r#"
policy values
timezone "Europe/Paris"
outcomes green < red
input person {
  id: text,
  n: number?,
  xs: list of number,
  ds: list of duration,
  tests: list of { at: time, result: text },
}
"#;

/// Compiles a policy whose `let`s are `lets` and whose only rule is
/// `when COND`.
fn policy(lets: &str, cond: &str) -> Policy {
    let text = format!("{HEADER}\n{lets}\nrule r when {cond} then red\notherwise green\n");
    super::tests::compiled("values.policy", &text)
}

/// Whether `cond` holds for `person`.
fn holds(cond: &str, person: &str) -> bool {
    holds_with("", cond, person)
}

/// Whether `cond` holds for `person`, after the `let`s `lets`.
fn holds_with(lets: &str, cond: &str, person: &str) -> bool {
    let p = policy(lets, cond);
    let facts = crate::Facts::empty(p.plan());
    let now = p
        .instant("2021-11-01T10:00:00+01:00")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let d = p
        .decide_json(&facts, person, now)
        .unwrap_or_else(|e| unreachable!("{e}"));
    d.outcome == "red"
}

/// A person with this id and these numbers, durations and tests.
fn person(id: &str, xs: &str, ds: &str, tests: &str) -> String {
    format!(r#"{{"id": {id:?}, "xs": {xs}, "ds": {ds}, "tests": {tests}}}"#)
}

#[test]
fn text_tests_are_exact_and_count_characters() {
    let fr = person("URN:UVCI:01:FR:ABC", "[]", "[]", "[]");
    assert!(holds(r#"person.id starts with "URN:UVCI:01:FR""#, &fr));
    assert!(holds(r#"person.id starts with """#, &fr));
    assert!(!holds(r#"person.id starts with "urn""#, &fr));
    assert!(holds(r#"lower(person.id) starts with "urn""#, &fr));
    assert!(holds(r#"person.id ends with ":ABC""#, &fr));
    assert!(!holds(r#"person.id ends with "URN""#, &fr));
    assert!(holds(r#"person.id contains ":01:""#, &fr));
    assert!(!holds(r#"person.id contains "02""#, &fr));
    assert!(holds("length(person.id) = 18", &fr));
    let beijing = person("北京", "[]", "[]", "[]");
    assert!(holds("length(person.id) = 2", &beijing));
    assert!(holds(r#"lower("ÉTÉ") = "été""#, &beijing));
}

#[test]
fn an_if_takes_one_value_or_the_other() {
    let some = r#"{"id": "x", "n": 5, "xs": [], "ds": [], "tests": []}"#;
    let none = r#"{"id": "x", "xs": [], "ds": [], "tests": []}"#;
    // The `then` value knows what the condition proves.
    let cond = "(if person.n is not none then person.n else 0) > 3";
    assert!(holds(cond, some));
    assert!(!holds(cond, none));
    let cond = r#"(if person.n is none then "none" else "some") = "some""#;
    assert!(holds(cond, some) && !holds(cond, none));
    // Nested, and as a condition of its own.
    let cond = "if person.n is none then false else if person.n > 4 then true else false";
    assert!(holds(cond, some) && !holds(cond, none));
}

#[test]
fn aggregates_of_empty_lists_take_the_default() {
    let empty = person("x", "[]", "[]", "[]");
    assert!(holds("(min(person.xs) or -1) = -1", &empty));
    assert!(holds("(max(person.xs) or -1) = -1", &empty));
    assert!(holds("(first(person.xs) or -1) = -1", &empty));
    assert!(holds("(last(person.xs) or -1) = -1", &empty));
    assert!(holds("sum(person.xs) = 0", &empty));
    assert!(holds("sum(person.ds) = 0s", &empty));
    assert!(holds("count(distinct(person.xs)) = 0", &empty));
    assert!(holds("latest of person.tests by at is none", &empty));
}

#[test]
fn aggregates_read_the_list_in_order() {
    let p = person("x", "[3, 1, 2, 3]", r#"["1h", "30m"]"#, "[]");
    assert!(holds("(min(person.xs) or 0) = 1", &p));
    assert!(holds("(max(person.xs) or 0) = 3", &p));
    assert!(holds("(first(person.xs) or 0) = 3", &p));
    assert!(holds("(last(person.xs) or 0) = 3", &p));
    assert!(holds("sum(person.xs) = 9", &p));
    assert!(holds("sum(person.ds) = 90m", &p));
    assert!(holds("count(distinct(person.xs)) = 3", &p));
    assert!(holds("(max(person.ds) or 0s) = 1h", &p));
}

#[test]
fn latest_and_earliest_pick_a_record_the_first_on_a_tie() {
    let tests = r#"[
        {"at": "2021-10-30T10:00:00+02:00", "result": "a"},
        {"at": "2021-10-31T10:00:00+01:00", "result": "b"},
        {"at": "2021-10-31T10:00:00+01:00", "result": "c"},
        {"at": "2021-10-29T10:00:00+02:00", "result": "d"}
    ]"#;
    let p = person("x", "[]", "[]", tests);
    let picked = |which: &str, result: &str| {
        let cond = format!(
            "(if ({which} of person.tests by at) is none then false \
             else any [{which} of person.tests by at] has it is not none)"
        );
        assert!(holds(&cond, &p), "{which} is some");
        let by_let = format!("{which} of person.tests by at");
        holds_with(
            &format!("let picked = {by_let}"),
            &format!("picked is not none and picked.result = \"{result}\""),
            &p,
        )
    };
    assert!(picked("latest", "b"));
    assert!(!picked("latest", "c"));
    assert!(picked("earliest", "d"));
    // Ordered by another value, in parentheses.
    assert!(holds_with(
        "let longest = latest of person.tests by (length(result) + 0)",
        "longest is not none and longest.result = \"a\"",
        &p,
    ));
}
