//! `policyc fmt`: canonical, idempotent, keeps every comment, never changes
//! meaning, on every corpus file and shipped policy, and on versions of them
//! with their white space mangled.

use std::path::{Path, PathBuf};

#[path = "support/bin.rs"]
mod bin;

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

/// Checks that every line inside an open bracket is indented deeper than
/// the line that opened the bracket, and that a line starting with the
/// closing bracket is indented like it; the number of the first line that
/// is not.
fn deeper_inside_brackets(text: &str) -> Result<(), usize> {
    let mut open: Vec<usize> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if let Some(&opener) = open.last()
            && !body.is_empty()
        {
            let closing = body.starts_with([')', ']', '}']);
            if (closing && indent != opener) || (!closing && indent <= opener) {
                return Err(n + 1);
            }
        }
        let mut in_string = false;
        let mut escaped = false;
        for c in body.chars() {
            match c {
                '\\' if in_string => escaped = !escaped,
                '"' if !escaped => in_string = !in_string,
                '#' if !in_string => break,
                '(' | '[' | '{' if !in_string => open.push(indent),
                ')' | ']' | '}' if !in_string => {
                    open.pop();
                }
                _ => escaped = false,
            }
        }
    }
    Ok(())
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

/// Whether a line ends in a comment after some code.
fn has_trailing_comment(line: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            '\\' if in_string => escaped = !escaped,
            '"' if !escaped => in_string = !in_string,
            '#' if !in_string => return !line[..i].trim().is_empty(),
            _ => escaped = false,
        }
    }
    false
}

/// The text with every run of white space between tokens replaced by
/// another of the same kind: spaces and tabs by spaces and tabs, line breaks
/// by as many line breaks (a blank line by one or more), with any
/// indentation. Strings and comments are left alone, and so are lines that
/// end in a comment: the column of an aligned comment is the author's.
fn mangle(text: &str, rng: &mut Rng) -> String {
    let trailing: Vec<bool> = text.split('\n').map(has_trailing_comment).collect();
    let kept = |line: usize| trailing.get(line).copied().unwrap_or(false);
    let mut line = 0;
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                let mut escaped = false;
                for d in chars.by_ref() {
                    out.push(d);
                    line += usize::from(d == '\n');
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
                let breaks = run.matches('\n').count();
                line += breaks;
                if kept(line) && breaks == 0 {
                    out.push_str(&run);
                    continue;
                }
                let lines = if breaks > 1 {
                    2 + rng.below(3) as usize
                } else {
                    breaks
                };
                for _ in 0..lines {
                    out.extend(std::iter::repeat_n(' ', rng.below(3) as usize));
                    out.push('\n');
                }
                if kept(line) {
                    out.push_str(run.rsplit('\n').next().unwrap_or(""));
                    continue;
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
        if let Err(line) = deeper_inside_brackets(&canonical) {
            unreachable!("{name}: line {line} is not indented deeper than its bracket's line");
        }
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
        match policyc::syntax::parse(&text) {
            Ok(ast) => assert_eq!(
                policyc::syntax::parse(&canonical).ok(),
                Some(ast),
                "{name}: meaning changed"
            ),
            Err(_) => assert!(
                policyc::format::format_policy(&name.to_string(), &text).is_err(),
                "{name}: does not parse, so it is not formatted"
            ),
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

/// Each layout rule, on a file of its own: the text `fmt` writes.
#[test]
fn each_layout_rule() {
    insta::glob!("corpus/fmt/*.policy", |path| {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        // So that the test above sees that the meaning is kept.
        assert!(
            policyc::syntax::parse(&text).is_ok(),
            "{}: does not parse",
            path.display()
        );
        insta::assert_snapshot!(policyc::format::format(&text));
    });
}

/// A file that does not parse is left as it is: `fmt` and `fmt --check`
/// show its syntax error and exit 1.
#[test]
fn a_file_that_does_not_parse_is_not_rewritten() {
    let dir = std::env::temp_dir().join(format!("policyc-fmt-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let text = "policy broken\noutcomes green<popup\n@@\n";
    let path = dir.join("broken.policy");
    for check in [false, true] {
        let _ = std::fs::write(&path, text);
        let mut args = vec!["fmt", "broken.policy"];
        if check {
            args.push("--check");
        }
        let o = bin::policyc_in(&dir, &args, "");
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(std::fs::read_to_string(&path).ok().as_deref(), Some(text));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "", "{args:?}");
        insta::assert_snapshot!(
            "does-not-parse",
            String::from_utf8_lossy(&o.stderr).into_owned()
        );
    }
}

/// The library refuses to format what does not parse, and formats what does.
#[test]
fn format_policy_refuses_what_does_not_parse() {
    assert!(policyc::format::format_policy("x.policy", "policy p\n@@\n").is_err());
    let formatted = policyc::format::format_policy("x.policy", "policy p  outcomes green");
    assert_eq!(formatted.ok().as_deref(), Some("policy p outcomes green\n"));
}
