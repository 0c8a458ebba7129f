//! The official test cases of Ireland's EU DCC business rules, vendored
//! under tests/fixtures/dcc/IE (see SOURCE.md there), decided by
//! policies/eu-dcc-ie.policy: each case's payload is the certificate, its
//! `validationClock` the decision's `now` (the rule's `ValidFrom` when the
//! case gives none), its value sets the facts; a case that expects the
//! rule to hold passes when the rule with that code does not fire, and one
//! that expects it to fail passes when it does.

use std::fs;
use std::path::{Path, PathBuf};

use policyc::Policy;
use serde_json::{Map, Value};

const POLICY: &str = include_str!("../policies/eu-dcc-ie.policy");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dcc/IE")
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON keys of the policy's facts, each a key of the cases' value sets.
fn fact_keys(policy: &Policy) -> Vec<String> {
    let facts = &policy.program().facts;
    facts
        .fields
        .iter()
        .enumerate()
        .map(|(slot, (name, _))| {
            facts
                .keys
                .iter()
                .find(|(s, _)| *s == slot)
                .map_or_else(|| name.clone(), |(_, key)| key.clone())
        })
        .collect()
}

/// The facts of one case: the value sets the policy declares, each of
/// which the case must give.
fn facts_json(keys: &[String], external: &Value, case: &str) -> String {
    let sets = &external["valueSets"];
    let mut facts = Map::new();
    for key in keys {
        let set = sets
            .get(key)
            .unwrap_or_else(|| panic!("{case}: no value set `{key}`"));
        facts.insert(key.clone(), set.clone());
    }
    Value::Object(facts).to_string()
}

/// The rules the policy writes, by code, with the case files of each.
fn rules_with_cases(policy: &Policy) -> Vec<(String, Value, Vec<PathBuf>)> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(fixtures())
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{e}")).path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    let codes: Vec<&str> = policy
        .program()
        .rules
        .iter()
        .filter_map(|rule| rule.code.as_deref())
        .collect();
    let mut rules = Vec::new();
    for dir in dirs {
        let rule = read_json(&dir.join("rule.json"));
        let Some(code) = rule["Identifier"].as_str().map(str::to_owned) else {
            panic!("{}: no Identifier", dir.display());
        };
        if !codes.contains(&code.as_str()) {
            continue;
        }
        let mut cases: Vec<PathBuf> = fs::read_dir(dir.join("tests"))
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|entry| entry.unwrap_or_else(|e| panic!("{e}")).path())
            .collect();
        cases.sort();
        rules.push((code, rule, cases));
    }
    rules
}

#[test]
fn every_official_case_of_the_rules_written_is_decided_as_expected() {
    let policy = Policy::compile("eu-dcc-ie.policy", POLICY).unwrap_or_else(|e| panic!("{e}"));
    let keys = fact_keys(&policy);
    let rules = rules_with_cases(&policy);
    let mut decided = 0;
    let mut wrong = Vec::new();
    for (code, rule, cases) in &rules {
        for path in cases {
            let case = read_json(path);
            let name = format!(
                "{code} {} ({})",
                path.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned()),
                case["name"].as_str().unwrap_or("unnamed")
            );
            let external = &case["external"];
            let clock = external["validationClock"]
                .as_str()
                .or(rule["ValidFrom"].as_str())
                .unwrap_or_else(|| panic!("{name}: no clock"));
            let now = policy.instant(clock).unwrap_or_else(|e| panic!("{name}: {e}"));
            let facts = policy
                .facts(&facts_json(&keys, external, &name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let decision = policy
                .decide_json(&facts, &case["payload"].to_string(), now)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let fired = decision.rules.iter().any(|r| r.code == Some(code.as_str()));
            let holds = case["expected"]
                .as_bool()
                .unwrap_or_else(|| panic!("{name}: no expected result"));
            decided += 1;
            if fired == holds {
                wrong.push(format!(
                    "{name}: expected the rule to {}, it {}",
                    if holds { "hold" } else { "fail" },
                    if fired { "fired" } else { "did not fire" }
                ));
            }
        }
    }
    println!(
        "{decided} official cases of {} IE rules decided, {} wrong",
        rules.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every rule the policy writes has its official cases here.
    let written = policy.program().rules.iter().filter(|r| r.code.is_some()).count();
    assert_eq!(rules.len(), written, "a rule's code names no vendored rule");
    assert!(decided > 0);
}
