//! `policyc`: a small, total, typed language for entry rules of the kind
//! public-health authorities publish, and its interpreter.
//!
//! The pipeline is text → AST ([`syntax`]) → checked program ([`check`]) →
//! plan ([`compile`]) → decision ([`eval`], [`decision`]). A policy is
//! compiled once; the facts of a run are loaded once; each person is then
//! decided from their JSON record and an instant `now` ([`stream`] does
//! it for JSON Lines, one answer per line in order, as `policyc eval` does):
//!
//! ```
//! let policy = policyc::Policy::compile("entry.policy", r#"
//!     policy entry
//!     timezone "Asia/Shanghai"
//!     outcomes green < popup
//!     input person { stays: list of { region: region, from: time, to: time? } }
//!     facts { case_counties: set of region }
//!     rule county_exposure "stayed in a case county in the last 14 days"
//!       when any person.stays has region in case_counties and [from, to or now] overlaps 14d
//!       then popup(kind: "postpone_travel")
//!     otherwise green
//! "#).map_err(|e| e.to_string())?;
//! let facts = policy.facts(r#"{"case_counties": ["152923"]}"#)?;
//! let now = policy.instant("2021-11-01T10:00:00+08:00")?;
//! let person = r#"{"stays": [{"region": "152923", "from": "2021-10-24T08:00:00+08:00",
//!                             "to": "2021-10-26T18:00:00+08:00"}]}"#;
//! let decision = policy.decide_json(&facts, person, now)?;
//! assert_eq!(decision.outcome, "popup");
//! assert_eq!(decision.rules[0].name, "county_exposure");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
pub mod columnar;
pub mod compile;
pub mod data;
pub mod decision;
pub mod diff;
pub mod eval;
pub mod explain;
pub mod format;
pub mod import;
pub mod region;
pub mod report;
pub mod serve;
pub mod source;
pub mod stream;
pub mod suggest;
pub mod syntax;
pub mod test_runner;
pub mod time;
pub mod types;
pub mod value;
pub mod versions;
pub mod witness;

use miette::Diagnostic;
use thiserror::Error;

pub use compile::Plan;
pub use data::DataError;
pub use decision::Decision;
pub use eval::{Facts, FactsError, FactsFile};
pub use report::{ErrorFormat, render};
pub use source::Source;

/// Data warnings as the decision's `warnings` give them.
fn strings(warnings: &[data::DataWarning]) -> Vec<String> {
    warnings.iter().map(ToString::to_string).collect()
}

/// How many changes `--timeline` lists; a longer timeline says where it
/// was cut (`timeline_cut`).
pub const TIMELINE_LIMIT: usize = 100;

/// What to work out beyond a decision itself; each costs further
/// evaluations of the person, so each is asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extras {
    /// `next_change`: when the decision changes with no new data.
    pub next_change: bool,
    /// `timeline`: every decision from now until it stops changing.
    pub timeline: bool,
    /// `remedies`: what the person can do that would change it now.
    pub remedies: bool,
    /// `witnesses`: each fired rule's records as data, beside `because`.
    pub witnesses: bool,
}

/// A compiled policy, ready to decide.
#[derive(Debug, Clone)]
pub struct Policy {
    plan: Plan,
    /// What every decision line has in common, as JSON escaped once.
    json: decision::JsonPlan,
    warnings: Vec<source::Located<check::lint::Lint>>,
    /// Whether every field a record gives that the schema does not declare
    /// is an error (`--strict`).
    strict: bool,
    /// The steps deciding one record may take (`--budget`).
    budget: u64,
    /// The constraints of the input schema, compiled once.
    checks: eval::constraints::Checks,
}

/// What the evaluation at `now` found for `next_change`: the verdict and
/// its horizon.
type Tracked = eval::what_if::Start;

/// Everything wrong with a policy's text: one syntax error, or every check
/// error.
#[derive(Debug, Error)]
#[error("`{name}` has {} error{}", errors.len(), if errors.len() == 1 { "" } else { "s" })]
pub struct PolicyErrors {
    /// The policy's source name.
    pub name: String,
    /// Each error, with the source it points into.
    pub errors: Vec<Box<dyn Diagnostic + Send + Sync>>,
    /// Every library file a `use` of the program named, read or not, by
    /// the name it resolved to: a service watches them, for a change to
    /// any may make the program compile.
    pub libraries: Vec<String>,
}

/// A file compiled with the libraries it uses: a policy to decide with,
/// or a library of shared definitions, checked on its own.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// `policy NAME`
    Policy(Box<Policy>),
    /// `library NAME`
    Library(Box<Library>),
}

/// A library (`library NAME`) checked on its own: its schemas, `let`s and
/// `remedy`s, with those of the libraries it uses.
#[derive(Debug, Clone)]
pub struct Library {
    program: check::Program,
    warnings: Vec<source::Located<check::lint::Lint>>,
    /// The word `library` of its header.
    header: syntax::Span,
    /// How many `let`s and `remedy`s it shares, its own and those of the
    /// libraries it uses.
    pub counts: (usize, usize),
}

impl Library {
    /// `library NAME`
    pub fn name(&self) -> &str {
        &self.program.name
    }

    /// Warnings about its text.
    pub fn warnings(&self) -> &[source::Located<check::lint::Lint>] {
        &self.warnings
    }
}

impl Compiled {
    /// Parses a policy or library with every library it uses, and checks
    /// and compiles them as one program. `name` is how errors refer to the
    /// file and, taken as a path, where the paths of its `use`s start from
    /// (each library's own `use`s start from its folder); every file is
    /// read once.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("policyc-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("common.policy"), r#"
    ///     library common
    ///     input person { tests: list of { sampled_at: time, result: "negative" | "positive" } }
    ///     let negative_tests = person.tests where result = "negative"
    /// "#)?;
    /// let entry = dir.join("entry.policy");
    /// let text = r#"
    ///     policy entry
    ///     use "common.policy"
    ///     outcomes green < popup
    ///     rule untested "no negative test in 48 hours"
    ///       when no negative_tests has sampled_at within 48h
    ///       then popup
    ///     otherwise green
    /// "#;
    /// let Ok(policyc::Compiled::Policy(policy)) =
    ///     policyc::Compiled::compile(&entry.display().to_string(), text)
    /// else {
    ///     panic!("it compiles");
    /// };
    /// assert_eq!(policy.program().lets[0].name, "negative_tests");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compile(name: &str, text: &str) -> Result<Compiled, PolicyErrors> {
        Compiled::compile_with(name, text, &std::collections::HashMap::new())
    }

    /// [`Compiled::compile`], with the texts of libraries given by the
    /// names their `use`s resolve to (as [`Source::libraries`] lists those
    /// of a compiled program): a library given is not read from the disk.
    /// So a program compiled where its files are is compiled again, the
    /// same, where they are not (on a Spark executor).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("policyc-doc-with-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// std::fs::write(dir.join("common.policy"), "library common\ninput person { a: bool }\n")?;
    /// let name = dir.join("p.policy").display().to_string();
    /// let text = "policy p\nuse \"common.policy\"\noutcomes green < red\nrule r when person.a then red\notherwise green\n";
    /// let Ok(policyc::Compiled::Policy(here)) = policyc::Compiled::compile(&name, text) else {
    ///     panic!("it compiles");
    /// };
    /// let libraries = here.program().source.libraries()
    ///     .map(|(name, text)| (name.to_owned(), text.to_owned()))
    ///     .collect();
    /// std::fs::remove_dir_all(&dir)?;
    /// // The library's file is gone; its text is given.
    /// let Ok(policyc::Compiled::Policy(there)) = policyc::Compiled::compile_with(&name, text, &libraries) else {
    ///     panic!("it compiles without the files");
    /// };
    /// assert_eq!(there.program().source.text(), here.program().source.text());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compile_with(
        name: &str,
        text: &str,
        libraries: &std::collections::HashMap<String, String>,
    ) -> Result<Compiled, PolicyErrors> {
        let fail = |errors, libraries| PolicyErrors {
            name: name.to_owned(),
            errors,
            libraries,
        };
        let mut loaded =
            import::load_with(name, text, libraries).map_err(|errors| fail(errors, Vec::new()))?;
        let named = std::mem::take(&mut loaded.named);
        let fail = |errors| fail(errors, named.clone());
        let source = &loaded.source;
        // The program is checked as far as it goes when a library or a
        // `use` is wrong, as a compiler checks every file: the errors of
        // the libraries first, then the program's. A name that a library
        // left out would define is not said to be unknown.
        let mut errors = std::mem::take(&mut loaded.errors);
        let left_out = |e: &check::CheckError| {
            loaded.incomplete
                && e.code().is_some_and(|c| {
                    let c = c.to_string();
                    c == "policy::check::unknown_name"
                        || c == "policy::check::unknown_field"
                        || c == "policy::check::unknown_message"
                })
        };
        let checked = check::check(&loaded.ast, source).map_err(|es| {
            es.into_iter()
                .filter(|e| !left_out(e))
                .map(|e| {
                    Box::new(source::Located::new(e, source)) as Box<dyn Diagnostic + Send + Sync>
                })
                .collect::<Vec<_>>()
        });
        let program = match checked {
            Ok(program) if errors.is_empty() => program,
            Ok(_) => return Err(fail(errors)),
            Err(more) => {
                errors.extend(more);
                return Err(fail(errors));
            }
        };
        let plan = compile::compile(program);
        let mut lints = check::lint::lints(&loaded.ast, &plan);
        // A library's `let`s are for the policies that use it: not every
        // policy uses each, and the library itself uses none.
        let library = loaded.is_library();
        lints.retain(|l| match l {
            check::lint::Lint::UnusedLet { span, .. } => !library && span.start < loaded.own_end,
            _ => true,
        });
        let locate = |lints: Vec<check::lint::Lint>| {
            lints
                .into_iter()
                .map(|l| source::Located::new(l, source))
                .collect()
        };
        if let Some(syntax::Item::Library(header)) = loaded.ast.items.first() {
            let program = plan.program;
            return Ok(Compiled::Library(Box::new(Library {
                counts: (program.lets.len(), program.remedies.len()),
                header: *header,
                warnings: locate(lints),
                program,
            })));
        }
        check::lint::merge(
            &mut lints,
            check::cost::lints(&check::cost::estimate(&plan)),
        );
        Ok(Compiled::Policy(Box::new(Policy {
            json: decision::JsonPlan::new(&plan.program),
            checks: eval::constraints::Checks::new(&plan, &plan.program.input),
            plan,
            warnings: locate(lints),
            strict: false,
            budget: eval::DEFAULT_BUDGET,
        })))
    }
}

impl Policy {
    /// Parses, checks and compiles a policy; `name` is how errors refer to it
    /// (usually its path), and where the libraries it uses (`use "..."`)
    /// are found from: see [`Compiled::compile`]. A library is an error
    /// here: it has no rules to decide with.
    pub fn compile(name: &str, text: &str) -> Result<Policy, PolicyErrors> {
        Policy::compile_with(name, text, &std::collections::HashMap::new())
    }

    /// [`Policy::compile`] with the libraries' texts given by name, as
    /// [`Compiled::compile_with`] takes them: where the policy's files are
    /// not (a Spark executor), the program compiles from the texts that
    /// [`Source::libraries`] gave where they were.
    pub fn compile_with(
        name: &str,
        text: &str,
        libraries: &std::collections::HashMap<String, String>,
    ) -> Result<Policy, PolicyErrors> {
        match Compiled::compile_with(name, text, libraries)? {
            Compiled::Policy(policy) => Ok(*policy),
            Compiled::Library(library) => Err(PolicyErrors {
                name: name.to_owned(),
                libraries: library
                    .program
                    .source
                    .more_files()
                    .map(str::to_owned)
                    .collect(),
                errors: vec![Box::new(source::Located::new(
                    import::ImportError::Library {
                        file: name.to_owned(),
                        base: std::path::Path::new(name)
                            .file_name()
                            .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned()),
                        span: library.header,
                    },
                    &library.program.source,
                ))],
            }),
        }
    }

    /// Reads the policy at `path` and compiles it with the libraries it
    /// uses, as `policyc eval PATH` does: [`Policy::compile`] with the
    /// file's text (without a byte-order mark) and its path as its name.
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/beijing-2021-10-30.policy");
    /// let policy = policyc::Policy::load(path)?;
    /// assert_eq!(policy.program().name, "beijing_entry");
    /// # Ok::<(), policyc::PolicyErrors>(())
    /// ```
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Policy, PolicyErrors> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = import::read_file(path).map_err(|e| PolicyErrors {
            name: name.clone(),
            errors: vec![Box::new(e)],
            libraries: Vec::new(),
        })?;
        Policy::compile(&name, &text)
    }

    /// The policy reading records strictly (`--strict`) or not: strictly,
    /// every field a record gives that the schema does not declare is bad
    /// input; otherwise it is skipped, with a warning on the decision when
    /// it is spelt nearly like a declared field that the record leaves out.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The policy deciding each record within `steps` steps of evaluation
    /// (elements visited by `where`, `has`, projections and membership
    /// scans), the decision and its extras together: a record that needs
    /// more is an error, not a stall. [`eval::DEFAULT_BUDGET`] unless set.
    pub fn budget(mut self, steps: u64) -> Self {
        self.budget = steps;
        self
    }

    /// A fresh budget for one record.
    fn fresh_budget(&self) -> eval::Budget {
        eval::Budget::new(self.budget)
    }

    /// `done`, unless `budget` ran out while it was made.
    fn within_budget<T>(&self, budget: &eval::Budget, done: T) -> Result<T, DataError> {
        if budget.exceeded() {
            return Err(DataError {
                message: format!(
                    "deciding this record exceeds the evaluation budget of {} steps; it is not decided (a larger `--budget` allows it)",
                    budget.limit()
                ),
                line: None,
                column: None,
            });
        }
        Ok(done)
    }

    /// How person records are read.
    fn reading(&self) -> data::Reading<'_> {
        let program = &self.plan.program;
        data::Reading {
            strict: self.strict,
            ..data::Reading::new(&program.timezone, program.resolve)
        }
    }

    /// Whether `other` reads a person record exactly as this policy does
    /// (the same input schema, zone, resolution of local times and
    /// strictness): a record one decoded is then the other's as well, and
    /// need not be decoded again.
    pub fn reads_like(&self, other: &Policy) -> bool {
        let (a, b) = (self.reading(), other.reading());
        a.strict == b.strict
            && a.resolve == b.resolve
            && a.timezone == b.timezone
            && self.plan.program.input == other.plan.program.input
    }

    /// Decodes one person record given as a JSON object against the
    /// policy's schema, without checking its constraints (the `decide_*`
    /// and `explain_*` functions do): for callers that decode on one thread
    /// and decide on another, or read records from elsewhere (Parquet:
    /// [`columnar`]).
    pub fn read_json(&self, json: &str) -> Result<data::Decoded, DataError> {
        data::decode(json, &self.plan.program.input, self.reading())
    }

    /// Decodes one person record and checks its constraints.
    #[cfg(test)]
    fn person(&self, json: &str) -> Result<data::Decoded, DataError> {
        self.checked(self.read_json(json)?)
    }

    /// A decoded person record whose constraints (`requiring ...`) hold.
    pub(crate) fn checked(&self, decoded: data::Decoded) -> Result<data::Decoded, DataError> {
        self.check_person(&decoded.value)?;
        Ok(decoded)
    }

    /// Checks a person's constraints (`requiring ...`): those of a record
    /// read against another policy's schema, when the two schemas are the
    /// same ([`Policy::reads_as`]).
    pub fn check_person(&self, person: &value::Value) -> Result<(), DataError> {
        self.checks.run(&self.plan, person)
    }

    /// Whether a person read by `other` is read the same way by this
    /// policy: the same fields of the same types, the same time zone and
    /// the same strictness (the constraints may differ).
    pub fn reads_as(&self, other: &Policy) -> bool {
        let (a, b) = (&self.plan.program, &other.plan.program);
        a.input.fields == b.input.fields
            && a.input.keys == b.input.keys
            && a.input.required == b.input.required
            && a.timezone == b.timezone
            && a.resolve == b.resolve
            && self.strict == other.strict
    }

    /// Warnings about the policy's text: it checks, but may not say what
    /// its author meant.
    pub fn warnings(&self) -> &[source::Located<check::lint::Lint>] {
        &self.warnings
    }

    /// The checked program.
    pub fn program(&self) -> &check::Program {
        &self.plan.program
    }

    /// The compiled plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// What every decision line of the policy has in common, as JSON
    /// escaped once: for [`Decision::write_json`].
    pub fn json_plan(&self) -> &decision::JsonPlan {
        &self.json
    }

    /// Loads a facts document (JSON) as the only one; what depends only on
    /// the facts is computed here, once.
    pub fn facts(&self, json: &str) -> Result<Facts, DataError> {
        Facts::parse(&self.plan, json)
    }

    /// What to write instead of the data `error` is about: a person record,
    /// or (`facts`) a facts file.
    pub fn data_help(&self, error: &DataError, facts: bool) -> String {
        let program = &self.plan.program;
        if facts {
            error.help_with(&eval::with_as_of(&program.facts).0)
        } else {
            error.help_with(&program.input)
        }
    }

    /// Reads one of several facts files (JSON); `name` is how errors
    /// refer to it. Join them with [`Policy::combine_facts`].
    pub fn facts_file(&self, name: &str, json: &str) -> Result<FactsFile, DataError> {
        FactsFile::read(&self.plan, name, json)
    }

    /// The facts of a run deciding at `now`, from all its files: none is
    /// an error when the policy declares facts, two files must not give a
    /// scalar fact different values, every `required` fact must be given,
    /// and the facts must not be older than the policy's `facts expire`.
    pub fn combine_facts(&self, files: Vec<FactsFile>, now: i64) -> Result<Facts, FactsError> {
        Facts::combine(&self.plan, files, Some(now))
    }

    /// Reads an instant as data is read: without an offset, in the
    /// policy's time zone.
    pub fn instant(&self, text: &str) -> Result<i64, time::TimeError> {
        let program = &self.plan.program;
        time::parse_instant(text, &program.timezone, program.resolve)
    }

    /// Decides one person given as a JSON object, and works out the
    /// `extras` asked for: when the decision changes, its whole timeline,
    /// the remedies that would change it.
    pub fn decide_json_with<'p>(
        &'p self,
        facts: &'p Facts,
        json: &str,
        now: i64,
        extras: Extras,
    ) -> Result<Decision<'p>, DataError> {
        self.decide_decoded_with(facts, self.read_json(json)?, now, extras)
    }

    /// [`Policy::decide_json_with`] for a record already decoded against
    /// the policy's schema ([`Policy::read_json`], [`columnar`]); its
    /// constraints are checked here.
    pub fn decide_decoded_with<'p>(
        &'p self,
        facts: &'p Facts,
        decoded: data::Decoded,
        now: i64,
        extras: Extras,
    ) -> Result<Decision<'p>, DataError> {
        if extras == Extras::default() {
            return self.decide_decoded(facts, decoded, now);
        }
        let decoded = self.checked(decoded)?;
        let person = &decoded.value;
        let budget = self.fresh_budget();
        let warnings = strings(&decoded.warnings);
        if extras.next_change && !extras.timeline {
            // One evaluation at `now` for the decision and its change.
            let (evaluator, start) = self.tracked(facts, person, now, &budget, extras.witnesses);
            let decision = evaluator.decide(warnings);
            let decision = self.with_extras(decision, facts, person, extras, &budget, start);
            return self.within_budget(&budget, decision);
        }
        let mut evaluator = eval::Evaluator::within(&self.plan, facts, person, now, &budget);
        if extras.witnesses {
            evaluator = evaluator.detailed();
        }
        let decision = evaluator.decide(warnings);
        let decision = self.with_extras(decision, facts, person, extras, &budget, None);
        self.within_budget(&budget, decision)
    }

    /// The evaluation at `now` that `next_change` starts from, and what
    /// it found; its witnesses `detailed` or not.
    fn tracked<'p, 'v>(
        &'p self,
        facts: &'p Facts,
        person: &'v value::Value,
        now: i64,
        budget: &eval::Budget,
        detailed: bool,
    ) -> (eval::Evaluator<'p, 'v>, Option<Tracked>) {
        let (evaluator, start) =
            eval::what_if::tracked(&self.plan, facts, person, now, budget, detailed);
        (evaluator, Some(start))
    }

    /// Adds the `extras` asked for to the decision for `person`; `start`
    /// is what the evaluation at `now` found for `next_change`, if it was
    /// [`Policy::tracked`].
    fn with_extras<'p>(
        &'p self,
        mut decision: Decision<'p>,
        facts: &'p Facts,
        person: &value::Value,
        extras: Extras,
        budget: &eval::Budget,
        start: Option<Tracked>,
    ) -> Decision<'p> {
        use decision::NextChange;
        use eval::what_if;
        let now = decision.now;
        let verdict = start.as_ref().map(|s| s.verdict);
        let first = if let (Some(start), false) = (start, extras.timeline) {
            what_if::next_change_from(&self.plan, facts, person, start, budget)
                .map(|c| (c.at, c.decision))
        } else if extras.timeline {
            let (steps, cut) =
                what_if::timeline(&self.plan, facts, person, now, TIMELINE_LIMIT, budget);
            let first = steps.get(1).map(|c| (c.at, c.decision.clone()));
            decision.timeline = Some(steps.into_iter().map(|c| (c.at, c.decision)).collect());
            decision.timeline_cut = cut;
            first
        } else if extras.next_change {
            what_if::next_change_within(&self.plan, facts, person, now, budget)
                .map(|c| (c.at, c.decision))
        } else {
            None
        };
        if extras.next_change {
            decision.next_change = match first {
                Some((at, then)) => NextChange::At {
                    at,
                    then: Box::new(then),
                },
                None => NextChange::Never,
            };
        }
        if extras.remedies {
            decision.remedies = Some(match verdict {
                Some(verdict) => {
                    what_if::remedies_from(&self.plan, facts, person, (now, verdict), budget)
                }
                None => what_if::remedies(&self.plan, facts, person, now, budget),
            });
        }
        decision.show_witnesses = extras.witnesses;
        decision
    }

    /// The words of `language` (or, with `None`, of the policy's own
    /// language) to explain decisions in.
    pub fn words(
        &self,
        language: Option<&str>,
    ) -> Result<explain::Words<'_>, explain::LanguageError> {
        explain::Words::new(&self.plan.program, language)
    }

    /// Explains the decision for one person given as a JSON object: every
    /// rule with whether it applies and why, when the decision changes and
    /// the remedies that would change it. Render it with
    /// [`explain::Explanation::render`]:
    ///
    /// ```
    /// let policy = policyc::Policy::compile("entry.policy", r#"
    ///     policy entry "进京规则"
    ///     timezone "Asia/Shanghai"
    ///     language "zh"
    ///     outcomes green < popup
    ///     input person { stays: list of { region: region, from: time, to: time? } }
    ///     facts { case_counties: set of region }
    ///     rule county_exposure "14天内有本土病例县旅居史"
    ///       when any person.stays has region in case_counties and [from, to or now] overlaps 14d
    ///       then popup(message: "请暂缓来京")
    ///     otherwise green
    ///     messages "en" {
    ///       policy "Entry rules"
    ///       rule county_exposure "Stayed in a county with a local case within 14 days"
    ///       text "请暂缓来京" "Please postpone your trip"
    ///       outcome green "green code"
    ///     }
    /// "#).map_err(|e| e.to_string())?;
    /// let facts = policy.facts(r#"{"case_counties": ["152923"]}"#)?;
    /// let now = policy.instant("2021-11-01T10:00:00+08:00")?;
    /// let person = r#"{"stays": [{"region": "152923", "from": "2021-10-24T08:00:00+08:00",
    ///                             "to": "2021-10-26T18:00:00+08:00"}]}"#;
    /// let explanation = policy.explain_json(&facts, person, now)?;
    /// let text = explanation.render(&policy.words(Some("en"))?);
    /// assert!(text.contains("内蒙古自治区阿拉善盟额济纳旗 (152923)"));
    /// assert!(text.contains("just after 9 November 2021, 18:00, the decision becomes green code"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain_json<'p>(
        &'p self,
        facts: &'p Facts,
        json: &str,
        now: i64,
    ) -> Result<explain::Explanation<'p>, DataError> {
        self.explain_decoded(facts, self.read_json(json)?, now)
    }

    /// [`Policy::explain_json`] for a record already decoded against the
    /// policy's schema ([`Policy::read_json`], [`columnar`]); its
    /// constraints are checked here.
    pub fn explain_decoded<'p>(
        &'p self,
        facts: &'p Facts,
        decoded: data::Decoded,
        now: i64,
    ) -> Result<explain::Explanation<'p>, DataError> {
        self.explain_record(facts, &self.checked(decoded)?, now)
    }

    /// [`Policy::explain_json`] for a person already read against the
    /// policy's schema and checked ([`Policy::check_person`]), from JSON
    /// or from another source.
    pub fn explain_record<'p>(
        &'p self,
        facts: &'p Facts,
        decoded: &data::Decoded,
        now: i64,
    ) -> Result<explain::Explanation<'p>, DataError> {
        let person = &decoded.value;
        let budget = self.fresh_budget();
        // One evaluation at `now` for the explanation and the change.
        let (evaluator, start) = self.tracked(facts, person, now, &budget, true);
        let rules = evaluator.rule_reports();
        let warnings = evaluator.warning_reports();
        // The decision carries the data's warnings as `eval` gives them;
        // the rules are not evaluated again for it.
        let decision = evaluator.decision_of(&rules, &warnings, strings(&decoded.warnings));
        let extras = Extras {
            next_change: true,
            remedies: true,
            ..Extras::default()
        };
        let explanation = explain::Explanation {
            decision: self.with_extras(decision, facts, person, extras, &budget, start),
            rules,
            warnings,
            data_warnings: decoded.warnings.clone(),
        };
        self.within_budget(&budget, explanation)
    }

    /// Decides one person given as a JSON object.
    pub fn decide_json<'p>(
        &'p self,
        facts: &'p Facts,
        json: &str,
        now: i64,
    ) -> Result<Decision<'p>, DataError> {
        self.decide_decoded(facts, self.read_json(json)?, now)
    }

    /// [`Policy::decide_json`] for a record already decoded against the
    /// policy's schema; its constraints are checked here.
    pub fn decide_decoded<'p>(
        &'p self,
        facts: &'p Facts,
        decoded: data::Decoded,
        now: i64,
    ) -> Result<Decision<'p>, DataError> {
        let decoded = self.checked(decoded)?;
        let warnings = strings(&decoded.warnings);
        let budget = self.fresh_budget();
        let decision = eval::Evaluator::within(&self.plan, facts, &decoded.value, now, &budget)
            .decide(warnings);
        self.within_budget(&budget, decision)
    }
}
