//! JSON → values, decoded straight into the shape the policy's schema
//! declares: no intermediate JSON tree, no look-up by name afterwards.
//!
//! Bad data is never guessed at: a wrong type, an unreadable instant, a
//! region that is not six digits or a value outside a listed choice is an
//! error that names its JSON path (`stays[3].region`).

mod path;
mod reader;

use jiff::tz::TimeZone;
use miette::Diagnostic;
use thiserror::Error;

use crate::types::RecordType;
use crate::value::Value;
use reader::Reader;

/// Data that does not fit the schema, or is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
#[error("{}{message}", line.map(|l| format!("line {l}, ")).unwrap_or_default() + &column.map(|c| format!("column {c}: ")).unwrap_or_default())]
#[diagnostic(
    code(policy::data::invalid),
    help(
        "the input must match the schema the policy declares; see `policyc check` and the contract"
    )
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
}

/// What a decode found: the record and the warnings it gave.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The record, fields by slot.
    pub value: Value,
    /// Things worth knowing that are not errors, e.g. a region code missing
    /// from the table.
    pub warnings: Vec<DataWarning>,
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
}

impl std::fmt::Display for DataWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataWarning::UnknownRegion { path, code } => write!(
                f,
                "`{path}`: region {code} is not in the shipped GB/T 2260 table; it matches only by its exact code"
            ),
        }
    }
}

/// The message of every error that means the text ended inside a value.
pub(crate) const EOF: &str = "the JSON ends too early";

/// Decodes one JSON document (a person or the facts) against `schema`.
/// Instants without an offset are read in `timezone`.
pub fn decode(text: &str, schema: &RecordType, timezone: &TimeZone) -> Result<Decoded, DataError> {
    let mut reader = Reader::new(text, timezone);
    let value = reader.document(schema)?;
    Ok(Decoded {
        value,
        warnings: reader.warnings,
    })
}

/// Whether `e` means the text ended inside a value (so a JSON document may
/// continue on the next line).
pub fn is_incomplete(e: &DataError) -> bool {
    e.message == EOF
}

#[cfg(test)]
mod tests;
