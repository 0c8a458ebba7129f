//! The binary's streams end to end: every input line gives one output line,
//! in order, as soon as it is decided, whatever the line holds.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{PATIENCE, finish, lines, run, spawn, stderr, stdout, temp};

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00+08:00";
const GREEN: &str = r#"{"id": "a", "phones": [{"number": "1", "bound_at": "2021-01-05T09:00:00+08:00", "itinerary_checked": true}]}"#;
const POPUP: &str = r#"{"id": "b", "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": null}]}"#;
fn eval_args(input: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["eval", POLICY, "--input", input, "--facts", FACTS]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    args.extend(["--now", NOW].iter().map(|s| (*s).to_owned()));
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// Runs `policyc eval` on `stdin`.
fn eval_bytes(stdin: Vec<u8>, extra: &[&str]) -> Output {
    run(&eval_args("-", extra), stdin)
}

#[test]
fn each_answer_comes_while_stdin_stays_open() {
    // The default, all cores; then one thread, and more than the cores.
    for jobs in [&[][..], &["--jobs", "1"], &["--jobs", "3"]] {
        answers_come_while_stdin_stays_open(jobs);
    }
}

fn answers_come_while_stdin_stays_open(extra: &[&str]) {
    let mut child = spawn(&eval_args("-", extra));
    let mut input = child
        .stdin
        .take()
        .unwrap_or_else(|| unreachable!("stdin is piped"));
    let output = child
        .stdout
        .take()
        .unwrap_or_else(|| unreachable!("stdout is piped"));
    let (send, answers) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            if send.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    for (person, id) in [(GREEN, "a"), (POPUP, "b"), (GREEN, "a")] {
        let _ = writeln!(input, "{person}");
        let _ = input.flush();
        let answer = answers
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| unreachable!("no answer to `{person}` while stdin is open"));
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        assert_eq!(answer["id"], id);
    }
    drop(input);
    let status = child.wait().map(|s| s.code());
    assert_eq!(status.ok().flatten(), Some(0));
}

#[test]
fn invalid_utf8_spoils_only_its_own_line() {
    let mut input = format!("{GREEN}\n").into_bytes();
    input.extend_from_slice(b"{\"id\": \"caf\xe9\"}\n");
    input.extend_from_slice(format!("{POPUP}\n").as_bytes());
    let o = eval_bytes(input, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), 3, "one output line per input line");
    assert_eq!(out[0]["id"], "a");
    assert_eq!(
        out[1],
        serde_json::json!({"line": 2, "error": "line 2, column 12: not valid UTF-8 (byte 0xe9)"})
    );
    assert_eq!(out[2]["id"], "b");
}

#[test]
fn a_line_past_the_limit_is_an_error_line_and_the_run_goes_on() {
    let long = format!(r#"{{"id": "{}"}}"#, "x".repeat(2000));
    let input = format!("{GREEN}\n{long}\n{POPUP}\n");
    let o = eval_bytes(input.into_bytes(), &["--max-line-bytes", "1000"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), 3, "{}", stdout(&o));
    assert_eq!(out[0]["id"], "a");
    assert_eq!(
        out[1]["error"],
        "line 2, the line is longer than 1000 bytes, the limit; it is skipped"
    );
    assert_eq!(out[2]["id"], "b");
    // Without the flag, far above any real record.
    let o = eval_bytes(format!("{long}\n").into_bytes(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = eval_bytes(Vec::new(), &["--max-line-bytes", "0"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a limit of nothing is a usage error"
    );
}

#[test]
fn twenty_megabytes_without_a_line_end_give_one_error_line() {
    let path = temp("zeros.jsonl");
    let _ = std::fs::write(&path, vec![0u8; 20 << 20]);
    let path = path.to_string_lossy().into_owned();
    let o = finish(
        spawn(&eval_args(&path, &["--max-line-bytes", "1000"])),
        Vec::new(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        lines(&o),
        [
            serde_json::json!({"line": 1, "error": "line 1, the line is longer than 1000 bytes, the limit, and has no end in the 65536 bytes after; the rest of the input is not read"})
        ]
    );
}

/// `/dev/zero` never ends a line: the run ends with one error line, in
/// bounded memory (an address-space limit makes growth an abort) and time.
#[cfg(target_os = "linux")]
#[test]
fn dev_zero_ends_with_one_error_line_in_bounded_memory() {
    let mut args = vec![
        "-c".to_owned(),
        "ulimit -v 1000000 && exec \"$0\" \"$@\"".to_owned(),
        env!("CARGO_BIN_EXE_policyc").to_owned(),
    ];
    args.extend(eval_args("/dev/zero", &[]));
    let child = Command::new("sh")
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| unreachable!("cannot run sh: {e}"));
    let o = finish(child, Vec::new());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), 1, "{}", stdout(&o));
    let error = out[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("line 1, the line is longer than 16777216 bytes"),
        "{error}"
    );
}

#[test]
fn a_first_line_cut_short_never_makes_the_file_one_object() {
    // Lines that do not start with `{` after a first line cut short: each
    // is its own record (before, the whole file was one bad object).
    let mut input = String::from("{\"id\": \"cut\", \"stays\": [\n");
    for _ in 0..500 {
        input.push_str(&format!(" {GREEN}\n"));
    }
    let o = eval_bytes(input.into_bytes(), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), 501, "one output line per input line");
    assert_eq!(out[0]["line"], 1);
    assert_eq!(out[1]["id"], "a");
    assert_eq!(out[500]["id"], "a");
    // A pretty-printed object with a bad value is still one object.
    let person: serde_json::Value = serde_json::from_str(POPUP).unwrap_or_default();
    let pretty = serde_json::to_string_pretty(&person)
        .unwrap_or_default()
        .replace("152923", "15292");
    let o = eval_bytes(pretty.into_bytes(), &[]);
    assert_eq!(o.status.code(), Some(3));
    let out = lines(&o);
    assert_eq!(out.len(), 1, "{}", stdout(&o));
    let error = out[0]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("line 7, column 17: "), "{error}");
    assert!(error.contains("`stays[0].region`"), "{error}");
}

#[test]
fn error_lines_put_the_line_first() {
    let o = eval_bytes(format!("{GREEN}\nnot json\n").into_bytes(), &[]);
    let text = stdout(&o);
    let second = text.lines().nth(1).unwrap_or_default();
    assert!(
        second.starts_with(r#"{"line":2,"error":"line 2, "#),
        "{second}"
    );
}

#[test]
fn a_byte_order_mark_before_the_first_line_is_skipped() {
    let o = eval_bytes(format!("\u{feff}{GREEN}\n{POPUP}\n").into_bytes(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o).len(), 2);
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let input: String = (0..5000).map(|_| format!("{POPUP}\n")).collect();
    let mut child = spawn(&eval_args("-", &[]));
    if let Some(mut stdin) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
    }
    // `| head -1`: read one line, then close the pipe.
    let mut out = BufReader::new(
        child
            .stdout
            .take()
            .unwrap_or_else(|| unreachable!("stdout is piped")),
    );
    let mut first = String::new();
    let _ = out.read_line(&mut first);
    assert!(first.contains("\"id\":\"b\""), "{first}");
    drop(out);
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let status = child.wait().map(|s| s.code());
    assert_eq!(err, "", "no message");
    assert_eq!(status.ok().flatten(), Some(0), "as `rg` does");
}
