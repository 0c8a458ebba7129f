//! The `policyc` command: parses arguments, calls the library, prints, and
//! chooses the exit code (0 decided, 1 policy errors, 2 usage, 3 bad data).

use std::fs;
use std::io::{self, BufReader, BufWriter, IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::Diagnostic;
use policyc::report::{Place, render_at};
use policyc::{DataError, ErrorFormat, Extras, Policy, columnar, stream};
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
    /// One JSON object, JSON Lines (one person per line), or Parquet (a
    /// `.parquet` file, or one starting with `PAR1`: one person per row);
    /// `-` is stdin.
    #[arg(long)]
    input: PathBuf,
    /// A facts file (JSON); may be given more than once.
    #[arg(long)]
    facts: Vec<PathBuf>,
    /// The instant to decide at (RFC 3339, a local date-time, or a date);
    /// default: the current time.
    #[arg(long)]
    now: Option<String>,
    /// The longest input line read, in bytes; a longer line is an error
    /// line and the run goes on.
    #[arg(long, default_value_t = stream::MAX_LINE_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_line_bytes: u64,
    /// Make every field a record gives that the policy does not declare
    /// an error for that record (by default it is skipped, with a warning
    /// when it looks like a misspelt declared field).
    #[arg(long)]
    strict: bool,
    /// The most steps of evaluation (elements visited) deciding one record
    /// may take, its extras included; a record that needs more is an error
    /// line, not a stall.
    #[arg(long, default_value_t = policyc::eval::DEFAULT_BUDGET,
          value_parser = clap::value_parser!(u64).range(1..))]
    budget: u64,
    /// The threads that decide people (at least 1); the output stays in
    /// input order; default: all cores.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    jobs: Option<u64>,
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
        /// Write the decisions to this file instead of stdout; a `.parquet`
        /// file gets them as Parquet, one row per person (docs/contract.md).
        #[arg(long)]
        output: Option<PathBuf>,
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
        /// Print what each item costs per person, in the sizes of the lists
        /// it reads.
        #[arg(long)]
        cost: bool,
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

/// How a run ended, as its exit code says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// Every person decided (or every check and test passed).
    Decided = 0,
    /// The policy does not parse or check, or a test failed.
    Policy = 1,
    /// Bad usage: arguments, unreadable files, an unreadable `--now`.
    Usage = 2,
    /// Bad input data, also when only some records were bad.
    Data = 3,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Failures of the command itself, each with its exit code.
#[derive(Debug, Error, Diagnostic)]
enum CliError {
    #[error("{}", read_failure(.path, .source))]
    #[diagnostic(code(policyc::read), help("{}", read_help(.source)))]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("`{path}` is not valid UTF-8: line {line}, column {column} (byte 0x{byte:02x})")]
    #[diagnostic(code(policyc::read), help("save the file as UTF-8"))]
    NotUtf8 {
        path: String,
        line: usize,
        column: usize,
        byte: u8,
    },
    #[error("`{text}` is not an instant ({reason})")]
    #[diagnostic(
        code(policyc::now),
        help(
            "give `--now` like `2021-11-01T10:00:00+08:00`, `2021-11-01T10:00` or `2021-11-01`; without an offset it is read in the policy's time zone"
        )
    )]
    Now { text: String, reason: String },
    #[error("bad facts in `{path}`: {error}")]
    #[diagnostic(code(policyc::facts), help("{help}"))]
    Facts {
        path: String,
        error: DataError,
        help: String,
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
    #[error(transparent)]
    #[diagnostic(transparent)]
    Columnar(#[from] columnar::ColumnarError),
    #[error("cannot read the input")]
    #[diagnostic(code(policyc::read))]
    Input(#[from] io::Error),
    #[error("decisions written as Parquet have no `--{flag}`")]
    #[diagnostic(
        code(policyc::parquet_output),
        help(
            "leave out `--{flag}`, or write JSON Lines (no `--output`, or a file not ending in `.parquet`)"
        )
    )]
    ParquetOutput { flag: &'static str },
}

impl CliError {
    /// Where the error points: the data file and the place in it.
    fn place(&self) -> Place {
        match self {
            CliError::Facts { path, error, .. } => Place {
                file: Some(path.clone()),
                line: error.line.or(Some(1)),
                column: error.column,
            },
            CliError::Read { path, .. } => Place {
                file: Some(path.clone()),
                ..Place::default()
            },
            CliError::NotUtf8 {
                path, line, column, ..
            } => Place {
                file: Some(path.clone()),
                line: Some(*line),
                column: Some(*column),
            },
            CliError::Now { .. }
            | CliError::Write(_)
            | CliError::Language(_)
            | CliError::FactSet(_)
            | CliError::Columnar(_)
            | CliError::Input(_)
            | CliError::ParquetOutput { .. } => Place::default(),
        }
    }

    /// Whether the output was closed by its reader.
    fn is_closed_output(&self) -> bool {
        matches!(self, CliError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }

    fn exit(&self) -> Exit {
        match self {
            CliError::Facts { .. } => Exit::Data,
            CliError::FactSet(e) if !e.is_usage() => Exit::Data,
            CliError::Columnar(
                columnar::ColumnarError::WrongType { .. }
                | columnar::ColumnarError::Undeclared { .. },
            ) => Exit::Data,
            CliError::Read { .. }
            | CliError::Columnar(_)
            | CliError::Input(_)
            | CliError::ParquetOutput { .. }
            | CliError::NotUtf8 { .. }
            | CliError::Now { .. }
            | CliError::Write(_)
            | CliError::Language(_)
            | CliError::FactSet(_) => Exit::Usage,
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
            output,
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
            output.as_deref(),
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
            None,
            strictness,
        ),
        Command::Check { policies, cost } => check(&policies, cost, strictness),
        Command::Test {
            paths, coverage, ..
        } => test(&paths, coverage, strictness),
        Command::Fmt { paths, check } => fmt(&paths, check, cli.error_format),
    };
    match result {
        Ok(code) => code,
        Err(report)
            if report
                .downcast_ref::<CliError>()
                .is_some_and(CliError::is_closed_output) =>
        {
            // `| head`: the reader has all it wants, as with `grep` and `rg`.
            Exit::Decided.into()
        }
        Err(report) => {
            let place = report
                .downcast_ref::<CliError>()
                .map_or_else(|| Place::of(report.as_ref()), CliError::place);
            eprint!(
                "{}",
                render_at(report.as_ref(), cli.error_format.format(), &place)
            );
            report
                .downcast_ref::<CliError>()
                .map_or(Exit::Usage, CliError::exit)
                .into()
        }
    }
}

fn colour() -> bool {
    io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// What a failed read says failed.
fn read_failure(path: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => format!("`{path}` does not exist"),
        io::ErrorKind::PermissionDenied => format!("`{path}` may not be read (permission denied)"),
        io::ErrorKind::IsADirectory => format!("`{path}` is a folder, not a file"),
        _ => format!("cannot read `{path}`"),
    }
}

/// What to do about a failed read.
fn read_help(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::NotFound => {
            "check the spelling of the path; a relative path starts from the current folder"
        }
        io::ErrorKind::PermissionDenied => {
            "check the file's permissions, or run as a user who may read it"
        }
        io::ErrorKind::IsADirectory => {
            "give the path of a file; `test` and `fmt` are the commands that search folders"
        }
        _ => "check the path, and that it is a file that can be read",
    }
}

/// A text file, without the byte-order mark it may start with.
fn read(path: &Path) -> Result<String, CliError> {
    read_with_bom(path).map(|(text, _)| text)
}

/// A text file without a byte-order mark, and whether it had one.
fn read_with_bom(path: &Path) -> Result<(String, bool), CliError> {
    let name = || path.display().to_string();
    let mut bytes = fs::read(path).map_err(|source| CliError::Read {
        path: name(),
        source,
    })?;
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    if bom {
        bytes.drain(..3);
    }
    String::from_utf8(bytes)
        .map(|text| (text, bom))
        .map_err(|e| {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let good = String::from_utf8_lossy(bytes.get(..at).unwrap_or_default()).into_owned();
            CliError::NotUtf8 {
                path: name(),
                line: good.matches('\n').count() + 1,
                column: good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                byte: bytes.get(at).copied().unwrap_or_default(),
            }
        })
}

/// `println!` that gives a failed write back as an error instead of
/// panicking: a closed stdout then ends the run quietly.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(io::stdout(), $($arg)*).map_err(CliError::Write)?
    };
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

fn check(paths: &[PathBuf], cost: bool, strictness: Strictness) -> miette::Result<ExitCode> {
    let mut failed = false;
    for path in paths {
        match load(path, strictness)? {
            Some(p) => {
                let rules = p.program().rules.len();
                let plural = if rules == 1 { "" } else { "s" };
                say!("ok: {} ({rules} rule{plural})", path.display());
                if cost {
                    say!("{}", policyc::check::cost::estimate(p.plan()).table());
                }
            }
            None => failed = true,
        }
    }
    Ok(if failed { Exit::Policy } else { Exit::Decided }.into())
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
        // The canonical layout has no byte-order mark: one is dropped.
        let (text, bom) = read_with_bom(&path)?;
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
        if formatted == text && !bom {
            continue;
        }
        unformatted += 1;
        if check {
            say!("would reformat {name}");
        } else {
            fs::write(&path, formatted).map_err(|source| CliError::Read {
                path: name.clone(),
                source,
            })?;
            say!("reformatted {name}");
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
    for path in policy_files(paths)? {
        let Some(policy) = load(&path, strictness)? else {
            failed += 1;
            say!("file {} ... FAILED: does not check\n", path.display());
            continue;
        };
        let reports = policyc::test_runner::run(&policy);
        say!("running {} tests from {}", reports.len(), path.display());
        for report in &reports {
            if report.passed() {
                passed += 1;
                say!("test {} ... ok", report.name);
            } else {
                failed += 1;
                say!("test {} ... FAILED", report.name);
                for failure in &report.failures {
                    say!("  {failure}");
                }
            }
        }
        if coverage {
            say!("coverage of {}:", path.display());
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
                say!(
                    "  rule {}: fired in {fired}, decisive in {decisive}{flag}",
                    rule.name
                );
            }
        }
        say!();
    }
    say!("{passed} passed, {failed} failed");
    Ok(if failed > 0 {
        Exit::Policy
    } else {
        Exit::Decided
    }
    .into())
}

fn eval(
    run: &Run,
    (format, extras, lang): (Format, Extras, Option<&str>),
    output: Option<&Path>,
    strictness: Strictness,
) -> miette::Result<ExitCode> {
    let (policy, input, facts) = (&run.policy, &run.input, &run.facts);
    let now = run.now.as_deref();
    let errors = strictness.0;
    let Some(policy) = load(policy, strictness)? else {
        return Ok(Exit::Policy.into());
    };
    let policy = policy.strict(run.strict).budget(run.budget);
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
            .map_err(|error| CliError::Facts {
                path: name.clone(),
                help: policy.data_help(&error, true),
                error,
            })?;
        for w in &f.warnings {
            warn(errors, &path.display().to_string(), w);
        }
        parts.push(f);
    }
    let facts = policy
        .combine_facts(parts, now)
        .map_err(|e| CliError::FactSet(Box::new(e)))?;
    let options = stream::Options {
        max_line_bytes: usize::try_from(run.max_line_bytes).unwrap_or(usize::MAX),
        // A program that writes a line and waits for its answer must get
        // it; a file is read to its end anyway.
        flush_each: !is_regular_file(input),
        jobs: run
            .jobs
            .and_then(|n| usize::try_from(n).ok())
            .and_then(std::num::NonZeroUsize::new)
            .unwrap_or_else(stream::all_cores),
    };
    let parquet_out = output.filter(|o| o.extension().is_some_and(|e| e == "parquet"));
    if parquet_out.is_some() {
        let flag = [
            (extras.timeline, "timeline"),
            (extras.remedies, "remedies"),
            (extras.witnesses, "witnesses"),
            (format == Format::Pretty, "format pretty"),
        ];
        if let Some((_, flag)) = flag.into_iter().find(|(asked, _)| *asked) {
            return Err(CliError::ParquetOutput { flag }.into());
        }
    }
    let stream_output = match (format, words.as_ref()) {
        (Format::Explain, Some(words)) => stream::Output::Explain(words),
        (Format::ExplainJson, Some(words)) => stream::Output::ExplainJson(words),
        (Format::Pretty, _) => stream::Output::Pretty,
        _ => stream::Output::Json,
    };
    let decider = stream::Decider::new(&policy, &facts, now, extras, stream_output);
    let name = input.display().to_string();
    let mut summary = stream::Summary::default();
    let mut report =
        |e: &DataError| report_bad_record(errors, &name, e, &policy.data_help(e, false));
    let parquet_in = input != Path::new("-") && columnar::is_parquet(input);
    let rows = || columnar::ParquetFile::open(input, &policy);
    let open = |path: &Path| -> Result<Box<dyn Read + Send>, CliError> {
        if path == Path::new("-") {
            return Ok(Box::new(io::stdin()));
        }
        let file = fs::File::open(path).map_err(|source| CliError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Box::new(file))
    };
    if let Some(path) = parquet_out {
        let mut writer = columnar::DecisionWriter::create(path, &policy, now, extras.next_change)?;
        let decide = |line, person: Result<_, DataError>| {
            person
                .and_then(|p| policy.decide_decoded_with(&facts, p, now, extras))
                .map_err(|e| stream::placed(line, e))
        };
        let sink = |decisions: Vec<Result<policyc::Decision<'_>, DataError>>| {
            for d in &decisions {
                writer.push(d.as_ref())?;
                summary.records += 1;
                if let Err(e) = d {
                    summary.bad += 1;
                    report(e);
                }
            }
            Ok::<(), CliError>(())
        };
        if parquet_in {
            columnar::run(&policy, rows()?, options.jobs, decide, sink)?;
        } else {
            let reader = BufReader::with_capacity(1 << 18, open(input)?);
            let limit = options.max_line_bytes;
            columnar::run_lines(&policy, reader, limit, options.jobs, decide, sink)?;
        }
        writer.finish()?;
    } else {
        let out: Box<dyn io::Write> = match output {
            Some(path) => Box::new(fs::File::create(path).map_err(|source| CliError::Read {
                path: path.display().to_string(),
                source,
            })?),
            None => Box::new(io::stdout().lock()),
        };
        let mut out = BufWriter::with_capacity(1 << 16, out);
        if parquet_in {
            let answer = |line, person| decider.answer_decoded(line, person);
            columnar::run(&policy, rows()?, options.jobs, answer, |answers| {
                for answer in &answers {
                    stream::write_answer(&mut out, answer, &mut summary, &mut report, false)
                        .map_err(stream_error(&name))?;
                }
                Ok::<(), CliError>(())
            })?;
            out.flush().map_err(CliError::Write)?;
        } else {
            let reader = BufReader::with_capacity(1 << 18, open(input)?);
            summary =
                stream::run(&decider, reader, out, options, report).map_err(stream_error(&name))?;
        }
    }
    if summary.bad > 0 {
        if errors == Errors::Human {
            let bad = summary.bad;
            let plural = if bad == 1 { "" } else { "s" };
            eprintln!("error: {bad} record{plural} could not be decided");
        }
        return Ok(Exit::Data.into());
    }
    Ok(Exit::Decided.into())
}

/// The command's error for a stream's failure to read `name` or to write.
fn stream_error(name: &str) -> impl Fn(stream::StreamError) -> CliError + '_ {
    move |e| match e {
        stream::StreamError::Read(source) => CliError::Read {
            path: name.to_owned(),
            source,
        },
        stream::StreamError::Write(source) => CliError::Write(source),
    }
}

/// Whether the input (`-`: stdin) is a regular file.
fn is_regular_file(input: &Path) -> bool {
    if input != Path::new("-") {
        return fs::metadata(input).is_ok_and(|m| m.is_file());
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        let stdin = io::stdin();
        stdin
            .as_fd()
            .try_clone_to_owned()
            .map(fs::File::from)
            .and_then(|f| f.metadata())
            .is_ok_and(|m| m.is_file())
    }
    #[cfg(not(unix))]
    false
}

/// Tells stderr of a record that could not be decided (its error line is
/// on stdout).
fn report_bad_record(errors: Errors, name: &str, e: &DataError, help: &str) {
    match errors {
        Errors::Human => eprintln!("error: {name}: {e}\n  help: {help}"),
        other => {
            let place = Place {
                file: Some(name.to_owned()),
                line: e.line,
                column: e.column,
            };
            let record = BadRecord { error: e, help };
            eprint!("{}", render_at(&record, other.format(), &place));
        }
    }
}

/// A record that could not be decided, with the help that knows the
/// policy's schema.
#[derive(Debug, Error, Diagnostic)]
#[error("{error}")]
#[diagnostic(code(policy::data::invalid), help("{help}"))]
struct BadRecord<'e> {
    error: &'e DataError,
    help: &'e str,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests run as root in CI, where no file is unreadable for lack of
    /// permission: the wording is checked here.
    #[test]
    fn each_read_failure_names_what_failed() {
        let say = |kind| {
            let e = io::Error::from(kind);
            format!("{} ({})", read_failure("p", &e), read_help(&e))
        };
        assert_eq!(
            say(io::ErrorKind::PermissionDenied),
            "`p` may not be read (permission denied) (check the file's permissions, or run as a user who may read it)"
        );
        assert_eq!(
            say(io::ErrorKind::Interrupted),
            "cannot read `p` (check the path, and that it is a file that can be read)"
        );
    }
}
