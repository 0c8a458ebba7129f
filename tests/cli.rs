//! The `policyc` binary end to end: exit codes, stdin and stdout, JSON Lines.

use std::process::{Command, Output, Stdio};

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{lines, stderr, stdout, temp};

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00+08:00";

fn policyc(args: &[&str], stdin: &str) -> Output {
    binary::run(args, stdin)
}

fn eval_stdin(stdin: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "eval", POLICY, "--input", "-", "--facts", FACTS, "--now", NOW,
    ];
    args.extend_from_slice(extra);
    policyc(&args, stdin)
}

const GREEN: &str = r#"{"id": "a", "phones": [{"number": "1", "bound_at": "2021-01-05T09:00:00+08:00", "itinerary_checked": true}]}"#;
const POPUP: &str = r#"{"id": "b", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": null}]}"#;

#[test]
fn check_accepts_the_shipped_policy() {
    let o = policyc(&["check", POLICY], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: policies/beijing-2021-10-30.policy"));
}

/// `check --cost`: what each item of the shipped policies costs per person,
/// in the sizes of the lists it reads; both are linear by design, the
/// quarantine policy's nested quantifier too (it compares with a bound).
#[test]
fn check_cost_prints_each_items_cost() {
    let o = policyc(
        &[
            "check",
            "--cost",
            "--deny-warnings",
            POLICY,
            "policies/quarantine-release.policy",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

/// Each aggregate reads its list once: linear in it (`first(L.f)` reads
/// the projection `L.f`); the text tests add nothing per element.
#[test]
fn check_cost_counts_each_aggregate_as_one_pass() {
    let path = temp("aggregates.policy");
    let text = r#"policy aggregates
outcomes green < red
input person {
  id: text,
  tests: list of { at: time, n: number },
  doses: list of { at: time, product: text },
}
let last_test = latest of person.tests by at
let products = count(distinct(person.doses.product))
let total = sum(person.tests.n)
rule late when (max(person.doses.at) or now) < now - 180d then red
rule few when products + total < 2 and (first(person.doses.at) or now) < now then red
rule negative when last_test is not none and last_test.n < 0 then red
rule foreign when not (lower(person.id) starts with "fr") and length(person.id) > 3 then red
rule child when (if any person.tests has n > 1 then min(person.tests.n) else 0) = 1 then red
otherwise green
"#;
    let _ = std::fs::write(&path, text);
    let o = policyc(&["check", "--cost", &path.to_string_lossy()], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let out = out.replace(&*path.to_string_lossy(), "aggregates.policy");
    insta::assert_snapshot!(out);
}

/// The value an `if` took is a witness of its own, in `because` and in
/// `--witnesses`.
#[test]
fn witnesses_say_which_value_an_if_took() {
    let path = temp("if.policy");
    let text = r#"policy certificates
timezone "Europe/Paris"
outcomes green < red
input person { id: text, age: number }
rule r
  when if person.age < 12 then false
       else not (person.id starts with "FR")
  then red(why: if length(person.id) > 3 then "long" else "short")
otherwise green
"#;
    let _ = std::fs::write(&path, text);
    let people = "{\"id\": \"DE1\", \"age\": 30}\n{\"id\": \"DE2\", \"age\": 8}\n";
    let o = policyc(
        &[
            "eval",
            &path.to_string_lossy(),
            "--input",
            "-",
            "--now",
            "2021-11-01T10:00+01:00",
            "--witnesses",
        ],
        people,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

/// A superlinear policy is said so, on the inner loop, and denied with
/// `--deny-warnings`.
#[test]
fn check_cost_names_a_superlinear_item() {
    let path = "tests/corpus/lint/superlinear.policy";
    let o = policyc(&["check", "--cost", path], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("  rule differing_results: O(tests²)\n"),
        "{out}"
    );
    assert!(out.contains("  rule tested_before: O(tests)\n"), "{out}");
    assert!(stderr(&o).contains("policy::lint::superlinear"));
    let o = policyc(&["check", "--deny-warnings", path], "");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn check_rejects_a_broken_policy_with_file_line_and_column() {
    let o = policyc(
        &["check", POLICY, "tests/corpus/check/typo-field.policy"],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("unknown name `sampeld_at`"), "{err}");
    assert!(
        err.contains("[tests/corpus/check/typo-field.policy:6:29]"),
        "{err}"
    );
    assert!(err.contains("did you mean `sampled_at`?"), "{err}");
    assert!(!err.contains('\u{1b}'), "no colour when not on a terminal");
}

#[test]
fn errors_as_json_for_tools() {
    let o = policyc(
        &[
            "check",
            "tests/corpus/check/declarations.policy",
            "--error-format",
            "json",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let rows: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| unreachable!("not JSON: {l}: {e}")))
        .collect();
    assert_eq!(rows.len(), 6, "one object per diagnostic, nothing else");
    assert_eq!(rows[0]["file"], "tests/corpus/check/declarations.policy");
    assert_eq!(rows[0]["line"], 3);
    assert_eq!(rows[0]["severity"], "error");
    assert_eq!(rows[1]["code"], "policy::check::time_zone");
    assert_eq!(rows[1]["help"], "did you mean `Asia/Shanghai`?");

    let o = eval_stdin("{\"tests\": 5}\n", &["--error-format", "plain"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).starts_with("-:1:11: error[policy::data::invalid]: "),
        "{}",
        stderr(&o)
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let o = policyc(&["check", "tests/corpus/lint/unused.policy"], "");
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("`stale` is never used"),
        "{}",
        stderr(&o)
    );
    let o = policyc(
        &[
            "check",
            "tests/corpus/lint/unused.policy",
            "--deny-warnings",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let o = policyc(&["check", POLICY, "--deny-warnings"], "");
    assert_eq!(
        o.status.code(),
        Some(0),
        "the shipped policy has no warnings"
    );
}

#[test]
fn eval_of_a_broken_policy_exits_1() {
    let o = policyc(
        &[
            "eval",
            "tests/corpus/check/enum-typo.policy",
            "--input",
            "-",
            "--now",
            NOW,
        ],
        GREEN,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
}

#[test]
fn one_object_from_a_file() {
    let dir = std::env::temp_dir().join(format!("policyc-cli-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("person.json");
    let _ = std::fs::write(&path, POPUP);
    let path = path.to_string_lossy().into_owned();
    let o = policyc(
        &[
            "eval", POLICY, "--input", &path, "--facts", FACTS, "--now", NOW,
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["outcome"], "popup");
    assert_eq!(out[0]["kind"], "postpone_travel");
    assert_eq!(out[0]["now"], NOW);
    assert_eq!(out[0]["policy"]["version"], "2021-10-30");
}

#[test]
fn one_object_over_several_lines() {
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(POPUP).unwrap_or_default(),
    )
    .unwrap_or_default();
    assert!(pretty.lines().count() > 3);
    let o = eval_stdin(&pretty, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o).len(), 1);
}

#[test]
fn json_lines_keep_order_and_report_bad_lines_in_place() {
    let input = format!(
        "{GREEN}\n{{\"id\": \"bad\", \"tests\": [{{\"sampled_at\": \"2021-10-31T09:00:00+08:00\", \"result\": \"negtive\"}}]}}\n{POPUP}\nnot json\n\n{GREEN}\n"
    );
    let o = eval_stdin(&input, &[]);
    assert_eq!(o.status.code(), Some(3), "some lines were bad");
    let out = lines(&o);
    assert_eq!(out.len(), 6, "one output line per input line");
    assert_eq!(out[0]["id"], "a");
    assert_eq!(out[1]["line"], 2);
    let message = out[1]["error"].as_str().unwrap_or("");
    assert!(message.contains("`tests[0].result`"), "{message}");
    assert!(message.contains("\"negtive\""), "{message}");
    assert_eq!(out[2]["id"], "b");
    assert_eq!(out[3]["line"], 4);
    assert_eq!(out[4]["line"], 5);
    assert_eq!(out[5]["id"], "a");
    assert!(stderr(&o).contains("3 records could not be decided"));
}

#[test]
fn json_lines_whose_first_line_is_cut_short() {
    let input = format!("{{\"id\": \"cut\", \"stays\": [\n{POPUP}\n{GREEN}\n");
    let o = eval_stdin(&input, &[]);
    assert_eq!(o.status.code(), Some(3));
    let out = lines(&o);
    assert_eq!(out.len(), 3, "one output line per input line");
    assert_eq!(out[0]["line"], 1);
    assert_eq!(out[1]["id"], "b");
    assert_eq!(out[2]["id"], "a");
}

#[test]
fn empty_lines_are_errors_in_place() {
    let o = eval_stdin(&format!("{GREEN}\n   \n{POPUP}\n"), &[]);
    assert_eq!(o.status.code(), Some(3));
    let out = lines(&o);
    assert_eq!(out[1]["line"], 2);
    assert_eq!(out[1]["error"], "line 2, an empty line, not a JSON object");
}

#[test]
fn a_bad_single_object_exits_3_with_its_path() {
    let o = eval_stdin(
        r#"{"stays": [{"phone": "1", "region": "15292", "from": "2021-10-24T08:00:00+08:00"}]}"#,
        &[],
    );
    assert_eq!(o.status.code(), Some(3));
    let out = lines(&o);
    assert_eq!(out[0]["line"], 1);
    assert!(
        out[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("`stays[0].region`")
    );
}

#[test]
fn pretty_output_is_for_people() {
    let o = eval_stdin(POPUP, &["--format", "pretty"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.starts_with("b: popup\n  kind: postpone_travel\n"),
        "{text}"
    );
    assert!(
        text.contains("152923 内蒙古自治区阿拉善盟额济纳旗"),
        "{text}"
    );
}

#[test]
fn empty_input_decides_nothing() {
    let o = eval_stdin("", &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).is_empty());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec![],
        vec!["eval"],
        vec!["frobnicate"],
        vec!["eval", POLICY, "--input", "-", "--now", "yesterday"],
        vec![
            "eval",
            POLICY,
            "--input",
            "no/such/file.jsonl",
            "--now",
            NOW,
        ],
        vec!["eval", "no/such.policy", "--input", "-"],
        vec!["eval", POLICY, "--input", "-", "--format", "xml"],
        vec!["check"],
    ] {
        let o = policyc(&args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn bad_facts_exit_3() {
    let dir = std::env::temp_dir().join(format!("policyc-facts-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("facts.json");
    let _ = std::fs::write(&path, r#"{"case_counties": ["152923", 620102]}"#);
    let path = path.to_string_lossy().into_owned();
    let o = policyc(
        &[
            "eval", POLICY, "--input", "-", "--facts", &path, "--now", NOW,
        ],
        GREEN,
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("case_counties[1]"), "{}", stderr(&o));
}

#[test]
fn several_facts_files_are_joined() {
    let dir = std::env::temp_dir().join(format!("policyc-facts2-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    let _ = std::fs::write(&a, r#"{"case_counties": ["152923"]}"#);
    let _ = std::fs::write(
        &b,
        r#"{"case_counties": ["620102"], "beijing_risk_areas": []}"#,
    );
    let (a, b) = (
        a.to_string_lossy().into_owned(),
        b.to_string_lossy().into_owned(),
    );
    let lanzhou = POPUP.replace("152923", "620102");
    let o = policyc(
        &[
            "eval", POLICY, "--input", "-", "--facts", &a, "--facts", &b, "--now", NOW,
        ],
        &format!("{POPUP}\n{lanzhou}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(
        out[0]["kind"], "postpone_travel",
        "a case county of the first file"
    );
    assert_eq!(
        out[1]["kind"], "postpone_travel",
        "a case county of the second file"
    );
}

#[test]
fn now_without_offset_is_read_in_the_policy_time_zone() {
    let o = policyc(
        &[
            "eval",
            POLICY,
            "--input",
            "-",
            "--facts",
            FACTS,
            "--now",
            "2021-11-01T10:00:00",
        ],
        GREEN,
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(lines(&o)[0]["now"], NOW);
}

#[test]
fn all_shipped_examples_as_one_batch() {
    let cases = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/beijing/cases.jsonl"
    ))
    .unwrap_or_default();
    let cases: Vec<serde_json::Value> = cases
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let input: String = cases.iter().map(|c| format!("{}\n", c["person"])).collect();
    let o = eval_stdin(&input, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), cases.len());
    for (case, decision) in cases.iter().zip(out) {
        assert_eq!(
            case["expect"]["outcome"], decision["outcome"],
            "{}",
            case["name"]
        );
        assert_eq!(
            case["expect"].get("kind"),
            decision.get("kind"),
            "{}",
            case["name"]
        );
    }
}

#[test]
fn policy_tests_pass_and_cover_every_rule() {
    let o = policyc(&["test", "policies", "--coverage"], "");
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.trim_end().ends_with(" passed, 0 failed"), "{out}");
    assert!(
        !out.contains("<-"),
        "every rule fires and decides in some test:\n{out}"
    );
}

#[test]
fn a_wrong_expectation_fails_with_what_was_expected_and_what_came() {
    let o = policyc(
        &["test", "tests/corpus/test/failing.policy", "--coverage"],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn next_change_only_when_asked() {
    let o = eval_stdin(POPUP, &[]);
    assert!(
        lines(&o)[0].get("next_change").is_none(),
        "the contract's decision is unchanged"
    );
    let o = eval_stdin(&format!("{POPUP}\n{GREEN}\n"), &["--next-change"]);
    assert_eq!(o.status.code(), Some(0));
    let out = lines(&o);
    // A stay with no end in a case county: the popup never ends by itself.
    assert_eq!(out[0]["next_change"], serde_json::Value::Null);
    assert_eq!(out[1]["next_change"], serde_json::Value::Null);
    let ended = POPUP.replace("\"to\": null", "\"to\": \"2021-10-27T18:00:00+08:00\"");
    let o = eval_stdin(&ended, &["--next-change"]);
    let out = lines(&o);
    assert_eq!(out[0]["next_change"]["at"], "2021-11-10T18:00:00+08:00");
    assert_eq!(out[0]["next_change"]["outcome"], "green");
}

#[test]
fn remedies_say_what_would_help() {
    let lanzhou = POPUP.replace("152923", "620103");
    let o = eval_stdin(&format!("{POPUP}\n{lanzhou}\n"), &["--remedies"]);
    assert_eq!(o.status.code(), Some(0));
    let out = lines(&o);
    assert_eq!(out[0]["kind"], "postpone_travel");
    assert_eq!(
        out[0]["remedies"],
        serde_json::json!([]),
        "a test does not lift the county rule"
    );
    assert_eq!(out[1]["kind"], "test_required");
    assert_eq!(out[1]["remedies"][0]["remedy"], "完成核酸检测（阴性）");
    assert_eq!(out[1]["remedies"][0]["outcome"], "green");
}

#[test]
fn explain_speaks_the_policy_language_or_the_one_asked_for() {
    let args = [
        "explain", POLICY, "--input", "-", "--facts", FACTS, "--now", NOW,
    ];
    let input = format!("{GREEN}\n{POPUP}\n");
    let o = policyc(&args, &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    // One explanation per person, in order, in Chinese.
    let a = out.find("a · 北京健康宝进京赋码规则").unwrap_or(usize::MAX);
    let b = out.find("b · 北京健康宝进京赋码规则").unwrap_or(usize::MAX);
    assert!(a < b && b < usize::MAX, "{out}");
    assert!(out.contains("结果：绿码"), "{out}");
    assert!(
        out.contains("内蒙古自治区阿拉善盟额济纳旗（152923）"),
        "{out}"
    );

    let mut en = args.to_vec();
    en.extend(["--lang", "en"]);
    let o = policyc(&en, &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Decision: green code"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn explain_in_a_language_the_policy_lacks_is_a_usage_error() {
    let o = policyc(
        &[
            "explain", POLICY, "--input", "-", "--facts", FACTS, "--now", NOW, "--lang", "fr",
        ],
        GREEN,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(err.contains("the policy has no messages in `fr`"), "{err}");
    assert!(err.contains("it speaks `zh`, `en`"), "{err}");
}

#[test]
fn explain_reports_a_bad_line_in_place_and_goes_on() {
    let args = [
        "explain", POLICY, "--input", "-", "--facts", FACTS, "--now", NOW,
    ];
    let o = policyc(&args, &format!("{{\"stays\": 1}}\n{GREEN}\n"));
    assert_eq!(o.status.code(), Some(3));
    let out = stdout(&o);
    let first: serde_json::Value =
        serde_json::from_str(out.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(first["line"], 1, "{out}");
    assert!(
        first["error"]
            .as_str()
            .is_some_and(|e| e.contains("`stays`")),
        "{out}"
    );
    assert!(out.contains("a · 北京健康宝进京赋码规则"), "{out}");
}

#[test]
fn witnesses_are_data_when_asked_for() {
    let o = eval_stdin(POPUP, &["--witnesses"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = &lines(&o)[0];
    let w = &d["rules"][0]["witnesses"][0];
    assert_eq!(w["kind"], "found");
    assert_eq!(w["list"], "outside");
    assert_eq!(w["records"][0]["record"]["region"]["code"], "152923");
    assert_eq!(
        w["records"][0]["matched"][0]["members"][0]["name"],
        "内蒙古自治区阿拉善盟额济纳旗"
    );
    // Without the flag, the contract's decision alone.
    let plain = &lines(&eval_stdin(POPUP, &[]))[0];
    assert!(plain["rules"][0].get("witnesses").is_none());
}

#[test]
fn explain_as_json_for_programs() {
    let o = policyc(
        &[
            "explain", POLICY, "--input", "-", "--facts", FACTS, "--now", NOW, "--lang", "en",
            "--format", "json",
        ],
        &format!("{GREEN}\n{POPUP}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), 2);
    let b = &out[1];
    assert_eq!(b["id"], "b");
    assert_eq!(b["language"], "en");
    assert_eq!(b["outcome"], "pop-up");
    assert_eq!(
        b["summary"],
        "pop-up — Please postpone your trip to Beijing, as epidemic control requires"
    );
    // The decision as eval gives it, with when it changes and what helps.
    assert_eq!(b["decision"]["outcome"], "popup");
    assert_eq!(b["decision"]["kind"], "postpone_travel");
    assert!(b["decision"].get("next_change").is_some());
    assert!(b["decision"]["remedies"].is_array());
    // Every rule, in order, titled in English, with how it came out.
    let rules = b["rules"].as_array().cloned().unwrap_or_default();
    let states: Vec<&str> = rules.iter().filter_map(|r| r["state"].as_str()).collect();
    assert_eq!(
        states,
        ["applies", "applies", "does_not_apply", "does_not_apply"]
    );
    assert_eq!(
        rules[0]["title"],
        "Stayed in a county with a local case within 14 days"
    );
    assert_eq!(
        rules[0]["witnesses"][0]["records"][0]["record"]["region"]["code"],
        "152923"
    );
    assert!(b["text"].as_str().is_some_and(|t| t.contains("Rules:")));
}

#[test]
fn read_errors_say_what_failed() {
    let bad = temp("latin1.policy");
    let _ = std::fs::write(&bad, b"policy p\n# caf\xe9\n");
    let bad = bad.to_string_lossy().into_owned();
    let mut seen = Vec::new();
    for args in [
        vec!["check", "no/such.policy"],
        vec!["check", "policies"],
        vec![
            "eval", POLICY, "--input", "policies", "--facts", FACTS, "--now", NOW,
        ],
        vec!["check", &bad],
    ] {
        let mut args = args.clone();
        args.extend(["--error-format", "plain"]);
        let o = policyc(&args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        seen.push(stderr(&o).replace(&bad, "latin1.policy"));
    }
    insta::assert_snapshot!(seen.join(""));
}

#[test]
fn test_counts_a_policy_that_does_not_check_as_failed() {
    let o = policyc(
        &["test", "tests/corpus/check/typo-field.policy", POLICY],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with("file tests/corpus/check/typo-field.policy ... FAILED: does not check\n"),
        "{out}"
    );
    assert!(out.trim_end().ends_with(" passed, 1 failed"), "{out}");
    let o = policyc(&["test", "tests/corpus/check/typo-field.policy"], "");
    assert!(
        stdout(&o).ends_with("\n0 passed, 1 failed\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_byte_order_mark_is_accepted_in_every_file() {
    let text = std::fs::read_to_string(POLICY).unwrap_or_default();
    let policy = temp("bom/bom.policy");
    let _ = std::fs::create_dir_all(temp("bom"));
    let _ = std::fs::write(&policy, format!("\u{feff}{text}"));
    // The libraries it uses, each with a byte-order mark too.
    for name in binary::LIBRARIES {
        let text = std::fs::read_to_string(format!("policies/{name}")).unwrap_or_default();
        let _ = std::fs::write(temp("bom").join(name), format!("\u{feff}{text}"));
    }
    let facts = temp("bom-facts.json");
    let _ = std::fs::write(
        &facts,
        format!(
            "\u{feff}{}",
            std::fs::read_to_string(FACTS).unwrap_or_default()
        ),
    );
    let (policy, facts) = (
        policy.to_string_lossy().into_owned(),
        facts.to_string_lossy().into_owned(),
    );
    let o = policyc(&["check", &policy, "--deny-warnings"], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = policyc(&["test", &policy], "");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = policyc(
        &[
            "eval", &policy, "--input", "-", "--facts", &facts, "--now", NOW,
        ],
        &format!("\u{feff}{POPUP}\n{GREEN}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o)[0]["kind"], "postpone_travel");
    // fmt drops it: the canonical layout has none.
    let o = policyc(&["fmt", "--check", &policy], "");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), format!("would reformat {policy}\n"));
    let o = policyc(&["fmt", &policy], "");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&policy).unwrap_or_default(), text);
}

#[test]
fn a_closed_stdout_ends_test_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_policyc"))
        .args(["test", "policies"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| unreachable!("cannot run policyc: {e}"));
    // Closed before a word is written.
    drop(child.stdout.take());
    let o = child
        .wait_with_output()
        .unwrap_or_else(|e| unreachable!("policyc: {e}"));
    assert_eq!(stderr(&o), "", "no message, no panic");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn explain_json_gives_the_data_warnings_eval_gives() {
    let near = r#"{"id": "near", "test": []}"#;
    let unknown = r#"{"id": "unknown", "stays": [{"phone": "1", "region": "110199", "from": "2021-10-30T08:00:00+08:00"}]}"#;
    let input = format!("{near}\n{unknown}\n");
    let rows = |o: &Output, key: &str| -> Vec<serde_json::Value> {
        assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
        stdout(o)
            .lines()
            .map(|l| {
                let row: serde_json::Value =
                    serde_json::from_str(l).unwrap_or_else(|e| unreachable!("not JSON: {l}: {e}"));
                let row = if key.is_empty() { &row } else { &row[key] };
                row["warnings"].clone()
            })
            .collect()
    };
    let eval = rows(&eval_stdin(&input, &[]), "");
    let explain = policyc(
        &[
            "explain", POLICY, "--input", "-", "--facts", FACTS, "--now", NOW, "--format", "json",
        ],
        &input,
    );
    let explain = rows(&explain, "decision");
    assert_eq!(eval.len(), 2);
    assert!(
        eval[0][0]
            .as_str()
            .is_some_and(|w| w.contains("did you mean `tests`"))
    );
    assert!(
        eval[1][0]
            .as_str()
            .is_some_and(|w| w.contains("region 110199"))
    );
    assert_eq!(explain, eval);
}

#[test]
fn test_blocks_check_their_facts_as_eval_does() {
    let o = policyc(&["test", "tests/corpus/test/stale-facts.policy"], "");
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
}
