//! `policyc fmt`: one canonical layout for policy text.
//!
//! The formatter works on tokens, so it keeps every comment and never
//! changes what the text means: only the white space between tokens is
//! rewritten. Spacing is canonical (a subtraction is spaced, a sign is
//! not); indentation follows rule clauses, and the lines inside a bracket go
//! deeper than the line that opened it; line breaks stay where the author
//! put them (runs of blank lines become one), so that a long condition keeps
//! the shape its author gave it; trailing comments aligned in a column stay
//! aligned.

use crate::source::{Located, Source};
use crate::syntax::{self, SyntaxError};

/// The canonical layout of a policy, if it parses; if it does not, its
/// syntax error, to be shown instead of rewriting text whose tokens may not
/// be what its author meant (`@@` is not two `@`s to be spaced).
pub fn format_policy(name: &str, text: &str) -> Result<String, Box<Located<SyntaxError>>> {
    match syntax::parse(text) {
        Ok(_) => Ok(format(text)),
        Err(e) => Err(Box::new(Located::new(e, &Source::new(name, text)))),
    }
}

/// A token of policy text, with whether a line break came before it.
#[derive(Debug, Clone, PartialEq)]
struct Token<'a> {
    text: &'a str,
    /// Line breaks in the white space before it (0, 1, or 2 for a blank
    /// line).
    breaks: usize,
    /// A comment's column in the input, in display cells from the start of
    /// its line: where an aligned comment was put.
    column: usize,
}

/// Words that start a top-level declaration.
const ITEMS: [&str; 16] = [
    "policy",
    "use",
    "version",
    "effective",
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
const KEYWORDS: [&str; 31] = [
    "if", "else", "by", "with", "contains", "when", "unless", "then", "where", "and", "or", "not",
    "in", "within", "overlaps", "any", "all", "no", "has", "is", "none", "now", "it", "true",
    "false", "list", "set", "of", "expect", "at", "rules",
];

/// Splits policy text into tokens and comments. Text the lexer does not
/// know is kept as a token of its own, so nothing is ever lost.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut breaks = 0;
    let mut line_start = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            breaks += 1;
            line_start = i + 1;
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
            // Only a comment's column is wanted: measuring every token's
            // would be quadratic in the length of a line.
            column: if c == b'#' {
                width(&text[line_start..start])
            } else {
                0
            },
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

/// One line of output: its code, indented, and the comment that ends it,
/// if any, with the column it had in the input.
struct Line<'a> {
    blank_before: bool,
    code: String,
    comment: Option<(&'a str, usize)>,
}

/// The canonical layout of a policy's text. The text should parse (see
/// [`format_policy`]): text that does not is spaced as well as its tokens
/// allow.
pub fn format(text: &str) -> String {
    let tokens = tokens(text);
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut line = Line {
        blank_before: false,
        code: String::new(),
        comment: None,
    };
    // The open brackets, innermost last: each with the indentation of the
    // line that opened it, which the lines inside go deeper than.
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut indent = 0;
    // The top-level item we are in.
    let mut item = "";
    // The `if`s open in it, each until its `else`: a `then` among them is
    // an `if`'s, not a rule's.
    let mut ifs = 0usize;
    let mut prev: Option<&str> = None;
    // The last token that is not a comment, and whether the last `-` was a
    // sign rather than a subtraction.
    let mut code: Option<&str> = None;
    let mut sign = false;
    for (i, tok) in tokens.iter().enumerate() {
        let t = tok.text;
        // A word the grammar does not reserve (`test`, `remedy`) may be a
        // name (`let test = ...`): it starts an item only before the
        // string every such item begins with.
        // `library`, unreserved too, starts a library's header: the
        // first word of the file.
        let starts_item = (open.is_empty()
            && ITEMS.contains(&t)
            && (!UNRESERVED.contains(&t)
                || (tokens[i + 1..].iter())
                    .find(|next| !next.text.starts_with('#'))
                    .is_some_and(|next| next.text.starts_with('"'))))
            || (t == "library" && code.is_none());
        let new_line = match prev {
            None => true,
            Some(p) => tok.breaks > 0 || p.starts_with('#'),
        };
        if new_line {
            let closing = matches!(t, ")" | "]" | "}");
            indent = match open.last() {
                Some((_, opener)) if closing => *opener,
                // `requiring` continues the record type above it.
                Some((_, opener)) if t == "requiring" => opener + 4,
                Some((_, opener)) => opener + 2,
                None if starts_item || t.starts_with('#') || prev.is_none() => 0,
                None => match (item, t) {
                    ("rule" | "warning", "when" | "unless" | "then") if t != "then" || ifs == 0 => {
                        2
                    }
                    _ if closing => 0,
                    _ => 4,
                },
            };
            let next = Line {
                blank_before: tok.breaks > 1 && prev.is_some(),
                code: " ".repeat(indent),
                comment: None,
            };
            if prev.is_some() {
                lines.push(std::mem::replace(&mut line, next));
            } else {
                line = next;
            }
        }
        if t.starts_with('#') && !new_line {
            line.comment = Some((t, tok.column));
        } else {
            if let Some(p) = prev.filter(|_| !new_line)
                && space_between(p, t, p == "-" && sign)
            {
                line.code.push(' ');
            }
            if t == "-" {
                sign = in_data(&open) || !code.is_some_and(ends_operand);
            }
            line.code.push_str(t);
        }
        if starts_item {
            item = t;
            ifs = 0;
        }
        match t {
            "if" => ifs += 1,
            "else" => ifs = ifs.saturating_sub(1),
            _ => {}
        }
        match t {
            "(" | "[" | "{" => open.push((t, indent)),
            ")" | "]" | "}" => {
                open.pop();
            }
            _ => {}
        }
        prev = Some(t);
        if !t.starts_with('#') {
            code = Some(t);
        }
    }
    if prev.is_some() {
        lines.push(line);
    }
    render(&lines)
}

/// Whether a `-` here can only be a sign: in test and remedy data (inside
/// `{ ... }`, not in a payload's parentheses), which has no subtraction.
fn in_data(open: &[(&str, usize)]) -> bool {
    open.iter()
        .rev()
        .find(|(b, _)| *b != "[")
        .is_some_and(|(b, _)| *b == "{")
}

/// Words of [`ITEMS`] and [`KEYWORDS`] that the grammar does not reserve:
/// outside test blocks they may be names (a record may have a field `at`).
const UNRESERVED: [&str; 11] = [
    "use", "test", "remedy", "language", "messages", "expect", "at", "rules", "by", "with",
    "contains",
];

/// Whether a token ends an operand, so that a `-` after it subtracts: a
/// literal, a closing bracket, a name, or one of the reserved words that
/// are values (`now`, `it`, `none`, `true`, `false`).
fn ends_operand(t: &str) -> bool {
    match t.chars().last() {
        Some(')' | ']' | '}' | '"') => true,
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let reserved =
                (KEYWORDS.contains(&t) || ITEMS.contains(&t)) && !UNRESERVED.contains(&t);
            !reserved || matches!(t, "now" | "it" | "none" | "true" | "false")
        }
        _ => false,
    }
}

/// The lines as text. Trailing comments of consecutive lines that the input
/// aligned at one column stay aligned: at that column while the code fits
/// before it, else one space after the longest line's code. A comment
/// aligned with no other gets one space.
fn render(lines: &[Line<'_>]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((_, column)) = lines[i].comment else {
            write_line(&mut out, &lines[i], None);
            i += 1;
            continue;
        };
        let run = lines[i..]
            .iter()
            .enumerate()
            .take_while(|(k, l)| {
                l.comment.is_some_and(|(_, c)| c == column) && (*k == 0 || !l.blank_before)
            })
            .count();
        let group = &lines[i..i + run];
        let at = if run > 1 {
            let widest = group.iter().map(|l| width(&l.code)).max().unwrap_or(0);
            Some(column.max(widest + 1))
        } else {
            None
        };
        for line in group {
            write_line(&mut out, line, at);
        }
        i += run;
    }
    out
}

fn write_line(out: &mut String, line: &Line<'_>, at: Option<usize>) {
    if line.blank_before {
        out.push('\n');
    }
    out.push_str(&line.code);
    if let Some((comment, _)) = line.comment {
        let pad = at.map_or(1, |at| at.saturating_sub(width(&line.code)).max(1));
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(comment);
    }
    out.push('\n');
}

/// The width of `text` in display cells: most Chinese characters take two.
fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn a_subtraction_is_spaced_and_a_sign_is_not() {
        let out = format("policy p let a = now -x let b = (1)-2 let c = it - -3 let d = none-1");
        assert_eq!(
            out,
            "policy p let a = now - x let b = (1) - 2 let c = it - -3 let d = none - 1\n"
        );
        // `at` and `test` are names outside test blocks.
        assert_eq!(
            format("let x = any v has at -1h < test-1"),
            "let x = any v has at - 1h < test - 1\n"
        );
        assert_eq!(
            format("test \"t\" { person { a: [1 -2, - 3] } expect p(x: 1-2) }"),
            "test \"t\" { person { a: [1 -2, -3] } expect p(x: 1 - 2) }\n"
        );
    }

    #[test]
    fn a_let_named_test_does_not_start_a_test_block() {
        let text = "let test = first(person.tests)\nrule r\nwhen test is not none and test.x > 1\nthen b\n";
        assert_eq!(
            format(text),
            "let test = first(person.tests)\nrule r\n  when test is not none and test.x > 1\n  then b\n"
        );
        // Before its name, `test` still starts one.
        let block = "rule r when a then b\ntest \"t\" { now 2021-01-01T00:00Z }\n";
        assert_eq!(format(block), block);
    }

    #[test]
    fn a_library_header_and_its_uses_start_items() {
        let text =
            "# shared\n    library common\n  use \"base.policy\"\nlet use = 1\nlet x = use\n";
        assert_eq!(
            format(text),
            "# shared\nlibrary common\nuse \"base.policy\"\nlet use = 1\nlet x = use\n"
        );
        // Later in the text, `library` is a name.
        let later = "let x = y\n    library\n";
        assert_eq!(format(later), "let x = y\n    library\n");
    }

    #[test]
    fn lines_in_a_bracket_go_deeper_than_its_line() {
        let out = format("rule r\nwhen any x has (\na\nor b\n)\nthen p(k: 1,\nm: 2)");
        assert_eq!(
            out,
            "rule r\n  when any x has (\n    a\n    or b\n  )\n  then p(k: 1,\n    m: 2)\n"
        );
    }

    #[test]
    fn aligned_comments_stay_aligned() {
        // At their column while the code fits, …
        let kept = "let a = 1      # one\nlet bb = 2     # two\n";
        assert_eq!(format(kept), kept);
        // … else one space after the widest line; a lone comment gets one.
        let wide = "let a=1 # one\nlet bbbbbbbb=2 # two\nlet c = 3     # three\n";
        assert_eq!(
            format("let a=1         # one\nlet bbbbbbbb=2  # two\n\nlet c = 3       # three\n"),
            "let a = 1        # one\nlet bbbbbbbb = 2 # two\n\nlet c = 3 # three\n"
        );
        assert_eq!(
            format(wide),
            "let a = 1 # one\nlet bbbbbbbb = 2 # two\nlet c = 3 # three\n"
        );
    }
}
