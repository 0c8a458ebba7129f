//! Decisions explained to the person they are about, in the policy's
//! language or one of its `messages` languages: the decision, every rule
//! with whether it applies and the records behind it, region names, local
//! dates and times, when the decision will change and what would help.
//!
//! The policy gives its own words (titles, messages, labels for names and
//! outcomes); the few words that hold an explanation together ("applies",
//! "what you can do") come from [`Phrases`], built in for Chinese and
//! English. Any other language gets the English phrases around the
//! policy's own words.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use miette::Diagnostic;
use serde::Serialize;
use thiserror::Error;

use crate::check::Program;
use crate::data::DataWarning;
use crate::decision::{Decision, NextChange};
use crate::eval::{RuleReport, RuleState};
use crate::region;
use crate::syntax::MessageKey;
use crate::time;
use crate::types::Type;
use crate::value::Value;
use crate::witness::{Found, Window, Witness, WitnessesJson};

/// A language the policy does not speak.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
#[error("the policy has no messages in `{language}`")]
#[diagnostic(code(policyc::language))]
pub struct LanguageError {
    /// The language asked for.
    pub language: String,
    /// What it speaks, for the help.
    #[help]
    pub help: String,
}

/// The words an explanation is written in: the policy's texts in one
/// language, and the phrases around them.
#[derive(Debug, Clone)]
pub struct Words<'p> {
    program: &'p Program,
    /// The texts of the language's `messages` block, if it has one, by
    /// kind and name.
    entries: BTreeMap<(Entry, &'p str), &'p str>,
    /// Whether it is the policy's own language (whose texts are as written).
    own: bool,
    /// The language tag, if the policy or the caller names one.
    language: Option<String>,
    phrases: &'static Phrases,
}

impl<'p> Words<'p> {
    /// The words of `language`, or of the policy's own language.
    pub fn new(program: &'p Program, language: Option<&str>) -> Result<Self, LanguageError> {
        let own_language = program.language.as_deref();
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let block_of = |l: &str| program.messages.iter().find(|m| same(&m.language, l));
        let wanted = language.or(own_language);
        let own = match (language, own_language) {
            (None, _) => true,
            (Some(l), Some(o)) => same(l, o),
            (Some(_), None) => false,
        };
        let block = wanted.and_then(block_of);
        if !own && block.is_none() {
            let wanted = language.unwrap_or_default();
            let mut spoken: Vec<String> = own_language.map(str::to_owned).into_iter().collect();
            spoken.extend(
                program
                    .messages
                    .iter()
                    .map(|m| m.language.clone())
                    .filter(|l| Some(l.as_str()) != own_language),
            );
            let help = if spoken.is_empty() {
                "the policy declares no `language` and no `messages` blocks: leave out `--lang`"
                    .to_owned()
            } else {
                format!(
                    "it speaks {}; add `messages \"{wanted}\" {{ ... }}` to it for more",
                    spoken
                        .iter()
                        .map(|l| format!("`{l}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(LanguageError {
                language: wanted.to_owned(),
                help,
            });
        }
        let entries = block.map_or_else(BTreeMap::new, |b| {
            (b.entries.iter())
                .map(|(key, text)| (Entry::of(key), text.as_str()))
                .collect()
        });
        Ok(Words {
            program,
            entries,
            own,
            language: wanted.map(str::to_owned),
            phrases: Phrases::for_language(wanted.unwrap_or("en")),
        })
    }

    /// The block's text for the entry of `kind` named `name`.
    fn entry(&self, kind: Entry, name: &str) -> Option<&'p str> {
        let entries: &BTreeMap<(Entry, &str), &'p str> = &self.entries;
        entries.get(&(kind, name)).copied()
    }

    /// The policy's title.
    pub fn policy(&self) -> &'p str {
        let program = self.program;
        self.entry(Entry::Policy, "")
            .or(program.title.as_deref())
            .unwrap_or(&program.name)
    }

    /// An outcome, as people call it.
    pub fn outcome(&self, name: &'p str) -> &'p str {
        self.or(Entry::Outcome, name, name)
    }

    /// A rule's title.
    pub fn rule(&self, name: &str) -> &'p str {
        let rule = self.program.rules.iter().find(|r| r.name == name);
        self.entry(Entry::Rule, name)
            .or_else(|| rule.and_then(|r| r.title.as_deref()))
            .or(rule.map(|r| r.name.as_str()))
            .unwrap_or_default()
    }

    /// The block's text for the entry of `kind` named `name`, or
    /// `fallback`.
    fn or<'a>(&self, kind: Entry, name: &str, fallback: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.entry(kind, name).unwrap_or(fallback)
    }

    /// A field, fact, input or `let`, as people call it.
    pub fn name<'a>(&self, name: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(Entry::Name, name, name)
    }

    /// A text of the policy (a payload text, a choice).
    pub fn text<'a>(&self, text: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(Entry::Text, text, text)
    }

    /// A remedy's title.
    pub fn remedy<'a>(&self, title: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(Entry::Remedy, title, title)
    }

    /// A warning's message.
    pub fn warning<'a>(&self, name: &str, message: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(Entry::Warning, name, message)
    }

    /// Whether these are the policy's own words.
    pub fn is_own(&self) -> bool {
        self.own
    }

    /// The language tag, if the policy or the caller names one.
    pub fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }
}

/// The kind of a `messages` entry: with its name, what [`Words`] finds
/// its text by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    Policy,
    Outcome,
    Rule,
    Warning,
    Name,
    Remedy,
    Text,
}

impl Entry {
    /// The kind of `key`, and its name (none for `policy`).
    fn of(key: &MessageKey) -> (Entry, &str) {
        match key {
            MessageKey::Policy => (Entry::Policy, ""),
            MessageKey::Outcome(n) => (Entry::Outcome, n),
            MessageKey::Rule(n) => (Entry::Rule, n),
            MessageKey::Warning(n) => (Entry::Warning, n),
            MessageKey::Name(n) => (Entry::Name, n),
            MessageKey::Remedy(n) => (Entry::Remedy, n),
            MessageKey::Text(n) => (Entry::Text, n),
        }
    }
}

/// The phrases that hold an explanation together, in one language.
#[derive(Debug)]
pub struct Phrases {
    /// Between a label and its value.
    colon: &'static str,
    /// Between items of a list.
    comma: &'static str,
    /// Around a region's code or a rule's name, after the text.
    open: &'static str,
    close: &'static str,
    no_id: &'static str,
    decided_at: &'static str,
    decision: &'static str,
    decided_by: &'static str,
    rules: &'static str,
    applies: &'static str,
    does_not_apply: &'static str,
    excepted: &'static str,
    exception_holds: &'static str,
    exception_fails: &'static str,
    /// `{list}`, `{condition}`
    nothing: &'static str,
    /// `{list}`, `{condition}`, `{window}`
    nothing_within: &'static str,
    /// `{from}`, `{to}`
    window_between: &'static str,
    window_since: &'static str,
    window_until: &'static str,
    /// `{set}`
    among: &'static str,
    /// `{set}`, `{members}`, `{value}`: the members come from `{set}` and
    /// lie inside `{value}` (`prefectures(case_counties)`)
    among_through: &'static str,
    holds: &'static str,
    does_not_hold: &'static str,
    /// `{condition}`: an `if` whose condition held
    arm_then: &'static str,
    /// `{condition}`: an `if` whose condition did not hold
    arm_else: &'static str,
    changes: &'static str,
    /// `{at}`, `{outcome}`
    changes_at: &'static str,
    never_changes: &'static str,
    /// `{at}`: the version in force ends with none after it
    ends_at: &'static str,
    can_do: &'static str,
    /// `{remedy}`, `{outcome}`
    remedy: &'static str,
    nothing_to_do: &'static str,
    /// `{at}`
    nothing_to_do_wait: &'static str,
    warnings: &'static str,
    /// `{code}`, `{path}`
    unknown_region: &'static str,
    near_field: &'static str,
    yes: &'static str,
    no: &'static str,
    none: &'static str,
    /// A date and time: `{y}`, `{m}`, `{month}`, `{d}`, `{hm}`
    datetime: &'static str,
    months: [&'static str; 12],
}

impl Phrases {
    /// The phrases for a language tag: Chinese for `zh…`, else English.
    pub fn for_language(tag: &str) -> &'static Phrases {
        let primary = tag.split('-').next().unwrap_or(tag);
        if primary.eq_ignore_ascii_case("zh") {
            &ZH
        } else {
            &EN
        }
    }
}

static ZH: Phrases = Phrases {
    colon: "：",
    comma: "，",
    open: "（",
    close: "）",
    no_id: "（无编号）",
    decided_at: "判定时间",
    decision: "结果",
    decided_by: "依据",
    rules: "各条规则",
    applies: "适用",
    does_not_apply: "不适用",
    excepted: "条件满足，但有例外，不适用",
    exception_holds: "例外成立",
    exception_fails: "例外不成立",
    nothing: "{list}中没有符合条件的记录（{condition}）",
    nothing_within: "{window}，{list}中没有符合条件的记录（{condition}）",
    window_between: "{from} 至 {to}",
    window_since: "{from} 以来",
    window_until: "{to} 以前",
    among: "属于{set}",
    among_through: "{value}中有{set}：{members}",
    holds: "条件成立",
    does_not_hold: "条件不成立",
    arm_then: "{condition} 成立，取 then 之后的值",
    arm_else: "{condition} 不成立，取 else 之后的值",
    changes: "何时变化",
    changes_at: "{at} 之后，结果变为{outcome}",
    never_changes: "在没有新数据的情况下，结果不会再变化",
    ends_at: "{at} 起本政策没有生效的版本，不再作出结果",
    can_do: "可以做什么",
    remedy: "{remedy}：结果将变为{outcome}",
    nothing_to_do: "目前没有能立即改变结果的办法",
    nothing_to_do_wait: "目前没有能立即改变结果的办法；结果将在 {at} 之后自动变化",
    warnings: "提示",
    unknown_region: "地区代码 {code}（{path}）不在区划表中，只能按代码本身匹配",
    near_field: "记录中的 {path} 未被规则声明，已忽略；是否应为 {field}？",
    yes: "是",
    no: "否",
    none: "无",
    datetime: "{y}年{m}月{d}日 {hm}",
    months: [
        "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月",
    ],
};

static EN: Phrases = Phrases {
    colon: ": ",
    comma: ", ",
    open: " (",
    close: ")",
    no_id: "(no id)",
    decided_at: "Decided at",
    decision: "Decision",
    decided_by: "Because of",
    rules: "Rules",
    applies: "applies",
    does_not_apply: "does not apply",
    excepted: "its condition holds, but so does its exception: does not apply",
    exception_holds: "its exception holds",
    exception_fails: "its exception does not hold",
    nothing: "none of the {list} meets the condition ({condition})",
    nothing_within: "none of the {list} meets the condition {window} ({condition})",
    window_between: "between {from} and {to}",
    window_since: "since {from}",
    window_until: "until {to}",
    among: "is among the {set}",
    among_through: "{value} has {set}: {members}",
    holds: "this holds",
    does_not_hold: "this does not hold",
    arm_then: "{condition} holds, so the value after `then` is taken",
    arm_else: "{condition} does not hold, so the value after `else` is taken",
    changes: "When it changes",
    changes_at: "just after {at}, the decision becomes {outcome}",
    never_changes: "with no new data, this decision will not change",
    ends_at: "from {at} no version of the policy is in force, and no decision is made",
    can_do: "What you can do",
    remedy: "{remedy}: the decision would become {outcome}",
    nothing_to_do: "nothing you can do now changes this decision",
    nothing_to_do_wait: "nothing you can do now changes this decision; it changes by itself just after {at}",
    warnings: "Note",
    unknown_region: "region code {code} ({path}) is not in the region table; it matches only by its exact code",
    near_field: "{path} is not a field the policy knows and was ignored; did you mean {field}?",
    yes: "yes",
    no: "no",
    none: "none",
    datetime: "{d} {month} {y}, {hm}",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

/// `template` with each `{key}` replaced by its value, in one pass: a
/// value is copied as it is, never read for keys (a record's text that
/// reads `{at}` stays `{at}`); a `{` that opens no key stays.
#[cfg(test)]
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    fill_into(&mut out, template, values);
    out
}

/// [`fill`], onto the end of `out`.
fn fill_into(out: &mut String, template: &str, values: &[(&str, &str)]) {
    fill_with(out, template, |key, out| {
        let value = values.iter().find(|(k, _)| *k == key);
        value.map(|(_, v)| out.push_str(v)).is_some()
    });
}

/// `template` onto the end of `out`, each `{key}` replaced by what
/// `value` writes for it (it says whether it knows the key, and writes
/// nothing if not), as [`fill`] does.
fn fill_with(out: &mut String, template: &str, mut value: impl FnMut(&str, &mut String) -> bool) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let known = after.find('}').filter(|&close| value(&after[..close], out));
        match known {
            Some(close) => rest = &after[close + 1..],
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// `n` in decimal onto `out`, with leading zeros to `width` digits.
fn push_number(out: &mut String, n: i64, width: usize) {
    if n < 0 {
        out.push('-');
    }
    let (mut rest, mut digits, mut len) = (n.unsigned_abs(), [0u8; 20], 0);
    // The digits from the last, at most 20 of them in a u64.
    for digit in &mut digits {
        *digit = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for _ in len..width {
        out.push('0');
    }
    for &digit in digits[..len].iter().rev() {
        out.push(char::from(digit));
    }
}

/// A decision with every rule's report, ready to be read.
#[derive(Debug, Clone)]
pub struct Explanation<'p> {
    /// The decision, with `next_change` and `remedies` worked out.
    pub decision: Decision<'p>,
    /// Every rule, in policy order.
    pub rules: Vec<RuleReport<'p>>,
    /// The policy's warnings that hold, with their records.
    pub warnings: Vec<(&'p crate::check::Warning, Vec<Witness<'p>>)>,
    /// Warnings from reading the person's data.
    pub data_warnings: Vec<crate::data::DataWarning>,
}

impl Explanation<'_> {
    /// The explanation as one line of JSON, for programs that show it in
    /// their own way: the decision (as `eval` gives it, with
    /// `next_change` and `remedies`), every rule with its title in
    /// `words`, how it came out and its witnesses, and the text.
    pub fn to_json(&self, words: &Words<'_>) -> String {
        let tz = &self.decision.policy.timezone;
        let rules: Vec<RuleJson<'_, '_>> = self
            .rules
            .iter()
            .map(|r| RuleJson {
                name: &r.rule.name,
                code: r.rule.code.as_deref(),
                title: words.rule(&r.rule.name),
                state: match r.state {
                    RuleState::Fired => "applies",
                    RuleState::NotMet => "does_not_apply",
                    RuleState::Excepted => "excepted",
                },
                witnesses: WitnessesJson {
                    witnesses: &r.witnesses,
                    tz,
                },
                exception: WitnessesJson {
                    witnesses: &r.exception,
                    tz,
                },
            })
            .collect();
        let json = ExplanationJson {
            id: self.decision.id.as_deref(),
            language: words.language(),
            policy: words.policy(),
            outcome: words.outcome(self.decision.outcome),
            summary: {
                let mut line = String::new();
                Style::new(words, tz).decision_line(&mut line, &self.decision);
                line
            },
            decision: &self.decision,
            rules,
            text: self.render(words),
        };
        serde_json::to_string(&json)
            .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
    }

    /// The explanation as text, in `words`.
    pub fn render(&self, words: &Words<'_>) -> String {
        Writer::new(words, &self.decision.policy.timezone).explanation(self)
    }
}

/// An explanation as JSON, its keys in this order.
#[derive(Serialize)]
struct ExplanationJson<'a, 'p> {
    id: Option<&'a str>,
    language: Option<&'a str>,
    policy: &'a str,
    outcome: &'a str,
    /// The outcome with the payload's words: `pop-up — Please ...`.
    summary: String,
    decision: &'a Decision<'p>,
    rules: Vec<RuleJson<'a, 'p>>,
    text: String,
}

/// A rule of an explanation as JSON.
#[derive(Serialize)]
struct RuleJson<'a, 'p> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    title: &'a str,
    state: &'static str,
    witnesses: WitnessesJson<'a, 'p>,
    exception: WitnessesJson<'a, 'p>,
}

/// What an explanation is written with: its words, their phrases and the
/// policy's time zone.
#[derive(Clone, Copy)]
struct Style<'a, 'w> {
    words: &'a Words<'w>,
    p: &'static Phrases,
    tz: &'a TimeZone,
}

/// Writes one explanation, straight into one text.
struct Writer<'a, 'w> {
    s: Style<'a, 'w>,
    out: String,
}

impl<'a, 'w> Writer<'a, 'w> {
    fn new(words: &'a Words<'w>, tz: &'a TimeZone) -> Self {
        Writer {
            s: Style::new(words, tz),
            // About what one person's explanation takes, so that it is
            // seldom moved while it grows.
            out: String::with_capacity(4096),
        }
    }

    fn explanation(mut self, e: &Explanation<'_>) -> String {
        let (d, s, p) = (&e.decision, self.s, self.s.p);
        let out = &mut self.out;
        out.push_str(d.id.as_deref().unwrap_or(p.no_id));
        out.push_str(" · ");
        out.push_str(s.words.policy());
        if let Some(v) = &d.policy.version {
            push_all(out, &[p.open, v, p.close]);
        }
        push_all(out, &["\n", p.decided_at, p.colon]);
        s.when(out, d.now);
        let zone = d.policy.timezone.iana_name().unwrap_or("UTC");
        push_all(out, &[p.open, zone, p.close]);
        push_all(out, &["\n\n", p.decision, p.colon]);
        s.decision_line(out, d);
        if let Some(rule) = d.deciding_rule() {
            push_all(out, &["\n", p.decided_by, p.colon, s.words.rule(rule)]);
        }

        push_all(out, &["\n\n", p.rules, p.colon.trim_end()]);
        for report in &e.rules {
            self.rule(report);
        }

        let out = &mut self.out;
        if !e.warnings.is_empty() || !e.data_warnings.is_empty() {
            push_all(out, &["\n\n", p.warnings, p.colon.trim_end()]);
            for (w, witnesses) in &e.warnings {
                push_all(out, &["\n  • ", s.words.warning(&w.name, &w.message)]);
                s.witnesses(out, witnesses, "    ");
            }
            for w in &e.data_warnings {
                out.push_str("\n  • ");
                match w {
                    DataWarning::UnknownRegion { path, code } => {
                        fill_into(out, p.unknown_region, &[("code", code), ("path", path)]);
                    }
                    DataWarning::NearField { path, field } => {
                        fill_into(out, p.near_field, &[("path", path), ("field", field)]);
                    }
                }
            }
        }

        let change_at = match &d.next_change {
            NextChange::At { at, then } => {
                let mut when = String::new();
                s.when(&mut when, *at);
                push_all(out, &["\n\n", p.changes, p.colon]);
                fill_with(out, p.changes_at, |key, out| match key {
                    "at" => push_all(out, &[when.as_str()]),
                    "outcome" => {
                        s.decision_line(out, then);
                        true
                    }
                    _ => false,
                });
                Some(when)
            }
            NextChange::Never => {
                push_all(out, &["\n\n", p.changes, p.colon, p.never_changes]);
                None
            }
            NextChange::Ends { at } => {
                push_all(out, &["\n\n", p.changes, p.colon]);
                fill_with(out, p.ends_at, |key, out| {
                    key == "at" && {
                        s.when(out, *at);
                        true
                    }
                });
                None
            }
            NextChange::NotAsked => None,
        };

        // Nothing to do about the least severe outcome.
        let least = d.policy.outcomes.first().map(String::as_str);
        let remedies = d
            .remedies
            .as_ref()
            .filter(|r| !r.is_empty() || least != Some(d.outcome));
        if let Some(remedies) = remedies {
            push_all(out, &["\n\n", p.can_do, p.colon.trim_end()]);
            if remedies.is_empty() {
                out.push_str(&p.colon[p.colon.trim_end().len()..]);
                match &change_at {
                    Some(at) => fill_into(out, p.nothing_to_do_wait, &[("at", at)]),
                    None => out.push_str(p.nothing_to_do),
                }
            }
            for (title, then) in remedies {
                out.push_str("\n  • ");
                fill_with(out, p.remedy, |key, out| match key {
                    "remedy" => push_all(out, &[s.words.remedy(title)]),
                    "outcome" => {
                        s.decision_line(out, then);
                        true
                    }
                    _ => false,
                });
            }
        }
        out.push('\n');
        self.out
    }

    fn rule(&mut self, report: &RuleReport<'_>) {
        let (s, p, out) = (self.s, self.s.p, &mut self.out);
        let (mark, state) = match report.state {
            RuleState::Fired => ("●", p.applies),
            RuleState::NotMet => ("○", p.does_not_apply),
            RuleState::Excepted => ("◐", p.excepted),
        };
        push_all(out, &["\n  ", mark, " ", s.words.rule(&report.rule.name)]);
        if let Some(code) = &report.rule.code {
            push_all(out, &[" [", code, "]"]);
        }
        push_all(out, &[p.colon, state]);
        s.witnesses(out, &report.witnesses, "      ");
        if !report.exception.is_empty() && report.state != RuleState::NotMet {
            let exception = match report.state {
                RuleState::Excepted => p.exception_holds,
                _ => p.exception_fails,
            };
            push_all(out, &["\n      ", exception, p.colon.trim_end()]);
            s.witnesses(out, &report.exception, "        ");
        }
    }
}

/// Each of `texts` onto the end of `out`; true (a key [`fill_with`] knows).
fn push_all(out: &mut String, texts: &[&str]) -> bool {
    for text in texts {
        out.push_str(text);
    }
    true
}

impl<'a, 'w> Style<'a, 'w> {
    fn new(words: &'a Words<'w>, tz: &'a TimeZone) -> Self {
        Style {
            words,
            p: words.phrases,
            tz,
        }
    }

    /// `弹窗 —— 请按照防疫要求暂缓来京`: an outcome with the payload's
    /// words for people (codes like `postpone_travel` are left out).
    fn decision_line(self, out: &mut String, d: &Decision<'_>) {
        out.push_str(self.words.outcome(d.outcome));
        for (_, value, _) in &d.payload {
            if let Value::Text(t) = value
                && !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                push_all(out, &[" — ", self.words.text(t)]);
            }
        }
    }

    fn witnesses(self, out: &mut String, witnesses: &[Witness<'_>], indent: &str) {
        let p = self.p;
        for w in witnesses {
            match w {
                Witness::Found {
                    list,
                    list_name,
                    records,
                    ..
                } => {
                    let label = self.label(list, *list_name);
                    for Found {
                        record,
                        ty,
                        matched,
                    } in records
                    {
                        push_all(out, &["\n", indent, label, p.colon]);
                        self.value(out, record, ty);
                        for m in matched {
                            let set = self.label(&m.members_of, m.members_of_name);
                            push_all(out, &["\n", indent, "  → "]);
                            if m.members.len() == 1 && m.members.first() == Some(&m.value) {
                                fill_with(out, p.among, |key, out| {
                                    key == "set" && push_all(out, &[set])
                                });
                                continue;
                            }
                            fill_with(out, p.among_through, |key, out| match key {
                                "set" => push_all(out, &[set]),
                                "members" => {
                                    for (i, member) in m.members.iter().enumerate() {
                                        if i > 0 {
                                            out.push_str(p.comma);
                                        }
                                        self.value(out, member, m.members_ty);
                                    }
                                    true
                                }
                                "value" => {
                                    self.value(out, &m.value, m.ty);
                                    true
                                }
                                _ => false,
                            });
                        }
                    }
                }
                Witness::Nothing {
                    list,
                    list_name,
                    condition,
                    window,
                } => {
                    let label = self.label(list, *list_name);
                    push_all(out, &["\n", indent]);
                    let template = match window {
                        Some(_) => p.nothing_within,
                        None => p.nothing,
                    };
                    fill_with(out, template, |key, out| match (key, window) {
                        ("list", _) => push_all(out, &[label]),
                        ("condition", _) => push_all(out, &[condition]),
                        ("window", Some(w)) => {
                            self.window(out, w);
                            true
                        }
                        _ => false,
                    });
                }
                Witness::Arm { guard, then } => {
                    let template = if *then { p.arm_then } else { p.arm_else };
                    push_all(out, &["\n", indent]);
                    fill_into(out, template, &[("condition", guard)]);
                }
                Witness::Condition { text, held } => {
                    let state = if *held { p.holds } else { p.does_not_hold };
                    push_all(out, &["\n", indent, state, p.colon, text]);
                }
            }
        }
    }

    fn window(self, out: &mut String, w: &Window) {
        let template = match (w.from, w.to) {
            (Some(_), Some(_)) => self.p.window_between,
            (Some(_), None) => self.p.window_since,
            (None, Some(_)) => self.p.window_until,
            (None, None) => return,
        };
        self.between(out, template, w.from, w.to);
    }

    /// `template` with `{from}` and `{to}` as local dates and times.
    fn between(self, out: &mut String, template: &str, from: Option<i64>, to: Option<i64>) {
        fill_with(out, template, |key, out| {
            let at = match key {
                "from" => from,
                "to" => to,
                _ => None,
            };
            at.map(|at| self.when(out, at)).is_some()
        });
    }

    /// A list or set as people call it: by its name (`outside`, `tests`
    /// for `person.tests`) in the policy's words, when it is written as a
    /// name or a path of names; anything else as written.
    fn label<'t>(self, written: &'t str, name: Option<&'t str>) -> &'t str
    where
        'w: 't,
    {
        match name {
            Some(name) => self.words.name(name),
            None => written,
        }
    }

    /// A local date and time in the policy's zone, seconds only when they
    /// are not zero.
    fn when(self, out: &mut String, micros: i64) {
        let Ok(ts) = Timestamp::from_microsecond(micros) else {
            return out.push_str(&time::format_instant(micros, self.tz));
        };
        let dt = self.tz.to_offset(ts).to_datetime(ts);
        let month = usize::try_from(dt.month() - 1).unwrap_or(0);
        fill_with(out, self.p.datetime, |key, out| {
            match key {
                "y" => push_number(out, dt.year().into(), 1),
                "m" => push_number(out, dt.month().into(), 1),
                "month" => out.push_str(self.p.months.get(month).copied().unwrap_or("")),
                "d" => push_number(out, dt.day().into(), 1),
                "hm" => {
                    push_number(out, dt.hour().into(), 2);
                    out.push(':');
                    push_number(out, dt.minute().into(), 2);
                    if dt.second() != 0 {
                        out.push(':');
                        push_number(out, dt.second().into(), 2);
                    }
                }
                _ => return false,
            }
            true
        });
    }

    /// A value in words: regions by name, instants as local dates, records
    /// as their labelled fields.
    fn value(self, out: &mut String, v: &Value, ty: &Type) {
        let p = self.p;
        match (v, ty.non_optional()) {
            (Value::None, _) => out.push_str(p.none),
            (Value::Bool(b), _) => out.push_str(if *b { p.yes } else { p.no }),
            (Value::Text(t), _) => out.push_str(self.words.text(t)),
            (Value::Time(t), _) => self.when(out, *t),
            (Value::Region(code), _) => {
                let named = region::write_full_name(out, *code);
                if named {
                    out.push_str(p.open);
                }
                push_number(out, (*code).into(), 6);
                if named {
                    out.push_str(p.close);
                }
            }
            (Value::Enum(i), Type::Enum(choices)) => {
                if let Some(c) = choices.get(*i as usize) {
                    out.push_str(self.words.text(c));
                }
            }
            (Value::Record(fields), Type::Record(record)) => {
                let given = fields
                    .iter()
                    .zip(&record.fields)
                    .filter(|(v, _)| !matches!(v, Value::None));
                for (i, (v, (name, fty))) in given.enumerate() {
                    if i > 0 {
                        out.push_str(p.comma);
                    }
                    push_all(out, &[self.words.name(name), " "]);
                    self.value(out, v, fty);
                }
            }
            (Value::List(items) | Value::Set(items), t) => {
                let unknown = Type::Error;
                let element = t.element().unwrap_or(&unknown);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(p.comma);
                    }
                    self.value(out, item, element);
                }
            }
            (Value::Interval(a, b), _) => self.between(out, p.window_between, Some(*a), Some(*b)),
            (other, t) => out.push_str(&crate::decision::plain(other, t, self.tz)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_every_key() {
        assert_eq!(
            fill("{a} 至 {b}，{a}", &[("a", "x"), ("b", "y")]),
            "x 至 y，x"
        );
        // A value is not read for keys; a brace that opens none stays.
        assert_eq!(
            fill("{a} {b} {c} {{a}} {", &[("a", "{b}"), ("b", "y")]),
            "{b} y {c} {{b}} {"
        );
    }

    #[test]
    fn a_filled_value_is_not_filled_again_and_unknown_keys_stay() {
        // A record's text with braces in it, shown through a template.
        assert_eq!(
            fill("{set}: {value}", &[("set", "{value}"), ("value", "v")]),
            "{value}: v"
        );
        assert_eq!(fill("{{a}} {b} {", &[("a", "x")]), "{x} {b} {");
    }

    #[test]
    fn chinese_for_every_chinese_tag_english_otherwise() {
        assert!(std::ptr::eq(Phrases::for_language("zh"), &ZH));
        assert!(std::ptr::eq(Phrases::for_language("zh-Hant-TW"), &ZH));
        assert!(std::ptr::eq(Phrases::for_language("en-GB"), &EN));
        assert!(std::ptr::eq(Phrases::for_language("fr"), &EN));
    }
}
