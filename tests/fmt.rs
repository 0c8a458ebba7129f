//! `policyc fmt`: canonical, idempotent, keeps every comment, never changes
//! meaning, on every corpus file and shipped policy, and on versions of them
//! with their white space mangled.

use std::path::{Path, PathBuf};

fn files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                walk(&e, out);
            } else if e.extension().is_some_and(|x| x == "policy") {
                out.push(e);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    walk(&root.join("policies"), &mut out);
    walk(&root.join("tests/corpus"), &mut out);
    out
}

/// A seeded generator, to mangle white space reproducibly.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The text with every run of white space between tokens replaced by
/// another of the same kind: spaces and tabs by spaces and tabs, line breaks
/// by as many line breaks (a blank line by one or more), with any
/// indentation. Strings and comments are left alone.
fn mangle(text: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                let mut escaped = false;
                for d in chars.by_ref() {
                    out.push(d);
                    match d {
                        '\\' => escaped = !escaped,
                        '"' | '\n' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            '#' => {
                out.push(c);
                while let Some(&d) = chars.peek() {
                    if d == '\n' {
                        break;
                    }
                    out.push(d);
                    chars.next();
                }
            }
            ' ' | '\t' | '\n' => {
                let mut run = String::from(c);
                while let Some(&d) = chars.peek() {
                    if !matches!(d, ' ' | '\t' | '\n') {
                        break;
                    }
                    run.push(d);
                    chars.next();
                }
                let lines = run.matches('\n').count();
                let lines = if lines > 1 {
                    2 + rng.below(3) as usize
                } else {
                    lines
                };
                for _ in 0..lines {
                    out.extend(std::iter::repeat_n(' ', rng.below(3) as usize));
                    out.push('\n');
                }
                let pad = 1 + rng.below(5) as usize;
                out.extend((0..pad).map(|_| if rng.below(4) == 0 { '\t' } else { ' ' }));
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn formatting_is_canonical_idempotent_and_meaning_preserving() {
    let mut rng = Rng(7);
    let files = files();
    assert!(files.len() > 20);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let canonical = policyc::format::format(&text);
        let name = path.display();
        assert_eq!(
            policyc::format::format(&canonical),
            canonical,
            "{name}: not idempotent"
        );
        let comments = |t: &str| {
            t.lines()
                .filter_map(|l| l.find('#').map(|i| l[i..].trim_end().to_owned()))
                .count()
        };
        assert_eq!(
            comments(&canonical),
            comments(&text),
            "{name}: a comment was lost"
        );
        if let Ok(ast) = policyc::syntax::parse(&text) {
            assert_eq!(
                policyc::syntax::parse(&canonical).ok(),
                Some(ast),
                "{name}: meaning changed"
            );
        }
        for _ in 0..5 {
            let mangled = mangle(&text, &mut rng);
            let again = policyc::format::format(&mangled);
            if again != canonical {
                let diff: Vec<String> = again
                    .lines()
                    .zip(canonical.lines())
                    .filter(|(a, b)| a != b)
                    .take(3)
                    .map(|(a, b)| format!("got  {a:?}\nwant {b:?}"))
                    .collect();
                unreachable!(
                    "{name}: mangled text formats differently:\n{}",
                    diff.join("\n")
                );
            }
        }
    }
}

#[test]
fn a_messy_policy_formats_canonically() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/fmt/messy.policy");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    insta::assert_snapshot!(policyc::format::format(&text));
}
