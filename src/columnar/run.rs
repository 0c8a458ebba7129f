//! Deciding people in chunks on several threads, in input order: the rows
//! of Arrow batches, or the records of JSON Lines.

use std::io::BufRead;
use std::num::NonZeroUsize;
use std::ops::Range;

use arrow_array::RecordBatch;

use super::{BATCH_ROWS, ColumnarError, Dictionaries, Rows};
use crate::Policy;
use crate::data::{DataError, Decoded};
use crate::stream::{self, Record, Records, Sink as _};

/// Decides every row of `batches` with `decide` (given the row's number
/// from 1 and the person, or why the row is bad input), gathers the
/// answers of each piece of a batch with `gather` on the thread that
/// decided them, and hands each piece's, in row order, to `sink`. With
/// `jobs` above 1 `jobs` threads take turns reading a batch, then each
/// matches the batch it read with the schema (keeping the values of the
/// row group's dictionaries it has read, its own) and decides its rows;
/// with 1 the calling thread does everything. The first error of the
/// input as a whole (a column of the wrong type, an unreadable file) or
/// of `sink` ends the run.
pub fn run<T, P, E>(
    policy: &Policy,
    batches: impl Iterator<Item = Result<RecordBatch, ColumnarError>> + Send,
    jobs: NonZeroUsize,
    decide: impl Fn(usize, Result<Decoded, DataError>) -> T + Sync,
    gather: impl Fn(Vec<T>) -> P + Sync,
    sink: impl FnMut(P) -> Result<(), E>,
) -> Result<(), E>
where
    P: Send,
    E: From<ColumnarError> + From<std::io::Error>,
{
    let rows = Opened {
        len: RecordBatch::num_rows,
        state: Dictionaries::default,
        open: |dictionaries: &mut Dictionaries, batch: RecordBatch| {
            Rows::after(&batch, policy, dictionaries)
        },
    };
    in_chunks(batches, jobs, sink, rows, |rows, before, range| {
        let mut answers = Vec::with_capacity(range.len());
        rows.decode_each(range, |i, person| {
            answers.push(decide(before + i + 1, person));
        });
        gather(answers)
    })
}

/// [`run`] for JSON Lines: decides every record of `input` (lines of at
/// most `max_line_bytes`) with `decide` (given the record's first line and
/// the person, or why the record is bad input), handing the answers,
/// gathered with `gather`, in input order to `sink`. A read error ends
/// the run.
pub fn run_lines<T, P, E>(
    policy: &Policy,
    input: impl BufRead + Send,
    max_line_bytes: usize,
    jobs: NonZeroUsize,
    decide: impl Fn(usize, Result<Decoded, DataError>) -> T + Sync,
    gather: impl Fn(Vec<T>) -> P + Sync,
    sink: impl FnMut(P) -> Result<(), E>,
) -> Result<(), E>
where
    P: Send,
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
    let records = Opened {
        len: Vec::len,
        state: || (),
        open: |(): &mut (), chunk| Ok(chunk),
    };
    in_chunks(chunks, jobs, sink, records, |chunk, _, range| {
        gather(
            (chunk.get(range).unwrap_or_default().iter())
                .map(|record| decide(record.line, stream::read_record(policy, record)))
                .collect(),
        )
    })
}

/// The most items of a chunk answered at a time: the answers of a
/// larger chunk are handed on in pieces of this size.
const PIECE: usize = 1024;

/// How the chunks of a run are read by [`in_chunks`]: how many items a
/// chunk read has (`len`), and how each thread makes it ready to answer
/// (`open`: matched with the policy's schema), with a state of its own
/// (made by `state`: the values of the dictionaries of the row group it
/// reads, its own, so that no value is shared by two threads).
pub(crate) struct Opened<L, S, O> {
    pub(crate) len: L,
    pub(crate) state: S,
    pub(crate) open: O,
}

/// Hands the answers to every item of every chunk to `sink`, in order:
/// a chunk read is opened and counted as `opened` says, and `answer`
/// answers the items of a range, in order, given their chunk, the number
/// of items in the chunks before and the range. With `jobs` above 1 the
/// stream engine's threads do it ([`stream::pool`]): each in turn reads
/// the next chunk, then opens and answers it, so that a chunk is
/// answered from the cache of the thread that read it. The first error
/// of `chunks` (or of opening one) ends the run, after the answers of the
/// chunks before it.
pub(crate) fn in_chunks<B, C, X, St, P, E>(
    chunks: impl Iterator<Item = Result<B, X>> + Send,
    jobs: NonZeroUsize,
    mut sink: impl FnMut(P) -> Result<(), E>,
    opened: Opened<
        impl Fn(&B) -> usize + Send,
        impl Fn() -> St + Sync,
        impl Fn(&mut St, B) -> Result<C, X> + Sync,
    >,
    answer: impl Fn(&C, usize, Range<usize>) -> P + Sync,
) -> Result<(), E>
where
    B: Send,
    X: Into<E> + Send,
    P: Send,
{
    let Opened { len, state, open } = opened;
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
        })
        .fuse();
    let work = |state: &mut St, c: Result<Counted<B>, X>| {
        let c = c?;
        let pieces = c.pieces();
        let chunk = open(state, c.chunk)?;
        Ok::<Vec<_>, X>(
            pieces
                .map(|range| answer(&chunk, c.before, range))
                .collect(),
        )
    };
    let mut chunks = if jobs.get() > 1 {
        let read = |chunks: &mut std::iter::Fuse<_>, _: &mut St| chunks.next();
        match stream::pool(
            jobs.get(),
            chunks,
            &state,
            read,
            work,
            &mut InOrder(&mut sink),
        ) {
            Ok(done) => return done,
            // No thread could be started: this one answers.
            Err(chunks) => chunks,
        }
    } else {
        chunks
    };
    let mut mine = state();
    chunks.try_for_each(|c| InOrder(&mut sink).take(work(&mut mine, c)))
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

impl<P, X: Into<E>, E, F: FnMut(P) -> Result<(), E>> stream::Sink<Result<Vec<P>, X>>
    for InOrder<'_, F>
{
    type Error = E;

    fn take(&mut self, answers: Result<Vec<P>, X>) -> Result<(), E> {
        answers
            .map_err(Into::into)?
            .into_iter()
            .try_for_each(&mut *self.0)
    }

    fn idle(&mut self) -> Result<(), E> {
        Ok(())
    }
}
