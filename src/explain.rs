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

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use miette::Diagnostic;
use serde::Serialize;
use thiserror::Error;

use crate::check::Program;
use crate::check::messages::Messages;
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
    /// The language's `messages` block, if it has one.
    block: Option<&'p Messages>,
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
        Ok(Words {
            program,
            block,
            own,
            language: wanted.map(str::to_owned),
            phrases: Phrases::for_language(wanted.unwrap_or("en")),
        })
    }

    fn entry(&self, key: MessageKey) -> Option<&'p str> {
        self.block
            .and_then(|b| b.entries.get(&key))
            .map(String::as_str)
    }

    /// The policy's title.
    pub fn policy(&self) -> &'p str {
        let program = self.program;
        self.entry(MessageKey::Policy)
            .or(program.title.as_deref())
            .unwrap_or(&program.name)
    }

    /// An outcome, as people call it.
    pub fn outcome(&self, name: &'p str) -> &'p str {
        self.or(MessageKey::Outcome(name.to_owned()), name)
    }

    /// A rule's title.
    pub fn rule(&self, name: &str) -> &'p str {
        let rule = self.program.rules.iter().find(|r| r.name == name);
        self.entry(MessageKey::Rule(name.to_owned()))
            .or_else(|| rule.and_then(|r| r.title.as_deref()))
            .or(rule.map(|r| r.name.as_str()))
            .unwrap_or_default()
    }

    /// The block's text for `key`, or `fallback`.
    fn or<'a>(&self, key: MessageKey, fallback: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.entry(key).unwrap_or(fallback)
    }

    /// A field, fact, input or `let`, as people call it.
    pub fn name<'a>(&self, name: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(MessageKey::Name(name.to_owned()), name)
    }

    /// A text of the policy (a payload text, a choice).
    pub fn text<'a>(&self, text: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(MessageKey::Text(text.to_owned()), text)
    }

    /// A remedy's title.
    pub fn remedy<'a>(&self, title: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(MessageKey::Remedy(title.to_owned()), title)
    }

    /// A warning's message.
    pub fn warning<'a>(&self, name: &str, message: &'a str) -> &'a str
    where
        'p: 'a,
    {
        self.or(MessageKey::Warning(name.to_owned()), message)
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
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let size = values.iter().map(|(_, v)| v.len()).sum::<usize>();
    let mut out = String::with_capacity(template.len() + size);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let key = after.find('}').and_then(|close| {
            let name = &after[..close];
            (values.iter().find(|(k, _)| *k == name)).map(|(_, v)| (close, *v))
        });
        match key {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
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
            summary: Writer::new(words, tz).decision_line(&self.decision),
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

/// Writes one explanation.
struct Writer<'a, 'w> {
    words: &'a Words<'w>,
    p: &'static Phrases,
    tz: &'a TimeZone,
    out: String,
}

impl<'a, 'w> Writer<'a, 'w> {
    fn new(words: &'a Words<'w>, tz: &'a TimeZone) -> Self {
        Writer {
            words,
            p: words.phrases,
            tz,
            out: String::new(),
        }
    }

    fn explanation(mut self, e: &Explanation<'_>) -> String {
        let d = &e.decision;
        let p = self.p;
        let id = d.id.as_deref().unwrap_or(p.no_id);
        let _ = write!(self.out, "{id} · {}", self.words.policy());
        if let Some(v) = &d.policy.version {
            let _ = write!(self.out, "{}{v}{}", p.open, p.close);
        }
        let now = self.when(d.now);
        let _ = write!(
            self.out,
            "\n{}{}{now}{}{}{}",
            p.decided_at,
            p.colon,
            p.open,
            d.policy.timezone.iana_name().unwrap_or("UTC"),
            p.close
        );
        let outcome = self.decision_line(d);
        let _ = write!(self.out, "\n\n{}{}{outcome}", p.decision, p.colon);
        if let Some(rule) = d.deciding_rule() {
            let _ = write!(
                self.out,
                "\n{}{}{}",
                p.decided_by,
                p.colon,
                self.words.rule(rule)
            );
        }

        let _ = write!(self.out, "\n\n{}{}", p.rules, p.colon.trim_end());
        for report in &e.rules {
            self.rule(report);
        }

        if !e.warnings.is_empty() || !e.data_warnings.is_empty() {
            let _ = write!(self.out, "\n\n{}{}", p.warnings, p.colon.trim_end());
            for (w, witnesses) in &e.warnings {
                let _ = write!(
                    self.out,
                    "\n  • {}",
                    self.words.warning(&w.name, &w.message)
                );
                self.witnesses(witnesses, "    ");
            }
            for w in &e.data_warnings {
                let line = match w {
                    DataWarning::UnknownRegion { path, code } => {
                        fill(p.unknown_region, &[("code", code), ("path", path)])
                    }
                    DataWarning::NearField { path, field } => {
                        fill(p.near_field, &[("path", path), ("field", field)])
                    }
                };
                let _ = write!(self.out, "\n  • {line}");
            }
        }

        let change_at = match &d.next_change {
            NextChange::At { at, then } => {
                let at = self.when(*at);
                let line = fill(
                    p.changes_at,
                    &[("at", &at), ("outcome", &self.decision_line(then))],
                );
                let _ = write!(self.out, "\n\n{}{}{line}", p.changes, p.colon);
                Some(at)
            }
            NextChange::Never => {
                let _ = write!(self.out, "\n\n{}{}{}", p.changes, p.colon, p.never_changes);
                None
            }
            NextChange::Ends { at } => {
                let line = fill(p.ends_at, &[("at", &self.when(*at))]);
                let _ = write!(self.out, "\n\n{}{}{line}", p.changes, p.colon);
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
            let _ = write!(self.out, "\n\n{}{}", p.can_do, p.colon.trim_end());
            if remedies.is_empty() {
                self.out.push_str(&p.colon[p.colon.trim_end().len()..]);
                match &change_at {
                    Some(at) => self
                        .out
                        .push_str(&fill(p.nothing_to_do_wait, &[("at", at)])),
                    None => self.out.push_str(p.nothing_to_do),
                }
            }
            for (title, then) in remedies {
                let line = fill(
                    p.remedy,
                    &[
                        ("remedy", self.words.remedy(title)),
                        ("outcome", &self.decision_line(then)),
                    ],
                );
                let _ = write!(self.out, "\n  • {line}");
            }
        }
        self.out.push('\n');
        self.out
    }

    /// `弹窗 —— 请按照防疫要求暂缓来京`: an outcome with the payload's
    /// words for people (codes like `postpone_travel` are left out).
    fn decision_line(&self, d: &Decision<'_>) -> String {
        let mut line = self.words.outcome(d.outcome).to_owned();
        for (_, value, _) in &d.payload {
            if let Value::Text(t) = value
                && !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                let _ = write!(line, " — {}", self.words.text(t));
            }
        }
        line
    }

    fn rule(&mut self, report: &RuleReport<'_>) {
        let p = self.p;
        let (mark, state) = match report.state {
            RuleState::Fired => ("●", p.applies),
            RuleState::NotMet => ("○", p.does_not_apply),
            RuleState::Excepted => ("◐", p.excepted),
        };
        let _ = write!(
            self.out,
            "\n  {mark} {}",
            self.words.rule(&report.rule.name)
        );
        if let Some(code) = &report.rule.code {
            let _ = write!(self.out, " [{code}]");
        }
        let _ = write!(self.out, "{}{state}", p.colon);
        self.witnesses(&report.witnesses, "      ");
        if !report.exception.is_empty() && report.state != RuleState::NotMet {
            let exception = match report.state {
                RuleState::Excepted => p.exception_holds,
                _ => p.exception_fails,
            };
            let _ = write!(self.out, "\n      {exception}{}", p.colon.trim_end());
            self.witnesses(&report.exception, "        ");
        }
    }

    fn witnesses(&mut self, witnesses: &[Witness<'_>], indent: &str) {
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
                        let value = self.value(record, ty);
                        let _ = write!(self.out, "\n{indent}{label}{}{value}", p.colon);
                        for m in matched {
                            let members: Vec<String> = m
                                .members
                                .iter()
                                .map(|v| self.value(v, m.members_ty))
                                .collect();
                            let set = self.label(&m.members_of, m.members_of_name);
                            let line =
                                if m.members.len() == 1 && m.members.first() == Some(&m.value) {
                                    fill(p.among, &[("set", &set)])
                                } else {
                                    fill(
                                        p.among_through,
                                        &[
                                            ("set", &set),
                                            ("members", &members.join(p.comma)),
                                            ("value", &self.value(&m.value, m.ty)),
                                        ],
                                    )
                                };
                            let _ = write!(self.out, "\n{indent}  → {line}");
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
                    let line = match window {
                        Some(w) => fill(
                            p.nothing_within,
                            &[
                                ("list", &label),
                                ("condition", condition),
                                ("window", &self.window(w)),
                            ],
                        ),
                        None => fill(p.nothing, &[("list", &label), ("condition", condition)]),
                    };
                    let _ = write!(self.out, "\n{indent}{line}");
                }
                Witness::Arm { guard, then } => {
                    let template = if *then { p.arm_then } else { p.arm_else };
                    let line = fill(template, &[("condition", guard)]);
                    let _ = write!(self.out, "\n{indent}{line}");
                }
                Witness::Condition { text, held } => {
                    let state = if *held { p.holds } else { p.does_not_hold };
                    let _ = write!(self.out, "\n{indent}{state}{}{text}", p.colon);
                }
            }
        }
    }

    fn window(&self, w: &Window) -> String {
        let p = self.p;
        match (w.from, w.to) {
            (Some(a), Some(b)) => fill(
                p.window_between,
                &[("from", &self.when(a)), ("to", &self.when(b))],
            ),
            (Some(a), None) => fill(p.window_since, &[("from", &self.when(a))]),
            (None, Some(b)) => fill(p.window_until, &[("to", &self.when(b))]),
            (None, None) => String::new(),
        }
    }

    /// A list or set as people call it: by its name (`outside`, `tests`
    /// for `person.tests`) in the policy's words, when it is written as a
    /// name or a path of names; anything else as written.
    fn label(&self, written: &str, name: Option<&str>) -> String {
        match name {
            Some(name) => self.words.name(name).to_owned(),
            None => written.to_owned(),
        }
    }

    /// A local date and time in the policy's zone, seconds only when they
    /// are not zero.
    fn when(&self, micros: i64) -> String {
        let Ok(ts) = Timestamp::from_microsecond(micros) else {
            return time::format_instant(micros, self.tz);
        };
        let dt = self.tz.to_offset(ts).to_datetime(ts);
        let mut hm = format!("{:02}:{:02}", dt.hour(), dt.minute());
        if dt.second() != 0 {
            let _ = write!(hm, ":{:02}", dt.second());
        }
        let month = usize::try_from(dt.month() - 1).unwrap_or(0);
        fill(
            self.p.datetime,
            &[
                ("y", &dt.year().to_string()),
                ("m", &dt.month().to_string()),
                ("month", self.p.months.get(month).copied().unwrap_or("")),
                ("d", &dt.day().to_string()),
                ("hm", &hm),
            ],
        )
    }

    /// A value in words: regions by name, instants as local dates, records
    /// as their labelled fields.
    fn value(&self, v: &Value, ty: &Type) -> String {
        let p = self.p;
        match (v, ty.non_optional()) {
            (Value::None, _) => p.none.to_owned(),
            (Value::Bool(b), _) => (if *b { p.yes } else { p.no }).to_owned(),
            (Value::Text(t), _) => self.words.text(t).to_owned(),
            (Value::Time(t), _) => self.when(*t),
            (Value::Region(code), _) => match region::full_name(*code) {
                Some(name) => format!("{name}{}{code:06}{}", p.open, p.close),
                None => format!("{code:06}"),
            },
            (Value::Enum(i), Type::Enum(choices)) => choices
                .get(*i as usize)
                .map_or_else(String::new, |c| self.words.text(c).to_owned()),
            (Value::Record(fields), Type::Record(record)) => fields
                .iter()
                .zip(&record.fields)
                .filter(|(v, _)| !matches!(v, Value::None))
                .map(|(v, (name, fty))| format!("{} {}", self.words.name(name), self.value(v, fty)))
                .collect::<Vec<_>>()
                .join(p.comma),
            (Value::List(items) | Value::Set(items), t) => {
                let element = t.element().cloned().unwrap_or(Type::Error);
                items
                    .iter()
                    .map(|i| self.value(i, &element))
                    .collect::<Vec<_>>()
                    .join(p.comma)
            }
            (Value::Interval(a, b), _) => fill(
                p.window_between,
                &[("from", &self.when(*a)), ("to", &self.when(*b))],
            ),
            (other, t) => crate::decision::plain(other, t, self.tz),
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
