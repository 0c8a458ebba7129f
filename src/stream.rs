//! Deciding a stream of people: JSON Lines, one answer per input line in
//! input order, or one JSON object over several lines.
//!
//! The work is three steps a caller may also run itself (a server, or
//! several threads deciding records while one writes them in order):
//! [`Records`] reads the input as bytes into records, [`Decider::answer`]
//! decides one record into the text of its output line, and [`run`] writes
//! the answers in order.
//!
//! No input stops the stream: a line that is not UTF-8, is longer than the
//! limit, or is not a person gets its error line `{"line": N, "error":
//! "..."}` and the next line is read. Memory stays bounded by the limit.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read, Write};

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

    /// The answer for one record.
    pub fn answer(&self, record: Record) -> Answer {
        let line = record.line;
        let result = match record.body {
            Body::Bytes(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => self.decide(text),
                Err(e) => Err(not_utf8(&bytes, e)),
            },
            Body::TooLong { limit } => Err(DataError {
                message: format!("the line is longer than {limit} bytes, the limit; it is skipped"),
                line: None,
                column: None,
            }),
            Body::Endless { limit, skipped } => Err(DataError {
                message: format!(
                    "the line is longer than {limit} bytes, the limit, and has no end in the {skipped} bytes after; the rest of the input is not read"
                ),
                line: None,
                column: None,
            }),
        };
        match result {
            Ok(text) => Answer {
                line,
                text,
                error: None,
            },
            Err(mut e) => {
                // A record over several lines places its errors itself.
                e.line = Some(line + e.line.unwrap_or(1) - 1);
                Answer {
                    line,
                    text: error_line(line, &e.to_string()),
                    error: Some(e),
                }
            }
        }
    }
}

/// The contract's error line, keys in its order: `{"line":N,"error":"..."}`.
fn error_line(line: usize, message: &str) -> String {
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
    row + "\n"
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

/// The default for [`Records::new`]'s limit: far above any real record.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// How far past the limit a line is skipped looking for its end, in
/// multiples of the limit; an input with no line end at all (`/dev/zero`)
/// stops there.
const SKIP: usize = 16;

/// One record of the input: a line, or the lines of one JSON object that
/// spans them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its first line in the input, from 1.
    pub line: usize,
    /// What was read.
    pub body: Body,
}

/// What a record holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The bytes, without the line end (and without a byte-order mark at
    /// the start of the input).
    Bytes(Vec<u8>),
    /// A line longer than `limit` bytes, skipped up to its end.
    TooLong {
        /// The limit it broke.
        limit: usize,
    },
    /// A line longer than `limit` with no end in the `skipped` bytes after
    /// it: the input stops here.
    Endless {
        /// The limit it broke.
        limit: usize,
        /// How much of it was skipped before giving up.
        skipped: usize,
    },
}

/// Reads an input into records: each line its own record (JSON Lines), or
/// the whole input one record when it is one JSON object over several
/// lines.
///
/// The input is one object only if its first line is incomplete JSON and
/// the whole input is one JSON value; a line of its own that is a whole
/// object at the first column, or an object longer than the limit, makes
/// it JSON Lines at once. So one bad line never makes a whole file one
/// record: a first line cut short is an error line, and the lines after it
/// are decided.
pub struct Records<R> {
    input: R,
    limit: usize,
    /// Lines read so far.
    lines: usize,
    /// Records read but not yet given.
    queue: VecDeque<Record>,
    /// A read error to give after the queue.
    error: Option<io::Error>,
    done: bool,
}

impl<R: BufRead> Records<R> {
    /// Records of `input`, with lines of at most `limit` bytes (at least 1).
    pub fn new(input: R, limit: usize) -> Self {
        Records {
            input,
            limit: limit.max(1),
            lines: 0,
            queue: VecDeque::new(),
            error: None,
            done: false,
        }
    }

    /// The next line as a record; `None` at the end.
    fn line(&mut self) -> io::Result<Option<Record>> {
        let limit = self.limit;
        let mut bytes = Vec::new();
        let bound = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        if Read::by_ref(&mut self.input)
            .take(bound)
            .read_until(b'\n', &mut bytes)?
            == 0
        {
            return Ok(None);
        }
        self.lines += 1;
        let body = if bytes.last() == Some(&b'\n') || bytes.len() <= limit {
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
            }
            if self.lines == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            Body::Bytes(bytes)
        } else {
            drop(bytes);
            self.skip_line()?
        };
        Ok(Some(Record {
            line: self.lines,
            body,
        }))
    }

    /// Skips the rest of a line that broke the limit, up to its end.
    fn skip_line(&mut self) -> io::Result<Body> {
        const CHUNK: u64 = 1 << 16;
        let limit = self.limit;
        let most = limit.saturating_mul(SKIP);
        let mut skipped = 0;
        let mut chunk = Vec::new();
        loop {
            chunk.clear();
            let n = Read::by_ref(&mut self.input)
                .take(CHUNK)
                .read_until(b'\n', &mut chunk)?;
            if n == 0 || chunk.last() == Some(&b'\n') {
                return Ok(Body::TooLong { limit });
            }
            skipped += n;
            if skipped >= most {
                self.done = true;
                return Ok(Body::Endless { limit, skipped });
            }
        }
    }

    /// Reads on after a first line that is incomplete JSON, until the
    /// input is known to be one object or JSON Lines.
    fn gather(&mut self, first: Vec<u8>) -> Option<Record> {
        let mut text = first;
        let mut ends = vec![text.len()];
        let after = loop {
            match self.line() {
                Ok(None) => {
                    if serde_json::from_slice::<serde::de::IgnoredAny>(&text).is_ok() {
                        return Some(Record {
                            line: 1,
                            body: Body::Bytes(text),
                        });
                    }
                    break None;
                }
                Ok(Some(Record {
                    body: Body::Bytes(bytes),
                    line,
                })) => {
                    if text.len() + 1 + bytes.len() > self.limit || is_whole_object(&bytes) {
                        break Some(Record {
                            line,
                            body: Body::Bytes(bytes),
                        });
                    }
                    text.push(b'\n');
                    text.extend_from_slice(&bytes);
                    ends.push(text.len());
                }
                Ok(Some(other)) => break Some(other),
                Err(e) => {
                    self.error = Some(e);
                    break None;
                }
            }
        };
        // JSON Lines: each line gathered is its own record.
        let mut start = 0;
        for (i, end) in ends.into_iter().enumerate() {
            let bytes = text.get(start..end).unwrap_or_default().to_vec();
            start = end + 1;
            self.queue.push_back(Record {
                line: i + 1,
                body: Body::Bytes(bytes),
            });
        }
        self.queue.extend(after);
        self.queue.pop_front()
    }
}

/// Whether a line is JSON that ends too early (and is not just blank).
fn is_incomplete(bytes: &[u8]) -> bool {
    !bytes.trim_ascii().is_empty()
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .is_err_and(|e| e.classify() == serde_json::error::Category::Eof)
}

/// Whether a line is a whole JSON object starting at its first column, as
/// a JSON Lines record is and no line inside a pretty-printed object is.
fn is_whole_object(bytes: &[u8]) -> bool {
    bytes.starts_with(b"{") && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

impl<R: BufRead> Iterator for Records<R> {
    type Item = io::Result<Record>;

    fn next(&mut self) -> Option<io::Result<Record>> {
        if let Some(record) = self.queue.pop_front() {
            return Some(Ok(record));
        }
        if let Some(e) = self.error.take() {
            self.done = true;
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        match self.line() {
            Ok(Some(Record {
                line: 1,
                body: Body::Bytes(bytes),
            })) if is_incomplete(&bytes) => self.gather(bytes).map(Ok).or_else(|| self.next()),
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
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

/// How [`run`] reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The longest line read, in bytes; a longer one is an error line.
    pub max_line_bytes: usize,
    /// Whether each answer is flushed as soon as it is written, for a
    /// program that writes a line and waits for its answer.
    pub flush_each: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_line_bytes: MAX_LINE_BYTES,
            flush_each: true,
        }
    }
}

/// Decides every record of `input` and writes the answers to `out` in
/// order, one per record; `report` hears of each record that could not be
/// decided, in order, after its error line is written.
pub fn run(
    decider: &Decider<'_>,
    input: impl BufRead,
    mut out: impl Write,
    options: Options,
    mut report: impl FnMut(&DataError),
) -> Result<Summary, StreamError> {
    let mut summary = Summary::default();
    for record in Records::new(input, options.max_line_bytes) {
        let answer = decider.answer(record.map_err(StreamError::Read)?);
        summary.records += 1;
        out.write_all(answer.text.as_bytes())
            .map_err(StreamError::Write)?;
        if options.flush_each {
            out.flush().map_err(StreamError::Write)?;
        }
        if let Some(e) = &answer.error {
            summary.bad += 1;
            report(e);
        }
    }
    out.flush().map_err(StreamError::Write)?;
    Ok(summary)
}

/// `--jobs` will decide records on several threads at once.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Decider<'static>>();
    shared::<Record>();
    shared::<Answer>();
};

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8], limit: usize) -> Vec<Record> {
        Records::new(input, limit)
            .map(|r| r.unwrap_or_else(|e| unreachable!("{e}")))
            .collect()
    }

    fn bytes(line: usize, text: &str) -> Record {
        Record {
            line,
            body: Body::Bytes(text.as_bytes().to_vec()),
        }
    }

    #[test]
    fn each_line_is_a_record_without_its_line_end() {
        assert_eq!(
            records(b"{}\n{\"a\": 1}\r\n\n{}", 100),
            [
                bytes(1, "{}"),
                bytes(2, "{\"a\": 1}"),
                bytes(3, ""),
                bytes(4, "{}")
            ]
        );
        assert_eq!(records(b"", 100), []);
    }

    #[test]
    fn a_byte_order_mark_is_dropped_from_the_first_line_only() {
        assert_eq!(
            records(b"\xEF\xBB\xBF{}\n\xEF\xBB\xBF{}\n", 100),
            [bytes(1, "{}"), bytes(2, "\u{feff}{}")]
        );
    }

    #[test]
    fn a_line_past_the_limit_is_skipped_to_its_end() {
        assert_eq!(
            records(b"1234\n12345\nab", 4),
            [
                bytes(1, "1234"),
                Record {
                    line: 2,
                    body: Body::TooLong { limit: 4 }
                },
                bytes(3, "ab")
            ]
        );
    }

    #[test]
    fn an_input_without_line_ends_stops_in_bounded_time_and_memory() {
        // Endless: nothing but this would stop reading it.
        let input = io::BufReader::new(io::repeat(0));
        let all: Vec<Record> = Records::new(input, 1000).filter_map(Result::ok).collect();
        assert_eq!(
            all,
            [Record {
                line: 1,
                body: Body::Endless {
                    limit: 1000,
                    skipped: 1 << 16
                }
            }]
        );
    }

    #[test]
    fn one_object_over_several_lines_is_one_record() {
        let text = "{\n  \"id\": \"a\",\n  \"stays\": []\n}\n\n";
        assert_eq!(
            records(text.as_bytes(), 100),
            [bytes(1, "{\n  \"id\": \"a\",\n  \"stays\": []\n}\n")]
        );
    }

    #[test]
    fn a_first_line_cut_short_is_a_record_of_its_own() {
        // Followed by whole objects: JSON Lines as soon as one is seen.
        assert_eq!(
            records(b"{\"id\": [\n{}\n{}\n", 100),
            [bytes(1, "{\"id\": ["), bytes(2, "{}"), bytes(3, "{}")]
        );
        // Followed by lines that are not objects: the whole is no JSON.
        assert_eq!(
            records(b"{\"id\": [\n 1\n x\n", 100),
            [bytes(1, "{\"id\": ["), bytes(2, " 1"), bytes(3, " x")]
        );
        // Followed by more than the limit: no record could hold it.
        assert_eq!(
            records(b"{\"id\": [\n 1,\n 2]}\n", 12),
            [bytes(1, "{\"id\": ["), bytes(2, " 1,"), bytes(3, " 2]}")]
        );
    }

    /// A reader that fails after its text.
    struct Failing(&'static [u8]);

    impl io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_read_before_a_read_error_are_given_first() {
        let mut all = Records::new(io::BufReader::new(Failing(b"{\"a\": [\n 1\n")), 100);
        assert_eq!(
            all.next().map(|r| r.ok()),
            Some(Some(bytes(1, "{\"a\": [")))
        );
        assert_eq!(all.next().map(|r| r.ok()), Some(Some(bytes(2, " 1"))));
        assert!(matches!(all.next(), Some(Err(e)) if e.to_string() == "disk on fire"));
        assert!(all.next().is_none());
    }
}
