//! `language` and `messages`: the languages a policy speaks to people in.
//!
//! A policy's texts (its title, rule titles, payload texts, remedies) are
//! written in its own `language`. A `messages "en" { ... }` block gives them
//! in another language, keyed by what they are (`rule county_exposure`,
//! `text "请..."`), and may label outcomes and names for people; in the
//! policy's own language it gives only the labels. Every key must name
//! something the policy has.

use std::collections::HashMap;

use super::ir::ExprKind;
use super::{CheckError, Checker, Outcome, Program};
use crate::suggest;
use crate::syntax::{self, Item, MessageKey, Span, Spanned};
use crate::types::{RecordType, Type};
use crate::value::Value;

/// One `messages` block, checked.
#[derive(Debug, Clone)]
pub struct Messages {
    /// Its language tag.
    pub language: String,
    /// The tag in the source.
    pub span: Span,
    /// The texts, by what they are the text of.
    pub entries: HashMap<MessageKey, String>,
}

/// Whether `tag` has the shape of a BCP 47 language tag: a language of two
/// or three letters, then subtags of one to eight letters or digits
/// (`zh`, `en-GB`, `zh-Hant-TW`).
pub fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or("");
    (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The texts of a program that a translation gives: its title, rule
/// titles, warnings, remedies and payload texts, each as its key. A
/// payload text written like a name (`postpone_travel`) is a code for
/// programs, not words for people, and needs none.
pub fn translatable(program: &Program) -> Vec<MessageKey> {
    let mut keys = Vec::new();
    if program.title.is_some() {
        keys.push(MessageKey::Policy);
    }
    keys.extend(
        program
            .rules
            .iter()
            .map(|r| MessageKey::Rule(r.name.clone())),
    );
    keys.extend(
        program
            .warnings
            .iter()
            .map(|w| MessageKey::Warning(w.name.clone())),
    );
    keys.extend(
        program
            .remedies
            .iter()
            .map(|r| MessageKey::Remedy(r.title.clone())),
    );
    let mut texts: Vec<String> = Vec::new();
    for outcome in program
        .rules
        .iter()
        .map(|r| &r.then)
        .chain(std::iter::once(&program.otherwise))
    {
        for text in payload_texts(outcome) {
            if !texts.contains(&text) {
                texts.push(text);
            }
        }
    }
    keys.extend(texts.into_iter().map(MessageKey::Text));
    keys
}

/// The texts an outcome's payload gives as written.
fn payload_texts(outcome: &Outcome) -> impl Iterator<Item = String> + '_ {
    outcome.payload.iter().filter_map(|(_, e)| match &e.kind {
        ExprKind::Const(Value::Text(t)) if !is_code(t) => Some(t.to_string()),
        _ => None,
    })
}

/// A text written like a name: ASCII letters, digits and `_` only.
fn is_code(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Every field name of a record type, nested ones included, and every
/// choice of its choice types.
fn schema_words(record: &RecordType, names: &mut Vec<String>, choices: &mut Vec<String>) {
    fn of_type(ty: &Type, names: &mut Vec<String>, choices: &mut Vec<String>) {
        match ty.non_optional() {
            Type::Record(r) => schema_words(r, names, choices),
            Type::List(t) | Type::Set(t) => of_type(t, names, choices),
            Type::Enum(cs) => choices.extend(cs.iter().cloned()),
            _ => {}
        }
    }
    for (name, ty) in &record.fields {
        names.push(name.clone());
        of_type(ty, names, choices);
    }
}

impl Checker<'_> {
    /// Checks `language` and the `messages` blocks against the rest of
    /// the program.
    pub(super) fn messages(
        &mut self,
        policy: &syntax::Policy,
        program: &Program,
    ) -> (Option<String>, Vec<Messages>) {
        let language = policy.items.iter().find_map(|i| match i {
            Item::Language(l) => Some(l),
            _ => None,
        });
        if let Some(l) = language {
            self.language_tag(l);
        }
        let mut names: Vec<String> = vec![program.input_name.clone()];
        let mut choices: Vec<String> = Vec::new();
        schema_words(&program.input, &mut names, &mut choices);
        schema_words(&program.facts, &mut names, &mut choices);
        names.extend(program.lets.iter().map(|l| l.name.clone()));
        // Any text a payload gives may be translated, codes included.
        let outcomes = program.rules.iter().map(|r| &r.then);
        let mut texts: Vec<String> = outcomes
            .chain(std::iter::once(&program.otherwise))
            .flat_map(|o| o.payload.iter())
            .filter_map(|(_, e)| match &e.kind {
                ExprKind::Const(Value::Text(t)) => Some(t.to_string()),
                _ => None,
            })
            .collect();
        texts.extend(choices);

        let mut blocks: Vec<Messages> = Vec::new();
        for item in &policy.items {
            let Item::Messages(decl) = item else {
                continue;
            };
            self.language_tag(&decl.language);
            // Tags are compared without regard to case, as BCP 47 has it.
            let same = |b: &&Messages| b.language.eq_ignore_ascii_case(&decl.language.node);
            if let Some(first) = blocks.iter().find(same) {
                self.errors.push(CheckError::RepeatedMessage {
                    what: format!("`messages \"{}\"`", decl.language.node),
                    span: decl.language.span,
                    first: first.span,
                });
                continue;
            }
            let mut entries = HashMap::new();
            let mut seen: HashMap<&MessageKey, Span> = HashMap::new();
            for m in &decl.entries {
                if let Some(first) = seen.insert(&m.key.node, m.key.span) {
                    self.errors.push(CheckError::RepeatedMessage {
                        what: format!("`{}`", m.key.node.written()),
                        span: m.key.span,
                        first,
                    });
                    continue;
                }
                self.message_key(&m.key, program, &names, &texts);
                entries.insert(m.key.node.clone(), m.text.node.clone());
            }
            blocks.push(Messages {
                language: decl.language.node.clone(),
                span: decl.language.span,
                entries,
            });
        }
        (language.map(|l| l.node.clone()), blocks)
    }

    fn language_tag(&mut self, tag: &Spanned<String>) {
        if !is_language_tag(&tag.node) {
            self.errors.push(CheckError::LanguageTag {
                tag: tag.node.clone(),
                span: tag.span,
            });
        }
    }

    /// Reports a key that names nothing the policy has.
    fn message_key<'a>(
        &mut self,
        key: &Spanned<MessageKey>,
        program: &'a Program,
        names: &'a [String],
        texts: &'a [String],
    ) {
        let refs = |v: &'a [String]| v.iter().map(String::as_str).collect();
        let (what, name, known): (&'static str, &str, Vec<&str>) = match &key.node {
            MessageKey::Policy => return,
            MessageKey::Outcome(n) => ("outcome", n, refs(&program.outcomes)),
            MessageKey::Rule(n) => (
                "rule",
                n,
                program.rules.iter().map(|r| r.name.as_str()).collect(),
            ),
            MessageKey::Warning(n) => (
                "warning",
                n,
                program.warnings.iter().map(|w| w.name.as_str()).collect(),
            ),
            MessageKey::Name(n) => ("name", n, refs(names)),
            MessageKey::Remedy(t) => (
                "remedy",
                t,
                program.remedies.iter().map(|r| r.title.as_str()).collect(),
            ),
            MessageKey::Text(t) => ("text", t, refs(texts)),
        };
        if known.contains(&name) {
            return;
        }
        let help = suggest::help_for(name, known.iter().copied()).unwrap_or_else(|| match what {
            "name" => "a `name` labels a field, the input, a fact or a `let`".into(),
            "text" => "a `text` translates a text a payload gives, or a choice of a schema".into(),
            _ if known.is_empty() => format!("the policy has no {what}s"),
            _ => {
                let listed: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                format!("the policy's {what}s are {}", listed.join(", "))
            }
        });
        self.errors.push(CheckError::UnknownMessage {
            what,
            name: name.to_owned(),
            span: key.span,
            help,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_have_the_bcp47_shape() {
        for ok in ["zh", "en", "en-GB", "zh-Hant-TW", "yue"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "z",
            "chinese",
            "zh_CN",
            "en-",
            "en-toolongsubtag",
            "中文",
        ] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn keys_read_as_written() {
        assert_eq!(MessageKey::Rule("r".into()).written(), "rule r");
        assert_eq!(MessageKey::Text("请".into()).written(), "text \"请\"");
        assert_eq!(MessageKey::Policy.written(), "policy");
    }
}
