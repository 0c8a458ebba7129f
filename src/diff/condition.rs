//! `--fail-if`: a condition on a diff's counts that refuses a change,
//! `green->popup > 1000`, `*->popup >= 5%`, `changed > 0.5%`, `errors > 0`.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use super::report::{Checked, Report, share};

/// What a condition counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `OLD->NEW`: the people decided under both with old outcome `OLD`
    /// and new outcome `NEW` (`None`: `*`, any).
    Transition(Option<String>, Option<String>),
    /// `changed`: the people whose outcome or deciding rule changed.
    Changed,
    /// `errors`: the records not decided under one version or both.
    Errors,
}

/// How the count is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>`
    Above,
    /// `>=`
    AtLeast,
    /// `<`
    Below,
    /// `<=`
    AtMost,
}

/// A `--fail-if` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// As written.
    pub text: String,
    /// What it counts.
    pub subject: Subject,
    /// How.
    pub comparison: Comparison,
    /// The bound: a number of people, or (`percent`) a share in percent
    /// of the people decided under both.
    pub bound: f64,
    /// Whether the bound is a share.
    pub percent: bool,
}

/// A `--fail-if` condition that cannot be read.
#[derive(Debug, Error, Diagnostic)]
pub enum ConditionError {
    /// It is not in the shape of a condition.
    #[error("`{text}` is not a condition: {reason}")]
    #[diagnostic(
        code(policy::diff::condition),
        help(
            "write `OLD->NEW > COUNT` or `OLD->NEW > SHARE%` (outcomes, or `*` for any), `changed > ...` or `errors > ...`, with `>`, `>=`, `<` or `<=`: `green->popup > 1000`, `*->popup >= 5%`"
        )
    )]
    Malformed {
        /// The condition as written.
        text: String,
        /// What is wrong.
        reason: String,
        /// The condition, for the snippet.
        #[source_code]
        snippet: String,
        /// Where.
        #[label("{reason}")]
        at: SourceSpan,
    },
    /// It names an outcome the version does not have.
    #[error("`{name}` is not an outcome of the {version} policy")]
    #[diagnostic(code(policy::diff::unknown_outcome), help("{help}"))]
    UnknownOutcome {
        /// The name.
        name: String,
        /// `old` or `new`.
        version: &'static str,
        /// What to write instead.
        help: String,
        /// The condition, for the snippet.
        #[source_code]
        snippet: String,
        /// Where.
        #[label("not an outcome of the {version} policy")]
        at: SourceSpan,
    },
}

impl Condition {
    /// Reads a condition; `old` and `new` are the outcomes of the two
    /// versions, which a transition's names must be.
    pub fn parse(text: &str, old: &[String], new: &[String]) -> Result<Condition, ConditionError> {
        let source = || text.to_owned();
        let malformed = |at: (usize, usize), reason: &str| ConditionError::Malformed {
            text: text.to_owned(),
            reason: reason.to_owned(),
            snippet: source(),
            at: at.into(),
        };
        // The first `>` or `<` that is not the arrow's head.
        let op = text
            .char_indices()
            .find(|&(i, c)| matches!(c, '>' | '<') && !text[..i].ends_with('-'))
            .map(|(i, _)| i);
        let Some(op_at) = op else {
            return Err(malformed((0, text.len()), "it has no comparison"));
        };
        let (subject, rest) = text.split_at(op_at);
        let (comparison, width) = match rest.as_bytes() {
            [b'>', b'=', ..] => (Comparison::AtLeast, 2),
            [b'<', b'=', ..] => (Comparison::AtMost, 2),
            [b'>', ..] => (Comparison::Above, 1),
            _ => (Comparison::Below, 1),
        };
        let bound_text = &rest[width..];
        let bound_at = op_at + width + (bound_text.len() - bound_text.trim_start().len());
        let bound_text = bound_text.trim();
        let (number, percent) = match bound_text.strip_suffix('%') {
            Some(n) => (n.trim_end(), true),
            None => (bound_text, false),
        };
        let bound = number
            .parse::<f64>()
            .ok()
            .filter(|b| b.is_finite() && *b >= 0.0 && !number.starts_with('+'))
            .ok_or_else(|| {
                malformed(
                    (bound_at.min(text.len()), bound_text.len()),
                    "the bound is not a count like `1000` or a share like `5%`",
                )
            })?;
        if !percent && bound.fract() != 0.0 {
            return Err(malformed(
                (bound_at, bound_text.len()),
                "a count of people is a whole number; a share ends in `%`",
            ));
        }
        let lead = subject.len() - subject.trim_start().len();
        let trimmed = subject.trim();
        let subject = match trimmed {
            "changed" => Subject::Changed,
            "errors" => Subject::Errors,
            _ => {
                let Some((a, b)) = trimmed.split_once("->") else {
                    return Err(malformed(
                        (lead, trimmed.len()),
                        "expected `OLD->NEW`, `changed` or `errors` before the comparison",
                    ));
                };
                let side = |name: &str, start: usize, outcomes: &[String], version| {
                    let name = name.trim();
                    let at = (start, name.len().max(1));
                    if name == "*" {
                        return Ok(None);
                    }
                    if name.is_empty() {
                        return Err(malformed(at, "an outcome, or `*`, is missing"));
                    }
                    if outcomes.iter().any(|o| o == name) {
                        return Ok(Some(name.to_owned()));
                    }
                    let list = outcomes
                        .iter()
                        .map(|o| format!("`{o}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let help = match crate::suggest::did_you_mean(
                        name,
                        outcomes.iter().map(String::as_str),
                    ) {
                        Some(near) => format!(
                            "did you mean `{near}`? The {version} policy's outcomes are {list}, or `*` for any"
                        ),
                        None => {
                            format!("the {version} policy's outcomes are {list}, or `*` for any")
                        }
                    };
                    Err(ConditionError::UnknownOutcome {
                        name: name.to_owned(),
                        version,
                        help,
                        snippet: source(),
                        at: at.into(),
                    })
                };
                let a_at = lead + (a.len() - a.trim_start().len());
                let b_start = lead + a.len() + 2;
                let b_at = b_start + (b.len() - b.trim_start().len());
                Subject::Transition(side(a, a_at, old, "old")?, side(b, b_at, new, "new")?)
            }
        };
        Ok(Condition {
            text: text.to_owned(),
            subject,
            comparison,
            bound,
            percent,
        })
    }

    /// The condition's count, share and whether it holds, on `report`.
    pub fn check(&self, report: &Report) -> Checked {
        let count = match &self.subject {
            Subject::Changed => report.changed,
            Subject::Errors => {
                let e = &report.errors;
                e.old_only + e.new_only + e.both
            }
            Subject::Transition(a, b) => {
                let m = &report.outcomes;
                let fits = |names: &[String], i: usize, want: &Option<String>| {
                    want.as_ref().is_none_or(|w| names.get(i) == Some(w))
                };
                m.counts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| fits(&m.old, *i, a))
                    .flat_map(|(_, row)| {
                        row.iter()
                            .enumerate()
                            .filter(|(j, _)| fits(&m.new, *j, b))
                            .map(|(_, n)| *n)
                    })
                    .sum()
            }
        };
        let share = share(count, report.decided);
        let value = if self.percent {
            share * 100.0
        } else {
            count as f64
        };
        let holds = match self.comparison {
            Comparison::Above => value > self.bound,
            Comparison::AtLeast => value >= self.bound,
            Comparison::Below => value < self.bound,
            Comparison::AtMost => value <= self.bound,
        };
        Checked {
            condition: self.text.clone(),
            count,
            share,
            holds,
        }
    }
}
