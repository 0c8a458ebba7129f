//! `next_change` is exact: one second before `at` the decision is today's,
//! one second after it is the announced one, for the example cases and for
//! a generated population.

#![allow(dead_code)]

#[path = "../benches/support/population.rs"]
mod population;

use policyc::Policy;
use policyc::decision::NextChange;

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = include_str!("../examples/beijing/facts.json");
const SECOND: i64 = 1_000_000;
const NEXT: policyc::Extras = policyc::Extras {
    next_change: true,
    timeline: false,
    remedies: false,
    witnesses: false,
};
const TIMELINE: policyc::Extras = policyc::Extras {
    next_change: false,
    timeline: true,
    remedies: false,
    witnesses: false,
};

/// Outcome and deciding rule: what a change changes.
fn key(d: &policyc::Decision<'_>) -> (String, Option<String>) {
    let rule = d
        .rules
        .iter()
        .find(|r| r.outcome == d.outcome)
        .map(|r| r.name.to_owned());
    (d.outcome.to_owned(), rule)
}

fn check(policy: &Policy, facts: &policyc::Facts, line: &str, now: i64) -> bool {
    let Ok(d) = policy.decide_json_with(facts, line, now, NEXT) else {
        return false;
    };
    let decide = |at: i64| policy.decide_json(facts, line, at).map(|d| key(&d)).ok();
    match &d.next_change {
        NextChange::At { at, then } => {
            // `now` itself when a window closes exactly then.
            assert!(*at >= now, "{line}");
            assert_eq!(decide(at + 1), Some(key(then)), "just after {at}: {line}");
            if at - SECOND >= now {
                assert_eq!(
                    decide(at - SECOND),
                    Some(key(&d)),
                    "one second before {at}: {line}"
                );
            }
            assert_eq!(
                decide(at + SECOND),
                Some(key(then)),
                "one second after {at}: {line}"
            );
            true
        }
        NextChange::Never => {
            for days in [1, 15, 30, 400] {
                assert_eq!(
                    decide(now + days * 86_400 * SECOND),
                    Some(key(&d)),
                    "{line}"
                );
            }
            false
        }
        NextChange::NotAsked => unreachable!("asked for"),
        // Only a folder of dated versions ends.
        NextChange::Ends { .. } => unreachable!("one policy never ends"),
    }
}

#[test]
fn the_classic_case() {
    let policy = Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let now = policy
        .instant("2021-11-01T10:00:00+08:00")
        .unwrap_or_default();
    let person = r#"{"stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-27T18:00:00+08:00"}]}"#;
    let d = policy
        .decide_json_with(&facts, person, now, NEXT)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let NextChange::At { at, then } = &d.next_change else {
        unreachable!("the popup ends")
    };
    assert_eq!(
        policyc::time::format_instant(*at, &policy.program().timezone),
        "2021-11-10T18:00:00+08:00"
    );
    assert_eq!(then.outcome, "green");
}

#[test]
fn exact_on_the_examples_and_a_generated_population() {
    let policy = Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let now = policy.instant(population::NOW).unwrap_or_default();
    let people = population::population(400, 11);
    let examples = include_str!("../examples/beijing/people.jsonl");
    let mut changing = 0;
    for line in people.lines().chain(examples.lines()) {
        changing += usize::from(check(&policy, &facts, line, now));
    }
    assert!(changing > 10, "the popups end at some point: {changing}");
}

#[test]
fn exact_on_the_boundary_cases() {
    let policy = Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let cases = include_str!("corpus/decide/beijing-boundaries.jsonl");
    for line in cases.lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        let now = policy
            .instant(case["now"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| unreachable!("{e}"));
        check(&policy, &facts, &case["person"].to_string(), now);
    }
}

#[test]
fn timelines_run_until_the_decision_stops_changing() {
    let policy = Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let now = policy.instant(population::NOW).unwrap_or_default();
    let people = population::population(100, 5);
    for line in people.lines() {
        let d = policy
            .decide_json_with(&facts, line, now, TIMELINE)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let steps = d.timeline.unwrap_or_default();
        assert_eq!(steps.first().map(|(at, _)| *at), Some(now));
        for pair in steps.windows(2) {
            let ((a, _), (b, then)) = (&pair[0], &pair[1]);
            assert!(b > a, "steps move forward: {line}");
            let after = policy
                .decide_json(&facts, line, b + SECOND)
                .map(|d| key(&d))
                .ok();
            assert_eq!(after, Some(key(then)), "{line}");
        }
        let last = steps.last().map(|(_, d)| key(d));
        let much_later = policy
            .decide_json(&facts, line, now + 400 * 86_400 * SECOND)
            .map(|d| key(&d))
            .ok();
        assert_eq!(last, much_later, "the last step holds for good: {line}");
    }
}
