//! Seeded mutation fuzzing: the shipped policies mutated by deletions,
//! insertions of brackets, operators and keywords, duplications and
//! truncations go through `Policy::compile`, the diagnostics and `fmt`;
//! mutated JSON Lines go through the stream engine and the binary. No case
//! may panic or run past a time bound, and every input line gives one
//! output line. The iterations are fixed, so a failure names its case and
//! happens again.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use policyc::{Extras, Policy, stream};

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;

const POLICIES: [(&str, &str); 4] = [
    (
        "beijing-2021-10-30.policy",
        include_str!("../policies/beijing-2021-10-30.policy"),
    ),
    (
        "beijing-2022-winter-olympics.policy",
        include_str!("../policies/beijing-2022-winter-olympics.policy"),
    ),
    (
        "quarantine-release.policy",
        include_str!("../policies/quarantine-release.policy"),
    ),
    (
        "three-colour-health-code.policy",
        include_str!("../policies/three-colour-health-code.policy"),
    ),
];
const FACTS: &str = include_str!("../examples/beijing/facts.json");
const PEOPLE: &str = include_str!("../examples/beijing/people.jsonl");
const NOW: i64 = 1_635_732_000_000_000;
/// The longest one case may take, in a debug build on a busy machine.
const BOUND: Duration = Duration::from_secs(20);

/// xorshift64*: small, seeded, and enough to mutate text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a [u8]]) -> &'a [u8] {
        from[self.below(from.len())]
    }
}

/// What policies are made of, and what breaks them.
const POLICY_PIECES: &[&[u8]] = &[
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b"((",
    b"))",
    b",",
    b".",
    b":",
    b"?",
    b"=",
    b"<",
    b">=",
    b"!=",
    b"+",
    b"-",
    b"*",
    b"/",
    b"\"",
    b"#",
    b" and ",
    b" or ",
    b" not ",
    b" in ",
    b" within ",
    b" overlaps ",
    b" where ",
    b" has ",
    b" any ",
    b" all ",
    b" no ",
    b" is none",
    b" now",
    b" rule ",
    b" when ",
    b" unless ",
    b" then ",
    b" otherwise ",
    b" let ",
    b" input ",
    b" facts ",
    b" outcomes ",
    b" test ",
    b" expect ",
    b" at ",
    b" rules ",
    b" remedy ",
    b" messages ",
    b" list of ",
    b" set of ",
    b" 14d",
    b" 48h",
    b" 0",
    b" 1.5",
    b" 99999999999999999999",
    b" 2021-02-30",
    b" 2021-11-01T10:00+08:00",
    b"\n",
    b"\t",
    b"\xe4\xba\xac",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
];

/// What JSON is made of, and what breaks a reader of it (never a line end:
/// the lines must stay the lines).
const JSON_PIECES: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"null",
    b"true",
    b"-0",
    b"1e999",
    b"0.5",
    b"\\u0000",
    b"\\ud83d",
    b"\\",
    b"\r",
    b"\t",
    b" ",
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"[[[[[[[[[[[[[[[[",
    b"{\"a\":",
    b"\"2021-11-01T10:00:00+08:99\"",
    b"\"9999-12-31T23:59:59Z\"",
    b"\"152923\"",
    b"\"stays\"",
    b"\"tests\"",
    b"\"phones\"",
];

/// One to three mutations of `text`.
fn mutate(text: &[u8], rng: &mut Rng, pieces: &[&[u8]]) -> Vec<u8> {
    let mut out = text.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            // Delete a few bytes.
            0 => {
                let end = (at + 1 + rng.below(8)).min(out.len());
                out.drain(at.min(end)..end);
            }
            // Delete a token: up to the next white space.
            1 => {
                let end = out[at..]
                    .iter()
                    .position(u8::is_ascii_whitespace)
                    .map_or(out.len(), |n| at + n);
                out.drain(at..end);
            }
            // Insert a bracket, operator, keyword or troublesome byte.
            2 | 3 => {
                let piece = rng.pick(pieces);
                out.splice(at..at, piece.iter().copied());
            }
            // Duplicate a stretch.
            4 => {
                let from = rng.below(out.len());
                let end = (from + rng.below(80)).min(out.len());
                let copy = out[from..end].to_vec();
                out.splice(at..at, copy);
            }
            // Truncate.
            _ => out.truncate(at),
        }
    }
    out
}

/// Runs `check` on every case in a worker thread: a case that panics is
/// reported with its input, and one that runs past `BOUND` fails the test
/// at once, with its input.
fn each_case(name: &str, cases: Vec<Vec<u8>>, check: fn(&[u8])) {
    let cases = Arc::new(cases);
    let (send, receive) = mpsc::channel();
    let work = Arc::clone(&cases);
    std::thread::spawn(move || {
        for (i, case) in work.iter().enumerate() {
            let result = catch_unwind(AssertUnwindSafe(|| check(case)));
            let message = result.err().map(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default()
            });
            if send.send((i, message)).is_err() {
                break;
            }
        }
    });
    let mut panics = Vec::new();
    for i in 0..cases.len() {
        match receive.recv_timeout(BOUND) {
            Ok((_, None)) => {}
            Ok((j, Some(message))) => panics.push(format!(
                "{name} case {j} panicked: {message}\ninput: {:?}",
                String::from_utf8_lossy(&cases[j])
            )),
            Err(_) => unreachable!(
                "{name} case {i} ran past {BOUND:?}\ninput: {:?}",
                String::from_utf8_lossy(&cases[i])
            ),
        }
    }
    assert!(panics.is_empty(), "{}", panics.join("\n\n"));
}

/// How many mutated policies compiled, and how many were refused.
static COMPILED: AtomicUsize = AtomicUsize::new(0);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// Compiles a mutated policy as the CLI would read it, renders what it
/// says, and formats it.
fn compile_and_format(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let human = policyc::ErrorFormat::Human { colour: false };
    // In `policies/`, where the libraries the policies use are.
    let result = Policy::compile("policies/mutated.policy", &text);
    let count = if result.is_ok() { &COMPILED } else { &REFUSED };
    count.fetch_add(1, Ordering::Relaxed);
    match result {
        Ok(p) => {
            for w in p.warnings() {
                let _ = policyc::render(w, human);
            }
        }
        Err(e) => {
            for d in &e.errors {
                let _ = policyc::render(d.as_ref(), human);
                let _ = policyc::render(d.as_ref(), policyc::ErrorFormat::Json);
            }
        }
    }
    let _ = policyc::format::format(&text);
}

#[test]
fn mutated_policies_compile_and_format_without_panic_or_hang() {
    let mut rng = Rng(0x0008_2021_1030);
    let mut cases = Vec::new();
    for (_, text) in POLICIES {
        for _ in 0..150 {
            cases.push(mutate(text.as_bytes(), &mut rng, POLICY_PIECES));
        }
    }
    each_case("policy", cases, compile_and_format);
    // Neither all broken nor all harmless, or the mutations test nothing.
    assert!(COMPILED.load(Ordering::Relaxed) > 50);
    assert!(REFUSED.load(Ordering::Relaxed) > 50);
}

/// Batches of mutated people, each line mutated or not (a first line cut
/// short among them); the lines stay the lines.
fn batches(seed: u64, count: usize, size: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    let people: Vec<&str> = PEOPLE.lines().collect();
    (0..count)
        .map(|_| {
            let mut batch = Vec::new();
            for _ in 0..size {
                let person = people[rng.below(people.len())].as_bytes();
                if rng.below(4) == 0 {
                    batch.extend_from_slice(person);
                } else {
                    batch.extend(mutate(person, &mut rng, JSON_PIECES));
                }
                batch.push(b'\n');
            }
            batch
        })
        .collect()
}

/// Each output line answers the input line in its place: a decision, or
/// the error line of that line.
fn one_answer_per_line(input: &[u8], output: &str) {
    let lines = input.split(|b| *b == b'\n').count() - 1;
    let answers: Vec<&str> = output.lines().collect();
    assert_eq!(answers.len(), lines, "one output line per input line");
    for (i, answer) in answers.iter().enumerate() {
        let answer: serde_json::Value = serde_json::from_str(answer)
            .unwrap_or_else(|e| unreachable!("line {}: not JSON: {e}: {answer}", i + 1));
        if answer.get("outcome").is_none() {
            assert_eq!(answer["line"], i + 1, "{answer}");
            assert!(answer["error"].is_string(), "{answer}");
        }
    }
}

fn decide_batch(input: &[u8]) {
    let policy =
        Policy::load("policies/beijing-2021-10-30.policy").unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let words = policy
        .words(Some("en"))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let all = Extras {
        next_change: true,
        timeline: true,
        remedies: true,
        witnesses: true,
    };
    // The decision alone, with everything it can carry, and explained.
    for (extras, output) in [
        (Extras::default(), stream::Output::Json),
        (all, stream::Output::Json),
        (Extras::default(), stream::Output::ExplainJson(&words)),
    ] {
        let decider = stream::Decider::new(&policy, &facts, NOW, extras, output);
        let mut out = Vec::new();
        let options = stream::Options {
            max_line_bytes: 2000,
            flush_each: false,
            ..stream::Options::default()
        };
        let summary = stream::run(&decider, input, &mut out, options, |_| {})
            .unwrap_or_else(|_| unreachable!("writing to memory cannot fail"));
        let output = String::from_utf8(out).unwrap_or_else(|e| unreachable!("not UTF-8: {e}"));
        one_answer_per_line(input, &output);
        assert_eq!(summary.records, output.lines().count());
        BAD.fetch_add(summary.bad, Ordering::Relaxed);
        DECIDED.fetch_add(summary.records - summary.bad, Ordering::Relaxed);
    }
}

/// How many mutated lines were decided, and how many were error lines.
static DECIDED: AtomicUsize = AtomicUsize::new(0);
static BAD: AtomicUsize = AtomicUsize::new(0);

#[test]
fn mutated_json_lines_give_one_answer_per_line() {
    each_case("json lines", batches(0x5eed_0001, 80, 25), decide_batch);
    assert!(DECIDED.load(Ordering::Relaxed) > 100);
    assert!(BAD.load(Ordering::Relaxed) > 100);
}

#[test]
fn mutated_json_lines_through_the_binary() {
    let input = batches(0x5eed_0002, 1, 300).concat();
    let o = binary::run(
        &[
            "eval",
            "policies/beijing-2021-10-30.policy",
            "--input",
            "-",
            "--facts",
            "examples/beijing/facts.json",
            "--now",
            "2021-11-01T10:00:00+08:00",
        ],
        input.clone(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(3), "some lines are bad: {err}");
    one_answer_per_line(&input, &String::from_utf8_lossy(&o.stdout));
}
