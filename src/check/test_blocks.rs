//! `test` blocks: their data is decoded against the schemas, their
//! expectations name outcomes, payload fields and rules that exist.

use std::collections::HashMap;

use super::error::CheckError;
use super::{Checker, Expect, Expected, Remedy, Test, quoted_list};
use crate::data;
use crate::suggest;
use crate::syntax::{self, Data, Expectation, Span, Spanned, TestStep};
use crate::time;
use crate::types::{RecordType, Type};
use crate::value::Value;

impl Checker<'_> {
    /// Checks every `test` of the policy.
    pub(super) fn tests(
        &mut self,
        policy: &syntax::Policy,
        outcomes: &[String],
        rules: &[String],
        payload_types: &HashMap<String, (Type, Span)>,
    ) -> Vec<Test> {
        let decls: Vec<&syntax::TestDecl> = policy.tests().collect();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut tests = Vec::with_capacity(decls.len());
        for decl in decls {
            if let Some(first) = seen.insert(&decl.name.node, decl.name.span) {
                self.errors.push(CheckError::Duplicate {
                    what: "test",
                    name: decl.name.node.clone(),
                    span: decl.name.span,
                    first,
                });
            }
            if let Some(test) = self.test(decl, outcomes, rules, payload_types) {
                tests.push(test);
            }
        }
        tests
    }

    fn test(
        &mut self,
        decl: &syntax::TestDecl,
        outcomes: &[String],
        rules: &[String],
        payload_types: &HashMap<String, (Type, Span)>,
    ) -> Option<Test> {
        let mut now = None;
        let mut facts = None;
        let mut facts_given = Vec::new();
        let mut person = None;
        let mut expects = Vec::new();
        for step in &decl.steps {
            match step {
                TestStep::Now(t) => now = self.test_time(t),
                TestStep::Facts(d) => {
                    // Read as a facts file is, `as_of` and all: whether the
                    // `required` facts are given, and whether they are too
                    // old at the test's `now`, is decided when it runs.
                    let facts_schema = std::sync::Arc::clone(&self.facts);
                    let (schema, _) = crate::eval::with_as_of(&facts_schema);
                    if let Some(decoded) = self.decode_test_data(d, &schema, now.unwrap_or(0), true)
                    {
                        facts = Some(decoded.value);
                        facts_given = decoded.given;
                    }
                }
                TestStep::Input(name, d) => {
                    if name.node != self.input_name {
                        self.errors.push(CheckError::TestInput {
                            name: name.node.clone(),
                            span: name.span,
                            help: format!(
                                "the input is `{}`: write `{} {{ ... }}`",
                                self.input_name, self.input_name
                            ),
                        });
                        continue;
                    }
                    let schema = std::sync::Arc::clone(&self.input);
                    person = self.test_data(d, &schema, now.unwrap_or(0));
                }
                TestStep::Expect(step) => {
                    let span = step.span;
                    let at = step.node.at.as_ref().and_then(|t| self.test_time(t));
                    let what = match &step.node.what {
                        Expectation::Rules(names) => {
                            for name in names {
                                if !rules.contains(&name.node) {
                                    let help = suggest::help_for(
                                        &name.node,
                                        rules.iter().map(String::as_str),
                                    )
                                    .unwrap_or_else(|| {
                                        format!("the rules are {}", quoted_list(rules))
                                    });
                                    self.errors.push(CheckError::UnknownRule {
                                        name: name.node.clone(),
                                        span: name.span,
                                        help,
                                    });
                                }
                            }
                            Expected::Rules(names.iter().map(|n| n.node.clone()).collect())
                        }
                        Expectation::Outcome(call) => {
                            self.expected_outcome(call, outcomes, payload_types)
                        }
                    };
                    expects.push(Expect { at, what, span });
                }
            }
        }
        if now.is_none() && !decl.steps.iter().any(|s| matches!(s, TestStep::Now(_))) {
            self.errors.push(CheckError::TestNow {
                name: decl.name.node.clone(),
                span: decl.name.span,
            });
        }
        let has_input = decl.steps.iter().any(|s| matches!(s, TestStep::Input(..)));
        let person = match person {
            Some(p) => p,
            // The input was written but is wrong: that is reported already.
            None if has_input => return None,
            None => {
                let schema = std::sync::Arc::clone(&self.input);
                let empty = Spanned::new(Data::Record(Vec::new()), decl.name.span);
                self.test_data(&empty, &schema, 0)?
            }
        };
        Some(Test {
            name: decl.name.node.clone(),
            span: decl.name.span,
            now: now?,
            facts,
            facts_given,
            person,
            expects,
        })
    }

    /// Checks every `remedy`: the list it adds to, and its record against
    /// that list's element type.
    pub(super) fn remedies(&mut self, policy: &syntax::Policy) -> Vec<Remedy> {
        let decls: Vec<&syntax::RemedyDecl> = policy.remedies().collect();
        let mut out = Vec::with_capacity(decls.len());
        for decl in decls {
            let input = std::sync::Arc::clone(&self.input);
            let element = match input.field(&decl.list.node) {
                Some((slot, Type::List(inner))) => match &**inner {
                    Type::Record(r) => Some((slot, std::sync::Arc::clone(r))),
                    _ => None,
                },
                _ => None,
            };
            if element.is_none()
                && let Some((_, ty)) = input.field(&decl.list.node)
            {
                self.errors.push(CheckError::Mismatch {
                    expected: "a list of records to add to".into(),
                    found: ty.to_string(),
                    span: decl.list.span,
                    help: Some("a remedy adds a record to one of the input's lists".into()),
                });
                continue;
            }
            let Some((list, element)) = element else {
                let lists: Vec<&str> = input
                    .fields
                    .iter()
                    .filter(|(_, t)| matches!(t, Type::List(inner) if matches!(**inner, Type::Record(_))))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let help = suggest::help_for(&decl.list.node, lists.iter().copied())
                    .unwrap_or_else(|| {
                        format!(
                            "a remedy adds to a list of records of the input: {}",
                            quoted_list(&lists)
                        )
                    });
                self.errors.push(CheckError::UnknownField {
                    field: decl.list.node.clone(),
                    record: self.input_name.clone(),
                    span: decl.list.span,
                    help,
                });
                continue;
            };
            let now_slots = match &decl.record.node {
                Data::Record(fields) => fields
                    .iter()
                    .filter(|(_, v)| v.node == Data::Now)
                    .filter_map(|(n, _)| element.field(&n.node).map(|(slot, _)| slot))
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(record) = self.test_data(&decl.record, &element, 0) {
                out.push(Remedy {
                    title: decl.title.node.clone(),
                    list,
                    record,
                    now_slots,
                });
            }
        }
        out
    }

    fn expected_outcome(
        &mut self,
        call: &syntax::OutcomeCall,
        outcomes: &[String],
        payload_types: &HashMap<String, (Type, Span)>,
    ) -> Expected {
        let index = match outcomes.iter().position(|o| *o == call.outcome.node) {
            Some(i) => i,
            None => {
                let help =
                    suggest::help_for(&call.outcome.node, outcomes.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("the outcomes are {}", quoted_list(outcomes)));
                self.errors.push(CheckError::UnknownOutcome {
                    name: call.outcome.node.clone(),
                    span: call.outcome.span,
                    help,
                });
                0
            }
        };
        let mut payload = Vec::new();
        for (name, value) in &call.payload {
            if !payload_types.contains_key(&name.node) {
                let known: Vec<&str> = payload_types.keys().map(String::as_str).collect();
                let help = suggest::help_for(&name.node, known.iter().copied())
                    .unwrap_or_else(|| format!("the payload fields are {}", quoted_list(&known)));
                self.errors.push(CheckError::UnknownField {
                    field: name.node.clone(),
                    record: format!("{}(...)", call.outcome.node),
                    span: name.span,
                    help,
                });
                continue;
            }
            payload.push((name.node.clone(), self.expr(value)));
        }
        Expected::Outcome { index, payload }
    }

    pub(super) fn test_time(&mut self, t: &Spanned<String>) -> Option<i64> {
        match time::parse_instant(&t.node, &self.timezone, self.resolve) {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(CheckError::Time {
                    text: t.node.clone(),
                    span: t.span,
                    reason: e.reason(),
                    help: e.help(),
                });
                None
            }
        }
    }

    /// Decodes test data against `schema`, through the same reader as
    /// real data, so that tests see exactly what data would.
    fn test_data(&mut self, d: &Spanned<Data>, schema: &RecordType, now: i64) -> Option<Value> {
        self.decode_test_data(d, schema, now, false)
            .map(|decoded| decoded.value)
    }

    /// A test's data decoded against `schema`; `partial`, it may leave out
    /// required fields, as one facts file of several may.
    fn decode_test_data(
        &mut self,
        d: &Spanned<Data>,
        schema: &RecordType,
        now: i64,
        partial: bool,
    ) -> Option<data::Decoded> {
        let ty = Type::Record(std::sync::Arc::new(schema.clone()));
        let json = self.data_json(d, &ty, now)?;
        // Strictly: a test's data is written beside its schema, so a field
        // the schema does not declare can only be a mistake.
        let reading = data::Reading {
            strict: true,
            partial,
            ..data::Reading::new(&self.timezone, self.resolve)
        };
        match data::decode(&json.to_string(), schema, reading) {
            Ok(decoded) => Some(decoded),
            Err(e) => {
                self.errors.push(CheckError::TestData {
                    message: e.message,
                    span: d.span,
                });
                None
            }
        }
    }

    /// Data written in the language as the JSON the data would give, each
    /// field under its key in `ty` (`name from "key"`).
    fn data_json(&mut self, d: &Spanned<Data>, ty: &Type, now: i64) -> Option<serde_json::Value> {
        Some(match &d.node {
            Data::Record(fields) => {
                let record = match ty.non_optional() {
                    Type::Record(r) => Some(r),
                    _ => None,
                };
                let mut map = serde_json::Map::new();
                for (name, value) in fields {
                    let field = record.and_then(|r| r.field(&name.node));
                    let key = match (record, field) {
                        (Some(r), Some((slot, _))) => r.key(slot).to_owned(),
                        _ => name.node.clone(),
                    };
                    let ty = field.map_or(&Type::Error, |(_, t)| t);
                    map.insert(key, self.data_json(value, ty, now)?);
                }
                serde_json::Value::Object(map)
            }
            Data::List(items) => {
                let element = ty.non_optional().element().unwrap_or(&Type::Error);
                serde_json::Value::Array(
                    items
                        .iter()
                        .map(|i| self.data_json(i, element, now))
                        .collect::<Option<_>>()?,
                )
            }
            Data::Text(t) => serde_json::Value::from(t.as_str()),
            Data::Number(n) => serde_json::Value::from(*n),
            Data::Bool(b) => serde_json::Value::from(*b),
            Data::None => serde_json::Value::Null,
            Data::Now => serde_json::Value::from(time::format_instant(now, &self.timezone)),
            Data::Duration(secs) => {
                serde_json::Value::from(time::format_duration(secs * time::SECOND))
            }
            Data::Time(text) => {
                let t = self.test_time(&Spanned::new(text.clone(), d.span))?;
                serde_json::Value::from(time::format_instant(t, &self.timezone))
            }
            Data::Region(level, code) => match self.region_lit(*level, code, d.span).kind {
                super::ir::ExprKind::Const(Value::Region(c)) => {
                    serde_json::Value::from(format!("{c:06}"))
                }
                _ => return None,
            },
        })
    }
}
