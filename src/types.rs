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

/// The fields of a record type; a field's slot is its index. Two record
/// types are equal when they read data alike: which fields are `private`
/// does not count.
#[derive(Debug, Clone, Eq, Default)]
pub struct RecordType {
    /// Names and types, in declaration order.
    pub fields: Vec<(String, Type)>,
    /// `name from "key": T`: the slots of the fields whose key in the data
    /// is not their name, with that key.
    pub keys: Vec<(usize, String)>,
    /// The slots of the fields marked `required`: the data must give them
    /// even when they are lists or optional.
    pub required: Vec<usize>,
    /// The slots of the fields marked `private`: personal data that the
    /// service's decision log masks.
    pub private: Vec<usize>,
    /// `requiring ...`: what every record of the type must satisfy.
    pub constraints: Vec<Constraint>,
}

impl PartialEq for RecordType {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
            && self.required == other.required
            && self.constraints == other.constraints
    }
}

/// `requiring to is none or to >= from`: a condition on each record of a
/// type, over its fields; a record that breaks it is bad input.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// Its place among the program's constraints.
    pub id: usize,
    /// The condition as written in the policy.
    pub text: String,
    /// The condition, checked, with the record as its element.
    pub condition: crate::check::ir::Expr,
}

/// Two constraints are the same when they read the same.
impl PartialEq for Constraint {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Constraint {}

impl RecordType {
    /// The slot and type of the field called `name`.
    pub fn field(&self, name: &str) -> Option<(usize, &Type)> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, (n, _))| n == name)
            .map(|(i, (_, t))| (i, t))
    }

    /// The key in the data of the field in `slot`: its `from "key"`, or
    /// its name.
    pub fn key(&self, slot: usize) -> &str {
        match self.keys.iter().find(|(s, _)| *s == slot) {
            Some((_, key)) => key,
            None => self.fields.get(slot).map_or("", |(name, _)| name),
        }
    }

    /// The slot and type of the field the data gives under `key`.
    pub fn field_by_key(&self, key: &str) -> Option<(usize, &Type)> {
        (0..self.fields.len())
            .find(|&slot| self.key(slot) == key)
            .map(|slot| (slot, &self.fields[slot].1))
    }

    /// Whether the data must give the field in `slot`: it is marked
    /// `required`, or it is neither optional nor a list nor a set.
    pub fn is_required(&self, slot: usize) -> bool {
        self.required.contains(&slot)
            || self.fields.get(slot).is_some_and(|(_, ty)| {
                !matches!(ty, Type::Optional(_) | Type::List(_) | Type::Set(_))
            })
    }

    /// Whether a record of this type, or one nested in it, has constraints.
    pub fn is_constrained(&self) -> bool {
        !self.constraints.is_empty() || self.fields.iter().any(|(_, ty)| ty.is_constrained())
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

    /// Whether this type holds records with constraints.
    pub fn is_constrained(&self) -> bool {
        match self {
            Type::Optional(t) | Type::List(t) | Type::Set(t) => t.is_constrained(),
            Type::Record(r) => r.is_constrained(),
            _ => false,
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
