//! The evaluator against a record of its own earlier output: a few
//! thousand generated people decided with every extra on, explained as
//! JSON in English and as text in Chinese, compared byte for byte with what
//! the evaluator of 2026-12-01 (before the plan of issue 9 replaced it)
//! wrote for them.
//!
//! The fixture holds its input too (`people.jsonl.gz`, 3,000 people of
//! `cargo run --example population -- 3000 7`), so a change to the
//! generator cannot change what is compared. A deliberate change of the
//! output format is recorded again with `POLICYC_RECORD_DIFFERENTIAL=1
//! cargo test --test differential`; review the diff of the decompressed
//! files before committing it, as for a snapshot.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use policyc::explain::Words;
use policyc::stream::{self, Decider, Output};
use policyc::{Extras, Policy};

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00+08:00";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/differential")
        .join(name)
}

fn read_gz(name: &str) -> Vec<u8> {
    let file = std::fs::File::open(fixture(name))
        .unwrap_or_else(|e| unreachable!("cannot open the fixture {name}: {e}"));
    let mut text = Vec::new();
    GzDecoder::new(file)
        .read_to_end(&mut text)
        .unwrap_or_else(|e| unreachable!("cannot decompress {name}: {e}"));
    text
}

fn write_gz(name: &str, text: &[u8]) {
    let file = std::fs::File::create(fixture(name))
        .unwrap_or_else(|e| unreachable!("cannot create {name}: {e}"));
    let mut gz = GzEncoder::new(file, Compression::best());
    gz.write_all(text)
        .and_then(|()| gz.finish().map(drop))
        .unwrap_or_else(|e| unreachable!("cannot write {name}: {e}"));
}

/// The stream engine's whole output for the fixture's people, exactly as
/// `policyc eval` or `explain` writes it.
fn decide_all(policy: &Policy, output: Output<'_>, extras: Extras, people: &[u8]) -> Vec<u8> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FACTS))
        .unwrap_or_else(|e| unreachable!("{FACTS}: {e}"));
    let now = policy
        .instant(NOW)
        .unwrap_or_else(|e| unreachable!("{NOW}: {e}"));
    let file = policy
        .facts_file(FACTS, &text)
        .unwrap_or_else(|e| unreachable!("{FACTS}: {e}"));
    let facts = policy
        .combine_facts(vec![file], now)
        .unwrap_or_else(|e| unreachable!("{FACTS}: {e}"));
    let decider = Decider::new(policy, &facts, now, extras, output);
    let mut out = Vec::new();
    let summary = stream::run(
        &decider,
        people,
        &mut out,
        stream::Options::default(),
        |e| unreachable!("a generated person could not be decided: {e}"),
    )
    .unwrap_or_else(|e| unreachable!("the stream failed: {e:?}"));
    assert_eq!(summary.bad, 0);
    out
}

/// Compares `got` with the recorded `name`, line by line, showing the first
/// line that differs.
fn compare(name: &str, got: &[u8]) {
    if std::env::var_os("POLICYC_RECORD_DIFFERENTIAL").is_some() {
        write_gz(name, got);
        return;
    }
    let want = read_gz(name);
    if want == got {
        return;
    }
    let (want, got) = (String::from_utf8_lossy(&want), String::from_utf8_lossy(got));
    let (mut w, mut g) = (want.lines(), got.lines());
    for number in 1.. {
        let (a, b) = (w.next(), g.next());
        assert_eq!(
            a, b,
            "{name}: line {number} differs from the recorded output (left: recorded, right: now)"
        );
        if a.is_none() {
            break;
        }
    }
    assert!(want == got, "{name}: the output differs in its line ends");
}

fn policy() -> Policy {
    Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{POLICY}: {e}"))
}

#[test]
fn decisions_with_every_extra_are_as_recorded() {
    let people = read_gz("people.jsonl.gz");
    assert_eq!(people.iter().filter(|&&b| b == b'\n').count(), 3000);
    let every = Extras {
        next_change: true,
        timeline: true,
        remedies: true,
        witnesses: true,
    };
    let got = decide_all(&policy(), Output::Json, every, &people);
    compare("decisions.jsonl.gz", &got);
}

#[test]
fn explanations_in_english_as_json_are_as_recorded() {
    let people = read_gz("people.jsonl.gz");
    let policy = policy();
    let words: Words<'_> = policy
        .words(Some("en"))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let got = decide_all(
        &policy,
        Output::ExplainJson(&words),
        Extras::default(),
        &people,
    );
    compare("explain-en.jsonl.gz", &got);
}

#[test]
fn explanations_in_chinese_as_text_are_as_recorded() {
    let people = read_gz("people.jsonl.gz");
    let policy = policy();
    let words = policy.words(None).unwrap_or_else(|e| unreachable!("{e}"));
    let got = decide_all(&policy, Output::Explain(&words), Extras::default(), &people);
    compare("explain-zh.txt.gz", &got);
}
