//! The official test cases of the EU DCC business rules of Ireland and
//! France, vendored under tests/fixtures/dcc/IE and tests/fixtures/dcc/FR
//! (see SOURCE.md there), decided by policies/eu-dcc-ie.policy and
//! policies/eu-dcc-fr.policy: each case's payload is the certificate, its
//! `validationClock` the decision's `now` (the rule's `ValidFrom` when the
//! case gives none), its value sets the facts; a case that expects the
//! rule to hold passes when the rule with that code does not fire, and one
//! that expects it to fail passes when it does.

use std::fs;
use std::path::{Path, PathBuf};

use policyc::Policy;
use policyc::decision::NextChange;
use serde_json::{Map, Value};

const IRELAND: &str = include_str!("../policies/eu-dcc-ie.policy");
const FRANCE: &str = include_str!("../policies/eu-dcc-fr.policy");

/// The vendored rules of one country.
fn fixtures(country: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dcc")
        .join(country)
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
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
fn facts_json(keys: &[String], external: &Value, case: &str) -> Result<String, String> {
    let sets = &external["valueSets"];
    let mut facts = Map::new();
    for key in keys {
        let set = sets
            .get(key)
            .ok_or_else(|| format!("{case}: no value set `{key}`"))?;
        facts.insert(key.clone(), set.clone());
    }
    Ok(Value::Object(facts).to_string())
}

/// The entries of a directory, in order of their names.
fn listing(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut paths = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .map(|entry| entry.map(|e| e.path()).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    Ok(paths)
}

/// The rules the policy writes, by code, with the case files of each.
fn rules_with_cases(
    policy: &Policy,
    country: &str,
) -> Result<Vec<(String, Value, Vec<PathBuf>)>, String> {
    let dirs = listing(&fixtures(country))?;
    let codes: Vec<&str> = policy
        .program()
        .rules
        .iter()
        .filter_map(|rule| rule.code.as_deref())
        .collect();
    let mut rules = Vec::new();
    for dir in dirs {
        let rule = read_json(&dir.join("rule.json"))?;
        let Some(code) = rule["Identifier"].as_str().map(str::to_owned) else {
            return Err(format!("{}: no Identifier", dir.display()));
        };
        if !codes.contains(&code.as_str()) {
            continue;
        }
        let cases = listing(&dir.join("tests"))?;
        rules.push((code, rule, cases));
    }
    Ok(rules)
}

/// Decides every official case of `country`'s rules that `policy` writes,
/// and gives how many there were.
fn decide_every_case(country: &str, file: &str, source: &str) -> Result<usize, String> {
    let policy = Policy::compile(file, source).map_err(|e| e.to_string())?;
    let keys = fact_keys(&policy);
    let rules = rules_with_cases(&policy, country)?;
    let mut decided = 0;
    let mut wrong = Vec::new();
    for (code, rule, cases) in &rules {
        for path in cases {
            let case = read_json(path)?;
            let name = format!(
                "{code} {} ({})",
                path.file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
                case["name"].as_str().unwrap_or("unnamed")
            );
            let external = &case["external"];
            let clock = external["validationClock"]
                .as_str()
                .or(rule["ValidFrom"].as_str())
                .ok_or_else(|| format!("{name}: no clock"))?;
            let now = policy.instant(clock).map_err(|e| format!("{name}: {e}"))?;
            let facts = policy
                .facts(&facts_json(&keys, external, &name)?)
                .map_err(|e| format!("{name}: {e}"))?;
            let decision = policy
                .decide_json(&facts, &case["payload"].to_string(), now)
                .map_err(|e| format!("{name}: {e}"))?;
            let fired = decision.rules.iter().any(|r| r.code == Some(code.as_str()));
            let holds = case["expected"]
                .as_bool()
                .ok_or_else(|| format!("{name}: no expected result"))?;
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
        "{decided} official cases of {} {country} rules decided, {} wrong",
        rules.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every rule the policy writes has its official cases here.
    let written = policy
        .program()
        .rules
        .iter()
        .filter(|r| r.code.is_some())
        .count();
    assert_eq!(rules.len(), written, "a rule's code names no vendored rule");
    Ok(decided)
}

#[test]
fn every_official_case_of_ireland_is_decided_as_expected() -> Result<(), String> {
    let decided = decide_every_case("IE", "eu-dcc-ie.policy", IRELAND)?;
    assert_eq!(decided, 135);
    Ok(())
}

#[test]
fn every_official_case_of_france_is_decided_as_expected() -> Result<(), String> {
    let decided = decide_every_case("FR", "eu-dcc-fr.policy", FRANCE)?;
    assert_eq!(decided, 130);
    Ok(())
}

/// The value sets every official FR case gives, as facts.
fn french_facts(policy: &Policy) -> Result<policyc::Facts, String> {
    let case = read_json(&fixtures("FR").join("GR-FR-0000/tests/test001.json"))?;
    let json = facts_json(&fact_keys(policy), &case["external"], "GR-FR-0000 test001")?;
    policy.facts(&json).map_err(|e| e.to_string())
}

const NEXT: policyc::Extras = policyc::Extras {
    next_change: true,
    timeline: false,
    remedies: false,
    witnesses: false,
};

/// `next_change` on the French rules is the instant a window of a rule
/// opens or closes, exactly: 48 hours after a test is taken, 7 calendar
/// days after a vaccination, and none for an entry that gives nothing.
#[test]
fn the_french_rules_change_when_a_window_opens_or_closes() -> Result<(), String> {
    let policy = Policy::compile("eu-dcc-fr.policy", FRANCE).map_err(|e| e.to_string())?;
    let facts = french_facts(&policy)?;
    let instant = |text: &str| policy.instant(text).map_err(|e| e.to_string());
    let test = r#"{"t":[{"tg":"840539006","tt":"LP217198-3","ma":"1232","tr":"260415000","sc":"2021-12-20T08:00:00Z"}]}"#;
    let vaccination = r#"{"v":[{"tg":"840539006","vp":"1119349007","mp":"EU/1/20/1528","ma":"ORG-100030215","dn":2,"sd":2,"dt":"2021-12-18"}]}"#;
    let cases = [
        (
            test,
            "2021-12-20T10:00Z",
            "accepted",
            Some(("2021-12-22T08:00Z", "refused")),
        ),
        (
            vaccination,
            "2021-12-20T10:00Z",
            "refused",
            Some(("2021-12-25T00:00Z", "accepted")),
        ),
        (r#"{"v":[{}]}"#, "2021-12-20T10:00Z", "refused", None),
    ];
    for (certificate, now, outcome, change) in cases {
        let decision = policy
            .decide_json_with(&facts, certificate, instant(now)?, NEXT)
            .map_err(|e| e.to_string())?;
        assert_eq!(decision.outcome, outcome, "{certificate} at {now}");
        match (&decision.next_change, change) {
            (NextChange::At { at, then }, Some((when, next))) => {
                assert_eq!((*at, then.outcome), (instant(when)?, next), "{certificate}");
                // The instant itself decides as just after it.
                let there = policy
                    .decide_json(&facts, certificate, *at)
                    .map_err(|e| e.to_string())?;
                assert_eq!(there.outcome, next, "{certificate} at {when}");
            }
            (NextChange::Never, None) => {}
            (other, _) => return Err(format!("{certificate} at {now}: {other:?}")),
        }
    }
    Ok(())
}

/// An entry that is there but gives nothing is explained as no entry: the
/// rule that counts events says `vaccination is not empty` does not hold.
#[test]
fn an_empty_entry_is_explained_as_no_entry() -> Result<(), String> {
    let policy = Policy::compile("eu-dcc-fr.policy", FRANCE).map_err(|e| e.to_string())?;
    let facts = french_facts(&policy)?;
    let now = policy
        .instant("2021-12-20T10:00Z")
        .map_err(|e| e.to_string())?;
    let words = policy.words(None).map_err(|e| e.to_string())?;
    for (name, certificate) in [
        ("empty-vaccination", r#"{"v":[{}]}"#),
        (
            "empty-vaccination-beside-a-test",
            r#"{"v":[{}],"t":[{"tg":"840539006","tt":"LP6464-4","tr":"260415000","sc":"2021-12-20T08:00:00Z"}]}"#,
        ),
    ] {
        let explanation = policy
            .explain_json(&facts, certificate, now)
            .map_err(|e| e.to_string())?;
        insta::assert_snapshot!(format!("fr-{name}"), explanation.render(&words));
    }
    Ok(())
}

/// `element(L, n)` over a list that changes with `now`: the decision
/// changes the instant the list loses its second element, and
/// `next_change` names that instant.
#[test]
fn a_second_element_changes_when_the_list_does() -> Result<(), String> {
    let text = r#"policy two_tests
outcomes accepted < refused
input certificate { tests from "t": list of { sampled_at from "sc": time? } }
let recent = certificate.tests where sampled_at is not none and now < sampled_at + 48h
rule two_recent when element(recent, 2) is not empty then refused
otherwise accepted
"#;
    let policy = Policy::compile("two_tests.policy", text).map_err(|e| e.to_string())?;
    let facts = policyc::Facts::empty(policy.plan());
    let instant = |text: &str| policy.instant(text).map_err(|e| e.to_string());
    let certificate = r#"{"t":[{"sc":"2021-12-19T08:00:00Z"},{"sc":"2021-12-20T08:00:00Z"}]}"#;
    let decision = policy
        .decide_json_with(&facts, certificate, instant("2021-12-20T10:00Z")?, NEXT)
        .map_err(|e| e.to_string())?;
    assert_eq!(decision.outcome, "refused");
    let NextChange::At { at, then } = &decision.next_change else {
        return Err(format!("{:?}", decision.next_change));
    };
    assert_eq!(
        (*at, then.outcome),
        (instant("2021-12-21T08:00Z")?, "accepted")
    );
    let before = policy
        .decide_json(&facts, certificate, at - 1)
        .map_err(|e| e.to_string())?;
    assert_eq!(before.outcome, "refused");
    Ok(())
}

/// `is empty` reads the fields the schema declares and nothing else: an
/// entry whose only keys are undeclared gives nothing, as one that gives
/// `null`s does, and decides as no entry (a decision never depends on a
/// key the policy does not read: Parquet, which reads only the declared
/// columns, decides alike). Read strictly (`--strict`, test blocks), an
/// undeclared key is bad input naming its place instead.
#[test]
fn is_empty_reads_only_the_declared_fields() -> Result<(), String> {
    let text = r#"policy entries
outcomes accepted < refused
input certificate { vaccinations from "v": list of { dose from "dn": number? } }
rule empty_entry when first(certificate.vaccinations) is empty then refused
otherwise accepted
"#;
    let policy = Policy::compile("entries.policy", text).map_err(|e| e.to_string())?;
    let facts = policyc::Facts::empty(policy.plan());
    let now = policy
        .instant("2021-12-20T10:00Z")
        .map_err(|e| e.to_string())?;
    let outcome = |policy: &Policy, json: &str| {
        policy
            .decide_json(&facts, json, now)
            .map(|d| d.outcome.to_owned())
            .map_err(|e| e.to_string())
    };
    for (json, expected) in [
        (r#"{"v":[{"dn":2}]}"#, "accepted"),
        (r#"{"v":[{}]}"#, "refused"),
        (r#"{"v":[{"dn":null}]}"#, "refused"),
        // Keys the type does not declare give nothing.
        (r#"{"v":[{"dose":2,"ma":"ORG-100030215"}]}"#, "refused"),
        // No entry at all: `first` gives none, which is empty.
        (r#"{"v":[]}"#, "refused"),
    ] {
        assert_eq!(outcome(&policy, json)?, expected, "{json}");
    }
    let strict = policy.strict(true);
    let error = outcome(&strict, r#"{"v":[{"dose":2}]}"#)
        .err()
        .unwrap_or_default();
    assert!(error.contains("v[0].dose"), "{error}");
    Ok(())
}
