//! A JSON reader that decodes straight into the shape a schema declares.
//!
//! Reading is driven by the expected type: an instant is parsed from the
//! bytes of its string, a record's keys are matched against its fields, an
//! unknown field is skipped without building anything. Nothing is built that
//! the schema does not ask for, which is why this is not a generic JSON tree
//! walked afterwards. The grammar is RFC 8259's; every departure from it is
//! an error with its line and column.

use std::borrow::Cow;
use std::sync::Arc;

use super::path::Path;
use super::{DataError, DataWarning, EOF, Reading};
use crate::region;
use crate::suggest;
use crate::time;
use crate::types::{RecordType, Type};
use crate::value::Value;

/// How deeply an ignored value may nest.
const MAX_SKIP_DEPTH: usize = 128;

/// The length of an instant in its commonest shape,
/// `2021-10-31T09:00:00+08:00`.
const INSTANT_LEN: usize = 25;

/// The reader's position in one JSON document.
pub(crate) struct Reader<'a, 's> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    reading: Reading<'a>,
    pub(crate) warnings: Vec<DataWarning>,
    /// Which fields of the document's own record were given.
    pub(crate) given: Vec<bool>,
    /// The texts read last, shared.
    recent: Recent,
    /// The last instant read in its commonest shape, with its bytes: the
    /// end of a stay is often the start of the next.
    last_instant: Option<([u8; INSTANT_LEN], i64)>,
    /// What it reuses from the documents read before.
    scratch: &'s mut Scratch,
}

type Result<T> = std::result::Result<T, DataError>;

impl<'a, 's> Reader<'a, 's> {
    /// A reader of `text` that reuses `scratch`, taking back first what the
    /// values of the documents read before no longer hold.
    pub(crate) fn new(text: &'a str, reading: Reading<'a>, scratch: &'s mut Scratch) -> Self {
        scratch.pool.recycle();
        // A document far longer than most leaves no large buffers behind.
        for buffer in &mut scratch.buffers {
            buffer.shrink_to(KEPT_VALUES);
        }
        Reader {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            reading,
            warnings: Vec::new(),
            given: Vec::new(),
            recent: Recent::default(),
            last_instant: None,
            scratch,
        }
    }

    /// `text` as a shared string, reusing a recent one with the same content.
    fn text(&mut self, text: &str) -> Arc<str> {
        self.recent.share(text)
    }

    /// The whole document: one record, then nothing but white space.
    pub(crate) fn document(&mut self, schema: &RecordType) -> Result<Value> {
        self.ws();
        let record = self.record(schema, &Path::Root)?;
        self.ws();
        if self.pos < self.bytes.len() {
            return Err(self.error(self.pos, "not valid JSON: trailing characters".into()));
        }
        Ok(Value::Record(record))
    }

    fn error(&self, at: usize, message: String) -> DataError {
        let before = self.text.get(..at).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        DataError {
            message,
            line: (line > 1).then_some(line),
            column: Some(column),
        }
    }

    fn eof(&self) -> DataError {
        self.error(self.bytes.len(), EOF.into())
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after white space, or an error at the end.
    #[inline]
    fn next_byte(&mut self) -> Result<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) if b > b' ' => Ok(b),
            _ => {
                self.ws();
                self.peek()
            }
        }
    }

    fn peek(&self) -> Result<u8> {
        self.bytes.get(self.pos).copied().ok_or_else(|| self.eof())
    }

    /// Consumes `byte` after white space, or says what was expected.
    fn expect(&mut self, byte: u8, what: &str) -> Result<()> {
        if self.next_byte()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(self.pos, format!("not valid JSON: expected {what}")))
        }
    }

    /// What the value starting here is, in words, for type errors.
    fn found(&self) -> &'static str {
        match self.bytes.get(self.pos) {
            Some(b'"') => "a string",
            Some(b'{') => "an object",
            Some(b'[') => "a list",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "a number",
            _ => "something that is not JSON",
        }
    }

    fn mismatch(&self, ty: &Type, path: &Path<'_>) -> DataError {
        if self.pos >= self.bytes.len() {
            return self.eof();
        }
        let found = self.found();
        if found.starts_with("something") {
            return self.error(self.pos, "not valid JSON: expected a value".into());
        }
        self.error(
            self.pos,
            format!(
                "{}: expected {}, found {found}",
                path.quoted(),
                expecting(ty)
            ),
        )
    }

    /// One value of type `ty` at `path`.
    fn value(&mut self, ty: &Type, path: &Path<'_>) -> Result<Value> {
        let first = self.next_byte()?;
        match ty {
            Type::Optional(inner) => {
                if first == b'n' {
                    self.literal("null")?;
                    return Ok(Value::None);
                }
                self.value(inner, path)
            }
            Type::List(element) | Type::Set(element) => match first {
                b'n' => {
                    self.literal("null")?;
                    Ok(Value::absent(ty))
                }
                b'[' => self.list(ty, element, path),
                _ => Err(self.mismatch(ty, path)),
            },
            Type::Record(record) if first == b'{' => Ok(Value::Record(self.record(record, path)?)),
            Type::Bool if first == b't' => self.literal("true").map(|()| Value::Bool(true)),
            Type::Bool if first == b'f' => self.literal("false").map(|()| Value::Bool(false)),
            Type::Number if matches!(first, b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Type::Text if first == b'"' => {
                let text = self.string()?;
                Ok(Value::Text(self.recent.share(&text)))
            }
            Type::Time | Type::Duration | Type::Region | Type::Enum(_) if first == b'"' => {
                if let Some(v) = self.quick_scalar(ty) {
                    return Ok(v);
                }
                let start = self.pos;
                let text = self.string()?;
                self.scalar(&text, ty, path)
                    .map_err(|m| self.error(start, m))
            }
            Type::Interval | Type::Error => {
                self.skip(0)?;
                Ok(Value::None)
            }
            _ => Err(self.mismatch(ty, path)),
        }
    }

    /// A field's value in the commonest shapes, a string right after the
    /// `:` that is an instant, a known region code or a text without
    /// escapes, read in place without [`Reader::value`]'s call; `None`
    /// leaves everything else, `null` and errors included, to it.
    #[inline(always)]
    fn quick_value(&mut self, ty: &Type) -> Option<Value> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        match ty.non_optional() {
            ty @ (Type::Time | Type::Region) => self.quick_scalar(ty),
            Type::Text => {
                let start = self.pos + 1;
                let end = plain_run(self.bytes, start);
                if self.bytes.get(end) != Some(&b'"') {
                    return None;
                }
                let text = self.text.get(start..end)?;
                self.pos = end + 1;
                Some(Value::Text(self.recent.share(text)))
            }
            _ => None,
        }
    }

    /// The common shapes of an instant and a known region code, read
    /// straight from the bytes after the opening quote; `None` leaves
    /// everything else, errors included, to the general path.
    fn quick_scalar(&mut self, ty: &Type) -> Option<Value> {
        let (len, value) = match ty {
            Type::Time => {
                // The string's end: where `+08:00` or `Z` ends it, or found.
                let start = self.pos + 1;
                let quote = |at: usize| self.bytes.get(at) == Some(&b'"');
                let end = match () {
                    () if quote(start + INSTANT_LEN) => start + INSTANT_LEN,
                    () if quote(start + 20) => start + 20,
                    () => plain_run(self.bytes, start),
                };
                // The fast shapes hold no quote, so a string that ends
                // before `end` does not read as one.
                let text = self.bytes.get(start..end)?;
                let t = match (self.last_instant, <[u8; INSTANT_LEN]>::try_from(text)) {
                    (Some((last, t)), Ok(bytes)) if last == bytes => t,
                    (_, bytes) => {
                        let t = time::parse_rfc3339_seconds(text)
                            .filter(|t| (time::MIN_INSTANT..=time::MAX_INSTANT).contains(t))?;
                        if let Ok(bytes) = bytes {
                            self.last_instant = Some((bytes, t));
                        }
                        t
                    }
                };
                (end - start, Value::Time(t))
            }
            Type::Region => {
                let code = region::parse_code(self.text.get(self.pos + 1..self.pos + 7)?)?;
                region::lookup(code)?;
                (6, Value::Region(code))
            }
            _ => return None,
        };
        if self.bytes.get(self.pos + 1 + len) != Some(&b'"') {
            return None;
        }
        self.pos += len + 2;
        Some(value)
    }

    /// A string-valued scalar of type `ty`.
    fn scalar(
        &mut self,
        text: &str,
        ty: &Type,
        path: &Path<'_>,
    ) -> std::result::Result<Value, String> {
        match ty {
            Type::Text => Ok(Value::Text(self.text(text))),
            _ => scalar(text, ty, path, self.reading, &mut self.warnings),
        }
    }

    fn list(&mut self, ty: &Type, element: &Type, path: &Path<'_>) -> Result<Value> {
        self.pos += 1; // `[`
        if self.next_byte()? == b']' {
            self.pos += 1;
            return Ok(Value::absent(ty));
        }
        // Elements gather in a reused buffer; the list is then allocated
        // once, at its length.
        let mut items = self.scratch.buffers.pop().unwrap_or_default();
        let read = self.elements(element, path, &mut items);
        let value = match ty {
            Type::Set(_) => {
                Value::as_set(&mut items);
                Value::Set(self.scratch.pool.block(items.drain(..)))
            }
            _ => Value::List(self.scratch.pool.block(items.drain(..))),
        };
        self.scratch.buffers.push(items);
        read?;
        Ok(value)
    }

    fn elements(&mut self, element: &Type, path: &Path<'_>, items: &mut Vec<Value>) -> Result<()> {
        loop {
            let here = Path::Index(path, items.len());
            // A record, the commonest element, without the call of the
            // general path.
            let value = match element {
                Type::Record(record) if self.bytes.get(self.pos) == Some(&b'{') => {
                    Value::Record(self.record(record, &here)?)
                }
                _ => self.value(element, &here)?,
            };
            items.push(value);
            match self.next_byte()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error(self.pos, "not valid JSON: expected `,` or `]`".into())),
            }
        }
        Ok(())
    }

    fn record(&mut self, record: &RecordType, path: &Path<'_>) -> Result<Arc<[Value]>> {
        if self.next_byte()? != b'{' {
            return Err(self.mismatch(&Type::Record(Arc::new(RecordType::default())), path));
        }
        self.pos += 1;
        // The values are read straight into the record's allocation, one
        // the pool took back if it has one.
        let len = record.fields.len();
        let mut block = self.scratch.pool.take(len);
        if Arc::get_mut(&mut block).is_none() {
            // Never the case: only the pool holds a free allocation.
            block = Pool::fresh(len);
        }
        let slots = Arc::get_mut(&mut block).unwrap_or_default();
        self.record_fields(record, path, slots)?;
        self.scratch.pool.hold(&block);
        Ok(block)
    }

    /// The fields of a record, after its `{`, into `slots` (all none).
    fn record_fields(
        &mut self,
        record: &RecordType,
        path: &Path<'_>,
        slots: &mut [Value],
    ) -> Result<()> {
        let fields = &record.fields;
        // The key in the data of each field: its name, unless the schema
        // gives some fields keys of their own (`name from "key"`).
        let plain = record.keys.is_empty();
        let data_key = |slot: usize| match (plain, fields.get(slot)) {
            (true, Some((name, _))) => name.as_str(),
            _ => record.key(slot),
        };
        let mut given = Given::new(fields.len());
        // Fields the schema does not declare, kept (only when met) to see
        // whether one is a misspelling of a field left out.
        let mut unknown: Vec<String> = Vec::new();
        let mut expected = 0;
        if self.next_byte()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                let first = self.next_byte()?;
                let key_at = self.pos;
                if first != b'"' {
                    return Err(self.error(
                        self.pos,
                        "not valid JSON: expected a field name in double quotes".into(),
                    ));
                }
                // Data usually lists fields in the schema's order: try the
                // one after the last first, straight on the bytes (a key has
                // no quote or backslash, the checker sees to it, so equal
                // bytes followed by a quote are that very key).
                let next_key = fields.get(expected).map(|_| data_key(expected));
                let slot = match next_key {
                    Some(name) if key_here(self.bytes, self.pos + 1, name.as_bytes()) => {
                        self.pos += name.len() + 2;
                        Some(expected)
                    }
                    _ => {
                        let key = self.string()?;
                        let slot = record.field_by_key(&key).map(|(slot, _)| slot);
                        if slot.is_none() {
                            if self.reading.strict {
                                return Err(self.undeclared(&key, record, path, key_at));
                            }
                            // A key much longer than any name is no misspelling
                            // of one.
                            if key.len() <= MAX_NEAR_KEY {
                                unknown.push(key.into_owned());
                            }
                        }
                        slot
                    }
                };
                if self.bytes.get(self.pos) == Some(&b':') {
                    self.pos += 1;
                } else {
                    self.expect(b':', "`:`")?;
                }
                match slot.and_then(|slot| Some((slot, &fields.get(slot)?.1))) {
                    Some((slot, ty)) => {
                        expected = slot + 1;
                        let here = Path::Field(path, data_key(slot));
                        if given.insert(slot) {
                            return Err(
                                self.error(key_at, format!("{}: given twice", here.quoted()))
                            );
                        }
                        let value = match self.quick_value(ty) {
                            Some(value) => value,
                            None => self.value(ty, &here)?,
                        };
                        if let Some(place) = slots.get_mut(slot) {
                            *place = value;
                        }
                    }
                    None => self.skip(0)?,
                }
                match self.next_byte()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => {
                        return Err(
                            self.error(self.pos, "not valid JSON: expected `,` or `}`".into())
                        );
                    }
                }
            }
        }
        for key in &unknown {
            let absent = (0..fields.len())
                .filter(|slot| !given.contains(*slot))
                .map(data_key);
            if let Some(near) = suggest::did_you_mean(key, absent) {
                self.warnings.push(DataWarning::NearField {
                    path: Path::Field(path, key).to_string(),
                    field: near.to_owned(),
                });
            }
        }
        let partial = self.reading.partial && matches!(path, Path::Root);
        if partial {
            self.given = (0..fields.len()).map(|slot| given.contains(slot)).collect();
        }
        if given.all(fields.len()) {
            return Ok(());
        }
        for (slot, (_, ty)) in fields.iter().enumerate() {
            if given.contains(slot) {
                continue;
            }
            let name = data_key(slot);
            if record.is_required(slot) && !partial {
                let record = match path {
                    Path::Root => "the record".to_owned(),
                    p => p.quoted(),
                };
                return Err(self.error(
                    self.pos - 1,
                    format!("{record}: required field `{name}` is missing"),
                ));
            }
            if let Some(place) = slots.get_mut(slot) {
                *place = Value::absent(ty);
            }
        }
        Ok(())
    }

    /// The error for a field the schema does not declare (`--strict`, and
    /// facts always).
    fn undeclared(&self, key: &str, record: &RecordType, path: &Path<'_>, at: usize) -> DataError {
        let here = Path::Field(path, key);
        let hint = suggest::did_you_mean(key, (0..record.fields.len()).map(|s| record.key(s)))
            .map(|near| format!("; did you mean `{near}`?"))
            .unwrap_or_default();
        self.error(
            at,
            format!("{}: not declared by the policy{hint}", here.quoted()),
        )
    }

    fn literal(&mut self, word: &str) -> Result<()> {
        let end = self.pos + word.len();
        match self.bytes.get(self.pos..end) {
            Some(b) if b == word.as_bytes() => {
                self.pos = end;
                Ok(())
            }
            Some(_) => Err(self.error(self.pos, "not valid JSON: expected a value".into())),
            None if word.as_bytes().starts_with(&self.bytes[self.pos..]) => Err(self.eof()),
            None => Err(self.error(self.pos, "not valid JSON: expected a value".into())),
        }
    }

    /// A string, starting at its opening quote; borrowed unless it has
    /// escapes.
    fn string(&mut self) -> Result<Cow<'a, str>> {
        self.pos += 1; // `"`
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut run = start;
        loop {
            self.pos = plain_run(self.bytes, self.pos);
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.eof());
            };
            match b {
                b'"' => {
                    let tail = &self.text[run..self.pos];
                    self.pos += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(tail),
                        Some(mut s) => {
                            s.push_str(tail);
                            Cow::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.text[run..self.pos]);
                    let at = self.pos;
                    let c = match self.bytes.get(self.pos + 1) {
                        None => return Err(self.eof()),
                        Some(b'u') => {
                            self.pos += 2;
                            self.unicode_escape(at)?
                        }
                        Some(escape) => {
                            let c = match escape {
                                b'"' => '"',
                                b'\\' => '\\',
                                b'/' => '/',
                                b'b' => '\u{8}',
                                b'f' => '\u{c}',
                                b'n' => '\n',
                                b'r' => '\r',
                                b't' => '\t',
                                _ => {
                                    return Err(self.error(
                                        at,
                                        "not valid JSON: unknown escape in a string".into(),
                                    ));
                                }
                            };
                            self.pos += 2;
                            c
                        }
                    };
                    s.push(c);
                    run = self.pos;
                }
                0..=0x1f => {
                    return Err(self.error(
                        self.pos,
                        "not valid JSON: control character in a string".into(),
                    ));
                }
                _ => self.pos += 1,
            }
        }
    }

    /// The character of `\uXXXX` (and its low surrogate), with `pos` on the
    /// first hex digit; leaves `pos` after the escape.
    fn unicode_escape(&mut self, at: usize) -> Result<char> {
        let bad = |r: &Self| r.error(at, "not valid JSON: bad `\\u` escape in a string".into());
        let high = self.hex4().ok_or_else(|| bad(self))?;
        let code = if (0xd800..0xdc00).contains(&high) {
            if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(bad(self));
            }
            self.pos += 2;
            let low = self.hex4().ok_or_else(|| bad(self))?;
            if !(0xdc00..0xe000).contains(&low) {
                return Err(bad(self));
            }
            0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| bad(self))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        let n = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))?;
        self.pos += 4;
        Some(n)
    }

    /// A number, by JSON's grammar.
    fn number(&mut self) -> Result<f64> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while let Some(b'0'..=b'9') = r.bytes.get(r.pos) {
                r.pos += 1;
            }
            r.pos > from
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        if !digits(self) {
            return Err(self.bad_number(start));
        }
        if self.bytes[int_start] == b'0' && self.pos - int_start > 1 {
            return Err(self.bad_number(start));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.bad_number(start));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.bad_number(start));
            }
        }
        match self.text[start..self.pos].parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(self.error(start, "number out of range".into())),
        }
    }

    fn bad_number(&self, start: usize) -> DataError {
        if self.pos >= self.bytes.len() {
            return self.eof();
        }
        self.error(start, "not valid JSON: malformed number".into())
    }

    /// Skips one value of any type, checking that it is JSON.
    fn skip(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_SKIP_DEPTH {
            return Err(self.error(self.pos, "nested too deeply".into()));
        }
        match self.next_byte()? {
            b'"' => self.string().map(drop),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            open @ (b'[' | b'{') => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.pos += 1;
                if self.next_byte()? == close {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    if open == b'{' {
                        if self.next_byte()? != b'"' {
                            return Err(self.error(
                                self.pos,
                                "not valid JSON: expected a field name in double quotes".into(),
                            ));
                        }
                        self.string()?;
                        self.expect(b':', "`:`")?;
                    }
                    self.skip(depth + 1)?;
                    match self.next_byte()? {
                        b',' => self.pos += 1,
                        b if b == close => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => {
                            let what = if open == b'[' {
                                "`,` or `]`"
                            } else {
                                "`,` or `}`"
                            };
                            return Err(
                                self.error(self.pos, format!("not valid JSON: expected {what}"))
                            );
                        }
                    }
                }
            }
            _ => Err(self.error(self.pos, "not valid JSON: expected a value".into())),
        }
    }
}

/// The longest undeclared key compared with the declared names.
const MAX_NEAR_KEY: usize = 64;

/// How many recent texts are kept for sharing.
const RECENT: usize = 4;

/// The texts a reader read last: a phone number repeats on every stay it
/// reports, and sharing one allocation makes later comparisons cheap too.
#[derive(Default)]
pub(crate) struct Recent {
    texts: [Option<Arc<str>>; RECENT],
    next: usize,
}

impl Recent {
    /// `text` as a shared string, reusing a recent one with the same content.
    #[inline]
    pub(crate) fn share(&mut self, text: &str) -> Arc<str> {
        if let Some(same) = self.texts.iter().flatten().find(|r| ***r == *text) {
            return Arc::clone(same);
        }
        let fresh: Arc<str> = text.into();
        self.texts[self.next % RECENT] = Some(Arc::clone(&fresh));
        self.next += 1;
        fresh
    }
}

/// What a reader reuses from one document to the next (one per thread:
/// [`super::decode`]), so that reading a line allocates nothing for its
/// records and lists once the lines before it are no longer held.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Spare buffers for the elements of lists being read, one per level
    /// of nesting.
    buffers: Vec<Vec<Value>>,
    /// The allocations of records and lists.
    pool: Pool,
}

#[cfg(test)]
impl Scratch {
    /// How many free allocations the pool keeps, and the most values they
    /// hold together.
    pub(crate) fn pooled(&self) -> (usize, usize) {
        let free = self.pool.free.iter().flatten();
        (free.clone().count(), free.map(|b| b.len()).sum())
    }
}

/// How many values a buffer of the scratch keeps room for between
/// documents.
const KEPT_VALUES: usize = 1 << 12;

/// Records and lists up to this length are pooled.
pub(crate) const POOLED_LEN: usize = 32;

/// How many free allocations of one length the pool keeps.
pub(crate) const POOLED: usize = 64;

/// How many handed-out allocations the pool keeps track of; those of a
/// document with more are freed as before, one by one.
const HELD: usize = 1 << 16;

/// The allocations of the records and lists a reader made, reused once
/// nothing else holds them: a decided person is dropped before the next
/// line is read, and its allocations serve that line instead of being
/// freed one by one and made again. An allocation still held (a record
/// kept by the caller, the facts) is simply let go. What the pool keeps
/// is bounded ([`POOLED`] of each length up to [`POOLED_LEN`], or as many
/// as [`Pool::keeping`] says), whatever the number of documents.
pub(crate) struct Pool {
    /// The allocations handed out since the last [`Pool::recycle`], in
    /// the order they were made: the elements of a list and the fields of
    /// a record before it.
    held: Vec<Arc<[Value]>>,
    /// Allocations nothing else holds, by length, their values none.
    free: Vec<Vec<Arc<[Value]>>>,
    /// How many free allocations of one length are kept.
    kept: usize,
}

impl Default for Pool {
    fn default() -> Self {
        Pool::keeping(POOLED)
    }
}

impl Pool {
    /// A pool that keeps up to `kept` free allocations of each length
    /// (the columnar reader's, whose people are made many at a time).
    pub(crate) fn keeping(kept: usize) -> Pool {
        Pool {
            held: Vec::new(),
            free: Vec::new(),
            kept,
        }
    }

    /// Takes back the allocations handed out that nothing else holds any
    /// more. The last made first: emptying a record lets go of the lists
    /// and records in it, which are then free as well.
    pub(crate) fn recycle(&mut self) {
        if self.free.is_empty() {
            self.free.resize_with(POOLED_LEN + 1, Vec::new);
        }
        while let Some(mut block) = self.held.pop() {
            let Some(values) = Arc::get_mut(&mut block) else {
                continue;
            };
            values.fill(Value::None);
            match self.free.get_mut(values.len()) {
                Some(free) if free.len() < self.kept => free.push(block),
                _ => {}
            }
        }
        self.held.shrink_to(HELD);
    }

    /// `values` in one allocation: a free one of their length if there is
    /// one.
    pub(crate) fn block(&mut self, values: impl ExactSizeIterator<Item = Value>) -> Arc<[Value]> {
        let free = self.free.get_mut(values.len()).and_then(Vec::pop);
        let block = match free {
            Some(mut block) => match Arc::get_mut(&mut block) {
                Some(slots) => {
                    for (slot, value) in slots.iter_mut().zip(values) {
                        *slot = value;
                    }
                    block
                }
                // Nothing but the pool holds a free allocation.
                None => values.collect(),
            },
            // None free: the values go straight into a new allocation,
            // not into one filled with none first.
            None => values.collect(),
        };
        self.hold(&block);
        block
    }

    /// An allocation of `len` values, all none: a free one if there is
    /// one, which nothing but the pool holds.
    #[inline]
    fn take(&mut self, len: usize) -> Arc<[Value]> {
        match self.free.get_mut(len).and_then(Vec::pop) {
            Some(block) => block,
            None => Pool::fresh(len),
        }
    }

    /// `n` allocations of `len` values each, all none (free ones first),
    /// after those of `blocks`: the columnar reader's, which it writes the
    /// values of records and lists into, then hands to [`Pool::keep`].
    /// (Apart from [`Pool::take`], which the JSON reader inlines.)
    pub(crate) fn take_many(&mut self, len: usize, n: usize, blocks: &mut Vec<Arc<[Value]>>) {
        let mut free = self.free.get_mut(len);
        blocks
            .extend((0..n).map(|_| {
                (free.as_mut().and_then(|f| f.pop())).unwrap_or_else(|| Pool::fresh(len))
            }));
    }

    /// `block`, of [`Pool::take_many`], kept track of as [`Pool::hold`]
    /// does.
    pub(crate) fn keep(&mut self, block: Arc<[Value]>) -> Arc<[Value]> {
        if (1..=POOLED_LEN).contains(&block.len()) && self.held.len() < HELD {
            self.held.push(Arc::clone(&block));
        }
        block
    }

    /// A new allocation of `len` values, all none.
    fn fresh(len: usize) -> Arc<[Value]> {
        (0..len).map(|_| Value::None).collect()
    }

    /// Keeps track of an allocation handed out, to take it back once
    /// nothing else holds it.
    #[inline]
    fn hold(&mut self, block: &Arc<[Value]>) {
        if (1..=POOLED_LEN).contains(&block.len()) && self.held.len() < HELD {
            self.held.push(Arc::clone(block));
        }
    }
}

/// Which fields of a record were given, without allocating for records of
/// up to 64 fields.
struct Given {
    small: u64,
    large: Vec<bool>,
}

impl Given {
    fn new(fields: usize) -> Self {
        Given {
            small: 0,
            large: if fields > 64 {
                vec![false; fields]
            } else {
                Vec::new()
            },
        }
    }

    /// Marks `slot`; says whether it was marked already.
    fn insert(&mut self, slot: usize) -> bool {
        let was = self.contains(slot);
        match self.large.get_mut(slot) {
            Some(b) => *b = true,
            None => self.small |= 1 << slot,
        }
        was
    }

    fn contains(&self, slot: usize) -> bool {
        match self.large.get(slot) {
            Some(b) => *b,
            None => self.small & (1 << slot) != 0,
        }
    }

    /// Whether all of `fields` fields were given.
    fn all(&self, fields: usize) -> bool {
        if self.large.is_empty() {
            self.small.count_ones() as usize == fields
        } else {
            self.large.iter().all(|b| *b)
        }
    }
}

/// Whether `key` and a closing quote stand at `pos`. The keys of a schema
/// are short: two loads that overlap, from each end, compare them without
/// a call or a loop.
#[inline]
fn key_here(bytes: &[u8], pos: usize, key: &[u8]) -> bool {
    let Some([here @ .., b'"']) = bytes.get(pos..=pos + key.len()) else {
        return false;
    };
    let n = key.len();
    match n {
        0..4 => here == key,
        4..8 => ends::<4>(here) == ends::<4>(key),
        8..16 => ends::<8>(here) == ends::<8>(key),
        _ => here == key,
    }
}

/// The first and the last `N` bytes of `bytes` (at least `N` long).
#[inline(always)]
fn ends<const N: usize>(bytes: &[u8]) -> ([u8; N], [u8; N]) {
    let first = bytes.first_chunk::<N>().copied().unwrap_or([0; N]);
    let last = bytes.last_chunk::<N>().copied().unwrap_or([0; N]);
    (first, last)
}

/// The first position from `pos` holding a quote, a backslash or a control
/// character, eight bytes at a time.
fn plain_run(bytes: &[u8], mut pos: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A zero byte in `quote` or `backslash`, or a byte below 0x20 in `x`.
        let special = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        if special & HIGH != 0 {
            break;
        }
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        pos += 1;
    }
    pos
}

/// A string-valued scalar of type `ty` at `path`, read as `reading` says;
/// a region code missing from the table adds to `warnings`. The JSON
/// reader and the columnar one ([`crate::columnar`]) read strings alike.
pub(crate) fn scalar(
    text: &str,
    ty: &Type,
    path: &Path<'_>,
    reading: Reading<'_>,
    warnings: &mut Vec<DataWarning>,
) -> std::result::Result<Value, String> {
    let bad = |what: String| format!("{}: {what}", path.quoted());
    match ty {
        Type::Text => Ok(Value::Text(text.into())),
        Type::Time => time::parse_instant(text, reading.timezone, reading.resolve)
            .map(Value::Time)
            .map_err(|e| bad(e.to_string())),
        Type::Duration => time::parse_duration(text)
            .map(|s| Value::Duration(s * time::SECOND))
            .ok_or_else(|| bad(format!("expected a duration like \"48h\", found {text:?}"))),
        Type::Region => {
            let code = region::parse_code(text).ok_or_else(|| {
                bad(format!(
                    "expected a six-digit region code like \"110105\", found {text:?}"
                ))
            })?;
            if region::lookup(code).is_none() {
                warnings.push(DataWarning::UnknownRegion {
                    path: path.to_string(),
                    code: text.to_owned(),
                });
            }
            Ok(Value::Region(code))
        }
        Type::Enum(choices) => match choices.iter().position(|c| c == text) {
            Some(i) => Ok(Value::Enum(i as u32)),
            None => Err(bad(format!("expected one of {ty}, found {text:?}"))),
        },
        _ => Err(bad(format!("expected {}", expecting(ty)))),
    }
}

/// What a value of `ty` must look like, for messages.
pub(crate) fn expecting(ty: &Type) -> String {
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

#[cfg(test)]
mod key_tests {
    use super::key_here;

    /// Every length of key, each shape of the comparison: the key itself
    /// followed by a quote matches; a byte changed anywhere in it, a
    /// missing quote, or the end of the text does not.
    #[test]
    fn a_key_matches_only_itself_and_its_closing_quote() {
        for n in 0..24 {
            let key: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let mut text = b"{\"".to_vec();
            text.extend_from_slice(&key);
            text.extend_from_slice(b"\":1}");
            assert!(key_here(&text, 2, &key), "length {n}");
            for at in 0..n {
                let mut other = text.clone();
                other[2 + at] = b'_';
                assert!(!key_here(&other, 2, &key), "length {n}, byte {at}");
            }
            let mut unquoted = text.clone();
            unquoted[2 + n] = b'x';
            assert!(!key_here(&unquoted, 2, &key), "length {n}, no quote");
            assert!(!key_here(&text[..2 + n], 2, &key), "length {n}, cut");
            if n > 0 {
                assert!(!key_here(&text, 2, &key[..n - 1]), "length {n}, shorter");
            }
        }
    }
}
