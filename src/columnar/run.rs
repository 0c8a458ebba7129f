//! Deciding people in chunks on several threads, in input order: the rows
//! of Arrow batches, or the records of JSON Lines.

use std::io::BufRead;
use std::num::NonZeroUsize;
use std::ops::Range;

use arrow_array::RecordBatch;

use super::{BATCH_ROWS, ColumnarError, Dictionaries, Rows};
use crate::Policy;
use crate::data::{DataError, Decoded};
use crate::stream::{self, Record, Records};

/// Decides every row of `batches` with `decide` (given the row's number
/// from 1 and the person, or why the row is bad input) and hands each
/// batch's answers, in row order, to `sink`. With `jobs` above 1 `jobs`
/// threads take turns reading and matching a batch, then decide its
/// rows; with 1 the calling thread does everything. The first
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

/// The most items of a chunk answered at a time: the answers of a
/// larger chunk are handed on in pieces of this size.
const PIECE: usize = 1024;

/// Hands the answers to every item of every chunk to `sink`, in order:
/// a chunk has `len` items, and `answer` answers those of a range, in
/// order, given their chunk, the number of items in the chunks before and
/// the range. With `jobs` above 1 the stream engine's threads do it
/// ([`stream::turns`]): each in turn reads the next chunk, then answers
/// it, so that a chunk is answered from the cache of the thread that read
/// it. The first error of `chunks` ends the run, after the answers of the
/// chunks before it.
pub(crate) fn in_chunks<C, X, T, E>(
    chunks: impl Iterator<Item = Result<C, X>> + Send,
    jobs: NonZeroUsize,
    mut sink: impl FnMut(Vec<T>) -> Result<(), E>,
    len: impl Fn(&C) -> usize + Send,
    answer: impl Fn(&C, usize, Range<usize>) -> Vec<T> + Sync,
) -> Result<(), E>
where
    X: Into<E> + Send,
    T: Send,
{
    // Nothing is read after an error; each chunk is counted as it is read.
    let mut failed = false;
    let mut before = 0;
    let chunks = chunks
        .take_while(move |c| !std::mem::replace(&mut failed, c.is_err()))
        .map(move |c| {
            c.map(|chunk| {
                let len = len(&chunk);
                before += len;
                Counted {
                    chunk,
                    before: before - len,
                    len,
                }
            })
        });
    let chunks = if jobs.get() > 1 {
        let work = |c: Result<Counted<C>, X>| {
            c.map(|c| {
                c.pieces()
                    .map(|range| answer(&c.chunk, c.before, range))
                    .collect()
            })
        };
        match stream::turns(jobs.get(), chunks, &work, &mut InOrder(&mut sink)) {
            Ok(done) => return done,
            // No thread could be started: this one answers.
            Err(chunks) => chunks,
        }
    } else {
        chunks
    };
    for c in chunks {
        let c = c.map_err(Into::into)?;
        for range in c.pieces() {
            sink(answer(&c.chunk, c.before, range))?;
        }
    }
    Ok(())
}

/// A chunk, its number of items, and the number of items of the chunks
/// before it.
struct Counted<C> {
    chunk: C,
    before: usize,
    len: usize,
}

impl<C> Counted<C> {
    /// The ranges of the chunk's items answered at a time.
    fn pieces(&self) -> impl Iterator<Item = Range<usize>> + use<C> {
        let len = self.len;
        (0..len)
            .step_by(PIECE)
            .map(move |start| start..(start + PIECE).min(len))
    }
}

/// The threads' sink: the answers of each chunk's pieces to `sink`, in
/// order, an error to the run.
struct InOrder<'s, F>(&'s mut F);

impl<T, X: Into<E>, E, F: FnMut(Vec<T>) -> Result<(), E>> stream::Sink<Result<Vec<Vec<T>>, X>>
    for InOrder<'_, F>
{
    type Error = E;

    fn take(&mut self, answers: Result<Vec<Vec<T>>, X>) -> Result<(), E> {
        answers
            .map_err(Into::into)?
            .into_iter()
            .try_for_each(&mut *self.0)
    }

    fn idle(&mut self) -> Result<(), E> {
        Ok(())
    }
}
