//! A seeded, realistic population of people in the input shape of the
//! Beijing entry policy (`policies/beijing-2021-10-30.policy`), for the
//! benchmarks and `examples/population.rs`. No dependencies: a splitmix64
//! generator, hand-written JSON.
//!
//! Each person is generated from `(seed, index)` alone, so a population is
//! deterministic for its seed and its first `n` people do not depend on how
//! many more are generated.
//!
//! The shape of a person, with the shares used (per person unless said):
//! - 1 phone (80%), 2 (15%) or 3 (5%): an extra phone is either a number
//!   replaced 1–30 days ago (unbound then; the current number bound at that
//!   moment) or a second SIM; `unbound_at` is `null` or absent for a bound
//!   number; `itinerary_checked` is false for 1.5% of phones;
//! - 5–40 stays (20 on average), contiguous over the last ~30 days, the last
//!   one still open (`"to": null`) 40% of the time; a home county in Beijing
//!   (72%), another prefecture (26.5%) or a prefecture with cases (1.5%),
//!   trips of 1–4 stays elsewhere (0–3 per person), some to the prefectures
//!   of the facts' case counties; 2% of people have stays reported for a
//!   number they do not list;
//! - 0–4 tests in the last 7 days, 92% negative, 6% pending, 2% positive;
//! - 0–3 visits to areas of Beijing in the last 21 days, 8% of them in one
//!   of the facts' risk areas.
#![allow(dead_code)]

use std::fmt::Write as _;

/// The policy the benchmarks decide with, by its path (load it with
/// `Policy::load`: it uses the libraries beside it).
pub const POLICY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/policies/beijing-2021-10-30.policy"
);
/// The facts of the benchmarks.
pub const FACTS: &str = include_str!("../../examples/beijing/facts.json");
/// The seed of the benchmarks' population.
pub const SEED: u64 = 42;
/// The size of the benchmarks' population.
pub const PEOPLE: usize = 100_000;

/// The instant people are decided at, as text.
pub const NOW: &str = "2021-11-01T10:00:00+08:00";
/// The same instant, in seconds since the Unix epoch.
pub const NOW_UNIX: i64 = 1_635_732_000;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// China Standard Time, the offset every instant is written with.
const OFFSET: i64 = 8 * HOUR;

/// splitmix64: tiny, fast, good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// An index drawn with the given weights (not all zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if r < u64::from(w) {
                return i;
            }
            r -= u64::from(w);
        }
        weights.len() - 1
    }
}

/// Beijing's districts (all of prefecture 110100).
pub const BEIJING: &[u32] = &[
    110101, 110102, 110105, 110106, 110107, 110108, 110109, 110111, 110112, 110113, 110114, 110115,
    110116, 110117, 110118, 110119,
];

/// The prefectures of the facts' case counties outside Beijing, with the
/// case county first and its neighbours in the same prefecture after it.
pub const CASE_PREFECTURES: &[&[u32]] = &[
    // 阿拉善盟: 额济纳旗 (case), 阿拉善左旗, 阿拉善右旗
    &[152923, 152921, 152922],
    // 兰州市: 城关区 (case), 七里河区, 西固区, 安宁区, 红古区, 永登县, 皋兰县, 榆中县
    &[
        620102, 620103, 620104, 620105, 620111, 620121, 620122, 620123,
    ],
    // 西安市: 雁塔区 (case), and the other districts and counties
    &[
        610113, 610102, 610103, 610104, 610111, 610112, 610114, 610115, 610116, 610117, 610118,
        610122, 610124,
    ],
    // 银川市: 兴庆区 (case), 西夏区, 金凤区, 永宁县, 贺兰县, 灵武市
    &[640104, 640105, 640106, 640121, 640122, 640181],
];

/// Prefectures around Beijing that people commute to.
pub const NEAR_BEIJING: &[&[u32]] = &[
    &[131002, 131003, 131082, 131028],                 // 廊坊市
    &[120101, 120102, 120103, 120104, 120105, 120116], // 天津市
    &[130602, 130606],                                 // 保定市
    &[130102, 130104, 130105, 130108],                 // 石家庄市
];

/// Other prefectures, from several provinces; a few are in the provinces of
/// the case counties (but not their prefectures).
pub const ELSEWHERE: &[&[u32]] = &[
    &[310101, 310104, 310105, 310106, 310112, 310115], // 上海市
    &[440103, 440104, 440106, 440111],                 // 广州市
    &[440304, 440305, 440306],                         // 深圳市
    &[441900],                                         // 东莞市 (no counties)
    &[330102, 330105, 330106, 330110],                 // 杭州市
    &[320102, 320104, 320106],                         // 南京市
    &[370102, 370103],                                 // 济南市
    &[370202, 370212],                                 // 青岛市
    &[420102, 420106, 420111],                         // 武汉市
    &[510104, 510105, 510107, 510108],                 // 成都市
    &[500103, 500105, 500106],                         // 重庆市
    &[210102, 210103],                                 // 沈阳市
    &[230102, 230103],                                 // 哈尔滨市
    &[150102, 150105],                                 // 呼和浩特市
    &[150202],                                         // 包头市
    &[140105, 140106],                                 // 太原市
    &[410102, 410105],                                 // 郑州市
    &[430102, 430104],                                 // 长沙市
    &[350102],                                         // 福州市
    &[350203],                                         // 厦门市
    &[530102],                                         // 昆明市
    &[450103],                                         // 南宁市
    &[520102],                                         // 贵阳市
    &[610202],                                         // 铜川市
    &[620502],                                         // 天水市
    &[640202],                                         // 石嘴山市
];

/// The facts' risk areas inside Beijing.
pub const RISK_AREAS: &[&str] = &["110114-tiantongyuan", "110105-sanlitun"];

/// Other areas of Beijing.
pub const OTHER_AREAS: &[&str] = &[
    "110101-wangfujing",
    "110102-xidan",
    "110105-guomao",
    "110105-wangjing",
    "110106-fengtai-station",
    "110108-zhongguancun",
    "110108-wudaokou",
    "110112-songzhuang",
    "110113-houshayu",
    "110114-huilongguan",
    "110115-yizhuang",
];

const MOBILE_PREFIXES: &[&str] = &[
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "182", "186",
    "187", "188", "130", "131", "132", "155", "156", "133", "153", "180", "189", "199",
];

/// `unbound_at`, as it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unbound {
    /// The field is left out.
    Absent,
    /// `"unbound_at": null`
    Null,
    /// Unbound at this instant (seconds since the epoch).
    At(i64),
}

#[derive(Debug, Clone)]
pub struct Phone {
    pub number: String,
    pub bound_at: i64,
    pub unbound_at: Unbound,
    pub itinerary_checked: bool,
}

#[derive(Debug, Clone)]
pub struct Stay {
    pub phone: String,
    pub region: u32,
    pub from: i64,
    /// `None`: still there (`"to": null`).
    pub to: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Test {
    pub sampled_at: i64,
    pub result: &'static str,
}

#[derive(Debug, Clone)]
pub struct Visit {
    pub area: &'static str,
    pub at: i64,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub phones: Vec<Phone>,
    pub stays: Vec<Stay>,
    pub tests: Vec<Test>,
    pub visits: Vec<Visit>,
}

fn phone_number(rng: &mut SplitMix64) -> String {
    format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000))
}

/// An instant on a minute boundary.
fn minutes(t: i64) -> i64 {
    t - t.rem_euclid(MINUTE)
}

/// Person number `index` (0-based) of the population of `seed`.
pub fn person(seed: u64, index: usize) -> Person {
    let mut rng = SplitMix64::new(seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    rng.next_u64();
    let now = NOW_UNIX;

    // Phones: the current number first.
    let mut phones = Vec::with_capacity(3);
    let current = Phone {
        number: phone_number(&mut rng),
        bound_at: minutes(now - rng.range(30 * DAY, 2000 * DAY)),
        unbound_at: if rng.chance(0.5) {
            Unbound::Absent
        } else {
            Unbound::Null
        },
        itinerary_checked: !rng.chance(0.015),
    };
    phones.push(current);
    let extra = match rng.weighted(&[80, 15, 5]) {
        0 => 0,
        1 => 1,
        _ => 2,
    };
    // A replaced number (index 1 when there is one) and a second SIM.
    let mut replaced = None;
    let mut second_sim = None;
    for k in 0..extra {
        if k == 0 && rng.chance(0.6) {
            let unbound = minutes(now - rng.range(DAY, 30 * DAY));
            phones[0].bound_at = unbound + rng.range(1, 30) * MINUTE;
            phones.push(Phone {
                number: phone_number(&mut rng),
                bound_at: minutes(unbound - rng.range(60 * DAY, 3000 * DAY)),
                unbound_at: Unbound::At(unbound),
                itinerary_checked: !rng.chance(0.015),
            });
            replaced = Some((phones.len() - 1, unbound));
        } else {
            phones.push(Phone {
                number: phone_number(&mut rng),
                bound_at: minutes(now - rng.range(10 * DAY, 1500 * DAY)),
                unbound_at: if rng.chance(0.5) {
                    Unbound::Absent
                } else {
                    Unbound::Null
                },
                itinerary_checked: !rng.chance(0.015),
            });
            second_sim = Some(phones.len() - 1);
        }
    }

    // Stays: 5-40, contiguous over the last ~30 days.
    let mut n = 5 + rng.range(0, 15) + rng.range(0, 15);
    if rng.chance(0.1) {
        n += rng.range(0, 5);
    }
    let n = n as usize;
    let start = minutes(now - 30 * DAY - rng.range(0, DAY));
    let open = rng.chance(0.4);
    let end = if open {
        minutes(now - rng.range(HOUR, DAY))
    } else {
        minutes(now - rng.range(0, 18 * HOUR))
    };
    let weights: Vec<f64> = (0..n).map(|_| 0.2 + 1.6 * rng.unit()).collect();
    let total: f64 = weights.iter().sum();
    let mut bounds = Vec::with_capacity(n + 1);
    bounds.push(start);
    let mut acc = 0.0;
    for w in &weights[..n - 1] {
        acc += w;
        let t = minutes(start + ((end - start) as f64 * acc / total) as i64);
        let previous = *bounds.last().unwrap_or(&start);
        bounds.push(t.max(previous + 10 * MINUTE));
    }
    bounds.push(end.max(*bounds.last().unwrap_or(&start) + 10 * MINUTE));

    // Where they live, and where they go.
    let (home_prefecture, home_is_beijing): (&[u32], bool) = match rng.weighted(&[720, 265, 15]) {
        0 => (BEIJING, true),
        1 => {
            if rng.chance(0.3) {
                (rng.pick(NEAR_BEIJING), false)
            } else {
                (rng.pick(ELSEWHERE), false)
            }
        }
        _ => (rng.pick(CASE_PREFECTURES), false),
    };
    let home = rng.pick(home_prefecture);
    let mut regions: Vec<u32> = (0..n)
        .map(|_| {
            if rng.chance(0.65) {
                home
            } else {
                rng.pick(home_prefecture)
            }
        })
        .collect();
    let trips = rng.weighted(&[45, 35, 15, 5]);
    for _ in 0..trips {
        let len = rng.range(1, 4) as usize;
        let len = len.min(n);
        let at = rng.below((n - len + 1) as u64) as usize;
        let destination: &[u32] = if home_is_beijing {
            match rng.weighted(&[6, 24, 70]) {
                0 => rng.pick(CASE_PREFECTURES),
                1 => rng.pick(NEAR_BEIJING),
                _ => rng.pick(ELSEWHERE),
            }
        } else {
            match rng.weighted(&[40, 4, 56]) {
                0 => BEIJING,
                1 => rng.pick(CASE_PREFECTURES),
                _ => rng.pick(ELSEWHERE),
            }
        };
        for r in &mut regions[at..at + len] {
            *r = rng.pick(destination);
        }
    }

    let unlisted = rng.chance(0.02).then(|| {
        let len = rng.range(1, 3) as usize;
        let len = len.min(n);
        (
            rng.below((n - len + 1) as u64) as usize,
            len,
            phone_number(&mut rng),
        )
    });
    let stays = (0..n)
        .map(|i| {
            let from = bounds[i];
            let phone = match (&unlisted, replaced, second_sim) {
                (Some((at, len, number)), _, _) if (*at..*at + len).contains(&i) => number.clone(),
                (_, Some((old, unbound)), _) if from < unbound => phones[old].number.clone(),
                (_, _, Some(sim)) if rng.chance(0.3) => phones[sim].number.clone(),
                _ => phones[0].number.clone(),
            };
            Stay {
                phone,
                region: regions[i],
                from,
                to: if open && i == n - 1 {
                    None
                } else {
                    Some(bounds[i + 1])
                },
            }
        })
        .collect();

    let mut tests: Vec<Test> = (0..rng.weighted(&[35, 30, 18, 10, 7]))
        .map(|_| Test {
            sampled_at: minutes(now - rng.range(HOUR, 7 * DAY)),
            result: ["negative", "pending", "positive"][rng.weighted(&[92, 6, 2])],
        })
        .collect();
    tests.sort_by_key(|t| t.sampled_at);

    let mut visits: Vec<Visit> = (0..rng.weighted(&[65, 22, 9, 4]))
        .map(|_| Visit {
            area: if rng.chance(0.08) {
                rng.pick(RISK_AREAS)
            } else {
                rng.pick(OTHER_AREAS)
            },
            at: minutes(now - rng.range(0, 21 * DAY)),
        })
        .collect();
    visits.sort_by_key(|v| v.at);

    Person {
        id: format!("P-{:06}", index + 1),
        phones,
        stays,
        tests,
        visits,
    }
}

/// Writes `s` as a JSON string.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The civil date of a day number (days since 1970-01-01), proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Writes an instant (seconds since the epoch) as RFC 3339 at `+08:00`,
/// quoted.
pub fn write_instant(out: &mut String, t: i64) {
    let local = t + OFFSET;
    let (y, m, d) = civil_from_days(local.div_euclid(DAY));
    let s = local.rem_euclid(DAY);
    let _ = write!(
        out,
        "\"{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00\"",
        s / HOUR,
        s % HOUR / MINUTE,
        s % MINUTE
    );
}

impl Person {
    /// Appends the person as one line of JSON (without the newline).
    pub fn write_json(&self, out: &mut String) {
        out.push_str("{\"id\":");
        write_json_str(out, &self.id);
        out.push_str(",\"phones\":[");
        for (i, p) in self.phones.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"number\":");
            write_json_str(out, &p.number);
            out.push_str(",\"bound_at\":");
            write_instant(out, p.bound_at);
            match p.unbound_at {
                Unbound::Absent => {}
                Unbound::Null => out.push_str(",\"unbound_at\":null"),
                Unbound::At(t) => {
                    out.push_str(",\"unbound_at\":");
                    write_instant(out, t);
                }
            }
            out.push_str(",\"itinerary_checked\":");
            out.push_str(if p.itinerary_checked { "true" } else { "false" });
            out.push('}');
        }
        out.push_str("],\"stays\":[");
        for (i, s) in self.stays.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"phone\":");
            write_json_str(out, &s.phone);
            let _ = write!(out, ",\"region\":\"{:06}\",\"from\":", s.region);
            write_instant(out, s.from);
            out.push_str(",\"to\":");
            match s.to {
                Some(t) => write_instant(out, t),
                None => out.push_str("null"),
            }
            out.push('}');
        }
        out.push(']');
        // Empty lists are left out, as most producers do.
        if !self.tests.is_empty() {
            out.push_str(",\"tests\":[");
            for (i, t) in self.tests.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"sampled_at\":");
                write_instant(out, t.sampled_at);
                out.push_str(",\"result\":");
                write_json_str(out, t.result);
                out.push('}');
            }
            out.push(']');
        }
        if !self.visits.is_empty() {
            out.push_str(",\"beijing_area_visits\":[");
            for (i, v) in self.visits.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"area\":");
                write_json_str(out, v.area);
                out.push_str(",\"at\":");
                write_instant(out, v.at);
                out.push('}');
            }
            out.push(']');
        }
        out.push('}');
    }

    /// The person as one line of JSON (without the newline).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.write_json(&mut out);
        out
    }
}

/// `n` people of the population of `seed`, as JSON Lines (each line ends
/// with a newline).
pub fn population(n: usize, seed: u64) -> String {
    let mut out = String::with_capacity(n * 2600);
    for i in 0..n {
        person(seed, i).write_json(&mut out);
        out.push('\n');
    }
    out
}

/// A typical person of the population of `seed`, as one line of JSON: the
/// first with one phone, 20 stays, 2 or 3 tests and no area visit.
pub fn typical(seed: u64) -> String {
    (0..)
        .map(|i| person(seed, i))
        .find(|p| {
            p.phones.len() == 1
                && p.stays.len() == 20
                && (2..=3).contains(&p.tests.len())
                && p.visits.is_empty()
        })
        .map(|p| p.to_json())
        .unwrap_or_default()
}

/// One person with `n` phones and `n` stays, one after the other over the
/// last 30 days (a minute each at least), each stay on one of the phones:
/// for the cost of one large record. Most stays are outside Beijing, one
/// in a hundred in a prefecture with cases.
pub fn large(n: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed ^ n as u64);
    let now = NOW_UNIX;
    let phones: Vec<Phone> = (0..n.max(1))
        .map(|i| Phone {
            number: format!("139{i:08}"),
            bound_at: minutes(now - 400 * DAY),
            unbound_at: Unbound::Null,
            itinerary_checked: true,
        })
        .collect();
    let step = minutes(30 * DAY / n.max(1) as i64).max(MINUTE);
    let start = minutes(now - 30 * DAY);
    let stays = (0..n)
        .map(|i| {
            let prefecture: &[u32] = if rng.chance(0.01) {
                rng.pick(CASE_PREFECTURES)
            } else {
                rng.pick(ELSEWHERE)
            };
            let from = start + i as i64 * step;
            Stay {
                phone: phones[i % phones.len()].number.clone(),
                region: rng.pick(prefecture),
                from,
                to: Some((from + step).min(now)),
            }
        })
        .collect();
    Person {
        id: format!("L-{n}"),
        phones,
        stays,
        tests: Vec::new(),
        visits: Vec::new(),
    }
    .to_json()
}
