//! Many rows at once, column by column: each column of a piece of the
//! batch is read in one loop of its own type into the values its records
//! hold, and records and lists are then put together from those values,
//! each with one allocation.
//!
//! Only the rows that decode cleanly are made this way. A row with a bad
//! value, or one that warns, is marked while its columns are read, and
//! decoded again row by row ([`Rows::decode`]), which says what is wrong
//! with it, and where, as the JSON reader would: so the two ways give the
//! same people, errors and warnings.

use std::cell::Cell;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use super::{Column, Data, Record, Rows, quick};
use crate::data::Reading;
use crate::data::path::Path;
use crate::data::reader::{POOLED, Pool, Recent, scalar};
use crate::data::{DataError, Decoded};
use crate::time;
use crate::types::Type;
use crate::value::Value;

impl Rows<'_> {
    /// The people in rows `range` (from 0), each as [`Rows::decode`] gives
    /// it, decoded column by column.
    pub fn decode_range(&self, range: Range<usize>) -> Vec<Result<Decoded, DataError>> {
        let mut people = Vec::with_capacity(range.len());
        self.decode_each(range, |_, person| people.push(person));
        people
    }

    /// Calls `each` with every row of `range` in order (its index, and the
    /// person as [`Rows::decode`] gives it), decoding [`DECODED_ROWS`] rows
    /// at a time column by column.
    pub fn decode_each(
        &self,
        range: Range<usize>,
        mut each: impl FnMut(usize, Result<Decoded, DataError>),
    ) {
        if self.warns {
            return range.for_each(|row| each(row, self.decode(row)));
        }
        let mut fill = Fill {
            reading: self.reading,
            recent: Recent::default(),
            spare: SPARE.try_with(Cell::take).unwrap_or_default(),
        };
        for start in range.clone().step_by(DECODED_ROWS) {
            let part = start..(start + DECODED_ROWS).min(range.end);
            // The people of the part before are decided and dropped: their
            // records and lists serve this part.
            fill.spare.pool.recycle();
            let mut bad = fill.flags(part.len());
            let mut people = fill.values();
            (self.root).fill(part.clone(), &mut bad, &mut fill, Out::Push(&mut people));
            for ((person, &bad), row) in people.iter_mut().zip(&bad).zip(part) {
                if bad {
                    each(row, self.decode(row));
                    continue;
                }
                let person = Decoded {
                    value: std::mem::take(person),
                    warnings: Vec::new(),
                    given: Vec::new(),
                };
                each(row, Ok(person));
            }
            fill.give(people);
            fill.give_flags(bad);
        }
        // The thread's next rows (of this batch or the next) use them again.
        let _ = SPARE.try_with(|spare| spare.set(fill.spare));
    }
}

/// How many rows are decoded at a time, column by column, before they
/// are handed on: enough for each column's loop to pay, few enough that
/// the people are still in the cache when they are decided.
const DECODED_ROWS: usize = 64;

/// What reading the columns of a piece carries along: the texts read
/// last, shared, and what the thread keeps from the parts it read before.
struct Fill<'r> {
    reading: Reading<'r>,
    recent: Recent,
    spare: Spare,
}

/// What a thread reuses from one part of rows to the next, and from one
/// batch to the next: the allocations of the records and lists of the
/// people it decided (the JSON reader's pool), and the buffers of values
/// and flags (a column's values are gathered in one, then moved into
/// their records).
struct Spare {
    pool: Pool,
    values: Vec<Vec<Value>>,
    blocks: Vec<Vec<Arc<[Value]>>>,
    flags: Vec<Vec<bool>>,
}

impl Default for Spare {
    fn default() -> Self {
        Spare {
            // As many of each length as the JSON reader keeps per person,
            // for each person of a part.
            pool: Pool::keeping(POOLED * DECODED_ROWS),
            values: Vec::new(),
            blocks: Vec::new(),
            flags: Vec::new(),
        }
    }
}

thread_local! {
    /// Each thread's [`Spare`], taken while it decodes.
    static SPARE: Cell<Spare> = Cell::default();
}

/// How many values a spare buffer keeps room for: one a part of a very
/// long list made is let go.
const KEPT_VALUES: usize = 1 << 14;

impl Fill<'_> {
    /// An empty buffer of values.
    fn values(&mut self) -> Vec<Value> {
        self.spare.values.pop().unwrap_or_default()
    }

    /// A buffer of values, emptied, to use again.
    fn give(&mut self, mut values: Vec<Value>) {
        values.clear();
        values.shrink_to(KEPT_VALUES);
        self.spare.values.push(values);
    }

    /// `n` flags, all unset.
    fn flags(&mut self, n: usize) -> Vec<bool> {
        let mut flags = self.spare.flags.pop().unwrap_or_default();
        flags.clear();
        flags.resize(n, false);
        flags
    }

    /// Flags to use again.
    fn give_flags(&mut self, mut flags: Vec<bool>) {
        flags.shrink_to(KEPT_VALUES);
        self.spare.flags.push(flags);
    }
}

impl Record<'_> {
    /// The records of rows `range` of this struct column (`Value::Record`
    /// each, its fields by slot) into `out`; `bad[i]` is set for each row
    /// `range.start + i` that must be decoded row by row. Each column
    /// writes its values straight into the records' allocations.
    fn fill(&self, range: Range<usize>, bad: &mut [bool], fill: &mut Fill<'_>, out: Out<'_, '_>) {
        let n = range.len();
        let mut blocks = fill.spare.blocks.pop().unwrap_or_default();
        let pool = &mut fill.spare.pool;
        pool.take_many(self.fields.len(), n, &mut blocks);
        {
            // A block just taken from the pool is held by nothing else,
            // so this never copies.
            let mut slots: Vec<&mut [Value]> = blocks.iter_mut().map(Arc::make_mut).collect();
            let fields = self.schema.fields.iter().zip(&self.fields);
            for (slot, ((_, ty), column)) in fields.enumerate() {
                match column {
                    Some(column) => {
                        let out = Out::Field {
                            slots: &mut slots,
                            slot,
                        };
                        column.fill(range.clone(), bad, fill, out);
                    }
                    None => {
                        if self.schema.is_required(slot) {
                            bad.fill(true);
                        }
                        for value in slots.iter_mut().filter_map(|s| s.get_mut(slot)) {
                            *value = Value::absent(ty);
                        }
                    }
                }
            }
        }
        let pool = &mut fill.spare.pool;
        out.put(
            blocks
                .drain(..)
                .map(|block| Value::Record(pool.keep(block))),
        );
        blocks.shrink_to(KEPT_VALUES);
        fill.spare.blocks.push(blocks);
    }
}

/// Where a column's values go: pushed onto a buffer (a list's elements),
/// or into field `slot` of each of the records `slots`, one per row.
enum Out<'o, 'b> {
    Push(&'o mut Vec<Value>),
    /// One after the other into the elements of the lists `slots`.
    Flat(&'o mut [&'b mut [Value]]),
    Field {
        slots: &'o mut [&'b mut [Value]],
        slot: usize,
    },
}

impl Out<'_, '_> {
    /// Puts `values`, one per row, where they go.
    fn put(self, values: impl Iterator<Item = Value>) {
        match self {
            Out::Push(out) => out.extend(values),
            Out::Flat(slots) => {
                let mut values = values;
                for list in slots.iter_mut() {
                    for out in list.iter_mut() {
                        let Some(value) = values.next() else { return };
                        *out = value;
                    }
                }
            }
            Out::Field { slots, slot } => {
                let slots = slots.iter_mut().filter_map(|s| s.get_mut(slot));
                for (out, value) in slots.zip(values) {
                    *out = value;
                }
            }
        }
    }
}

impl Column<'_> {
    /// The values of rows `range` of this column (a record's field or a
    /// list's elements: a null is none, or an empty list or set, where the
    /// type allows it); `bad[i]` is set for each row `range.start + i`
    /// that must be decoded row by row.
    fn fill(&self, range: Range<usize>, bad: &mut [bool], fill: &mut Fill<'_>, out: Out<'_, '_>) {
        let start = range.start;
        let reading = fill.reading;
        match &self.data {
            Data::Null | Data::Skip => self.each(range, bad, out, |_| Some(Value::None)),
            Data::Bool(a) => self.each(range, bad, out, |i| Some(Value::Bool(a.value(i)))),
            Data::Number(n) => self.each(range, bad, out, |i| {
                n.get(i)
                    .filter(|n| n.is_finite())
                    .map(|&n| Value::Number(n))
            }),
            Data::Time {
                micros,
                naive: false,
            } if let Some((values, scale)) = micros.scaled() => {
                self.each(range, bad, out, |i| {
                    values
                        .get(i)?
                        .checked_mul(scale)
                        .filter(|t| (time::MIN_INSTANT..=time::MAX_INSTANT).contains(t))
                        .map(Value::Time)
                });
            }
            Data::Time {
                micros,
                naive: false,
            } => self.each(range, bad, out, |i| {
                micros
                    .get(i)
                    .filter(|t| (time::MIN_INSTANT..=time::MAX_INSTANT).contains(t))
                    .map(Value::Time)
            }),
            Data::Time {
                micros,
                naive: true,
            } => self.each(range, bad, out, |i| {
                let t = micros.get(i).unwrap_or(i64::MIN);
                super::local(t, &Path::Root, reading).ok()
            }),
            Data::Duration(d) => self.each(range, bad, out, |i| {
                Some(Value::Duration(d.get(i).unwrap_or_default()))
            }),
            Data::Strings(s) => {
                let ty = self.ty.non_optional();
                match &self.entries {
                    // A dictionary's entries are each read once; there
                    // are as many as the dictionary has texts.
                    Some(entries) if let Some(keys) = s.keys32() => {
                        self.each(range, bad, out, |i| {
                            let key = usize::try_from(*keys.get(i)?).ok()?;
                            let entry = entries.get(key)?;
                            entry
                                .get_or_init(|| clean(s.entry(key), ty, reading))
                                .clone()
                        });
                    }
                    Some(entries) => self.each(range, bad, out, |i| {
                        let key = s.key(i)?;
                        let entry = entries.get(key)?;
                        entry
                            .get_or_init(|| clean(s.entry(key), ty, reading))
                            .clone()
                    }),
                    None => {
                        let recent = &mut fill.recent;
                        self.each(range, bad, out, |i| match ty {
                            Type::Text => Some(Value::Text(recent.share(s.get(i)))),
                            ty => clean(s.get(i), ty, reading),
                        })
                    }
                }
            }
            // Lists, none null, each made in the allocation its elements
            // are written into.
            Data::List { offsets, element }
                if self.nulls.is_none() && !matches!(self.ty.non_optional(), Type::Set(_)) =>
            {
                let Some(last) = range.end.checked_sub(1).filter(|_| !range.is_empty()) else {
                    return;
                };
                let items = offsets.range(start).start..offsets.range(last).end;
                let first = items.start;
                let mut lost = fill.flags(items.len());
                let mut blocks = fill.spare.blocks.pop().unwrap_or_default();
                let pool = &mut fill.spare.pool;
                for n in range.clone().map(|i| offsets.range(i).len()) {
                    if n > 0 {
                        pool.take_many(n, 1, &mut blocks);
                    }
                }
                {
                    let mut slots: Vec<&mut [Value]> =
                        blocks.iter_mut().map(Arc::make_mut).collect();
                    element.fill(items, &mut lost, fill, Out::Flat(&mut slots));
                }
                let inner = self.ty.non_optional();
                let pool = &mut fill.spare.pool;
                let mut lists = blocks.drain(..);
                self.each(range, bad, out, |i| {
                    let r = offsets.range(i);
                    if r.is_empty() {
                        return Some(Value::absent(inner));
                    }
                    let list = lists.next()?;
                    if lost.get(r.start - first..r.end - first)?.contains(&true) {
                        return None;
                    }
                    Some(Value::List(pool.keep(list)))
                });
                drop(lists);
                blocks.shrink_to(KEPT_VALUES);
                fill.spare.blocks.push(blocks);
                fill.give_flags(lost);
            }
            Data::List { offsets, element } => {
                let Some(last) = range.end.checked_sub(1).filter(|_| !range.is_empty()) else {
                    return;
                };
                let items = offsets.range(start).start..offsets.range(last).end;
                let first = items.start;
                let mut lost = fill.flags(items.len());
                let mut values = fill.values();
                element.fill(items, &mut lost, fill, Out::Push(&mut values));
                let inner = self.ty.non_optional();
                let mut set = fill.values();
                let pool = &mut fill.spare.pool;
                // The elements are moved out in order: those of a null
                // list (there are seldom any) are skipped.
                let (mut elements, mut at) = (values.drain(..), first);
                self.each(range, bad, out, |i| {
                    let r = offsets.range(i);
                    if let Some(skip) = r.start.checked_sub(at)?.checked_sub(1) {
                        elements.nth(skip);
                    }
                    at = r.end;
                    let items = elements.by_ref().take(r.len());
                    if r.is_empty() {
                        return Some(Value::absent(inner));
                    }
                    if lost.get(r.start - first..r.end - first)?.contains(&true) {
                        items.for_each(drop);
                        return None;
                    }
                    Some(match inner {
                        Type::Set(_) => {
                            set.clear();
                            set.extend(items);
                            Value::as_set(&mut set);
                            Value::Set(pool.block(set.drain(..)))
                        }
                        _ => Value::List(pool.block(items)),
                    })
                });
                drop(elements);
                fill.give(values);
                fill.give(set);
                fill.give_flags(lost);
            }
            // Without nulls each row's record is the value: a row whose
            // record is bad is bad.
            Data::Record(record) if self.nulls.is_none() && record.nulls.is_none() => {
                record.fill(range, bad, fill, out);
            }
            Data::Record(record) => {
                let mut lost = fill.flags(range.len());
                let mut records = fill.values();
                record.fill(range.clone(), &mut lost, fill, Out::Push(&mut records));
                let (mut each, mut at) = (records.drain(..), start);
                self.each(range, bad, out, |i| {
                    let value = each.nth(i.checked_sub(at)?)?;
                    at = i + 1;
                    (!record.is_null(i) && !*lost.get(i - start)?).then_some(value)
                });
                drop(each);
                fill.give(records);
                fill.give_flags(lost);
            }
        }
    }

    /// The value of each row of `range` by `value` (`None`: that row is
    /// bad), a null as the type allows, into `out`.
    fn each(
        &self,
        range: Range<usize>,
        bad: &mut [bool],
        out: Out<'_, '_>,
        mut value: impl FnMut(usize) -> Option<Value>,
    ) {
        let nullable = matches!(self.ty, Type::Optional(_) | Type::List(_) | Type::Set(_));
        // Without nulls there is none to look for.
        let plain = self.nulls.is_none() && !matches!(self.data, Data::Null);
        let rows = range.zip(bad.iter_mut());
        match out {
            Out::Push(out) => {
                out.extend(rows.map(|(i, bad)| self.one(i, bad, (plain, nullable), &mut value)))
            }
            Out::Flat(slots) => {
                let mut rows = rows;
                for list in slots.iter_mut() {
                    for out in list.iter_mut() {
                        let Some((i, bad)) = rows.next() else { return };
                        *out = self.one(i, bad, (plain, nullable), &mut value);
                    }
                }
            }
            Out::Field { slots, slot } => {
                for ((i, bad), record) in rows.zip(slots.iter_mut()) {
                    if let Some(out) = record.get_mut(slot) {
                        *out = self.one(i, bad, (plain, nullable), &mut value);
                    }
                }
            }
        }
    }

    /// The value of row `i` by `value`, a null as the type allows (where
    /// the column is not `plain`, without nulls): none, with `bad` set,
    /// if it is bad.
    #[inline(always)]
    fn one(
        &self,
        i: usize,
        bad: &mut bool,
        (plain, nullable): (bool, bool),
        value: &mut impl FnMut(usize) -> Option<Value>,
    ) -> Value {
        let got = if !plain && self.is_null(i) {
            nullable.then(|| Value::absent(self.ty))
        } else {
            value(i)
        };
        got.unwrap_or_else(|| {
            *bad = true;
            Value::None
        })
    }
}

/// The dictionary entries of a string column, each read when first asked
/// for: `None` until then; then the value, or `None` where the entry is
/// bad or warns.
pub(super) type Entries = Vec<OnceLock<Option<Value>>>;

/// `text` read as `ty`, when that needs no error or warning.
fn clean(text: &str, ty: &Type, reading: Reading<'_>) -> Option<Value> {
    if let Some(value) = quick(text, ty) {
        return Some(value);
    }
    let mut warnings = Vec::new();
    scalar(text, ty, &Path::Root, reading, &mut warnings)
        .ok()
        .filter(|_| warnings.is_empty())
}
