//! JSON → values, decoded straight into the shape the policy's schema
//! declares: no intermediate JSON tree, no look-up by name afterwards.
//!
//! Bad data is never guessed at: a wrong type, an unreadable instant, a
//! region that is not six digits or a value outside a listed choice is an
//! error that names its JSON path (`stays[3].region`).
//!
//! A field the schema does not declare is skipped, but not unseen: when it
//! is a near miss of a declared field that the record leaves out (`test`
//! for `tests`), the decision warns; read strictly (`--strict`, and facts
//! always), it is an error.

mod help;
pub(crate) mod path;
pub(crate) mod reader;

use std::cell::RefCell;

use jiff::tz::TimeZone;
use miette::Diagnostic;
use thiserror::Error;

use crate::time::Resolve;
use crate::types::RecordType;
use crate::value::Value;
use reader::{Reader, Scratch};

/// Data that does not fit the schema, or is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
#[error("{}{message}", line.map(|l| format!("line {l}, ")).unwrap_or_default() + &column.map(|c| format!("column {c}: ")).unwrap_or_default())]
#[diagnostic(
    code(policy::data::invalid),
    help("{}", help::help(.message, None))
)]
pub struct DataError {
    /// What is wrong, with the JSON path.
    pub message: String,
    /// The line of the input (in JSON Lines, the record's line).
    pub line: Option<usize>,
    /// The column in that line.
    pub column: Option<usize>,
}

impl DataError {
    /// The same error, placed on line `line` of a JSON Lines input.
    pub fn on_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// What to write instead, knowing the `schema` the data was read
    /// against: with it, the help names a missing field's type and the
    /// fields a record declares.
    pub fn help_with(&self, schema: &RecordType) -> String {
        help::help(&self.message, Some(schema))
    }
}

/// What a decode found: the record and the warnings it gave.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The record, fields by slot.
    pub value: Value,
    /// Things worth knowing that are not errors, e.g. a region code missing
    /// from the table.
    pub warnings: Vec<DataWarning>,
    /// Which of the record's fields the document gave, by slot (read
    /// `partial` only; otherwise empty).
    pub given: Vec<bool>,
}

/// How a document is read.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// The zone instants without an offset are read in.
    pub timezone: &'a TimeZone,
    /// How local times that the zone skips or repeats are read.
    pub resolve: Resolve,
    /// Every field the schema does not declare is an error, not only
    /// skipped.
    pub strict: bool,
    /// The document may leave out any field of its own record (a facts
    /// file, one of several): whether the required ones are given is
    /// decided over all of them.
    pub partial: bool,
}

impl<'a> Reading<'a> {
    /// Reading in `timezone`, lenient about undeclared fields.
    pub fn new(timezone: &'a TimeZone, resolve: Resolve) -> Self {
        Reading {
            timezone,
            resolve,
            strict: false,
            partial: false,
        }
    }
}

/// Something worth knowing about data that is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataWarning {
    /// A region code in the right shape that the shipped table lacks: it
    /// matches only by its exact code (it lies in no province or city).
    UnknownRegion {
        /// Where, as a JSON path: `stays[0].region`.
        path: String,
        /// The code.
        code: String,
    },
    /// A field the schema does not declare, spelt nearly like a declared
    /// one that the record leaves out: `test` for `tests`.
    NearField {
        /// The undeclared field, as a JSON path: `stays[0].regoin`.
        path: String,
        /// The declared field it is near.
        field: String,
    },
}

impl std::fmt::Display for DataWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataWarning::UnknownRegion { path, code } => write!(
                f,
                "`{path}`: region {code} is not in the shipped GB/T 2260 table; it matches only by its exact code"
            ),
            DataWarning::NearField { path, field } => write!(
                f,
                "`{path}` is not declared by the policy and was ignored; did you mean `{field}`, which this record leaves out?"
            ),
        }
    }
}

/// The message of every error that means the text ended inside a value.
pub(crate) const EOF: &str = "the JSON ends too early";

/// Decodes one JSON document (a person or the facts) against `schema`,
/// read as `reading` says.
///
/// Each thread reads into storage of its own that it reuses from one
/// document to the next ([`reader::Scratch`]): once the values of the
/// documents it read before are dropped, reading allocates nothing for
/// records and lists.
pub fn decode(text: &str, schema: &RecordType, reading: Reading<'_>) -> Result<Decoded, DataError> {
    thread_local! {
        static SCRATCH: RefCell<Scratch> = RefCell::default();
    }
    let read = |scratch: &mut Scratch| {
        let mut reader = Reader::new(text, reading, scratch);
        let value = reader.document(schema)?;
        Ok(Decoded {
            value,
            warnings: reader.warnings,
            given: reader.given,
        })
    };
    SCRATCH
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => read(&mut scratch),
            // Never the case (reading calls no reading), but then a
            // scratch of its own.
            Err(_) => read(&mut Scratch::default()),
        })
        // The thread is ending: a scratch of its own too.
        .unwrap_or_else(|_| read(&mut Scratch::default()))
}

/// Whether `e` means the text ended inside a value (so a JSON document may
/// continue on the next line).
pub fn is_incomplete(e: &DataError) -> bool {
    e.message == EOF
}

#[cfg(test)]
mod tests;
