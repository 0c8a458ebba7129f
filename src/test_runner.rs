//! Running a policy's own `test` blocks: each expectation is a decision
//! compared with what the author wrote.

use std::fmt::Write as _;

use crate::Policy;
use crate::check::Expected;
use crate::decision::Decision;
use crate::eval::{Budget, DEFAULT_BUDGET, Evaluator, Facts, FactsFile};
use crate::value::Value;

/// What became of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestReport {
    /// The test's name.
    pub name: String,
    /// One entry per expectation that did not hold: what was expected and
    /// what the decision was, on two lines.
    pub failures: Vec<String>,
    /// The rules that fired in any of its decisions.
    pub fired: Vec<String>,
    /// The rules that decided any of its decisions.
    pub decisive: Vec<String>,
}

impl TestReport {
    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test of `policy`, in source order.
pub fn run(policy: &Policy) -> Vec<TestReport> {
    let plan = policy.plan();
    let program = &plan.program;
    (program.tests.iter().zip(&plan.expected))
        .map(|(test, expected)| {
            let mut report = TestReport {
                name: test.name.clone(),
                failures: Vec::new(),
                fired: Vec::new(),
                decisive: Vec::new(),
            };
            // The test's facts are checked as `eval`'s are, at its `now`:
            // every `required` fact given, none older than `facts expire`.
            let file = FactsFile::of_test(plan, test.facts.as_ref(), &test.facts_given);
            let facts = match Facts::combine(plan, vec![file], Some(test.now)) {
                Ok(facts) => facts,
                Err(e) => {
                    report.failures.push(format!("bad facts: {e}"));
                    return report;
                }
            };
            // Data that breaks a constraint of its schema is bad input, as
            // it would be for `eval`: the test decides nothing.
            let bad = crate::eval::constraints::check(plan, &test.person, &program.input).err();
            if let Some(e) = bad {
                report.failures.push(format!("bad input: {}", e.message));
                return report;
            }
            for (expect, fields) in test.expects.iter().zip(expected) {
                let at = expect.at.unwrap_or(test.now);
                // The budget of `eval`'s default, as for any record.
                let budget = Budget::new(DEFAULT_BUDGET);
                let decision =
                    Evaluator::within(plan, &facts, &test.person, at, &budget).decide(Vec::new());
                if budget.exceeded() {
                    report.failures.push(format!(
                        "deciding it exceeds the evaluation budget of {DEFAULT_BUDGET} steps"
                    ));
                    continue;
                }
                for rule in &decision.rules {
                    if !report.fired.iter().any(|r| r == rule.name) {
                        report.fired.push(rule.name.to_owned());
                    }
                }
                if let Some(rule) = decision.deciding_rule()
                    && !report.decisive.iter().any(|r| r == rule)
                {
                    report.decisive.push(rule.to_owned());
                }
                let held = match &expect.what {
                    Expected::Outcome { index, payload } => {
                        let outcome = program.outcomes.get(*index).map_or("", String::as_str);
                        let evaluator = Evaluator::new(plan, &facts, &test.person, at);
                        decision.outcome == outcome
                            && payload.iter().zip(fields).all(|((field, _), &value)| {
                                let expected = evaluator.eval(value);
                                decision.payload.iter().any(|(name, actual, _)| {
                                    *name == field.as_str() && *actual == expected
                                })
                            })
                    }
                    Expected::Rules(names) => {
                        let mut want: Vec<&str> = names.iter().map(String::as_str).collect();
                        let mut got: Vec<&str> = decision.rules.iter().map(|r| r.name).collect();
                        want.sort_unstable();
                        got.sort_unstable();
                        want == got
                    }
                };
                if !held {
                    let source = program.source.slice(expect.span);
                    let wanted: Vec<&str> = source.split_whitespace().skip(1).collect();
                    report.failures.push(format!(
                        "expected: {}\n       got: {}",
                        wanted.join(" "),
                        summary(&decision)
                    ));
                }
            }
            report
        })
        .collect()
}

/// A decision in one line, as an expectation would write it.
fn summary(d: &Decision<'_>) -> String {
    let mut out = d.outcome.to_owned();
    if !d.payload.is_empty() {
        out.push('(');
        for (i, (name, value, ty)) in d.payload.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let text = crate::decision::plain(value, ty, &d.policy.timezone);
            let _ = match value {
                Value::Text(_) | Value::Enum(_) | Value::Time(_) | Value::Region(_) => {
                    write!(out, "{name}: {text:?}")
                }
                _ => write!(out, "{name}: {text}"),
            };
        }
        out.push(')');
    }
    // A rule's code, when it has one, beside its name: what the
    // authority's list calls it.
    let fired: Vec<String> = (d.rules.iter())
        .map(|r| match r.code {
            Some(code) => format!("{} [{code}]", r.name),
            None => r.name.to_owned(),
        })
        .collect();
    let _ = write!(
        out,
        ", rules {}",
        if fired.is_empty() {
            "none".to_owned()
        } else {
            fired.join(", ")
        }
    );
    out
}
