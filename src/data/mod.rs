//! JSON → values, decoded straight into the shape the policy's schema
//! declares: no intermediate JSON tree, no look-up by name afterwards.
//!
//! Bad data is never guessed at: a wrong type, an unreadable instant, a
//! region that is not six digits or a value outside a listed choice is an
//! error that names its JSON path (`stays[3].region`).

mod path;
mod seed;

use std::cell::RefCell;

use jiff::tz::TimeZone;
use miette::Diagnostic;
use thiserror::Error;

use crate::types::RecordType;
use crate::value::Value;
use path::Path;
use seed::RecordSeed;

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
    pub warnings: Vec<String>,
}

/// Decoding state shared by every seed of one document.
pub(crate) struct Context<'a> {
    pub(crate) timezone: &'a TimeZone,
    pub(crate) warnings: RefCell<Vec<String>>,
}

/// Decodes one JSON document (a person or the facts) against `schema`.
/// Instants without an offset are read in `timezone`.
pub fn decode(text: &str, schema: &RecordType, timezone: &TimeZone) -> Result<Decoded, DataError> {
    use serde::de::DeserializeSeed as _;
    let ctx = Context {
        timezone,
        warnings: RefCell::new(Vec::new()),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let seed = RecordSeed {
        record: schema,
        ctx: &ctx,
        path: &Path::Root,
    };
    let value = seed
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| json_error(&e))?;
    Ok(Decoded {
        value: Value::Record(value),
        warnings: ctx.warnings.into_inner(),
    })
}

/// Our error from serde_json's, without its position suffix (we keep the
/// position in fields).
fn json_error(e: &serde_json::Error) -> DataError {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    let message = match e.classify() {
        serde_json::error::Category::Eof if message.starts_with("EOF") => {
            "the JSON ends too early".to_owned()
        }
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("not valid JSON: {message}")
        }
        _ => message,
    };
    DataError {
        message,
        line: (e.line() > 1).then_some(e.line()),
        column: (e.column() > 0).then_some(e.column()),
    }
}

/// Whether `e` means the text ended inside a value (so a JSON document may
/// continue on the next line).
pub fn is_incomplete(e: &DataError) -> bool {
    e.message == "the JSON ends too early"
}

#[cfg(test)]
mod tests;
