//! The policies the service decides by, as one immutable revision that a
//! reload replaces whole: a request takes the revision once and is decided
//! by it alone, and a policy file that fails to load, check, pass its own
//! tests or read its facts keeps its previous revision serving.
//!
//! Each policy is known by the name of its `policy` declaration. Several
//! files of one name are the dated versions of one policy (issue 10),
//! checked together as `policyc check` checks them: a request is decided
//! by the version in force at its `now`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::Diagnostic;
use sha2::{Digest as _, Sha256};
use thiserror::Error;

use crate::report::{ErrorFormat, Place, render_at};
use crate::{DataError, Facts, FactsFile, Policy};

/// One facts file as given: to every policy that declares facts, or
/// (`NAME=FILE`) to the policy named `NAME` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsSpec {
    /// The policy it is for, if only one.
    pub policy: Option<String>,
    /// Where it is.
    pub path: PathBuf,
}

impl FactsSpec {
    /// Reads `FILE` or `NAME=FILE`.
    pub fn parse(text: &str) -> FactsSpec {
        match text.split_once('=') {
            Some((name, path))
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                FactsSpec {
                    policy: Some(name.to_owned()),
                    path: PathBuf::from(path),
                }
            }
            _ => FactsSpec {
                policy: None,
                path: PathBuf::from(text),
            },
        }
    }
}

/// A policy loaded with its facts: one revision of it.
#[derive(Debug)]
pub struct Loaded {
    /// The compiled policy.
    pub policy: Policy,
    /// Its facts, combined.
    pub facts: Facts,
    /// The facts files, to tell exactly why they are too old at a `now`.
    facts_files: Vec<FactsFile>,
    /// The file it was read from.
    pub file: String,
    /// `sha256:` and the first 16 hex digits of the digest of its text.
    pub revision: String,
    /// The same, of its facts files' names and texts.
    pub facts_revision: String,
    /// When it began to serve (the service's clock, microseconds).
    pub since: i64,
}

impl Loaded {
    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.policy.program().name
    }

    /// Whether its facts are too old at `now` by the policy's `facts
    /// expire`: the error `eval` gives then.
    pub fn stale_at(&self, now: i64) -> Option<crate::FactsError> {
        let program = self.policy.program();
        let (limit, as_of) = (program.facts_expire?, self.facts.as_of?);
        if now.saturating_sub(as_of) <= limit {
            return None;
        }
        self.policy
            .combine_facts(self.facts_files.clone(), now)
            .err()
    }
}

/// The versions of one policy, in force one after another: each with the
/// first instant it is in force and the first it no longer is. A name
/// with one file has one version, in force always.
#[derive(Debug, Clone, Default)]
pub struct Versions(Vec<(Arc<Loaded>, i64, Option<i64>)>, Option<Arc<OverTime>>);

/// The dated versions of one policy as the library follows a decision
/// through them ([`crate::versions::Versions::decide_json_with`]), with
/// each one's facts in their order: so that a decision's `next_change`
/// gives the instant a later version changes it.
#[derive(Debug)]
pub struct OverTime {
    /// The versions.
    pub versions: crate::versions::Versions,
    /// Each one's facts.
    pub facts: Vec<crate::Facts>,
}

/// The version deciding a request, and the versions it is one of (when
/// the policy has several), from one revision of the catalog.
#[derive(Debug, Clone)]
pub struct Serving {
    /// The version in force.
    pub loaded: Arc<Loaded>,
    /// Every version, when there are several.
    pub over_time: Option<Arc<OverTime>>,
}

impl std::ops::Deref for Serving {
    type Target = Loaded;

    fn deref(&self) -> &Loaded {
        &self.loaded
    }
}

impl Versions {
    /// The version deciding at `now`: the latest to take effect not after
    /// `now`, unless it has ended by then.
    pub fn at(&self, now: i64) -> Option<&Arc<Loaded>> {
        let (loaded, _, until) = self.0.iter().rev().find(|(_, from, _)| *from <= now)?;
        until.is_none_or(|u| now < u).then_some(loaded)
    }

    /// [`Versions::at`], with the versions it is one of.
    pub fn serving(&self, now: i64) -> Option<Serving> {
        Some(Serving {
            loaded: Arc::clone(self.at(now)?),
            over_time: self.1.clone(),
        })
    }

    /// The instant the next version takes effect after `now`, if any.
    pub fn next_after(&self, now: i64) -> Option<i64> {
        self.0
            .iter()
            .map(|(_, from, _)| *from)
            .find(|from| *from > now)
    }

    /// Every version, by the instant it takes effect.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Loaded>> {
        self.0.iter().map(|(l, _, _)| l)
    }

    /// The files of one policy as its versions, checked as `policyc check`
    /// checks them; one file that does not say when it is in force
    /// (`effective`) is in force always.
    fn of(loaded: Vec<Arc<Loaded>>) -> Result<Versions, crate::versions::VersionsError> {
        if let [one] = loaded.as_slice()
            && one.policy.program().effective.is_none()
        {
            return Ok(Versions(vec![(Arc::clone(one), i64::MIN, None)], None));
        }
        let dated = loaded
            .iter()
            .map(|l| crate::versions::Version::new(&l.file, l.policy.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let checked = crate::versions::Versions::new(dated)?;
        let versions: Vec<_> = (checked.all().iter())
            .filter_map(|v| {
                let l = loaded.iter().find(|l| l.file == v.file)?;
                Some((Arc::clone(l), v.from, v.until))
            })
            .collect();
        let facts = versions.iter().map(|(l, _, _)| l.facts.clone()).collect();
        let over_time = OverTime {
            versions: checked,
            facts,
        };
        Ok(Versions(versions, Some(Arc::new(over_time))))
    }
}

/// Every policy served, as one revision.
#[derive(Debug, Default)]
pub struct Catalog {
    /// By policy name.
    pub policies: BTreeMap<String, Versions>,
    /// How many revisions came before: 0 is the first load.
    pub generation: u64,
}

impl Catalog {
    /// The revision of `name` deciding at `now`.
    pub fn get(&self, name: &str, now: i64) -> Option<Serving> {
        self.policies.get(name)?.serving(now)
    }

    /// Every loaded policy, by file.
    fn by_file(&self) -> BTreeMap<&str, &Arc<Loaded>> {
        self.policies
            .values()
            .flat_map(|v| v.all())
            .map(|l| (l.file.as_str(), l))
            .collect()
    }
}

/// Why a policy file was not (re)loaded.
#[derive(Debug, Error, Diagnostic)]
pub enum LoadError {
    /// A file could not be read.
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(
        code(policy::serve::read),
        help("check that the file exists and may be read; the previous revision keeps serving")
    )]
    Read {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// A test block of the policy failed.
    #[error("test `{test}` fails: {failure}")]
    #[diagnostic(
        code(policy::serve::test_failed),
        help(
            "a version is served only once its own tests pass: fix the policy or the test (`policyc test FILE` runs them)"
        )
    )]
    Test {
        /// The test's name.
        test: String,
        /// What it expected and what it got.
        failure: String,
    },
    /// A facts file does not fit the policy's facts.
    #[error("bad facts in `{path}`: {error}")]
    #[diagnostic(code(policy::serve::facts), help("{help}"))]
    Facts {
        /// The facts file.
        path: String,
        /// What is wrong.
        error: DataError,
        /// What to write instead.
        help: String,
    },
    /// The facts files cannot be used together.
    #[error(transparent)]
    #[diagnostic(transparent)]
    FactSet(Box<crate::FactsError>),
    /// Files of one policy name that are not one policy over time.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Versions(crate::versions::VersionsError),
}

/// A policy file that failed to (re)load, with its diagnostics as
/// `--error-format json` gives them.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The file.
    pub file: String,
    /// When it first failed this way (the service's clock).
    pub since: i64,
    /// When it first failed this way, on the machine's monotonic clock.
    pub since_instant: std::time::Instant,
    /// One JSON object per diagnostic.
    pub diagnostics: Vec<serde_json::Value>,
}

/// What the service reads its policies from.
#[derive(Debug, Clone)]
pub struct Sources {
    /// Policy files, or folders of `.policy` files.
    pub policies: Vec<PathBuf>,
    /// Facts files.
    pub facts: Vec<FactsSpec>,
    /// Whether records are read strictly (`--strict`).
    pub strict: bool,
    /// The evaluation budget per decision (`--budget`).
    pub budget: u64,
}

/// What one reload made: the new catalog (or `None` if nothing changed),
/// and the failures now standing.
pub struct Reloaded {
    /// The catalog to swap in, if anything changed.
    pub catalog: Option<Catalog>,
    /// Every file that failed, by file.
    pub failures: BTreeMap<String, Failure>,
    /// Whether every policy file found has a revision serving.
    pub complete: bool,
    /// Every library file that a `use` of a policy file read in this
    /// reload named, whether the policy loaded or failed (a library found
    /// or missing, right or wrong), each once: the files watcher follows
    /// them, for a change to any may change what loads.
    pub libraries: Vec<PathBuf>,
}

/// Reads every policy and facts file again, and makes the next catalog
/// from `current`: a file whose text and facts did not change keeps its
/// revision, one that fails keeps its previous one (if it had one), and a
/// file no longer there is no longer served.
pub fn reload(
    sources: &Sources,
    current: &Catalog,
    failures: &BTreeMap<String, Failure>,
    now: i64,
) -> Reloaded {
    let mut new_failures = BTreeMap::new();
    let mut fail = |file: &str, diagnostics: Vec<serde_json::Value>| {
        let since = match failures.get(file) {
            Some(f) if f.diagnostics == diagnostics => (f.since, f.since_instant),
            _ => (now, std::time::Instant::now()),
        };
        new_failures.insert(
            file.to_owned(),
            Failure {
                file: file.to_owned(),
                since: since.0,
                since_instant: since.1,
                diagnostics,
            },
        );
    };
    let (files, listing) = policy_files(&sources.policies);
    for (path, error) in listing {
        fail(&path, vec![diagnostic(&error, Some(&path))]);
    }
    let facts: Vec<(FactsSpec, Result<String, LoadError>)> = sources
        .facts
        .iter()
        .map(|spec| (spec.clone(), read(&spec.path)))
        .collect();
    let old = current.by_file();
    let mut loaded: Vec<Arc<Loaded>> = Vec::new();
    let mut changed = false;
    let mut complete = true;
    let mut libraries = Vec::new();
    for path in &files {
        // A library's definitions are checked in the policies that use it.
        if crate::import::is_library_file(path) {
            continue;
        }
        let file = path.display().to_string();
        let loading = load_one(sources, &file, path, &facts, old.get(file.as_str()), now);
        match loading.map_err(|(diagnostics, named)| {
            libraries.extend(named);
            diagnostics
        }) {
            Ok(l) => {
                libraries.extend(l.policy.program().source.more_files().map(PathBuf::from));
                changed |= !old.get(file.as_str()).is_some_and(|o| Arc::ptr_eq(o, &l));
                loaded.push(l);
            }
            Err(diagnostics) => {
                fail(&file, diagnostics);
                match old.get(file.as_str()) {
                    Some(o) => loaded.push(Arc::clone(o)),
                    None => complete = false,
                }
            }
        }
    }
    changed |= old.len() != loaded.len();
    let mut by_name: BTreeMap<String, Vec<Arc<Loaded>>> = BTreeMap::new();
    for l in loaded {
        by_name.entry(l.name().to_owned()).or_default().push(l);
    }
    let mut policies: BTreeMap<String, Versions> = BTreeMap::new();
    for (name, group) in by_name {
        match Versions::of(group.clone()) {
            Ok(versions) => {
                policies.insert(name, versions);
            }
            Err(e) => {
                // The versions serving keep serving; the files new to them
                // (or, on a first load, all) fail.
                let before = current.policies.get(&name);
                let new: Vec<&Arc<Loaded>> = (group.iter())
                    .filter(|l| !before.is_some_and(|b| b.all().any(|o| Arc::ptr_eq(o, l))))
                    .collect();
                let blamed = if new.is_empty() {
                    group.iter().collect()
                } else {
                    new
                };
                let error = LoadError::Versions(e);
                for l in blamed {
                    fail(&l.file, vec![diagnostic(&error, Some(&l.file))]);
                }
                match before {
                    Some(b) => {
                        policies.insert(name, b.clone());
                    }
                    None => complete = false,
                }
                changed = true;
            }
        }
    }
    Reloaded {
        catalog: changed.then(|| Catalog {
            policies,
            generation: current.generation + 1,
        }),
        failures: new_failures,
        complete,
        libraries: {
            libraries.sort();
            libraries.dedup();
            libraries
        },
    }
}

/// Loads one policy file with its facts, or gives its diagnostics and the
/// library files its `use`s named; the `old` revision is kept as it is
/// when nothing it was made of changed.
fn load_one(
    sources: &Sources,
    file: &str,
    path: &Path,
    facts: &[(FactsSpec, Result<String, LoadError>)],
    old: Option<&&Arc<Loaded>>,
    now: i64,
) -> Result<Arc<Loaded>, (Vec<serde_json::Value>, Vec<PathBuf>)> {
    let one = |e: &dyn Diagnostic| vec![diagnostic(e, Some(file))];
    let text = read(path).map_err(|e| (one(&e), Vec::new()))?;
    let policy = match Policy::compile(file, &text) {
        Ok(p) => p.strict(sources.strict).budget(sources.budget),
        Err(errors) => {
            let diagnostics = (errors.errors.iter())
                .map(|e| diagnostic(e.as_ref(), None))
                .collect();
            return Err((
                diagnostics,
                errors.libraries.iter().map(PathBuf::from).collect(),
            ));
        }
    };
    let libraries: Vec<PathBuf> = (policy.program().source.more_files())
        .map(PathBuf::from)
        .collect();
    load_checked(policy, file, facts, old, now).map_err(|d| (d, libraries))
}

/// [`load_one`] once the policy compiled: its tests, then its facts.
fn load_checked(
    policy: Policy,
    file: &str,
    facts: &[(FactsSpec, Result<String, LoadError>)],
    old: Option<&&Arc<Loaded>>,
    now: i64,
) -> Result<Arc<Loaded>, Vec<serde_json::Value>> {
    let one = |e: &dyn Diagnostic| vec![diagnostic(e, Some(file))];
    let program = policy.program();
    // The program's whole text: the file's own, then the libraries it uses,
    // so that a changed library is a new revision of each policy using it.
    let revision = digest([program.source.text().as_bytes()]);
    let mine: Vec<&(FactsSpec, Result<String, LoadError>)> = facts
        .iter()
        .filter(|(spec, _)| match &spec.policy {
            Some(name) => *name == program.name,
            None => !program.facts.fields.is_empty(),
        })
        .collect();
    let mut texts = Vec::new();
    for (spec, text) in &mine {
        let text = text.as_ref().map_err(|e| one(e))?;
        texts.push((spec.path.display().to_string(), text.as_str()));
    }
    let facts_revision = digest(
        texts
            .iter()
            .flat_map(|(name, text)| [name.as_bytes(), b"\0", text.as_bytes(), b"\0"]),
    );
    if let Some(old) = old
        && old.revision == revision
        && old.facts_revision == facts_revision
    {
        return Ok(Arc::clone(old));
    }
    let mut failures = Vec::new();
    for report in crate::test_runner::run(&policy) {
        for failure in &report.failures {
            let error = LoadError::Test {
                test: report.name.clone(),
                failure: failure
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("; "),
            };
            failures.push(diagnostic(&error, Some(file)));
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    let mut files = Vec::new();
    for (name, text) in &texts {
        let read = policy.facts_file(name, text).map_err(|error| {
            let place = Place {
                file: Some(name.clone()),
                line: error.line.or(Some(1)),
                column: error.column,
            };
            let error = LoadError::Facts {
                path: name.clone(),
                help: policy.data_help(&error, true),
                error,
            };
            vec![json_lines(&error, &place)]
        })?;
        files.push(read);
    }
    let combined = policy
        .combine_facts(files.clone(), now)
        .map_err(|e| one(&LoadError::FactSet(Box::new(e))))?;
    Ok(Arc::new(Loaded {
        policy,
        facts: combined,
        facts_files: files,
        file: file.to_owned(),
        revision,
        facts_revision,
        since: now,
    }))
}

/// A diagnostic as `--error-format json` gives it, placed in `file` when
/// it has no place of its own.
fn diagnostic(e: &dyn Diagnostic, file: Option<&str>) -> serde_json::Value {
    let mut place = Place::of(e);
    if place.file.is_none() {
        place.file = file.map(str::to_owned);
    }
    json_lines(e, &place)
}

/// The JSON object `--error-format json` writes for `e` at `place`.
fn json_lines(e: &dyn Diagnostic, place: &Place) -> serde_json::Value {
    let text = render_at(e, ErrorFormat::Json, place);
    let first = text.lines().next().unwrap_or_default();
    serde_json::from_str(first).unwrap_or_else(|_| serde_json::json!({"message": e.to_string()}))
}

/// A file's text, without a byte-order mark.
fn read(path: &Path) -> Result<String, LoadError> {
    let fail = |reason: String| LoadError::Read {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|_| fail("it is not valid UTF-8".into()))
}

/// `sha256:` and the first 16 hex digits of the digest of `parts`.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let mut out = String::from("sha256:");
    for byte in hasher.finalize().iter().take(8) {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The `.policy` files under `paths` (a file is taken as it is), sorted,
/// and the folders that could not be read.
pub fn policy_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(String, LoadError)>) {
    let (mut files, mut errors) = (Vec::new(), Vec::new());
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "policy"))
                    .collect();
                found.sort();
                files.extend(found);
            }
            Err(e) => {
                let name = path.display().to_string();
                errors.push((
                    name.clone(),
                    LoadError::Read {
                        path: name,
                        reason: e.to_string(),
                    },
                ));
            }
        }
    }
    (files, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_go_to_every_policy_or_to_the_one_named() {
        assert_eq!(
            FactsSpec::parse("beijing_entry=examples/facts.json"),
            FactsSpec {
                policy: Some("beijing_entry".into()),
                path: "examples/facts.json".into()
            }
        );
        assert_eq!(FactsSpec::parse("a/b=c.json").policy, None);
    }

    #[test]
    fn a_reload_keeps_what_did_not_change_and_what_fails() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("policyc-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let good = "policy p\ntimezone \"UTC\"\noutcomes green\notherwise green\n";
        std::fs::write(dir.join("p.policy"), good)?;
        let sources = Sources {
            policies: vec![dir.clone()],
            facts: Vec::new(),
            strict: false,
            budget: crate::eval::DEFAULT_BUDGET,
        };
        let first = reload(&sources, &Catalog::default(), &BTreeMap::new(), 1);
        let first = first
            .catalog
            .unwrap_or_else(|| unreachable!("a first catalog"));
        let p = first.get("p", 1).unwrap_or_else(|| unreachable!("p loads"));
        // Nothing changed: no new catalog.
        let again = reload(&sources, &first, &BTreeMap::new(), 2);
        assert!(again.catalog.is_none() && again.failures.is_empty() && again.complete);
        // A broken version: the old revision keeps serving, and the failure
        // is told.
        std::fs::write(dir.join("p.policy"), "policy p\noutcomes\n")?;
        let broken = reload(&sources, &first, &BTreeMap::new(), 3);
        assert!(broken.catalog.is_none(), "nothing new to serve");
        assert_eq!(broken.failures.len(), 1);
        assert!(broken.complete, "p still has a revision serving");
        // Fixed with another text: a new revision, since then.
        std::fs::write(dir.join("p.policy"), good.replace("green\n", "green \n"))?;
        let fixed = reload(&sources, &first, &broken.failures, 4);
        let fixed = fixed
            .catalog
            .unwrap_or_else(|| unreachable!("a new catalog"));
        let q = fixed.get("p", 4).unwrap_or_else(|| unreachable!("p loads"));
        assert_ne!(p.revision, q.revision);
        assert_eq!((q.since, fixed.generation), (4, first.generation + 1));
        std::fs::remove_dir_all(&dir)
    }

    /// A library in the folder is no policy to serve: the policy that uses
    /// it is served, with the library's definitions.
    #[test]
    fn a_library_in_the_folder_is_not_served() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("policyc-catalog-lib-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("common.policy"),
            "library common\ninput person { a: bool }\n",
        )?;
        let uses = "policy p\nuse \"common.policy\"\noutcomes green < red\nrule r when person.a then red\notherwise green\n";
        std::fs::write(dir.join("p.policy"), uses)?;
        let sources = Sources {
            policies: vec![dir.clone()],
            facts: Vec::new(),
            strict: false,
            budget: crate::eval::DEFAULT_BUDGET,
        };
        let loaded = reload(&sources, &Catalog::default(), &BTreeMap::new(), 1);
        assert!(loaded.failures.is_empty() && loaded.complete);
        let catalog = loaded.catalog.unwrap_or_else(|| unreachable!("a catalog"));
        assert!(catalog.get("common", 1).is_none());
        let p = catalog
            .get("p", 1)
            .unwrap_or_else(|| unreachable!("p loads"));
        assert_eq!(p.policy.program().input.fields.len(), 1);
        // The library changes: the policy using it is a new revision, with
        // the library's new definitions.
        std::fs::write(
            dir.join("common.policy"),
            "library common\ninput person { a: bool, b: bool }\n",
        )?;
        let changed = reload(&sources, &catalog, &BTreeMap::new(), 2);
        assert!(changed.failures.is_empty() && changed.complete);
        let changed = changed
            .catalog
            .unwrap_or_else(|| unreachable!("a new catalog"));
        let q = changed
            .get("p", 2)
            .unwrap_or_else(|| unreachable!("p loads"));
        assert_ne!(p.revision, q.revision);
        assert_eq!((q.since, q.policy.program().input.fields.len()), (2, 2));
        std::fs::remove_dir_all(&dir)
    }

    #[test]
    fn a_digest_names_its_bytes() {
        assert_eq!(digest([b"ab".as_slice()]), digest([b"a".as_slice(), b"b"]));
        assert_ne!(digest([b"ab".as_slice()]), digest([b"ba".as_slice()]));
        assert_eq!(digest([b"".as_slice()]), "sha256:e3b0c44298fc1c14");
    }
}
