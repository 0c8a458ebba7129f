//! `policyc diff` against one `eval` over the same people: 20,000 generated
//! people of the Beijing policy decided by the streaming engine as `eval`
//! does (decisions written as JSON Lines into a sink), and diffed against
//! the same policy with the 48-hour test window cut to 24 hours
//! (`tests/fixtures/diff/beijing-24h.policy`), on one thread and on two.
//! The target: a diff costs at most 1.3 times one eval.
//!
//! ```text
//! cargo bench --bench diff
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroUsize;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use policyc::diff::{self, Differ, Settings, Version};
use policyc::{Extras, Policy, stream};

#[path = "support/group.rs"]
mod group;
#[path = "support/population.rs"]
mod population;

const NEW: &str = include_str!("../tests/fixtures/diff/beijing-24h.policy");
const PEOPLE: usize = 20_000;

fn diff_against_eval(c: &mut Criterion) {
    let old = Policy::load(population::POLICY).expect("compiles");
    let new = Policy::compile("new.policy", NEW).expect("compiles");
    let old_facts = old.facts(population::FACTS).expect("the facts load");
    let new_facts = new.facts(population::FACTS).expect("the facts load");
    let now = old.instant(population::NOW).expect("now is an instant");
    let text = population::population(PEOPLE, population::SEED);
    let mut group = group::population_group(c, "diff_vs_eval", PEOPLE);
    group.measurement_time(Duration::from_secs(10));
    for jobs in [1, 2] {
        let options = stream::Options {
            flush_each: false,
            jobs: NonZeroUsize::new(jobs).unwrap(),
            ..stream::Options::default()
        };
        let decider = stream::Decider::new(
            &old,
            &old_facts,
            now,
            Extras::default(),
            stream::Output::Json,
        );
        group.bench_function(format!("eval/jobs_{jobs}"), |b| {
            b.iter(|| {
                stream::run(&decider, text.as_bytes(), std::io::sink(), options, |_| {}).unwrap()
            })
        });
        let differ = Differ::new(
            Version {
                policy: &old,
                facts: &old_facts,
            },
            Version {
                policy: &new,
                facts: &new_facts,
            },
            now,
            Settings::default(),
        );
        group.bench_function(format!("diff/jobs_{jobs}"), |b| {
            b.iter(|| diff::run(&differ, text.as_bytes(), options).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, diff_against_eval);
criterion_main!(benches);
