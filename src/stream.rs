//! Deciding a stream of people: JSON Lines, one answer per input line in
//! input order, or one JSON object over several lines.
//!
//! The work is three steps a caller may also run itself (a server, or
//! several threads deciding lines while one writes them in order):
//! [`Records`] reads the input into records, [`Decider::answer`] decides
//! one record into the text of its output line, and [`run`] writes the
//! answers in order.

use std::io::{self, BufRead, Write};

use crate::explain::Words;
use crate::{DataError, Extras, Facts, Policy};

/// What each answer is written as.
#[derive(Clone, Copy)]
pub enum Output<'a> {
    /// The decision, one compact JSON object per line.
    Json,
    /// The decision, for people.
    Pretty,
    /// The explanation, for the person the decision is about.
    Explain(&'a Words<'a>),
    /// The explanation, as one JSON object per line for programs.
    ExplainJson(&'a Words<'a>),
}

/// Decides one record at a time; shared freely (it only reads).
#[derive(Clone, Copy)]
pub struct Decider<'a> {
    policy: &'a Policy,
    facts: &'a Facts,
    now: i64,
    extras: Extras,
    output: Output<'a>,
}

/// The output for one record: its text, ending in a newline, and the error
/// if it could not be decided (then the text is its error line).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The record's first line in the input, from 1.
    pub line: usize,
    /// What to write.
    pub text: String,
    /// Why the record could not be decided.
    pub error: Option<DataError>,
}

impl<'a> Decider<'a> {
    /// Decides under `policy` with `facts` at `now`, adding the `extras`
    /// (for `Output::Json` and `Output::Pretty`) and writing `output`.
    pub fn new(
        policy: &'a Policy,
        facts: &'a Facts,
        now: i64,
        extras: Extras,
        output: Output<'a>,
    ) -> Self {
        Decider {
            policy,
            facts,
            now,
            extras,
            output,
        }
    }

    /// The output text for one person's JSON, ending in a newline.
    pub fn decide(&self, text: &str) -> Result<String, DataError> {
        if text.trim().is_empty() {
            return Err(DataError {
                message: "an empty line, not a JSON object".into(),
                line: None,
                column: None,
            });
        }
        let (policy, facts, now) = (self.policy, self.facts, self.now);
        let mut out = match self.output {
            Output::Explain(words) => policy.explain_json(facts, text, now)?.render(words),
            Output::ExplainJson(words) => policy.explain_json(facts, text, now)?.to_json(words),
            Output::Json | Output::Pretty => {
                let decision = if self.extras == Extras::default() {
                    policy.decide_json(facts, text, now)?
                } else {
                    policy.decide_json_with(facts, text, now, self.extras)?
                };
                if matches!(self.output, Output::Pretty) {
                    decision.to_pretty()
                } else {
                    decision.to_json()
                }
            }
        };
        out.push('\n');
        Ok(out)
    }

    /// The answer for the record on input line `line`.
    pub fn answer(&self, line: usize, text: &str) -> Answer {
        match self.decide(text) {
            Ok(text) => Answer {
                line,
                text,
                error: None,
            },
            Err(e) => {
                let e = e.on_line(line);
                let row = serde_json::json!({"line": line, "error": e.to_string()});
                Answer {
                    line,
                    text: format!("{row}\n"),
                    error: Some(e),
                }
            }
        }
    }
}

/// Why a stream stopped.
#[derive(Debug)]
pub enum StreamError {
    /// The input could not be read.
    Read(io::Error),
    /// The output could not be written.
    Write(io::Error),
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// The records answered.
    pub records: usize,
    /// Those that could not be decided.
    pub bad: usize,
}

/// Decides every person of `input` and writes the answers to `out` in
/// order; `report` hears of each record that could not be decided, in
/// order, after its error line is written.
pub fn run(
    decider: &Decider<'_>,
    mut input: impl BufRead,
    mut out: impl Write,
    mut report: impl FnMut(&DataError),
) -> Result<Summary, StreamError> {
    let mut summary = Summary::default();
    let mut write = |out: &mut dyn Write, answer: Answer| -> Result<(), StreamError> {
        summary.records += 1;
        out.write_all(answer.text.as_bytes())
            .map_err(StreamError::Write)?;
        if let Some(e) = &answer.error {
            summary.bad += 1;
            report(e);
        }
        Ok(())
    };
    let mut line = String::new();
    let mut number = 0;
    loop {
        // Flush before waiting for more input, so a pipe sees each answer.
        if input.fill_buf().map(|b| b.is_empty()).unwrap_or(true) {
            out.flush().map_err(StreamError::Write)?;
        }
        line.clear();
        if input.read_line(&mut line).map_err(StreamError::Read)? == 0 {
            break;
        }
        number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        let answer = decider.answer(number, text);
        if number == 1 && matches!(&answer.error, Some(e) if crate::data::is_incomplete(e)) {
            // Perhaps one object over several lines: read it all.
            let mut text = std::mem::take(&mut line);
            input.read_to_string(&mut text).map_err(StreamError::Read)?;
            if !looks_like_json_lines(&text) {
                write(&mut out, decider.answer(1, &text))?;
                break;
            }
            // JSON Lines after all, whose first line is cut short.
            for (i, l) in text.lines().enumerate() {
                write(&mut out, decider.answer(i + 1, l))?;
            }
            break;
        }
        write(&mut out, answer)?;
    }
    out.flush().map_err(StreamError::Write)?;
    Ok(summary)
}

/// Whether a text that is not one JSON object is JSON Lines: several lines,
/// each an object starting at the line's first column (a pretty-printed
/// object has lines that do not).
fn looks_like_json_lines(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    lines.clone().count() > 1 && lines.all(|l| l.starts_with('{'))
}
