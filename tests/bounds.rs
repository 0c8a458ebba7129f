//! Policy text of any shape is read, checked and reported in bounded time
//! and stack: nesting is refused past a limit with its own diagnostic, a
//! flat chain is not nesting, and diagnostics render at any column.
//!
//! The tests run on the test harness's threads (2 MiB of stack, a quarter
//! of a main thread's), so what passes here passes in the binary.

use std::process::Output;
use std::time::{Duration, Instant};

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;

/// Generous for a debug build: each case took seconds to days before.
const BOUND: Duration = Duration::from_secs(2);

const HEADER: &str = "policy p\noutcomes green < popup\n\
    input person { a: bool, n: number, l: list of bool }\n";

/// A policy with one rule firing when `condition` holds.
fn with_rule(condition: &str) -> String {
    format!("{HEADER}rule r when {condition} then popup\notherwise green\n")
}

/// Compiles `text`, within the time bound; the rendered diagnostics (errors,
/// or the warnings of a policy that checks) are returned.
fn compile(text: &str) -> Result<Vec<String>, Vec<String>> {
    compile_within(text, BOUND)
}

fn compile_within(text: &str, bound: Duration) -> Result<Vec<String>, Vec<String>> {
    let started = (Instant::now(), cpu_clock());
    let human = policyc::ErrorFormat::Human { colour: false };
    let result = match policyc::Policy::compile("bounds.policy", text) {
        Ok(p) => Ok(p
            .warnings()
            .iter()
            .map(|w| policyc::render(w, human))
            .collect()),
        Err(e) => Err(e
            .errors
            .iter()
            .map(|d| policyc::render(d.as_ref(), human))
            .collect()),
    };
    let took = match (started.1, cpu_clock()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => started.0.elapsed(),
    };
    assert!(took < bound, "took {took:?} of CPU");
    result
}

/// How long the calling thread has run on a CPU, which is what a bound
/// limits: the other builds and tests sharing a busy machine's cores
/// lengthen the wall-clock time, not this. None where Linux's `/proc`
/// does not say it (the bound is then on the wall clock).
fn cpu_clock() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanoseconds))
}

/// The one error of a policy that does not check.
fn error(text: &str) -> String {
    match compile(text) {
        Ok(_) => unreachable!("checks"),
        Err(mut errors) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            errors.remove(0)
        }
    }
}

#[test]
fn brackets_nest_in_linear_time() {
    for depth in [20, 26, 40] {
        let text = with_rule(&format!(
            "{}person.a{}",
            "(".repeat(depth),
            ")".repeat(depth)
        ));
        assert!(compile(&text).is_ok(), "{depth} parentheses");
    }
    let text = with_rule(&format!("{}true{}", "(".repeat(41), ")".repeat(41)));
    assert!(error(&text).contains("policy::syntax::too_deep"));
}

#[test]
fn nested_list_types_check_in_linear_time() {
    let ty = format!("{}bool", "list of ".repeat(16));
    let text =
        format!("policy p\noutcomes green < popup\ninput person {{ a: {ty} }}\notherwise green\n");
    assert!(compile(&text).is_ok());
}

#[test]
fn nested_quantifiers_check_in_linear_time() {
    let mut condition = "true".to_owned();
    for i in 0..16 {
        condition = format!("any a{i} in person.l has {condition}");
    }
    assert!(compile(&with_rule(&condition)).is_ok());
}

#[test]
fn unbracketed_nesting_is_bounded() {
    let has = with_rule(&format!("{}true", "any person.l has ".repeat(100_000)));
    assert!(error(&has).contains("policy::syntax::too_deep"));
    let ty = format!("{}bool", "list of ".repeat(100_000));
    let of =
        format!("policy p\noutcomes green < popup\ninput person {{ a: {ty} }}\notherwise green\n");
    assert!(error(&of).contains("policy::syntax::too_deep"));
}

#[test]
fn prefix_chains_are_bounded() {
    for chain in [
        "not ".repeat(100_000) + "true",
        "person.n = ".to_owned() + &"- ".repeat(100_000) + "1",
    ] {
        let e = error(&with_rule(&chain));
        assert!(e.contains("this expression nests too deeply"), "{e}");
    }
    assert!(compile(&with_rule(&format!("{}true", "not ".repeat(40)))).is_ok());
}

#[test]
fn a_flat_chain_of_ors_is_not_nesting() {
    // The last operand alone holds: every one is read.
    let mut operands = vec!["person.n = 1"; 100_000];
    operands.push("person.a");
    let text = with_rule(&operands.join(" or "));
    let policy =
        policyc::Policy::compile("or.policy", &text).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policyc::Facts::empty(policy.plan());
    let now = 1_635_732_000_000_000;
    let decide = |person: &str| {
        let decision = policy
            .decide_json(&facts, person, now)
            .unwrap_or_else(|e| unreachable!("{e}"));
        decision.outcome.to_owned()
    };
    assert_eq!(decide(r#"{"a": true, "n": 2, "l": []}"#), "popup");
    assert_eq!(decide(r#"{"a": false, "n": 2, "l": []}"#), "green");
    // And `and`s, 10,000 of them, within the time bound.
    let text = with_rule(&vec!["person.a"; 10_000].join(" and "));
    assert!(compile(&text).is_ok());
}

#[test]
fn diagnostics_render_past_column_65535() {
    let text = with_rule(&format!("{}true", " ".repeat(70_000)));
    let warnings = compile(&text).unwrap_or_else(|e| unreachable!("{e:?}"));
    insta::assert_snapshot!(warnings.join("\n"));
    // Two labels far apart on one line, and a label over long lines.
    let far = with_rule(&format!("1 {}= \"a\"", " ".repeat(70_000)));
    insta::assert_snapshot!("two_labels_far_apart", error(&far));
    let over = with_rule(&format!(
        "(1 {}\n= \"a\" {})",
        " ".repeat(70_000),
        " ".repeat(70_000)
    ));
    insta::assert_snapshot!("a_label_over_long_lines", error(&over));
}

#[test]
fn many_warnings_render_in_linear_time() {
    let lets: String = (0..8_000)
        .map(|i| format!("let unused_{i} = {i}\n"))
        .collect();
    let text = format!("{HEADER}{lets}rule r when person.a then popup\notherwise green\n");
    // 8,000 warnings took 52 s, each scanning the text from its start; a
    // second is enough now, and the bound leaves room for a busy machine.
    let warnings = compile_within(&text, 5 * BOUND).unwrap_or_else(|e| unreachable!("{e:?}"));
    assert_eq!(warnings.len(), 8_000);
    // As many uses of as many `let`s: each found by its name, not by
    // reading every `let` before it.
    let lets: String = (0..8_000)
        .map(|i| format!("let used_{i} = {i}\n"))
        .collect();
    let uses: Vec<String> = (0..8_000).map(|i| format!("used_{i} > 0")).collect();
    let text = format!(
        "{HEADER}{lets}rule r when {} then popup\notherwise green\n",
        uses.join(" and ")
    );
    assert!(compile_within(&text, 5 * BOUND).is_ok());
}

#[test]
fn a_long_misspelt_name_is_reported_quickly() {
    let name = "x".repeat(60_000);
    let e = error(&with_rule(&format!("person.a and {name}")));
    assert!(e.contains("policy::check::"), "{e}");
}

fn policyc(args: &[&str]) -> Output {
    binary::run(args, "")
}

/// `check`, `eval` and `test` neither crash nor overflow their stack on
/// pathological policies: the deep one is refused (exit 1), the one with a
/// warning at column 70,000 runs.
#[test]
fn the_binary_survives_pathological_policies() {
    let dir = std::env::temp_dir().join(format!("policyc-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| unreachable!("{e}"));
    let deep = dir.join("deep.policy");
    let wide = dir.join("wide.policy");
    let input = dir.join("people.jsonl");
    let write = |path: &std::path::Path, text: &str| {
        std::fs::write(path, text).unwrap_or_else(|e| unreachable!("{e}"));
    };
    write(
        &deep,
        &with_rule(&format!("{}true", "not ".repeat(100_000))),
    );
    write(&wide, &with_rule(&format!("{}true", " ".repeat(70_000))));
    write(&input, "{\"a\": true, \"n\": 1, \"l\": []}\n");
    let (deep, wide, input) = (
        deep.to_string_lossy().into_owned(),
        wide.to_string_lossy().into_owned(),
        input.to_string_lossy().into_owned(),
    );
    for (policy, code) in [(&deep, 1), (&wide, 0)] {
        let eval = [
            "eval",
            policy,
            "--input",
            &input,
            "--now",
            "2021-11-01T10:00:00+08:00",
        ];
        for args in [&["check", policy][..], &eval[..], &["test", policy][..]] {
            let o = policyc(args);
            let stderr = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(code), "{args:?}: {stderr}");
            assert!(
                !stderr.contains("panicked") && !stderr.contains("overflow"),
                "{stderr}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The deepest expressions the parser lets through are checked, decided and
/// explained on a test thread's stack.
#[test]
fn the_deepest_expressions_allowed_run() {
    let deepest = |make: &dyn Fn(usize) -> String| {
        let mut n = 1;
        while compile(&with_rule(&make(n + 1))).is_ok() {
            n += 1;
        }
        assert!(n > 30, "{n}: {}", make(n));
        with_rule(&make(n))
    };
    let sum = deepest(&|n| format!("person.n = {}", vec!["1"; n].join(" + ")));
    let nested = deepest(&|n| {
        let mut e = "person.a".to_owned();
        for i in 0..n {
            e = match i % 3 {
                0 => format!("({e} and not person.a)"),
                1 => format!("any x{i} in person.l has {e}"),
                _ => format!("count(person.l where {e}) = 1 or person.a"),
            };
        }
        e
    });
    for text in [sum, nested] {
        let policy =
            policyc::Policy::compile("deep.policy", &text).unwrap_or_else(|e| unreachable!("{e}"));
        let facts = policyc::Facts::empty(policy.plan());
        // One element: nested quantifiers over more multiply, by design.
        let person = r#"{"a": true, "n": 2, "l": [true]}"#;
        let now = 1_635_732_000_000_000;
        let all = policyc::Extras {
            next_change: true,
            timeline: true,
            remedies: true,
            witnesses: true,
        };
        let d = policy
            .decide_json_with(&facts, person, now, all)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let _ = d.to_json();
        let e = policy
            .explain_json(&facts, person, now)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let words = policy.words(None).unwrap_or_else(|e| unreachable!("{e}"));
        let _ = e.render(&words);
    }
}

/// Lints that compare rules look rules up instead of comparing every pair:
/// 8,000 rules of one outcome, each with a payload field of its own and a
/// condition sharing a conjunct with every other, took 9 s.
#[test]
fn lints_over_many_rules_are_not_quadratic() {
    let rules: String = (0..8_000)
        .map(|i| format!("rule r{i} when person.a and person.n = {i} then popup(kind: \"k\")\n"))
        .collect();
    let text = format!("{HEADER}{rules}otherwise green\n");
    let warnings = compile_within(&text, 3 * BOUND).unwrap_or_else(|e| unreachable!("{e:?}"));
    assert!(warnings.is_empty(), "{}", warnings.len());
    // One rule shadowed by an earlier one is still seen.
    let text = format!(
        "{HEADER}{rules}rule late when person.n = 7 and person.a then popup(kind: \"k\")\notherwise green\n"
    );
    let warnings = compile_within(&text, 3 * BOUND).unwrap_or_else(|e| unreachable!("{e:?}"));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("`r7`"), "{}", warnings[0]);
}

/// Pathological pieces, repeated up to thousands of times, spliced anywhere
/// into a real policy: every result checks or is refused, and renders,
/// within the time bound.
#[test]
fn spliced_repetitions_stay_within_bounds() {
    const PIECES: &[&str] = &[
        "(",
        ")",
        "[",
        "{",
        " not",
        " -",
        " any person.stays has",
        " list of",
        " or true",
        " and true",
        ".x",
        " is none",
        " ",
        "\n",
        "é",
        "==",
        "&&",
        "1.5h",
        "18y",
        " where true",
        "\"",
        "#",
        ",",
        ":",
    ];
    let policy = include_str!("../policies/beijing-2021-10-30.policy");
    let mut state: u64 = 20_211_101;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % n.max(1)
    };
    for _ in 0..200 {
        let mut at = next(policy.len());
        while !policy.is_char_boundary(at) {
            at -= 1;
        }
        let piece = PIECES[next(PIECES.len())];
        let times = 1 + next(20_000);
        let text = format!("{}{}{}", &policy[..at], piece.repeat(times), &policy[at..]);
        let _ = compile_within(&text, 3 * BOUND);
    }
}

/// Thousands of misspelt names, all on one long line, among thousands of
/// `let`s: each error is found, suggested and drawn without reading every
/// name or the whole line again (8,000 of them took 500 s).
#[test]
fn many_unknown_names_on_one_line_are_not_quadratic() {
    let lets: String = (0..2_000)
        .map(|i| format!("let used_{i} = {i}\n"))
        .collect();
    let uses: Vec<String> = (0..2_000).map(|i| format!("usde_{i} > 0")).collect();
    let text = format!(
        "{HEADER}{lets}rule r when {} then popup\notherwise green\n",
        uses.join(" and ")
    );
    match compile_within(&text, 5 * BOUND) {
        Ok(_) => unreachable!("the names are unknown"),
        Err(errors) => {
            assert_eq!(errors.len(), 2_000);
            assert!(
                errors[0].contains("did you mean `used_0`?"),
                "{}",
                errors[0]
            );
        }
    }
}
