//! The interpreter on the Beijing entry policy: compiling it, deciding one
//! typical person (from a decoded value and from its JSON line), and deciding
//! a generated population of 100,000 people as JSON Lines (decided line by
//! line, and by the streaming engine of `policyc eval` on one thread and on
//! two).
//!
//! Then what a decision costs, stage by stage, on the first 1,000 people of
//! the population (`stages`: decoding only, evaluating decoded records,
//! writing made decisions, and the three together), what the extras cost
//! beside a plain decision (`extras`: `next_change`, an explanation), and
//! how the cost grows (`scaling/people`: 10,000 and 100,000 people;
//! `scaling/stays`: one record of 10, 1,000 and 30,000 phones and stays).
//! `POLICYC_BENCH_LARGE=1` adds 1,000,000 people and `next_change` on
//! 30,000 stays, which take minutes.
//!
//! ```text
//! cargo bench --bench policy
//! cargo bench --bench policy -- --quick
//! cargo bench --bench policy -- stages extras
//! POLICYC_BENCH_LARGE=1 cargo bench --bench policy -- scaling
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
    let policy = Policy::load(POLICY).expect("the policy compiles");
    let facts = policy.facts(FACTS).expect("the facts load");
    let now = policy.instant(population::NOW).expect("now is an instant");
    (policy, facts, now)
}

fn parse_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_check");
    group.bench_function("beijing", |b| {
        b.iter(|| Policy::load(black_box(POLICY)).expect("compiles"))
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

/// The first 1,000 people of the population: the records of the stage
/// benchmarks.
const SAMPLE: usize = 1_000;

/// Whether the benchmarks that take minutes run too.
fn large() -> bool {
    std::env::var_os("POLICYC_BENCH_LARGE").is_some_and(|v| v == "1")
}

/// Decides each line with `decide` and writes the decisions into `out`,
/// one a line, as `policyc eval` does.
fn decide_all<'p>(
    out: &mut String,
    policy: &'p Policy,
    lines: &[&str],
    decide: impl Fn(&str) -> policyc::Decision<'p>,
) -> usize {
    out.clear();
    for line in black_box(lines) {
        decide(line).write_json(out, policy.json_plan());
        out.push('\n');
    }
    out.len()
}

/// Decoding, evaluating and writing, each alone and together, per person
/// of a sample of the population.
fn stages(c: &mut Criterion) {
    let (policy, facts, now) = setup();
    let input = population::population(SAMPLE, SEED);
    let lines: Vec<&str> = input.lines().collect();
    let program = policy.program();
    let reading = || policyc::data::Reading::new(&program.timezone, program.resolve);
    let decoded: Vec<_> = lines
        .iter()
        .map(|line| policyc::data::decode(line, &program.input, reading()).expect("decodes"))
        .collect();
    let decisions: Vec<_> = lines
        .iter()
        .map(|line| policy.decide_json(&facts, line, now).expect("decides"))
        .collect();
    let mut out = String::with_capacity(SAMPLE * 512);
    let mut bytes: Vec<u8> = Vec::with_capacity(SAMPLE * 512);

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Elements(SAMPLE as u64));
    group.bench_function("decode", |b| {
        b.iter(|| {
            for line in black_box(&lines) {
                black_box(policyc::data::decode(line, &program.input, reading()).expect("decodes"));
            }
        })
    });
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            for d in black_box(&decoded) {
                let warnings = d.warnings.iter().map(ToString::to_string).collect();
                black_box(
                    policyc::eval::Evaluator::new(policy.plan(), &facts, &d.value, now)
                        .decide(warnings),
                );
            }
        })
    });
    group.bench_function("write", |b| {
        b.iter(|| {
            out.clear();
            for d in black_box(&decisions) {
                d.write_json(&mut out, policy.json_plan());
                out.push('\n');
            }
            out.len()
        })
    });
    group.bench_function("write_with_serde", |b| {
        b.iter(|| {
            bytes.clear();
            for d in black_box(&decisions) {
                serde_json::to_writer(&mut bytes, d).expect("serializes");
                bytes.push(b'\n');
            }
            bytes.len()
        })
    });
    let decide = |line: &str| policy.decide_json(&facts, line, now).expect("decides");
    group.bench_function("decode_evaluate_write", |b| {
        b.iter(|| decide_all(&mut out, &policy, &lines, decide))
    });
    group.finish();
}

/// A decision with `next_change`, and an explanation, beside a plain
/// decision, per person of the sample, each written as the CLI writes it.
fn extras(c: &mut Criterion) {
    let (policy, facts, now) = setup();
    let words = policy.words(Some("en")).expect("the policy speaks English");
    let input = population::population(SAMPLE, SEED);
    let lines: Vec<&str> = input.lines().collect();
    let next_change = policyc::Extras {
        next_change: true,
        ..Default::default()
    };
    let mut out = String::with_capacity(SAMPLE * 4096);

    let mut group = c.benchmark_group("extras");
    group.throughput(Throughput::Elements(SAMPLE as u64));
    let decide = |line: &str| policy.decide_json(&facts, line, now).expect("decides");
    let with_next_change = |line: &str| {
        policy
            .decide_json_with(&facts, line, now, next_change)
            .expect("decides")
    };
    group.bench_function("decision", |b| {
        b.iter(|| decide_all(&mut out, &policy, &lines, decide))
    });
    group.bench_function("next_change", |b| {
        b.iter(|| decide_all(&mut out, &policy, &lines, with_next_change))
    });
    group.bench_function("explain_json", |b| {
        b.iter(|| {
            out.clear();
            for line in black_box(&lines) {
                let explanation = policy.explain_json(&facts, line, now).expect("explains");
                out.push_str(&explanation.to_json(&words));
            }
            out.len()
        })
    });
    group.finish();
}

/// Deciding more people, and larger records: the cost per person should
/// not grow with the first, and should grow no faster than the record
/// with the second.
fn scaling(c: &mut Criterion) {
    let (policy, facts, now) = setup();
    let mut out = String::new();
    let mut people = vec![10_000, 100_000];
    if large() {
        people.push(1_000_000);
    }
    let mut group = c.benchmark_group("scaling/people");
    group
        .sample_size(10)
        .sampling_mode(criterion::SamplingMode::Flat)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(10));
    for n in people {
        // Generated when the benchmark runs, not when a filter skips it.
        let input = std::cell::OnceCell::new();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("{n}"), |b| {
            let input: &String = input.get_or_init(|| population::population(n, SEED));
            let lines: Vec<&str> = input.lines().collect();
            let decide = |line: &str| policy.decide_json(&facts, line, now).expect("decides");
            b.iter(|| decide_all(&mut out, &policy, &lines, decide))
        });
    }
    group.finish();

    let next_change = policyc::Extras {
        next_change: true,
        ..Default::default()
    };
    let mut group = c.benchmark_group("scaling/stays");
    group
        .sample_size(10)
        .sampling_mode(criterion::SamplingMode::Flat)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(10));
    for n in [10, 1_000, 30_000] {
        let record = std::cell::OnceCell::new();
        let record = || record.get_or_init(|| population::large(n, SEED)).clone();
        group.bench_function(format!("decide/{n}"), |b| {
            let record = record();
            b.iter(|| {
                out.clear();
                let decision = policy
                    .decide_json(&facts, black_box(&record), now)
                    .expect("decides");
                decision.write_json(&mut out, policy.json_plan());
                out.len()
            })
        });
        if n < 30_000 || large() {
            group.bench_function(format!("next_change/{n}"), |b| {
                let record = record();
                b.iter(|| {
                    out.clear();
                    let decision = policy
                        .decide_json_with(&facts, black_box(&record), now, next_change)
                        .expect("decides");
                    decision.write_json(&mut out, policy.json_plan());
                    out.len()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, parse_check, evaluate, jsonl);
criterion_group!(costs, stages, extras, scaling);
criterion_main!(benches, costs);
