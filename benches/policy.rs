//! The interpreter on the Beijing entry policy: compiling it, deciding one
//! typical person (from a decoded value and from its JSON line), and deciding
//! a generated population of 100,000 people as JSON Lines (decided line by
//! line, and by the streaming engine of `policyc eval` on one thread and on
//! two).
//!
//! ```text
//! cargo bench --bench policy
//! cargo bench --bench policy -- --quick
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::num::NonZeroUsize;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use policyc::{Policy, stream};

#[path = "support/group.rs"]
mod group;
#[path = "support/population.rs"]
mod population;

use population::{FACTS, PEOPLE, POLICY, SEED};

fn setup() -> (Policy, policyc::Facts, i64) {
    let policy = Policy::compile("beijing-2021-10-30.policy", POLICY).expect("the policy compiles");
    let facts = policy.facts(FACTS).expect("the facts load");
    let now = policy.instant(population::NOW).expect("now is an instant");
    (policy, facts, now)
}

fn parse_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_check");
    group.bench_function("beijing", |b| {
        b.iter(|| {
            Policy::compile("beijing-2021-10-30.policy", black_box(POLICY)).expect("compiles")
        })
    });
    group.finish();
}

fn evaluate(c: &mut Criterion) {
    let (policy, facts, now) = setup();
    let line = population::typical(SEED);
    let program = policy.program();
    let decoded = policyc::data::decode(
        &line,
        &program.input,
        policyc::data::Reading::new(&program.timezone, program.resolve),
    )
    .expect("the line decodes");

    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_person_from_value", |b| {
        b.iter(|| {
            policyc::eval::Evaluator::new(policy.plan(), &facts, black_box(&decoded.value), now)
                .decide(decoded.warnings.iter().map(ToString::to_string).collect())
        })
    });
    group.bench_function("one_person_from_json", |b| {
        b.iter(|| {
            let decision = policy
                .decide_json(&facts, black_box(&line), now)
                .expect("decides");
            decision.to_json()
        })
    });
    group.finish();
}

fn jsonl(c: &mut Criterion) {
    let (policy, facts, now) = setup();
    // Generated when the benchmark runs, not when a filter skips it.
    let input = std::cell::OnceCell::new();
    let mut out: Vec<u8> = Vec::with_capacity(PEOPLE * 256);

    let mut group = group::population_group(c, "jsonl", PEOPLE);
    group.bench_function("100k", |b| {
        let input: &String = input.get_or_init(|| population::population(PEOPLE, SEED));
        b.iter(|| {
            out.clear();
            for line in black_box(input).lines() {
                let decision = policy.decide_json(&facts, line, now).expect("decides");
                serde_json::to_writer(&mut out, &decision).expect("serializes");
                out.push(b'\n');
            }
            out.len()
        })
    });
    // The engine of `policyc eval` on a file: one thread, then two.
    let decider = stream::Decider::new(
        &policy,
        &facts,
        now,
        Default::default(),
        stream::Output::Json,
    );
    for (name, jobs) in [("100k_stream_1_thread", 1), ("100k_stream_2_threads", 2)] {
        let options = stream::Options {
            flush_each: false,
            jobs: NonZeroUsize::new(jobs).expect("not zero"),
            ..stream::Options::default()
        };
        group.bench_function(name, |b| {
            let input: &String = input.get_or_init(|| population::population(PEOPLE, SEED));
            b.iter(|| {
                out.clear();
                let summary = stream::run(
                    &decider,
                    black_box(input.as_bytes()),
                    &mut out,
                    options,
                    |_| {},
                )
                .expect("decides");
                assert_eq!(summary.bad, 0);
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse_check, evaluate, jsonl);
criterion_main!(benches);
