//! The binary end to end on data it must not take silently: facts that are
//! absent, misspelt, contradictory or stale; record fields it does not
//! know; records that break their schema's constraints; and every form of
//! time, read one way.

use std::path::PathBuf;

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00+08:00";

/// A fresh folder for one test's files.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("policyc-{test}-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        Dir(dir)
    }

    /// Writes `name` and gives its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        let _ = std::fs::write(&path, text);
        path.to_string_lossy().into_owned()
    }
}

/// Runs `policyc` from the repository's root, stdin closed, errors one
/// per line.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--error-format", "plain"])
        .collect();
    let o = binary::run(&args, "");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `eval` of `input` under `policy` at `NOW`, with these facts files.
fn eval_with_facts(policy: &str, input: &str, facts: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["eval", policy, "--input", input, "--now", NOW];
    for f in facts {
        args.extend(["--facts", f]);
    }
    run(&args)
}

/// The decision (or error) objects of an output.
fn objects(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| unreachable!("not JSON: {l}: {e}")))
        .collect()
}

const GREEN: &str = r#"{"id": "a", "phones": [{"number": "1", "bound_at": "2021-01-05T09:00:00+08:00", "itinerary_checked": true}]}"#;

/// A small policy with a scalar fact and a required one.
const SMALL: &str = r#"
policy small
timezone "Asia/Shanghai"
outcomes green < red
input person { score: number, seen: list of { at: time } }
facts {
  threshold: number?
  required counties: set of region
}
rule high when person.score > (threshold or 10) then red
otherwise green
"#;

#[test]
fn a_policy_with_facts_does_not_run_without_them() {
    let d = Dir::new("nofacts");
    let input = d.file("in.json", GREEN);
    let (code, out, err) = run(&["eval", POLICY, "--input", &input, "--now", NOW]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "nobody is decided: {out}");
    assert!(
        err.contains("`case_counties` and `beijing_risk_areas`") && err.contains("--facts"),
        "{err}"
    );
}

#[test]
fn a_misspelt_fact_is_bad_input_with_a_suggestion() {
    let d = Dir::new("misspelt");
    let facts = d.file(
        "f.json",
        r#"{"as_of": "2021-11-01", "case_countys": ["152923"]}"#,
    );
    let input = d.file("in.json", GREEN);
    let (code, _, err) = eval_with_facts(POLICY, &input, &[&facts]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("`case_countys`: not declared by the policy; did you mean `case_counties`?"),
        "{err}"
    );
}

#[test]
fn two_files_that_disagree_on_a_scalar_fact_are_named() {
    let d = Dir::new("conflict");
    let policy = d.file("small.policy", SMALL);
    let a = d.file("a.json", r#"{"threshold": 5, "counties": ["152923"]}"#);
    let b = d.file("b.json", r#"{"threshold": 7, "counties": []}"#);
    let same = d.file("c.json", r#"{"threshold": 5}"#);
    let silent = d.file("d.json", r#"{"threshold": null}"#);
    let input = d.file("in.json", r#"{"score": 6}"#);
    let eval = |files: &[&str]| eval_with_facts(&policy, &input, files);
    let (code, _, err) = eval(&[&a, &b]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "`{a}` and `{b}` give `threshold` different values (5 and 7)"
        )),
        "{err}"
    );
    let (code, out, err) = eval(&[&a, &same]);
    assert_eq!(code, Some(0), "the same value twice is one value: {err}");
    assert_eq!(objects(&out)[0]["outcome"], "red");
    let (code, out, err) = eval(&[&a, &silent]);
    assert_eq!(code, Some(0), "`null` says nothing: {err}");
    assert_eq!(objects(&out)[0]["outcome"], "red");
}

#[test]
fn a_required_fact_must_come_from_some_file() {
    let d = Dir::new("required");
    let policy = d.file("small.policy", SMALL);
    let none = d.file("a.json", r#"{"threshold": 5}"#);
    let empty = d.file("b.json", r#"{"counties": []}"#);
    let input = d.file("in.json", r#"{"score": 6}"#);
    let (code, _, err) = eval_with_facts(&policy, &input, &[&none]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("no facts file gives `counties`, which the policy requires"),
        "{err}"
    );
    let (code, _, err) = eval_with_facts(&policy, &input, &[&none, &empty]);
    assert_eq!(code, Some(0), "an empty set is given: {err}");
}

#[test]
fn facts_older_than_the_policy_allows_are_refused_before_anyone_is_decided() {
    let d = Dir::new("expire");
    let policy = d.file(
        "fresh.policy",
        &format!("{SMALL}\nfacts expire 36h after as_of\n"),
    );
    let fresh = d.file("a.json", r#"{"as_of": "2021-11-01", "counties": []}"#);
    let old = d.file("b.json", r#"{"as_of": "2021-10-30T12:00+08:00"}"#);
    let undated = d.file("c.json", r#"{"counties": []}"#);
    let input = d.file("in.json", r#"{"score": 6}"#);
    let eval = |files: &[&str]| eval_with_facts(&policy, &input, files);
    let (code, out, err) = eval(&[&fresh]);
    assert_eq!(code, Some(0), "10 hours old: {err}");
    assert_eq!(objects(&out).len(), 1);
    let (code, out, err) = eval(&[&fresh, &old]);
    assert_eq!(code, Some(3), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&format!(
            "the facts are 1d22h old at `now` (`as_of` 2021-10-30T12:00:00+08:00, in `{old}`); the policy accepts facts at most 1d12h old"
        )),
        "the oldest file counts: {err}"
    );
    let (code, _, err) = eval(&[&undated]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "`{undated}` does not say when its facts were published"
        )),
        "{err}"
    );
}

#[test]
fn a_misspelt_record_field_warns_on_its_decision() {
    let d = Dir::new("near");
    let input = d.file(
        "in.jsonl",
        &[
            r#"{"id": "t", "test": [{"sampled_at": "2021-10-31T10:00:00+08:00", "result": "negative"}]}"#,
            r#"{"id": "s", "source": "carrier"}"#,
            r#"{"id": "r", "stays": [{"phone": "1", "regoin": "152923", "region": "110105", "from": "2021-10-30"}, {"phone": "1", "regoin": "152923", "from": "2021-10-30"}]}"#,
        ]
        .join("\n"),
    );
    let (code, out, err) = eval_with_facts(POLICY, &input, &[FACTS]);
    let out = objects(&out);
    assert_eq!(code, Some(3), "the stay without a region is bad: {err}");
    assert_eq!(
        out[0]["warnings"][0],
        "`test` is not declared by the policy and was ignored; did you mean `tests`, which this record leaves out?"
    );
    assert_eq!(
        out[1]["warnings"],
        serde_json::json!([]),
        "far from every field: silent"
    );
    let (_, text, _) = run(&[
        "explain", POLICY, "--input", &input, "--facts", FACTS, "--now", NOW, "--lang", "en",
    ]);
    assert!(
        text.contains(
            "• test is not a field the policy knows and was ignored; did you mean tests?"
        ),
        "{text}"
    );
    assert!(
        out[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("`stays[1]`: required field `region` is missing")),
        "{out:?}"
    );
}

#[test]
fn strict_makes_every_undeclared_field_bad_input_for_its_line() {
    let d = Dir::new("strict");
    let input = d.file(
        "in.jsonl",
        &format!(
            "{}\n{GREEN}\n{}\n",
            r#"{"id": "s", "source": "carrier"}"#,
            r#"{"id": "r", "stays": [{"phone": "1", "regoin": "152923", "from": "2021-10-30"}]}"#
        ),
    );
    for command in ["eval", "explain"] {
        let (code, out, err) = run(&[
            command, POLICY, "--input", &input, "--facts", FACTS, "--now", NOW, "--strict",
            "--format", "json",
        ]);
        assert_eq!(code, Some(3), "{command}: {err}");
        let out = objects(&out);
        assert_eq!(out.len(), 3, "{command}: one line per input line");
        assert_eq!(
            out[0]["error"], "line 1, column 13: `source`: not declared by the policy",
            "{command}"
        );
        assert!(out[1].get("error").is_none(), "{command}: {:?}", out[1]);
        assert_eq!(
            out[2]["error"],
            "line 3, column 38: `stays[0].regoin`: not declared by the policy; did you mean `region`?",
            "{command}"
        );
    }
    let (code, _, err) = run(&["test", POLICY, "--strict"]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_stay_that_ends_before_it_begins_is_bad_input() {
    let d = Dir::new("reversed");
    let input = d.file(
        "in.jsonl",
        &[
            r#"{"id": "a", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-28", "to": "2021-10-29"}, {"phone": "1", "region": "152923", "from": "2021-10-28", "to": "2021-10-27"}]}"#,
            r#"{"id": "b", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-28", "to": "2021-10-28"}]}"#,
        ]
        .join("\n"),
    );
    let (code, out, err) = eval_with_facts(POLICY, &input, &[FACTS]);
    assert_eq!(code, Some(3), "{err}");
    let out = objects(&out);
    assert_eq!(
        out[0],
        serde_json::json!({"error": "line 1, `stays[1]`: breaks `requiring to is none or to >= from`", "line": 1})
            .as_object()
            .map(|o| serde_json::Value::Object(o.clone()))
            .unwrap_or_default()
    );
    assert_eq!(out[1]["outcome"], "popup", "a stay of no length is a stay");
}

#[test]
fn now_takes_every_form_of_time_the_language_does() {
    let d = Dir::new("now");
    let input = d.file("in.json", GREEN);
    let now_of = |now: &str| {
        let (code, out, err) = run(&[
            "eval", POLICY, "--input", &input, "--facts", FACTS, "--now", now,
        ]);
        (code, objects(&out).first().map(|d| d["now"].clone()), err)
    };
    for (text, read) in [
        ("2021-11-01", "2021-11-01T00:00:00+08:00"),
        ("2021-11-01T10:00+08:00", NOW),
        ("2021-11-01T10:00:00+0800", NOW),
        ("2021-11-01 10:00", NOW),
        ("2021-11-01T02:00:00Z", NOW),
    ] {
        let (code, now, err) = now_of(text);
        assert_eq!(code, Some(0), "{text}: {err}");
        assert_eq!(now, Some(read.into()), "{text}");
    }
    let (code, _, err) = now_of("2021-11-01T10:00:00+08:99");
    assert_eq!(code, Some(2), "an offset out of range: {err}");
    assert!(
        err.contains("`2021-11-01T10:00:00+08:99` is not an instant"),
        "{err}"
    );
    // The last instant the reader takes is written back as RFC 3339.
    let (code, now, err) = now_of("9999-12-31T23:59:59Z");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(now, Some("9999-12-31T23:59:59Z".into()));
}

/// A policy in a zone with daylight saving, with or without saying how to
/// read the local times it skips or repeats.
fn paris(resolving: &str) -> String {
    format!(
        r#"
policy paris
timezone "Europe/Paris"{resolving}
outcomes green < red
input person {{ seen: list of {{ at: time }} }}
rule recent when any person.seen has at within 1h then red
otherwise green
"#
    )
}

#[test]
fn a_local_time_the_clocks_skip_or_repeat_is_an_error_unless_the_policy_says() {
    let d = Dir::new("dst");
    let plain = d.file("plain.policy", &paris(""));
    let resolved = d.file(
        "resolved.policy",
        &paris(" resolving gaps later, folds earlier"),
    );
    let input = d.file(
        "in.jsonl",
        r#"{"seen": [{"at": "2024-03-31T02:30:00"}]}
{"seen": [{"at": "2024-10-27T02:30"}]}
{"seen": [{"at": "2024-10-27T02:30+02:00"}]}
"#,
    );
    let now = "2024-10-27T02:45:00+02:00";
    let (code, out, err) = run(&["eval", &plain, "--input", &input, "--now", now]);
    assert_eq!(code, Some(3), "{err}");
    let out = objects(&out);
    assert!(
        out[0]["error"].as_str().is_some_and(|e| e
            .contains("`2024-03-31T02:30:00` does not exist in Europe/Paris: the clocks skip it")),
        "{out:?}"
    );
    assert!(
        out[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("`2024-10-27T02:30` happens twice in Europe/Paris")),
        "{out:?}"
    );
    assert_eq!(out[2]["outcome"], "red", "an offset says which");
    let (code, out, err) = run(&["eval", &resolved, "--input", &input, "--now", now]);
    assert_eq!(code, Some(0), "{err}");
    let out = objects(&out);
    assert_eq!(out[0]["outcome"], "green");
    assert_eq!(
        out[1]["outcome"], "red",
        "the earlier 02:30 is 15 minutes before now"
    );
    let (code, _, err) = run(&[
        "eval",
        &plain,
        "--input",
        &input,
        "--now",
        "2024-10-27T02:45",
    ]);
    assert_eq!(code, Some(2), "{err}");
}

#[test]
fn minus_zero_is_zero() {
    let d = Dir::new("zero");
    let policy = d.file(
        "zero.policy",
        "policy zero\noutcomes green < red\ninput person { score: number }\nrule nil when person.score = 0 then red\notherwise green\n",
    );
    let input = d.file(
        "in.jsonl",
        "{\"score\": -0}\n{\"score\": -0.0}\n{\"score\": 0}\n",
    );
    let (code, out, err) = run(&["eval", &policy, "--input", &input, "--now", NOW]);
    assert_eq!(code, Some(0), "{err}");
    for d in objects(&out) {
        assert_eq!(d["outcome"], "red", "{d}");
    }
}

#[test]
fn a_cut_timeline_says_where_it_would_go_on() {
    let d = Dir::new("timeline");
    let policy = d.file("paris.policy", &paris(""));
    // A sighting every two hours: each opens and closes the window, two
    // changes each, more than a timeline lists.
    let sightings: Vec<String> = (0..60)
        .map(|i| {
            format!(
                r#"{{"at": "2024-01-{:02}T{:02}:00:00Z"}}"#,
                2 + i / 12,
                i % 12 * 2
            )
        })
        .collect();
    let many = format!(r#"{{"seen": [{}]}}"#, sightings.join(", "));
    let few = r#"{"seen": [{"at": "2024-01-02T00:00:00Z"}]}"#;
    let input = d.file("in.jsonl", &format!("{many}\n{few}\n"));
    let (code, out, err) = run(&[
        "eval",
        &policy,
        "--input",
        &input,
        "--now",
        "2024-01-01T00:00:00Z",
        "--timeline",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let out = objects(&out);
    let timeline = out[0]["timeline"].as_array().map_or(0, Vec::len);
    assert_eq!(timeline, 101, "the first decision and 100 changes");
    let last = &out[0]["timeline"][100]["at"];
    assert_eq!(out[0]["timeline_cut"]["after"], *last);
    assert_eq!(
        out[0]["timeline_cut"]["next_at"], "2024-01-06T05:00:00+01:00",
        "the change after the last one listed: sighting 51 opens the window"
    );
    assert!(out[1].get("timeline_cut").is_none(), "{}", out[1]);
    let (_, pretty, _) = run(&[
        "eval",
        &policy,
        "--input",
        &input,
        "--now",
        "2024-01-01T00:00:00Z",
        "--timeline",
        "--format",
        "pretty",
    ]);
    assert_eq!(
        pretty
            .matches("(cut here: it changes again just after 2024-01-06T05:00:00+01:00)")
            .count(),
        1,
        "{pretty}"
    );
    assert_eq!(out[1]["timeline"].as_array().map_or(0, Vec::len), 3);
}

#[test]
fn a_test_whose_data_breaks_a_constraint_fails_as_bad_input() {
    let d = Dir::new("testblock");
    let policy = d.file(
        "reversed.policy",
        r#"
policy reversed
timezone "Asia/Shanghai"
outcomes green < popup
input person { stays: list of { from: time, to: time? } requiring to is none or to >= from }
rule stayed when any person.stays then popup
otherwise green

test "a stay that ends before it begins" {
  now 2021-11-01
  person { stays: [{ from: 2021-10-28, to: 2021-10-27 }] }
  expect popup
}
"#,
    );
    let (code, out, _) = run(&["test", &policy]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("bad input: `stays[0]`: breaks `requiring to is none or to >= from`"),
        "{out}"
    );
}

#[test]
fn literals_take_the_forms_data_takes() {
    let (code, out, err) = run(&["test", "tests/corpus/check/time-forms.policy"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
}

/// Every way a run's facts can be refused, as a person reads it.
#[test]
fn facts_errors_as_people_read_them() {
    let policy = policyc::Policy::compile(
        "small.policy",
        &format!("{SMALL}\nfacts expire 36h after as_of\n"),
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let now = policy.instant(NOW).unwrap_or_else(|e| unreachable!("{e}"));
    let file = |name: &str, json: &str| {
        policy
            .facts_file(name, json)
            .unwrap_or_else(|e| unreachable!("{name}: {e}"))
    };
    let cases = [
        ("none", vec![]),
        (
            "conflict",
            vec![
                file(
                    "a.json",
                    r#"{"as_of": "2021-11-01", "threshold": 5, "counties": []}"#,
                ),
                file("b.json", r#"{"as_of": "2021-11-01", "threshold": 7}"#),
            ],
        ),
        (
            "missing",
            vec![file("a.json", r#"{"as_of": "2021-11-01"}"#)],
        ),
        (
            "expired",
            vec![file("a.json", r#"{"as_of": "2021-10-28", "counties": []}"#)],
        ),
        ("undated", vec![file("a.json", r#"{"counties": []}"#)]),
    ];
    let mut out = String::new();
    for (name, files) in cases {
        let rendered = match policy.combine_facts(files, now) {
            Ok(_) => "accepted\n".to_owned(),
            Err(e) => policyc::render(&e, policyc::ErrorFormat::Human { colour: false }),
        };
        out.push_str(&format!("--- {name}\n{rendered}\n"));
    }
    let misspelt = policy.facts_file("a.json", r#"{"countys": []}"#).err();
    out.push_str(&format!(
        "--- misspelt\n{}\n",
        misspelt.map(|e| e.to_string()).unwrap_or_default()
    ));
    insta::assert_snapshot!(out);
}
