//! Explanations for people: every example case explained in the policy's
//! own language (Chinese) and in English, snapshotted whole; and the
//! things every explanation must say, checked on each.

mod support;

use policyc::Policy;
use support::{POLICY, read};

/// Explains every case of a cases file in `lang`, snapshotting each.
fn explain_cases(cases: &str, prefix: &str, lang: Option<&str>) {
    let (policy, facts) = support::beijing();
    let words = policy.words(lang).unwrap_or_else(|e| unreachable!("{e}"));
    for support::Case {
        name,
        json: case,
        now,
        person,
    } in support::cases(&policy, cases)
    {
        let explanation = policy
            .explain_json(&facts, &person, now)
            .unwrap_or_else(|e| unreachable!("{name}: {e}"));
        let text = explanation.render(&words);
        // What every explanation says: the decision, every rule, and when
        // it changes.
        let outcome = explanation.decision.outcome;
        let label = match (outcome, lang) {
            ("green", None) => "绿码",
            ("popup", None) => "弹窗",
            ("green", _) => "green code",
            _ => "pop-up",
        };
        assert!(text.contains(label), "{name}: no outcome in\n{text}");
        assert_eq!(
            text.matches(['●', '○', '◐']).count(),
            policy.program().rules.len(),
            "{name}: not every rule in\n{text}"
        );
        let lang = lang.unwrap_or("zh");
        insta::assert_snapshot!(
            format!("{prefix}-{name}-{lang}"),
            text,
            case["about"].as_str().unwrap_or("")
        );
    }
}

#[test]
fn shipped_examples_are_explained_in_chinese() {
    explain_cases(&read("examples/beijing/cases.jsonl"), "example", None);
}

#[test]
fn shipped_examples_are_explained_in_english() {
    explain_cases(&read("examples/beijing/cases.jsonl"), "example", Some("en"));
}

#[test]
fn boundary_cases_are_explained() {
    explain_cases(
        &read("tests/corpus/decide/beijing-boundaries.jsonl"),
        "boundary",
        None,
    );
}

#[test]
fn a_case_county_names_the_county_the_dates_and_when_it_turns_green() {
    let policy = Policy::compile(POLICY, &read(POLICY)).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy
        .facts(r#"{"case_counties": ["152923"]}"#)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let person = r#"{"id": "P", "phones": [{"number": "1", "bound_at": "2021-01-05T00:00:00+08:00", "itinerary_checked": true}],
        "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-27T18:00:00+08:00"}]}"#;
    let now = policy
        .instant("2021-11-01T10:00:00+08:00")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let e = policy
        .explain_json(&facts, person, now)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let zh = e.render(&policy.words(None).unwrap_or_else(|e| unreachable!("{e}")));
    for part in [
        "内蒙古自治区阿拉善盟额济纳旗（152923）",
        "2021年10月27日 18:00",
        "2021年11月10日 18:00 之后，结果变为绿码",
        "请按照防疫要求暂缓来京",
    ] {
        assert!(zh.contains(part), "no {part:?} in\n{zh}");
    }
    let en = e.render(
        &policy
            .words(Some("en"))
            .unwrap_or_else(|e| unreachable!("{e}")),
    );
    assert!(
        en.contains("just after 10 November 2021, 18:00, the decision becomes green code"),
        "{en}"
    );
}

#[test]
fn an_unknown_language_says_which_there_are() {
    let policy = Policy::compile(POLICY, &read(POLICY)).unwrap_or_else(|e| unreachable!("{e}"));
    let err = policy
        .words(Some("fr"))
        .err()
        .map(|e| (e.to_string(), e.help));
    assert_eq!(
        err,
        Some((
            "the policy has no messages in `fr`".to_owned(),
            "it speaks `zh`, `en`; add `messages \"fr\" { ... }` to it for more".to_owned()
        ))
    );
    // Tags compare without regard to case; the own language needs no block.
    assert!(policy.words(Some("EN")).is_ok());
    assert!(policy.words(Some("zh")).is_ok());
}

/// A list is named by what the plan knows it as, not by reading its text:
/// a path in parentheses, or one written across lines, goes by its name.
#[test]
fn a_list_goes_by_its_name_however_it_is_written() {
    for subject in ["person.tests", "(person.tests)", "person\n    .tests"] {
        let text = format!(
            "policy p\noutcomes green < red\ninput person {{ tests: list of {{ ok: bool }} }}\n\
             rule r when any {subject} has ok then red\notherwise green\n\
             messages \"en\" {{\n  outcome green \"green\"\n  outcome red \"red\"\n  name tests \"test results\"\n}}\n"
        );
        let policy = Policy::compile("p.policy", &text).unwrap_or_else(|e| unreachable!("{e}"));
        let facts = policyc::Facts::empty(policy.plan());
        let explanation = policy
            .explain_json(&facts, r#"{"tests":[{"ok":true}]}"#, 0)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let words = policy
            .words(Some("en"))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let rendered = explanation.render(&words);
        assert!(
            rendered.contains("test results: ok yes"),
            "{subject:?}:\n{rendered}"
        );
    }
}

/// An `if`: the explanation says which value was taken and why, in both
/// languages, read from the evaluation's trace.
#[test]
fn an_if_says_which_value_was_taken() {
    let text = r#"policy p "certificates"
language "zh"
timezone "Europe/Paris"
outcomes green < red
input person { id: text, age: number, tests: list of { at: time, ok: bool } }
rule r "检测"
  when if person.age < 12 then false
       else if any person.tests has ok and at within 72h then person.id starts with "XX"
       else count(person.tests) < (if person.id starts with "FR" then 1 else 2)
  then red
otherwise green
messages "en" {
  policy "certificates"
  rule r "tests"
  outcome green "green"
  outcome red "red"
}
"#;
    let policy = Policy::compile("p.policy", text).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policyc::Facts::empty(policy.plan());
    let now = policy
        .instant("2021-11-01T10:00+01:00")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let people = [
        ("child", r#"{"id":"FR1","age":10,"tests":[]}"#),
        (
            "recent-test",
            r#"{"id":"XX1","age":30,"tests":[{"at":"2021-10-31T10:00+01:00","ok":true}]}"#,
        ),
        ("no-test", r#"{"id":"DE1","age":30,"tests":[]}"#),
    ];
    for (name, person) in people {
        let explanation = policy
            .explain_json(&facts, person, now)
            .unwrap_or_else(|e| unreachable!("{e}"));
        for lang in [None, Some("en")] {
            let words = policy.words(lang).unwrap_or_else(|e| unreachable!("{e}"));
            insta::assert_snapshot!(
                format!("if-{name}-{}", lang.unwrap_or("zh")),
                explanation.render(&words)
            );
        }
    }
}
