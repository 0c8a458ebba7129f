//! Each kind of bad data says what to write instead, in every form of
//! error report, while the error lines on stdout stay the contract's.

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{stderr, stdout, temp};

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00+08:00";

/// One bad record of each kind, a line each.
fn bad_records() -> Vec<u8> {
    let stay = |region: &str, from: &str, to: &str| {
        format!(
            r#"{{"stays": [{{"phone": "1", "region": "{region}", "from": "{from}", "to": {to}}}]}}"#
        )
    };
    let mut lines = vec![
        stay("11010", "2021-10-30T08:00:00+08:00", "null"),
        stay("110105", "yesterday", "null"),
        r#"{"tests": [{"sampled_at": "2021-10-31T08:00:00+08:00", "result": "neg"}]}"#.to_owned(),
        r#"{"phones": [{"bound_at": "2021-01-05T09:00:00+08:00", "itinerary_checked": true}]}"#
            .to_owned(),
        stay(
            "110105",
            "2021-10-30T08:00:00+08:00",
            r#""2021-10-29T08:00:00+08:00""#,
        ),
        format!(r#"{{"id": "{}"}}"#, "x".repeat(300)),
    ];
    lines.push(String::new());
    let mut bytes = lines.join("\n").into_bytes();
    bytes.extend_from_slice(b"{\"id\": \"\xff\"}\n");
    bytes
}

fn eval(stdin: Vec<u8>, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "eval",
        POLICY,
        "--input",
        "-",
        "--facts",
        FACTS,
        "--now",
        NOW,
        "--max-line-bytes",
        "200",
    ];
    args.extend_from_slice(extra);
    binary::run(&args, stdin)
}

#[test]
fn each_kind_of_bad_record_says_what_to_write() {
    let lines = |o: &std::process::Output| stdout(o);
    let human = eval(bad_records(), &[]);
    assert_eq!(human.status.code(), Some(3), "{}", stderr(&human));
    for format in ["plain", "json"] {
        let o = eval(bad_records(), &["--error-format", format]);
        // The error lines are the contract's, whatever the form of the
        // reports on stderr.
        assert_eq!(lines(&o), lines(&human), "{format}");
        insta::assert_snapshot!(format!("bad_records_{format}"), stderr(&o));
    }
    insta::assert_snapshot!("bad_records_human", stderr(&human));
    insta::assert_snapshot!("bad_records_stdout", lines(&human));
}

#[test]
fn a_record_beyond_the_budget_says_how_to_allow_it() {
    let record =
        r#"{"stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00"}]}"#;
    let o = eval(record.into(), &["--budget", "1", "--error-format", "plain"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(help: allow more steps with a larger `--budget`)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_facts_say_what_to_write_in_one_report() {
    let mut out = String::new();
    for (name, json) in [
        ("unknown-key", r#"{"case_countys": []}"#),
        ("region", r#"{"case_counties": ["1101"]}"#),
        ("as-of", r#"{"as_of": "last monday"}"#),
    ] {
        // Run beside the file, so that its name (in the message, which a
        // human report wraps) does not depend on where it is.
        let file = format!("{name}.json");
        let path = temp(&file);
        std::fs::write(&path, json).unwrap_or_else(|e| unreachable!("{e}"));
        let dir = path
            .parent()
            .unwrap_or_else(|| unreachable!("a temporary file"));
        let root = env!("CARGO_MANIFEST_DIR");
        let (policy, input) = (
            format!("{root}/{POLICY}"),
            format!("{root}/examples/beijing/people.jsonl"),
        );
        for format in ["human", "plain", "json"] {
            let o = binary::run_in(
                dir,
                &[
                    "eval",
                    &policy,
                    "--input",
                    &input,
                    "--facts",
                    &file,
                    "--now",
                    NOW,
                    "--error-format",
                    format,
                ],
                "",
            );
            assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
            out.push_str(&format!("--- {name}, {format}\n{}\n", stderr(&o)));
        }
    }
    insta::assert_snapshot!(out);
}
