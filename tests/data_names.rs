//! Names from the data (issue 10 item 6): fields that read keys which are
//! not names (`tests from "t": ...`), and rules that carry their
//! authority's codes (`rule positive_test code "TR-IE-0001"`), end to end.

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{lines, run, stderr, stdout};

const POLICY: &str = "tests/fixtures/data-names/certificates.policy";
const NOW: &str = "2021-11-01T10:00Z";

/// A recent negative test (with a manufacturer), a positive one, an old one.
const PEOPLE: &str = r#"{"id": "recent", "t": [{"sc": "2021-11-01T08:00Z", "tr": "260415000", "covid-19-lab-test-manufacturer-and-name": "1232"}]}
{"id": "positive", "t": [{"sc": "2021-11-01T08:00Z", "tr": "260373001"}]}
{"id": "old", "t": [{"sc": "2021-10-20T08:00Z", "tr": "260415000"}]}
"#;

fn eval(extra: &[&str], stdin: &str) -> std::process::Output {
    let mut args = vec!["eval", POLICY, "--input", "-", "--now", NOW];
    args.extend_from_slice(extra);
    run(&args, stdin)
}

/// The decisions name each rule's code beside its name, and each brief
/// decision its deciding rule's code beside `rule`; records given back
/// as data have the data's keys.
#[test]
fn decisions_carry_codes_and_keys() {
    let o = eval(&["--next-change", "--remedies", "--witnesses"], PEOPLE);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
    let decisions = lines(&o);
    assert_eq!(decisions[1]["rules"][0]["code"], "TR-IE-0001");
    assert_eq!(decisions[0]["next_change"]["rule_code"], "TR-IE-0002");
    assert_eq!(decisions[2]["remedies"][0]["rule"], serde_json::Value::Null);
    assert!(decisions[2]["remedies"][0].get("rule_code").is_none());
}

#[test]
fn pretty_and_explain_show_codes() {
    let o = eval(&["--format", "pretty", "--timeline"], PEOPLE);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("pretty", stdout(&o));
    let o = run(
        &["explain", POLICY, "--input", "-", "--now", NOW],
        PEOPLE.lines().nth(1).unwrap_or_default(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("explain", stdout(&o));
    let o = run(
        &[
            "explain", POLICY, "--input", "-", "--now", NOW, "--format", "json",
        ],
        PEOPLE.lines().nth(1).unwrap_or_default(),
    );
    let explained = lines(&o);
    assert_eq!(explained[0]["rules"][0]["code"], "TR-IE-0001");
}

/// Errors in the data name the data's keys, not the policy's names.
#[test]
fn data_errors_name_the_keys() {
    let bad = r#"{"id": "x", "t": [{"sc": "2021-11-01T08:00Z", "tr": "26041500"}]}
{"id": "y", "t": [{"tr": "260415000"}]}
{"id": "z", "tests": [{"sampled_at": "2021-11-01T08:00Z", "result": "260415000"}]}
"#;
    let o = eval(&["--strict", "--error-format", "plain"], bad);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    insta::assert_snapshot!("data_errors", format!("{}\n{}", stdout(&o), stderr(&o)));
}

/// A failing test's report names the rules that fired with their codes.
#[test]
fn a_failing_test_shows_codes() {
    let text = std::fs::read_to_string(POLICY).unwrap_or_default();
    let failing = text.replace(
        "expect accepted",
        "expect accepted\n  expect at 2021-11-05T10:00Z accepted",
    );
    let path = binary::temp("failing-codes.policy");
    std::fs::write(&path, failing).unwrap_or_else(|e| unreachable!("{e}"));
    let o = run(&["test", &path.display().to_string()], "");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o).replace(&path.display().to_string(), "failing-codes.policy");
    insta::assert_snapshot!("failing_test", out);
}
