//! Reading an input into records, as bytes and in bounded memory.

use std::collections::VecDeque;
use std::io::{self, BufRead};

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

    /// The input it reads.
    pub fn get_ref(&self) -> &R {
        &self.input
    }

    /// The next line as a record; `None` at the end.
    fn line(&mut self) -> io::Result<Option<Record>> {
        let mut bytes = Vec::new();
        let Some(other) = self.read_line(&mut bytes)? else {
            return Ok(None);
        };
        Ok(Some(Record {
            line: self.lines,
            body: other.unwrap_or(Body::Bytes(bytes)),
        }))
    }

    /// Appends the next line to `bytes`, without its line end; `None` at
    /// the end, `Some(Some(body))` for a line without bytes (then nothing
    /// is appended).
    fn read_line(&mut self, bytes: &mut Vec<u8>) -> io::Result<Option<Option<Body>>> {
        let (limit, start) = (self.limit, bytes.len());
        if self.read_until(bytes, limit.saturating_add(1))? == 0 {
            return Ok(None);
        }
        self.lines += 1;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.len() > start && bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        } else if bytes.len() - start > limit {
            bytes.truncate(start);
            return self.skip_line().map(|body| Some(Some(body)));
        }
        if self.lines == 1
            && bytes
                .get(start..)
                .is_some_and(|b| b.starts_with(b"\xEF\xBB\xBF"))
        {
            bytes.drain(start..start + 3);
        }
        Ok(Some(None))
    }

    /// The next record as [`Iterator::next`] gives it, with its bytes
    /// appended to `bytes` instead of in a vector of their own: its first
    /// line, and its body if it has no bytes. For a caller that gathers
    /// records into one buffer.
    pub fn next_into(&mut self, bytes: &mut Vec<u8>) -> Option<io::Result<(usize, Option<Body>)>> {
        // The first line may start one object over several lines.
        if self.lines == 0 || self.done || self.error.is_some() || !self.queue.is_empty() {
            return self.next().map(|record| {
                record.map(|record| match record.body {
                    Body::Bytes(b) => {
                        bytes.extend_from_slice(&b);
                        (record.line, None)
                    }
                    other => (record.line, Some(other)),
                })
            });
        }
        let next = self.read_line(bytes);
        let next = next.map(|read| read.map(|other| (self.lines, other)));
        self.stop_at_end(next)
    }

    /// What was read, as the iterator gives it; at the end or at an error,
    /// nothing more is read.
    fn stop_at_end<T>(&mut self, next: io::Result<Option<T>>) -> Option<io::Result<T>> {
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }

    /// Appends to `bytes` what the input holds up to its next line end
    /// (included), at most `bound` bytes; says how many. As
    /// [`BufRead::read_until`] on [`Read::take`], with the line end found
    /// many bytes at a time ([`memchr`]).
    fn read_until(&mut self, bytes: &mut Vec<u8>, bound: usize) -> io::Result<usize> {
        let mut read = 0;
        while read < bound {
            let buffer = match self.input.fill_buf() {
                Ok(buffer) => buffer,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let window = buffer.get(..bound - read).unwrap_or(buffer);
            if window.is_empty() {
                break;
            }
            let (used, end) = match memchr::memchr(b'\n', window) {
                Some(at) => (at + 1, true),
                None => (window.len(), false),
            };
            bytes.extend_from_slice(window.get(..used).unwrap_or_default());
            self.input.consume(used);
            read += used;
            if end {
                break;
            }
        }
        Ok(read)
    }

    /// Skips the rest of a line that broke the limit, up to its end.
    fn skip_line(&mut self) -> io::Result<Body> {
        const CHUNK: usize = 1 << 16;
        let limit = self.limit;
        let most = limit.saturating_mul(SKIP);
        let mut skipped = 0;
        let mut chunk = Vec::new();
        loop {
            chunk.clear();
            let n = self.read_until(&mut chunk, CHUNK)?;
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
            other => self.stop_at_end(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Failing;
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

    /// What `next_into` gives, as records.
    fn records_into(input: &[u8], limit: usize) -> Vec<Record> {
        let mut all = Records::new(input, limit);
        let mut out = Vec::new();
        let mut bytes = Vec::new();
        while let Some(next) = all.next_into(&mut bytes) {
            let (line, other) = next.unwrap_or_else(|e| unreachable!("{e}"));
            let body = other.unwrap_or_else(|| Body::Bytes(std::mem::take(&mut bytes)));
            out.push(Record { line, body });
        }
        out
    }

    #[test]
    fn records_read_into_one_buffer_are_those_read_one_by_one() {
        for (input, limit) in [
            (&b"{}\n{\"a\": 1}\r\n\n\r\n{}"[..], 100),
            (b"\xEF\xBB\xBF{}\n\xEF\xBB\xBF{}\n", 100),
            (b"1234\n12345\nab\n123456789\r\n", 4),
            (b"{\n  \"id\": \"a\",\n  \"stays\": []\n}\n\n", 100),
            (b"{\"id\": [\n{}\n{}\n", 100),
            (b"{\"id\": [\n 1,\n 2]}\n", 12),
            (b"\xEF\xBB\xBF{\"id\": [\n1\n", 100),
        ] {
            assert_eq!(records_into(input, limit), records(input, limit));
        }
        // Appended: each record after those before it.
        let mut all = Records::new(&b"{}\n\n{\"a\": 1}\r\n"[..], 100);
        let mut bytes = Vec::new();
        let mut lines = Vec::new();
        while let Some(Ok((line, None))) = all.next_into(&mut bytes) {
            lines.push((line, bytes.len()));
        }
        assert_eq!(bytes, b"{}{\"a\": 1}");
        assert_eq!(lines, [(1, 2), (2, 2), (3, 10)]);
    }

    #[test]
    fn lines_read_before_a_read_error_are_given_first() {
        let mut all = Records::new(
            io::BufReader::new(Failing(b"{\"a\": [\n 1\n".to_vec())),
            100,
        );
        assert_eq!(
            all.next().map(|r| r.ok()),
            Some(Some(bytes(1, "{\"a\": [")))
        );
        assert_eq!(all.next().map(|r| r.ok()), Some(Some(bytes(2, " 1"))));
        assert!(matches!(all.next(), Some(Err(e)) if e.to_string() == "disk on fire"));
        assert!(all.next().is_none());
    }
}
