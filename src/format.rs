//! `policyc fmt`: one canonical layout for policy text.
//!
//! The formatter works on tokens, so it keeps every comment and never
//! changes what the text means: only the white space between tokens is
//! rewritten. Spacing is canonical; indentation follows the nesting of
//! brackets and of rule clauses; line breaks stay where the author put them
//! (runs of blank lines become one), so that a long condition keeps the
//! shape its author gave it.

/// A token of policy text, with whether a line break came before it.
#[derive(Debug, Clone, PartialEq)]
struct Token<'a> {
    text: &'a str,
    /// Line breaks in the white space before it (0, 1, or 2 for a blank
    /// line).
    breaks: usize,
}

/// Words that start a top-level declaration.
const ITEMS: [&str; 14] = [
    "policy",
    "version",
    "timezone",
    "outcomes",
    "input",
    "facts",
    "let",
    "rule",
    "warning",
    "remedy",
    "otherwise",
    "test",
    "language",
    "messages",
];

/// Words of the language that are not names.
const KEYWORDS: [&str; 26] = [
    "when", "unless", "then", "where", "and", "or", "not", "in", "within", "overlaps", "any",
    "all", "no", "has", "is", "none", "now", "it", "true", "false", "list", "set", "of", "expect",
    "at", "rules",
];

/// Splits policy text into tokens and comments. Text the lexer does not
/// know is kept as a token of its own, so nothing is ever lost.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut breaks = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            breaks += 1;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if text[i..].starts_with('\u{3000}') {
            i += '\u{3000}'.len_utf8();
            continue;
        }
        let start = i;
        let end = match c {
            b'#' => text[i..].find('\n').map_or(text.len(), |n| i + n),
            b'"' => {
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' && bytes[j] != b'\n' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                (j + 1).min(bytes.len())
            }
            b'<' | b'>' | b'!' if bytes.get(i + 1) == Some(&b'=') => i + 2,
            _ if c.is_ascii_alphanumeric() || c == b'_' => {
                let mut j = i;
                // Words, numbers, durations, and instants like
                // 2021-11-01T10:00+08:00 (which hold `-`, `:`, `+`, `.`).
                let instant = bytes.len() > i + 4
                    && bytes[i..i + 4].iter().all(u8::is_ascii_digit)
                    && bytes[i + 4] == b'-';
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric()
                        || bytes[j] == b'_'
                        || (instant && matches!(bytes[j], b'-' | b':' | b'+'))
                        || (bytes[j] == b'.'
                            && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
                            && bytes[start].is_ascii_digit()))
                {
                    j += 1;
                }
                j
            }
            _ => i + text[i..].chars().next().map_or(1, char::len_utf8),
        };
        let token = &text[start..end];
        out.push(Token {
            // A comment's trailing white space is not part of what it says.
            text: if c == b'#' { token.trim_end() } else { token },
            breaks: breaks.min(2),
        });
        breaks = 0;
        i = end;
    }
    out
}

fn is_word(t: &str) -> bool {
    t.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether a space goes between two tokens on one line.
fn space_between(prev: &str, next: &str, unary_minus: bool) -> bool {
    if prev.starts_with('#') {
        return true;
    }
    match (prev, next) {
        (_, "," | ":" | ")" | "]" | "." | "?") => false,
        ("(" | "[" | ".", _) => false,
        ("-", _) if unary_minus => false,
        (p, "(") if is_word(p) && !KEYWORDS.contains(&p) && !ITEMS.contains(&p) => false,
        _ => true,
    }
}

/// The canonical layout of a policy's text.
pub fn format(text: &str) -> String {
    let tokens = tokens(text);
    let mut out = String::with_capacity(text.len());
    let mut depth: usize = 0;
    // The top-level item we are in, and whether we are past its first line.
    let mut item = "";
    let mut prev: Option<&str> = None;
    for tok in &tokens {
        let t = tok.text;
        let at_top = depth == 0;
        let starts_item = at_top && ITEMS.contains(&t) && !(item == "test" && depth > 0);
        let new_line =
            prev.is_some() && (tok.breaks > 0 || prev.is_some_and(|p| p.starts_with('#')));
        if new_line {
            out.push('\n');
            if tok.breaks > 1 {
                out.push('\n');
            }
            let closing = matches!(t, ")" | "]" | "}");
            let level = if closing {
                depth.saturating_sub(1)
            } else {
                depth
            };
            let extra = if level == 0 && !starts_item && !t.starts_with('#') {
                match (item, t) {
                    ("rule" | "warning", "when" | "unless" | "then") => 2,
                    (_, _) if closing => 0,
                    _ => 4,
                }
            } else {
                0
            };
            // `requiring` continues the record type above it.
            let extra = extra + if t == "requiring" { 2 } else { 0 };
            out.push_str(&" ".repeat(2 * level + extra));
        } else if let Some(p) = prev {
            if space_between(p, t, p == "-" && !was_operand_before_minus(&out)) {
                out.push(' ');
            }
        }
        out.push_str(t);
        if starts_item {
            item = t;
        }
        match t {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = Some(t);
    }
    out.push('\n');
    out
}

/// Whether the `-` just written follows an operand (so it is a binary
/// minus): what precedes it in the output, ignoring spaces.
fn was_operand_before_minus(out: &str) -> bool {
    let before = out.trim_end().strip_suffix('-').unwrap_or("").trim_end();
    let last = before.split_whitespace().last().unwrap_or("");
    let last_char = before.chars().last();
    match last_char {
        Some(')' | ']' | '}' | '"') => true,
        Some(c) if c.is_alphanumeric() || c == '_' => {
            !KEYWORDS.contains(&last) && !ITEMS.contains(&last)
        }
        _ => false,
    }
}
