//! Arrow's arrays as the decoder reads them (strings of every kind as one,
//! list offsets of both widths, numbers and instants in the units the
//! evaluator uses), and column types in words for errors.

use arrow_array::Array;
use arrow_array::cast::AsArray as _;
use arrow_array::types::{
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, TimeUnit};

use crate::time;
use crate::types::Type;

/// The string arrays of Arrow, as one.
pub(super) enum Strings {
    Small(arrow_array::StringArray),
    Large(arrow_array::LargeStringArray),
    View(arrow_array::StringViewArray),
    Dictionary { keys: Keys, values: Box<Strings> },
}

/// The keys of a dictionary's strings: those of 32 bits (as the file's
/// strings are read) straight from the column's buffer, others made
/// `usize` once.
pub(super) enum Keys {
    Int32(ScalarBuffer<i32>),
    Normalized(Vec<usize>),
}

impl Keys {
    fn get(&self, i: usize) -> Option<usize> {
        match self {
            Keys::Int32(k) => k.get(i).and_then(|&k| usize::try_from(k).ok()),
            Keys::Normalized(k) => k.get(i).copied(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Keys::Int32(k) => k.len(),
            Keys::Normalized(k) => k.len(),
        }
    }
}

impl Strings {
    pub(super) fn of(array: &dyn Array) -> Option<Strings> {
        Some(match array.data_type() {
            DataType::Utf8 => Strings::Small(array.as_string::<i32>().clone()),
            DataType::LargeUtf8 => Strings::Large(array.as_string::<i64>().clone()),
            DataType::Utf8View => Strings::View(array.as_string_view().clone()),
            DataType::Dictionary(..) => {
                let dictionary = array.as_any_dictionary_opt()?;
                let values = dictionary.values();
                Strings::Dictionary {
                    keys: match array.as_dictionary_opt::<Int32Type>() {
                        Some(d) => Keys::Int32(d.keys().values().clone()),
                        // A dictionary without values has only null keys.
                        None if values.is_empty() => Keys::Normalized(vec![0; array.len()]),
                        None => Keys::Normalized(dictionary.normalized_keys()),
                    },
                    values: Box::new(Strings::of(values.as_ref())?),
                }
            }
            _ => return None,
        })
    }

    pub(super) fn get(&self, i: usize) -> &str {
        match self {
            Strings::Small(a) => a.value(i),
            Strings::Large(a) => a.value(i),
            Strings::View(a) => a.value(i),
            Strings::Dictionary { keys, values } => match keys.get(i) {
                Some(k) if k < values.len() => values.get(k),
                _ => "",
            },
        }
    }

    /// The dictionary key of element `i`, for strings that are a
    /// dictionary's; `None` for other strings, or a key out of range.
    pub(super) fn key(&self, i: usize) -> Option<usize> {
        match self {
            Strings::Dictionary { keys, values } => keys.get(i).filter(|&k| k < values.len()),
            _ => None,
        }
    }

    /// The keys of these strings, if they are a dictionary's with keys of
    /// 32 bits (as the file's strings are read).
    pub(super) fn keys32(&self) -> Option<&[i32]> {
        match self {
            Strings::Dictionary {
                keys: Keys::Int32(k),
                ..
            } => Some(k),
            _ => None,
        }
    }

    /// The text of dictionary entry `key`; empty for other strings.
    pub(super) fn entry(&self, key: usize) -> &str {
        match self {
            Strings::Dictionary { values, .. } if key < values.len() => values.get(key),
            _ => "",
        }
    }

    /// How many entries the dictionary of these strings has, if they are
    /// a dictionary's.
    pub(super) fn entries(&self) -> Option<usize> {
        match self {
            Strings::Dictionary { values, .. } => Some(values.len()),
            _ => None,
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Strings::Small(a) => a.len(),
            Strings::Large(a) => a.len(),
            Strings::View(a) => a.len(),
            Strings::Dictionary { keys, .. } => keys.len(),
        }
    }
}

/// The offsets of a list column.
pub(super) enum Offsets {
    Small(OffsetBuffer<i32>),
    Large(OffsetBuffer<i64>),
}

impl Offsets {
    /// The elements of row `i`, as indices into the element column.
    pub(super) fn range(&self, i: usize) -> std::ops::Range<usize> {
        let bound = |o: i64| usize::try_from(o).unwrap_or(0);
        match self {
            Offsets::Small(o) => bound(o[i].into())..bound(o[i + 1].into()),
            Offsets::Large(o) => bound(o[i])..bound(o[i + 1]),
        }
    }
}

/// A numeric column's values as numbers; `None` for another type.
pub(super) fn numbers(array: &dyn Array, dt: &DataType) -> Option<Vec<f64>> {
    macro_rules! each {
        ($($variant:ident => $ty:ty),*) => {
            match dt {
                $(DataType::$variant => array
                    .as_primitive::<$ty>()
                    .values()
                    .iter()
                    .map(|&v| v as f64)
                    .collect(),)*
                _ => return None,
            }
        };
    }
    Some(each!(
        Int8 => Int8Type, Int16 => Int16Type, Int32 => Int32Type, Int64 => Int64Type,
        UInt8 => UInt8Type, UInt16 => UInt16Type, UInt32 => UInt32Type, UInt64 => UInt64Type,
        Float32 => Float32Type, Float64 => Float64Type
    ))
}

/// The values of a timestamp or duration column, read in microseconds
/// from the column's own buffer (not copied).
pub(super) struct Micros {
    values: ScalarBuffer<i64>,
    unit: TimeUnit,
}

impl Micros {
    /// Value `i` in microseconds; one out of range is `i64::MIN`, which
    /// no instant is.
    pub(super) fn get(&self, i: usize) -> Option<i64> {
        self.values.get(i).map(|&v| micros(v, self.unit))
    }
}

impl Micros {
    /// The values as they are stored, and how many microseconds one is,
    /// for a unit of whole microseconds (not nanoseconds).
    pub(super) fn scaled(&self) -> Option<(&[i64], i64)> {
        let scale = match self.unit {
            TimeUnit::Second => time::SECOND,
            TimeUnit::Millisecond => 1000,
            TimeUnit::Microsecond => 1,
            TimeUnit::Nanosecond => return None,
        };
        Some((&self.values, scale))
    }
}

/// A timestamp column's values in microseconds.
pub(super) fn timestamps(array: &dyn Array, unit: TimeUnit) -> Micros {
    let values = match unit {
        TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().values(),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().values(),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().values(),
    };
    Micros {
        values: values.clone(),
        unit,
    }
}

/// A duration column's values in microseconds.
pub(super) fn durations(array: &dyn Array, unit: TimeUnit) -> Micros {
    let values = match unit {
        TimeUnit::Second => array.as_primitive::<DurationSecondType>().values(),
        TimeUnit::Millisecond => array.as_primitive::<DurationMillisecondType>().values(),
        TimeUnit::Microsecond => array.as_primitive::<DurationMicrosecondType>().values(),
        TimeUnit::Nanosecond => array.as_primitive::<DurationNanosecondType>().values(),
    };
    Micros {
        values: values.clone(),
        unit,
    }
}

pub(super) fn micros(v: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => v.checked_mul(time::SECOND).unwrap_or(i64::MIN),
        TimeUnit::Millisecond => v.checked_mul(1000).unwrap_or(i64::MIN),
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v.div_euclid(1000),
    }
}

/// A field's type as the policy writes it, records left short.
pub(super) fn declared(ty: &Type) -> String {
    match ty {
        Type::Record(_) => "a record".into(),
        Type::List(e) => format!("a list of {}", plural(e)),
        Type::Set(e) => format!("a set of {}", plural(e)),
        Type::Optional(t) => format!("{}?", declared(t)),
        other => format!("`{other}`"),
    }
}

pub(super) fn plural(ty: &Type) -> String {
    match ty.non_optional() {
        Type::Record(_) => "records".into(),
        other => format!("`{other}`"),
    }
}

/// The column types that hold a value of `ty`.
pub(super) fn accepted(ty: &Type) -> String {
    match ty.non_optional() {
        Type::Bool => "booleans".into(),
        Type::Number => "integers or floating-point numbers".into(),
        Type::Text => "strings".into(),
        Type::Time => "timestamps, or strings like \"2021-10-31T09:00:00+08:00\"".into(),
        Type::Duration => "durations, or strings like \"48h\"".into(),
        Type::Region => "strings of six-digit region codes like \"110105\"".into(),
        Type::Enum(_) => format!("strings, each one of {ty}"),
        Type::List(_) | Type::Set(_) => "a list".into(),
        Type::Record(_) => "a struct".into(),
        Type::Optional(_) | Type::Interval | Type::Error => "any type".into(),
    }
}

/// What a column of Arrow type `dt` holds, in words.
pub(super) fn found(dt: &DataType) -> String {
    match dt {
        DataType::Boolean => "booleans".into(),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => "integers".into(),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            "floating-point numbers".into()
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "strings".into(),
        DataType::Timestamp(..) => "timestamps".into(),
        DataType::Date32 | DataType::Date64 => "dates".into(),
        DataType::Duration(_) => "durations".into(),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => "a list".into(),
        DataType::Struct(_) => "a struct".into(),
        DataType::Dictionary(_, values) => found(values),
        other => format!("values of Arrow type `{other}`"),
    }
}
