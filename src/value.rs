//! Runtime values: what data decodes into and what expressions evaluate to.

use std::cmp::Ordering;
use std::sync::{Arc, LazyLock};

use crate::types::Type;

/// A value of the language. Clones are cheap: compound values share their
/// contents.
#[derive(Debug, Clone, Default)]
pub enum Value {
    /// An absent optional value.
    #[default]
    None,
    /// `bool`
    Bool(bool),
    /// `number`
    Number(f64),
    /// `text`
    Text(Arc<str>),
    /// `time`: microseconds since 1970-01-01T00:00:00Z
    Time(i64),
    /// `duration`: microseconds
    Duration(i64),
    /// `region`: the six-digit code
    Region(u32),
    /// An enumeration value: the index of its string in the type
    Enum(u32),
    /// `list of T`, in order
    List(Arc<[Value]>),
    /// `set of T`: sorted, without duplicates
    Set(Arc<[Value]>),
    /// A record: its fields by slot
    Record(Arc<[Value]>),
    /// A closed interval of time, `[from, to]`, in microseconds
    Interval(i64, i64),
}

/// A number as it is printed: a whole number as one (`2`, never `2.0`;
/// `0` for `-0`), other numbers as the shortest decimal that reads back
/// the same. `Ok` is the whole number.
pub(crate) fn printed(n: f64) -> Result<i64, f64> {
    // Up to 2^53 every whole number is exact.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        Ok(n as i64)
    } else {
        Err(n)
    }
}

/// A number as text, as [`printed`] gives it.
pub(crate) fn number_text(n: f64) -> String {
    match printed(n) {
        Ok(whole) => whole.to_string(),
        Err(n) => n.to_string(),
    }
}

impl Value {
    /// The boolean inside, `false` for anything else.
    pub fn truthy(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    /// The elements of a list or a set; empty for anything else.
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(items) | Value::Set(items) => items,
            _ => &[],
        }
    }

    /// The value of a field the data leaves out: none, or an empty list or
    /// set.
    pub fn absent(ty: &Type) -> Value {
        match ty {
            Type::List(_) => Value::empty_list(),
            Type::Set(_) => Value::empty_set(),
            _ => Value::None,
        }
    }

    /// An empty list, shared: making one allocates nothing.
    pub fn empty_list() -> Value {
        static EMPTY: LazyLock<Arc<[Value]>> = LazyLock::new(|| Arc::from([]));
        Value::List(Arc::clone(&EMPTY))
    }

    /// An empty set, shared: making one allocates nothing.
    pub fn empty_set() -> Value {
        match Value::empty_list() {
            Value::List(items) => Value::Set(items),
            other => other,
        }
    }

    /// A set holding `items`.
    pub fn set_of(mut items: Vec<Value>) -> Value {
        Value::as_set(&mut items);
        Value::Set(items.into())
    }

    /// Puts `items` in a set's order: sorted, without duplicates.
    pub(crate) fn as_set(items: &mut Vec<Value>) {
        items.sort_unstable();
        items.dedup();
    }

    fn rank(&self) -> u8 {
        match self {
            Value::None => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::Text(_) => 3,
            Value::Time(_) => 4,
            Value::Duration(_) => 5,
            Value::Region(_) => 6,
            Value::Enum(_) => 7,
            Value::List(_) => 8,
            Value::Set(_) => 9,
            Value::Record(_) => 10,
            Value::Interval(..) => 11,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            // The common cases first, without going through `cmp`.
            (Value::Text(a), Value::Text(b)) => Arc::ptr_eq(a, b) || a == b,
            (Value::Region(a), Value::Region(b)) => a == b,
            (Value::Enum(a), Value::Enum(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            _ => self.cmp(other) == Ordering::Equal,
        }
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order, so that sets can be sorted and searched; numbers compare
/// by `f64::total_cmp`, with `-0` and `0` one number.
impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            // Adding zero makes `-0` into `0` and changes nothing else.
            (Value::Number(a), Value::Number(b)) => (a + 0.0).total_cmp(&(b + 0.0)),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Time(a), Value::Time(b)) | (Value::Duration(a), Value::Duration(b)) => a.cmp(b),
            (Value::Region(a), Value::Region(b)) => a.cmp(b),
            (Value::Enum(a), Value::Enum(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) | (Value::Set(a), Value::Set(b)) => a.cmp(b),
            (Value::Record(a), Value::Record(b)) => a.cmp(b),
            (Value::Interval(a, b), Value::Interval(c, d)) => (a, b).cmp(&(c, d)),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Value, number_text};

    #[test]
    fn minus_zero_is_zero() {
        assert_eq!(Value::Number(-0.0), Value::Number(0.0));
        assert_eq!(
            Value::set_of(vec![Value::Number(0.0), Value::Number(-0.0)])
                .elements()
                .len(),
            1
        );
        assert!(Value::Number(-0.5) < Value::Number(-0.0));
        assert!(Value::Number(-0.0) < Value::Number(f64::MIN_POSITIVE));
    }

    #[test]
    fn whole_numbers_print_without_a_fraction() {
        assert_eq!(number_text(2.0), "2");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(0.5), "0.5");
    }
}
