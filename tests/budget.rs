//! The evaluation budget: a record whose evaluation needs more steps than
//! the budget is an error line, at once, never a stall; the rest of the
//! input is decided.

use std::time::{Duration, Instant};

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{lines, run, stderr, temp};

/// Quadratic by its own structure: every pair of items.
const PAIRS: &str = r#"
policy pairs
outcomes ok < bad
input person { items: list of { a: number, b: number } }
rule pair "two items that add up"
  when any x in person.items has any y in person.items has x.a + y.b = -1
  then bad
otherwise ok
"#;

fn items(n: usize) -> String {
    let items: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"a": {i}, "b": {i}}}"#))
        .collect();
    format!(r#"{{"items": [{}]}}"#, items.join(", "))
}

#[test]
fn a_record_beyond_the_budget_is_an_error_line_not_a_stall() {
    let path = temp("pairs.policy");
    std::fs::write(&path, PAIRS).unwrap_or_else(|e| unreachable!("{e}"));
    let path = path.to_string_lossy().into_owned();
    // 40,000 items: 1.6 billion pairs, minutes of work without a budget.
    let input = format!("{}\n{}\n{}\n", items(3), items(40_000), items(3));
    let start = Instant::now();
    let o = run(
        &["eval", &path, "--input", "-", "--now", "2021-11-01"],
        input,
    );
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = lines(&o);
    assert_eq!(out.len(), 3, "one line out per line in");
    assert_eq!(out[0]["outcome"], "ok");
    assert_eq!(out[1]["line"], 2);
    let error = out[1]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("exceeds the evaluation budget of 10000000 steps"),
        "{error}"
    );
    assert_eq!(out[2]["outcome"], "ok");
}

#[test]
fn the_budget_is_set_with_a_flag_for_eval_and_explain() {
    let path = temp("pairs-flag.policy");
    std::fs::write(&path, PAIRS).unwrap_or_else(|e| unreachable!("{e}"));
    let path = path.to_string_lossy().into_owned();
    let input = format!("{}\n", items(30));
    for command in ["eval", "explain"] {
        let args = |budget: &'static str| {
            vec![
                command,
                &path,
                "--input",
                "-",
                "--now",
                "2021-11-01",
                "--budget",
                budget,
            ]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
        };
        // 30 × 30 pairs, and the rest: more than 500 steps, far fewer than
        // 100,000.
        let o = run(&args("500"), input.clone());
        assert_eq!(o.status.code(), Some(3), "{command}: {}", stderr(&o));
        assert!(
            binary::stdout(&o).contains("exceeds the evaluation budget of 500 steps")
                || stderr(&o).contains("exceeds the evaluation budget of 500 steps"),
            "{command}: {}",
            binary::stdout(&o)
        );
        let o = run(&args("100000"), input.clone());
        assert_eq!(o.status.code(), Some(0), "{command}: {}", stderr(&o));
    }
}

#[test]
fn the_library_sets_the_budget_on_the_policy() {
    let policy = policyc::Policy::compile("pairs", PAIRS).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts("{}").unwrap_or_else(|e| unreachable!("{e}"));
    let person = items(30);
    assert!(
        policy.decide_json(&facts, &person, 0).is_ok(),
        "the default is ample"
    );
    let policy = policy.budget(100);
    let e = policy.decide_json(&facts, &person, 0).err();
    let message = e.map(|e| e.message).unwrap_or_default();
    assert!(
        message.contains("exceeds the evaluation budget of 100 steps"),
        "{message}"
    );
    // Spent on the decision and its extras together.
    let next = policyc::Extras {
        next_change: true,
        timeline: true,
        remedies: true,
        witnesses: true,
    };
    let policy = policy.budget(100_000);
    assert!(policy.decide_json_with(&facts, &person, 0, next).is_ok());
    assert!(policy.explain_json(&facts, &person, 0).is_ok());
}
