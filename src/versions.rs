//! A policy over time: the dated versions of one policy, and the one in
//! force at an instant.
//!
//! A version is in force from its `effective from T` (or, when it does not
//! say, from the start of the day its file's name begins with, like
//! `2021-10-30.policy`) until its `until` if it has one. [`Versions::new`]
//! refuses versions that overlap or take effect at the same instant;
//! [`Versions::in_force`] gives the version in force at `now`, which
//! `policyc eval DIR` decides by and `policyc diff` compares.

use miette::Diagnostic;
use thiserror::Error;

use crate::data::Decoded;
use crate::decision::{Decision, NextChange};
use crate::time;
use crate::{DataError, Extras, Facts, Policy};

/// One version of a policy, and when it is in force.
#[derive(Debug, Clone)]
pub struct Version {
    /// The file it was read from, as errors name it.
    pub file: String,
    /// The compiled policy.
    pub policy: Policy,
    /// The first instant it is in force, in microseconds.
    pub from: i64,
    /// The first instant it no longer is, if known.
    pub until: Option<i64>,
}

/// The versions of one policy, by the instant they take effect.
#[derive(Debug, Clone)]
pub struct Versions {
    versions: Vec<Version>,
}

/// Why a set of versions is not one policy over time.
#[derive(Debug, Error, Diagnostic)]
pub enum VersionsError {
    /// A version that does not say when it takes effect.
    #[error("`{file}` does not say when it takes effect")]
    #[diagnostic(
        code(policy::versions::undated),
        help(
            "write `effective from 2021-10-30T00:00` in it, or name the file by the day it takes effect, like `2021-10-30.policy`"
        )
    )]
    Undated {
        /// The file.
        file: String,
    },
    /// Two versions that take effect at the same instant.
    #[error("`{first}` and `{second}` both take effect at {at}")]
    #[diagnostic(
        code(policy::versions::ambiguous),
        help("keep one of them, or make one take effect later")
    )]
    Ambiguous {
        /// The one read first.
        first: String,
        /// The other.
        second: String,
        /// The instant, in the first one's zone.
        at: String,
    },
    /// A version still in force when the next takes effect.
    #[error("`{first}` is still in force at {at}, when `{second}` takes effect")]
    #[diagnostic(
        code(policy::versions::overlap),
        help(
            "end `{first}` with `until {at}` (or earlier), so that one version is in force at a time"
        )
    )]
    Overlap {
        /// The earlier version.
        first: String,
        /// The later one.
        second: String,
        /// When the later takes effect, in its zone.
        at: String,
    },
    /// Versions of different policies.
    #[error("`{first}` is policy `{first_name}` but `{second}` is policy `{second_name}`")]
    #[diagnostic(
        code(policy::versions::different),
        help("a folder of versions holds versions of one policy; keep the others apart")
    )]
    Different {
        /// A file.
        first: String,
        /// Its policy's name.
        first_name: String,
        /// Another file.
        second: String,
        /// Its policy's name.
        second_name: String,
    },
}

impl Version {
    /// A version read from `file`: in force from its `effective from`, or
    /// from the start of the day its file's name begins with.
    pub fn new(file: &str, policy: Policy) -> Result<Version, VersionsError> {
        if let Some(e) = policy.program().effective {
            return Ok(Version {
                file: file.to_owned(),
                policy,
                from: e.from,
                until: e.until,
            });
        }
        let name = std::path::Path::new(file)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(file);
        let day = name
            .get(..10)
            .filter(|d| d.parse::<jiff::civil::Date>().is_ok());
        match day.and_then(|d| policy.instant(d).ok()) {
            Some(from) => Ok(Version {
                file: file.to_owned(),
                policy,
                from,
                until: None,
            }),
            None => Err(VersionsError::Undated { file: file.into() }),
        }
    }

    /// Whether it is in force at `now`.
    pub fn in_force_at(&self, now: i64) -> bool {
        self.from <= now && self.until.is_none_or(|u| now < u)
    }

    /// An instant as this version writes it.
    fn format(&self, at: i64) -> String {
        time::format_instant(at, &self.policy.program().timezone)
    }
}

impl Versions {
    /// The versions, checked: all of one policy, none taking effect at
    /// the same instant as another, and each ended (`until`) by the time
    /// the next takes effect.
    pub fn new(mut versions: Vec<Version>) -> Result<Versions, VersionsError> {
        if let Some((a, b)) = versions.first().and_then(|a| {
            let other = versions
                .iter()
                .find(|b| b.policy.program().name != a.policy.program().name)?;
            Some((a, other))
        }) {
            return Err(VersionsError::Different {
                first: a.file.clone(),
                first_name: a.policy.program().name.clone(),
                second: b.file.clone(),
                second_name: b.policy.program().name.clone(),
            });
        }
        versions.sort_by(|a, b| (a.from, &a.file).cmp(&(b.from, &b.file)));
        for pair in versions.windows(2) {
            let [a, b] = pair else { continue };
            if a.from == b.from {
                return Err(VersionsError::Ambiguous {
                    first: a.file.clone(),
                    second: b.file.clone(),
                    at: a.format(a.from),
                });
            }
            if a.until.is_some_and(|u| u > b.from) {
                return Err(VersionsError::Overlap {
                    first: a.file.clone(),
                    second: b.file.clone(),
                    at: b.format(b.from),
                });
            }
        }
        Ok(Versions { versions })
    }

    /// The same versions, each policy changed by `f` (made strict, given a
    /// budget).
    pub fn map(self, f: impl Fn(Policy) -> Policy) -> Versions {
        let versions = (self.versions.into_iter())
            .map(|v| Version {
                policy: f(v.policy),
                ..v
            })
            .collect();
        Versions { versions }
    }

    /// The versions, by the instant they take effect.
    pub fn all(&self) -> &[Version] {
        &self.versions
    }

    /// The version in force at `now`: the latest to take effect not after
    /// `now`, unless it has ended by then.
    pub fn in_force(&self, now: i64) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.from <= now)
            .filter(|v| v.in_force_at(now))
    }

    /// The first version to take effect after `now`, if any: a change of
    /// rules that is due.
    pub fn next_after(&self, now: i64) -> Option<&Version> {
        self.versions.iter().find(|v| v.from > now)
    }

    /// Decides one person (a JSON object) at `now` by the version in force,
    /// with the `extras` asked for; `facts` holds each version's facts, in
    /// the order of [`Versions::all`]. Its `next_change` also looks past
    /// the version: when a later version takes effect before the decision
    /// would change under this one, and decides otherwise, the change is
    /// at the instant it takes effect, and the decision after it is that
    /// version's. `None`: no version is in force at `now`.
    pub fn decide_json_with<'p>(
        &'p self,
        facts: &'p [Facts],
        json: &str,
        now: i64,
        extras: Extras,
    ) -> Option<Result<Decision<'p>, DataError>> {
        let version = self.in_force(now)?;
        Some(
            (version.policy.read_json(json)).and_then(|person| {
                self.decide_decoded_with(facts, person, Some(json), now, extras)
            }),
        )
    }

    /// [`Versions::decide_json_with`] for a person already decoded by the
    /// version in force at `now` (an error if none is: check
    /// [`Versions::in_force`] first). The record is decoded once: a later
    /// version that reads records as this one does
    /// ([`Policy::reads_like`]) is given a copy, another decodes `text`
    /// (and without it, its change is not looked for).
    pub fn decide_decoded_with<'p>(
        &'p self,
        facts: &'p [Facts],
        person: Decoded,
        text: Option<&str>,
        now: i64,
        extras: Extras,
    ) -> Result<Decision<'p>, DataError> {
        let found = (self.versions.iter().rposition(|v| v.from <= now))
            .filter(|i| self.versions.get(*i).is_some_and(|v| v.in_force_at(now)));
        let facts_of = |k: usize| facts.get(k).or(facts.last());
        let (Some(i), Some(first_facts)) = (found, found.and_then(facts_of)) else {
            return Err(DataError {
                message: "no version of the policy is in force at this instant".into(),
                line: None,
                column: None,
            });
        };
        let version = &self.versions[i];
        let follow = extras.next_change || extras.timeline;
        let later = self.versions.get(i + 1).filter(|_| follow);
        let copy = later.map(|_| person.clone());
        let mut decision = version
            .policy
            .decide_decoded_with(first_facts, person, now, extras)?;
        if !follow {
            return Ok(decision);
        }
        // The person as version `k` reads it, if it can be read.
        let read = |k: usize| -> Option<Result<Decoded, DataError>> {
            let next = self.versions.get(k)?;
            match (&copy, text) {
                (Some(copy), _) if next.policy.reads_like(&version.policy) => {
                    Some(Ok(copy.clone()))
                }
                (_, Some(text)) => Some(next.policy.read_json(text)),
                _ => None,
            }
        };
        // Version `k` decides the person at the instant it takes effect.
        let decide_from = |k: usize, asked: Extras| -> Option<Decision<'p>> {
            let (next, f) = (self.versions.get(k)?, facts_of(k)?);
            let person = read(k)?.ok()?;
            next.policy
                .decide_decoded_with(f, person, next.from, asked)
                .ok()
        };
        if extras.timeline {
            let timeline = self.timeline_from(i, &mut decision, decide_from);
            decision.timeline = Some(timeline.steps);
            decision.timeline_cut = timeline.cut;
            decision.timeline_ends = timeline.ends;
            if extras.next_change {
                decision.next_change = timeline.change;
            }
            return Ok(decision);
        }
        let brief = Extras {
            next_change: true,
            ..Extras::default()
        };
        // Follow the decision through the versions from the one in force
        // until it changes: by the rules of the version deciding it, by a
        // later version taking effect, or by the policy ending (an `until`
        // with no version in force after it).
        let mut k = i;
        let mut before: Option<Decision<'p>> = None;
        let mut change = decision.next_change.clone();
        while let Some((stops, follows)) = self.stops(k) {
            let own = match &change {
                NextChange::At { at, .. } | NextChange::Ends { at } => Some(*at),
                NextChange::Never | NextChange::NotAsked => None,
            };
            if own.is_some_and(|at| at < stops) {
                break;
            }
            let Some(next) = follows else {
                change = NextChange::Ends { at: stops };
                break;
            };
            let Some(then) = decide_from(k + 1, brief) else {
                break;
            };
            if !same_verdict(before.as_ref().unwrap_or(&decision), &then) {
                change = NextChange::At {
                    at: next.from,
                    then: Box::new(then),
                };
                break;
            }
            change = then.next_change.clone();
            before = Some(then);
            k += 1;
        }
        decision.next_change = change;
        Ok(decision)
    }

    /// When version `k` stops deciding, and the version that follows it
    /// then, if one does (none: the policy ends, by an `until` with no
    /// version in force after it). `None`: it never stops.
    fn stops(&self, k: usize) -> Option<(i64, Option<&Version>)> {
        let current = self.versions.get(k)?;
        match (current.until, self.versions.get(k + 1)) {
            (Some(u), Some(n)) if u < n.from => Some((u, None)),
            (Some(u), None) => Some((u, None)),
            (_, Some(n)) => Some((n.from, Some(n))),
            (None, None) => None,
        }
    }

    /// The timeline of `decision`, made by version `i` (its own
    /// `timeline`, taken from it), followed through the versions after:
    /// each version's changes before it stops, then, where the next one
    /// takes effect and decides otherwise, that decision at that instant.
    /// With its first change (`next_change`), where it was cut (the first
    /// change left out past [`crate::TIMELINE_LIMIT`]) and the instant
    /// the policy ends, if it does. `decide_from(k, extras)` is the
    /// decision of version `k` at the instant it takes effect (`None`:
    /// the person cannot be read or decided by it, and the timeline stops
    /// there, as `next_change` does).
    fn timeline_from<'p>(
        &'p self,
        i: usize,
        decision: &mut Decision<'p>,
        decide_from: impl Fn(usize, Extras) -> Option<Decision<'p>>,
    ) -> Timeline<'p> {
        let limit = crate::TIMELINE_LIMIT + 1;
        let mut out: Vec<(i64, Decision<'p>)> = Vec::new();
        let mut segment = decision.timeline.take().unwrap_or_default();
        let mut cut = decision.timeline_cut.take();
        let mut ends = None;
        let mut k = i;
        let asked = Extras {
            timeline: true,
            ..Extras::default()
        };
        loop {
            let Some((stops, follows)) = self.stops(k) else {
                out.extend(segment);
                break;
            };
            // A version's own changes count until it stops; a timeline
            // cut before then is cut here.
            segment.retain(|(at, _)| *at < stops);
            out.extend(segment);
            if cut.is_some_and(|c| c < stops) || out.len() > limit {
                break;
            }
            cut = None;
            let Some(next) = follows else {
                ends = Some(stops);
                break;
            };
            let Some(mut then) = decide_from(k + 1, asked) else {
                break;
            };
            let mut steps = then.timeline.take().unwrap_or_default().into_iter();
            cut = then.timeline_cut;
            if let Some((_, first)) = steps.next() {
                let differs = out
                    .last()
                    .is_none_or(|(_, last)| !same_verdict(last, &first));
                if differs {
                    out.push((next.from, first));
                }
            }
            segment = steps.collect();
            k += 1;
        }
        if out.len() > limit {
            cut = out.get(limit).map(|(at, _)| *at);
            out.truncate(limit);
            ends = None;
        }
        let change = match (out.get(1), ends) {
            (Some((at, then)), _) => NextChange::At {
                at: *at,
                then: Box::new(then.clone()),
            },
            (None, Some(at)) if cut.is_none() => NextChange::Ends { at },
            _ => NextChange::Never,
        };
        Timeline {
            change,
            steps: out,
            cut,
            ends: ends.filter(|_| cut.is_none()),
        }
    }
}

/// A timeline followed through the versions ([`Versions::timeline_from`]).
struct Timeline<'p> {
    /// Its first change.
    change: NextChange<'p>,
    /// The decisions, each with the instant from which it holds.
    steps: Vec<(i64, Decision<'p>)>,
    /// The first change left out, if it was cut.
    cut: Option<i64>,
    /// When the policy ends with no version in force after it, if it does.
    ends: Option<i64>,
}

/// Whether two decisions say the same: the outcome, the payload and the
/// deciding rule.
fn same_verdict(a: &Decision<'_>, b: &Decision<'_>) -> bool {
    a.outcome == b.outcome
        && a.deciding_rule() == b.deciding_rule()
        && a.payload.len() == b.payload.len()
        && a.payload
            .iter()
            .zip(&b.payload)
            .all(|((n, v, _), (m, w, _))| n == m && v == w)
}

/// What is wrong with the versions among checked `policies` (by file):
/// the files of one folder that are one policy (the same `policy NAME`),
/// when one of them is dated (`effective from`, or a name like
/// `2021-10-30.policy`), must be versions that do not overlap.
pub fn errors(policies: impl IntoIterator<Item = (String, Policy)>) -> Vec<VersionsError> {
    let mut sets: std::collections::BTreeMap<(String, String), Vec<(String, Policy)>> =
        std::collections::BTreeMap::new();
    for (file, policy) in policies {
        let folder = std::path::Path::new(&file)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let name = policy.program().name.clone();
        sets.entry((folder, name)).or_default().push((file, policy));
    }
    let mut errors = Vec::new();
    for members in sets.into_values().filter(|m| m.len() > 1) {
        let versions: Vec<_> = (members.into_iter())
            .map(|(file, policy)| Version::new(&file, policy))
            .collect();
        if versions.iter().all(Result::is_err) {
            continue;
        }
        match versions.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(versions) => errors.extend(Versions::new(versions).err()),
            Err(e) => errors.push(e),
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(extra: &str) -> Policy {
        let text = format!(
            "policy p\ntimezone \"Europe/Paris\"\n{extra}\noutcomes ok\ninput person {{ id: text? }}\notherwise ok\n"
        );
        Policy::compile("p.policy", &text).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn version(file: &str, extra: &str) -> Result<Version, VersionsError> {
        Version::new(file, policy(extra))
    }

    fn at(p: &Policy, text: &str) -> i64 {
        p.instant(text).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn a_version_is_dated_by_effective_or_by_its_file_name() {
        let p = policy("");
        let v = version("dir/2021-10-30.policy", "").map(|v| (v.from, v.until));
        assert_eq!(v.ok(), Some((at(&p, "2021-10-30T00:00"), None)));
        let v = version(
            "dir/any.policy",
            "effective from 2021-10-30T12:00 until 2021-11-01",
        )
        .map(|v| (v.from, v.until));
        assert_eq!(
            v.ok(),
            Some((at(&p, "2021-10-30T12:00"), Some(at(&p, "2021-11-01"))))
        );
        let e = version("dir/current.policy", "").map(|_| ());
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("`dir/current.policy` does not say when it takes effect".into())
        );
    }

    #[test]
    fn the_version_in_force_is_the_latest_begun_and_not_ended() {
        let p = policy("");
        let vs = [
            version("a.policy", "effective from 2021-10-01 until 2021-10-20"),
            version("b.policy", "effective from 2021-11-01"),
        ]
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .and_then(Versions::new)
        .unwrap_or_else(|e| unreachable!("{e}"));
        let file = |now: &str| vs.in_force(at(&p, now)).map(|v| v.file.as_str());
        assert_eq!(file("2021-09-30T23:59"), None);
        assert_eq!(file("2021-10-01T00:00"), Some("a.policy"));
        assert_eq!(file("2021-10-19T23:59"), Some("a.policy"));
        // Between the end of one and the start of the next: none.
        assert_eq!(file("2021-10-20T00:00"), None);
        assert_eq!(file("2021-11-01T00:00"), Some("b.policy"));
        let next = vs.next_after(at(&p, "2021-10-05")).map(|v| v.file.as_str());
        assert_eq!(next, Some("b.policy"));
        assert!(vs.next_after(at(&p, "2021-11-01")).is_none());
    }

    /// A person admitted while a test is under `hours` old, by a version
    /// in force from `from` (`until`, if given).
    fn window(file: &str, hours: u32, from: &str) -> Version {
        let text = format!(
            "policy p\ntimezone \"Europe/Paris\"\neffective from {from}\noutcomes ok < refused\n\
             input person {{ tested: time }}\nrule old when person.tested < now - {hours}h then refused\n\
             otherwise ok\n"
        );
        let policy = Policy::compile(file, &text).unwrap_or_else(|e| unreachable!("{e}"));
        Version::new(file, policy).unwrap_or_else(|e| unreachable!("{e}"))
    }

    /// The versions, with each one's (empty) facts.
    fn over_time(versions: Vec<Version>) -> (Versions, Vec<Facts>) {
        let vs = Versions::new(versions).unwrap_or_else(|e| unreachable!("{e}"));
        let facts = (vs.all().iter())
            .map(|v| v.policy.facts("{}").unwrap_or_else(|e| unreachable!("{e}")))
            .collect();
        (vs, facts)
    }

    #[test]
    fn next_change_looks_past_the_version_in_force() {
        let (vs, facts) = over_time(vec![
            window("a.policy", 72, "2021-11-01"),
            window("b.policy", 48, "2021-11-05"),
            window("c.policy", 24, "2021-11-06"),
        ]);
        let p = &vs.all()[0].policy;
        let extras = Extras {
            next_change: true,
            ..Extras::default()
        };
        let change = |tested: &str, now: &str| {
            let json = format!(r#"{{"tested": "{tested}"}}"#);
            let d = vs.decide_json_with(&facts, &json, at(p, now), extras);
            match d.map(|d| d.map(|d| d.next_change)) {
                Some(Ok(NextChange::At { at, then })) => Some((
                    time::format_instant(at, &p.program().timezone),
                    then.outcome,
                )),
                _ => None,
            }
        };
        // Under the first version until 4 November 10:00; the rules change first.
        assert_eq!(
            change("2021-11-03T12:00", "2021-11-04"),
            Some(("2021-11-05T12:00:00+01:00".into(), "refused"))
        );
        // Admitted under b at its start too, but c's 24 hours refuse it at once.
        assert_eq!(
            change("2021-11-04T12:00", "2021-11-04T13:00"),
            Some(("2021-11-06T00:00:00+01:00".into(), "refused"))
        );
        // A change before the next version stays the version's own.
        assert_eq!(
            change("2021-11-01T12:00", "2021-11-02"),
            Some(("2021-11-04T12:00:00+01:00".into(), "refused"))
        );
        // Before the first version: no decision.
        let json = r#"{"tested": "2021-10-01T00:00"}"#;
        assert!(
            vs.decide_json_with(&facts, json, at(p, "2021-10-01"), extras)
                .is_none()
        );
    }

    #[test]
    fn the_timeline_follows_the_versions() {
        // Refused after 24 hours until 5 November, after 72 from then.
        let (vs, facts) = over_time(vec![
            window("a.policy", 24, "2021-11-01"),
            window("b.policy", 72, "2021-11-05"),
        ]);
        let p = &vs.all()[0].policy;
        let extras = Extras {
            timeline: true,
            next_change: true,
            ..Extras::default()
        };
        let timeline = |tested: &str, now: &str| {
            let json = format!(r#"{{"tested": "{tested}"}}"#);
            let d = vs.decide_json_with(&facts, &json, at(p, now), extras);
            let Some(Ok(d)) = d else { unreachable!() };
            let steps: Vec<(String, &str)> = (d.timeline.iter().flatten())
                .map(|(at, d)| (time::format_instant(*at, &p.program().timezone), d.outcome))
                .collect();
            let first = match &d.next_change {
                NextChange::At { at, .. } => Some(*at),
                _ => None,
            };
            assert_eq!(
                first,
                d.timeline.as_ref().and_then(|t| t.get(1)).map(|s| s.0)
            );
            assert_eq!(d.timeline_ends, None);
            steps
        };
        let step = |at: &str, outcome| (at.to_owned(), outcome);
        // Refused by the first version, admitted again by the second.
        assert_eq!(
            timeline("2021-11-03T12:00", "2021-11-04"),
            [
                step("2021-11-04T00:00:00+01:00", "ok"),
                step("2021-11-04T12:00:00+01:00", "refused"),
                step("2021-11-05T00:00:00+01:00", "ok"),
                step("2021-11-06T12:00:00+01:00", "refused"),
            ]
        );
        // The first version's own change falls where the second takes
        // effect and admits: no change there.
        assert_eq!(
            timeline("2021-11-04T00:00", "2021-11-04T12:00"),
            [
                step("2021-11-04T12:00:00+01:00", "ok"),
                step("2021-11-07T00:00:00+01:00", "refused"),
            ]
        );
    }

    /// At the calendar boundaries: a version named by the day it takes
    /// effect, 29 February, starts at that day's midnight; one that takes
    /// effect when the clocks go forward in Paris (03:00 summer time, one
    /// hour after 01:00 winter time) changes the decision at that instant,
    /// in `next_change` and in the timeline.
    #[test]
    fn versions_take_effect_at_the_calendar_boundaries() {
        let leap = window("2024-02-29.policy", 72, "2024-02-29");
        let named = Version::new("2024-02-29.policy", policy("")).map(|v| v.from);
        let p = &leap.policy;
        assert_eq!(named.ok(), Some(at(p, "2024-02-29T00:00")));
        let (vs, facts) = over_time(vec![leap, window("b.policy", 24, "2024-03-31T03:00")]);
        let p = &vs.all()[0].policy;
        let extras = Extras {
            timeline: true,
            next_change: true,
            ..Extras::default()
        };
        let json = r#"{"tested": "2024-03-30T00:00"}"#;
        let d = vs.decide_json_with(&facts, json, at(p, "2024-03-30T13:00"), extras);
        let Some(Ok(d)) = d else { unreachable!() };
        let show = |t: i64| time::format_instant(t, &p.program().timezone);
        let NextChange::At { at: change, then } = &d.next_change else {
            unreachable!("{:?}", d.next_change)
        };
        // 03:00 summer time is 01:00 UTC: one hour after 01:00 winter time.
        assert_eq!(show(*change), "2024-03-31T03:00:00+02:00");
        assert_eq!(*change - at(p, "2024-03-31T01:00"), 3_600_000_000);
        assert_eq!(then.outcome, "refused");
        let steps: Vec<(String, &str)> = (d.timeline.iter().flatten())
            .map(|(t, d)| (show(*t), d.outcome))
            .collect();
        assert_eq!(
            steps,
            [
                ("2024-03-30T13:00:00+01:00".to_owned(), "ok"),
                ("2024-03-31T03:00:00+02:00".to_owned(), "refused"),
            ]
        );
    }

    #[test]
    fn a_policy_that_ends_gives_its_end_as_the_next_change() {
        let ending = |text: &str| {
            let policy = Policy::compile("a.policy", text).unwrap_or_else(|e| unreachable!("{e}"));
            Version::new("a.policy", policy).unwrap_or_else(|e| unreachable!("{e}"))
        };
        let text = "policy p\ntimezone \"Europe/Paris\"\neffective from 2021-11-01 until 2021-11-10\n\
             outcomes ok < refused\ninput person { tested: time }\n\
             rule old when person.tested < now - 72h then refused\notherwise ok\n";
        let alone = Versions::new(vec![ending(text)]).unwrap_or_else(|e| unreachable!("{e}"));
        let gap = Versions::new(vec![ending(text), window("b.policy", 48, "2021-11-12")])
            .unwrap_or_else(|e| unreachable!("{e}"));
        let p = &alone.all()[0].policy;
        let extras = Extras {
            next_change: true,
            ..Extras::default()
        };
        let change = |vs: &Versions, tested: &str, now: &str| {
            let facts: Vec<Facts> = (vs.all().iter())
                .map(|v| v.policy.facts("{}").unwrap_or_else(|e| unreachable!("{e}")))
                .collect();
            let json = format!(r#"{{"tested": "{tested}"}}"#);
            let d = vs.decide_json_with(&facts, &json, at(p, now), extras);
            match d.map(|d| d.map(|d| d.next_change)) {
                Some(Ok(NextChange::At { at, then })) => Some((
                    time::format_instant(at, &p.program().timezone),
                    Some(then.outcome.to_owned()),
                )),
                Some(Ok(NextChange::Ends { at })) => {
                    Some((time::format_instant(at, &p.program().timezone), None))
                }
                _ => None,
            }
        };
        let ends = Some(("2021-11-10T00:00:00+01:00".to_owned(), None));
        // Its own change would come after the end: the end comes first.
        assert_eq!(change(&alone, "2021-11-08T12:00", "2021-11-09"), ends);
        // Between two versions, no decision either.
        assert_eq!(change(&gap, "2021-11-08T12:00", "2021-11-09"), ends);
        // A change before the end stays.
        assert_eq!(
            change(&alone, "2021-11-05T12:00", "2021-11-06"),
            Some(("2021-11-08T12:00:00+01:00".into(), Some("refused".into())))
        );
    }

    #[test]
    fn overlapping_and_ambiguous_versions_are_refused() {
        let set = |a: &str, b: &str| {
            let vs = [version("a.policy", a), version("b.policy", b)];
            let vs: Vec<Version> = vs.into_iter().collect::<Result<_, _>>().unwrap_or_default();
            Versions::new(vs).map(|_| ()).map_err(|e| e.to_string())
        };
        assert_eq!(
            set(
                "effective from 2021-10-01 until 2021-11-02",
                "effective from 2021-11-01"
            ),
            Err("`a.policy` is still in force at 2021-11-01T00:00:00+01:00, when `b.policy` takes effect".into())
        );
        assert_eq!(
            set(
                "effective from 2021-10-01",
                "effective from 2021-10-01T00:00"
            ),
            Err("`a.policy` and `b.policy` both take effect at 2021-10-01T00:00:00+02:00".into())
        );
        // Without `until`, a version is in force until the next.
        assert_eq!(
            set("effective from 2021-10-01", "effective from 2021-11-01"),
            Ok(())
        );
        assert_eq!(
            set(
                "effective from 2021-10-01 until 2021-11-01",
                "effective from 2021-11-01"
            ),
            Ok(())
        );
    }
}
