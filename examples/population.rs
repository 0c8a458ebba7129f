//! Writes a seeded, realistic population of people for the Beijing entry
//! policy as JSON Lines:
//!
//! ```text
//! cargo run --release --example population -- N [SEED] > people.jsonl
//! ```
//!
//! The same generator feeds the benchmarks (`benches/support/population.rs`);
//! decide the output with
//! `policyc eval policies/beijing-2021-10-30.policy --input people.jsonl
//! --facts examples/beijing/facts.json --now 2021-11-01T10:00:00+08:00`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;

#[path = "../benches/support/population.rs"]
mod population;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: population N [SEED]   (writes N people as JSON Lines to stdout)";
    let (n, seed) = match args.as_slice() {
        [n] => (n.parse::<usize>().ok(), Some(1)),
        [n, seed] => (n.parse::<usize>().ok(), seed.parse::<u64>().ok()),
        _ => (None, None),
    };
    let (Some(n), Some(seed)) = (n, seed) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = String::with_capacity(8192);
    for i in 0..n {
        line.clear();
        population::person(seed, i).write_json(&mut line);
        line.push('\n');
        if out.write_all(line.as_bytes()).is_err() {
            // A closed pipe (`| head`) ends the output quietly.
            return;
        }
    }
    if out.flush().is_err() {
        std::process::exit(1);
    }
}
