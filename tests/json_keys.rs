//! Every JSON object the CLI prints has each key once: decisions with every
//! extra, explanations, error lines and diagnostics, read by a reader that
//! refuses a repeated key (serde_json would silently keep the last one, as
//! most JSON readers do, so that a payload field named `outcome` would pass
//! for the outcome).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "support/bin.rs"]
mod bin;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Any JSON value, read only to see that no object repeats a key.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// Reads one line of JSON, refusing repeated keys at any depth.
fn unique_keys(line: &str) -> Result<(), String> {
    serde_json::from_str::<UniqueKeys>(line)
        .map(|_| ())
        .map_err(|e| format!("{e}: {line}"))
}

#[test]
fn the_reader_refuses_repeated_keys_at_any_depth() {
    assert!(unique_keys(r#"{"a": 1, "b": [{"a": 2}], "c": {"a": null}}"#).is_ok());
    assert!(unique_keys(r#"{"outcome": "fail", "outcome": "x"}"#).is_err());
    assert!(unique_keys(r#"{"a": [1, {"b": 1, "c": {"d": 1, "d": 2}}]}"#).is_err());
    assert!(unique_keys(r#"[{"x": true}, {"x": false, "x": true}]"#).is_err());
    assert!(unique_keys("not json").is_err());
}

/// A policy whose payload fields are reserved words, with a remedy and a
/// decision that changes, so that every extra has something to print.
const POLICY: &str = "tests/corpus/decide/keywords-as-payload.policy";

const NOW: &str = "2021-11-01T10:00:00+08:00";

/// A person who fails, one whose test will expire, one minor, and a line
/// that cannot be decided.
const PEOPLE: &str = r#"{"id": "a", "age": 30, "tests": []}
{"id": "b", "age": 30, "tests": [{"sampled_at": "2021-11-01T08:00:00+08:00"}]}
{"id": "c", "age": 12, "tests": []}
{"id": "d", "age": "thirty"}
"#;

/// The payload fields of `POLICY`.
const PAYLOAD: [&str; 3] = ["when", "test", "then"];

fn policy_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("policyc-json-keys-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(name);
    let _ = std::fs::write(&path, text);
    path
}

fn policyc(args: &[&str], stdin: &str) -> Output {
    bin::policyc_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, stdin)
}

/// Every line of `text`, each of which must be JSON with unique keys.
fn json_lines(what: &str, text: &[u8]) -> Vec<serde_json::Value> {
    let text = String::from_utf8_lossy(text);
    assert!(!text.trim().is_empty(), "{what}: printed nothing");
    text.lines()
        .map(|line| {
            if let Err(e) = unique_keys(line) {
                unreachable!("{what}: {e}");
            }
            serde_json::from_str(line).unwrap_or_else(|e| unreachable!("{what}: {e}"))
        })
        .collect()
}

/// The keys of a decision (or a brief one) that are not its payload's are
/// the decision's own, as `decision::KEYS` lists them.
fn keys_are_the_decisions(what: &str, decision: &serde_json::Value) {
    let Some(object) = decision.as_object() else {
        unreachable!("{what}: not an object: {decision}")
    };
    let known: Vec<&str> = policyc::decision::KEYS.iter().map(|(k, _)| *k).collect();
    for key in object.keys() {
        assert!(
            PAYLOAD.contains(&key.as_str()) || known.contains(&key.as_str()),
            "{what}: `{key}` is neither a payload field nor in decision::KEYS"
        );
    }
    if let Some(next) = object.get("next_change").filter(|n| !n.is_null()) {
        keys_are_the_decisions(what, next);
    }
    for list in ["timeline", "remedies"] {
        for step in object
            .get(list)
            .and_then(|l| l.as_array())
            .into_iter()
            .flatten()
        {
            keys_are_the_decisions(what, step);
        }
    }
}

#[test]
fn every_decision_has_each_key_once() {
    let base = ["eval", POLICY, "--input", "-", "--now", NOW];
    let extras: [&[&str]; 6] = [
        &[],
        &["--next-change"],
        &["--timeline"],
        &["--remedies"],
        &["--witnesses"],
        &["--next-change", "--timeline", "--remedies", "--witnesses"],
    ];
    for extra in extras {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let what = args.join(" ");
        let o = policyc(&args, PEOPLE);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{what}: the bad line gives exit 3"
        );
        let lines = json_lines(&what, &o.stdout);
        assert_eq!(lines.len(), 4, "{what}: one line per person");
        for decision in &lines[..3] {
            keys_are_the_decisions(&what, decision);
        }
        // Reserved words are payload fields like any other.
        assert_eq!(lines[0]["when"], "no test in 48h", "{what}");
        assert_eq!(lines[2]["test"].as_f64(), Some(1.0), "{what}");
        assert_eq!(lines[2]["then"], true, "{what}");
        assert!(lines[3]["error"].is_string(), "{what}: an error line");
        if extra.contains(&"--next-change") {
            assert_eq!(lines[1]["next_change"]["when"], "no test in 48h", "{what}");
        }
        if extra.contains(&"--remedies") {
            assert_eq!(lines[0]["remedies"][0]["remedy"], "take a test", "{what}");
        }
    }
}

#[test]
fn reserved_words_are_payload_fields_in_test_blocks() {
    let o = policyc(&["test", POLICY], "");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

#[test]
fn every_explanation_has_each_key_once() {
    let args = [
        "explain", POLICY, "--input", "-", "--now", NOW, "--format", "json",
    ];
    let o = policyc(&args, PEOPLE);
    let lines = json_lines("explain --format json", &o.stdout);
    assert_eq!(lines.len(), 4);
    for explanation in &lines[..3] {
        keys_are_the_decisions("explain --format json", &explanation["decision"]);
    }
    // The Beijing policy, in its languages, with its real data.
    for lang in ["zh", "en"] {
        let o = policyc(
            &[
                "explain",
                "policies/beijing-2021-10-30.policy",
                "--input",
                "examples/beijing/people.jsonl",
                "--facts",
                "examples/beijing/facts.json",
                "--now",
                NOW,
                "--lang",
                lang,
                "--format",
                "json",
            ],
            "",
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        json_lines(&format!("explain --lang {lang}"), &o.stdout);
    }
}

#[test]
fn every_diagnostic_has_each_key_once() {
    let broken = policy_file("broken.policy", "policy broken\noutcomes green\n@@\n");
    let unchecked = policy_file(
        "unchecked.policy",
        "policy unchecked\noutcomes green < fail\ninput person { age: number }\n\
         rule r when person.agee > 1 then fail(outcome: \"x\")\notherwise green\n",
    );
    let warned = policy_file(
        "warned.policy",
        "policy warned\noutcomes green < fail\ninput person { age: number }\n\
         let unused = 1\nrule r when person.age > 1 then fail\notherwise green\n",
    );
    let facts = policy_file(
        "facts.json",
        r#"{"case_counties": ["999999"], "beijing_risk_areas": []}"#,
    );
    let path = |p: &PathBuf| p.to_string_lossy().into_owned();
    let mut runs: Vec<(Vec<String>, &str)> = vec![
        (vec!["check".into(), path(&broken)], ""),
        (vec!["check".into(), path(&unchecked)], ""),
        (vec!["check".into(), path(&warned)], ""),
        (vec!["fmt".into(), "--check".into(), path(&broken)], ""),
        (vec!["test".into(), path(&unchecked)], ""),
        (
            vec!["eval".into(), path(&warned), "--input".into(), "-".into()],
            "{\"age\": \"x\"}",
        ),
        (
            vec![
                "eval".into(),
                path(&warned),
                "--input".into(),
                "/nonexistent/people.json".into(),
            ],
            "",
        ),
        (
            vec![
                "eval".into(),
                path(&warned),
                "--input".into(),
                "-".into(),
                "--now".into(),
                "yesterday".into(),
            ],
            "{}",
        ),
    ];
    // A warning about the facts (a region code not in the table).
    let beijing = "policies/beijing-2021-10-30.policy".to_owned();
    let eval_facts = ["eval", &beijing, "--input", "-", "--facts", &path(&facts)];
    runs.push((eval_facts.iter().map(|a| (*a).to_owned()).collect(), "{}"));
    for (args, stdin) in runs {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--error-format", "json"]);
        let o = policyc(&args, stdin);
        json_lines(&args.join(" "), &o.stderr);
    }
}
