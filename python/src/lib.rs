//! The `policyc` Python module: a compiled policy deciding people one
//! record at a time, or an Arrow record batch at a time, so that a Spark
//! job decides a population with `DataFrame.mapInArrow` on every executor.
//!
//! ```python
//! import policyc
//! policy = policyc.Policy.load("policies/beijing-2021-10-30.policy")
//! facts = policy.facts(open("examples/beijing/facts.json").read())
//! policy.decide({"id": "a"}, facts, "2021-11-01T10:00:00+08:00")["outcome"]
//! decisions = policy.decide_batch(batch, facts, "2021-11-01T10:00:00+08:00")
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::RecordBatch;
use arrow_pyarrow::PyArrowType;
use arrow_schema::Schema;
use engine::columnar::{Decisions, Rows};
use engine::{ErrorFormat, Extras};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// Tells policies apart, so that facts loaded for one are never used with
/// another (their computed parts are laid out for one plan).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A compiled policy, ready to decide.
#[pyclass(module = "policyc", frozen)]
struct Policy {
    inner: engine::Policy,
    id: u64,
}

/// The facts of a run, loaded for one policy.
#[pyclass(module = "policyc", frozen)]
struct Facts {
    inner: engine::Facts,
    policy: u64,
}

/// `error` as Python's `ValueError`, with what to write instead.
fn bad(message: impl std::fmt::Display, help: &str) -> PyErr {
    if help.is_empty() {
        PyValueError::new_err(message.to_string())
    } else {
        PyValueError::new_err(format!("{message} (help: {help})"))
    }
}

/// A diagnostic as one plain line per error.
fn plain(diagnostic: &dyn miette::Diagnostic) -> String {
    engine::render(diagnostic, ErrorFormat::Plain)
        .trim_end()
        .to_owned()
}

#[pymethods]
impl Policy {
    /// Reads, checks and compiles the policy at `path`; `strict`: every
    /// field a record gives that the policy does not declare is an error.
    #[staticmethod]
    #[pyo3(signature = (path, strict = false))]
    fn load(path: PathBuf, strict: bool) -> PyResult<Policy> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| PyOSError::new_err(format!("cannot read `{name}`: {e}")))?;
        Policy::compile(&text, &name, strict, None)
    }

    /// Checks and compiles a policy's text; `name` is how its errors refer
    /// to it, and where the libraries it uses (`use "..."`) are read from.
    /// `libraries` gives their texts by the names `Policy.libraries` lists
    /// (a library given is not read from the disk): for executors that
    /// have the texts but not the files.
    #[staticmethod]
    #[pyo3(signature = (text, name = "policy", strict = false, libraries = None))]
    fn compile(
        text: &str,
        name: &str,
        strict: bool,
        libraries: Option<HashMap<String, String>>,
    ) -> PyResult<Policy> {
        let libraries = libraries.unwrap_or_default();
        let policy = engine::Policy::compile_with(name, text, &libraries).map_err(|all| {
            let errors: Vec<String> = all.errors.iter().map(|e| plain(e.as_ref())).collect();
            PyValueError::new_err(format!("{all}\n{}", errors.join("\n")))
        })?;
        Ok(Policy {
            inner: policy.strict(strict),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// The libraries the policy uses, each by the name its `use` resolved
    /// to, with its text: what `Policy.compile(text, name,
    /// libraries=...)` takes to compile the same policy where the files
    /// are not.
    #[getter]
    fn libraries(&self) -> HashMap<String, String> {
        (self.inner.program().source.libraries())
            .map(|(name, text)| (name.to_owned(), text.to_owned()))
            .collect()
    }

    /// The policy's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.program().name
    }

    /// Loads a facts document (JSON text). With `now`, it is checked as
    /// `policyc eval` checks its facts: every `required` fact given, and
    /// not older than the policy's `facts expire` at `now`.
    #[pyo3(signature = (json, now = None))]
    fn facts(&self, json: &str, now: Option<&Bound<'_, PyAny>>) -> PyResult<Facts> {
        let policy = &self.inner;
        let help = |e: &engine::DataError| policy.data_help(e, true);
        let inner = match now {
            None => policy.facts(json).map_err(|e| bad(&e, &help(&e)))?,
            Some(now) => {
                let now = self.instant(now)?;
                let file = (policy.facts_file("facts", json)).map_err(|e| bad(&e, &help(&e)))?;
                (policy.combine_facts(vec![file], now)).map_err(|e| bad(plain(&e), ""))?
            }
        };
        Ok(Facts {
            inner,
            policy: self.id,
        })
    }

    /// The decision for one person (a dict, or its JSON text) with `facts`
    /// at `now` (an instant's text, or a `datetime`), as the dict
    /// `policyc eval` writes as JSON.
    #[pyo3(signature = (record, facts, now, next_change = false))]
    fn decide<'py>(
        &self,
        record: &Bound<'py, PyAny>,
        facts: &Facts,
        now: &Bound<'py, PyAny>,
        next_change: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = record.py();
        let json = py.import("json")?;
        let text: String = if record.is_instance_of::<PyString>() {
            record.extract()?
        } else {
            json.call_method1("dumps", (record,))?.extract()?
        };
        let (policy, facts, now) = (&self.inner, self.own(facts)?, self.instant(now)?);
        let extras = Extras {
            next_change,
            ..Extras::default()
        };
        let decision = policy
            .decide_json_with(facts, &text, now, extras)
            .map_err(|e| bad(&e, &policy.data_help(&e, false)))?;
        let mut out = String::new();
        decision.write_json(&mut out, policy.json_plan());
        json.call_method1("loads", (out,))
    }

    /// The decisions for every row of an Arrow record batch of people, as
    /// a record batch of [`Policy::decision_schema`], one row per person
    /// in order; a row that is bad input has its reason in `error`. A
    /// column of the wrong type is a `ValueError` for the whole batch.
    #[pyo3(signature = (batch, facts, now, next_change = false))]
    fn decide_batch(
        &self,
        py: Python<'_>,
        batch: PyArrowType<RecordBatch>,
        facts: &Facts,
        now: &Bound<'_, PyAny>,
        next_change: bool,
    ) -> PyResult<PyArrowType<RecordBatch>> {
        let (policy, facts, now) = (&self.inner, self.own(facts)?, self.instant(now)?);
        let extras = Extras {
            next_change,
            ..Extras::default()
        };
        let batch = batch.0;
        // Deciding needs no Python: other threads run meanwhile.
        let decided = py.detach(|| {
            let rows = Rows::new(&batch, policy)?;
            let mut decisions = Decisions::new(policy, next_change)?;
            rows.decode_each(0..rows.len(), |_, person| {
                let decision = person
                    .and_then(|person| policy.decide_decoded_with(facts, person, now, extras));
                decisions.push(decision.as_ref());
            });
            decisions.finish()
        });
        decided.map(PyArrowType).map_err(|e| bad(plain(&e), ""))
    }

    /// The schema of [`Policy::decide_batch`]'s batches: `id`, `outcome`,
    /// each payload field, `rule`, `rules`, `warnings`, with `next_change`
    /// and `next_outcome` if asked for, and `error`.
    #[pyo3(signature = (next_change = false))]
    fn decision_schema(&self, next_change: bool) -> PyResult<PyArrowType<Schema>> {
        let decisions = Decisions::new(&self.inner, next_change).map_err(|e| bad(plain(&e), ""))?;
        Ok(PyArrowType(decisions.schema().as_ref().clone()))
    }
}

impl Policy {
    /// An instant given as text (read as data is) or as a `datetime`.
    fn instant(&self, now: &Bound<'_, PyAny>) -> PyResult<i64> {
        let text: String = if now.hasattr("isoformat")? {
            now.call_method0("isoformat")?.extract()?
        } else {
            now.extract()?
        };
        self.inner.instant(&text).map_err(|e| {
            bad(
                format!("`{text}` is not an instant ({})", e.reason()),
                &e.help(),
            )
        })
    }

    /// The facts, if they were loaded for this policy.
    fn own<'f>(&self, facts: &'f Facts) -> PyResult<&'f engine::Facts> {
        if facts.policy == self.id {
            Ok(&facts.inner)
        } else {
            Err(bad(
                "these facts were loaded for another policy",
                "load the facts with this policy's `facts`",
            ))
        }
    }
}

/// Decide people under declarative entry policies.
#[pymodule]
fn policyc(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Policy>()?;
    module.add_class::<Facts>()?;
    Ok(())
}
