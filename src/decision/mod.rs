//! The decision: what the contract promises the outside world, as JSON and
//! as text for a person.

use std::fmt::Write as _;
use std::sync::Arc;

use jiff::tz::TimeZone;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use crate::check::Program;
use crate::region;
use crate::time;
use crate::types::Type;
use crate::value::Value;
use crate::witness::{self, Witness, WitnessesJson};

mod json;

pub use json::JsonPlan;
pub(crate) use json::{plain, write_plain, write_value};

/// Every key a decision writes beside its payload, with what it holds. A
/// payload field may not take one, so that no object has a key twice: the
/// first nine stand in the decision itself, `at`, `remedy`, `rule` and
/// `rule_code` beside
/// the payload of the brief decisions in `next_change`, `timeline` and
/// `remedies`, and the last two in the decisions of `policyc serve`.
pub const KEYS: [(&str, &str); 15] = [
    ("id", "the input's `id`"),
    ("outcome", "the outcome"),
    ("policy", "the policy that decided"),
    ("now", "the instant of the decision"),
    ("rules", "the rules that fired"),
    ("warnings", "the decision's warnings"),
    ("next_change", "when the decision changes"),
    ("timeline", "every decision from now on"),
    ("remedies", "what would change the decision"),
    (
        "at",
        "the instant of a change, in `next_change` and `timeline`",
    ),
    ("remedy", "a remedy's title, in `remedies`"),
    (
        "rule",
        "the deciding rule, in `next_change`, `timeline` and `remedies`",
    ),
    ("rule_code", "the deciding rule's `code`, beside `rule`"),
    ("decision_id", "the decision's id, in `policyc serve`"),
    (
        "revisions",
        "the policy and facts revisions, in `policyc serve`",
    ),
];

/// The decision for one person.
#[derive(Debug, Clone)]
pub struct Decision<'p> {
    /// The input's `id`, if it has one.
    pub id: Option<Arc<str>>,
    /// The winning outcome.
    pub outcome: &'p str,
    /// The winning rule's payload (or `otherwise`'s), with each value's type.
    pub payload: Vec<(&'p str, Value, &'p Type)>,
    /// The policy that decided.
    pub policy: &'p Program,
    /// The instant of the decision, microseconds since the epoch.
    pub now: i64,
    /// Every rule that fired, in policy order.
    pub rules: Vec<FiredRule<'p>>,
    /// Things worth knowing that did not change the decision.
    pub warnings: Vec<String>,
    /// When the decision changes, if that was asked for.
    pub next_change: NextChange<'p>,
    /// Every decision from now on, if that was asked for: each holds just
    /// after its instant (the first, at `now`).
    pub timeline: Option<Vec<(i64, Decision<'p>)>>,
    /// When the timeline was cut short: the instant of the first change it
    /// leaves out.
    pub timeline_cut: Option<i64>,
    /// When the timeline ends because the policy does (a version's
    /// `until` with no version in force after it): its last entry,
    /// `{"at": ..., "outcome": null, "rule": null, "ends": true}`.
    pub timeline_ends: Option<i64>,
    /// The policy's remedies that would change the decision now, each with
    /// the decision it would give, if that was asked for.
    pub remedies: Option<Vec<(&'p str, Decision<'p>)>>,
    /// Whether the JSON gives each fired rule's witnesses as data, beside
    /// the contract's `because` lines.
    pub show_witnesses: bool,
}

/// The `next_change` of a decision.
#[derive(Debug, Clone, Default)]
pub enum NextChange<'p> {
    /// Not computed: the field is left out.
    #[default]
    NotAsked,
    /// With no new data, the decision never changes: `null`.
    Never,
    /// At this boundary the decision becomes another.
    At {
        /// The boundary instant.
        at: i64,
        /// The decision just after it.
        then: Box<Decision<'p>>,
    },
    /// At this instant the version of the policy in force ends (its
    /// `until`) with none in force after it: from then no decision is
    /// made. JSON `{"at": ..., "outcome": null, "rule": null, "ends": true}`.
    Ends {
        /// The instant it ends.
        at: i64,
    },
}

/// A rule that fired, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredRule<'p> {
    /// Its name.
    pub name: &'p str,
    /// Its `code "..."`, if it has one.
    pub code: Option<&'p str>,
    /// Its title.
    pub title: Option<&'p str>,
    /// The outcome it gives.
    pub outcome: &'p str,
    /// The records that made it fire.
    pub witnesses: Vec<Witness<'p>>,
}

impl FiredRule<'_> {
    /// The records that made it fire, in words: the contract's `because`.
    pub fn because(&self, tz: &TimeZone) -> Vec<String> {
        witness::because(&self.witnesses, tz)
    }
}

impl Decision<'_> {
    /// The rule that decided: the first fired rule with the winning outcome.
    pub fn deciding_rule(&self) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.outcome == self.outcome)
            .map(|r| r.name)
    }

    /// The `code` of the rule that decided, if it has one.
    pub fn deciding_code(&self) -> Option<&str> {
        self.rules
            .iter()
            .find(|r| r.outcome == self.outcome)
            .and_then(|r| r.code)
    }

    /// The decision as one line of compact JSON. A caller writing many
    /// decisions of one policy writes them with [`Decision::write_json`]
    /// into one buffer, with the policy's [`JsonPlan`].
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out, &JsonPlan::default());
        out
    }

    /// The decision for a person to read.
    pub fn to_pretty(&self) -> String {
        let tz = &self.policy.timezone;
        let mut out = String::new();
        let _ = write!(
            out,
            "{}: {}",
            self.id.as_deref().unwrap_or("(no id)"),
            self.outcome
        );
        for (name, value, ty) in &self.payload {
            let _ = write!(out, "\n  {name}: {}", plain(value, ty, tz));
        }
        let _ = write!(out, "\n  policy: {}", self.policy.name);
        if let Some(v) = &self.policy.version {
            let _ = write!(out, " {v}");
        }
        let _ = write!(out, "\n  now: {}", time::format_instant(self.now, tz));
        if self.rules.is_empty() {
            out.push_str("\n  no rule fired");
        }
        for rule in &self.rules {
            let _ = write!(out, "\n  rule {}", rule.name);
            if let Some(code) = rule.code {
                let _ = write!(out, " [{code}]");
            }
            let _ = write!(out, " → {}", rule.outcome);
            if let Some(title) = rule.title {
                let _ = write!(out, " ({title})");
            }
            for b in rule.because(tz) {
                let _ = write!(out, "\n    because {b}");
            }
        }
        for w in &self.warnings {
            let _ = write!(out, "\n  warning: {w}");
        }
        match &self.next_change {
            NextChange::NotAsked => {}
            NextChange::Never => out.push_str("\n  next change: none, with no new data"),
            NextChange::At { at, then } => {
                out.push_str("\n  next change: just after ");
                step(&mut out, *at, then);
            }
            NextChange::Ends { at } => {
                let at = time::format_instant(*at, &self.policy.timezone);
                let _ = write!(
                    out,
                    "\n  next change: at {at} the policy ends, with no version in force after it"
                );
            }
        }
        if let Some(remedies) = &self.remedies {
            for (title, then) in remedies {
                let _ = write!(out, "\n  would help: {title} → {}", then.outcome);
                deciding(&mut out, then);
            }
        }
        if let Some(timeline) = &self.timeline {
            out.push_str("\n  timeline:");
            for (i, (at, then)) in timeline.iter().enumerate() {
                out.push_str(if i == 0 {
                    "\n    from "
                } else {
                    "\n    just after "
                });
                step(&mut out, *at, then);
            }
            if let Some(at) = self.timeline_ends {
                let at = time::format_instant(at, tz);
                let _ = write!(
                    out,
                    "\n    at {at} the policy ends, with no version in force after it"
                );
            }
            if let Some(next) = self.timeline_cut {
                let _ = write!(
                    out,
                    "\n    (cut here: it changes again just after {})",
                    time::format_instant(next, tz)
                );
            }
        }
        out.push('\n');
        out
    }
}

/// The decision for any serde serializer (`serde_json::to_string_pretty`,
/// an explanation embedding it): the same document as
/// [`Decision::write_json`], which writes compact JSON without serde.
impl Serialize for Decision<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tz = &self.policy.timezone;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("id", &self.id.as_deref())?;
        map.serialize_entry("outcome", self.outcome)?;
        for (name, value, ty) in &self.payload {
            map.serialize_entry(name, &Json::data(value, ty, tz))?;
        }
        map.serialize_entry(
            "policy",
            &PolicyRef {
                name: &self.policy.name,
                title: self.policy.title.as_deref(),
                version: self.policy.version.as_deref(),
            },
        )?;
        map.serialize_entry("now", &time::format_instant(self.now, tz))?;
        let rules: Vec<_> = self
            .rules
            .iter()
            .map(|rule| RuleJson {
                rule,
                tz,
                witnesses: self.show_witnesses,
            })
            .collect();
        map.serialize_entry("rules", &rules)?;
        map.serialize_entry("warnings", &self.warnings)?;
        match &self.next_change {
            NextChange::NotAsked => {}
            NextChange::Never => map.serialize_entry("next_change", &())?,
            NextChange::At { at, then } => {
                map.serialize_entry("next_change", &Upcoming::at(*at, then))?
            }
            NextChange::Ends { at } => map.serialize_entry(
                "next_change",
                &Ending {
                    at: time::format_instant(*at, &self.policy.timezone),
                    outcome: None,
                    rule: None,
                    ends: true,
                },
            )?,
        }
        if let Some(timeline) = &self.timeline {
            let steps: Vec<Step<'_, '_>> = (timeline.iter())
                .map(|(at, then)| Step::Decided(Upcoming::at(*at, then)))
                .chain(self.timeline_ends.map(|at| {
                    Step::Ends(Ending {
                        at: time::format_instant(at, tz),
                        outcome: None,
                        rule: None,
                        ends: true,
                    })
                }))
                .collect();
            map.serialize_entry("timeline", &steps)?;
            if let Some(next) = self.timeline_cut {
                let after = timeline.last().map_or(self.now, |(at, _)| *at);
                map.serialize_entry(
                    "timeline_cut",
                    &serde_json::json!({
                        "after": time::format_instant(after, tz),
                        "next_at": time::format_instant(next, tz),
                    }),
                )?;
            }
        }
        if let Some(remedies) = &self.remedies {
            let helps: Vec<Upcoming<'_, '_>> = remedies
                .iter()
                .map(|(title, then)| Upcoming {
                    first: ("remedy", (*title).to_owned()),
                    then,
                })
                .collect();
            map.serialize_entry("remedies", &helps)?;
        }
        map.end()
    }
}

/// `INSTANT → outcome (rule)`, for people.
fn step(out: &mut String, at: i64, then: &Decision<'_>) {
    let _ = write!(
        out,
        "{} → {}",
        time::format_instant(at, &then.policy.timezone),
        then.outcome
    );
    deciding(out, then);
}

/// ` (rule)` or ` (rule [code])`: the rule that decided, if one did.
fn deciding(out: &mut String, then: &Decision<'_>) {
    if let Some(rule) = then.deciding_rule() {
        let _ = write!(out, " ({rule}");
        if let Some(code) = then.deciding_code() {
            let _ = write!(out, " [{code}]");
        }
        out.push(')');
    }
}

/// `{"at": ..., "outcome": ..., <payload>, "rule": ...}`
/// (or `{"remedy": ..., "outcome": ...}`): another decision, in brief.
/// A `next_change` at the end of the policy: no decision after it.
#[derive(Serialize)]
struct Ending {
    at: String,
    outcome: Option<()>,
    rule: Option<()>,
    ends: bool,
}

/// An entry of a timeline: a decision, or the end of the policy.
#[derive(Serialize)]
#[serde(untagged)]
enum Step<'a, 'p> {
    Decided(Upcoming<'a, 'p>),
    Ends(Ending),
}

struct Upcoming<'a, 'p> {
    /// The first entry: `at` and the instant, or `remedy` and its title.
    first: (&'static str, String),
    then: &'a Decision<'p>,
}

impl<'a, 'p> Upcoming<'a, 'p> {
    fn at(at: i64, then: &'a Decision<'p>) -> Self {
        Upcoming {
            first: ("at", time::format_instant(at, &then.policy.timezone)),
            then,
        }
    }
}

impl Serialize for Upcoming<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tz = &self.then.policy.timezone;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(self.first.0, &self.first.1)?;
        map.serialize_entry("outcome", self.then.outcome)?;
        for (name, value, ty) in &self.then.payload {
            map.serialize_entry(name, &Json::data(value, ty, tz))?;
        }
        map.serialize_entry("rule", &self.then.deciding_rule())?;
        if let Some(code) = self.then.deciding_code() {
            map.serialize_entry("rule_code", code)?;
        }
        map.end()
    }
}

/// A fired rule as JSON: `name`, `title`, `outcome`, `because` and, when
/// asked for, `witnesses`.
struct RuleJson<'a, 'p> {
    rule: &'a FiredRule<'p>,
    tz: &'a TimeZone,
    witnesses: bool,
}

impl Serialize for RuleJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rule = self.rule;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", rule.name)?;
        if let Some(code) = rule.code {
            map.serialize_entry("code", code)?;
        }
        if let Some(title) = rule.title {
            map.serialize_entry("title", title)?;
        }
        map.serialize_entry("outcome", rule.outcome)?;
        map.serialize_entry("because", &rule.because(self.tz))?;
        if self.witnesses {
            map.serialize_entry(
                "witnesses",
                &WitnessesJson {
                    witnesses: &rule.witnesses,
                    tz: self.tz,
                },
            )?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct PolicyRef<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    version: Option<&'a str>,
}

/// A value as JSON, the way data gives it: instants as RFC 3339 text in the
/// policy's zone, regions as code strings (or, `named`, as `{"code",
/// "name"}`), choices as their string.
pub(crate) struct Json<'a> {
    value: &'a Value,
    ty: &'a Type,
    tz: &'a TimeZone,
    named: bool,
}

impl<'a> Json<'a> {
    /// A value as data gives it.
    fn data(value: &'a Value, ty: &'a Type, tz: &'a TimeZone) -> Self {
        Json {
            value,
            ty,
            tz,
            named: false,
        }
    }

    /// A value for a person or a program to read: regions carry their names.
    pub(crate) fn named(value: &'a Value, ty: &'a Type, tz: &'a TimeZone) -> Self {
        Json {
            value,
            ty,
            tz,
            named: true,
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (self.value, self.ty.non_optional()) {
            (Value::None, _) => s.serialize_none(),
            (Value::Bool(b), _) => s.serialize_bool(*b),
            (Value::Number(n), _) => match crate::value::printed(*n) {
                Ok(whole) => s.serialize_i64(whole),
                Err(n) => s.serialize_f64(n),
            },
            (Value::List(items) | Value::Set(items), ty) => {
                let element = ty.element().unwrap_or(&Type::Error);
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(&Json {
                        value: item,
                        ty: element,
                        ..*self
                    })?;
                }
                seq.end()
            }
            (Value::Record(fields), Type::Record(record)) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (slot, (value, (_, ty))) in fields.iter().zip(&record.fields).enumerate() {
                    map.serialize_entry(record.key(slot), &Json { value, ty, ..*self })?;
                }
                map.end()
            }
            (Value::Region(code), _) if self.named => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("code", &format!("{code:06}"))?;
                map.serialize_entry("name", &region::full_name(*code))?;
                map.end()
            }
            (value, ty) => s.serialize_str(&plain(value, ty, self.tz)),
        }
    }
}
