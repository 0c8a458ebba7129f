//! Deciding people in chunks on several threads, in input order: the rows
//! of Arrow batches, or the records of JSON Lines.

use std::io::BufRead;
use std::num::NonZeroUsize;
use std::sync::mpsc;

use arrow_array::RecordBatch;

use super::{BATCH_ROWS, ColumnarError, Rows};
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
    let chunks = batches.map(|b| b.and_then(|b| Rows::new(&b, policy)));
    in_chunks(chunks, jobs, sink, Rows::len, |rows, before, i| {
        decide(before + i + 1, rows.decode(i))
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
    in_chunks(chunks, jobs, sink, Vec::len, |chunk, _, i| {
        let record = &chunk[i];
        decide(record.line, stream::read_record(policy, record))
    })
}

/// Hands the answers to every item of every chunk to `sink`, in order:
/// a chunk has `len` items, and `answer` answers one, given its chunk, the
/// number of items in the chunks before and its index.
fn in_chunks<C, X, T, E>(
    chunks: impl Iterator<Item = Result<C, X>> + Send,
    jobs: NonZeroUsize,
    mut sink: impl FnMut(Vec<T>) -> Result<(), E>,
    len: impl Fn(&C) -> usize,
    answer: impl Fn(&C, usize, usize) -> T + Sync,
) -> Result<(), E>
where
    C: Send + Sync,
    X: Into<E> + Send,
    T: Send,
    E: From<std::io::Error>,
{
    let jobs = jobs.get();
    let mut before = 0;
    let mut chunk = |c: C| {
        let n = len(&c);
        let answers = in_parallel(n, jobs, &|i| answer(&c, before, i));
        before += n;
        sink(answers)
    };
    if jobs == 1 {
        for c in chunks {
            chunk(c.map_err(Into::into)?)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        // Two chunks in flight: the reader keeps ahead of the deciders
        // without holding the input in memory.
        let (send, receive) = mpsc::sync_channel(2);
        let reader = std::thread::Builder::new().spawn_scoped(scope, move || {
            for c in chunks {
                let failed = c.is_err();
                if send.send(c).is_err() || failed {
                    break;
                }
            }
        });
        // No thread can be started: nothing is read.
        reader.map_err(E::from)?;
        for c in receive {
            chunk(c.map_err(Into::into)?)?;
        }
        Ok(())
    })
}

/// The answers to items `0..len`, on `jobs` threads (the calling one
/// among them), in order.
fn in_parallel<T: Send>(len: usize, jobs: usize, answer: &(impl Fn(usize) -> T + Sync)) -> Vec<T> {
    let part = |range: std::ops::Range<usize>| -> Vec<T> { range.map(answer).collect() };
    if jobs <= 1 || len < 2 * jobs {
        return part(0..len);
    }
    let size = len.div_ceil(jobs);
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..jobs)
            .map(|j| {
                let range = (j * size).min(len)..((j + 1) * size).min(len);
                let thread = std::thread::Builder::new();
                (
                    range.clone(),
                    thread.spawn_scoped(scope, move || part(range)),
                )
            })
            .collect();
        let mut answers = part(0..size);
        for (range, other) in others {
            match other.map(|t| t.join()) {
                Ok(Ok(more)) => answers.extend(more),
                Ok(Err(panicked)) => std::panic::resume_unwind(panicked),
                // No thread could be started for it: this one answers.
                Err(_) => answers.extend(part(range)),
            }
        }
        answers
    })
}
