//! `--jobs`: deciding on several threads writes what one thread writes,
//! byte for byte, on stdout and stderr, with the same exit code.

use std::process::Output;

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{run, stderr, temp};

#[path = "../benches/support/population.rs"]
mod population;

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";

/// A bad line of each kind the contract names, in turn.
fn bad_line(kind: usize, limit: usize) -> Vec<u8> {
    match kind % 6 {
        0 => b"{\"id\": \"caf\xe9\", \"stays\": []}".to_vec(),
        1 => format!(r#"{{"id": "{}"}}"#, "x".repeat(limit)).into_bytes(),
        2 => b"not json".to_vec(),
        3 => br#"{"id": "v", "stays": [{"phone": "1", "region": "15292", "from": "2021-10-24T08:00:00+08:00", "to": null}]}"#.to_vec(),
        4 => Vec::new(),
        _ => br#"{"id": "t", "tests": [{"sampled_at": "yesterday", "result": "negative"}]}"#.to_vec(),
    }
}

/// `people` generated people with bad lines among them: first, last, in
/// runs and alone, at positions that fall in every part of a batch; and
/// the `--max-line-bytes` that only the over-long ones break.
fn population(people: usize) -> (Vec<u8>, usize) {
    let lines: Vec<String> = population::population(people, 7)
        .lines()
        .map(str::to_owned)
        .collect();
    let limit = lines.iter().map(String::len).max().unwrap_or_default() + 10;
    let mut input = Vec::new();
    let mut kind = 0;
    let mut bad = |input: &mut Vec<u8>| {
        input.extend(bad_line(kind, limit));
        input.push(b'\n');
        kind += 1;
    };
    for (i, line) in lines.iter().enumerate() {
        // Primes apart, so that they land at every offset of a batch.
        if i == 0 || i % 61 == 0 || i % 257 == 3 || (500..506).contains(&i) {
            bad(&mut input);
        }
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    bad(&mut input);
    (input, limit)
}

fn count_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// A temporary file holding `bytes`, by its path.
fn file(name: &str, bytes: &[u8]) -> String {
    let path = temp(name);
    let _ = std::fs::write(&path, bytes);
    path.to_string_lossy().into_owned()
}

/// `policyc` with `args` and `--jobs jobs`, on `stdin`.
fn with_jobs(args: &[String], jobs: usize, stdin: &[u8]) -> Output {
    let mut args = args.to_vec();
    args.extend(["--jobs".to_owned(), jobs.to_string()]);
    run(&args, stdin)
}

/// Runs `args` with 1, 2 and 4 jobs and asserts that all write the same;
/// and, when `lines` is given, that one job wrote that many lines.
fn same_with_every_jobs(args: &[String], stdin: &[u8], lines: Option<usize>) {
    let one = with_jobs(args, 1, stdin);
    assert_eq!(one.status.code(), Some(3), "{}", stderr(&one));
    if let Some(lines) = lines {
        assert_eq!(
            count_lines(&one.stdout),
            lines,
            "one output line per input line"
        );
    }
    for jobs in [2, 4] {
        let many = with_jobs(args, jobs, stdin);
        assert_eq!(many.status.code(), one.status.code(), "--jobs {jobs}");
        assert!(many.stdout == one.stdout, "--jobs {jobs}: stdout differs");
        assert_eq!(stderr(&many), stderr(&one), "--jobs {jobs}: stderr");
    }
}

fn args(command: &str, input: &str, limit: usize, extra: &[&str]) -> Vec<String> {
    let limit = limit.to_string();
    let mut args = vec![command, POLICY, "--input", input, "--facts", FACTS];
    args.extend(["--now", population::NOW, "--max-line-bytes", &limit]);
    args.extend(extra);
    args.into_iter().map(str::to_owned).collect()
}

#[test]
fn a_file_decided_on_several_threads_gives_what_one_thread_gives() {
    let (input, limit) = population(3000);
    let (lines, path) = (count_lines(&input), file("jobs-people.jsonl", &input));
    // A file is decided in batches; every error report is on stderr too.
    same_with_every_jobs(&args("eval", &path, limit, &[]), b"", Some(lines));
    same_with_every_jobs(
        &args("eval", &path, limit, &["--error-format", "json"]),
        b"",
        Some(lines),
    );
}

#[test]
fn stdin_decided_on_several_threads_gives_what_one_thread_gives() {
    // A pipe is decided a record at a time, each answer flushed.
    let (input, limit) = population(1500);
    let lines = count_lines(&input);
    same_with_every_jobs(
        &args("eval", "-", limit, &["--next-change"]),
        &input,
        Some(lines),
    );
}

#[test]
fn explanations_on_several_threads_are_those_of_one_thread() {
    let (input, limit) = population(300);
    let (lines, path) = (count_lines(&input), file("jobs-explain.jsonl", &input));
    // An explanation for people is several lines.
    same_with_every_jobs(&args("explain", &path, limit, &["--lang", "en"]), b"", None);
    same_with_every_jobs(
        &args("explain", "-", limit, &["--format", "json"]),
        &input,
        Some(lines),
    );
}

#[test]
fn more_jobs_than_threads_can_run_decide_as_one() {
    let (input, limit) = population(50);
    let args = args("eval", "-", limit, &[]);
    let one = with_jobs(&args, 1, &input);
    let many = with_jobs(&args, 1_000_000, &input);
    assert_eq!(many.status.code(), Some(3), "{}", stderr(&many));
    assert!(many.stdout == one.stdout);
    assert_eq!(stderr(&many), stderr(&one));
}

#[test]
fn no_jobs_is_a_usage_error() {
    let o = with_jobs(&args("eval", "-", 1000, &[]), 0, b"{}\n");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--jobs"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}
