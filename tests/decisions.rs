//! Decisions for every example case: the shipped examples and the boundary
//! cases of the corpus, each checked against its expected outcome and kind
//! and snapshotted whole as JSON, with the structured witnesses.

mod support;

use support::read;

/// Decides every case of a cases file; returns the failures.
fn decide_cases(cases: &str, snapshot_prefix: &str) -> Vec<String> {
    let (policy, facts) = support::beijing();
    let mut failures = Vec::new();
    for support::Case {
        name,
        json: case,
        now,
        person,
    } in support::cases(&policy, cases)
    {
        let witnesses = policyc::Extras {
            witnesses: true,
            ..Default::default()
        };
        let decision = policy
            .decide_json_with(&facts, &person, now, witnesses)
            .unwrap_or_else(|e| unreachable!("{name}: {e}"));
        let json: serde_json::Value = serde_json::from_str(&decision.to_json()).unwrap_or_default();
        let mut got = serde_json::json!({"outcome": json["outcome"]});
        if let Some(kind) = json.get("kind") {
            got["kind"] = kind.clone();
        }
        if got != case["expect"] {
            failures.push(format!("{name}: expected {}, got {got}", case["expect"]));
        }
        let pretty = serde_json::to_string_pretty(&decision).unwrap_or_default();
        insta::assert_snapshot!(
            format!("{snapshot_prefix}-{name}"),
            pretty,
            case["about"].as_str().unwrap_or("")
        );
    }
    failures
}

#[test]
fn shipped_examples_decide_as_expected() {
    let failures = decide_cases(&read("examples/beijing/cases.jsonl"), "example");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn boundary_cases_decide_as_expected() {
    let failures = decide_cases(
        &read("tests/corpus/decide/beijing-boundaries.jsonl"),
        "boundary",
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The JSON written without serde, from the policy's [`policyc::decision::JsonPlan`]
/// and without one, is serde's, byte for byte, with every extra.
#[test]
fn written_json_is_serdes_with_every_extra() {
    let (policy, facts) = support::beijing();
    let every = policyc::Extras {
        next_change: true,
        timeline: true,
        remedies: true,
        witnesses: true,
    };
    let mut out = String::new();
    let mut cases = 0;
    for file in [
        "examples/beijing/cases.jsonl",
        "tests/corpus/decide/beijing-boundaries.jsonl",
    ] {
        for case in support::cases(&policy, &read(file)) {
            for extras in [policyc::Extras::default(), every] {
                let decision = policy
                    .decide_json_with(&facts, &case.person, case.now, extras)
                    .unwrap_or_else(|e| unreachable!("{}: {e}", case.name));
                let serde = serde_json::to_string(&decision).unwrap_or_default();
                out.clear();
                decision.write_json(&mut out, policy.json_plan());
                assert_eq!(out, serde, "{} with {extras:?}", case.name);
                assert_eq!(decision.to_json(), serde, "{} with {extras:?}", case.name);
                cases += 1;
            }
        }
    }
    assert!(cases > 20, "only {cases} decisions");
}
