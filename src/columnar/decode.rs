//! Arrow arrays → values, row by row, in the shape the policy's schema
//! declares.
//!
//! A batch is matched with the schema once ([`Rows::new`]): each declared
//! field finds its column by name, and the column's type is checked then,
//! so that a row only reads values. Reading a row builds its record just
//! as the JSON reader would from the same person, with the same errors for
//! bad values (named by the same paths: `stays[3].region`).

use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray as _;
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, StructArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use super::ColumnarError;
use super::arrays::{
    Micros, Offsets, Strings, accepted, declared, durations, found, numbers, timestamps,
};
use crate::data::path::Path;
use crate::data::reader::{Recent, expecting, scalar};
use crate::data::{DataError, DataWarning, Decoded, Reading};
use crate::types::{RecordType, Type};
use crate::value::Value;
use crate::{Policy, region, suggest, time};

/// The rows of one batch, matched with a policy's schema: decode each with
/// [`Rows::decode`].
pub struct Rows<'p> {
    root: Record<'p>,
    len: usize,
    reading: Reading<'p>,
    /// Whether every record warns (of a column spelt nearly like a field
    /// that has none): then each row is decoded by itself.
    warns: bool,
}

impl<'p> Rows<'p> {
    /// Matches `batch` with the schema of `policy`: every declared field
    /// with its column (by name; a field without one is as if every row
    /// left it out), every column's type with its field's.
    pub fn new(batch: &RecordBatch, policy: &'p Policy) -> Result<Rows<'p>, ColumnarError> {
        Rows::after(batch, policy, &mut Dictionaries::default())
    }

    /// [`Rows::new`] for the next batch of a run: a column of strings
    /// whose dictionary is the one it had in the batch before (as it is
    /// in each batch of a Parquet row group) keeps the values of its
    /// entries read so far, which `dictionaries` holds from batch to
    /// batch.
    pub fn after(
        batch: &RecordBatch,
        policy: &'p Policy,
        dictionaries: &mut Dictionaries,
    ) -> Result<Rows<'p>, ColumnarError> {
        let reading = policy.reading();
        let root = StructArray::from(batch.clone());
        dictionaries.at = 0;
        let root = Record::build(
            &root,
            &policy.program().input,
            "",
            reading.strict,
            dictionaries,
        )?;
        Ok(Rows {
            warns: root.warns(),
            root,
            len: batch.num_rows(),
            reading,
        })
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The person in row `row` (from 0), or why it is bad input. Its
    /// constraints are checked when it is decided.
    pub fn decode(&self, row: usize) -> Result<Decoded, DataError> {
        let mut scratch = Scratch {
            reading: self.reading,
            warnings: Vec::new(),
            buffers: Vec::new(),
            recent: Recent::default(),
        };
        let fields = self
            .root
            .value(row, &Path::Root, &mut scratch)
            .map_err(|message| DataError {
                message,
                line: None,
                column: None,
            })?;
        Ok(Decoded {
            value: Value::Record(fields),
            warnings: scratch.warnings,
            given: Vec::new(),
        })
    }
}

/// The dictionaries of the string columns of the batch before, in the
/// order [`Rows::after`] matches the columns, each with the values of its
/// entries read so far: a column whose dictionary is the same (the same
/// buffers, which the dictionary kept here cannot let go) reads them
/// again from here.
#[derive(Default)]
pub struct Dictionaries {
    seen: Vec<(ArrayRef, Arc<columns::Entries>)>,
    /// The next column's place in `seen`.
    at: usize,
}

impl Dictionaries {
    /// The entries of the next dictionary column, whose dictionary is
    /// `values`: those of the batch before if it had the same one.
    fn entries(&mut self, values: &ArrayRef) -> Arc<columns::Entries> {
        let at = self.at;
        self.at += 1;
        if let Some((kept, entries)) = self.seen.get(at)
            && kept.to_data().ptr_eq(&values.to_data())
        {
            return Arc::clone(entries);
        }
        let entries: Arc<columns::Entries> =
            Arc::new((0..values.len()).map(|_| OnceLock::new()).collect());
        let seen = (Arc::clone(values), Arc::clone(&entries));
        match self.seen.get_mut(at) {
            Some(slot) => *slot = seen,
            None => self.seen.push(seen),
        }
        entries
    }
}

/// What decoding one row carries along: how to read, the warnings so far,
/// and spare buffers for the elements of lists (one per level of nesting),
/// so that a list is allocated once, at its length.
struct Scratch<'r> {
    reading: Reading<'r>,
    warnings: Vec<DataWarning>,
    buffers: Vec<Vec<Value>>,
    /// The texts read last, shared.
    recent: Recent,
}

/// Records with at most this many fields are gathered on the stack.
const SMALL: usize = 12;

/// A struct column matched with a record type.
struct Record<'p> {
    schema: &'p RecordType,
    /// The column of each declared field, by slot.
    fields: Vec<Option<Column<'p>>>,
    nulls: Option<NullBuffer>,
    /// Undeclared columns spelt nearly like a declared field that has no
    /// column, with that field: each record warns of them, as in JSON.
    near: Vec<(String, &'p str)>,
}

/// A column matched with the type of its field or element.
struct Column<'p> {
    ty: &'p Type,
    nulls: Option<NullBuffer>,
    data: Data<'p>,
    /// For a column of dictionary-encoded strings, the value of each
    /// entry, read once.
    entries: Option<Arc<columns::Entries>>,
}

/// A column's values, in the form they are read in.
enum Data<'p> {
    /// Only nulls (Arrow's null type, as a column that is always empty is
    /// often written).
    Null,
    Bool(BooleanArray),
    Number(Vec<f64>),
    /// Strings, read as the type asks (text, instant, duration, region or
    /// choice).
    Strings(Strings),
    /// Microseconds since the epoch; `naive`: a wall-clock time, read in
    /// the policy's zone.
    Time {
        micros: Micros,
        naive: bool,
    },
    /// Microseconds.
    Duration(Micros),
    List {
        offsets: Offsets,
        element: Box<Column<'p>>,
    },
    Record(Box<Record<'p>>),
    /// A type data does not give (an interval): read as none.
    Skip,
}

impl<'p> Record<'p> {
    /// Matches the fields of `array` with `schema`; `column` is the
    /// struct's own column path (empty at the root).
    fn build(
        array: &StructArray,
        schema: &'p RecordType,
        column: &str,
        strict: bool,
        dictionaries: &mut Dictionaries,
    ) -> Result<Record<'p>, ColumnarError> {
        let names = array.column_names();
        let path = |name: &str| {
            if column.is_empty() {
                name.to_owned()
            } else {
                format!("{column}.{name}")
            }
        };
        let mut near = Vec::new();
        for name in &names {
            if schema.field(name).is_some() {
                continue;
            }
            let absent = schema
                .fields
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !names.contains(n));
            let suggestion = suggest::did_you_mean(name, absent);
            if strict {
                let hint =
                    suggest::did_you_mean(name, schema.fields.iter().map(|(n, _)| n.as_str()))
                        .map(|n| format!("; did you mean `{n}`?"))
                        .unwrap_or_default();
                return Err(ColumnarError::Undeclared {
                    column: path(name),
                    hint,
                });
            }
            if let Some(field) = suggestion {
                near.push(((*name).to_owned(), field));
            }
        }
        let fields = schema
            .fields
            .iter()
            .map(|(name, ty)| {
                array
                    .column_by_name(name)
                    .map(|a| Column::build(a, ty, &path(name), name, strict, dictionaries))
                    .transpose()
            })
            .collect::<Result<_, _>>()?;
        Ok(Record {
            schema,
            fields,
            nulls: array.logical_nulls(),
            near,
        })
    }

    fn is_null(&self, row: usize) -> bool {
        self.nulls.as_ref().is_some_and(|n| n.is_null(row))
    }

    /// Whether this record, or one nested in it, warns of a near column.
    fn warns(&self) -> bool {
        !self.near.is_empty()
            || (self.fields.iter().flatten()).any(|c| {
                let mut data = &c.data;
                while let Data::List { element, .. } = data {
                    data = &element.data;
                }
                matches!(data, Data::Record(r) if r.warns())
            })
    }

    /// The record in row `row`, at `path`.
    fn value(
        &self,
        row: usize,
        path: &Path<'_>,
        scratch: &mut Scratch<'_>,
    ) -> Result<Arc<[Value]>, String> {
        // Small records are gathered on the stack, so that a record costs a
        // single allocation.
        let mut small: [Value; SMALL] = [const { Value::None }; SMALL];
        let mut large: Vec<Value> = Vec::new();
        let n = self.fields.len();
        let values: &mut [Value] = if n <= SMALL {
            &mut small[..n]
        } else {
            large.resize(n, Value::None);
            &mut large
        };
        let fields = self.schema.fields.iter().zip(&self.fields);
        for (slot, (((name, ty), column), out)) in fields.zip(values.iter_mut()).enumerate() {
            let here = Path::Field(path, name);
            let given = column.as_ref().filter(|c| !c.is_null(row));
            let value = match (column, given) {
                (_, Some(column)) => {
                    column.value_into(row, &here, scratch, out)?;
                    continue;
                }
                // Null, where the type has a way to say nothing.
                (Some(_), None)
                    if matches!(ty, Type::Optional(_) | Type::List(_) | Type::Set(_)) =>
                {
                    Value::absent(ty)
                }
                (None, None) if !self.schema.is_required(slot) => Value::absent(ty),
                _ => {
                    let record = match path {
                        Path::Root => "the record".to_owned(),
                        p => p.quoted(),
                    };
                    return Err(format!("{record}: required field `{name}` is missing"));
                }
            };
            *out = value;
        }
        for (key, field) in &self.near {
            scratch.warnings.push(DataWarning::NearField {
                path: Path::Field(path, key).to_string(),
                field: (*field).to_owned(),
            });
        }
        Ok(values.iter_mut().map(std::mem::take).collect())
    }
}

impl<'p> Column<'p> {
    /// Matches `array` with `ty`, the type of field `field` whose column is
    /// `column`.
    fn build(
        array: &ArrayRef,
        ty: &'p Type,
        column: &str,
        field: &str,
        strict: bool,
        dictionaries: &mut Dictionaries,
    ) -> Result<Column<'p>, ColumnarError> {
        let inner = ty.non_optional();
        let wrong = || ColumnarError::WrongType {
            column: column.to_owned(),
            field: field.to_owned(),
            declared: declared(ty),
            found: found(array.data_type()),
            expected: accepted(inner),
        };
        let stringy = matches!(
            inner,
            Type::Text | Type::Time | Type::Duration | Type::Region | Type::Enum(_)
        );
        let data =
            match (inner, array.data_type()) {
                (_, DataType::Null) => Data::Null,
                (Type::Interval | Type::Error, _) => Data::Skip,
                (Type::Bool, DataType::Boolean) => Data::Bool(array.as_boolean().clone()),
                (Type::Number, dt) => Data::Number(numbers(array.as_ref(), dt).ok_or_else(wrong)?),
                (
                    _,
                    DataType::Utf8
                    | DataType::LargeUtf8
                    | DataType::Utf8View
                    | DataType::Dictionary(..),
                ) if stringy => Data::Strings(Strings::of(array.as_ref()).ok_or_else(wrong)?),
                (Type::Time, DataType::Timestamp(unit, zone)) => Data::Time {
                    micros: timestamps(array.as_ref(), *unit),
                    naive: zone.is_none(),
                },
                (Type::Duration, DataType::Duration(unit)) => {
                    Data::Duration(durations(array.as_ref(), *unit))
                }
                (
                    Type::List(element) | Type::Set(element),
                    DataType::List(_) | DataType::LargeList(_),
                ) => {
                    let (offsets, values) = match array.as_list_opt::<i32>() {
                        Some(list) => (Offsets::Small(list.offsets().clone()), list.values()),
                        None => {
                            let list = array.as_list::<i64>();
                            (Offsets::Large(list.offsets().clone()), list.values())
                        }
                    };
                    let column = (column, field);
                    Column::list(offsets, values, element, column, strict, dictionaries)?
                }
                (Type::Record(record), DataType::Struct(_)) => Data::Record(Box::new(
                    Record::build(array.as_struct(), record, column, strict, dictionaries)?,
                )),
                _ => return Err(wrong()),
            };
        let entries = match &data {
            Data::Strings(s) if s.entries().is_some() => array
                .as_any_dictionary_opt()
                .map(|d| dictionaries.entries(d.values())),
            _ => None,
        };
        Ok(Column {
            ty,
            nulls: array.logical_nulls(),
            data,
            entries,
        })
    }

    /// A list column: its `offsets`, and its elements `values` matched
    /// with `element`.
    fn list(
        offsets: Offsets,
        values: &ArrayRef,
        element: &'p Type,
        (column, field): (&str, &str),
        strict: bool,
        dictionaries: &mut Dictionaries,
    ) -> Result<Data<'p>, ColumnarError> {
        let column = format!("{column}[]");
        Ok(Data::List {
            offsets,
            element: Box::new(Column::build(
                values,
                element,
                &column,
                field,
                strict,
                dictionaries,
            )?),
        })
    }

    fn is_null(&self, row: usize) -> bool {
        matches!(self.data, Data::Null) || self.nulls.as_ref().is_some_and(|n| n.is_null(row))
    }

    /// [`Column::value`] written into `out`: it saves moving the value
    /// (and the result around it) through the stack, which costs a store
    /// forwarding stall per field.
    fn value_into(
        &self,
        row: usize,
        path: &Path<'_>,
        scratch: &mut Scratch<'_>,
        out: &mut Value,
    ) -> Result<(), String> {
        match &self.data {
            Data::Strings(s) => match self.ty.non_optional() {
                Type::Text => *out = Value::Text(scratch.recent.share(s.get(row))),
                inner => *out = string(s.get(row), inner, path, scratch)?,
            },
            Data::Time {
                micros,
                naive: false,
            } => {
                let t = micros.get(row).unwrap_or(i64::MIN);
                if !(time::MIN_INSTANT..=time::MAX_INSTANT).contains(&t) {
                    return Err(out_of_range(path));
                }
                *out = Value::Time(t);
            }
            Data::Bool(a) => *out = Value::Bool(a.value(row)),
            _ => *out = self.value(row, path, scratch)?,
        }
        Ok(())
    }

    /// The value in row `row` (not null), at `path`.
    fn value(
        &self,
        row: usize,
        path: &Path<'_>,
        scratch: &mut Scratch<'_>,
    ) -> Result<Value, String> {
        let inner = self.ty.non_optional();
        Ok(match &self.data {
            Data::Null | Data::Skip => Value::None,
            Data::Bool(a) => Value::Bool(a.value(row)),
            Data::Number(n) => match n.get(row) {
                Some(&n) if n.is_finite() => Value::Number(n),
                _ => return Err(format!("{}: expected a finite number", path.quoted())),
            },
            Data::Strings(s) => string(s.get(row), inner, path, scratch)?,
            Data::Time { micros, naive } => {
                let t = micros.get(row).unwrap_or(i64::MIN);
                if *naive {
                    local(t, path, scratch.reading)?
                } else if (time::MIN_INSTANT..=time::MAX_INSTANT).contains(&t) {
                    Value::Time(t)
                } else {
                    return Err(out_of_range(path));
                }
            }
            Data::Duration(d) => Value::Duration(d.get(row).unwrap_or_default()),
            Data::List { offsets, element } => {
                let range = offsets.range(row);
                if range.is_empty() {
                    return Ok(Value::absent(inner));
                }
                let mut items = scratch.buffers.pop().unwrap_or_default();
                let read = element.elements(range, path, scratch, &mut items);
                let value = match inner {
                    Type::Set(_) => Value::set_of(std::mem::take(&mut items)),
                    _ => Value::List(items.drain(..).collect()),
                };
                items.clear();
                scratch.buffers.push(items);
                read?;
                value
            }
            Data::Record(record) => {
                if record.is_null(row) {
                    return Err(format!("{}: expected an object, found null", path.quoted()));
                }
                Value::Record(record.value(row, path, scratch)?)
            }
        })
    }

    /// The elements in `range` of this element column, of the list at
    /// `path`, into `items`.
    fn elements(
        &self,
        range: std::ops::Range<usize>,
        path: &Path<'_>,
        scratch: &mut Scratch<'_>,
        items: &mut Vec<Value>,
    ) -> Result<(), String> {
        for (index, i) in range.enumerate() {
            let here = Path::Index(path, index);
            if !self.is_null(i) {
                items.push(Value::None);
                if let Some(out) = items.last_mut() {
                    self.value_into(i, &here, scratch, out)?;
                }
                continue;
            }
            match self.ty {
                Type::Optional(_) => items.push(Value::None),
                Type::List(_) | Type::Set(_) => items.push(Value::absent(self.ty)),
                ty => {
                    return Err(format!(
                        "{}: expected {}, found null",
                        here.quoted(),
                        expecting(ty)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A string read as `ty` asks, the common instants and region codes
/// straight from their bytes.
fn string(
    text: &str,
    ty: &Type,
    path: &Path<'_>,
    scratch: &mut Scratch<'_>,
) -> Result<Value, String> {
    if let Type::Text = ty {
        return Ok(Value::Text(scratch.recent.share(text)));
    }
    if let Some(value) = quick(text, ty) {
        return Ok(value);
    }
    scalar(text, ty, path, scratch.reading, &mut scratch.warnings)
}

/// A common instant or a region code in the table, read straight from its
/// bytes; `None` for anything else, which [`scalar`] reads.
fn quick(text: &str, ty: &Type) -> Option<Value> {
    match ty {
        Type::Time if text.len() == 25 => time::parse_rfc3339_seconds(text.as_bytes())
            .filter(|t| (time::MIN_INSTANT..=time::MAX_INSTANT).contains(t))
            .map(Value::Time),
        Type::Region if text.len() == 6 => region::parse_code(text)
            .filter(|c| region::lookup(*c).is_some())
            .map(Value::Region),
        _ => None,
    }
}

/// A wall-clock time (an Arrow timestamp without a zone), read in the
/// policy's zone as an instant without an offset is.
fn local(micros: i64, path: &Path<'_>, reading: Reading<'_>) -> Result<Value, String> {
    let clock = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::from_microsecond(micros).map_err(|_| out_of_range(path))?);
    time::parse_instant(&clock.to_string(), reading.timezone, reading.resolve)
        .map(Value::Time)
        .map_err(|e| format!("{}: {e}", path.quoted()))
}

fn out_of_range(path: &Path<'_>) -> String {
    format!(
        "{}: the instant is out of range (years 0000 to 9999)",
        path.quoted()
    )
}

mod columns;

#[cfg(test)]
mod tests;
