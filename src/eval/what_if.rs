//! Decisions under other conditions: at later instants (when will this
//! decision change, and its whole timeline) and with a remedy applied.
//!
//! When will a decision change? Exactly, not by sampling: a decision can
//! only change where one of the policy's time comparisons flips, and those
//! lie at the instants of the data and the policy shifted by the policy's
//! durations (a window of 14 days closes 14 days after an event; a
//! future-dated event opens when it happens). The decision is evaluated
//! just after each such instant from `now` on, in order (between two of
//! them it cannot change); the first that differs is the boundary. A window
//! that closes exactly at `now` changes just after `now`.
//!
//! Not at every candidate, though: each evaluation also gives its
//! *horizon* (`horizon.rs`), the first instant at which one of the
//! comparisons it made may flip, and the candidates before it are skipped,
//! since the decision is the same up to it. A record's past (windows that
//! closed) adds no horizon, so the cost is the candidates' sort plus one
//! evaluation per instant at which something the decision consulted flips:
//! O(n log n) in the record's size for the shipped policies, where it was one
//! evaluation per candidate, O(n²). The result is the same instant, found
//! the same way.

use super::{Budget, Evaluator, Facts};
use crate::check::ir::Builtin;
use crate::compile::{Id, Op, Plan, Root};
use crate::decision::Decision;
use crate::types::Type;
use crate::value::Value;

/// The first change of a decision.
#[derive(Debug, Clone)]
pub struct Change<'p> {
    /// The boundary: just before it the current decision holds, just after
    /// it the new one.
    pub at: i64,
    /// The decision just after `at`.
    pub decision: Decision<'p>,
}

/// The first boundary from `now` on at which the decision for `person`
/// changes its outcome or its deciding rule, with the decision just after
/// it; `None` if, with no new data, it never changes. The boundary may be
/// `now` itself, when a window closes exactly then.
pub fn next_change<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
) -> Option<Change<'p>> {
    next_change_within(plan, facts, person, now, &Budget::unlimited())
}

/// [`next_change`], its evaluations taking their steps from `budget`
/// (`None` once it is spent: [`Budget::exceeded`] tells).
pub fn next_change_within<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    budget: &Budget,
) -> Option<Change<'p>> {
    first_change(plan, facts, person, now, budget, plan.horizons())
}

/// [`next_change_within`], skipping candidates by horizons or not.
fn first_change<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    budget: &Budget,
    horizons: bool,
) -> Option<Change<'p>> {
    // Only the verdict at each candidate; the whole decision at the change.
    let at = |t: i64| {
        if horizons {
            Evaluator::tracking(plan, facts, person, t, budget)
        } else {
            Evaluator::within(plan, facts, person, t, budget)
        }
    };
    let first = at(now);
    let current = first.verdict();
    // The decision is `current` at every instant before this one.
    let mut stable_until = first.horizon();
    // Between two candidates the decision cannot change, so the decision
    // just after each candidate tells whether it changed there: at the
    // candidate itself (a window opening) or just after it (one closing),
    // it is the boundary either way.
    for c in candidates(plan, facts, person, now) {
        let t = c.saturating_add(1);
        if t < stable_until {
            continue;
        }
        if budget.exceeded() {
            return None;
        }
        let evaluator = at(t);
        if evaluator.verdict() != current {
            let decision = evaluator.decide(Vec::new());
            return Some(Change { at: c, decision });
        }
        stable_until = evaluator.horizon();
    }
    None
}

/// The instants from `now` on, ascending, at which a time comparison of
/// the policy may flip for this person: every instant of the person, the facts
/// and the policy, shifted either way by every duration of them, and by
/// every sum of two when a comparison of the policy holds two durations
/// (`t + 1d + 12h >= now`, `t < now - 14d - 48h`).
fn candidates(plan: &Plan, facts: &Facts, person: &Value, now: i64) -> Vec<i64> {
    let mut times = Vec::new();
    let mut durations = vec![0];
    collect_values(person, &mut times, &mut durations);
    for v in facts.values.iter().chain(&facts.hoisted) {
        collect_values(v, &mut times, &mut durations);
    }
    // Every root a verdict reads, and the hoisted values.
    let read = plan.roots().filter(|(r, _)| {
        matches!(
            r,
            Root::Let(_) | Root::When(_) | Root::Unless(_) | Root::Hoisted(_)
        )
    });
    let mut sums = false;
    plan.walk(read.map(|(_, id)| id), |id, node, _| {
        if let Op::Const(v) = &node.op {
            collect_values(v, &mut times, &mut durations);
        }
        sums |= shifts_twice(plan, id);
    });
    let mut calendar = Calendar::default();
    if plan.time_flow.calendar() {
        // Payloads included: a candidate more changes nothing.
        let all = plan.roots().map(|(_, id)| id);
        plan.walk(all, |_, node, _| calendar.note(&node.op));
    }
    if calendar.dates {
        // The instants of the dates given as texts.
        let tz = &plan.program.timezone;
        let mut texts = Vec::new();
        collect_texts(person, &mut texts);
        for v in facts.values.iter().chain(&facts.hoisted) {
            collect_texts(v, &mut texts);
        }
        times.extend(texts.iter().filter_map(|t| crate::time::parse_date(t, tz)));
    }
    durations.sort_unstable();
    durations.dedup();
    if sums {
        let pairs: Vec<i64> = durations
            .iter()
            .enumerate()
            .flat_map(|(i, a)| durations[i..].iter().map(move |b| a.saturating_add(*b)))
            .collect();
        durations = pairs;
        durations.sort_unstable();
        durations.dedup();
    }
    // Every instant shifted either way by every duration, from `from` on.
    let shifted = |times: &[i64], from: i64| -> Vec<i64> {
        times
            .iter()
            .flat_map(|t| {
                durations
                    .iter()
                    .flat_map(move |d| [t.saturating_add(*d), t.saturating_sub(*d)])
            })
            .filter(|c| *c >= from)
            .collect()
    };
    let mut out = if calendar.used() {
        // Counted from every instant, the past ones included: a count
        // from a time before `now` may end after it.
        let mut all = shifted(&times, i64::MIN);
        let counted = calendar.counted(plan, &all, now);
        all.extend(shifted(&counted, now));
        all.retain(|c| *c >= now);
        all
    } else {
        shifted(&times, now)
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// What a plan counts on the calendar: where the boundaries of calendar
/// time lie.
#[derive(Default)]
struct Calendar {
    /// The calendar durations it moves instants by, signed.
    periods: Vec<crate::time::Period>,
    /// Whether it takes the start of a day.
    days: bool,
    /// Whether it counts an age.
    ages: bool,
    /// Whether it reads dates from texts.
    dates: bool,
}

/// Birthdays beyond this age are not candidates.
const OLDEST: i64 = 200;

impl Calendar {
    fn note(&mut self, op: &Op) {
        match op {
            Op::Shift(_, p) => self.periods.extend([*p, p.negated()]),
            Op::Call(Builtin::StartOfDay, _) => self.days = true,
            Op::Call(Builtin::Age, _) => self.ages = true,
            Op::Call(Builtin::Date, _) => self.dates = true,
            _ => {}
        }
    }

    fn used(&self) -> bool {
        !self.periods.is_empty() || self.days || self.ages
    }

    /// The instants the calendar makes of `instants` (the data's, each
    /// shifted by the exact durations): the starts of their days, those
    /// and they moved by each calendar duration, and the birthdays from
    /// `now` on of each start of a count. (The checker lets a calendar
    /// count start only from such an instant: the data's, moved by exact
    /// durations, perhaps taken to the start of its day.)
    fn counted(&self, plan: &Plan, instants: &[i64], now: i64) -> Vec<i64> {
        let (tz, resolve) = (&plan.program.timezone, plan.program.resolve);
        let mut starts = instants.to_vec();
        if self.days {
            starts.extend(instants.iter().map(|t| crate::time::start_of_day(*t, tz)));
        }
        let mut out: Vec<i64> = Vec::new();
        out.extend(if self.days {
            &starts[instants.len()..]
        } else {
            &[][..]
        });
        for p in &self.periods {
            out.extend(
                starts
                    .iter()
                    .map(|t| crate::time::shift(*t, *p, tz, resolve)),
            );
        }
        if self.ages {
            // The birthdays from `now` on: one calendar shift each.
            for &birth in &starts {
                let first = crate::time::age(birth, now, tz, resolve) + 1;
                for n in first..=OLDEST {
                    let Some(years) = crate::time::Period::of(n, crate::time::CalendarUnit::Years)
                    else {
                        break;
                    };
                    let at = crate::time::shift(birth, years, tz, resolve);
                    if at >= crate::time::MAX_INSTANT {
                        break;
                    }
                    out.push(at);
                }
            }
        }
        out
    }
}

/// Whether the comparison `e` shifts an instant by two durations: its
/// boundary then lies at an instant plus the sum of two.
fn shifts_twice(plan: &Plan, e: Id) -> bool {
    let is_duration = |id: Id| matches!(plan.node(id).ty.non_optional(), Type::Duration);
    match plan.op(e) {
        Op::Compare(..) | Op::Within(..) | Op::Overlaps(..) => {
            // The durations under it that are not made of other durations:
            // literals, fields and `let`s, not `a - b` between two instants.
            let mut durations = 0;
            plan.walk(std::iter::once(e), |id, node, _| {
                let own = is_duration(id)
                    && !matches!(node.op, Op::Arith(..))
                    && node.op.children().all(|(c, _)| !is_duration(c));
                durations += usize::from(own);
            });
            durations >= 2
        }
        _ => false,
    }
}

fn collect_values(v: &Value, times: &mut Vec<i64>, durations: &mut Vec<i64>) {
    match v {
        Value::Time(t) => times.push(*t),
        Value::Duration(d) => durations.push(d.saturating_abs()),
        Value::Interval(a, b) => times.extend([*a, *b]),
        Value::List(items) | Value::Set(items) | Value::Record(items) => {
            for item in items.iter() {
                collect_values(item, times, durations);
            }
        }
        _ => {}
    }
}

fn collect_texts<'v>(v: &'v Value, texts: &mut Vec<&'v str>) {
    match v {
        Value::Text(t) => texts.push(t),
        Value::List(items) | Value::Set(items) | Value::Record(items) => {
            for item in items.iter() {
                collect_texts(item, texts);
            }
        }
        _ => {}
    }
}

/// The decisions from `now` on, each with the instant after which it holds:
/// the first at `now` itself, then every change until the decision stops
/// changing, at most `limit` changes; and, when there are more, the instant
/// of the first change left out. Its evaluations take their steps from
/// `budget`.
pub fn timeline<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    limit: usize,
    budget: &Budget,
) -> (Vec<Change<'p>>, Option<i64>) {
    let mut out = vec![Change {
        at: now,
        decision: Evaluator::within(plan, facts, person, now, budget).decide(Vec::new()),
    }];
    let mut from = now;
    while out.len() <= limit {
        let Some(change) = next_change_within(plan, facts, person, from, budget) else {
            break;
        };
        // The new decision holds just after the boundary: look on from there.
        from = change.at.saturating_add(1);
        out.push(change);
    }
    let cut = if out.len() > limit {
        next_change_within(plan, facts, person, from, budget).map(|c| c.at)
    } else {
        None
    };
    (out, cut)
}

/// The policy's remedies that would change the decision at `now`, each with
/// the decision it would give: the person, with the remedy's record added
/// to its list (its `now` fields set to `now`), decided again, taking its
/// steps from `budget`.
pub fn remedies<'p>(
    plan: &'p Plan,
    facts: &'p Facts,
    person: &Value,
    now: i64,
    budget: &Budget,
) -> Vec<(&'p str, Decision<'p>)> {
    let current = Evaluator::within(plan, facts, person, now, budget).verdict();
    let Value::Record(fields) = person else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for remedy in &plan.program.remedies {
        let Value::Record(template) = &remedy.record else {
            continue;
        };
        let mut record = template.to_vec();
        for &slot in &remedy.now_slots {
            if let Some(v) = record.get_mut(slot) {
                *v = Value::Time(now);
            }
        }
        let mut changed = fields.to_vec();
        if let Some(list) = changed.get_mut(remedy.list) {
            let items: Vec<Value> = list
                .elements()
                .iter()
                .cloned()
                .chain([Value::Record(record.into())])
                .collect();
            *list = Value::List(items.into());
        }
        let changed = Value::Record(changed.into());
        let evaluator = Evaluator::within(plan, facts, &changed, now, budget);
        if evaluator.verdict() != current {
            out.push((remedy.title.as_str(), evaluator.decide(Vec::new())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Budget, Facts, first_change};
    use crate::Policy;

    use crate::eval::population;

    /// 2021-11-01T10:00:00+08:00.
    const NOW: i64 = 1_635_732_000_000_000;

    /// A person with many stays around `NOW`, past and future, some without
    /// an end, some in case counties, and phones unbound within 14 days.
    fn mixed(seed: i64) -> String {
        let hour = 3_600_000_000;
        let at = |t: i64| crate::time::format_instant(t, &jiff::tz::TimeZone::UTC);
        let phones: Vec<String> = (0..40)
            .map(|i| {
                let unbound = if i % 5 == seed % 5 {
                    format!(r#","unbound_at":"{}""#, at(NOW - (i + seed) * 7 * hour))
                } else {
                    String::new()
                };
                format!(
                    r#"{{"number":"{i}","bound_at":"{}","itinerary_checked":{}{unbound}}}"#,
                    at(NOW - 300 * 24 * hour + i * (seed + 1) * 50 * hour),
                    (i + seed) % 13 != 0
                )
            })
            .collect();
        let stays: Vec<String> = (0..150)
            .map(|i| {
                let from = NOW - 20 * 24 * hour + i * (3 + seed) * hour;
                let region =
                    ["152923", "610104", "120116", "110105", "620103"][((i + seed) % 5) as usize];
                let to = if (i + seed) % 6 == 0 {
                    String::new()
                } else {
                    format!(r#","to":"{}""#, at(from + (i % 4 + 1) * hour))
                };
                format!(
                    r#"{{"phone":"{}","region":"{region}","from":"{}"{to}}}"#,
                    (i * 7) % 45,
                    at(from)
                )
            })
            .collect();
        let tests: Vec<String> = (0..10)
            .map(|i| {
                let result = ["negative", "pending", "positive"][((i + seed) % 3) as usize];
                format!(
                    r#"{{"sampled_at":"{}","result":"{result}"}}"#,
                    at(NOW - (i * 11 - 30) * hour)
                )
            })
            .collect();
        format!(
            r#"{{"phones":[{}],"stays":[{}],"tests":[{}],"beijing_area_visits":[{{"area":"110105-sanlitun","at":"{}"}}]}}"#,
            phones.join(","),
            stays.join(","),
            tests.join(","),
            at(NOW - (seed + 2) * 24 * hour)
        )
    }

    /// Skipping by horizons finds the change that trying every candidate
    /// finds, to the microsecond and in every field of the decision.
    #[test]
    fn horizons_change_nothing() {
        let shipped = [
            include_str!("../../policies/beijing-2021-10-30.policy"),
            include_str!("../../policies/beijing-2022-winter-olympics.policy"),
            include_str!("../../policies/quarantine-release.policy"),
            include_str!("../../policies/three-colour-health-code.policy"),
        ];
        let (mut compared, mut changing) = (0, 0);
        for text in shipped {
            // Named in `policies/`, where the libraries they use are.
            let policy =
                Policy::compile("policies/p.policy", text).unwrap_or_else(|e| unreachable!("{e}"));
            let plan = policy.plan();
            assert!(plan.horizons(), "no shipped policy puts `now` in a list");
            let mut cases = Vec::new();
            for test in &plan.program.tests {
                let facts = match &test.facts {
                    Some(record) => Facts::from_record(plan, record.clone()),
                    None => Facts::empty(plan),
                };
                let instants = test.expects.iter().filter_map(|e| e.at);
                for now in std::iter::once(test.now).chain(instants) {
                    cases.push((facts.clone(), test.person.clone(), now));
                }
            }
            if plan.program.name == "beijing_entry" {
                let facts = policy
                    .facts(include_str!("../../examples/beijing/facts.json"))
                    .unwrap_or_else(|e| unreachable!("{e}"));
                for seed in 0..4 {
                    let decoded = policy.person(&mixed(seed));
                    assert!(decoded.is_ok(), "{:?}", decoded.err());
                }
                let generated = population::population(300, 3);
                let people = include_str!("../../examples/beijing/people.jsonl")
                    .lines()
                    .chain(
                        include_str!("../../tests/corpus/decide/beijing-boundaries.jsonl").lines(),
                    )
                    .map(str::to_owned)
                    .chain(generated.lines().map(str::to_owned))
                    .chain((0..4).map(mixed));
                for line in people {
                    let line = serde_json::from_str::<serde_json::Value>(&line)
                        .ok()
                        .and_then(|v| v.get("person").map(ToString::to_string))
                        .unwrap_or(line);
                    let Ok(person) = policy.person(&line) else {
                        continue;
                    };
                    for days in [-20, -3, 0, 1, 5, 13] {
                        let now = NOW + days * 86_400_000_000;
                        cases.push((facts.clone(), person.value.clone(), now));
                    }
                }
            }
            for (facts, person, now) in &cases {
                let unlimited = Budget::unlimited();
                let skipping = first_change(plan, facts, person, *now, &unlimited, true);
                let trying = first_change(plan, facts, person, *now, &unlimited, false);
                changing += usize::from(skipping.is_some());
                let show = |c: Option<super::Change<'_>>| c.map(|c| (c.at, c.decision.to_json()));
                assert_eq!(show(skipping), show(trying), "{person:?} at {now}");
                compared += 1;
            }
        }
        assert!(compared > 1500, "{compared}");
        assert!(
            changing > 150,
            "many decisions change at some point: {changing}"
        );
    }
}
