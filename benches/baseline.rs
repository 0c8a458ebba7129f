//! A reference point for `benches/policy.rs`: the Beijing entry rules of
//! `policies/beijing-2021-10-30.policy` written by hand in plain Rust, with
//! serde structs for the person and a JSON output line of the same shape as
//! policyc's decision (outcome, kind, message, policy, now, the fired rules
//! with their witnesses, warnings).
//!
//! Before benchmarking, the baseline and policyc decide every person of the
//! generated population, and must agree on the outcome, the kind, the rules
//! that fired and the `unlisted_phone` warning.
//!
//! ```text
//! cargo bench --bench baseline
//! cargo bench --bench baseline -- --quick
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use policyc::region;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

#[path = "support/group.rs"]
mod group;
#[path = "support/population.rs"]
mod population;

use population::{FACTS, PEOPLE, POLICY, SEED};

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;
const BEIJING: u32 = 110_000;

// ---------------------------------------------------------------- input

#[derive(Debug, Deserialize)]
struct Person {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    phones: Vec<Phone>,
    #[serde(default)]
    stays: Vec<Stay>,
    #[serde(default)]
    tests: Vec<Test>,
    #[serde(default)]
    beijing_area_visits: Vec<Visit>,
}

#[derive(Debug, Deserialize)]
struct Phone {
    number: String,
    #[serde(deserialize_with = "instant")]
    bound_at: i64,
    #[serde(default, deserialize_with = "optional_instant")]
    unbound_at: Option<i64>,
    itinerary_checked: bool,
}

#[derive(Debug, Deserialize)]
struct Stay {
    phone: String,
    #[serde(deserialize_with = "region_code")]
    region: u32,
    #[serde(deserialize_with = "instant")]
    from: i64,
    #[serde(default, deserialize_with = "optional_instant")]
    to: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Test {
    #[serde(deserialize_with = "instant")]
    sampled_at: i64,
    result: TestResult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum TestResult {
    Negative,
    Positive,
    Pending,
}

#[derive(Debug, Deserialize)]
struct Visit {
    area: String,
    #[serde(deserialize_with = "instant")]
    at: i64,
}

/// An RFC 3339 instant, in microseconds since the epoch.
fn instant<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 instant")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.parse::<jiff::Timestamp>()
                .map(|t| t.as_microsecond())
                .map_err(E::custom)
        }
    }
    d.deserialize_str(V)
}

/// An instant or `null`.
fn optional_instant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 instant or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
            instant(d).map(Some)
        }
    }
    d.deserialize_option(V)
}

/// A six-digit region code.
fn region_code<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u32;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a six-digit region code")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u32, E> {
            region::parse_code(v).ok_or_else(|| E::custom(format!("not a region code: {v:?}")))
        }
    }
    d.deserialize_str(V)
}

// ---------------------------------------------------------------- rules

/// The facts, and what the rules derive from them, computed once.
struct Rules {
    now: i64,
    now_text: String,
    /// Sorted.
    case_counties: Vec<u32>,
    /// The prefectures of the case counties, sorted.
    case_prefectures: Vec<u32>,
    /// Sorted.
    risk_areas: Vec<String>,
}

#[derive(Deserialize)]
struct FactsJson {
    case_counties: Vec<String>,
    beijing_risk_areas: Vec<String>,
}

impl Rules {
    fn new(facts: &str, now: &str) -> Rules {
        let facts: FactsJson = serde_json::from_str(facts).expect("the facts parse");
        let mut case_counties: Vec<u32> = facts
            .case_counties
            .iter()
            .map(|c| region::parse_code(c).expect("a region code"))
            .collect();
        case_counties.sort_unstable();
        case_counties.dedup();
        let mut case_prefectures: Vec<u32> = case_counties
            .iter()
            .filter_map(|&c| region::prefecture_of(c))
            .collect();
        case_prefectures.sort_unstable();
        case_prefectures.dedup();
        let mut risk_areas = facts.beijing_risk_areas;
        risk_areas.sort_unstable();
        risk_areas.dedup();
        let now_ts: jiff::Timestamp = now.parse().expect("now is an instant");
        Rules {
            now: now_ts.as_microsecond(),
            now_text: format_instant(now_ts.as_microsecond()),
            case_counties,
            case_prefectures,
            risk_areas,
        }
    }
}

/// A rule of the policy: name, title, kind, message.
struct Rule {
    name: &'static str,
    title: &'static str,
    kind: &'static str,
    message: &'static str,
}

const COUNTY: usize = 0;
const PREFECTURE: usize = 1;
const RISK_AREA: usize = 2;
const ITINERARY: usize = 3;

/// In policy order: the most severe outcome wins, and they are all `popup`,
/// so the first that fires wins.
const RULES: [Rule; 4] = [
    Rule {
        name: "county_exposure",
        title: "14天内有本土病例县旅居史",
        kind: "postpone_travel",
        message: "请按照防疫要求暂缓来京",
    },
    Rule {
        name: "prefecture_exposure",
        title: "到访涉疫地市，需48小时内核酸检测阴性证明",
        kind: "test_required",
        message: "请尽快完成核酸检测后进京",
    },
    Rule {
        name: "beijing_risk_area",
        title: "途经京内中高风险地区",
        kind: "report_to_community",
        message: "请立即前往所在社区登记报到",
    },
    Rule {
        name: "itinerary_unverified",
        title: "行程核验未完成",
        kind: "itinerary_unverified",
        message: "请完成通信大数据行程卡核验",
    },
];

/// A rule that fired, with its witnesses.
#[derive(Debug, Serialize)]
struct Fired {
    name: &'static str,
    title: &'static str,
    outcome: &'static str,
    because: Vec<String>,
}

/// The decision for one person.
#[derive(Debug)]
struct Verdict<'a> {
    id: Option<&'a str>,
    /// The winning rule; `None`: green.
    winner: Option<usize>,
    fired: Vec<Fired>,
    warnings: Vec<String>,
}

fn within(t: i64, from: i64, to: i64) -> bool {
    from <= t && t <= to
}

fn overlaps(a: i64, b: i64, c: i64, d: i64) -> bool {
    a <= b && c <= d && a <= d && c <= b
}

/// `2021-10-24T08:00:00+08:00`: China has used UTC+8 all year since 1991.
fn format_instant(micros: i64) -> String {
    static CHINA: std::sync::LazyLock<jiff::tz::TimeZone> =
        std::sync::LazyLock::new(|| jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)));
    policyc::time::format_instant(micros, &CHINA)
}

fn describe_stay(list: &str, s: &Stay) -> String {
    format!(
        "{list}: phone {}, region {:06} {}, from {}, to {}",
        s.phone,
        s.region,
        region::full_name(s.region).unwrap_or_default(),
        format_instant(s.from),
        s.to.map_or_else(|| "none".to_owned(), format_instant)
    )
}

fn decide<'a>(rules: &Rules, p: &'a Person) -> Verdict<'a> {
    let now = rules.now;
    let since_14d = now - 14 * DAY;
    let since_48h = now - 48 * HOUR;

    // ¶6: every bound number, and a replaced one for 14 days.
    let checked = |ph: &Phone| {
        ph.bound_at <= now
            && ph
                .unbound_at
                .is_none_or(|u| u > now || within(u, since_14d, now))
    };
    let listed = |number: &str| p.phones.iter().any(|ph| ph.number == number);
    let checked_number =
        |number: &str| p.phones.iter().any(|ph| ph.number == number && checked(ph));

    // The carrier records of the last 14 days, outside Beijing.
    let mut county = Vec::new();
    let mut prefecture = Vec::new();
    let mut unlisted = Vec::new();
    for (i, s) in p.stays.iter().enumerate() {
        if !overlaps(s.from, s.to.unwrap_or(now), since_14d, now) {
            continue;
        }
        let is_listed = listed(&s.phone);
        if is_listed && !checked_number(&s.phone) {
            continue;
        }
        if !is_listed {
            unlisted.push(i);
        }
        if s.region == BEIJING || region::province_of(s.region) == Some(BEIJING) {
            continue;
        }
        if rules.case_counties.binary_search(&s.region).is_ok() {
            county.push(i);
        }
        if region::prefecture_of(s.region)
            .is_some_and(|pf| rules.case_prefectures.binary_search(&pf).is_ok())
        {
            prefecture.push(i);
        }
    }
    let tested = p
        .tests
        .iter()
        .any(|t| t.result == TestResult::Negative && within(t.sampled_at, since_48h, now));
    let risky: Vec<&Visit> = p
        .beijing_area_visits
        .iter()
        .filter(|v| within(v.at, since_14d, now) && rules.risk_areas.binary_search(&v.area).is_ok())
        .collect();
    let unverified: Vec<&Phone> = p
        .phones
        .iter()
        .filter(|ph| checked(ph) && !ph.itinerary_checked)
        .collect();

    let mut fired = Vec::new();
    let mut fire = |rule: usize, because: Vec<String>| {
        fired.push((rule, because));
    };
    if !county.is_empty() {
        fire(
            COUNTY,
            county
                .iter()
                .map(|&i| describe_stay("outside", &p.stays[i]))
                .collect(),
        );
    }
    if !prefecture.is_empty() && !tested {
        let mut because: Vec<String> = prefecture
            .iter()
            .map(|&i| describe_stay("outside", &p.stays[i]))
            .collect();
        because.push(
            "no element of person.tests has result = \"negative\" and sampled_at within 48h"
                .to_owned(),
        );
        fire(PREFECTURE, because);
    }
    if !risky.is_empty() {
        fire(
            RISK_AREA,
            risky
                .iter()
                .map(|v| {
                    format!(
                        "person.beijing_area_visits: area {}, at {}",
                        v.area,
                        format_instant(v.at)
                    )
                })
                .collect(),
        );
    }
    if !unverified.is_empty() {
        fire(
            ITINERARY,
            unverified
                .iter()
                .map(|ph| {
                    format!(
                        "checked_phones: number {}, bound_at {}, itinerary_checked false",
                        ph.number,
                        format_instant(ph.bound_at)
                    )
                })
                .collect(),
        );
    }
    let warnings = if unlisted.is_empty() {
        Vec::new()
    } else {
        let because: Vec<String> = unlisted
            .iter()
            .map(|&i| describe_stay("recent_stays", &p.stays[i]))
            .collect();
        vec![format!(
            "unlisted_phone: 行程记录来自未绑定的手机号 ({})",
            because.join("; ")
        )]
    };
    Verdict {
        id: p.id.as_deref(),
        winner: fired.first().map(|&(rule, _)| rule),
        fired: fired
            .into_iter()
            .map(|(rule, because)| Fired {
                name: RULES[rule].name,
                title: RULES[rule].title,
                outcome: "popup",
                because,
            })
            .collect(),
        warnings,
    }
}

// ---------------------------------------------------------------- output

#[derive(Serialize)]
struct PolicyRef {
    name: &'static str,
    title: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Line<'a> {
    id: Option<&'a str>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
    policy: PolicyRef,
    now: &'a str,
    rules: &'a [Fired],
    warnings: &'a [String],
}

impl Verdict<'_> {
    fn outcome(&self) -> &'static str {
        if self.winner.is_some() {
            "popup"
        } else {
            "green"
        }
    }

    fn kind(&self) -> Option<&'static str> {
        self.winner.map(|r| RULES[r].kind)
    }

    fn line<'a>(&'a self, rules: &'a Rules) -> Line<'a> {
        Line {
            id: self.id,
            outcome: self.outcome(),
            kind: self.kind(),
            message: self.winner.map(|r| RULES[r].message),
            policy: PolicyRef {
                name: "beijing_entry",
                title: "北京健康宝进京赋码规则",
                version: "2021-10-30",
            },
            now: &rules.now_text,
            rules: &self.fired,
            warnings: &self.warnings,
        }
    }
}

/// The whole per-line cost: JSON into structs, the rules, the output line.
fn decide_json_line(rules: &Rules, line: &str, out: &mut Vec<u8>) {
    let person: Person = serde_json::from_str(line).expect("the line parses");
    let verdict = decide(rules, &person);
    serde_json::to_writer(&mut *out, &verdict.line(rules)).expect("serializes");
}

// ---------------------------------------------------------------- checks

/// The baseline and policyc must agree on every person of the population.
fn check_agreement(rules: &Rules, input: &str) {
    let policy = policyc::Policy::load(POLICY).expect("the policy compiles");
    let facts = policy.facts(FACTS).expect("the facts load");
    let now = policy.instant(population::NOW).expect("now is an instant");
    assert_eq!(now, rules.now);
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for (n, line) in input.lines().enumerate() {
        let d = policy
            .decide_json(&facts, line, now)
            .expect("policyc decides");
        let kind = d
            .payload
            .iter()
            .find(|(name, _, _)| *name == "kind")
            .and_then(|(_, v, _)| match v {
                policyc::value::Value::Text(t) => Some(t.to_string()),
                _ => None,
            });
        let names: Vec<&str> = d.rules.iter().map(|r| r.name).collect();
        let unlisted = d.warnings.iter().any(|w| w.starts_with("unlisted_phone"));

        let person: Person = serde_json::from_str(line).expect("the line parses");
        let v = decide(rules, &person);
        let b_names: Vec<&str> = v.fired.iter().map(|f| f.name).collect();
        let b_unlisted = !v.warnings.is_empty();
        if d.outcome != v.outcome()
            || kind.as_deref() != v.kind()
            || names != b_names
            || unlisted != b_unlisted
        {
            panic!(
                "line {}: policyc says {} {:?} {:?} unlisted={}, the baseline {} {:?} {:?} unlisted={}\n{line}",
                n + 1,
                d.outcome,
                kind,
                names,
                unlisted,
                v.outcome(),
                v.kind(),
                b_names,
                b_unlisted
            );
        }
        *kinds
            .entry(kind.unwrap_or_else(|| d.outcome.to_owned()))
            .or_default() += 1;
    }
    let total: usize = kinds.values().sum();
    eprintln!("baseline and policyc agree on all {total} people:");
    for (kind, n) in &kinds {
        eprintln!(
            "  {kind:<22} {n:>7}  {:5.2}%",
            100.0 * *n as f64 / total as f64
        );
    }
}

// ---------------------------------------------------------------- benches

fn baseline(c: &mut Criterion) {
    let rules = Rules::new(FACTS, population::NOW);
    let input = population::population(PEOPLE, SEED);
    check_agreement(&rules, &input);

    let line = population::typical(SEED);
    let person: Person = serde_json::from_str(&line).expect("the typical line parses");

    let mut group = c.benchmark_group("baseline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_person_from_structs", |b| {
        b.iter(|| decide(&rules, black_box(&person)))
    });
    group.bench_function("one_person_from_json", |b| {
        b.iter(|| {
            let person: Person = serde_json::from_str(black_box(&line)).expect("parses");
            let verdict = decide(&rules, &person);
            serde_json::to_string(&verdict.line(&rules)).expect("serializes")
        })
    });
    group.finish();

    let mut out = Vec::with_capacity(PEOPLE * 256);
    let mut group = group::population_group(c, "baseline/jsonl", PEOPLE);
    group.bench_function("100k", |b| {
        b.iter(|| {
            out.clear();
            for line in black_box(&input).lines() {
                decide_json_line(&rules, line, &mut out);
                out.push(b'\n');
            }
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, baseline);
criterion_main!(benches);
