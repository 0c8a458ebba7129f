//! Dated versions (issue 10 item 5): a folder of versions of one policy,
//! each `effective from` an instant; `eval DIR` decides by the version in
//! force at `--now`, `check DIR` refuses versions that overlap, `test DIR`
//! runs each version's tests against it.

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{lines, run, stderr, stdout, temp};

const ENTRY: &str = "tests/fixtures/versions/entry";
const PERSON: &str =
    r#"{"id": "a", "tests": [{"sampled_at": "2021-11-03T22:00", "result": "negative"}]}"#;

fn eval_at(dir: &str, now: &str) -> std::process::Output {
    run(&["eval", dir, "--input", "-", "--now", now], PERSON)
}

/// Just before midnight the first version decides, just after it the
/// second; each decision names its version.
#[test]
fn eval_decides_by_the_version_in_force() {
    for (now, version, outcome) in [
        ("2021-11-04T23:59:59", "2021-10-30", "admitted"),
        ("2021-11-05T00:00", "2021-11-05", "admitted"),
        ("2021-11-05T22:00:01", "2021-11-05", "refused"),
        // 71 hours after the test: only the first version admitted it.
        ("2021-11-06T21:00", "2021-11-05", "refused"),
    ] {
        let o = eval_at(ENTRY, now);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let d = &lines(&o)[0];
        assert_eq!(d["policy"]["version"], version, "at {now}");
        assert_eq!(d["outcome"], outcome, "at {now}");
    }
}

/// `next_change` looks past the version in force: the rules change at
/// midnight on 5 November, and a test of 2 November, admitted until then
/// under the first version, is refused from that instant; a test of
/// 3 November 22:00 stays admitted across midnight, until the second
/// version's 48 hours are over (not the first's 72).
#[test]
fn next_change_includes_the_next_version_taking_effect() {
    let people = r#"{"id": "across", "tests": [{"sampled_at": "2021-11-03T22:00", "result": "negative"}]}
{"id": "at-midnight", "tests": [{"sampled_at": "2021-11-02T22:00", "result": "negative"}]}
{"id": "before", "tests": [{"sampled_at": "2021-11-01T09:00", "result": "negative"}]}
"#;
    let args = [
        "eval",
        ENTRY,
        "--input",
        "-",
        "--now",
        "2021-11-04T08:00",
        "--next-change",
    ];
    let o = run(&args, people);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d = lines(&o);
    let change = |i: usize| {
        let c = &d[i]["next_change"];
        (c["at"].as_str().map(str::to_owned), c["outcome"].clone())
    };
    assert_eq!(
        change(0),
        (Some("2021-11-05T22:00:00+01:00".into()), "refused".into())
    );
    assert_eq!(
        change(1),
        (Some("2021-11-05T00:00:00+01:00".into()), "refused".into())
    );
    // A change under the first version before midnight stays its own.
    assert_eq!(
        change(2),
        (Some("2021-11-04T09:00:00+01:00".into()), "refused".into())
    );
    insta::assert_snapshot!("next_change", stdout(&o));
}

#[test]
fn eval_before_any_version_or_after_the_last_ended_is_refused() {
    let o = eval_at(ENTRY, "2021-10-29T23:00");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("has no dated version not after"),
        "{}",
        stderr(&o)
    );
    let dir = temp("versions-ended");
    let _ = std::fs::create_dir_all(&dir);
    let text = std::fs::read_to_string(format!("{ENTRY}/2021-10-30.policy")).unwrap_or_default();
    let ended = text.replace(
        "effective from 2021-10-30T00:00",
        "effective from 2021-10-30T00:00 until 2021-11-01T00:00",
    );
    std::fs::write(dir.join("2021-10-30.policy"), ended).unwrap_or_else(|e| unreachable!("{e}"));
    let dir = dir.display().to_string();
    let o = run(
        &[
            "eval",
            &dir,
            "--input",
            "-",
            "--now",
            "2021-11-02T10:00",
            "--error-format",
            "plain",
        ],
        PERSON,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o).replace(&dir, "DIR");
    insta::assert_snapshot!("ended", err);
}

#[test]
fn check_refuses_overlapping_versions_naming_both() {
    let files =
        |dir: &str| ["2021-10-30.policy", "2021-11-05.policy"].map(|f| format!("{dir}/{f}"));
    let [a, b] = files(ENTRY);
    let o = run(&["check", &a, &b], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let [a, b] = files("tests/fixtures/versions/overlapping");
    let o = run(&["check", &a, &b], "");
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("overlapping", format!("{}\n{}", stdout(&o), stderr(&o)));
    // Two versions that take effect at the same instant.
    let dir = temp("versions-ambiguous");
    let _ = std::fs::create_dir_all(&dir);
    for name in ["a.policy", "b.policy"] {
        let from = format!("{ENTRY}/2021-11-05.policy");
        std::fs::copy(&from, dir.join(name)).unwrap_or_else(|e| unreachable!("{e}"));
    }
    let shown = dir.display().to_string();
    let (a, b) = (format!("{shown}/a.policy"), format!("{shown}/b.policy"));
    let o = run(&["check", "--error-format", "plain", &a, &b], "");
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("ambiguous", stderr(&o).replace(&shown, "DIR"));
}

#[test]
fn test_runs_each_versions_tests_against_it() {
    let o = run(&["test", ENTRY], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("test", stdout(&o));
}

/// `--timeline` follows the decision through the versions: each
/// version's own changes while it is in force, a change where the next
/// one takes effect and decides otherwise (at that instant, as
/// `next_change` gives it), nothing where it decides alike, and the end
/// of the policy when the last version ends (`"ends": true`). Here a
/// third version, more lenient (96 hours) and ending on 8 November,
/// admits again a person the second refused.
#[test]
fn timeline_includes_the_versions_taking_effect_and_the_end() {
    let dir = temp("versions-timeline");
    let _ = std::fs::create_dir_all(&dir);
    for name in ["2021-10-30.policy", "2021-11-05.policy"] {
        std::fs::copy(format!("{ENTRY}/{name}"), dir.join(name))
            .unwrap_or_else(|e| unreachable!("{e}"));
    }
    let text = std::fs::read_to_string(format!("{ENTRY}/2021-10-30.policy")).unwrap_or_default();
    let lenient = (text.replace("72", "96"))
        .replace("\"2021-10-30\"", "\"2021-11-06\"")
        .replace(
            "effective from 2021-10-30T00:00",
            "effective from 2021-11-06T00:00 until 2021-11-08T00:00",
        )
        .replace("2021-11-01T10:00", "2021-11-07T10:00")
        .replace("2021-10-30T10:00", "2021-11-04T10:00");
    std::fs::write(dir.join("2021-11-06.policy"), lenient).unwrap_or_else(|e| unreachable!("{e}"));
    let dir = dir.display().to_string();
    let people = r#"{"id": "back-and-forth", "tests": [{"sampled_at": "2021-11-02T22:00", "result": "negative"}]}
{"id": "alike-at-midnight", "tests": [{"sampled_at": "2021-11-03T22:00", "result": "negative"}]}
{"id": "refused-throughout", "tests": []}
"#;
    let at = |now: &str, extra: &[&str]| {
        let mut args = vec!["eval", dir.as_str(), "--input", "-", "--now", now];
        args.extend_from_slice(extra);
        let o = run(&args, people);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o
    };
    let o = at("2021-11-04T08:00", &["--timeline", "--next-change"]);
    let d = lines(&o);
    let steps = |i: usize| -> Vec<(String, String)> {
        (d[i]["timeline"].as_array().into_iter().flatten())
            .map(|s| {
                let at = s["at"].as_str().unwrap_or_default().to_owned();
                let then = match (s["outcome"].as_str(), s["ends"].as_bool()) {
                    (Some(o), _) => o.to_owned(),
                    (None, Some(true)) => "ends".to_owned(),
                    _ => unreachable!("{s}"),
                };
                (at, then)
            })
            .collect()
    };
    let step = |at: &str, then: &str| (at.to_owned(), then.to_owned());
    assert_eq!(
        steps(0),
        [
            step("2021-11-04T08:00:00+01:00", "admitted"),
            // The second version's 48 hours are over when it takes effect.
            step("2021-11-05T00:00:00+01:00", "refused"),
            // The third's 96 hours are not.
            step("2021-11-06T00:00:00+01:00", "admitted"),
            step("2021-11-06T22:00:00+01:00", "refused"),
            step("2021-11-08T00:00:00+01:00", "ends"),
        ]
    );
    assert_eq!(
        steps(1),
        [
            step("2021-11-04T08:00:00+01:00", "admitted"),
            step("2021-11-05T22:00:00+01:00", "refused"),
            step("2021-11-06T00:00:00+01:00", "admitted"),
            step("2021-11-07T22:00:00+01:00", "refused"),
            step("2021-11-08T00:00:00+01:00", "ends"),
        ]
    );
    assert_eq!(
        steps(2),
        [
            step("2021-11-04T08:00:00+01:00", "refused"),
            step("2021-11-08T00:00:00+01:00", "ends"),
        ]
    );
    // `next_change` is the timeline's first change.
    for (i, person) in d.iter().enumerate() {
        let timeline = person["timeline"].as_array().cloned().unwrap_or_default();
        assert_eq!(person["next_change"], timeline[1], "person {i}");
    }
    // `--next-change` alone gives the same first change.
    let o = at("2021-11-04T08:00", &["--next-change"]);
    for (alone, with) in lines(&o).iter().zip(&d) {
        assert_eq!(alone["next_change"], with["next_change"]);
    }
    insta::assert_snapshot!("timeline", stdout(&o_pretty(&dir, people)));
    insta::assert_snapshot!(
        "timeline_json",
        stdout(&at("2021-11-04T08:00", &["--timeline"]))
    );
}

/// The same timelines as `--format pretty` writes them.
fn o_pretty(dir: &str, people: &str) -> std::process::Output {
    let args = [
        "eval",
        dir,
        "--input",
        "-",
        "--now",
        "2021-11-04T08:00",
        "--timeline",
        "--format",
        "pretty",
    ];
    run(&args, people)
}

/// `explain DIR` explains by the version in force and says when the next
/// version changes the decision, in words.
#[test]
fn explain_says_when_the_next_version_changes_the_decision() {
    let person = r#"{"id": "at-midnight", "tests": [{"sampled_at": "2021-11-02T22:00", "result": "negative"}]}"#;
    let args = [
        "explain",
        ENTRY,
        "--input",
        "-",
        "--now",
        "2021-11-04T08:00",
    ];
    let o = run(&args, person);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("5 November 2021, 00:00"), "{text}");
    insta::assert_snapshot!("explained", text);
}
