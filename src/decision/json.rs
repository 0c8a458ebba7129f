//! Decisions as compact JSON, written straight into a buffer the caller
//! reuses from line to line.
//!
//! What is the same on every line of a policy (the `policy` block, the
//! outcomes, each rule's name, title and outcome, the payload keys and the
//! payload values that are constants, and `now` for a run deciding at one
//! instant) is escaped once, into a [`JsonPlan`], and appended as it is.
//! The rest (the id, computed payload values, `because` lines, witnesses,
//! instants) is written into the buffer and escaped there, once. The bytes
//! are those serde gives for the same decision (`impl Serialize for
//! Decision`), which stays for serializers of other kinds.

use std::fmt::Write as _;
use std::sync::OnceLock;

use jiff::tz::TimeZone;

use super::{Decision, FiredRule, NextChange};
use crate::check::Program;
use crate::check::ir::ExprKind;
use crate::region;
use crate::time;
use crate::types::Type;
use crate::value::Value;
use crate::witness::{Lines, Window, Witness};

/// The JSON of what a policy's decision lines have in common, escaped once
/// per policy. A piece is used only for the text it was made from: a
/// decision of another policy, or one built by hand, is written in full,
/// with the same bytes.
#[derive(Debug, Clone, Default)]
pub struct JsonPlan {
    /// `,"policy":{...},"now":"`, with the policy's name, title and version.
    policy: Option<(PolicyRef, String)>,
    /// `"outcome":"..."` for each outcome.
    outcomes: Vec<Piece>,
    /// `{"name":...,"title":...,"outcome":...,"because":[` for each rule,
    /// found by its name.
    rules: Vec<RulePiece>,
    /// `,"key":` for each payload field of each rule and of `otherwise`,
    /// and `,"key":"text"` when its value is a constant text.
    payload: Vec<PayloadPiece>,
    /// The first `now` a decision was written at, and its text: a run
    /// decides every line at one instant.
    now: OnceLock<(i64, String)>,
}

/// A piece of JSON for a text of the program, found by the text's address
/// and used only when the text is the same.
#[derive(Debug, Clone)]
struct Piece {
    addr: usize,
    text: String,
    json: String,
}

#[derive(Debug, Clone, PartialEq)]
struct PolicyRef {
    name: String,
    title: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Clone)]
struct RulePiece {
    name: Piece,
    code: Option<String>,
    title: Option<String>,
    outcome: String,
}

#[derive(Debug, Clone)]
struct PayloadPiece {
    key: Piece,
    /// The constant text value and `,"key":"text"`.
    constant: Option<(String, String)>,
}

/// The address a piece is found by.
fn addr(text: &str) -> usize {
    text.as_ptr() as usize
}

/// The piece made from `text`, if any.
fn find<'a, T>(pieces: &'a [T], text: &str, piece: impl Fn(&T) -> &Piece) -> Option<&'a T> {
    let i = pieces
        .binary_search_by_key(&addr(text), |p| piece(p).addr)
        .ok()?;
    pieces.get(i).filter(|p| piece(p).text == text)
}

impl JsonPlan {
    /// The pieces of `program`'s decision lines.
    pub fn new(program: &Program) -> JsonPlan {
        let piece = |text: &str, json: String| Piece {
            addr: addr(text),
            text: text.to_owned(),
            json,
        };
        let policy = PolicyRef {
            name: program.name.clone(),
            title: program.title.clone(),
            version: program.version.clone(),
        };
        let mut block = String::new();
        write_policy(
            &mut block,
            &policy.name,
            policy.title.as_deref(),
            policy.version.as_deref(),
        );
        let outcomes = program
            .outcomes
            .iter()
            .map(|o| {
                let mut json = String::new();
                write_outcome(&mut json, None, o);
                piece(o, json)
            })
            .collect();
        let mut rules: Vec<RulePiece> = program
            .rules
            .iter()
            .map(|r| {
                let outcome = program
                    .outcomes
                    .get(r.then.index)
                    .map_or("", String::as_str);
                let mut json = String::new();
                let head = Head {
                    name: &r.name,
                    code: r.code.as_deref(),
                    title: r.title.as_deref(),
                    outcome,
                };
                write_rule_head(&mut json, head);
                RulePiece {
                    name: piece(&r.name, json),
                    code: r.code.clone(),
                    title: r.title.clone(),
                    outcome: outcome.to_owned(),
                }
            })
            .collect();
        rules.sort_by_key(|r| r.name.addr);
        let mut payload: Vec<PayloadPiece> = program
            .rules
            .iter()
            .map(|r| &r.then)
            .chain([&program.otherwise])
            .flat_map(|o| &o.payload)
            .map(|(name, e)| {
                let mut key = String::from(",");
                string(&mut key, name);
                key.push(':');
                let constant = match &e.kind {
                    ExprKind::Const(Value::Text(t)) => {
                        let mut json = key.clone();
                        string(&mut json, t);
                        Some((t.to_string(), json))
                    }
                    _ => None,
                };
                PayloadPiece {
                    key: piece(name, key),
                    constant,
                }
            })
            .collect();
        payload.sort_by_key(|p| p.key.addr);
        JsonPlan {
            policy: Some((policy, block)),
            outcomes,
            rules,
            payload,
            now: OnceLock::new(),
        }
    }
}

impl Decision<'_> {
    /// Appends the decision as one line of compact JSON (without the
    /// newline) to `out`, taking what every line has in common from
    /// `plan`: the same text as [`Decision::to_json`], faster.
    pub fn write_json(&self, out: &mut String, plan: &JsonPlan) {
        let tz = &self.policy.timezone;
        out.push_str("{\"id\":");
        match &self.id {
            Some(id) => string(out, id),
            None => out.push_str("null"),
        }
        out.push(',');
        write_outcome(out, Some(plan), self.outcome);
        write_payload(out, plan, &self.payload, tz);
        let program = self.policy;
        match &plan.policy {
            Some((p, block))
                if p.name == program.name
                    && p.title == program.title
                    && p.version == program.version =>
            {
                out.push_str(block);
            }
            _ => write_policy(
                out,
                &program.name,
                program.title.as_deref(),
                program.version.as_deref(),
            ),
        }
        let (at, text) = plan
            .now
            .get_or_init(|| (self.now, time::format_instant(self.now, tz)));
        if *at == self.now {
            out.push_str(text);
        } else {
            time::write_instant(out, self.now, tz);
        }
        out.push_str("\",\"rules\":[");
        for (i, rule) in self.rules.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_rule(out, plan, rule, tz, self.show_witnesses);
        }
        out.push_str("],\"warnings\":[");
        for (i, w) in self.warnings.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            string(out, w);
        }
        out.push(']');
        match &self.next_change {
            NextChange::NotAsked => {}
            NextChange::Never => out.push_str(",\"next_change\":null"),
            NextChange::At { at, then } => {
                out.push_str(",\"next_change\":");
                write_step(out, plan, *at, then);
            }
            NextChange::Ends { at } => {
                out.push_str(",\"next_change\":{\"at\":");
                instant(out, *at, tz);
                out.push_str(",\"outcome\":null,\"rule\":null,\"ends\":true}");
            }
        }
        if let Some(timeline) = &self.timeline {
            out.push_str(",\"timeline\":[");
            for (i, (at, then)) in timeline.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_step(out, plan, *at, then);
            }
            if let Some(at) = self.timeline_ends {
                out.push_str(",{\"at\":");
                instant(out, at, tz);
                out.push_str(",\"outcome\":null,\"rule\":null,\"ends\":true}");
            }
            out.push(']');
            if let Some(next) = self.timeline_cut {
                let after = timeline.last().map_or(self.now, |(at, _)| *at);
                out.push_str(",\"timeline_cut\":{\"after\":");
                instant(out, after, tz);
                out.push_str(",\"next_at\":");
                instant(out, next, tz);
                out.push('}');
            }
        }
        if let Some(remedies) = &self.remedies {
            out.push_str(",\"remedies\":[");
            for (i, (title, then)) in remedies.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"remedy\":");
                string(out, title);
                write_brief(out, plan, then);
            }
            out.push(']');
        }
        out.push('}');
    }
}

/// `,"policy":{"name":...,"title":...,"version":...},"now":"`
fn write_policy(out: &mut String, name: &str, title: Option<&str>, version: Option<&str>) {
    out.push_str(",\"policy\":{\"name\":");
    string(out, name);
    if let Some(title) = title {
        out.push_str(",\"title\":");
        string(out, title);
    }
    out.push_str(",\"version\":");
    match version {
        Some(v) => string(out, v),
        None => out.push_str("null"),
    }
    out.push_str("},\"now\":\"");
}

/// `"outcome":"..."`
fn write_outcome(out: &mut String, plan: Option<&JsonPlan>, outcome: &str) {
    match plan.and_then(|p| find(&p.outcomes, outcome, |p| p)) {
        Some(piece) => out.push_str(&piece.json),
        None => {
            out.push_str("\"outcome\":");
            string(out, outcome);
        }
    }
}

/// `,"key":value` for each payload field.
fn write_payload(
    out: &mut String,
    plan: &JsonPlan,
    payload: &[(&str, Value, &Type)],
    tz: &TimeZone,
) {
    for (name, value, ty) in payload {
        match find(&plan.payload, name, |p| &p.key) {
            Some(piece) => match (&piece.constant, value) {
                (Some((text, json)), Value::Text(t)) if **t == **text => {
                    out.push_str(json);
                    continue;
                }
                _ => out.push_str(&piece.key.json),
            },
            None => {
                out.push(',');
                string(out, name);
                out.push(':');
            }
        }
        write_value(out, value, ty, tz, false);
    }
}

/// What a fired rule's JSON opens with.
#[derive(Clone, Copy)]
struct Head<'a> {
    name: &'a str,
    code: Option<&'a str>,
    title: Option<&'a str>,
    outcome: &'a str,
}

/// `{"name":...,"code":...,"title":...,"outcome":...,"because":[`
fn write_rule_head(out: &mut String, head: Head<'_>) {
    let Head {
        name,
        code,
        title,
        outcome,
    } = head;
    out.push_str("{\"name\":");
    string(out, name);
    if let Some(code) = code {
        out.push_str(",\"code\":");
        string(out, code);
    }
    if let Some(title) = title {
        out.push_str(",\"title\":");
        string(out, title);
    }
    out.push(',');
    write_outcome(out, None, outcome);
    out.push_str(",\"because\":[");
}

/// A fired rule: `name`, `title`, `outcome`, `because` and, when asked
/// for, `witnesses`.
fn write_rule(
    out: &mut String,
    plan: &JsonPlan,
    rule: &FiredRule<'_>,
    tz: &TimeZone,
    witnesses: bool,
) {
    match find(&plan.rules, rule.name, |r| &r.name) {
        Some(piece)
            if piece.title.as_deref() == rule.title
                && piece.code.as_deref() == rule.code
                && piece.outcome == rule.outcome =>
        {
            out.push_str(&piece.name.json);
        }
        _ => write_rule_head(
            out,
            Head {
                name: rule.name,
                code: rule.code,
                title: rule.title,
                outcome: rule.outcome,
            },
        ),
    }
    let mut lines = JsonLines {
        out: &mut *out,
        start: 0,
        count: 0,
    };
    for w in &rule.witnesses {
        w.write_lines(tz, &mut lines);
    }
    out.push(']');
    if witnesses {
        out.push_str(",\"witnesses\":");
        write_witnesses(out, &rule.witnesses, tz);
    }
    out.push('}');
}

/// `because` lines as the elements of a JSON array, each escaped where it
/// is written.
struct JsonLines<'a> {
    out: &'a mut String,
    start: usize,
    count: usize,
}

impl Lines for JsonLines<'_> {
    fn open(&mut self) -> &mut String {
        if self.count > 0 {
            self.out.push(',');
        }
        self.count += 1;
        self.out.push('"');
        self.start = self.out.len();
        self.out
    }

    fn close(&mut self) {
        escape_tail(self.out, self.start);
        self.out.push('"');
    }
}

/// `{"at":...,"outcome":...,<payload>,"rule":...}`: the decision after an
/// instant, in brief.
fn write_step(out: &mut String, plan: &JsonPlan, at: i64, then: &Decision<'_>) {
    out.push_str("{\"at\":");
    instant(out, at, &then.policy.timezone);
    write_brief(out, plan, then);
}

/// `,"outcome":...,<payload>,"rule":...}`
fn write_brief(out: &mut String, plan: &JsonPlan, then: &Decision<'_>) {
    out.push(',');
    write_outcome(out, Some(plan), then.outcome);
    write_payload(out, plan, &then.payload, &then.policy.timezone);
    out.push_str(",\"rule\":");
    match then.deciding_rule() {
        Some(rule) => string(out, rule),
        None => out.push_str("null"),
    }
    if let Some(code) = then.deciding_code() {
        out.push_str(",\"rule_code\":");
        string(out, code);
    }
    out.push('}');
}

/// Witnesses as JSON, with instants in the policy's zone and regions as
/// `{"code", "name"}`.
pub(crate) fn write_witnesses(out: &mut String, witnesses: &[Witness<'_>], tz: &TimeZone) {
    out.push('[');
    for (i, w) in witnesses.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_witness(out, w, tz);
    }
    out.push(']');
}

fn write_witness(out: &mut String, w: &Witness<'_>, tz: &TimeZone) {
    match w {
        Witness::Found {
            list,
            condition,
            records,
            ..
        } => {
            out.push_str("{\"kind\":\"found\",\"list\":");
            string(out, list);
            out.push_str(",\"has\":");
            match condition {
                Some(c) => string(out, c),
                None => out.push_str("null"),
            }
            out.push_str(",\"records\":[");
            for (i, r) in records.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"record\":");
                write_value(out, &r.record, r.ty, tz, true);
                out.push_str(",\"matched\":[");
                for (j, m) in r.matched.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push_str("{\"condition\":");
                    string(out, &m.condition);
                    out.push_str(",\"value\":");
                    write_value(out, &m.value, m.ty, tz, true);
                    out.push_str(",\"in\":");
                    string(out, &m.collection);
                    out.push_str(",\"members_of\":");
                    string(out, &m.members_of);
                    out.push_str(",\"members\":[");
                    for (k, v) in m.members.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        write_value(out, v, m.members_ty, tz, true);
                    }
                    out.push_str("]}");
                }
                out.push_str("]}");
            }
            out.push(']');
        }
        Witness::Nothing {
            list,
            condition,
            window,
            ..
        } => {
            out.push_str("{\"kind\":\"nothing\",\"list\":");
            string(out, list);
            out.push_str(",\"has\":");
            string(out, condition);
            out.push_str(",\"window\":");
            match window {
                Some(w) => write_window(out, w, tz),
                None => out.push_str("null"),
            }
        }
        Witness::Arm { guard, then } => {
            out.push_str("{\"kind\":\"arm\",\"if\":");
            string(out, guard);
            out.push_str(if *then {
                ",\"took\":\"then\""
            } else {
                ",\"took\":\"else\""
            });
        }
        Witness::Condition { text, held } => {
            out.push_str("{\"kind\":\"condition\",\"condition\":");
            string(out, text);
            out.push_str(if *held {
                ",\"held\":true"
            } else {
                ",\"held\":false"
            });
        }
    }
    out.push('}');
}

/// `{"of":...,"from":...,"to":...}`
fn write_window(out: &mut String, w: &Window, tz: &TimeZone) {
    out.push_str("{\"of\":");
    string(out, &w.of);
    for (key, end) in [(",\"from\":", w.from), (",\"to\":", w.to)] {
        out.push_str(key);
        match end {
            Some(t) => instant(out, t, tz),
            None => out.push_str("null"),
        }
    }
    out.push('}');
}

/// A value as JSON, the way data gives it: instants as RFC 3339 text in the
/// policy's zone, regions as code strings (or, `named`, as `{"code",
/// "name"}`), choices as their string.
pub(crate) fn write_value(out: &mut String, value: &Value, ty: &Type, tz: &TimeZone, named: bool) {
    match (value, ty.non_optional()) {
        (Value::None, _) => out.push_str("null"),
        (Value::Bool(b), _) => out.push_str(if *b { "true" } else { "false" }),
        (Value::Number(n), _) => number(out, *n),
        (Value::List(items) | Value::Set(items), ty) => {
            let element = ty.element().unwrap_or(&Type::Error);
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, element, tz, named);
            }
            out.push(']');
        }
        (Value::Record(fields), Type::Record(record)) => {
            out.push('{');
            for (i, (value, (_, ty))) in fields.iter().zip(&record.fields).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(out, record.key(i));
                out.push(':');
                write_value(out, value, ty, tz, named);
            }
            out.push('}');
        }
        (Value::Region(code), _) if named => {
            let _ = write!(out, "{{\"code\":\"{code:06}\",\"name\":");
            match region::full_name(*code) {
                Some(name) => string(out, &name),
                None => out.push_str("null"),
            }
            out.push('}');
        }
        (value, ty) => {
            out.push('"');
            let start = out.len();
            write_plain(out, value, ty, tz);
            escape_tail(out, start);
            out.push('"');
        }
    }
}

/// A number as serde writes it: the shortest text that reads back the
/// same, `null` when it is not finite.
/// A number as the decision's `Serialize` writes it: a whole number
/// without a fraction.
fn number(out: &mut String, n: f64) {
    match crate::value::printed(n) {
        Ok(whole) => {
            let _ = write!(out, "{whole}");
        }
        Err(n) => match serde_json::to_string(&n) {
            Ok(text) => out.push_str(&text),
            Err(_) => out.push_str("null"),
        },
    }
}

/// A scalar as the text data would give it.
pub(crate) fn plain(value: &Value, ty: &Type, tz: &TimeZone) -> String {
    let mut out = String::new();
    write_plain(&mut out, value, ty, tz);
    out
}

/// [`plain`] into a buffer.
pub(crate) fn write_plain(out: &mut String, value: &Value, ty: &Type, tz: &TimeZone) {
    match (value, ty.non_optional()) {
        (Value::None, _) => out.push_str("none"),
        (Value::Text(t), _) => out.push_str(t),
        (Value::Time(t), _) => time::write_instant(out, *t, tz),
        (Value::Duration(d), _) => out.push_str(&time::format_duration(*d)),
        (Value::Region(code), _) => {
            let _ = write!(out, "{code:06}");
        }
        (Value::Enum(i), Type::Enum(choices)) => {
            out.push_str(choices.get(*i as usize).map_or("", String::as_str));
        }
        (Value::Bool(b), _) => {
            let _ = write!(out, "{b}");
        }
        (Value::Number(n), _) => out.push_str(&crate::value::number_text(*n)),
        (Value::Interval(a, b), _) => {
            out.push('[');
            time::write_instant(out, *a, tz);
            out.push_str(", ");
            time::write_instant(out, *b, tz);
            out.push(']');
        }
        (other, _) => {
            let _ = write!(out, "{other:?}");
        }
    }
}

/// An instant as a JSON string.
fn instant(out: &mut String, micros: i64, tz: &TimeZone) {
    out.push('"');
    let start = out.len();
    time::write_instant(out, micros, tz);
    escape_tail(out, start);
    out.push('"');
}

/// `text` as a JSON string.
pub(crate) fn string(out: &mut String, text: &str) {
    out.push('"');
    escape_into(out, text);
    out.push('"');
}

/// Whether a byte stands escaped in a JSON string.
fn escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Escapes what `out` holds from `start` on, in place: nothing moves when
/// nothing needs escaping, as is usual.
fn escape_tail(out: &mut String, start: usize) {
    if out
        .as_bytes()
        .get(start..)
        .is_some_and(|tail| tail.iter().any(|&b| escaped(b)))
    {
        let raw = out.split_off(start);
        escape_into(out, &raw);
    }
}

/// Appends `text` escaped as serde_json escapes it: `"` and `\`, and the
/// control characters, as `\n`, `\t` and the like or `\u00XX`.
fn escape_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if !escaped(b) {
            continue;
        }
        // An ASCII byte: `i` and `i + 1` are character boundaries.
        out.push_str(text.get(start..i).unwrap_or_default());
        start = i + 1;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push_str(text.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é中\u{2028}😀\u{7f}");
        for text in [all.as_str(), "", "plain", "\"", "a\\b", "末尾\n"] {
            let mut out = String::new();
            string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap_or_default());
        }
    }

    #[test]
    fn escaping_in_place_leaves_what_came_before() {
        let mut out = String::from("[\"a\\\"");
        let start = out.len();
        out.push_str("x\"y\u{1}");
        escape_tail(&mut out, start);
        assert_eq!(out, "[\"a\\\"x\\\"y\\u0001");
    }

    /// A policy whose texts all need escaping: written with its plan, with
    /// another policy's and with none, a decision is serde's.
    #[test]
    fn escaped_texts_are_written_as_serde_writes_them() -> Result<(), Box<dyn std::error::Error>> {
        let text = |title: &str| {
            format!(
                r#"policy p{title}
version "v\"1\u{{1}}"
timezone "Asia/Shanghai"
outcomes green < popup
input person {{ id: text, n: number, at: time?, note: text? }}
rule big "big \"one\"\t\\" when person.n > 1
  then popup(message: "go\nhome \u{{7}}", n: person.n, seen: person.at or now, note: person.note)
otherwise green(message: "fine")
"#
            )
        };
        let policy =
            crate::Policy::compile("p", &text(r#" "title \"q\"""#)).map_err(|e| e.to_string())?;
        let other = crate::Policy::compile("p", &text("")).map_err(|e| e.to_string())?;
        let facts = policy.facts("{}")?;
        let now = policy.instant("2021-11-01T10:00:00+08:00")?;
        let every = crate::Extras {
            next_change: true,
            timeline: true,
            remedies: true,
            witnesses: true,
        };
        for person in [
            r#"{"id": "a\"b\u0001\\", "n": 2.5, "note": "x\ty"}"#,
            r#"{"id": "c", "n": 0, "at": "2021-10-01T00:00:00Z"}"#,
        ] {
            let decision = policy.decide_json_with(&facts, person, now, every)?;
            let serde = serde_json::to_string(&decision)?;
            for plan in [policy.json_plan(), other.json_plan(), &JsonPlan::default()] {
                let mut out = String::from("before");
                decision.write_json(&mut out, plan);
                assert_eq!(out.strip_prefix("before"), Some(serde.as_str()));
            }
        }
        Ok(())
    }

    #[test]
    fn numbers_are_written_as_serde_writes_them() {
        for n in [
            0.0,
            -0.0,
            1.0,
            -3.0,
            1.5,
            1e21,
            1e-7,
            f64::NAN,
            f64::INFINITY,
        ] {
            let mut out = String::new();
            number(&mut out, n);
            let serde = match crate::value::printed(n) {
                Ok(whole) => serde_json::to_string(&whole),
                Err(n) => serde_json::to_string(&n),
            };
            assert_eq!(out, serde.unwrap_or_default());
        }
        let mut out = String::new();
        number(&mut out, 2.0);
        assert_eq!(out, "2");
    }
}
