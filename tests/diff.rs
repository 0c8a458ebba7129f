//! `policyc diff`: a policy against itself, the two versions swapped, a
//! known rule change (the 48-hour test window of the Beijing rules cut to
//! 24 hours, `tests/fixtures/diff/beijing-24h.policy`) on the seeded
//! population of `tests/fixtures/differential/people.jsonl.gz`, `--fail-if`
//! and its exit codes, `--jobs`, bad records and the HTML page.

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use serde_json::Value;

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{run, stderr, stdout, temp};

const OLD: &str = "policies/beijing-2021-10-30.policy";
const NEW: &str = "tests/fixtures/diff/beijing-24h.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00+08:00";

/// The 3,000 people of the differential fixture, as a file of JSON Lines.
fn people() -> &'static PathBuf {
    static PEOPLE: OnceLock<PathBuf> = OnceLock::new();
    PEOPLE.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/differential/people.jsonl.gz");
        let file = std::fs::File::open(&path).unwrap_or_else(|e| unreachable!("{e}"));
        let mut text = Vec::new();
        GzDecoder::new(file)
            .read_to_end(&mut text)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let out = temp("diff-people.jsonl");
        std::fs::write(&out, text).unwrap_or_else(|e| unreachable!("{e}"));
        out
    })
}

/// `policyc diff OLD NEW` on the people, with `more` arguments.
fn diff(old: &str, new: &str, more: &[&str]) -> std::process::Output {
    let input = people().display().to_string();
    let mut args = vec![
        "diff", old, new, "--input", &input, "--facts", FACTS, "--now", NOW,
    ];
    args.extend_from_slice(more);
    run(&args, "")
}

/// The JSON report of `policyc diff OLD NEW`.
fn report(old: &str, new: &str, more: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(more);
    let out = diff(old, new, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| unreachable!("{e}"))
}

fn counts(report: &Value) -> Vec<Vec<u64>> {
    serde_json::from_value(report["outcomes"]["counts"].clone())
        .unwrap_or_else(|e| unreachable!("{e}"))
}

#[test]
fn a_policy_against_itself_gives_a_diagonal_matrix() {
    let r = report(OLD, OLD, &["--horizon", "7d"]);
    let m = counts(&r);
    assert_eq!(r["people"], 3000);
    assert_eq!(r["changed"], 0);
    for (i, row) in m.iter().enumerate() {
        for (j, n) in row.iter().enumerate() {
            assert!(i == j || *n == 0, "{m:?}");
        }
    }
    assert_eq!(m.iter().flatten().sum::<u64>(), 3000);
    let transitions = r["transitions"].as_array().map_or(&[][..], Vec::as_slice);
    assert!(transitions.len() > 1);
    assert!(transitions.iter().all(|t| t["changed"] == false
        && t["old"] == t["new"]
        && t["sample"] == Value::Array(vec![])));
    assert_eq!(r["horizon"]["people"], 0);
}

#[test]
fn swapping_old_and_new_transposes_the_matrix() {
    let there = report(OLD, NEW, &[]);
    let back = report(NEW, OLD, &[]);
    let (a, b) = (counts(&there), counts(&back));
    for (i, row) in a.iter().enumerate() {
        for (j, n) in row.iter().enumerate() {
            assert_eq!(*n, b[j][i], "{a:?} against {b:?}");
        }
    }
    assert!(
        a[0][1] > 0,
        "the change turns someone from green to a pop-up"
    );
    let pairs = |r: &Value, swap: bool| {
        let mut pairs: Vec<String> = r["transitions"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|t| {
                let (x, y) = if swap {
                    (&t["new"], &t["old"])
                } else {
                    (&t["old"], &t["new"])
                };
                format!("{x} {y} {}", t["count"])
            })
            .collect();
        pairs.sort();
        pairs
    };
    assert_eq!(pairs(&there, false), pairs(&back, true));
    assert_eq!(there["changed"], back["changed"]);
}

#[test]
fn a_24_hour_test_window_changes_these_people_and_for_these_reasons() {
    let out = diff(
        OLD,
        NEW,
        &["--horizon", "3d", "--sample", "2", "--lang", "en"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("beijing-24h-table", stdout(&out));
}

#[test]
fn the_json_report_has_the_matrix_the_transitions_and_the_horizon() {
    let mut r = report(OLD, NEW, &["--horizon", "3d", "--sample", "1"]);
    // The explanations are pinned by the table's snapshot and by the
    // explain tests; here, the shape around them.
    for t in r["transitions"].as_array_mut().into_iter().flatten() {
        for s in t["sample"].as_array_mut().into_iter().flatten() {
            assert!(s["new"].as_str().is_some_and(|t| t.contains("北京健康宝")));
            s["old"] = "...".into();
            s["new"] = "...".into();
        }
    }
    for s in r["horizon"]["sample"].as_array_mut().into_iter().flatten() {
        s["old"] = "...".into();
        s["new"] = "...".into();
    }
    r["old"]["file"] = "OLD".into();
    r["new"]["file"] = "NEW".into();
    let pretty = serde_json::to_string_pretty(&r).unwrap_or_default();
    insta::assert_snapshot!("beijing-24h-json", pretty);
}

#[test]
fn threads_change_nothing_in_the_report() {
    let one = diff(
        OLD,
        NEW,
        &["--format", "json", "--horizon", "2d", "--jobs", "1"],
    );
    let three = diff(
        OLD,
        NEW,
        &["--format", "json", "--horizon", "2d", "--jobs", "3"],
    );
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(stdout(&one), stdout(&three));
    let seeded = diff(OLD, NEW, &["--format", "json", "--seed", "99"]);
    assert_ne!(stdout(&one), stdout(&seeded), "another seed samples others");
}

#[test]
fn fail_if_refuses_a_change_larger_than_intended_with_exit_code_4() {
    let code = |conditions: &[&str]| {
        let mut args = vec![];
        for c in conditions {
            args.extend(["--fail-if", c]);
        }
        let out = diff(OLD, NEW, &args);
        (
            out.status.code(),
            stdout(&out).lines().last().map(str::to_owned),
        )
    };
    assert_eq!(
        code(&["green->popup > 5"]),
        (
            Some(4),
            Some(
                "--fail-if 'green->popup > 5': 6 people (0.20%): holds, the change is refused"
                    .into()
            )
        )
    );
    assert_eq!(code(&["green->popup > 6"]).0, Some(0));
    assert_eq!(code(&["green->popup >= 0.2%"]).0, Some(4));
    assert_eq!(code(&["changed > 1%", "popup->green > 0"]).0, Some(0));
    assert_eq!(code(&["changed > 1%", "*->popup > 10%"]).0, Some(0));
    assert_eq!(code(&["errors > 0", "changed >= 7"]).0, Some(4));
}

#[test]
fn a_malformed_condition_is_a_usage_error_that_points_at_it() {
    let out = diff(OLD, NEW, &["--fail-if", "green->popop > 5%"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!("fail-if-unknown-outcome", stderr(&out));
    let out = diff(OLD, NEW, &["--fail-if", "green->popup = 5"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("fail-if-malformed", stderr(&out));
}

#[test]
fn bad_records_are_counted_apart_and_exit_with_code_3() {
    let input = temp("diff-bad.jsonl");
    let good = r#"{"id": "g", "phones": [{"number": "1", "bound_at": "2021-01-05T09:00:00+08:00", "itinerary_checked": true}]}"#;
    std::fs::write(&input, format!("{good}\nnot json\n\n{good}\n"))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let input = input.display().to_string();
    let args = [
        "diff", OLD, NEW, "--input", &input, "--facts", FACTS, "--now", NOW, "--format", "json",
    ];
    let out = run(&args, "");
    assert_eq!(out.status.code(), Some(3));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        (r["people"].clone(), r["decided"].clone()),
        (4.into(), 2.into())
    );
    assert_eq!(r["errors"]["both"], 2);
    assert_eq!(r["errors"]["first"][0]["line"], 2);
    assert_eq!(
        r["errors"]["first"][1]["old"],
        "line 3, an empty line, not a JSON object"
    );
    assert!(
        stderr(&out).contains("error: 2 records could not be decided under one version or both")
    );
}

#[test]
fn a_folder_of_dated_versions_gives_the_one_in_force() {
    let dir = temp("diff-versions");
    binary::copy_libraries(&dir);
    for (name, from) in [("2021-10-30.policy", OLD), ("2021-11-05.policy", NEW)] {
        std::fs::copy(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(from),
            dir.join(name),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
    }
    let dir = dir.display().to_string();
    let r = report(&dir, NEW, &[]);
    assert!(
        r["old"]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("2021-10-30.policy")),
        "{}",
        r["old"]
    );
    assert_eq!(r["old"]["version"], "2021-10-30");
    let input = people().display().to_string();
    let early = "2021-10-01T10:00:00+08:00";
    let args = [
        "diff", &dir, NEW, "--input", &input, "--facts", FACTS, "--now", early,
    ];
    let out = run(&args, "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no dated version not after 2021-10-01"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_html_page_holds_everything_it_shows() {
    let page = temp("diff.html");
    let page_arg = page.display().to_string();
    let out = diff(
        OLD,
        NEW,
        &["--horizon", "3d", "--html", &page_arg, "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap_or_else(|e| unreachable!("{e}"));
    // Nothing is fetched: no external script, style, image or font.
    for fetch in ["src=", "href=", "url(", "@import", "https://"] {
        assert!(!html.contains(fetch), "the page fetches `{fetch}`");
    }
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"zh\">"));
    // The report is the one `--format json` gives, safe inside `<script>`.
    let open = r#"<script id="report" type="application/json">"#;
    let start = html.find(open).map(|i| i + open.len());
    let json = start.and_then(|s| html[s..].find("</script>").map(|e| &html[s..s + e]));
    let json = json.unwrap_or_else(|| unreachable!("no report in the page"));
    assert!(!json.contains('<'));
    let embedded: Value = serde_json::from_str(json).unwrap_or_else(|e| unreachable!("{e}"));
    let printed: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(embedded, printed);
}

#[test]
fn a_line_past_the_limit_and_an_unwritable_page_say_so() {
    let input = temp("diff-long.jsonl");
    let long = format!(r#"{{"id": "{}"}}"#, "x".repeat(100));
    std::fs::write(&input, format!("{{}}\n{long}\n")).unwrap_or_else(|e| unreachable!("{e}"));
    let input = input.display().to_string();
    let base = [
        "diff", OLD, NEW, "--input", &input, "--facts", FACTS, "--now", NOW,
    ];
    let mut args = base.to_vec();
    args.extend(["--max-line-bytes", "50", "--format", "json"]);
    let out = run(&args, "");
    assert_eq!(out.status.code(), Some(3));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        (r["people"].clone(), r["decided"].clone()),
        (2.into(), 1.into())
    );
    assert_eq!(
        r["errors"]["first"][0]["new"],
        "line 2, the line is longer than 50 bytes, the limit; it is skipped"
    );
    let mut args = base.to_vec();
    args.extend(["--html", "/nonexistent-folder/diff.html"]);
    let out = run(&args, "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot write `/nonexistent-folder/diff.html`"),
        "{}",
        stderr(&out)
    );
}
