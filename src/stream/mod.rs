//! Deciding a stream of people: JSON Lines, one answer per input line in
//! input order, or one JSON object over several lines.
//!
//! The work is three steps a caller may also run itself (a server, or
//! several threads deciding records while one writes them in order):
//! [`Records`] reads the input as bytes into records, [`Decider::answer`]
//! decides one record into the text of its output line, and [`run`] writes
//! the answers in order. With [`Options::jobs`] above 1, [`run`] decides on
//! that many threads and still writes the answers, and reports the errors,
//! in input order.
//!
//! No line stops the stream: a line that is not UTF-8, is longer than the
//! limit, or is not a person gets its error line `{"line": N, "error":
//! "..."}` and the next line is read. Memory stays bounded by the limit;
//! only an input whose line has no end within 16 times the limit
//! (`/dev/zero`) is read no further.

mod parallel;
mod records;

use std::io::{self, BufRead, Write};
use std::num::NonZeroUsize;

pub(crate) use parallel::{Sink, Work, pool};
pub use records::{Body, MAX_LINE_BYTES, Record, Records};

use crate::data::Decoded;
use crate::decision::NextChange;
use crate::explain::Words;
use crate::{DataError, Decision, Extras, Facts, Policy};

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
    hook: Option<&'a Hook<'a>>,
    /// The versions `policy` is one of, with each one's facts: a decision's
    /// `next_change` then looks past the version in force.
    versions: Option<(&'a crate::versions::Versions, &'a [Facts])>,
}

/// What [`Decider::with_hook`] calls for each decision: with the decision,
/// the record's text and the output, as [`Decider::decide_then`] calls its
/// `add`; shared by the threads that decide.
pub type Hook<'h> = dyn Fn(&Decision<'_>, &str, &mut String) + Sync + 'h;

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
            hook: None,
            versions: None,
        }
    }

    /// The policy it decides under.
    pub fn policy(&self) -> &'a Policy {
        self.policy
    }

    /// The same, deciding by the version of `versions` in force at `now`
    /// (`policy` should be it), and giving in `next_change` a change
    /// caused by a later version taking effect; `facts` holds each
    /// version's facts, in the order of [`crate::versions::Versions::all`].
    pub fn with_versions(
        self,
        versions: &'a crate::versions::Versions,
        facts: &'a [Facts],
    ) -> Self {
        Decider {
            versions: Some((versions, facts)),
            ..self
        }
    }

    /// The same decider, calling `hook` for each decision it makes through
    /// [`Decider::decide`], [`Decider::answer`] and [`run`] (on every
    /// thread): how the service stamps and logs each line of a batch.
    pub fn with_hook(self, hook: &'a Hook<'a>) -> Self {
        Decider {
            hook: Some(hook),
            ..self
        }
    }

    /// The output text for one person's JSON, ending in a newline.
    pub fn decide(&self, text: &str) -> Result<String, DataError> {
        let mut out = String::with_capacity(512);
        self.decide_into(text, &mut out)?;
        Ok(out)
    }

    /// Appends the output text for one person's JSON, ending in a newline,
    /// to `out` (calling the hook of [`Decider::with_hook`]); on an error
    /// `out` is as it was.
    fn decide_into(&self, text: &str, out: &mut String) -> Result<(), DataError> {
        match self.hook {
            Some(hook) => self.decide_then_into(text, out, &mut |d, out| hook(d, text, out)),
            None => self.decide_then_into(text, out, &mut |_, _| {}),
        }
    }

    /// The output text for one person's JSON, ending in a newline, with
    /// `add` told of the decision: for the JSON outputs it is given the
    /// object's text without its closing `}` and may append members to it
    /// (`,"key":value`), which the service does; for the text outputs it
    /// is given a scratch buffer.
    pub fn decide_then(&self, text: &str, add: &mut Add<'_>) -> Result<String, DataError> {
        let mut out = String::with_capacity(512);
        self.decide_then_into(text, &mut out, add)?;
        Ok(out)
    }

    /// [`Decider::decide_then`], appending to `out`, which is as it was on
    /// an error.
    fn decide_then_into(
        &self,
        text: &str,
        out: &mut String,
        add: &mut Add<'_>,
    ) -> Result<(), DataError> {
        if text.trim().is_empty() {
            return Err(empty_line());
        }
        self.decided_into(self.policy.read_json(text)?, Some(text), out, add)
    }

    /// The output text for one person already decoded (from Parquet, say:
    /// [`crate::columnar`]), ending in a newline. The hook of
    /// [`Decider::with_hook`], which is given a record's JSON text, is not
    /// called: a decoded record has none.
    pub fn decide_decoded(&self, person: Decoded) -> Result<String, DataError> {
        let mut out = String::with_capacity(512);
        self.decided_into(person, None, &mut out, &mut |_, _| {})?;
        Ok(out)
    }

    /// Appends the output text for one decoded person (`text`: its JSON,
    /// when it came as JSON), ending in a newline, to `out`, with `add`
    /// told of the decision as [`Decider::decide_then`] tells it; on an
    /// error `out` is as it was (nothing is written before the decision
    /// is made).
    fn decided_into(
        &self,
        person: Decoded,
        text: Option<&str>,
        out: &mut String,
        add: &mut Add<'_>,
    ) -> Result<(), DataError> {
        let (policy, facts, now) = (self.policy, self.facts, self.now);
        let start = out.len();
        match self.output {
            Output::Explain(words) => {
                let explanation = self.explained(person, text)?;
                add(&explanation.decision, &mut String::new());
                out.push_str(&explanation.render(words));
            }
            Output::ExplainJson(words) => {
                let explanation = self.explained(person, text)?;
                out.push_str(&explanation.to_json(words));
                close_with(out, start, |out| add(&explanation.decision, out));
            }
            Output::Json | Output::Pretty => {
                // Across versions, the record decoded once is followed
                // through the versions after the one in force.
                let over_time = self.versions.filter(|(vs, _)| {
                    (self.extras.next_change || self.extras.timeline) && vs.in_force(now).is_some()
                });
                let decision = match over_time {
                    Some((vs, facts)) => {
                        vs.decide_decoded_with(facts, person, text, now, self.extras)?
                    }
                    None => policy.decide_decoded_with(facts, person, now, self.extras)?,
                };
                if matches!(self.output, Output::Pretty) {
                    add(&decision, &mut String::new());
                    out.push_str(&decision.to_pretty());
                } else {
                    // Written straight into the caller's buffer.
                    decision.write_json(out, policy.json_plan());
                    close_with(out, start, |out| add(&decision, out));
                }
            }
        }
        out.push('\n');
        Ok(())
    }

    /// The explanation of one decoded person; across versions, its
    /// change is the one the versions after the one in force bring, as a
    /// decision's `next_change` is.
    fn explained(
        &self,
        person: Decoded,
        text: Option<&str>,
    ) -> Result<crate::explain::Explanation<'a>, DataError> {
        let (policy, facts, now) = (self.policy, self.facts, self.now);
        let over_time = (self.versions)
            .filter(|(vs, _)| vs.in_force(now).is_some())
            .map(|(vs, every)| {
                let brief = Extras {
                    next_change: true,
                    ..Extras::default()
                };
                vs.decide_decoded_with(every, person.clone(), text, now, brief)
            })
            .transpose()?;
        let mut explanation = policy.explain_decoded(facts, person, now)?;
        if let Some(decided) = over_time
            && !matches!(explanation.decision.next_change, NextChange::NotAsked)
        {
            explanation.decision.next_change = decided.next_change;
        }
        Ok(explanation)
    }

    /// The answer for one record.
    pub fn answer(&self, record: Record) -> Answer {
        match bytes(&record.body) {
            Ok(bytes) => self.answer_bytes(record.line, bytes),
            Err(e) => answer(record.line, Err(e)),
        }
    }

    /// The answer for one record, with `add` told of its decision as
    /// [`Decider::decide_then`] tells it.
    pub fn answer_then(&self, record: Record, add: &mut Add<'_>) -> Answer {
        match bytes(&record.body) {
            Ok(bytes) => self.answer_bytes_then(record.line, bytes, add),
            Err(e) => answer(record.line, Err(e)),
        }
    }

    /// The answer for a record decoded elsewhere (or its error), placed at
    /// `line` (for Parquet, its row from 1).
    pub fn answer_decoded(&self, line: usize, person: Result<Decoded, DataError>) -> Answer {
        answer(line, person.and_then(|p| self.decide_decoded(p)))
    }

    /// The answer for the bytes of a record whose first line is `line`.
    pub fn answer_bytes(&self, line: usize, bytes: &[u8]) -> Answer {
        answer(line, text(bytes).and_then(|text| self.decide(text)))
    }

    /// Appends the answer for the bytes of a record whose first line is
    /// `line` to `out` (its output, or its error line, ending in a
    /// newline), as [`Decider::answer_bytes`] gives it without a string of
    /// its own; gives the error if it could not be decided.
    pub fn answer_bytes_into(
        &self,
        line: usize,
        bytes: &[u8],
        out: &mut String,
    ) -> Option<DataError> {
        let start = out.len();
        let e = text(bytes)
            .and_then(|text| self.decide_into(text, out))
            .err()?;
        out.truncate(start);
        let e = placed(line, e);
        write_error_line(out, line, &e.to_string());
        Some(e)
    }

    /// [`Decider::answer_bytes`], with `add` told of the decision as
    /// [`Decider::decide_then`] tells it.
    pub fn answer_bytes_then(&self, line: usize, bytes: &[u8], add: &mut Add<'_>) -> Answer {
        answer(
            line,
            text(bytes).and_then(|text| self.decide_then(text, add)),
        )
    }
}

/// What [`Decider::decide_then`] tells of each decision: the decision, and
/// the output to append to.
pub type Add<'f> = dyn FnMut(&Decision<'_>, &mut String) + 'f;

/// Lets `add` append members to the JSON object written in `out` after
/// `start`, before its closing brace.
fn close_with(out: &mut String, start: usize, add: impl FnOnce(&mut String)) {
    if out.len() > start && out.ends_with('}') {
        out.pop();
        add(out);
        out.push('}');
    }
}

/// The bytes of a record, or why it has none.
pub(crate) fn bytes(body: &Body) -> Result<&[u8], DataError> {
    let message = match *body {
        Body::Bytes(ref bytes) => return Ok(bytes),
        Body::TooLong { limit } => {
            format!("the line is longer than {limit} bytes, the limit; it is skipped")
        }
        Body::Endless { limit, skipped } => format!(
            "the line is longer than {limit} bytes, the limit, and has no end in the {skipped} bytes after; the rest of the input is not read"
        ),
    };
    Err(DataError {
        message,
        line: None,
        column: None,
    })
}

/// A record's bytes as text: an error if they are not UTF-8 or are blank.
pub(crate) fn text(bytes: &[u8]) -> Result<&str, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e))?;
    if text.trim().is_empty() {
        return Err(empty_line());
    }
    Ok(text)
}

/// The error of a blank record.
fn empty_line() -> DataError {
    DataError {
        message: "an empty line, not a JSON object".into(),
        line: None,
        column: None,
    }
}

/// The person a record of JSON Lines gives under `policy` (decoded, its
/// constraints not yet checked), or why it is bad input: an error placed
/// within the record, as a decoded row's is, for the caller to place at
/// `record.line` ([`placed`]) once.
pub fn read_record(policy: &Policy, record: &Record) -> Result<Decoded, DataError> {
    bytes(&record.body)
        .and_then(text)
        .and_then(|text| policy.read_json(text))
}

/// An error of the record whose first line is `line`, placed in the
/// input: a record over several lines places its errors itself, from 1.
pub fn placed(line: usize, mut e: DataError) -> DataError {
    e.line = Some(line + e.line.unwrap_or(1) - 1);
    e
}

/// The answer for the record at `line`: its output, or its error line.
fn answer(line: usize, result: Result<String, DataError>) -> Answer {
    match result {
        Ok(text) => Answer {
            line,
            text,
            error: None,
        },
        Err(e) => {
            let e = placed(line, e);
            Answer {
                line,
                text: error_line(line, &e.to_string()),
                error: Some(e),
            }
        }
    }
}

/// The contract's error line, keys in its order: `{"line":N,"error":"..."}`.
fn error_line(line: usize, message: &str) -> String {
    let mut out = String::new();
    write_error_line(&mut out, line, message);
    out
}

/// Appends the contract's error line, ending in a newline, to `out`.
fn write_error_line(out: &mut String, line: usize, message: &str) {
    #[derive(serde::Serialize)]
    struct Row<'m> {
        line: usize,
        error: &'m str,
    }
    let row = serde_json::to_string(&Row {
        line,
        error: message,
    })
    .unwrap_or_default();
    out.push_str(&row);
    out.push('\n');
}

/// Where a line stops being UTF-8, as a column in characters.
fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> DataError {
    let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
    let column = String::from_utf8_lossy(good).chars().count() + 1;
    let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
    DataError {
        message: format!("not valid UTF-8 (byte 0x{byte:02x})"),
        line: None,
        column: Some(column),
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

/// How [`run`] reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The longest line read, in bytes; a longer one is an error line.
    pub max_line_bytes: usize,
    /// Whether each answer is flushed as soon as it can be written in
    /// order, for a program that writes a line and waits for its answer.
    pub flush_each: bool,
    /// The threads that decide: 1 decides on the calling thread alone;
    /// more read on one thread, decide on `jobs` (at most 256) and write on
    /// the calling one, with a bounded number of records in flight. If no
    /// thread can be started, the calling thread decides alone.
    pub jobs: NonZeroUsize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_line_bytes: MAX_LINE_BYTES,
            flush_each: true,
            jobs: NonZeroUsize::MIN,
        }
    }
}

/// The threads the machine can run at once, for [`Options::jobs`]: 1 if
/// that cannot be known.
pub fn all_cores() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Decides every record of `input` and writes the answers to `out` in
/// order, one per record; `report` hears of each record that could not be
/// decided, in order, after its error line is written. A read error ends
/// the run after the answers to the records before it.
pub fn run(
    decider: &Decider<'_>,
    input: impl BufRead + Send,
    mut out: impl Write,
    options: Options,
    mut report: impl FnMut(&DataError),
) -> Result<Summary, StreamError> {
    let input = if options.jobs.get() > 1 {
        match parallel::run(decider, input, &mut out, options, &mut report) {
            Ok(done) => return done,
            // No thread could be started: this one decides.
            Err(input) => input,
        }
    } else {
        input
    };
    let mut summary = Summary::default();
    let mut records = Records::new(input, options.max_line_bytes);
    // One buffer for the bytes of every record and one for every answer,
    // reused from line to line.
    let (mut bytes, mut text) = (Vec::new(), String::new());
    loop {
        bytes.clear();
        text.clear();
        let Some(next) = records.next_into(&mut bytes) else {
            break;
        };
        let error = match next.map_err(StreamError::Read)? {
            (line, None) => decider.answer_bytes_into(line, &bytes, &mut text),
            (line, Some(body)) => {
                let answer = decider.answer(Record { line, body });
                text = answer.text;
                answer.error
            }
        };
        let flush = options.flush_each;
        write_text(
            &mut out,
            &text,
            error.as_ref(),
            &mut summary,
            &mut report,
            flush,
        )?;
    }
    out.flush().map_err(StreamError::Write)?;
    Ok(summary)
}

/// Does `work` on every record of `input`, on [`Options::jobs`] threads,
/// and gives `sink` the results in input order: what [`run`] does with a
/// [`Decider`], for other work (`policyc diff`). A read error ends the run
/// after the results of the records before it.
pub(crate) fn each<W: Work>(
    work: &W,
    input: impl BufRead + Send,
    options: Options,
    sink: &mut impl Sink<W::Done, Error = StreamError>,
) -> Result<(), StreamError> {
    let input = if options.jobs.get() > 1 {
        match parallel::each(work, input, options, sink) {
            Ok(done) => return done,
            // No thread could be started: this one works.
            Err(input) => input,
        }
    } else {
        input
    };
    let mut records = Records::new(input, options.max_line_bytes).peekable();
    while records.peek().is_some() {
        let mut done = work.start();
        for record in records.by_ref().take(parallel::BATCH_RECORDS) {
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    sink.take(done)?;
                    return Err(StreamError::Read(e));
                }
            };
            match record.body {
                Body::Bytes(bytes) => work.bytes(&mut done, record.line, &bytes),
                _ => work.other(&mut done, record),
            }
        }
        sink.take(done)?;
    }
    sink.idle()
}

/// Writes one answer (and flushes it if `flush`), counts it, and reports
/// its error.
pub fn write_answer(
    out: &mut impl Write,
    answer: &Answer,
    summary: &mut Summary,
    report: &mut impl FnMut(&DataError),
    flush: bool,
) -> Result<(), StreamError> {
    let error = answer.error.as_ref();
    write_text(out, &answer.text, error, summary, report, flush)
}

/// [`write_answer`] for an answer's text and error.
fn write_text(
    out: &mut impl Write,
    text: &str,
    error: Option<&DataError>,
    summary: &mut Summary,
    report: &mut impl FnMut(&DataError),
    flush: bool,
) -> Result<(), StreamError> {
    summary.records += 1;
    out.write_all(text.as_bytes()).map_err(StreamError::Write)?;
    if flush {
        out.flush().map_err(StreamError::Write)?;
    }
    if let Some(e) = error {
        summary.bad += 1;
        report(e);
    }
    Ok(())
}

/// A reader that fails after its text.
#[cfg(test)]
struct Failing(Vec<u8>);

#[cfg(test)]
impl io::Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = self.0.len().min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0.drain(..n);
        Ok(n)
    }
}
