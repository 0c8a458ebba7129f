//! The constraints of a schema's records (`requiring ...`), checked on
//! decoded data by the one evaluator: a record that breaks one is bad
//! input, named by its JSON path, like a value of the wrong type.

use super::{Evaluator, Facts};
use crate::compile::Plan;
use crate::data::DataError;
use crate::data::path::Path;
use crate::types::{RecordType, Type};
use crate::value::Value;

/// Checks every record of `value` (of type `schema`) against its type's
/// constraints. Only the parts of the schema that hold constraints are
/// walked, and nothing is allocated unless a record breaks one.
pub(crate) fn check(plan: &Plan, value: &Value, schema: &RecordType) -> Result<(), DataError> {
    if !schema.is_constrained() {
        return Ok(());
    }
    let facts = Facts::none();
    let none = Value::None;
    let evaluator = Evaluator::bare(plan, &facts, &none, 0);
    record(&evaluator, value, schema, nested(schema), &Path::Root)
}

/// Whether a field of `schema` holds records with constraints: asked once
/// per list, not once per element.
fn nested(schema: &RecordType) -> bool {
    schema.fields.iter().any(|(_, ty)| ty.is_constrained())
}

fn record(
    ev: &Evaluator<'_, '_>,
    value: &Value,
    schema: &RecordType,
    nested: bool,
    path: &Path<'_>,
) -> Result<(), DataError> {
    let Value::Record(fields) = value else {
        return Ok(());
    };
    if let Some(broken) = schema.constraints.iter().find(|c| {
        let condition = ev.plan.constraints.get(c.id).copied().flatten();
        condition.is_some_and(|id| !ev.holds_for(value, id))
    }) {
        return Err(DataError {
            message: format!("{}: breaks `requiring {}`", path.quoted(), broken.text),
            line: None,
            column: None,
        });
    }
    if !nested {
        return Ok(());
    }
    for (v, (name, ty)) in fields.iter().zip(&schema.fields) {
        if ty.is_constrained() {
            typed(ev, v, ty, &Path::Field(path, name))?;
        }
    }
    Ok(())
}

fn typed(
    ev: &Evaluator<'_, '_>,
    value: &Value,
    ty: &Type,
    path: &Path<'_>,
) -> Result<(), DataError> {
    match ty {
        Type::Optional(inner) => typed(ev, value, inner, path),
        Type::Record(r) => record(ev, value, r, nested(r), path),
        Type::List(inner) | Type::Set(inner) => match &**inner {
            Type::Record(r) => {
                let nested = nested(r);
                (value.elements().iter().enumerate())
                    .try_for_each(|(i, item)| record(ev, item, r, nested, &Path::Index(path, i)))
            }
            _ => (value.elements().iter().enumerate())
                .try_for_each(|(i, item)| typed(ev, item, inner, &Path::Index(path, i))),
        },
        _ => Ok(()),
    }
}
