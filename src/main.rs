//! The `policyc` command: parses arguments, calls the library, prints, and
//! chooses the exit code (0 decided, 1 policy errors, 2 usage, 3 bad data).

use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal as _, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::Diagnostic;
use policyc::report::{Place, render_at};
use policyc::{DataError, ErrorFormat, Extras, Facts, Policy};
use thiserror::Error;

/// Declarative entry policies: check them, and decide people against them.
#[derive(Parser)]
#[command(name = "policyc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How errors are written: `human` (source snippets), `plain` (one line
    /// each) or `json` (one object per line: file, line, column, code,
    /// severity, message, help).
    #[arg(long, global = true, value_enum, default_value_t = Errors::Human)]
    error_format: Errors,
    /// Treat warnings about a policy as errors.
    #[arg(long, global = true)]
    deny_warnings: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Errors {
    Human,
    Plain,
    Json,
}

impl Errors {
    fn format(self) -> ErrorFormat {
        match self {
            Errors::Human => ErrorFormat::Human { colour: colour() },
            Errors::Plain => ErrorFormat::Plain,
            Errors::Json => ErrorFormat::Json,
        }
    }
}

/// What `eval` and `explain` read: the policy, the people, the facts and
/// the instant.
#[derive(Args)]
struct Run {
    /// The `.policy` file.
    policy: PathBuf,
    /// One JSON object, or JSON Lines (one person per line); `-` is stdin.
    #[arg(long)]
    input: PathBuf,
    /// A facts file (JSON); may be given more than once.
    #[arg(long)]
    facts: Vec<PathBuf>,
    /// The instant to decide at (RFC 3339, a local date-time, or a date);
    /// default: the current time.
    #[arg(long)]
    now: Option<String>,
    /// Make every field a record gives that the policy does not declare
    /// an error for that record (by default it is skipped, with a warning
    /// when it looks like a misspelt declared field).
    #[arg(long)]
    strict: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Decide each person of the input under a policy.
    Eval {
        #[command(flatten)]
        run: Run,
        /// `json`: one compact object per line; `pretty`: for people.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Also say when each decision will change with no new data
        /// (`next_change`).
        #[arg(long)]
        next_change: bool,
        /// Also give every decision from now until it stops changing
        /// (`timeline`).
        #[arg(long)]
        timeline: bool,
        /// Also list the policy's remedies that would change each decision
        /// now (`remedies`).
        #[arg(long)]
        remedies: bool,
        /// Also give each fired rule's records as data (`witnesses`): the
        /// records, the entries of the facts they matched, and the window
        /// in which nothing qualified.
        #[arg(long)]
        witnesses: bool,
    },
    /// Explain each person's decision, for them to read.
    ///
    /// Every rule with whether it applies and the records behind it, when
    /// the decision changes and what would help, in the policy's language
    /// or `--lang`.
    Explain {
        #[command(flatten)]
        run: Run,
        /// The language to explain in, one of the policy's `messages`
        /// languages; default: the policy's own `language`.
        #[arg(long)]
        lang: Option<String>,
        /// `text`: for people; `json`: one object per line for programs
        /// (the decision, every rule with its title, state and witnesses,
        /// and the text).
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
    },
    /// Run the `test` blocks of every policy under the paths.
    Test {
        /// `.policy` files, or folders to search for them (default:
        /// `policies`).
        paths: Vec<PathBuf>,
        /// List each rule with the number of tests in which it fired and
        /// decided, and flag those no test exercises.
        #[arg(long)]
        coverage: bool,
        /// Accepted as for `eval`: a test's data is always read strictly
        /// (a field its schema does not declare fails the check).
        #[arg(long)]
        strict: bool,
    },
    /// Rewrite policies in the canonical layout (`--check`: only say which
    /// ones are not).
    Fmt {
        /// `.policy` files, or folders to search for them (default:
        /// `policies`).
        paths: Vec<PathBuf>,
        /// Change nothing; exit 1 if a file is not in the canonical layout.
        #[arg(long)]
        check: bool,
    },
    /// Check policies for errors without running them.
    Check {
        /// The `.policy` files.
        #[arg(required = true)]
        policies: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Pretty,
    /// `policyc explain`: for the person the decision is about.
    #[value(skip)]
    Explain,
    /// `policyc explain --format json`: the same, for programs.
    #[value(skip)]
    ExplainJson,
}

/// Failures of the command itself, each with its exit code.
#[derive(Debug, Error, Diagnostic)]
enum CliError {
    #[error("cannot read `{path}`")]
    #[diagnostic(code(policyc::read), help("check the path and its permissions"))]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("`{text}` is not an instant ({reason})")]
    #[diagnostic(
        code(policyc::now),
        help(
            "give `--now` like `2021-11-01T10:00:00+08:00`, `2021-11-01T10:00` or `2021-11-01`; without an offset it is read in the policy's time zone"
        )
    )]
    Now { text: String, reason: String },
    #[error("bad facts in `{path}`")]
    #[diagnostic(code(policyc::facts))]
    Facts {
        path: String,
        #[source]
        #[diagnostic_source]
        source: DataError,
    },
    #[error("bad input in `{path}`")]
    #[diagnostic(code(policyc::input))]
    Input {
        path: String,
        #[source]
        #[diagnostic_source]
        source: DataError,
    },
    #[error("cannot write the output")]
    #[diagnostic(code(policyc::write))]
    Write(#[source] io::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    FactSet(Box<policyc::FactsError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Language(#[from] policyc::explain::LanguageError),
}

impl CliError {
    /// Where the error points: the data file and the place in it.
    fn place(&self) -> Place {
        match self {
            CliError::Facts { path, source } | CliError::Input { path, source } => Place {
                file: Some(path.clone()),
                line: source.line.or(Some(1)),
                column: source.column,
            },
            CliError::Read { path, .. } => Place {
                file: Some(path.clone()),
                ..Place::default()
            },
            CliError::Now { .. }
            | CliError::Write(_)
            | CliError::Language(_)
            | CliError::FactSet(_) => Place::default(),
        }
    }

    fn exit_code(&self) -> u8 {
        match self {
            CliError::Facts { .. } | CliError::Input { .. } => 3,
            CliError::FactSet(e) if !e.is_usage() => 3,
            CliError::Read { .. }
            | CliError::Now { .. }
            | CliError::Write(_)
            | CliError::Language(_)
            | CliError::FactSet(_) => 2,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let strictness = (cli.error_format, cli.deny_warnings);
    let result = match cli.command {
        Command::Eval {
            run,
            format,
            next_change,
            timeline,
            remedies,
            witnesses,
        } => eval(
            &run,
            (
                format,
                Extras {
                    next_change,
                    timeline,
                    remedies,
                    witnesses,
                },
                None,
            ),
            strictness,
        ),
        Command::Explain { run, lang, format } => eval(
            &run,
            (
                match format {
                    ExplainFormat::Text => Format::Explain,
                    ExplainFormat::Json => Format::ExplainJson,
                },
                Extras::default(),
                lang.as_deref(),
            ),
            strictness,
        ),
        Command::Check { policies } => check(&policies, strictness),
        Command::Test {
            paths, coverage, ..
        } => test(&paths, coverage, strictness),
        Command::Fmt { paths, check } => fmt(&paths, check, cli.error_format),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            let place = report
                .downcast_ref::<CliError>()
                .map_or_else(|| Place::of(report.as_ref()), CliError::place);
            eprint!(
                "{}",
                render_at(report.as_ref(), cli.error_format.format(), &place)
            );
            let code = report
                .downcast_ref::<CliError>()
                .map_or(2, CliError::exit_code);
            ExitCode::from(code)
        }
    }
}

fn colour() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn read(path: &Path) -> Result<String, CliError> {
    fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// How problems with a policy are reported: the form, and whether
/// warnings count as errors.
type Strictness = (Errors, bool);

/// Compiles a policy, printing its errors and warnings; `None` if it has
/// errors (or warnings, when they are denied).
fn load(path: &Path, (errors, deny): Strictness) -> miette::Result<Option<Policy>> {
    let text = read(path)?;
    match Policy::compile(&path.display().to_string(), &text) {
        Ok(p) => {
            for w in p.warnings() {
                eprint!("{}", policyc::render(w, errors.format()));
            }
            if deny && !p.warnings().is_empty() {
                if errors == Errors::Human {
                    eprintln!("error: warnings are denied (--deny-warnings)");
                }
                return Ok(None);
            }
            Ok(Some(p))
        }
        Err(all) => {
            for e in &all.errors {
                eprint!("{}", policyc::render(e.as_ref(), errors.format()));
            }
            if errors == Errors::Human {
                eprintln!("error: {all}");
            }
            Ok(None)
        }
    }
}

/// Reports a warning about a data file.
fn warn(errors: Errors, file: &str, message: &str) {
    match errors {
        Errors::Human => eprintln!("warning: {file}: {message}"),
        Errors::Plain => eprintln!("{file}: warning: {message}"),
        Errors::Json => eprintln!(
            "{}",
            serde_json::json!({"file": file, "line": null, "column": null, "code": null,
                               "severity": "warning", "message": message, "help": null})
        ),
    }
}

fn check(paths: &[PathBuf], strictness: Strictness) -> miette::Result<ExitCode> {
    let mut failed = false;
    for path in paths {
        match load(path, strictness)? {
            Some(p) => {
                let rules = p.program().rules.len();
                let plural = if rules == 1 { "" } else { "s" };
                println!("ok: {} ({rules} rule{plural})", path.display());
            }
            None => failed = true,
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The `.policy` files under `paths`, sorted; a file is taken as it is.
fn policy_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    fn walk(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), CliError> {
        if !path.is_dir() {
            out.push(path.to_owned());
            return Ok(());
        }
        let entries = fs::read_dir(path).map_err(|source| CliError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            if child.is_dir() || child.extension().is_some_and(|e| e == "policy") {
                walk(&child, out)?;
            }
        }
        Ok(())
    }
    let default = [PathBuf::from("policies")];
    let mut out = Vec::new();
    for path in if paths.is_empty() {
        &default[..]
    } else {
        paths
    } {
        walk(path, &mut out)?;
    }
    Ok(out)
}

fn fmt(paths: &[PathBuf], check: bool, errors: Errors) -> miette::Result<ExitCode> {
    let (mut unformatted, mut broken) = (0, false);
    for path in policy_files(paths)? {
        let text = read(&path)?;
        let name = path.display().to_string();
        // A file that does not parse is left as it is: its tokens could not
        // be told apart from what the author meant.
        let formatted = match policyc::format::format_policy(&name, &text) {
            Ok(formatted) => formatted,
            Err(e) => {
                eprint!("{}", policyc::render(&*e, errors.format()));
                if errors == Errors::Human {
                    eprintln!("error: `{name}` does not parse, so it is left as it is");
                }
                broken = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        unformatted += 1;
        if check {
            println!("would reformat {name}");
        } else {
            fs::write(&path, formatted).map_err(|source| CliError::Read {
                path: name.clone(),
                source,
            })?;
            println!("reformatted {name}");
        }
    }
    Ok(if broken || (check && unformatted > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn test(paths: &[PathBuf], coverage: bool, strictness: Strictness) -> miette::Result<ExitCode> {
    let (mut passed, mut failed) = (0, 0);
    let mut broken = false;
    for path in policy_files(paths)? {
        let Some(policy) = load(&path, strictness)? else {
            broken = true;
            continue;
        };
        let reports = policyc::test_runner::run(&policy);
        println!("running {} tests from {}", reports.len(), path.display());
        for report in &reports {
            if report.passed() {
                passed += 1;
                println!("test {} ... ok", report.name);
            } else {
                failed += 1;
                println!("test {} ... FAILED", report.name);
                for failure in &report.failures {
                    println!("  {failure}");
                }
            }
        }
        if coverage {
            println!("coverage of {}:", path.display());
            for rule in &policy.program().rules {
                let fired = reports
                    .iter()
                    .filter(|r| r.fired.contains(&rule.name))
                    .count();
                let decisive = reports
                    .iter()
                    .filter(|r| r.decisive.contains(&rule.name))
                    .count();
                let flag = match (fired, decisive) {
                    (0, _) => "  <- no test fires it",
                    (_, 0) => "  <- no test where it decides",
                    _ => "",
                };
                println!(
                    "  rule {}: fired in {fired}, decisive in {decisive}{flag}",
                    rule.name
                );
            }
        }
        println!();
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed > 0 || broken {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn eval(
    run: &Run,
    (format, extras, lang): (Format, Extras, Option<&str>),
    strictness: Strictness,
) -> miette::Result<ExitCode> {
    let (policy, input, facts) = (&run.policy, &run.input, &run.facts);
    let now = run.now.as_deref();
    let errors = strictness.0;
    let Some(policy) = load(policy, strictness)? else {
        return Ok(ExitCode::from(1));
    };
    let policy = policy.strict(run.strict);
    let words = match format {
        Format::Explain | Format::ExplainJson => Some(policy.words(lang).map_err(CliError::from)?),
        Format::Json | Format::Pretty => None,
    };
    let now = match now {
        Some(text) => policy.instant(text).map_err(|e| CliError::Now {
            text: text.into(),
            reason: e.reason(),
        })?,
        None => jiff::Timestamp::now().as_microsecond(),
    };
    let mut parts = Vec::with_capacity(facts.len());
    for path in facts {
        let text = read(path)?;
        let name = path.display().to_string();
        let f = policy
            .facts_file(&name, &text)
            .map_err(|source| CliError::Facts {
                path: name.clone(),
                source,
            })?;
        for w in &f.warnings {
            warn(errors, &path.display().to_string(), w);
        }
        parts.push(f);
    }
    let facts = policy
        .combine_facts(parts, now)
        .map_err(|e| CliError::FactSet(Box::new(e)))?;
    let reader: Box<dyn Read> = if input == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(fs::File::open(input).map_err(|source| CliError::Read {
            path: input.display().to_string(),
            source,
        })?)
    };
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let name = input.display().to_string();
    let bad = decide_stream(
        (&policy, words.as_ref()),
        &facts,
        now,
        (format, errors, extras),
        BufReader::with_capacity(1 << 18, reader),
        out,
        &name,
    )?;
    if bad > 0 {
        if errors == Errors::Human {
            let plural = if bad == 1 { "" } else { "s" };
            eprintln!("error: {bad} record{plural} could not be decided");
        }
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}

/// Decides every person of the input, streaming JSON Lines one line at a
/// time (a single JSON object may span lines); returns how many records
/// could not be decided.
fn decide_stream(
    (policy, words): (&Policy, Option<&policyc::explain::Words<'_>>),
    facts: &Facts,
    now: i64,
    (format, errors, extras): (Format, Errors, Extras),
    mut reader: impl BufRead,
    mut out: impl Write,
    name: &str,
) -> miette::Result<usize> {
    let read_error = |source| CliError::Read {
        path: name.to_owned(),
        source,
    };
    let mut emit = Emitter {
        policy,
        words,
        facts,
        now,
        format,
        errors,
        extras,
        name,
        bad: 0,
    };
    let mut line = String::new();
    let mut number = 0;
    loop {
        // Flush before waiting for more input, so a pipe sees each answer.
        if reader.fill_buf().map(|b| b.is_empty()).unwrap_or(true) {
            out.flush().map_err(CliError::Write)?;
        }
        line.clear();
        if reader.read_line(&mut line).map_err(read_error)? == 0 {
            break;
        }
        number += 1;
        let result = emit.decide(line.trim_end_matches(['\n', '\r']));
        if number == 1 && matches!(&result, Err(e) if policyc::data::is_incomplete(e)) {
            // Perhaps one object over several lines: read it all.
            let mut text = std::mem::take(&mut line);
            reader.read_to_string(&mut text).map_err(read_error)?;
            if !looks_like_json_lines(&text) {
                return match emit.decide(&text) {
                    Ok(d) => {
                        emit.print(&mut out, &d)?;
                        out.flush().map_err(CliError::Write)?;
                        Ok(0)
                    }
                    Err(source) => Err(CliError::Input {
                        path: name.to_owned(),
                        source,
                    }
                    .into()),
                };
            }
            // JSON Lines after all, whose first line is cut short.
            for (i, l) in text.lines().enumerate() {
                let result = emit.decide(l);
                emit.write(&mut out, i + 1, result)?;
            }
            break;
        }
        emit.write(&mut out, number, result)?;
    }
    out.flush().map_err(CliError::Write)?;
    Ok(emit.bad)
}

/// Whether a text that is not one JSON object is JSON Lines: several lines,
/// each an object starting at the line's first column (a pretty-printed
/// object has lines that do not).
fn looks_like_json_lines(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    lines.clone().count() > 1 && lines.all(|l| l.starts_with('{'))
}

/// The answer for one person: a decision, or its explanation.
enum Answer<'a> {
    Decided(policyc::Decision<'a>),
    Explained(policyc::explain::Explanation<'a>),
}

/// Writes one output line per input line: a decision, or the error.
struct Emitter<'a, 'w> {
    policy: &'a Policy,
    /// The words to explain in, for `explain`.
    words: Option<&'w policyc::explain::Words<'a>>,
    facts: &'a Facts,
    now: i64,
    format: Format,
    errors: Errors,
    extras: Extras,
    name: &'a str,
    bad: usize,
}

impl<'a> Emitter<'a, '_> {
    /// The decision for one input line.
    fn decide(&self, text: &str) -> Result<Answer<'a>, DataError> {
        if text.trim().is_empty() {
            return Err(DataError {
                message: "an empty line, not a JSON object".into(),
                line: None,
                column: None,
            });
        }
        if self.words.is_some() {
            return self
                .policy
                .explain_json(self.facts, text, self.now)
                .map(Answer::Explained);
        }
        if self.extras == Extras::default() {
            return self
                .policy
                .decide_json(self.facts, text, self.now)
                .map(Answer::Decided);
        }
        self.policy
            .decide_json_with(self.facts, text, self.now, self.extras)
            .map(Answer::Decided)
    }

    /// Writes one answer.
    fn print(&self, out: &mut impl Write, answer: &Answer<'_>) -> miette::Result<()> {
        match (answer, self.words) {
            (Answer::Decided(d), _) if self.format == Format::Pretty => {
                writeln!(out, "{}", d.to_pretty())
            }
            (Answer::Decided(d), _) => writeln!(out, "{}", d.to_json()),
            (Answer::Explained(e), Some(words)) if self.format == Format::ExplainJson => {
                writeln!(out, "{}", e.to_json(words))
            }
            (Answer::Explained(e), Some(words)) => writeln!(out, "{}", e.render(words)),
            (Answer::Explained(e), None) => writeln!(out, "{}", e.decision.to_pretty()),
        }
        .map_err(|e| CliError::Write(e).into())
    }

    /// Writes the answer for input line `number`.
    fn write(
        &mut self,
        out: &mut impl Write,
        number: usize,
        result: Result<Answer<'_>, DataError>,
    ) -> miette::Result<()> {
        match result {
            Ok(answer) => self.print(out, &answer),
            Err(e) => {
                self.bad += 1;
                let e = e.on_line(number);
                let row = serde_json::json!({"line": number, "error": e.to_string()});
                match self.errors {
                    Errors::Human => eprintln!("error: {}: {e}", self.name),
                    other => {
                        let place = Place {
                            file: Some(self.name.to_owned()),
                            line: e.line,
                            column: e.column,
                        };
                        eprint!("{}", render_at(&e, other.format(), &place));
                    }
                }
                writeln!(out, "{row}").map_err(|e| CliError::Write(e).into())
            }
        }
    }
}
