//! Deciding people in chunks on several threads, in input order: the rows
//! of Arrow batches, or the records of JSON Lines.

use std::io::BufRead;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;

use super::{BATCH_ROWS, ColumnarError, Dictionaries, Rows};
use crate::Policy;
use crate::data::{DataError, Decoded};
use crate::stream::{self, Record, Records};

/// Decides every row of `batches` with `decide` (given the row's number
/// from 1 and the person, or why the row is bad input) and hands each
/// batch's answers, in row order, to `sink`. With `jobs` above 1 one
/// thread reads and matches batches while `jobs` threads decide the rows
/// of the one before; with 1 the calling thread does everything. The first
/// error of the input as a whole (a column of the wrong type, an
/// unreadable file) or of `sink` ends the run.
pub fn run<T, E>(
    policy: &Policy,
    batches: impl Iterator<Item = Result<RecordBatch, ColumnarError>> + Send,
    jobs: NonZeroUsize,
    decide: impl Fn(usize, Result<Decoded, DataError>) -> T + Sync,
    sink: impl FnMut(Vec<T>) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: From<ColumnarError> + From<std::io::Error>,
{
    let mut dictionaries = Dictionaries::default();
    let chunks = batches.map(move |b| b.and_then(|b| Rows::after(&b, policy, &mut dictionaries)));
    in_chunks(chunks, jobs, sink, Rows::len, |rows, before, range| {
        let mut answers = Vec::with_capacity(range.len());
        rows.decode_each(range, |i, person| {
            answers.push(decide(before + i + 1, person));
        });
        answers
    })
}

/// [`run`] for JSON Lines: decides every record of `input` (lines of at
/// most `max_line_bytes`) with `decide` (given the record's first line and
/// the person, or why the record is bad input), handing the answers in
/// input order to `sink`. A read error ends the run.
pub fn run_lines<T, E>(
    policy: &Policy,
    input: impl BufRead + Send,
    max_line_bytes: usize,
    jobs: NonZeroUsize,
    decide: impl Fn(usize, Result<Decoded, DataError>) -> T + Sync,
    sink: impl FnMut(Vec<T>) -> Result<(), E>,
) -> Result<(), E>
where
    T: Send,
    E: From<std::io::Error>,
{
    let mut records = Records::new(input, max_line_bytes);
    let mut failed: Option<std::io::Error> = None;
    let chunks = std::iter::from_fn(move || {
        if let Some(e) = failed.take() {
            return Some(Err(e));
        }
        let mut chunk: Vec<Record> = Vec::with_capacity(BATCH_ROWS);
        for record in records.by_ref() {
            match record {
                Ok(r) => chunk.push(r),
                Err(e) if chunk.is_empty() => return Some(Err(e)),
                // The records before the error are decided first.
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            if chunk.len() == BATCH_ROWS {
                break;
            }
        }
        (!chunk.is_empty()).then_some(Ok(chunk))
    });
    in_chunks(chunks, jobs, sink, Vec::len, |chunk, _, range| {
        (chunk.get(range).unwrap_or_default().iter())
            .map(|record| decide(record.line, stream::read_record(policy, record)))
            .collect()
    })
}

/// The most items of a chunk one thread answers at a time: a batch of
/// [`BATCH_ROWS`] is shared by the threads in pieces of this size.
const PIECE: usize = 1024;

/// Hands the answers to every item of every chunk to `sink`, in order:
/// a chunk has `len` items, and `answer` answers those of a range, in
/// order, given their chunk, the number of items in the chunks before and
/// the range. With `jobs` above
/// 1 the stream engine's pool ([`stream::pool`]) does it: one thread reads
/// the chunks, and `jobs` threads answer pieces of them.
pub(crate) fn in_chunks<C, X, T, E>(
    chunks: impl Iterator<Item = Result<C, X>> + Send,
    jobs: NonZeroUsize,
    mut sink: impl FnMut(Vec<T>) -> Result<(), E>,
    len: impl Fn(&C) -> usize + Sync,
    answer: impl Fn(&C, usize, Range<usize>) -> Vec<T> + Sync,
) -> Result<(), E>
where
    C: Send + Sync,
    X: Into<E> + Send,
    T: Send,
{
    let chunks = if jobs.get() > 1 {
        let work = |piece: Result<Piece<C>, X>| piece.map(|p| answer(&p.chunk, p.before, p.range));
        let mut pieces = InOrder(&mut sink);
        match stream::pool(
            jobs.get(),
            chunks,
            |c, f| pieces_of(c, &len, f),
            &work,
            &mut pieces,
        ) {
            Ok(done) => return done,
            // No thread could be started: this one answers.
            Err(chunks) => chunks,
        }
    } else {
        chunks
    };
    let mut before = 0;
    for c in chunks {
        let c = c.map_err(Into::into)?;
        let n = len(&c);
        for start in (0..n).step_by(PIECE) {
            sink(answer(&c, before, start..(start + PIECE).min(n)))?;
        }
        before += n;
    }
    Ok(())
}

/// A piece of a chunk: the items in `range`, after `before` items of the
/// chunks before.
struct Piece<C> {
    chunk: Arc<C>,
    before: usize,
    range: Range<usize>,
}

/// The reader of [`in_chunks`]'s pool: every chunk, in pieces of
/// [`PIECE`] items; the first error ends it, after the pieces before.
fn pieces_of<C, X>(
    chunks: impl Iterator<Item = Result<C, X>>,
    len: &impl Fn(&C) -> usize,
    feed: &mut stream::Feed<'_, Result<Piece<C>, X>>,
) {
    let mut before = 0;
    for c in chunks {
        let chunk = match c {
            Ok(c) => Arc::new(c),
            Err(e) => {
                feed.send(Err(e));
                return;
            }
        };
        let n = len(&chunk);
        for start in (0..n).step_by(PIECE) {
            let range = start..(start + PIECE).min(n);
            let chunk = Arc::clone(&chunk);
            if !feed.send(Ok(Piece {
                chunk,
                before,
                range,
            })) {
                return;
            }
        }
        before += n;
    }
}

/// The pool's sink: each piece's answers to `sink`, an error to the run.
struct InOrder<'s, F>(&'s mut F);

impl<T, X: Into<E>, E, F: FnMut(Vec<T>) -> Result<(), E>> stream::Sink<Result<Vec<T>, X>>
    for InOrder<'_, F>
{
    type Error = E;

    fn take(&mut self, answers: Result<Vec<T>, X>) -> Result<(), E> {
        (self.0)(answers.map_err(Into::into)?)
    }

    fn idle(&mut self) -> Result<(), E> {
        Ok(())
    }
}
