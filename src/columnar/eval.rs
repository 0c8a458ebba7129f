//! `eval` over columnar data: people from Parquet or JSON Lines decided
//! into a Parquet file of decisions, or people from Parquet decided into
//! JSON Lines, on several threads in input order.

use std::io::{BufRead, Write};
use std::num::NonZeroUsize;
use std::path::Path;

use super::{ColumnarError, DecisionWriter, Decisions, ParquetFile, run, run_lines};
use crate::stream::{self, Decider, StreamError, Summary};
use crate::{DataError, Extras, Facts, Policy};

/// Where the people of a run come from.
pub enum People<R> {
    /// A Parquet file, one person a row.
    Parquet(ParquetFile),
    /// JSON Lines, lines of at most `max_line_bytes`.
    Lines {
        /// The input.
        input: R,
        /// The longest line read.
        max_line_bytes: usize,
    },
}

/// Why a columnar run stopped: the caller says it, as it says a
/// [`StreamError`].
#[derive(Debug)]
pub enum EvalError {
    /// The columnar input or output as a whole.
    Columnar(ColumnarError),
    /// Reading the input, or writing the output.
    Stream(StreamError),
}

impl From<ColumnarError> for EvalError {
    fn from(e: ColumnarError) -> Self {
        EvalError::Columnar(e)
    }
}

impl From<StreamError> for EvalError {
    fn from(e: StreamError) -> Self {
        EvalError::Stream(e)
    }
}

impl From<std::io::Error> for EvalError {
    fn from(e: std::io::Error) -> Self {
        EvalError::Stream(StreamError::Read(e))
    }
}

/// The decisions of a piece of the people, as a batch of the file's
/// columns, with how many there are and the errors among them in order.
struct Piece {
    batch: Result<arrow_array::RecordBatch, ColumnarError>,
    records: usize,
    errors: Vec<DataError>,
}

/// Decides every person of `people` at `now` with `facts` (and `extras`,
/// those a Parquet file holds: `next_change`) and writes the decisions,
/// one row per person in input order, to a Parquet file at `path`, on
/// `jobs` threads. `report` is told of each record that could not be
/// decided, placed at its line (or row).
#[expect(clippy::too_many_arguments, reason = "one per part of a run")]
pub fn eval_to_parquet<R: BufRead + Send>(
    policy: &Policy,
    facts: &Facts,
    now: i64,
    extras: Extras,
    people: People<R>,
    jobs: NonZeroUsize,
    path: &Path,
    mut report: impl FnMut(&DataError),
) -> Result<Summary, EvalError> {
    let mut writer = DecisionWriter::create(path, policy, now, extras.next_change)?;
    let mut summary = Summary::default();
    let decide = |line, person: Result<_, DataError>| {
        person
            .and_then(|p| policy.decide_decoded_with(facts, p, now, extras))
            .map_err(|e| stream::placed(line, e))
    };
    // Each piece's decisions are made a batch of the file's columns by
    // the thread that decided them.
    let gather = |decided: Vec<Result<crate::Decision<'_>, DataError>>| {
        let batch = Decisions::new(policy, extras.next_change).and_then(|mut rows| {
            decided.iter().for_each(|d| rows.push(d.as_ref()));
            rows.finish()
        });
        Piece {
            batch,
            records: decided.len(),
            errors: decided.into_iter().filter_map(Result::err).collect(),
        }
    };
    let sink = |piece: Piece| {
        writer.append(piece.batch?)?;
        summary.records += piece.records;
        summary.bad += piece.errors.len();
        piece.errors.iter().for_each(&mut report);
        Ok::<(), EvalError>(())
    };
    match people {
        People::Parquet(rows) => run(policy, rows, jobs, decide, gather, sink)?,
        People::Lines {
            input,
            max_line_bytes,
        } => run_lines(policy, input, max_line_bytes, jobs, decide, gather, sink)?,
    }
    writer.finish()?;
    Ok(summary)
}

/// Decides every row of `rows` as `decider` says and writes the answers
/// to `out` as JSON Lines, in row order, on `jobs` threads; `report` is
/// told of each row that could not be decided.
pub fn eval_rows(
    decider: &Decider<'_>,
    rows: ParquetFile,
    jobs: NonZeroUsize,
    out: &mut impl Write,
    mut report: impl FnMut(&DataError),
) -> Result<Summary, EvalError> {
    let mut summary = Summary::default();
    let answer = |line, person| decider.answer_decoded(line, person);
    run(
        decider.policy(),
        rows,
        jobs,
        answer,
        |answers| answers,
        |answers| {
            for answer in &answers {
                stream::write_answer(out, answer, &mut summary, &mut report, false)?;
            }
            Ok::<(), EvalError>(())
        },
    )?;
    out.flush().map_err(StreamError::Write)?;
    Ok(summary)
}
