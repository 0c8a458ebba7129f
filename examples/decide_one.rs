//! Decides the benchmarks' typical person (`benches/support/population.rs`)
//! N times on already-decoded data, as the criterion bench
//! `evaluate/one_person_from_value` does: a loop to profile with exact
//! instruction counts, where criterion's timing is too noisy to tell a
//! small change.
//!
//! ```text
//! cargo build --release --locked --example decide_one
//! valgrind --tool=callgrind ./target/release/examples/decide_one 10000
//! ```
//!
//! The cost of one decision is the difference between runs with N and 0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

#[path = "../benches/support/population.rs"]
mod population;

fn main() {
    let n = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: decide_one [N]   (decides the typical person N times)");
            std::process::exit(2);
        }
    };
    let policy = policyc::Policy::load(population::POLICY).expect("the policy compiles");
    let facts = policy.facts(population::FACTS).expect("the facts load");
    let now = policy.instant(population::NOW).expect("now is an instant");
    let line = population::typical(population::SEED);
    let program = policy.program();
    let reading = policyc::data::Reading::new(&program.timezone, program.resolve);
    let decoded = policyc::data::decode(&line, &program.input, reading).expect("it decodes");
    let mut fired = 0;
    for _ in 0..n {
        let decision =
            policyc::eval::Evaluator::new(policy.plan(), &facts, black_box(&decoded.value), now)
                .decide(decoded.warnings.iter().map(ToString::to_string).collect());
        fired += black_box(&decision).rules.len();
    }
    println!("{n} decisions, {fired} rules fired");
}
