//! serde seeds that decode JSON straight into [`Value`]s of a declared type.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Context;
use super::path::Path;
use crate::region;
use crate::time::{self, Precision};
use crate::types::{RecordType, Type};
use crate::value::Value;

/// Decodes one value of type `ty` found at `path`.
pub(crate) struct ValueSeed<'a> {
    pub(crate) ty: &'a Type,
    pub(crate) ctx: &'a Context<'a>,
    pub(crate) path: &'a Path<'a>,
}

/// Decodes a record (a JSON object) of the given record type.
pub(crate) struct RecordSeed<'a> {
    pub(crate) record: &'a RecordType,
    pub(crate) ctx: &'a Context<'a>,
    pub(crate) path: &'a Path<'a>,
}

/// What a scalar must look like, for messages.
fn expecting(ty: &Type) -> String {
    match ty {
        Type::Bool => "`true` or `false`".into(),
        Type::Number => "a number".into(),
        Type::Text => "a string".into(),
        Type::Time => "an instant like \"2021-10-31T09:00:00+08:00\"".into(),
        Type::Duration => "a duration like \"48h\"".into(),
        Type::Region => "a six-digit region code like \"110105\"".into(),
        Type::Enum(_) => format!("one of {ty}"),
        Type::Optional(t) => format!("{} or null", expecting(t)),
        Type::List(_) | Type::Set(_) => "a list".into(),
        Type::Record(_) => "an object".into(),
        Type::Interval | Type::Error => "a value".into(),
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.ty {
            Type::Bool => d.deserialize_bool(self),
            Type::Number => d.deserialize_f64(self),
            Type::Text | Type::Time | Type::Duration | Type::Region | Type::Enum(_) => {
                d.deserialize_str(self)
            }
            // Absent and null are both none; lists may be null for empty.
            Type::Optional(_) | Type::List(_) | Type::Set(_) => d.deserialize_option(self),
            Type::Record(record) => RecordSeed {
                record,
                ctx: self.ctx,
                path: self.path,
            }
            .deserialize(d)
            .map(Value::Record),
            Type::Interval | Type::Error => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", expecting(self.ty), self.path.quoted())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        match self.ty {
            Type::Bool => Ok(Value::Bool(v)),
            _ => Err(E::invalid_type(de::Unexpected::Bool(v), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match self.ty {
            Type::Number => Ok(Value::Number(v)),
            _ => Err(E::invalid_type(de::Unexpected::Float(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        match self.ty {
            Type::Number => Ok(Value::Number(v as f64)),
            _ => Err(E::invalid_type(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        match self.ty {
            Type::Number => Ok(Value::Number(v as f64)),
            _ => Err(E::invalid_type(de::Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        let bad = |what: String| E::custom(format!("{}: {what}", self.path.quoted()));
        match self.ty {
            Type::Text => Ok(Value::Text(v.into())),
            Type::Time => time::parse_instant(v, self.ctx.timezone, Precision::Seconds)
                .map(Value::Time)
                .map_err(|e| bad(e.to_string())),
            Type::Duration => time::parse_duration(v)
                .map(|s| Value::Duration(s * time::SECOND))
                .ok_or_else(|| bad(format!("expected a duration like \"48h\", found {v:?}"))),
            Type::Region => {
                let code = region::parse_code(v).ok_or_else(|| {
                    bad(format!(
                        "expected a six-digit region code like \"110105\", found {v:?}"
                    ))
                })?;
                if region::lookup(code).is_none() {
                    self.ctx.warnings.borrow_mut().push(format!(
                        "{}: region {v} is not in the shipped GB/T 2260 table; it matches only by its exact code",
                        self.path.quoted(),
                    ));
                }
                Ok(Value::Region(code))
            }
            Type::Enum(choices) => match choices.iter().position(|c| c == v) {
                Some(i) => Ok(Value::Enum(i as u32)),
                None => Err(bad(format!("expected one of {}, found {v:?}", self.ty))),
            },
            _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        match self.ty {
            Type::Optional(_) => Ok(Value::None),
            Type::List(_) | Type::Set(_) => Ok(Value::absent(self.ty)),
            _ => Err(E::invalid_type(de::Unexpected::Unit, &self)),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.visit_none()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.ty {
            Type::Optional(inner) => ValueSeed { ty: inner, ..self }.deserialize(d),
            _ => d.deserialize_seq(self),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Some(element) = self.ty.element() else {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let path = Path::Index(self.path, items.len());
            let seed = ValueSeed {
                ty: element,
                ctx: self.ctx,
                path: &path,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => items.push(v),
                None => break,
            }
        }
        Ok(match self.ty {
            Type::Set(_) => Value::set_of(items),
            _ => Value::List(Arc::new(items)),
        })
    }
}

/// Reads an object key as the slot of the field it names.
struct KeySeed<'a>(&'a RecordType);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.fields.iter().position(|(name, _)| name == v))
    }
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Arc<[Value]>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Arc<[Value]>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Arc<[Value]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object at {}", self.path.quoted())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arc<[Value]>, A::Error> {
        let fields = &self.record.fields;
        let mut values: Vec<Value> = fields.iter().map(|(_, ty)| Value::absent(ty)).collect();
        let mut given = Given::new(fields.len());
        while let Some(key) = map.next_key_seed(KeySeed(self.record))? {
            let Some(slot) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let (name, ty) = &fields[slot];
            let path = Path::Field(self.path, name);
            if given.insert(slot) {
                return Err(de::Error::custom(format!("{}: given twice", path.quoted())));
            }
            let seed = ValueSeed {
                ty,
                ctx: self.ctx,
                path: &path,
            };
            values[slot] = map.next_value_seed(seed)?;
        }
        for (slot, (name, ty)) in fields.iter().enumerate() {
            if !given.contains(slot)
                && !matches!(ty, Type::Optional(_) | Type::List(_) | Type::Set(_))
            {
                let record = match self.path {
                    Path::Root => "the record".to_owned(),
                    p => p.quoted(),
                };
                return Err(de::Error::custom(format!(
                    "{record}: required field `{name}` is missing"
                )));
            }
        }
        Ok(values.into())
    }
}

/// Which fields of a record were given, without allocating for records of
/// up to 64 fields.
struct Given {
    small: u64,
    big: Vec<bool>,
}

impl Given {
    fn new(fields: usize) -> Self {
        Given {
            small: 0,
            big: if fields > 64 {
                vec![false; fields]
            } else {
                Vec::new()
            },
        }
    }

    /// Marks `slot`; says whether it was already marked.
    fn insert(&mut self, slot: usize) -> bool {
        let was = self.contains(slot);
        match self.big.get_mut(slot) {
            Some(b) => *b = true,
            None => self.small |= 1 << slot,
        }
        was
    }

    fn contains(&self, slot: usize) -> bool {
        match self.big.get(slot) {
            Some(b) => *b,
            None => self.small & (1 << slot) != 0,
        }
    }
}
