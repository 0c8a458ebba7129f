//! The page of `policyc diff --html` in a real headless Chromium: what it
//! shows once its script has run (the matrix's numbers, a sampled
//! person's explanation, the horizon's picture), with a screenshot kept
//! in `target/artifacts/diff.png`.
//!
//! Ignored by `cargo test`, which must run without a browser: `.ci/run`
//! installs Debian's `chromium` (`.ci/browser-deps`) and runs
//! `cargo test --locked --test browser -- --ignored`. `POLICYC_CHROMIUM`
//! names another browser binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{finish, run, stderr, temp};

const OLD: &str = "policies/beijing-2021-10-30.policy";
const NEW: &str = "tests/fixtures/diff/beijing-24h.policy";

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| unreachable!("{e}"));
    dir
}

/// Chromium, headless, with a profile of its own, run with `args`.
fn chromium(args: &[&str]) -> std::process::Output {
    let browser = std::env::var("POLICYC_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let profile = temp(&format!("chromium-profile-{}", args.len()));
    let profile = format!("--user-data-dir={}", profile.display());
    let child = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            &profile,
        ])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            unreachable!("cannot run `{browser}` (.ci/browser-deps installs it): {e}")
        });
    finish(child, Vec::new())
}

/// Text as the DOM serializes it inside an element.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

/// The text of the element whose attributes hold `cell`, in `dom`.
fn shown<'d>(dom: &'d str, cell: &str) -> &'d str {
    let at = dom
        .find(cell)
        .unwrap_or_else(|| unreachable!("no cell `{cell}`"));
    let text = dom[at..]
        .split('>')
        .nth(1)
        .and_then(|t| t.split('<').next());
    text.unwrap_or_default()
}

#[test]
#[ignore = "needs Chromium: .ci/browser-deps installs it, .ci/run runs this"]
fn the_diff_page_shows_the_matrix_a_person_and_the_horizon_in_chromium() {
    // The seeded population of the differential fixture, decompressed.
    let people = temp("browser-people.jsonl");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/differential/people.jsonl.gz");
    let file = std::fs::File::open(fixture).unwrap_or_else(|e| unreachable!("{e}"));
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(file), &mut text)
        .unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(&people, text).unwrap_or_else(|e| unreachable!("{e}"));
    let page = artifacts().join("diff.html");
    let (people, page_arg) = (people.display().to_string(), page.display().to_string());
    let args = [
        "diff",
        OLD,
        NEW,
        "--input",
        &people,
        "--facts",
        "examples/beijing/facts.json",
        "--now",
        "2021-11-01T10:00:00+08:00",
        "--horizon",
        "3d",
        "--lang",
        "en",
        "--format",
        "json",
        "--html",
        &page_arg,
    ];
    let out = run(&args, "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| unreachable!("{e}"));

    let url = format!("file://{}", page.display());
    let dom = chromium(&["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(
        dom.contains(r#"data-rendered="yes""#),
        "the script did not run to its end:\n{dom}"
    );

    // Every cell of the matrix, with the report's number.
    let m = &report["outcomes"];
    let names = |side: &str| -> Vec<String> {
        serde_json::from_value(m[side].clone()).unwrap_or_else(|e| unreachable!("{e}"))
    };
    let (old, new) = (names("old"), names("new"));
    for (i, a) in old.iter().enumerate() {
        for (j, b) in new.iter().enumerate() {
            let cell = format!(r#"data-old="{a}" data-new="{b}""#);
            assert_eq!(shown(&dom, &cell), m["counts"][i][j].to_string(), "{cell}");
        }
    }
    assert_eq!(m["counts"][0][1], 6);

    // The matrix of payload kinds: each cell with its number, the kind's
    // text (the outcome where the payload has none) naming it.
    let k = &report["kinds"];
    let label = |kind: &Value| match kind["kind"].as_str() {
        Some(text) => text.to_owned(),
        None => kind["outcome"].as_str().unwrap_or_default().to_owned(),
    };
    let sides = |side: &str| -> Vec<String> {
        k[side]
            .as_array()
            .into_iter()
            .flatten()
            .map(label)
            .collect()
    };
    let (old, new) = (sides("old"), sides("new"));
    assert_eq!(old.len(), 5);
    let kinds = dom
        .find(r#"id="kinds-chart""#)
        .map(|at| &dom[at..])
        .unwrap_or_default();
    for (i, a) in old.iter().enumerate() {
        for (j, b) in new.iter().enumerate() {
            let cell = format!(r#"data-kind-old="{a}" data-kind-new="{b}""#);
            assert_eq!(shown(kinds, &cell), k["counts"][i][j].to_string(), "{cell}");
        }
    }

    // A sampled person, explained in English under both versions.
    let sample = &report["transitions"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["changed"] == true))
        .unwrap_or_else(|| unreachable!("no change"))["sample"][0];
    let line = format!(r#"data-line="{}""#, sample["line"]);
    assert!(dom.contains(&line), "no sampled person at {line}");
    for side in ["old", "new"] {
        let text = sample[side].as_str().unwrap_or_default();
        assert!(text.contains("Beijing Health Kit"), "{text}");
        let shown = format!(r#"<pre class="explanation {side}">{}</pre>"#, escaped(text));
        assert!(
            dom.contains(&shown),
            "the {side} explanation is not shown as given"
        );
    }
    assert!(
        dom.contains("Visited a city with a local case: a negative test within 24 hours is needed")
    );

    // The horizon: a bar and a dot per day.
    let buckets = report["horizon"]["buckets"].as_array().map_or(0, Vec::len);
    assert_eq!(buckets, 3);
    let chart = dom
        .find(r#"id="horizon-chart""#)
        .map(|at| &dom[at..])
        .unwrap_or_default();
    assert_eq!(chart.matches(r#"class="differing""#).count(), buckets);
    assert_eq!(chart.matches(r#"class="parting""#).count(), buckets);
    assert!(dom.contains("10 people decided alike now are decided differently within 3d."));

    let shot = artifacts().join("diff.png");
    let _ = std::fs::remove_file(&shot);
    let screenshot = format!("--screenshot={}", shot.display());
    let out = chromium(&["--window-size=1280,2000", &screenshot, &url]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        unreachable!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}
