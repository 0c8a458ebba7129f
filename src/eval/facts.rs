//! The facts of a run: read from one or more files, joined, checked, and
//! with every fact-only expression of the plan computed once.
//!
//! Facts are never silently absent or misspelt: a key the policy does not
//! declare is an error (only `as_of` is always allowed), two files that give
//! one scalar fact different values are an error naming both, a `required`
//! fact must come from some file, and a policy that says how old its facts
//! may be (`facts expire 36h after as_of`) refuses older ones. With several
//! files, the oldest `as_of` is the age of the whole.

use miette::Diagnostic;
use thiserror::Error;

use super::Evaluator;
use crate::compile::Plan;
use crate::data::{self, DataError, Reading};
use crate::time;
use crate::types::{RecordType, Type};
use crate::value::Value;

/// When facts say they were published; always allowed in a facts file.
pub const AS_OF: &str = "as_of";

/// The facts of a run, with every fact-only expression of the plan already
/// computed.
#[derive(Debug, Clone)]
pub struct Facts {
    pub(super) values: Vec<Value>,
    pub(super) hoisted: Vec<Value>,
    /// Sorted copies of the long lists among them, for membership.
    pub(super) indexes: super::index::FactIndexes,
    /// Warnings from decoding the facts.
    pub warnings: Vec<String>,
    /// When the facts were published (the oldest `as_of` of their files),
    /// if every file said.
    pub as_of: Option<i64>,
}

/// One facts file, read and checked on its own, not yet joined with the
/// others.
#[derive(Debug, Clone)]
pub struct FactsFile {
    /// How errors name it (its path).
    pub name: String,
    values: Vec<Value>,
    given: Vec<bool>,
    as_of: Option<i64>,
    /// Warnings from decoding it.
    pub warnings: Vec<String>,
}

/// Why the facts files of a run cannot be used together.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
pub enum FactsError {
    /// The policy declares facts and no file was given.
    #[error("the policy declares facts ({names}) and none were given")]
    #[diagnostic(
        code(policy::facts::none),
        help(
            "give them with `--facts FILE`; a file of `{{}}` says that every list of them is empty"
        )
    )]
    NotGiven {
        /// The declared facts, in backticks.
        names: String,
    },
    /// Two files give one scalar fact different values.
    #[error(
        "`{first}` and `{second}` give `{fact}` different values ({first_value} and {second_value})"
    )]
    #[diagnostic(
        code(policy::facts::conflict),
        help("give the fact in one file only, or the same value in each")
    )]
    Conflict {
        /// The fact.
        fact: String,
        /// The file that gave it first, and its value.
        first: String,
        /// Its value there.
        first_value: String,
        /// The file that gave it differently.
        second: String,
        /// Its value there.
        second_value: String,
    },
    /// A `required` fact that no file gives.
    #[error("no facts file gives `{fact}`, which the policy requires")]
    #[diagnostic(
        code(policy::facts::missing),
        help("give it in one of the files, as an empty list if there is nothing to say")
    )]
    Missing {
        /// The fact.
        fact: String,
    },
    /// Facts older than the policy allows.
    #[error(
        "the facts are {age} old at `now` (`as_of` {as_of}{file}); the policy accepts facts at most {limit} old"
    )]
    #[diagnostic(
        code(policy::facts::expired),
        help("give facts published since {oldest_allowed}, or decide at an earlier `--now`")
    )]
    Expired {
        /// How old, like `2d6h`.
        age: String,
        /// The oldest `as_of`.
        as_of: String,
        /// `, in \`file\``, when there are several files.
        file: String,
        /// The policy's limit.
        limit: String,
        /// The oldest `as_of` the limit allows at `now`.
        oldest_allowed: String,
    },
    /// A file without `as_of`, when the policy says how old facts may be.
    #[error(
        "`{file}` does not say when its facts were published, and the policy accepts facts at most {limit} old"
    )]
    #[diagnostic(
        code(policy::facts::no_as_of),
        help("add `\"as_of\": \"2021-11-01\"` (a date or an instant) to the file")
    )]
    NoAsOf {
        /// The file.
        file: String,
        /// The policy's limit.
        limit: String,
    },
}

impl FactsError {
    /// Whether it is a mistake in how the command was called (no facts at
    /// all) rather than in the facts given.
    pub fn is_usage(&self) -> bool {
        matches!(self, FactsError::NotGiven { .. })
    }
}

/// The facts schema with `as_of` (an optional instant) in its last slot,
/// unless the policy declares `as_of` itself; and `as_of`'s slot.
pub(crate) fn with_as_of(schema: &RecordType) -> (std::borrow::Cow<'_, RecordType>, Option<usize>) {
    if let Some((slot, ty)) = schema.field(AS_OF) {
        let is_time = matches!(ty.non_optional(), Type::Time);
        return (std::borrow::Cow::Borrowed(schema), is_time.then_some(slot));
    }
    let mut extended = schema.clone();
    extended
        .fields
        .push((AS_OF.to_owned(), Type::Optional(Box::new(Type::Time))));
    let slot = extended.fields.len() - 1;
    (std::borrow::Cow::Owned(extended), Some(slot))
}

impl FactsFile {
    /// Reads one facts document (JSON) against the plan's facts schema:
    /// every key declared (or `as_of`), every value of its type.
    pub fn read(plan: &Plan, name: &str, text: &str) -> Result<FactsFile, DataError> {
        let program = &plan.program;
        let (schema, as_of_slot) = with_as_of(&program.facts);
        let reading = Reading {
            strict: true,
            partial: true,
            ..Reading::new(&program.timezone, program.resolve)
        };
        let decoded = data::decode(text, &schema, reading)?;
        super::constraints::check(plan, &decoded.value, &schema)?;
        let fields = match decoded.value {
            Value::Record(fields) => fields.to_vec(),
            _ => Vec::new(),
        };
        let as_of = as_of_slot.and_then(|slot| match fields.get(slot) {
            Some(Value::Time(t)) => Some(*t),
            _ => None,
        });
        let declared = program.facts.fields.len();
        Ok(FactsFile {
            name: name.to_owned(),
            values: fields.iter().take(declared).cloned().collect(),
            given: decoded.given.into_iter().take(declared).collect(),
            as_of,
            warnings: decoded.warnings.iter().map(ToString::to_string).collect(),
        })
    }
}

impl FactsFile {
    /// The facts a `test` block gives (`given`: which of its fields), as
    /// the one file of a run: checked by [`Facts::combine`] like any.
    pub(crate) fn of_test(plan: &Plan, record: Option<&Value>, given: &[bool]) -> FactsFile {
        let program = &plan.program;
        let (_, as_of_slot) = with_as_of(&program.facts);
        let fields = match record {
            Some(Value::Record(fields)) => &fields[..],
            _ => &[],
        };
        let as_of = as_of_slot.and_then(|slot| match fields.get(slot) {
            Some(Value::Time(t)) => Some(*t),
            _ => None,
        });
        let declared = program.facts.fields.len();
        FactsFile {
            name: "facts { ... }".to_owned(),
            values: fields.iter().take(declared).cloned().collect(),
            given: given.iter().copied().take(declared).collect(),
            as_of,
            warnings: Vec::new(),
        }
    }
}

impl Facts {
    /// No facts: every list and set empty, every optional none.
    pub fn empty(plan: &Plan) -> Facts {
        Self::merge(plan, Vec::new(), None)
    }

    /// Facts that are not there, for what reads only the person.
    pub(super) fn none() -> Facts {
        Facts {
            values: Vec::new(),
            hoisted: Vec::new(),
            indexes: Default::default(),
            warnings: Vec::new(),
            as_of: None,
        }
    }

    /// Decodes one facts document (JSON) and checks it as the only one,
    /// whatever `now`.
    pub fn parse(plan: &Plan, text: &str) -> Result<Facts, DataError> {
        let file = FactsFile::read(plan, "the facts", text)?;
        Self::combine(plan, vec![file], None).map_err(|e| DataError {
            message: e.to_string(),
            line: None,
            column: None,
        })
    }

    /// Facts from a record already decoded against the facts schema.
    pub fn from_record(plan: &Plan, record: Value) -> Facts {
        let values = match record {
            Value::Record(fields) => fields.to_vec(),
            _ => Vec::new(),
        };
        Self::merge(plan, values, None)
    }

    /// The facts of several files as one: lists and sets are joined, a
    /// scalar must not differ between two files, every `required` fact must
    /// be given by one, and, at `now` (when given), the oldest `as_of` must
    /// be within the policy's `facts expire`.
    pub fn combine(
        plan: &Plan,
        files: Vec<FactsFile>,
        now: Option<i64>,
    ) -> Result<Facts, FactsError> {
        let program = &plan.program;
        let schema = &program.facts;
        if files.is_empty() && !schema.fields.is_empty() {
            return Err(FactsError::NotGiven {
                names: crate::check::quoted_list(
                    &(0..schema.fields.len())
                        .map(|s| schema.key(s))
                        .collect::<Vec<_>>(),
                ),
            });
        }
        let mut values: Vec<Value> = schema
            .fields
            .iter()
            .map(|(_, ty)| Value::absent(ty))
            .collect();
        // For each fact, whether a file gave it (`null` included), and the
        // first file that gave it a value.
        let mut said = vec![false; values.len()];
        let mut from: Vec<Option<usize>> = vec![None; values.len()];
        for (f, file) in files.iter().enumerate() {
            for (slot, value) in file.values.iter().enumerate() {
                if !file.given.get(slot).copied().unwrap_or(false) {
                    continue;
                }
                let name = schema.key(slot);
                let (Some(current), Some((_, ty))) =
                    (values.get_mut(slot), schema.fields.get(slot))
                else {
                    continue;
                };
                said[slot] = true;
                *current = match (&*current, value, from[slot]) {
                    // `null` says nothing more: it neither fills nor conflicts.
                    (_, Value::None, _) => continue,
                    (Value::List(a), Value::List(b), _) => {
                        Value::List(a.iter().chain(b.iter()).cloned().collect())
                    }
                    (Value::Set(a), Value::Set(b), _) => {
                        Value::set_of(a.iter().chain(b.iter()).cloned().collect())
                    }
                    (old, new, Some(first)) if old != new => {
                        let tz = &program.timezone;
                        return Err(FactsError::Conflict {
                            fact: name.to_owned(),
                            first: files[first].name.clone(),
                            first_value: crate::decision::plain(old, ty, tz),
                            second: file.name.clone(),
                            second_value: crate::decision::plain(new, ty, tz),
                        });
                    }
                    (_, new, _) => new.clone(),
                };
                from[slot].get_or_insert(f);
            }
        }
        for (slot, said) in said.iter().enumerate() {
            if !said && schema.is_required(slot) {
                let fact = schema.key(slot).to_owned();
                return Err(FactsError::Missing { fact });
            }
        }
        let oldest = files.iter().min_by_key(|f| f.as_of.map_or(i64::MIN, |t| t));
        if let (Some(limit), Some(now), Some(oldest)) = (program.facts_expire, now, oldest) {
            let tz = &program.timezone;
            let Some(as_of) = oldest.as_of else {
                return Err(FactsError::NoAsOf {
                    file: oldest.name.clone(),
                    limit: time::format_duration(limit),
                });
            };
            if now.saturating_sub(as_of) > limit {
                return Err(FactsError::Expired {
                    age: time::format_duration(now.saturating_sub(as_of)),
                    as_of: time::format_instant(as_of, tz),
                    file: if files.len() > 1 {
                        format!(", in `{}`", oldest.name)
                    } else {
                        String::new()
                    },
                    limit: time::format_duration(limit),
                    oldest_allowed: time::format_instant(now.saturating_sub(limit), tz),
                });
            }
        }
        let as_of = oldest.and_then(|f| f.as_of);
        let mut facts = Self::merge(plan, values, as_of);
        facts.warnings = files.into_iter().flat_map(|f| f.warnings).collect();
        Ok(facts)
    }

    /// The facts with these values, and the plan's hoisted expressions
    /// computed over them.
    fn merge(plan: &Plan, mut values: Vec<Value>, as_of: Option<i64>) -> Facts {
        let schema = &plan.program.facts.fields;
        values.resize_with(schema.len(), Value::default);
        for (value, (_, ty)) in values.iter_mut().zip(schema) {
            if matches!(value, Value::None) {
                *value = Value::absent(ty);
            }
        }
        let mut facts = Facts {
            values,
            hoisted: Vec::with_capacity(plan.hoisted.len()),
            indexes: Default::default(),
            warnings: Vec::new(),
            as_of,
        };
        // Each hoisted expression uses only the facts and earlier entries.
        for &expr in &plan.hoisted {
            let none = Value::None;
            let v = Evaluator::bare(plan, &facts, &none, 0).eval(expr);
            facts.hoisted.push(v);
        }
        facts.indexes = super::index::FactIndexes::of(facts.values.iter().chain(&facts.hoisted));
        facts
    }
}
