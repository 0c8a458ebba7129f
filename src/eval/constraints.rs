//! The constraints of a schema's records (`requiring ...`), checked on
//! decoded data by the one evaluator: a record that breaks one is bad
//! input, named by its JSON path, like a value of the wrong type.

use super::{Evaluator, Facts};
use crate::compile::Plan;
use crate::data::DataError;
use crate::types::{RecordType, Type};
use crate::value::Value;

/// Checks every record of `value` (of type `schema`) against its type's
/// constraints. Only the parts of the schema that hold constraints are
/// walked.
pub(crate) fn check(plan: &Plan, value: &Value, schema: &RecordType) -> Result<(), DataError> {
    if !schema.is_constrained() {
        return Ok(());
    }
    let facts = Facts::none();
    let none = Value::None;
    let evaluator = Evaluator::bare(plan, &facts, &none, 0);
    let mut path = String::new();
    record(&evaluator, value, schema, &mut path)
}

fn record(
    ev: &Evaluator<'_, '_>,
    value: &Value,
    schema: &RecordType,
    path: &mut String,
) -> Result<(), DataError> {
    let Value::Record(fields) = value else {
        return Ok(());
    };
    for c in &schema.constraints {
        if !ev.holds_for(value, &c.condition) {
            let what = if path.is_empty() {
                "the record".to_owned()
            } else {
                format!("`{path}`")
            };
            return Err(DataError {
                message: format!("{what}: breaks `requiring {}`", c.text),
                line: None,
                column: None,
            });
        }
    }
    for (v, (name, ty)) in fields.iter().zip(&schema.fields) {
        if !ty.is_constrained() {
            continue;
        }
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
        typed(ev, v, ty, path)?;
        path.truncate(len);
    }
    Ok(())
}

fn typed(
    ev: &Evaluator<'_, '_>,
    value: &Value,
    ty: &Type,
    path: &mut String,
) -> Result<(), DataError> {
    match ty {
        Type::Optional(inner) => typed(ev, value, inner, path),
        Type::Record(r) => record(ev, value, r, path),
        Type::List(inner) | Type::Set(inner) => {
            for (i, item) in value.elements().iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                typed(ev, item, inner, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
