//! What can be wrong with a policy's text before its meaning is looked at.

use miette::Diagnostic;
use thiserror::Error;

use super::Span;
use super::parse::Rule;

/// A syntax error, with the span it is about.
#[derive(Debug, Clone, PartialEq, Error, Diagnostic)]
pub enum SyntaxError {
    /// The parser met something it did not expect.
    #[error("unexpected {found}")]
    #[diagnostic(code(policy::syntax::unexpected))]
    Unexpected {
        /// What was found, in words.
        found: String,
        /// What would have been accepted, in words.
        #[help]
        expected: String,
        /// A short form of it for the label.
        label: String,
        /// Where.
        #[label("{label}")]
        span: Span,
    },
    /// Something written as another language would write it.
    #[error("{message}")]
    #[diagnostic(code(policy::syntax::foreign))]
    Foreign {
        /// What is wrong, in words.
        message: String,
        /// What to write instead.
        #[help]
        help: String,
        /// A short form of it for the label.
        label: String,
        /// Where.
        #[label("{label}")]
        span: Span,
    },
    /// `expect rules` with no rule after it.
    #[error("`expect rules` names no rule")]
    #[diagnostic(
        code(policy::syntax::empty_expect_rules),
        help(
            "`expect rules` lists the rules that fire, like `expect rules county_exposure`; to expect that no rule fires, write `expect rules none`"
        )
    )]
    EmptyExpectRules {
        /// The `expect rules` written.
        #[label("which rules fire?")]
        span: Span,
    },
    /// Nesting too deep to be meant.
    #[error("this expression nests too deeply")]
    #[diagnostic(
        code(policy::syntax::too_deep),
        help("split it into `let`s: each name stands for one part")
    )]
    TooDeep {
        /// Where the limit was reached.
        #[label("too deep from here on")]
        span: Span,
    },
    /// A string without its closing quote.
    #[error("this string has no closing quote")]
    #[diagnostic(
        code(policy::syntax::unterminated),
        help(
            "a string ends on the line it starts on: close it with `\"`, and write a line break as `\\n`"
        )
    )]
    Unterminated {
        /// From the opening quote to the end of the line.
        #[label("opened here")]
        span: Span,
    },
    /// A number too large to be exact.
    #[error("number `{text}` is out of range")]
    #[diagnostic(
        code(policy::syntax::number_range),
        help("numbers are written with digits and an optional decimal part, like `2` or `0.5`")
    )]
    Number {
        /// The number as written.
        text: String,
        /// Where.
        #[label("this number")]
        span: Span,
    },
    /// A duration too long to represent.
    #[error("duration `{text}` is too long")]
    #[diagnostic(
        code(policy::syntax::duration_range),
        help(
            "durations are written like `30m`, `48h` or `14d`, and must be shorter than 100000 years"
        )
    )]
    Duration {
        /// The duration as written.
        text: String,
        /// Where.
        #[label("this duration")]
        span: Span,
    },
    /// A calendar duration too long to count.
    #[error("`{text}` is too long a calendar duration")]
    #[diagnostic(
        code(policy::syntax::calendar_range),
        help(
            "calendar durations are written like `14 days`, `6 months` or `18 years`, and must be shorter than 10000 years"
        )
    )]
    Calendar {
        /// The duration as written.
        text: String,
        /// Where.
        #[label("this duration")]
        span: Span,
    },
    /// An escape in a string that stands for no character.
    #[error("`{text}` is not a character")]
    #[diagnostic(
        code(policy::syntax::escape),
        help(
            "write `\\u{{...}}` with the hexadecimal code of a Unicode character, like `\\u{{4eac}}`"
        )
    )]
    Escape {
        /// The escape as written.
        text: String,
        /// Where.
        #[label("this escape")]
        span: Span,
    },
}

/// Converts pest's error into ours, naming rules in words.
pub(super) fn from_pest(error: &pest::error::Error<Rule>, text: &str) -> SyntaxError {
    let pos = match error.location {
        pest::error::InputLocation::Pos(pos) => pos,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    // pest's only custom errors are its own limits (stack or calls): input
    // nested deeper than `parse` lets through.
    if let pest::error::ErrorVariant::CustomError { .. } = error.variant {
        return SyntaxError::TooDeep {
            span: Span::new(pos, pos + token_at(text, pos).len()),
        };
    }
    if let Some(habit) = habit(text, pos) {
        return habit;
    }
    let found_text = token_at(text, pos);
    let span = Span::new(pos, pos + found_text.len());
    let found = if found_text.is_empty() {
        "end of file".to_owned()
    } else {
        format!("`{found_text}`")
    };
    if found_text == "\"" && !closes(&text[pos + 1..]) {
        return SyntaxError::Unterminated {
            span: Span::new(
                pos,
                pos + text[pos..].find('\n').unwrap_or(text.len() - pos),
            ),
        };
    }
    let rules: Vec<Rule> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let (keywords, expected) = expected_words(&rules);
    let label = match keywords.len() {
        1..=3 => format!("expected {}", words(&keywords)),
        _ if expected.len() <= 3 => format!("expected {}", words(&expected)),
        _ => "not expected here".to_owned(),
    };
    let mut help = format!("expected {}", words(&expected));
    if expected.contains(&"a name") && is_reserved(found_text) {
        help = format!(
            "`{found_text}` is a reserved word of the language; choose another name, like `{found_text}_`"
        );
    }
    SyntaxError::Unexpected {
        found,
        expected: help,
        label,
        span,
    }
}

/// Operators of other languages, and what this one writes instead:
/// (written, message, label, help). Longest first, so that `&&` is not
/// taken for `&`.
const FOREIGN_OPERATORS: [(&str, &str, &str, &str); 5] = [
    (
        "==",
        "`==` is not an operator here",
        "write `=`",
        "write `=` to compare",
    ),
    (
        "&&",
        "`&&` is not an operator here",
        "write `and`",
        "write `and` for both conditions",
    ),
    (
        "||",
        "`||` is not an operator here",
        "write `or`",
        "write `or` for either condition",
    ),
    (
        "&",
        "`&` is not an operator here",
        "write `and`",
        "write `and` for both conditions",
    ),
    (
        "!",
        "`!` is not an operator here",
        "write `not`",
        "write `not` before a condition to negate it",
    ),
];

/// Method names of other languages, and the expression that says the same
/// here: `{0}` stands for the value, `{1}` for the argument.
const FOREIGN_METHODS: [(&str, &str); 21] = [
    ("contains", "{0} contains {1}"),
    ("startsWith", "{0} starts with {1}"),
    ("starts_with", "{0} starts with {1}"),
    ("startswith", "{0} starts with {1}"),
    ("endsWith", "{0} ends with {1}"),
    ("ends_with", "{0} ends with {1}"),
    ("endswith", "{0} ends with {1}"),
    ("toLowerCase", "lower({0})"),
    ("to_lowercase", "lower({0})"),
    ("includes", "{1} in {0}"),
    ("has", "{1} in {0}"),
    ("len", "count({0})"),
    ("length", "count({0})"),
    ("size", "count({0})"),
    ("count", "count({0})"),
    ("is_empty", "no {0}"),
    ("isEmpty", "no {0}"),
    ("empty", "no {0}"),
    ("any", "any {0}"),
    ("is_none", "{0} is none"),
    ("lower", "lower({0})"),
];

/// A habit from another language where the parser stopped at `pos`: the
/// error that says what to write instead.
fn habit(text: &str, pos: usize) -> Option<SyntaxError> {
    let rest = text.get(pos..)?;
    let before = &text[..pos];
    let foreign = |message: String, label: &str, help: String, start: usize, end: usize| {
        Some(SyntaxError::Foreign {
            message,
            help,
            label: label.to_owned(),
            span: Span::new(start, end),
        })
    };
    // `a == b`: the first `=` was taken for the comparison.
    if rest.starts_with('=') && before.ends_with('=') && !before.ends_with("!=") {
        let (message, label, help) = (
            FOREIGN_OPERATORS[0].1,
            FOREIGN_OPERATORS[0].2,
            FOREIGN_OPERATORS[0].3,
        );
        return foreign(message.into(), label, help.into(), pos - 1, pos + 1);
    }
    for (written, message, label, help) in FOREIGN_OPERATORS {
        if rest.starts_with(written) && !rest.starts_with("!=") {
            return foreign(message.into(), label, help.into(), pos, pos + written.len());
        }
    }
    if let Some(empty) = empty_expect_rules(text, pos) {
        return Some(empty);
    }
    if let Some(habit) = unicode_name(text, pos) {
        return Some(habit);
    }
    let word = token_at(text, pos);
    if word == "else" {
        return foreign(
            "`else` ends an `if`, not a rule".into(),
            "not after a rule",
            "a policy decides with rules: write `otherwise OUTCOME` for everyone no rule decides, \
             or `unless CONDITION` in a rule for its exceptions; `else` belongs in a value, \
             `if CONDITION then A else B`"
                .into(),
            pos,
            pos + word.len(),
        );
    }
    if let Some(start) = if_without_else(text, pos) {
        return foreign(
            "an `if` needs an `else`".into(),
            "this `if` has no `else`",
            "`if CONDITION then A else B` is a value, one of two: say what it is when the \
             condition does not hold, with `else B`"
                .into(),
            start,
            start + 2,
        );
    }
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return duration_habit(rest, pos);
    }
    if rest.starts_with('(') {
        return method_habit(text, pos);
    }
    None
}

/// Where the parser stopped after `if C then A` without an `else`: the
/// start of that `if` (the last one opened on the lines before `pos`).
fn if_without_else(text: &str, pos: usize) -> Option<usize> {
    let before = &text[..pos];
    let word_at = |i: usize, w: &str| {
        before[i..].starts_with(w)
            && !before[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            && !before[i + w.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    };
    let start = before
        .rmatch_indices("if")
        .map(|(i, _)| i)
        .find(|&i| word_at(i, "if"))?;
    let after = &before[start..];
    let has_then = after
        .match_indices("then")
        .any(|(i, _)| word_at(start + i, "then"));
    let has_else = after
        .match_indices("else")
        .any(|(i, _)| word_at(start + i, "else"));
    (has_then && !has_else).then_some(start)
}

/// `expect rules` with no rule after it: it says what it expects on its
/// own line.
fn empty_expect_rules(text: &str, pos: usize) -> Option<SyntaxError> {
    let before = text[..pos].trim_end();
    let rules = before.strip_suffix("rules")?;
    let expect = rules.trim_end().strip_suffix("expect")?;
    if expect.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
        return None;
    }
    Some(SyntaxError::EmptyExpectRules {
        span: Span::new(expect.len(), before.len()),
    })
}

/// A name with letters beyond ASCII (`café`, `病例`) on the line where the
/// parser stopped: names are ASCII, whatever texts and comments hold.
fn unicode_name(text: &str, pos: usize) -> Option<SyntaxError> {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let line = &text[start..end];
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' => return None,
            '"' => {
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    match c {
                        '\\' => escaped = !escaped,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            c if c.is_alphanumeric() || c == '_' => {
                let mut j = i + c.len_utf8();
                let mut foreign = !c.is_ascii();
                while let Some((k, c)) = chars.next_if(|(_, c)| c.is_alphanumeric() || *c == '_') {
                    foreign |= !c.is_ascii();
                    j = k + c.len_utf8();
                }
                if foreign {
                    let name = &line[i..j];
                    return Some(SyntaxError::Foreign {
                        message: format!("`{name}` is not a name: names are written in ASCII"),
                        help: "write names with the letters `a` to `z` and `A` to `Z`, digits and `_`; \
                               texts in quotes and comments may hold any character, and a \
                               `messages` block gives a name the words people read, like \
                               `name cafe \"café\"`"
                            .into(),
                        label: "not ASCII".into(),
                        span: Span::new(start + i, start + j),
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// `18y`, `6mo`, `1.5h`: durations the language does not write.
fn duration_habit(rest: &str, pos: usize) -> Option<SyntaxError> {
    let number = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let unit_len = rest[number..]
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len() - number);
    let (digits, unit) = (&rest[..number], &rest[number..number + unit_len]);
    if unit.is_empty() {
        return None;
    }
    let written = &rest[..number + unit_len];
    let span = Span::new(pos, pos + written.len());
    let value: f64 = digits.parse().ok()?;
    let seconds = match unit {
        "w" => 7.0 * 86_400.0,
        "d" => 86_400.0,
        "h" => 3_600.0,
        "m" => 60.0,
        "s" => 1.0,
        _ => {
            let (days, what) = match unit {
                "y" | "yr" | "yrs" | "year" | "years" => (365.0, "years"),
                "mo" | "mon" | "month" | "months" => (30.0, "months"),
                _ => {
                    return Some(SyntaxError::Foreign {
                        message: format!("`{unit}` is not a unit of duration"),
                        help: "durations are written with `w`, `d`, `h`, `m` and `s`, like `14d` or `1d12h`".into(),
                        label: "not a duration".into(),
                        span,
                    });
                }
            };
            let example = (value * days).round();
            let one = what.trim_end_matches('s');
            let help = if digits.contains('.') {
                format!(
                    "durations are written with `w`, `d`, `h`, `m` and `s`; {what} have no fixed length, \
                     so write days, like `{example}d` for {digits} × {days} days"
                )
            } else {
                let words = if digits == "1" { one } else { what };
                format!(
                    "{what} are counted on the calendar, written in words: `{digits} {words}`; \
                     an exact duration is written with `w`, `d`, `h`, `m` and `s`, like `{example}d`"
                )
            };
            return Some(SyntaxError::Foreign {
                message: format!("`{unit}` is not a unit of duration"),
                help,
                label: "not a duration".into(),
                span,
            });
        }
    };
    if !digits.contains('.') {
        return None;
    }
    let total = (value * seconds).round();
    let help = if (1.0..1e15).contains(&total) {
        format!(
            "a duration is whole numbers of its units: write `{}`",
            crate::time::format_duration(total as i64 * 1_000_000)
        )
    } else {
        "a duration is whole numbers of its units, like `1d12h`".to_owned()
    };
    Some(SyntaxError::Foreign {
        message: format!("`{written}` is not a duration"),
        help,
        label: "a fraction of a unit".into(),
        span,
    })
}

/// `x.contains("a")`, `stays.len()`: a method call, which the language has
/// not.
fn method_habit(text: &str, pos: usize) -> Option<SyntaxError> {
    let before = &text[..pos];
    let name_start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let method = &before[name_start..];
    let receiver_text = before[..name_start].strip_suffix('.')?;
    let receiver_start = receiver_text
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let receiver = &receiver_text[receiver_start..];
    if method.is_empty() || receiver.is_empty() {
        return None;
    }
    // The arguments, up to the closing bracket on the line.
    let args_text = &text[pos + 1..];
    let close = args_text.find([')', '\n']).unwrap_or(args_text.len());
    let argument = args_text[..close].trim();
    let end = pos + 1 + close + usize::from(args_text[close..].starts_with(')'));
    let help = match FOREIGN_METHODS.iter().find(|(m, _)| *m == method) {
        Some((_, form)) => format!(
            "write `{}`",
            form.replace("{0}", receiver).replace(
                "{1}",
                if argument.is_empty() {
                    "VALUE"
                } else {
                    argument
                }
            )
        ),
        None => format!(
            "the language has operators and a few functions called with their argument, like `count({receiver})`"
        ),
    };
    Some(SyntaxError::Foreign {
        message: format!("the language has no method calls like `.{method}()`"),
        help,
        label: "a method call".into(),
        span: Span::new(name_start - 1, end),
    })
}

/// Whether a string body continues to a closing quote on its line.
fn closes(rest: &str) -> bool {
    let line = rest.split('\n').next().unwrap_or("");
    let mut escaped = false;
    for c in line.chars() {
        match c {
            '"' if !escaped => return true,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
    }
    false
}

/// What the parser would have accepted, in words, most useful first: the
/// start of any expression collapses into "an expression", and the
/// operators that could continue one into "an operator".
fn expected_words(rules: &[Rule]) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut keywords = Vec::new();
    let mut starts = Vec::new();
    let mut operators = Vec::new();
    for rule in rules {
        let Some(word) = describe_rule(rule) else {
            continue;
        };
        let bucket = if is_operator(*rule) {
            &mut operators
        } else if is_expression_start(*rule) {
            &mut starts
        } else {
            &mut keywords
        };
        if !bucket.contains(&word) {
            bucket.push(word);
        }
    }
    keywords.sort_unstable();
    if starts.len() > 3 {
        starts = vec!["an expression"];
        keywords.retain(|k| *k != "a name");
    }
    starts.sort_unstable();
    let alone = keywords.is_empty() && starts.is_empty();
    if (!operators.is_empty() && !alone) || operators.len() > 3 {
        operators = vec!["an operator"];
    }
    let all = keywords
        .iter()
        .copied()
        .chain(starts)
        .chain(operators)
        .collect();
    (keywords, all)
}

/// Whether `word` is one of the language's reserved words.
fn is_reserved(word: &str) -> bool {
    use pest::Parser as _;
    super::parse::PolicyParser::parse(Rule::keyword, word).is_ok_and(|p| p.as_str() == word)
}

fn words(items: &[&str]) -> String {
    match items {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::where_op
            | Rule::where_kw
            | Rule::or_op
            | Rule::and_op
            | Rule::not_in_op
            | Rule::in_op
            | Rule::within_op
            | Rule::overlaps_op
            | Rule::starts_with_op
            | Rule::ends_with_op
            | Rule::contains_op
            | Rule::cmp_op
            | Rule::add_op
            | Rule::sub_op
            | Rule::mul_op
            | Rule::div_op
            | Rule::field_access
            | Rule::is_none
            | Rule::is_some
            | Rule::is_empty
            | Rule::is_not_empty
            | Rule::IS
    )
}

fn is_expression_start(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::expr
            | Rule::not_op
            | Rule::neg_op
            | Rule::quantifier
            | Rule::quant_kw
            | Rule::conditional
            | Rule::IF
            | Rule::extreme
            | Rule::extreme_kw
            | Rule::paren
            | Rule::bracket
            | Rule::region_lit
            | Rule::region_level
            | Rule::call
            | Rule::fn_name
            | Rule::time_lit
            | Rule::calendar_lit
            | Rule::calendar_n
            | Rule::duration_lit
            | Rule::number_lit
            | Rule::string
            | Rule::bool_lit
            | Rule::now_kw
            | Rule::it_kw
            | Rule::name
            | Rule::ident_text
    )
}

/// The token that starts at `pos`: a word, a number, or one character.
fn token_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos..).unwrap_or("");
    let word = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(rest.len(), |(i, _)| i);
    if word > 0 {
        return &rest[..word];
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

/// The words an author sees for a grammar rule; `None` hides a rule that only
/// adds noise to the list.
pub(super) fn describe_rule(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::header | Rule::POLICY => "`policy NAME \"title\"`",
        Rule::version_decl | Rule::VERSION => "`version`",
        Rule::use_decl | Rule::USE => "`use \"library.policy\"`",
        // Beside `policy` at the start: a library is the rarer file.
        Rule::library_kw => return None,
        Rule::UNTIL => "`until`",
        Rule::FROM => "`from`",
        Rule::timezone_decl | Rule::TIMEZONE => "`timezone`",
        Rule::resolving | Rule::RESOLVING => "`resolving gaps later, folds earlier`",
        Rule::resolution | Rule::local_case => "`gaps` or `folds`",
        Rule::side => "`earlier` or `later`",
        Rule::facts_expiry | Rule::EXPIRE => "`facts expire 36h after as_of`",
        Rule::AFTER => "`after`",
        Rule::AS_OF => "`as_of`",
        Rule::requiring | Rule::REQUIRING => "`requiring`",
        Rule::outcomes_decl | Rule::OUTCOMES => "`outcomes`",
        Rule::input_decl | Rule::INPUT => "`input`",
        Rule::facts_decl | Rule::FACTS => "`facts`",
        Rule::let_decl | Rule::LET => "`let`",
        Rule::rule_decl | Rule::RULE => "`rule`",
        Rule::warning_decl | Rule::WARNING => "`warning`",
        Rule::otherwise_decl | Rule::OTHERWISE => "`otherwise`",
        Rule::test_decl | Rule::TEST => "`test \"name\" { ... }`",
        Rule::test_now => "`now TIME`",
        Rule::test_facts => "`facts { ... }`",
        Rule::test_input => "the input, like `person { ... }`",
        Rule::test_expect | Rule::EXPECT => "`expect`",
        Rule::AT => "`at`",
        Rule::expect_rules | Rule::RULES => "`rules`",
        Rule::remedy_decl | Rule::REMEDY => "`remedy`",
        Rule::ADDS => "`adds`",
        Rule::language_decl | Rule::LANGUAGE => "`language`",
        Rule::messages_decl | Rule::MESSAGES => "`messages \"lang\" { ... }`",
        Rule::message
        | Rule::message_policy
        | Rule::message_named
        | Rule::message_name_kind
        | Rule::message_quoted
        | Rule::message_text_kind => {
            "a message like `rule NAME \"text\"` or `text \"...\" \"...\"`"
        }
        Rule::data_record => "a record like `{ name: \"x\" }`",
        Rule::data_field => "a field like `name: \"x\"`",
        Rule::data_list => "a list like `[1, 2]`",
        Rule::data_scalar | Rule::data_number => "a value",
        Rule::when_clause | Rule::WHEN => "`when`",
        Rule::unless_clause | Rule::UNLESS => "`unless`",
        Rule::then_clause | Rule::THEN => "`then`",
        Rule::record_type | Rule::record_shape => "a record type like `{ name: text }`",
        Rule::field_decl => "a field like `name: text`",
        Rule::type_expr | Rule::named_type => "a type like `text` or `list of time`",
        Rule::list_type | Rule::LIST => "`list of`",
        Rule::set_type | Rule::SET => "`set of`",
        Rule::OF => "`of`",
        Rule::enum_type => "a choice of strings like `\"a\" | \"b\"`",
        Rule::optional_mark => "`?`",
        Rule::outcome_call => "an outcome like `green`",
        Rule::payload => "a payload like `(kind: \"...\")`",
        Rule::payload_field | Rule::payload_name => "a payload field like `kind: \"...\"`",
        Rule::expr | Rule::quant_subject => "an expression",
        Rule::where_op | Rule::where_kw => "`where`",
        Rule::where_binder => "a name for the element, like `s has`",
        Rule::or_op => "`or`",
        Rule::and_op => "`and`",
        Rule::not_in_op => "`not in`",
        Rule::in_op => "`in`",
        Rule::within_op => "`within`",
        Rule::overlaps_op => "`overlaps`",
        Rule::starts_with_op => "`starts with`",
        Rule::ends_with_op => "`ends with`",
        Rule::contains_op => "`contains`",
        Rule::conditional | Rule::IF => "`if ... then ... else ...`",
        Rule::ELSE => "`else`",
        Rule::extreme | Rule::extreme_kw => "`latest of` or `earliest of`",
        Rule::BY => "`by`",
        Rule::cmp_op => "a comparison like `=` or `<=`",
        Rule::add_op | Rule::sub_op | Rule::mul_op | Rule::div_op => "an operator",
        Rule::not_op | Rule::NOT => "`not`",
        Rule::neg_op => "`-`",
        Rule::field_access => "`.field`",
        Rule::is_none | Rule::is_some | Rule::IS => "`is none`",
        Rule::is_empty | Rule::is_not_empty => "`is empty`",
        Rule::EMPTY => "`empty`",
        Rule::NONE => "`none`",
        Rule::quantifier | Rule::quant_kw => "`any`, `all` or `no`",
        Rule::binder => "a name for the element, like `t in`",
        Rule::HAS => "`has`",
        Rule::paren => "`(`",
        Rule::bracket => "`[`",
        Rule::call | Rule::fn_name => "a function call",
        Rule::name | Rule::ident | Rule::ident_text => "a name",
        Rule::region_lit | Rule::region_level => "a region like `province \"110000\"`",
        Rule::time_lit => "a time like `2021-11-01T10:00+08:00`",
        Rule::duration_lit | Rule::duration_unit => "a duration like `14d`",
        Rule::calendar_lit | Rule::calendar_n | Rule::calendar_unit => {
            "a calendar duration like `6 months`"
        }
        Rule::number_lit => "a number",
        Rule::string | Rule::string_body => "a string in double quotes",
        Rule::escape => "an escape like `\\n`",
        Rule::bool_lit => "`true` or `false`",
        Rule::now_kw => "`now`",
        Rule::it_kw => "`it`",
        // An optional word before a field's name: naming it would only
        // hide the name that is expected.
        // Likewise `from "key"` after a field's name and `code "..."` after a
        // rule's.
        Rule::REQUIRED
        | Rule::required_field
        | Rule::PRIVATE
        | Rule::private_field
        | Rule::field_key
        | Rule::CODE
        | Rule::rule_code
        // `effective` is one of many declarations, and the least asked for:
        // the list of what may start one leaves it out.
        | Rule::effective_decl
        | Rule::EFFECTIVE
        | Rule::policy
        | Rule::item
        | Rule::test_step
        | Rule::data
        | Rule::type_base
        | Rule::operand
        | Rule::infix
        | Rule::prefix
        | Rule::postfix
        | Rule::primary
        | Rule::ident_char
        | Rule::keyword
        | Rule::WHITESPACE
        | Rule::COMMENT => return None,
    })
}
