//! `next_change` against the way it was found before the time analysis:
//! by evaluating the decision just after every candidate instant, the
//! instants of the person, the facts and the policy shifted by the
//! policy's durations (the hand-written enumeration of 2026-12-01, kept
//! here as the reference it is compared with, not used by the library).

use super::{
    Budget, Change, Evaluator, Facts, next_change_after, next_change_from, next_change_within,
    tracked,
};
use crate::Policy;
use crate::check::ir::Builtin;
use crate::compile::{Id, Op, Plan, Root};
use crate::eval::window::instants;
use crate::types::Type;
use crate::value::Value;

/// The first change, tried at every candidate in order.
fn tried<'p>(plan: &'p Plan, facts: &'p Facts, person: &Value, now: i64) -> Option<Change<'p>> {
    let budget = Budget::unlimited();
    let at = |t: i64| Evaluator::within(plan, facts, person, t, &budget);
    let current = at(now).verdict();
    candidates(plan, facts, person, now)
        .into_iter()
        .find_map(|c| {
            let evaluator = at(c.saturating_add(1));
            (evaluator.verdict() != current).then(|| Change {
                at: c,
                decision: evaluator.decide(Vec::new()),
            })
        })
}

/// The instants from `now` on, ascending, at which a time comparison of
/// the policy may flip for this person: every instant of the person, the facts
/// and the policy, shifted either way by every duration of them, and by
/// every sum of two when a comparison of the policy holds two durations
/// (`t + 1d + 12h >= now`, `t < now - 14d - 48h`).
fn candidates(plan: &Plan, facts: &Facts, person: &Value, now: i64) -> Vec<i64> {
    let mut times = Vec::new();
    let mut durations = vec![0];
    instants(person, &mut times, &mut durations);
    for v in facts.values.iter().chain(&facts.hoisted) {
        instants(v, &mut times, &mut durations);
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
            instants(v, &mut times, &mut durations);
        }
        sums |= shifts_twice(plan, id);
    });
    let mut calendar = Calendar::default();
    if calendar_used(plan) {
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

/// Whether the plan counts on the calendar.
fn calendar_used(plan: &Plan) -> bool {
    let mut used = false;
    plan.walk(plan.roots().map(|(_, id)| id), |_, node, _| {
        used |= matches!(
            node.op,
            Op::Shift(..) | Op::Call(Builtin::Age | Builtin::StartOfDay | Builtin::Date, _)
        );
    });
    used
}

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

/// The changes the time analysis finds are those that trying every
/// candidate of the enumeration it replaced finds, to the microsecond and
/// in every field of the decision.
#[test]
fn the_time_analysis_finds_what_trying_every_candidate_finds() {
    let shipped = [
        "beijing-2021-10-30",
        "beijing-2022-winter-olympics",
        "quarantine-release",
        "three-colour-health-code",
    ];
    let (mut compared, mut changing) = (0, 0);
    for name in shipped {
        let path = format!("{}/policies/{name}.policy", env!("CARGO_MANIFEST_DIR"));
        let policy = Policy::load(path).unwrap_or_else(|e| unreachable!("{e}"));
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
                .chain(include_str!("../../tests/corpus/decide/beijing-boundaries.jsonl").lines())
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
            let found = next_change_within(plan, facts, person, *now, &Budget::unlimited());
            let trying = tried(plan, facts, person, *now);
            changing += usize::from(found.is_some());
            let show = |c: Option<Change<'_>>| c.map(|c| (c.at, c.decision.to_json()));
            let found = show(found);
            assert_eq!(found, show(trying), "{person:?} at {now}");
            // Evaluating everything again after each horizon finds the
            // same change, to the microsecond and in every field.
            let (_, start) = tracked(plan, facts, person, *now, &Budget::unlimited(), false);
            let everything =
                next_change_after(plan, facts, person, start, &Budget::unlimited(), false);
            assert_eq!(found, show(everything), "{person:?} at {now}");
            compared += 1;
        }
    }
    assert!(compared > 1500, "{compared}");
    assert!(
        changing > 150,
        "many decisions change at some point: {changing}"
    );
}

/// The change of `when` for a person given as JSON, at `NOW`, checked:
/// the decision of now just before it, another just after it.
fn change_of(when: &str, person: &str) -> Option<i64> {
    let text = format!(
        "policy p\noutcomes green < red\ninput person {{ at: time, from: time }}\nrule r when {when} then red\notherwise green\n"
    );
    let policy = Policy::compile("p", &text).unwrap_or_else(|e| unreachable!("{e}"));
    let plan = policy.plan();
    let facts = Facts::empty(plan);
    let person = policy
        .person(person)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .value;
    let verdict = |t: i64| Evaluator::new(plan, &facts, &person, t).verdict();
    let change = next_change_within(plan, &facts, &person, NOW, &Budget::unlimited())?;
    assert!(change.at >= NOW);
    if change.at > NOW {
        assert_eq!(verdict(change.at - 1), verdict(NOW), "just before");
    }
    assert_ne!(verdict(change.at + 1), verdict(NOW), "just after");
    Some(change.at)
}

/// Sides that move apart, and a list holding a moving value: changes the
/// enumeration of candidates could not see (no instant of the record
/// shifted by a duration of the policy is where they lie) are found to
/// the microsecond.
#[test]
fn changes_at_no_instant_of_the_data_are_found_exactly() {
    let hour = 3_600_000_000;
    let at = |t: i64| crate::time::format_instant(t, &jiff::tz::TimeZone::UTC);
    let person = |a: i64, f: i64| format!(r#"{{"at":"{}","from":"{}"}}"#, at(a), at(f));
    // Until the middle of `from` and `at`, now + 4h: there they meet.
    let apart = "person.at - now > now - person.from";
    let met = change_of(apart, &person(NOW + 10 * hour, NOW - 2 * hour));
    assert_eq!(met, Some(NOW + 4 * hour));
    // They never meet on a microsecond: it changes at the first after.
    let never_met = change_of(apart, &person(NOW + 10 * hour, NOW - 2 * hour - 1));
    assert_eq!(never_met, Some(NOW + 4 * hour));
    // The least of a moving instant and a fixed one passes `from` a day
    // after it, where the two sides meet: that instant is the boundary.
    let least = "(min([now - 1d, person.at, person.at + 1h]) or now) > person.from";
    let passed = change_of(least, &person(NOW + 120 * hour, NOW + 48 * hour));
    assert_eq!(passed, Some(NOW + 72 * hour));
}

/// The shipped Beijing policy and its example facts.
fn beijing() -> (Policy, Facts) {
    use crate::eval::population::{FACTS, POLICY};
    let policy = Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    (policy, facts)
}

/// A record's past costs nothing: 2,000 stays in a case county that all
/// ended weeks ago, and a test that decides. `next_change` evaluates the
/// person once more for each instant at which what decided changes (the
/// test's window closing), not once per instant of the record, and the
/// decision's own evaluation is the one it starts from.
#[test]
fn next_change_costs_an_evaluation_per_change_of_what_decided() {
    let (policy, facts) = beijing();
    let hour = 3_600_000_000;
    let at = |t: i64| crate::time::format_instant(t, &jiff::tz::TimeZone::UTC);
    let stays: Vec<String> = (0..2_000)
        .map(|i| {
            let from = NOW - 60 * 24 * hour + i * hour / 2;
            format!(
                r#"{{"phone":"1","region":"152923","from":"{}","to":"{}"}}"#,
                at(from),
                at(from + hour / 4)
            )
        })
        .collect();
    let person = format!(
        r#"{{"phones":[{{"number":"1","bound_at":"{}","itinerary_checked":false}}],"stays":[{}],"tests":[]}}"#,
        at(NOW - 100 * 24 * hour),
        stays.join(",")
    );
    let person = policy
        .person(&person)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .value;
    let plan = policy.plan();
    let plain = Budget::unlimited();
    let decision = Evaluator::within(plan, &facts, &person, NOW, &plain).decide(Vec::new());
    assert_eq!(decision.outcome, "popup");
    let budget = Budget::unlimited();
    let change = next_change_within(plan, &facts, &person, NOW, &budget);
    assert!(change.is_none(), "an unchecked itinerary stays unchecked");
    assert!(
        budget.spent() <= 2 * plain.spent(),
        "{} steps for next_change, {} for the decision",
        budget.spent(),
        plain.spent()
    );
}

/// Just after a horizon, only what may change there is computed again:
/// 2,000 stays that ended weeks ago, one a day ago in a prefecture with a
/// case, and a negative test that covers it until 47 hours from now. The
/// lists of stays change only when that stay leaves the 14 days, so the
/// evaluation at the test's end takes them as they were and decides the
/// one rule that reads the test: a few steps, where the decision took
/// one per stay.
#[test]
fn after_a_horizon_only_what_changes_there_is_computed_again() {
    let (policy, facts) = beijing();
    let hour = 3_600_000_000;
    let at = |t: i64| crate::time::format_instant(t, &jiff::tz::TimeZone::UTC);
    let stay = |region: &str, from: i64| {
        format!(
            r#"{{"phone":"1","region":"{region}","from":"{}","to":"{}"}}"#,
            at(from),
            at(from + hour / 4)
        )
    };
    let mut stays: Vec<String> = (0..2_000)
        .map(|i| stay("152923", NOW - 60 * 24 * hour + i * hour / 2))
        .collect();
    stays.push(stay("620103", NOW - 24 * hour));
    let person = format!(
        r#"{{"phones":[{{"number":"1","bound_at":"{}","itinerary_checked":true}}],"stays":[{}],"tests":[{{"sampled_at":"{}","result":"negative"}}]}}"#,
        at(NOW - 100 * 24 * hour),
        stays.join(","),
        at(NOW - hour)
    );
    let person = policy
        .person(&person)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .value;
    let plan = policy.plan();
    let plain = Budget::unlimited();
    let decision = Evaluator::within(plan, &facts, &person, NOW, &plain).decide(Vec::new());
    assert_eq!(decision.outcome, "green");
    let budget = Budget::unlimited();
    let (_, start) = tracked(plan, &facts, &person, NOW, &budget, false);
    let at_now = budget.spent();
    let change = next_change_from(plan, &facts, &person, start, &budget);
    let change = change.unwrap_or_else(|| unreachable!("the test's window closes"));
    assert_eq!(change.at, NOW + 47 * hour);
    assert_eq!(change.decision.outcome, "popup");
    let after = budget.spent() - at_now;
    assert!(
        after < 20,
        "{after} steps after the horizon, {at_now} at now"
    );
    // Computing everything again there costs a step per stay again.
    let everything = Budget::unlimited();
    let (_, start) = tracked(plan, &facts, &person, NOW, &everything, false);
    let change = next_change_after(plan, &facts, &person, start, &everything, false);
    assert_eq!(change.map(|c| c.at), Some(NOW + 47 * hour));
    assert!(
        everything.spent() - at_now > 2_000,
        "{}",
        everything.spent()
    );
}

/// Numbers and durations computed from a moving instant (a duration
/// divided by a duration, multiplied or divided by a number) change where
/// the comparison first comes out otherwise, found to the microsecond,
/// with the boundary at the instant where the two sides are equal.
#[test]
fn numbers_computed_from_time_change_at_their_boundary() {
    let hour = 3_600_000_000;
    let day = 24 * hour;
    let at = |t: i64| crate::time::format_instant(t, &jiff::tz::TimeZone::UTC);
    let person = |a: i64| format!(r#"{{"at":"{}","from":"{}"}}"#, at(a), at(NOW));
    let since = NOW - 12 * hour;
    // Three days after `at`, the count of days is 3; just after, more.
    let days = change_of("(now - person.at) / 1d > 3", &person(since));
    assert_eq!(days, Some(since + 3 * day));
    // `>=` holds from the instant itself.
    let days = change_of("(now - person.at) / 1d >= 3", &person(since));
    assert_eq!(days, Some(since + 3 * day));
    // Read from the other side, and falling: `3 - days < 0`.
    let falling = change_of("3 < (now - person.at) / 24h", &person(since));
    assert_eq!(falling, Some(since + 3 * day));
    let falling = change_of("0 > 3 - (now - person.at) / 1d", &person(since));
    assert_eq!(falling, Some(since + 3 * day));
    // A duration scaled by a number, and a count that already passed.
    // Half of 2 days and a microsecond is a day, as the evaluator rounds
    // it: the boundary is a microsecond later.
    let half = change_of("(now - person.at) / 2 <= 1d", &person(since));
    assert_eq!(half, Some(since + 2 * day + 1));
    let doubled = change_of("2 * (person.at - now) > 1d", &person(NOW + 2 * day));
    assert_eq!(doubled, Some(NOW + 2 * day - 12 * hour));
    assert_eq!(
        change_of("(now - person.at) / 1d > -1", &person(since)),
        None
    );
    // Counted from a calendar month after `at`: 31 August and a month is
    // 30 September, the last day of the month; 32 days after it.
    let august = 1_630_404_000_000_000; // 2021-08-31T10:00:00Z
    let months = change_of("(now - (person.at + 1 month)) / 1d >= 32", &person(august));
    assert_eq!(months, Some(1_635_760_800_000_000)); // 2021-11-01T10:00:00Z
}
