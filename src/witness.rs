//! Why a rule fired, as data: the records behind each of its conditions.
//!
//! The evaluator builds witnesses only for the rules that fired (and, for
//! `policyc explain`, for the ones that did not). They are read three ways:
//! as the contract's `because` lines, as structured JSON (`eval
//! --witnesses`), and in words by [`crate::explain`].

use std::fmt::Write as _;

use jiff::tz::TimeZone;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::decision::Json;
use crate::region;
use crate::syntax;
use crate::time;
use crate::types::Type;
use crate::value::Value;

/// What made one condition of a rule come out as it did.
#[derive(Debug, Clone, PartialEq)]
pub enum Witness<'p> {
    /// Records of a list for which a condition holds: the matches of
    /// `any L has P`, or the counter-examples of a `no L has P` that failed.
    Found {
        /// The list, as written (`outside`, `person.tests`).
        list: String,
        /// The name it goes by, when it is written as a name or a path of
        /// names (`outside`, `tests`).
        list_name: Option<&'p str>,
        /// The condition, as written; none for a bare `any L`.
        condition: Option<String>,
        /// The records, each with what it matched.
        records: Vec<Found<'p>>,
    },
    /// No record of a list satisfies a condition: a `no L has P` that held,
    /// or an `any L has P` that failed.
    Nothing {
        /// The list, as written.
        list: String,
        /// The name it goes by, as for [`Witness::Found`].
        list_name: Option<&'p str>,
        /// The condition, as written.
        condition: String,
        /// The window of time in which nothing qualified, when the
        /// condition bounds an instant of the record.
        window: Option<Window>,
    },
    /// Which value of an `if C then A else B` was taken: the one after
    /// `then` when `C` held.
    Arm {
        /// The condition `C`, as written.
        guard: String,
        /// Whether it held: the value after `then` was taken.
        then: bool,
    },
    /// A condition over no list, as written, and how it came out.
    Condition {
        /// The condition, as written.
        text: String,
        /// Whether it held.
        held: bool,
    },
}

/// One record behind a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<'p> {
    /// The record (or value) of the list.
    pub record: Value,
    /// Its type.
    pub ty: &'p Type,
    /// The memberships it satisfied: which entry of which set it matched.
    pub matched: Vec<Match<'p>>,
}

/// A membership a record satisfied: `region in case_counties`.
#[derive(Debug, Clone, PartialEq)]
pub struct Match<'p> {
    /// The condition, as written.
    pub condition: String,
    /// The value that was looked for (the record's region, or its
    /// prefecture for `prefecture(region) in ...`).
    pub value: Value,
    /// Its type.
    pub ty: &'p Type,
    /// The collection, as written.
    pub collection: String,
    /// The data the members come from, as written: the collection, or
    /// `case_counties` for `prefectures(case_counties)`.
    pub members_of: String,
    /// The name that data goes by, when it is written as a name or a path
    /// of names.
    pub members_of_name: Option<&'p str>,
    /// The entries of the data behind the collection that gave the match:
    /// the value itself, or for `prefectures(case_counties)` the case
    /// counties in that prefecture.
    pub members: Vec<Value>,
    /// Their type.
    pub members_ty: &'p Type,
}

/// A window of time, either end open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// What the window bounds, as written (`sampled_at`).
    pub of: String,
    /// Its first instant, microseconds since the epoch.
    pub from: Option<i64>,
    /// Its last instant.
    pub to: Option<i64>,
}

/// Where `because` lines go: each is opened, written into the buffer
/// `open` gives, and closed.
pub(crate) trait Lines {
    /// Starts a line and gives the buffer to write it into.
    fn open(&mut self) -> &mut String;
    /// Ends the line last opened.
    fn close(&mut self) {}
}

/// Each line its own string.
impl Lines for Vec<String> {
    fn open(&mut self) -> &mut String {
        let i = self.len();
        self.push(String::new());
        &mut self[i]
    }
}

impl Witness<'_> {
    /// The witness as lines of text: the contract's `because`.
    pub fn lines(&self, tz: &TimeZone, out: &mut Vec<String>) {
        self.write_lines(tz, out);
    }

    /// [`Witness::lines`], written where `out` says.
    pub(crate) fn write_lines(&self, tz: &TimeZone, out: &mut impl Lines) {
        match self {
            Witness::Found { list, records, .. } => {
                for r in records {
                    let line = out.open();
                    line.push_str(list);
                    line.push_str(": ");
                    describe_into(line, &r.record, r.ty, tz);
                    out.close();
                }
            }
            Witness::Nothing {
                list,
                condition,
                window,
                ..
            } => {
                let line = out.open();
                let _ = write!(line, "no element of {list} has {condition}");
                if let Some(w) = window {
                    let _ = write!(line, " ({} ", w.of);
                    write_window(line, w, tz);
                    line.push(')');
                }
                out.close();
            }
            Witness::Arm { guard, then } => {
                let line = out.open();
                let arm = if *then { "then" } else { "else" };
                let _ = write!(line, "if {guard}: {arm}");
                out.close();
            }
            Witness::Condition { text, held } => {
                let line = out.open();
                if *held {
                    line.push_str(text);
                } else if syntax::enclosed(text) {
                    let _ = write!(line, "not {text}");
                } else {
                    let _ = write!(line, "not ({text})");
                }
                out.close();
            }
        }
    }
}

/// `from X to Y`, `since X`, `until Y`: a window in words.
fn write_window(out: &mut String, w: &Window, tz: &TimeZone) {
    match (w.from, w.to) {
        (Some(a), Some(b)) => {
            out.push_str("from ");
            time::write_instant(out, a, tz);
            out.push_str(" to ");
            time::write_instant(out, b, tz);
        }
        (Some(a), None) => {
            out.push_str("since ");
            time::write_instant(out, a, tz);
        }
        (None, Some(b)) => {
            out.push_str("until ");
            time::write_instant(out, b, tz);
        }
        (None, None) => out.push_str("at any time"),
    }
}

/// Witnesses as the contract's `because` lines.
pub fn because(witnesses: &[Witness<'_>], tz: &TimeZone) -> Vec<String> {
    let mut out = Vec::new();
    for w in witnesses {
        w.lines(tz, &mut out);
    }
    out
}

/// A value in words: regions with their names, times in the policy's
/// zone, records as `field value, ...`.
pub fn describe(v: &Value, ty: &Type, tz: &TimeZone) -> String {
    let mut out = String::new();
    describe_into(&mut out, v, ty, tz);
    out
}

fn describe_into(out: &mut String, v: &Value, ty: &Type, tz: &TimeZone) {
    match (v, ty.non_optional()) {
        (Value::Region(code), _) => {
            let _ = write!(out, "{code:06}");
            if let Some(name) = region::full_name(*code) {
                let _ = write!(out, " {name}");
            }
        }
        (Value::Enum(i), Type::Enum(choices)) => {
            out.push_str(choices.get(*i as usize).map_or("?", String::as_str));
        }
        (Value::Record(fields), Type::Record(record)) => {
            let mut first = true;
            for (value, (name, fty)) in fields.iter().zip(&record.fields) {
                if matches!(value, Value::None) {
                    continue;
                }
                if !first {
                    out.push_str(", ");
                }
                first = false;
                let _ = write!(out, "{name} ");
                describe_into(out, value, fty, tz);
            }
        }
        (Value::List(items) | Value::Set(items), t) => {
            let element = t.element().cloned().unwrap_or(Type::Error);
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                describe_into(out, item, &element, tz);
            }
            out.push(']');
        }
        (Value::Enum(i), _) => {
            let _ = write!(out, "#{i}");
        }
        (Value::Record(_), _) => out.push_str("{…}"),
        // Scalars read as the data gives them.
        (scalar, _) => crate::decision::write_plain(out, scalar, ty, tz),
    }
}

/// Witnesses as JSON, with instants in the policy's zone and regions as
/// `{"code", "name"}`.
pub(crate) struct WitnessesJson<'a, 'p> {
    pub(crate) witnesses: &'a [Witness<'p>],
    pub(crate) tz: &'a TimeZone,
}

impl Serialize for WitnessesJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.witnesses
                .iter()
                .map(|w| WitnessJson { w, tz: self.tz }),
        )
    }
}

struct WitnessJson<'a, 'p> {
    w: &'a Witness<'p>,
    tz: &'a TimeZone,
}

impl Serialize for WitnessJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tz = self.tz;
        let json = |value, ty| Json::named(value, ty, tz);
        let mut map = s.serialize_map(None)?;
        match self.w {
            Witness::Found {
                list,
                condition,
                records,
                ..
            } => {
                map.serialize_entry("kind", "found")?;
                map.serialize_entry("list", list)?;
                map.serialize_entry("has", condition)?;
                let records: Vec<_> = records
                    .iter()
                    .map(|r| FoundJson {
                        record: json(&r.record, r.ty),
                        matched: r
                            .matched
                            .iter()
                            .map(|m| MatchJson {
                                condition: &m.condition,
                                value: json(&m.value, m.ty),
                                collection: &m.collection,
                                members_of: &m.members_of,
                                members: m.members.iter().map(|v| json(v, m.members_ty)).collect(),
                            })
                            .collect(),
                    })
                    .collect();
                map.serialize_entry("records", &records)?;
            }
            Witness::Nothing {
                list,
                condition,
                window,
                ..
            } => {
                map.serialize_entry("kind", "nothing")?;
                map.serialize_entry("list", list)?;
                map.serialize_entry("has", condition)?;
                let window = window.as_ref().map(|w| WindowJson {
                    of: &w.of,
                    from: w.from.map(|t| time::format_instant(t, tz)),
                    to: w.to.map(|t| time::format_instant(t, tz)),
                });
                map.serialize_entry("window", &window)?;
            }
            Witness::Arm { guard, then } => {
                map.serialize_entry("kind", "arm")?;
                map.serialize_entry("if", guard)?;
                map.serialize_entry("took", if *then { "then" } else { "else" })?;
            }
            Witness::Condition { text, held } => {
                map.serialize_entry("kind", "condition")?;
                map.serialize_entry("condition", text)?;
                map.serialize_entry("held", held)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct FoundJson<'a> {
    record: Json<'a>,
    matched: Vec<MatchJson<'a>>,
}

#[derive(Serialize)]
struct MatchJson<'a> {
    condition: &'a str,
    value: Json<'a>,
    #[serde(rename = "in")]
    collection: &'a str,
    members_of: &'a str,
    members: Vec<Json<'a>>,
}

#[derive(Serialize)]
struct WindowJson<'a> {
    of: &'a str,
    from: Option<String>,
    to: Option<String>,
}
