//! What to write instead, for each kind of data error.
//!
//! A [`DataError`](super::DataError) is a message and a place: the
//! message is the contract's error line, which must not change, so the help
//! is worked out from it here, and from the schema the data was read
//! against when one is at hand (a missing field's type, the fields a record
//! declares).

use crate::types::{RecordType, Type};

/// The accepted forms of an instant.
const INSTANT: &str = "write an instant like \"2021-10-31T09:00:00+08:00\" (RFC 3339), \"2021-10-31T09:00\" or \"2021-10-31\"; without an offset it is read in the policy's time zone";

/// The help for a data error with `message`, read against `schema` if
/// known.
pub(crate) fn help(message: &str, schema: Option<&RecordType>) -> String {
    if message.starts_with("not valid UTF-8") {
        return "save the input as UTF-8".into();
    }
    if message.starts_with("the line is longer than") {
        return "split the record, or allow longer lines with `--max-line-bytes`".into();
    }
    if message.contains("exceeds the evaluation budget") {
        return "allow more steps with a larger `--budget`".into();
    }
    if message.starts_with("an empty line") {
        return "write one JSON object on each line, and no empty lines".into();
    }
    if message == super::EOF {
        return "close every string, list and object the record opens".into();
    }
    let (path, what) = split_path(message);
    if let Some(rule) = what
        .strip_prefix("breaks `requiring ")
        .and_then(|r| r.strip_suffix('`'))
    {
        return format!("give values for which `{rule}` holds");
    }
    if let Some(field) = what
        .strip_prefix("required field `")
        .and_then(|r| r.strip_suffix("` is missing"))
    {
        let ty = schema
            .and_then(|s| record_at(s, path))
            .and_then(|r| r.field_by_key(field))
            .map(|(_, t)| format!(" (of type `{t}`)"))
            .unwrap_or_default();
        return format!("give the field `{field}`{ty}");
    }
    if what.starts_with("not declared by the policy") {
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        let declared = schema.and_then(|s| record_at(s, parent)).map(|r| {
            let names: Vec<String> = (0..r.fields.len())
                .map(|s| format!("`{}`", r.key(s)))
                .collect();
            names.join(", ")
        });
        return match declared {
            Some(names) if !names.is_empty() => {
                format!("remove it; the fields declared here are {names}")
            }
            _ => "remove it; nothing is declared here".into(),
        };
    }
    if what == "given twice" {
        return "give each field once".into();
    }
    if what.starts_with("expected a six-digit region code") {
        return "write a region as its six-digit GB/T 2260 code, in a string: \"110105\"".into();
    }
    if what.starts_with("expected a duration") {
        return "write a duration like \"48h\", \"30m\" or \"14d\"".into();
    }
    if let Some(choices) = what
        .strip_prefix("expected one of ")
        .and_then(|r| r.rsplit_once(", found ").map(|(c, _)| c))
    {
        return format!("write exactly one of {choices}");
    }
    if what.starts_with("expected an instant")
        || what.ends_with("is not a real date and time")
        || what.contains("has an offset out of range")
        || what.contains("is outside the years")
        || what.contains(" the clocks ")
    {
        return INSTANT.into();
    }
    if let Some(expected) = what
        .strip_prefix("expected ")
        .and_then(|r| r.rsplit_once(", found ").map(|(e, _)| e))
    {
        return format!("write {expected} here");
    }
    if message.starts_with("not valid JSON") {
        return "write each record as one JSON object (RFC 8259)".into();
    }
    if message == "number out of range" {
        return "write a number a 64-bit float holds".into();
    }
    if message == "nested too deeply" {
        return "nest an ignored value less deeply, or leave it out".into();
    }
    "the input must match the schema the policy declares; see `policyc check` and the contract"
        .into()
}

/// The JSON path a message starts with (`` `stays[0].from`: ``), without
/// its indices and backticks, and the rest; `""` for the document itself.
fn split_path(message: &str) -> (&str, &str) {
    if let Some(rest) = message.strip_prefix('`')
        && let Some((path, what)) = rest.split_once("`: ")
    {
        return (path, what);
    }
    for root in ["the record: ", "the document: "] {
        if let Some(what) = message.strip_prefix(root) {
            return ("", what);
        }
    }
    ("", message)
}

/// The record type at a JSON path (`stays[0]`) of a document of `schema`.
fn record_at<'s>(schema: &'s RecordType, path: &str) -> Option<&'s RecordType> {
    let mut record = schema;
    for step in path.split('.').filter(|s| !s.is_empty()) {
        let name = step.split('[').next().unwrap_or(step);
        let (_, ty) = record.field_by_key(name)?;
        record = inner_record(ty)?;
    }
    Some(record)
}

/// The record a field of type `ty` holds, through lists, sets and `?`.
fn inner_record(ty: &Type) -> Option<&RecordType> {
    match ty {
        Type::Record(r) => Some(r),
        Type::Optional(t) | Type::List(t) | Type::Set(t) => inner_record(t),
        _ => None,
    }
}
