//! The criterion settings shared by the population benchmarks, so that
//! policyc and the hand-written baseline are measured alike.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};

/// A group for deciding a whole population of `people`: few samples of a
/// long run each.
pub fn population_group<'a>(
    c: &'a mut Criterion,
    name: &str,
    people: usize,
) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .throughput(Throughput::Elements(people as u64))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(25));
    group
}
