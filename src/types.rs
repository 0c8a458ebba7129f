//! The types of the policy language, as the checker knows them.

use std::fmt;
use std::sync::Arc;

/// A type of the language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `bool`
    Bool,
    /// `number`
    Number,
    /// `text`
    Text,
    /// `time`: an instant
    Time,
    /// `duration`
    Duration,
    /// `region`: a GB/T 2260 code
    Region,
    /// `"a" | "b"`: one of the listed strings
    Enum(Arc<[String]>),
    /// `T?`
    Optional(Box<Type>),
    /// `list of T`
    List(Box<Type>),
    /// `set of T`
    Set(Box<Type>),
    /// `{ a: T }`
    Record(Arc<RecordType>),
    /// `[from, to]`: a closed interval of time
    Interval,
    /// The type of an expression already reported as wrong; it agrees with
    /// everything so that one mistake gives one error.
    Error,
}

/// The fields of a record type; a field's slot is its index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordType {
    /// Names and types, in declaration order.
    pub fields: Vec<(String, Type)>,
}

impl RecordType {
    /// The slot and type of the field called `name`.
    pub fn field(&self, name: &str) -> Option<(usize, &Type)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, (n, _))| n == name)
            .map(|(i, (_, t))| (i, t))
    }
}

impl Type {
    /// The type without its optional mark.
    pub fn non_optional(&self) -> &Type {
        match self {
            Type::Optional(inner) => inner,
            other => other,
        }
    }

    /// The element type of a list or a set.
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) => Some(t),
            Type::Error => Some(&Type::Error),
            _ => None,
        }
    }

    /// Whether values of the two types can be compared with `=`.
    pub fn agrees(&self, other: &Type) -> bool {
        match (self, other) {
            (Type::Error, _) | (_, Type::Error) => true,
            (Type::Optional(a), b) | (b, Type::Optional(a)) => a.agrees(b.non_optional()),
            (Type::List(a), Type::List(b)) | (Type::Set(a), Type::Set(b)) => a.agrees(b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::Text => f.write_str("text"),
            Type::Time => f.write_str("time"),
            Type::Duration => f.write_str("duration"),
            Type::Region => f.write_str("region"),
            Type::Enum(names) => {
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{n:?}")?;
                }
                Ok(())
            }
            Type::Optional(t) => write!(f, "{t}?"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Set(t) => write!(f, "set of {t}"),
            Type::Record(r) => {
                f.write_str("{ ")?;
                for (i, (n, t)) in r.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{n}: {t}")?;
                }
                f.write_str(" }")
            }
            Type::Interval => f.write_str("interval"),
            Type::Error => f.write_str("unknown"),
        }
    }
}
