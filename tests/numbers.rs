//! Whole numbers print as whole numbers (`2`, not `2.0`) wherever a number
//! computed by a policy is printed: decisions as JSON and for people, and
//! the failures of `policyc test`.

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;

const POLICY: &str = r#"policy numbers
outcomes green < popup
input person { stays: list of { days: number } }
rule many
  when count(person.stays) > 1
  then popup(count: count(person.stays), sum: 1 + 1, half: 0.5, nothing: 0 * -1)
otherwise green
test "a wrong count" {
  now 2021-11-01T10:00+08:00
  person { stays: [{ days: 1 }, { days: 2 }] }
  expect popup(count: 3)
}
"#;

const PERSON: &str = r#"{"stays": [{"days": 1}, {"days": 2}]}"#;

#[test]
fn decisions_print_whole_numbers_whole() {
    let policy =
        policyc::Policy::compile("numbers.policy", POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policyc::Facts::empty(policy.plan());
    let d = policy
        .decide_json(&facts, PERSON, 1_635_732_000_000_000)
        .unwrap_or_else(|e| unreachable!("{e}"));
    insta::assert_snapshot!(format!("{}\n\n{}", d.to_json(), d.to_pretty()));
}

#[test]
fn test_failures_print_whole_numbers_whole() {
    let dir = std::env::temp_dir().join(format!("policyc-numbers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| unreachable!("{e}"));
    let path = dir.join("numbers.policy");
    std::fs::write(&path, POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let o = binary::run(&["test".as_ref(), path.as_os_str()], "");
    let _ = std::fs::remove_dir_all(&dir);
    let out =
        String::from_utf8_lossy(&o.stdout).replace(&path.display().to_string(), "numbers.policy");
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(out);
}
