//! No input panics: thousands of mangled policies and person records, made
//! by a seeded generator, each either works or is refused with an error.

use policyc::Policy;

const POLICY: &str = include_str!("../policies/beijing-2021-10-30.policy");
const FACTS: &str = include_str!("../examples/beijing/facts.json");
const PEOPLE: &str = include_str!("../examples/beijing/people.jsonl");

/// splitmix64: small, seeded, good enough to mangle text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces worth splicing in: the language's own words and symbols, JSON's,
/// and characters that trouble parsers.
const PIECES: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    "?",
    "=",
    "<",
    ">=",
    "!=",
    "+",
    "-",
    "*",
    "/",
    " and ",
    " or ",
    " not ",
    " in ",
    " not in ",
    " within ",
    " overlaps ",
    " where ",
    " has ",
    " any ",
    " all ",
    " no ",
    " is none",
    " is not none",
    " now",
    " it",
    " true",
    " 0",
    " 1.5",
    " 14d",
    " 99999999999999999999",
    " 2021-02-30",
    " 2021-11-01T10:00+08:00",
    "\"",
    "\"x\"",
    "\\u{0}",
    "#",
    "\n",
    " rule r when true then popup ",
    " let x = ",
    " otherwise green ",
    " province \"110000\"",
    " county \"999999\"",
    " count(",
    " prefecture(",
    "京",
    "\u{3000}",
    " person.stays",
    " person",
    " outside",
    " recent_stays",
    "null",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\ud83d",
    "\\x",
    "01",
    "-",
    "1e5",
    "1e999",
    "-0.5",
    "\\\"",
    "\t",
    "\u{1}",
    "{\"a\":[]}",
    ":",
];

fn mangle(text: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(chars.len() + 1).min(chars.len());
        match rng.below(4) {
            0 => {
                let end = (at + rng.below(40)).min(chars.len());
                chars.drain(at..end);
            }
            1 | 2 => {
                let piece = PIECES[rng.below(PIECES.len())];
                chars.splice(at..at, piece.chars());
            }
            _ => {
                let from = rng.below(chars.len());
                let end = (from + rng.below(60)).min(chars.len());
                let copy: Vec<char> = chars[from..end].to_vec();
                chars.splice(at..at, copy);
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mangled_policies_never_panic() {
    let mut rng = Rng(20_211_030);
    let mut compiled = 0;
    for _ in 0..3000 {
        let text = mangle(POLICY, &mut rng);
        if let Ok(p) = Policy::compile("policies/mangled.policy", &text) {
            compiled += 1;
            // A policy that checks must also decide without trouble.
            let facts = p
                .facts(FACTS)
                .unwrap_or_else(|_| policyc::Facts::empty(p.plan()));
            for line in PEOPLE.lines() {
                if let Ok(d) = p.decide_json(&facts, line, 1_635_732_000_000_000) {
                    let _ = d.to_json();
                    let _ = d.to_pretty();
                }
            }
            // And explain, in every language it speaks.
            let line = PEOPLE.lines().next().unwrap_or("{}");
            if let Ok(e) = p.explain_json(&facts, line, 1_635_732_000_000_000) {
                let languages = p
                    .program()
                    .messages
                    .iter()
                    .map(|m| Some(m.language.as_str()));
                for lang in std::iter::once(None).chain(languages) {
                    if let Ok(words) = p.words(lang) {
                        let _ = e.render(&words);
                    }
                }
            }
        } else if let Err(e) = Policy::compile("policies/mangled.policy", &text) {
            for d in &e.errors {
                let _ = policyc::render(d.as_ref(), policyc::ErrorFormat::Human { colour: false });
            }
        }
    }
    assert!(compiled > 0, "some mutations leave a valid policy");
}

#[test]
fn mangled_people_never_panic() {
    let policy =
        Policy::load("policies/beijing-2021-10-30.policy").unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let mut rng = Rng(48);
    let people: Vec<&str> = PEOPLE.lines().collect();
    let mut decided = 0;
    for _ in 0..5000 {
        let line = mangle(people[rng.below(people.len())], &mut rng);
        // The reader must agree with serde_json on what is JSON at all.
        let json = serde_json::from_str::<serde_json::Value>(&line).is_ok();
        match policy.decide_json(&facts, &line, 1_635_732_000_000_000) {
            Ok(d) => {
                assert!(json, "accepted what is not JSON: {line}");
                decided += 1;
                let _ = d.to_json();
            }
            Err(e) => {
                // Invalid JSON may meet a schema error first; valid JSON never
                // gets a syntax error.
                let syntax =
                    e.message.starts_with("not valid JSON") || policyc::data::is_incomplete(&e);
                assert!(!(syntax && json), "{e}: {line}");
            }
        }
    }
    assert!(decided > 0);
}

#[test]
fn extreme_instants_do_not_overflow() {
    let policy =
        Policy::load("policies/beijing-2021-10-30.policy").unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy.facts(FACTS).unwrap_or_else(|e| unreachable!("{e}"));
    let person = r#"{"phones": [{"number": "1", "bound_at": "9999-12-31T23:59:59Z", "unbound_at": "-009999-01-01T00:00:00Z", "itinerary_checked": true}],
        "stays": [{"phone": "1", "region": "152923", "from": "0001-01-01T00:00:00+14:00", "to": "9999-12-31T23:59:59-14:00"}],
        "tests": [{"sampled_at": "0000-01-01T00:00:00Z", "result": "negative"}]}"#;
    for now in [i64::MIN, -1, 0, i64::MAX, 253_402_300_799_000_000] {
        match policy.decide_json(&facts, person, now) {
            Ok(d) => {
                let _ = d.to_json();
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        let all = policyc::Extras {
            next_change: true,
            timeline: true,
            remedies: true,
            witnesses: true,
        };
        if let Ok(d) = policy.decide_json_with(&facts, person, now, all) {
            let _ = d.to_json();
            let _ = d.to_pretty();
        }
        for lang in [None, Some("en")] {
            let words = policy.words(lang).unwrap_or_else(|e| unreachable!("{e}"));
            if let Ok(e) = policy.explain_json(&facts, person, now) {
                let _ = e.render(&words);
            }
        }
    }
}
