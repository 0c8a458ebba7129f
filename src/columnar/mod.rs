//! Columnar data: people read from Parquet (or any Arrow record batch) and
//! decisions written as Parquet.
//!
//! [`Rows`] decodes the Arrow arrays of a batch straight into the values
//! the evaluator reads, as [`crate::data`] does for JSON: nested lists of
//! structs map onto the policy's lists of records, column by field name.
//! A column of a type that cannot hold its field is an error for the
//! whole input ([`ColumnarError::WrongType`]), found before any row is
//! decided; a bad value (a missing required field, an unreadable instant,
//! a region that is not six digits) is that row's error, and the other
//! rows are decided. [`ParquetFile`] reads a file's batches, only the
//! columns the policy declares; [`run`] decides them on several threads
//! in row order; [`DecisionWriter`] writes decisions as Parquet;
//! [`eval_to_parquet`] and [`eval_rows`] are `policyc eval` over them.

mod arrays;
mod decode;
mod eval;
mod file;
mod run;
mod write;

use miette::Diagnostic;
use thiserror::Error;

pub use decode::{Dictionaries, Rows};
pub use eval::{EvalError, People, eval_rows, eval_to_parquet};
pub use file::{ParquetFile, is_parquet};
pub(crate) use run::{Opened, in_chunks};
pub use run::{run, run_lines};
pub use write::{DecisionWriter, Decisions};

/// How many rows a batch read from Parquet holds: few enough that the
/// batch's arrays stay in the cache while its rows are decoded and
/// decided (at 8,192 rows the 20,000 people of the Parquet benchmark
/// missed the last-level cache 334,504 times, at 1,024 219,336 times, in
/// as many instructions within 0.3%).
pub const BATCH_ROWS: usize = 1024;

/// What is wrong with columnar input or output as a whole.
#[derive(Debug, Error, Diagnostic)]
pub enum ColumnarError {
    /// A column's type cannot hold the field the policy declares.
    #[error("column `{column}` holds {found}, but the policy declares `{field}` as {declared}")]
    #[diagnostic(
        code(policy::columnar::wrong_type),
        help("write `{column}` as {expected}")
    )]
    WrongType {
        /// The column, as a path: `stays[].region`.
        column: String,
        /// The field's name.
        field: String,
        /// The field's type, as the policy writes it.
        declared: String,
        /// What the column holds, in words.
        found: String,
        /// The column types that can hold the field.
        expected: String,
    },
    /// A column the policy does not declare, read strictly.
    #[error("column `{column}` is not declared by the policy{hint}")]
    #[diagnostic(
        code(policy::columnar::undeclared),
        help("leave the column out of the file, or read without `--strict`")
    )]
    Undeclared {
        /// The column, as a path.
        column: String,
        /// `; did you mean ...?`, or nothing.
        hint: String,
    },
    /// The file cannot be read as Parquet.
    #[error("cannot read `{path}` as Parquet: {message}")]
    #[diagnostic(
        code(policy::columnar::read),
        help(
            "give a Parquet file (compressed with Snappy, or not at all), or JSON Lines with another extension than `.parquet`"
        )
    )]
    Read {
        /// The file.
        path: String,
        /// What went wrong, as the Parquet reader says.
        message: String,
    },
    /// The decisions cannot be written as Parquet.
    #[error("cannot write `{path}` as Parquet: {message}")]
    #[diagnostic(
        code(policy::columnar::write),
        help("check that the folder exists and may be written, and that the disk has room")
    )]
    Write {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A payload field takes the name of one of the output's own columns.
    #[error("payload field `{field}` has the name of a column the decisions have anyway")]
    #[diagnostic(
        code(policy::columnar::payload_name),
        help("rename the payload field, or write the decisions as JSON Lines")
    )]
    PayloadName {
        /// The field.
        field: String,
    },
}
