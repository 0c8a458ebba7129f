use super::tally::keep;
use super::*;
use crate::eval::population;
use crate::explain::Words;

const OLD: &str = population::POLICY;
const NEW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/diff/beijing-24h.policy"
);
use population::{FACTS, NOW};

fn load(path: &str) -> (Policy, Facts, i64) {
    let policy = Policy::load(path).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let now = policy.instant(NOW).unwrap_or_else(|e| unreachable!("{e}"));
    (policy, facts, now)
}

fn people(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut line = String::new();
            population::person(11, i).write_json(&mut line);
            line
        })
        .collect()
}

/// Runs `f` with a differ of the 48-hour and the 24-hour policy.
fn with_differ(settings: Settings, f: impl FnOnce(&Differ<'_>, &Words<'_>, &Words<'_>)) {
    let (old, old_facts, now) = load(OLD);
    let (new, new_facts, _) = load(NEW);
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
        settings,
    );
    let (a, b) = (
        old.words(None).unwrap_or_else(|e| unreachable!("{e}")),
        new.words(None).unwrap_or_else(|e| unreachable!("{e}")),
    );
    f(&differ, &a, &b);
}

fn tally_of(differ: &Differ<'_>, lines: &[String], from: usize) -> Tally {
    let mut tally = Tally::default();
    for (i, line) in lines.iter().enumerate() {
        differ.json(&mut tally, from + i + 1, line);
    }
    tally
}

#[test]
fn the_matrix_counts_what_each_version_decides_on_its_own() {
    let lines = people(2000);
    with_differ(Settings::default(), |differ, a, b| {
        assert!(differ.shares_reading());
        let report = differ.report(tally_of(differ, &lines, 0), ("old", "new"), (a, b));
        let (old, new) = differ.versions();
        let mut expected = vec![vec![0u64; 2]; 2];
        let (mut changed, mut decided) = (0, 0);
        for line in &lines {
            let x = old.policy.decide_json(old.facts, line, differ.now());
            let y = new.policy.decide_json(new.facts, line, differ.now());
            let (Ok(x), Ok(y)) = (x, y) else { continue };
            let index = |o: &str| usize::from(o == "popup");
            expected[index(x.outcome)][index(y.outcome)] += 1;
            decided += 1;
            if x.outcome != y.outcome || x.deciding_rule() != y.deciding_rule() {
                changed += 1;
            }
        }
        assert_eq!(report.outcomes.counts, expected);
        assert_eq!((report.decided, report.changed), (decided, changed));
        assert!(changed > 0, "the change changes someone");
        assert_eq!(
            report.outcomes.counts[1][0], 0,
            "a stricter rule turns no one green"
        );
    });
}

#[test]
fn tallies_merge_to_the_same_report_in_any_order() {
    let lines = people(600);
    let settings = Settings {
        sample: 2,
        seed: 5,
        horizon: Some(3 * 86_400_000_000),
    };
    with_differ(settings, |differ, a, b| {
        let whole = differ.report(tally_of(differ, &lines, 0), ("o", "n"), (a, b));
        let parts = [
            tally_of(differ, &lines[..250], 0),
            tally_of(differ, &lines[250..400], 250),
            tally_of(differ, &lines[400..], 400),
        ];
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let mut tally = Tally::default();
            for i in order {
                tally.merge(parts[i].clone(), differ.settings());
            }
            let merged = differ.report(tally, ("o", "n"), (a, b));
            assert_eq!(merged.to_json(), whole.to_json(), "order {order:?}");
        }
        let sampled: usize = whole.transitions.iter().map(|t| t.sample.len()).sum();
        assert!(sampled > 0);
        assert!(whole.transitions.iter().all(|t| t.sample.len() <= 2));
    });
}

#[test]
fn the_horizon_finds_those_whose_decisions_part_later() {
    // A negative test 20 hours ago after a stay in 兰州: green under both
    // now, a pop-up under the 24-hour rule 4 hours from now, under the
    // 48-hour rule 28 hours from now.
    let person = r#"{"id": "h", "phones": [{"number": "1", "bound_at": "2021-01-01T00:00:00+08:00", "itinerary_checked": true}],
        "stays": [{"phone": "1", "region": "620105", "from": "2021-10-28T08:00:00+08:00", "to": "2021-10-29T08:00:00+08:00"}],
        "tests": [{"sampled_at": "2021-10-31T14:00:00+08:00", "result": "negative"}]}"#
        .replace('\n', " ");
    let settings = Settings {
        horizon: Some(3 * 86_400_000_000),
        ..Settings::default()
    };
    with_differ(settings, |differ, a, b| {
        let mut tally = Tally::default();
        differ.json(&mut tally, 1, &person);
        let report = differ.report(tally, ("o", "n"), (a, b));
        assert_eq!(report.changed, 0);
        let Some(h) = report.horizon else {
            unreachable!("a horizon was asked for")
        };
        assert_eq!(h.people, 1);
        let parts = h.sample.first().and_then(|s| s.parts.as_ref());
        assert_eq!(
            parts.map(|p| (
                p.at.as_str(),
                p.old.outcome.as_str(),
                p.new.outcome.as_str()
            )),
            Some(("2021-11-01T14:00:00+08:00", "green", "popup"))
        );
        let differing: Vec<u64> = h.buckets.iter().map(|b| b.differing).collect();
        let parting: Vec<u64> = h.buckets.iter().map(|b| b.parting).collect();
        // From 14:00 to 14:00 the next day only the 24-hour rule pops up.
        assert_eq!(differing, [1, 0, 0]);
        assert_eq!(parting, [1, 0, 0]);
    });
}

#[test]
fn a_sample_keeps_the_smallest_hashes_once_each() {
    let kept = |line| Kept {
        hash: hash(9, line),
        line,
        old: Decoded {
            value: crate::value::Value::None,
            warnings: Vec::new(),
            given: Vec::new(),
        },
        new: Decoded {
            value: crate::value::Value::None,
            warnings: Vec::new(),
            given: Vec::new(),
        },
        parts: None,
    };
    let mut sample = Vec::new();
    for line in (1..200).chain(1..50) {
        keep(&mut sample, kept(line), 4);
    }
    let mut all: Vec<(u64, usize)> = (1..200).map(|l| (hash(9, l), l)).collect();
    all.sort_unstable();
    let lines: Vec<usize> = sample.iter().map(|k| k.line).collect();
    let expected: Vec<usize> = all.iter().take(4).map(|x| x.1).collect();
    assert_eq!(lines, expected);
}

#[test]
fn a_horizon_is_cut_into_days_or_hours() {
    const HOUR: i64 = 3_600_000_000;
    assert_eq!(buckets(14 * 24 * HOUR), (24 * HOUR, 14));
    assert_eq!(buckets(36 * HOUR), (HOUR, 36));
    assert_eq!(buckets(30 * HOUR + 1), (HOUR, 31));
    // Ten years: days doubled until there are no more than 366 buckets.
    assert_eq!(buckets(3650 * 24 * HOUR), (16 * 24 * HOUR, 229));
    assert_eq!(buckets(0), (24 * HOUR, 0));
}

fn report_with(counts: Vec<Vec<u64>>, errors: u64) -> Report {
    let decided = counts.iter().flatten().sum();
    let about = || report::About {
        file: String::new(),
        policy: String::new(),
        version: None,
    };
    Report {
        old: about(),
        new: about(),
        now: String::new(),
        people: decided + errors,
        decided,
        changed: counts[0][1] + counts[1][0],
        errors: report::Errors {
            old_only: errors,
            new_only: 0,
            both: 0,
            first: Vec::new(),
        },
        outcomes: report::Matrix {
            old: vec!["green".into(), "popup".into()],
            new: vec!["green".into(), "popup".into()],
            counts,
        },
        kinds: None,
        transitions: Vec::new(),
        horizon: None,
        conditions: Vec::new(),
    }
}

#[test]
fn conditions_count_transitions_shares_changes_and_errors() {
    let outcomes = ["green".to_owned(), "popup".to_owned()];
    let report = report_with(vec![vec![900, 60], vec![0, 40]], 2);
    let check = |text: &str| {
        let c =
            Condition::parse(text, &outcomes, &outcomes).unwrap_or_else(|e| unreachable!("{e}"));
        let c = c.check(&report);
        (c.count, c.holds)
    };
    assert_eq!(check("green->popup > 50"), (60, true));
    assert_eq!(check("green->popup > 60"), (60, false));
    assert_eq!(check("green->popup >= 60"), (60, true));
    assert_eq!(check(" green -> popup<=6% "), (60, true));
    assert_eq!(check("green->popup > 6%"), (60, false));
    assert_eq!(check("*->popup > 99"), (100, true));
    assert_eq!(check("popup->*<1"), (40, false));
    assert_eq!(check("changed > 5.5%"), (60, true));
    assert_eq!(check("errors > 0"), (2, true));
}

#[test]
fn a_malformed_condition_says_where_and_why() {
    let outcomes = ["green".to_owned(), "popup".to_owned()];
    let error = |text: &str| match Condition::parse(text, &outcomes, &outcomes) {
        Ok(c) => unreachable!("{text} parsed as {c:?}"),
        Err(e) => {
            use miette::Diagnostic as _;
            let at = e
                .labels()
                .and_then(|mut l| l.next())
                .map(|l| (l.offset(), l.len()));
            (e.to_string(), at)
        }
    };
    assert_eq!(
        error("green->popup"),
        (
            "`green->popup` is not a condition: it has no comparison".into(),
            Some((0, 12))
        )
    );
    assert_eq!(
        error("green->popup > lots"),
        (
            "`green->popup > lots` is not a condition: the bound is not a count like `1000` or a share like `5%`".into(),
            Some((15, 4))
        )
    );
    assert_eq!(
        error("green->popup > 1.5"),
        (
            "`green->popup > 1.5` is not a condition: a count of people is a whole number; a share ends in `%`".into(),
            Some((15, 3))
        )
    );
    assert_eq!(
        error("green popup > 1"),
        (
            "`green popup > 1` is not a condition: expected `OLD->NEW`, `changed` or `errors` before the comparison".into(),
            Some((0, 11))
        )
    );
    assert_eq!(
        error("green->red > 1"),
        (
            "`red` is not an outcome of the new policy".into(),
            Some((7, 3))
        )
    );
    assert_eq!(
        error("->popup > 1"),
        (
            "`->popup > 1` is not a condition: an outcome, or `*`, is missing".into(),
            Some((0, 1))
        )
    );
}

#[test]
fn each_version_checks_its_own_constraints() {
    let text = |requiring: &str| {
        format!(
            "policy p\ntimezone \"UTC\"\noutcomes green < popup\ninput person {{ xs: list of {{ a: number }}{requiring} }}\nrule big \"big\"\n  when any person.xs has a > 5\n  then popup\notherwise green\n"
        )
    };
    let old = Policy::compile("old.policy", &text("")).unwrap_or_else(|e| unreachable!("{e}"));
    let new = Policy::compile("new.policy", &text("\n    requiring a >= 0"))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let (f, g) = (
        old.facts("{}").unwrap_or_else(|e| unreachable!("{e}")),
        new.facts("{}").unwrap_or_else(|e| unreachable!("{e}")),
    );
    let differ = Differ::new(
        Version {
            policy: &old,
            facts: &f,
        },
        Version {
            policy: &new,
            facts: &g,
        },
        0,
        Settings::default(),
    );
    let mut tally = Tally::default();
    for (line, person) in [r#"{"xs": [{"a": -1}]}"#, r#"{"xs": [{"a": 7}]}"#, "{"]
        .iter()
        .enumerate()
    {
        differ.json(&mut tally, line + 1, person);
    }
    let words = (
        old.words(None).unwrap_or_else(|e| unreachable!("{e}")),
        new.words(None).unwrap_or_else(|e| unreachable!("{e}")),
    );
    let report = differ.report(tally, ("old", "new"), (&words.0, &words.1));
    let e = &report.errors;
    assert_eq!(
        (report.decided, e.new_only, e.old_only, e.both),
        (1, 1, 0, 1)
    );
    assert_eq!(e.first[0].line, 1);
    assert!(e.first[0].old.is_none());
    assert!(
        e.first[0]
            .new
            .as_deref()
            .is_some_and(|m| m.starts_with("line 1, ")),
        "{:?}",
        e.first[0]
    );
    assert_eq!(report.outcomes.counts, [[0, 0], [0, 1]]);
}

#[test]
fn decisions_that_part_just_after_now_part_at_now() {
    // The negative test is exactly 24 hours old: it still counts now under
    // both versions, and just after now only under the 48-hour one.
    let person = r#"{"id": "n", "phones": [{"number": "1", "bound_at": "2021-01-01T00:00:00+08:00", "itinerary_checked": true}], "stays": [{"phone": "1", "region": "620105", "from": "2021-10-28T08:00:00+08:00", "to": "2021-10-29T08:00:00+08:00"}], "tests": [{"sampled_at": "2021-10-31T10:00:00+08:00", "result": "negative"}]}"#;
    let settings = Settings {
        horizon: Some(86_400_000_000),
        ..Settings::default()
    };
    with_differ(settings, |differ, a, b| {
        let mut tally = Tally::default();
        differ.json(&mut tally, 1, person);
        let report = differ.report(tally, ("o", "n"), (a, b));
        assert_eq!(report.changed, 0);
        let h = report.horizon.unwrap_or_else(|| unreachable!());
        assert_eq!(h.people, 1);
        let at = h
            .sample
            .first()
            .and_then(|s| s.parts.as_ref())
            .map(|p| p.at.as_str());
        assert_eq!(at, Some(NOW));
        assert_eq!(h.buckets.first().map(|b| b.parting), Some(1));
    });
}

/// A policy whose `kind` is a constant in one rule and computed in
/// another: `age` or its text.
const KINDS: &str = r#"policy kinds
outcomes green < popup
input person {
  id: text
  age: number
  group: text
}
rule minor "a minor" when person.age < 18 then popup(kind: "minor")
rule grouped "in a group" when person.group != "" then popup(kind: person.group)
otherwise green
"#;

fn kinds_differ(f: impl FnOnce(&Differ<'_>)) {
    let policy = Policy::compile("kinds.policy", KINDS).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts("{}").unwrap_or_else(|e| unreachable!("{e}"));
    let v = Version {
        policy: &policy,
        facts: &facts,
    };
    f(&Differ::new(v, v, 0, Settings::default()));
}

#[test]
fn computed_kinds_are_counted_by_their_text_and_constant_ones_without_evaluating() {
    kinds_differ(|differ| {
        let mut tally = Tally::default();
        let people = [
            r#"{"id": "a", "age": 10, "group": ""}"#,
            r#"{"id": "b", "age": 30, "group": "minor"}"#,
            r#"{"id": "c", "age": 30, "group": "crew"}"#,
            r#"{"id": "d", "age": 30, "group": "crew"}"#,
            r#"{"id": "e", "age": 30, "group": ""}"#,
        ];
        for (i, p) in people.iter().enumerate() {
            differ.json(&mut tally, i + 1, p);
        }
        let words = differ.versions().0.policy.words(None);
        let words = words.unwrap_or_else(|e| unreachable!("{e}"));
        let report = differ.report(tally, ("a", "a"), (&words, &words));
        let kinds = report.kinds.unwrap_or_else(|| unreachable!("no kinds"));
        let names: Vec<(Option<&str>, Option<&str>)> = (kinds.old.iter())
            .map(|k| (k.outcome.as_deref(), k.kind.as_deref()))
            .collect();
        // The constant first (a computed `minor` is the same kind), then
        // `otherwise`'s, then the computed one.
        assert_eq!(
            names,
            [
                (Some("popup"), Some("minor")),
                (Some("green"), None),
                (Some("popup"), Some("crew")),
            ]
        );
        assert_eq!(kinds.counts, [[2, 0, 0], [0, 1, 0], [0, 0, 2]]);
    });
}

#[test]
fn past_64_computed_kinds_they_are_counted_together_whatever_the_order() {
    kinds_differ(|differ| {
        let line = |i: usize| format!(r#"{{"id": "p{i}", "age": 30, "group": "g{}"}}"#, i % 100);
        let lines: Vec<String> = (0..300).map(line).collect();
        let words = differ.versions().0.policy.words(None);
        let words = words.unwrap_or_else(|e| unreachable!("{e}"));
        // One tally, and three merged in another order.
        let whole = tally_of(differ, &lines, 0);
        let mut parts = tally_of(differ, &lines[200..], 200);
        for (from, to) in [(0, 100), (100, 200)] {
            parts.merge(tally_of(differ, &lines[from..to], from), differ.settings());
        }
        for tally in [whole, parts] {
            let kinds = differ.report(tally, ("a", "a"), (&words, &words)).kinds;
            let kinds = kinds.unwrap_or_else(|| unreachable!("no kinds"));
            let last = kinds
                .old
                .last()
                .map(|k| (k.outcome.clone(), k.kind.clone()));
            assert_eq!(last, Some((None, None)), "the other kinds, together");
            assert_eq!(kinds.old.len(), 3);
            assert_eq!(kinds.counts[2][2], 300);
        }
    });
}
