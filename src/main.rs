//! The `policyc` command: parses arguments, calls the library, prints, and
//! chooses the exit code (0 decided, 1 policy errors, 2 usage, 3 bad data,
//! 4 a `diff --fail-if` condition holds).

use std::fs;
use std::io::{self, BufReader, BufWriter, IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::Diagnostic;
use policyc::report::{Place, render_at};
use policyc::versions::{Version, Versions};
use policyc::{Compiled, DataError, ErrorFormat, Extras, Policy, columnar, stream};
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
    #[command(flatten)]
    people: People,
}

/// The people to decide, the facts, the instant and how to read them.
#[derive(Args)]
struct People {
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
    /// Decide every person under an old and a new version of a policy, and
    /// report what changed.
    ///
    /// The transition matrix of outcomes and of deciding rules, a seeded
    /// sample of the people of each change with the rules whose state
    /// changed and why, and (`--horizon`) the people decided alike now but
    /// not later. Exit code 4 when a `--fail-if` condition holds.
    Diff {
        /// The old version: a `.policy` file, or a folder of dated
        /// versions (`2021-10-30.policy`: the latest not after `--now`).
        old: PathBuf,
        /// The new version, likewise.
        new: PathBuf,
        #[command(flatten)]
        people: People,
        /// Also follow the people decided alike now this far ahead (`14d`)
        /// and report those decided differently later, with when.
        #[arg(long, value_parser = horizon)]
        horizon: Option<i64>,
        /// Fail (exit code 4) if the change is larger than intended:
        /// `green->popup > 1000`, `*->popup > 5%`, `changed >= 1%`,
        /// `errors > 0`; may be given more than once.
        #[arg(long)]
        fail_if: Vec<String>,
        /// `table`: for people; `json`: one document for programs.
        #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
        format: DiffFormat,
        /// Also write the report as one self-contained HTML page.
        #[arg(long)]
        html: Option<PathBuf>,
        /// The language of the sampled people's explanations, one of both
        /// policies' `messages` languages; default: each policy's own.
        #[arg(long)]
        lang: Option<String>,
        /// The people sampled and explained for each change (at most
        /// 1000: each is held until the end).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(0..=1000))]
        sample: u16,
        /// The seed of the sample.
        #[arg(long, default_value_t = 0)]
        seed: u64,
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
    /// Serve decisions over HTTP, reloading policies and facts as their
    /// files change.
    ///
    /// `POST /v1/policies/NAME/decide` decides one person (JSON) or a
    /// batch (`application/x-ndjson`), `POST /v1/policies/NAME/watch`
    /// pushes each change of a decision, `GET /v1/status`,
    /// `GET /health/live`, `GET /health/ready` and `GET /metrics` tell how
    /// it goes (docs/contract.md, section 9).
    Serve(Box<ServeArgs>),
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

/// What `serve` reads.
#[derive(Args)]
struct ServeArgs {
    /// Policy files, or folders of `.policy` files; may be given more than
    /// once. Each policy is served under the name of its `policy`
    /// declaration.
    #[arg(long, required = true)]
    policies: Vec<PathBuf>,
    /// A facts file for every policy that declares facts, or `NAME=FILE`
    /// for the policy `NAME` only; may be given more than once.
    #[arg(long)]
    facts: Vec<String>,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8181")]
    addr: std::net::SocketAddr,
    /// Allow an `--addr` that is not a loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Write one JSON line per decision to this file (appended).
    #[arg(long)]
    decision_log: Option<PathBuf>,
    /// When the decision log's queue is full: `block` (wait, nothing is
    /// lost) or `drop` (drop the line and count it in `/metrics`).
    #[arg(long, value_enum, default_value_t = LogFull::Block)]
    decision_log_full: LogFull,
    /// How many decision-log lines may wait to be written.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    decision_log_queue: u64,
    /// A file holding the token that `POST /v1/reload` asks for (as
    /// `Authorization: Bearer TOKEN`); without it the admin endpoints are
    /// closed.
    #[arg(long)]
    admin_token_file: Option<PathBuf>,
    /// The largest body of a one-person request, in bytes.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    max_body_bytes: u64,
    /// The longest line of a JSON Lines batch, in bytes; a longer line
    /// gets its error line and the batch goes on.
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..))]
    max_line_bytes: u64,
    /// How long a request body may send nothing before the request is
    /// given up (a duration like `10s`).
    #[arg(long, default_value = "10s", value_parser = duration)]
    read_timeout: u64,
    /// How long a connection may be silent (nothing read or written, as
    /// a client that stops half-way through a request's head) before it is
    /// closed.
    #[arg(long, default_value = "60s", value_parser = duration)]
    idle_timeout: u64,
    /// Report not ready once a failed update has gone unresolved this
    /// long (a duration like `10m`).
    #[arg(long, value_parser = duration)]
    max_stale: Option<u64>,
    /// The threads that serve; default: all cores.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..256))]
    threads: Option<u64>,
    /// As for `eval`: every field a record gives that the policy does not
    /// declare is an error.
    #[arg(long)]
    strict: bool,
    /// As for `eval`: the most steps of evaluation one decision may take.
    #[arg(long, default_value_t = policyc::eval::DEFAULT_BUDGET,
          value_parser = clap::value_parser!(u64).range(1..))]
    budget: u64,
    /// For tests: the service's clock starts at this instant and moves
    /// only by `POST /v1/test/clock`.
    #[arg(long, hide = true)]
    test_clock: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFull {
    Block,
    Drop,
}

/// A duration like `10s` or `5m`, in seconds.
fn duration(text: &str) -> Result<u64, String> {
    seconds(text, "`10s`, `5m` or `1h`", |s| s >= 0).map(i64::unsigned_abs)
}

/// A duration's seconds when `fits` them, or an error giving `examples`.
fn seconds(text: &str, examples: &str, fits: impl Fn(i64) -> bool) -> Result<i64, String> {
    (policyc::time::parse_duration(text).filter(|&s| fits(s)))
        .ok_or_else(|| format!("`{text}` is not a duration like {examples}"))
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Table,
    Json,
}

/// A `--horizon`, in microseconds.
fn horizon(text: &str) -> Result<i64, String> {
    let examples = "`14d`, `36h` or `1d12h`";
    let fits = |s: i64| s > 0 && s.checked_mul(1_000_000).is_some();
    seconds(text, examples, fits).map(|s| s * 1_000_000)
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
    /// `diff`: a `--fail-if` condition holds.
    Refused = 4,
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
    #[error("cannot write `{path}`")]
    #[diagnostic(
        code(policyc::write),
        help("check that its folder exists and may be written to")
    )]
    WriteFile {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("`{path}` has no version in force at {now}: `{file}` ended at {until}")]
    #[diagnostic(
        code(policyc::version),
        help("give `--now` while a version is in force, or add the version that follows it")
    )]
    Ended {
        path: String,
        now: String,
        file: String,
        until: String,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Versions(Box<policyc::versions::VersionsError>),
    #[error("`{path}` has no dated version not after {now}")]
    #[diagnostic(
        code(policyc::version),
        help(
            "a folder of versions holds files named by the day they take effect, like `2021-10-30.policy`; give `--now` on or after one, or the file itself"
        )
    )]
    NoVersion { path: String, now: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    FactSet(Box<policyc::FactsError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Condition(Box<policyc::diff::ConditionError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Language(#[from] policyc::explain::LanguageError),
    #[error("`{addr}` is not a loopback address")]
    #[diagnostic(
        code(policyc::serve::remote),
        help(
            "the service listens on loopback unless told: add `--allow-remote` to listen on `{addr}`"
        )
    )]
    Remote { addr: std::net::SocketAddr },
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
            CliError::Read { path, .. }
            | CliError::WriteFile { path, .. }
            | CliError::NoVersion { path, .. }
            | CliError::Ended { path, .. } => Place {
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
            // Where in the condition, as `--fail-if` is the file.
            CliError::Condition(e) => Place {
                file: Some("--fail-if".to_owned()),
                ..Place::of(e.as_ref())
            },
            CliError::Now { .. }
            | CliError::Write(_)
            | CliError::Language(_)
            | CliError::Versions(_)
            | CliError::Remote { .. }
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
            // Versions that overlap are a mistake in the policy.
            CliError::Versions(_) => Exit::Policy,
            CliError::Read { .. }
            | CliError::WriteFile { .. }
            | CliError::NoVersion { .. }
            | CliError::Ended { .. }
            | CliError::Columnar(_)
            | CliError::Input(_)
            | CliError::ParquetOutput { .. }
            | CliError::NotUtf8 { .. }
            | CliError::Condition(_)
            | CliError::Now { .. }
            | CliError::Write(_)
            | CliError::Language(_)
            | CliError::Remote { .. }
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
        Command::Diff {
            old,
            new,
            people,
            horizon,
            fail_if,
            format,
            html,
            lang,
            sample,
            seed,
        } => diff(
            (&old, &new),
            &people,
            &Asked {
                horizon,
                fail_if,
                format,
                html,
                lang,
                sample,
                seed,
            },
            strictness,
        ),
        Command::Check { policies, cost } => check(&policies, cost, strictness),
        Command::Test {
            paths, coverage, ..
        } => test(&paths, coverage, strictness),
        Command::Fmt { paths, check } => fmt(&paths, check, cli.error_format),
        Command::Serve(args) => serve(*args),
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
/// errors (or warnings, when they are denied). A library is an error here.
fn load(path: &Path, strictness: Strictness) -> miette::Result<Option<Policy>> {
    let text = read(path)?;
    let compiled = Policy::compile(&path.display().to_string(), &text);
    Ok(
        report_compiled(compiled.map(|p| Compiled::Policy(Box::new(p))), strictness).and_then(
            |c| match c {
                Compiled::Policy(p) => Some(*p),
                Compiled::Library(_) => None,
            },
        ),
    )
}

/// Compiles a policy or a library with the libraries it uses, printing its
/// errors and warnings, as [`load`] does.
fn load_any(path: &Path, strictness: Strictness) -> miette::Result<Option<Compiled>> {
    let text = read(path)?;
    let compiled = Compiled::compile(&path.display().to_string(), &text);
    Ok(report_compiled(compiled, strictness))
}

/// Prints the errors and warnings of a compiled file; `None` if it has
/// errors (or warnings, when they are denied).
fn report_compiled(
    compiled: Result<Compiled, policyc::PolicyErrors>,
    (errors, deny): Strictness,
) -> Option<Compiled> {
    match compiled {
        Ok(c) => {
            let warnings = match &c {
                Compiled::Policy(p) => p.warnings(),
                Compiled::Library(l) => l.warnings(),
            };
            for w in warnings {
                eprint!("{}", policyc::render(w, errors.format()));
            }
            if deny && !warnings.is_empty() {
                if errors == Errors::Human {
                    eprintln!("error: warnings are denied (--deny-warnings)");
                }
                return None;
            }
            Some(c)
        }
        Err(all) => {
            for e in &all.errors {
                eprint!("{}", policyc::render(e.as_ref(), errors.format()));
            }
            if errors == Errors::Human {
                eprintln!("error: {all}");
            }
            None
        }
    }
}

/// What `check` says of a library it checked.
fn library_summary(library: &policyc::Library) -> String {
    let (lets, remedies) = library.counts;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "library, {lets} let{} and {remedies} remed{} shared",
        plural(lets),
        if remedies == 1 { "y" } else { "ies" }
    )
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
    let mut checked = Vec::new();
    for path in paths {
        match load_any(path, strictness)? {
            Some(Compiled::Library(l)) => say!("ok: {} ({})", path.display(), library_summary(&l)),
            Some(Compiled::Policy(p)) => {
                let rules = p.program().rules.len();
                let plural = if rules == 1 { "" } else { "s" };
                say!("ok: {} ({rules} rule{plural})", path.display());
                if cost {
                    say!("{}", policyc::check::cost::estimate(p.plan()).table());
                }
                checked.push((path.clone(), *p));
            }
            None => failed = true,
        }
    }
    let checked = checked
        .into_iter()
        .map(|(path, p)| (path.display().to_string(), p));
    for error in policyc::versions::errors(checked) {
        eprint!("{}", policyc::render(&error, strictness.0.format()));
        failed = true;
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
        let policy = match load_any(&path, strictness)? {
            Some(Compiled::Policy(policy)) => policy,
            // It has no rules and no tests: checking it is its test.
            Some(Compiled::Library(l)) => {
                say!(
                    "library {} ... ok: checks ({})\n",
                    path.display(),
                    library_summary(&l)
                );
                continue;
            }
            None => {
                failed += 1;
                say!("file {} ... FAILED: does not check\n", path.display());
                continue;
            }
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
    let (input, people) = (&run.people.input, &run.people);
    let errors = strictness.0;
    let Some((_, policy, versions)) = versions_at(&run.policy, people.now.as_deref(), strictness)?
    else {
        return Ok(Exit::Policy.into());
    };
    let tune = |p: Policy| p.strict(people.strict).budget(people.budget);
    let policy = tune(policy);
    let versions = versions.map(|v| v.map(tune));
    let words = match format {
        Format::Explain | Format::ExplainJson => Some(policy.words(lang).map_err(CliError::from)?),
        Format::Json | Format::Pretty => None,
    };
    let now = instant(&policy, people.now.as_deref())?;
    let facts = load_facts(&policy, &people.facts, now, errors)?;
    let options = options(people);
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
    let every_facts = match &versions {
        Some(vs) => (vs.all().iter())
            .map(|v| load_facts(&v.policy, &people.facts, now, errors))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let mut decider = stream::Decider::new(&policy, &facts, now, extras, stream_output);
    if let Some(vs) = &versions {
        decider = decider.with_versions(vs, &every_facts);
    }
    let name = input.display().to_string();
    let report = |e: &DataError| report_bad_record(errors, &name, e, &policy.data_help(e, false));
    let parquet_in = input != Path::new("-") && columnar::is_parquet(input);
    let rows = || columnar::ParquetFile::open(input, &policy);
    let failed = |e: columnar::EvalError| match e {
        columnar::EvalError::Columnar(e) => CliError::Columnar(e),
        columnar::EvalError::Stream(e) => stream_failure(&name, e),
    };
    let summary = if let Some(path) = parquet_out {
        let people = if parquet_in {
            columnar::People::Parquet(rows()?)
        } else {
            let (input, max_line_bytes) = (open_input(input)?, options.max_line_bytes);
            columnar::People::Lines {
                input,
                max_line_bytes,
            }
        };
        columnar::eval_to_parquet(
            &policy,
            &facts,
            now,
            extras,
            people,
            options.jobs,
            path,
            report,
        )
        .map_err(failed)?
    } else {
        let out: Box<dyn io::Write> = match output {
            Some(path) => {
                Box::new(
                    fs::File::create(path).map_err(|source| CliError::WriteFile {
                        path: path.display().to_string(),
                        source,
                    })?,
                )
            }
            None => Box::new(io::stdout().lock()),
        };
        let mut out = BufWriter::with_capacity(1 << 16, out);
        if parquet_in {
            columnar::eval_rows(&decider, rows()?, options.jobs, &mut out, report)
                .map_err(failed)?
        } else {
            let reader = open_input(input)?;
            stream::run(&decider, reader, out, options, report)
                .map_err(|e| stream_failure(&name, e))?
        }
    };
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

fn serve(args: ServeArgs) -> miette::Result<ExitCode> {
    use policyc::serve::{self, catalog};
    if !args.addr.ip().is_loopback() && !args.allow_remote {
        return Err(CliError::Remote { addr: args.addr }.into());
    }
    let admin_token = match &args.admin_token_file {
        Some(path) => Some(read(path)?.trim().to_owned()).filter(|t| !t.is_empty()),
        None => None,
    };
    let test_clock = match &args.test_clock {
        Some(text) => Some(
            policyc::time::parse_instant(text, &jiff::tz::TimeZone::UTC, Default::default())
                .map_err(|e| CliError::Now {
                    text: text.clone(),
                    reason: e.reason(),
                })?,
        ),
        None => None,
    };
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let config = serve::Config {
        sources: catalog::Sources {
            policies: args.policies,
            facts: args
                .facts
                .iter()
                .map(|f| catalog::FactsSpec::parse(f))
                .collect(),
            strict: args.strict,
            budget: args.budget,
        },
        addr: args.addr,
        decision_log: args.decision_log,
        log_queue: size(args.decision_log_queue),
        log_full: match args.decision_log_full {
            LogFull::Block => serve::log::WhenFull::Block,
            LogFull::Drop => serve::log::WhenFull::Drop,
        },
        admin_token,
        max_body_bytes: size(args.max_body_bytes),
        max_line_bytes: size(args.max_line_bytes),
        read_timeout: std::time::Duration::from_secs(args.read_timeout),
        idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
        max_stale: args.max_stale.map(std::time::Duration::from_secs),
        threads: args
            .threads
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or_else(|| stream::all_cores().get()),
        test_clock,
    };
    serve::run(config, |addr| {
        // The one line a supervisor (or a test) reads to find the port.
        println!("policyc serve: listening on http://{addr}");
        let _ = io::stdout().flush();
    })?;
    Ok(Exit::Decided.into())
}

/// What `diff` is asked beyond the people.
struct Asked {
    horizon: Option<i64>,
    fail_if: Vec<String>,
    format: DiffFormat,
    html: Option<PathBuf>,
    lang: Option<String>,
    sample: u16,
    seed: u64,
}

fn diff(
    (old, new): (&Path, &Path),
    people: &People,
    asked: &Asked,
    strictness: Strictness,
) -> miette::Result<ExitCode> {
    use policyc::diff::{self, Condition, Differ, Settings, Version};
    let errors = strictness.0;
    let now_text = people.now.as_deref();
    let (Some((old, a)), Some((new, b))) = (
        policy_at(old, now_text, strictness)?,
        policy_at(new, now_text, strictness)?,
    ) else {
        return Ok(Exit::Policy.into());
    };
    let (a, b) = (
        a.strict(people.strict).budget(people.budget),
        b.strict(people.strict).budget(people.budget),
    );
    let lang = asked.lang.as_deref();
    let words = (
        a.words(lang).map_err(CliError::from)?,
        b.words(lang).map_err(CliError::from)?,
    );
    let conditions = asked
        .fail_if
        .iter()
        .map(|c| Condition::parse(c, &a.program().outcomes, &b.program().outcomes))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::Condition(Box::new(e)))?;
    let now = instant(&a, now_text)?;
    let facts = (
        load_facts(&a, &people.facts, now, errors)?,
        load_facts(&b, &people.facts, now, errors)?,
    );
    let settings = Settings {
        sample: usize::from(asked.sample),
        seed: asked.seed,
        horizon: asked.horizon,
    };
    let differ = Differ::new(
        Version {
            policy: &a,
            facts: &facts.0,
        },
        Version {
            policy: &b,
            facts: &facts.1,
        },
        now,
        settings,
    );
    let name = people.input.display().to_string();
    let input = &people.input;
    let tally = if input != Path::new("-") && columnar::is_parquet(input) {
        let rows = columnar::ParquetFile::open_for(input, &[&a, &b]).map_err(CliError::from)?;
        diff::run_rows::<CliError>(&differ, rows, options(people).jobs)?
    } else {
        diff::run(&differ, open_input(input)?, options(people))
            .map_err(|e| stream_failure(&name, e))?
    };
    let files = (old.display().to_string(), new.display().to_string());
    let mut report = differ.report(tally, (&files.0, &files.1), (&words.0, &words.1));
    report.conditions = conditions.iter().map(|c| c.check(&report)).collect();
    match asked.format {
        DiffFormat::Table => say!("{}", report.table().trim_end()),
        DiffFormat::Json => say!("{}", report.to_json()),
    }
    if let Some(path) = &asked.html {
        let language = words.1.language().or(words.0.language());
        fs::write(path, report.html(language)).map_err(|source| CliError::WriteFile {
            path: path.display().to_string(),
            source,
        })?;
    }
    let e = &report.errors;
    let bad = e.both + e.old_only + e.new_only;
    if bad > 0 && errors == Errors::Human {
        let plural = if bad == 1 { "" } else { "s" };
        eprintln!("error: {bad} record{plural} could not be decided under one version or both");
    }
    Ok(if report.conditions.iter().any(|c| c.holds) {
        Exit::Refused
    } else if bad > 0 {
        Exit::Data
    } else {
        Exit::Decided
    }
    .into())
}

/// The policy a path names at `--now` (default: the current time), with
/// its file: the file itself, or in a folder of dated versions the one in
/// force then ([`Versions::in_force`]). `None`: a version does not compile
/// (its errors are reported).
fn policy_at(
    path: &Path,
    now: Option<&str>,
    strictness: Strictness,
) -> miette::Result<Option<(PathBuf, Policy)>> {
    Ok(versions_at(path, now, strictness)?.map(|(file, policy, _)| (file, policy)))
}

/// [`policy_at`], with the versions of the folder, if it is one.
fn versions_at(
    path: &Path,
    now: Option<&str>,
    strictness: Strictness,
) -> miette::Result<Option<(PathBuf, Policy, Option<Versions>)>> {
    if !path.is_dir() {
        return Ok(load(path, strictness)?.map(|p| (path.to_owned(), p, None)));
    }
    let Some(versions) = load_versions(path, strictness)? else {
        return Ok(None);
    };
    let no_version = |now: String| CliError::NoVersion {
        path: path.display().to_string(),
        now,
    };
    let Some(first) = versions.all().first() else {
        return Err(no_version(now.unwrap_or("now").to_owned()).into());
    };
    let at = instant(&first.policy, now)?;
    let zone = &first.policy.program().timezone;
    let shown = || now.map_or_else(|| policyc::time::format_instant(at, zone), str::to_owned);
    match versions.in_force(at) {
        Some(v) => Ok(Some((
            PathBuf::from(&v.file),
            v.policy.clone(),
            Some(versions.clone()),
        ))),
        None => match versions.all().iter().rev().find(|v| v.from <= at) {
            Some(ended) => Err(CliError::Ended {
                path: path.display().to_string(),
                now: shown(),
                file: ended.file.clone(),
                until: ended
                    .until
                    .map(|u| policyc::time::format_instant(u, zone))
                    .unwrap_or_default(),
            }
            .into()),
            // When none takes effect even on that day, the day says it.
            None => {
                let day = |t: i64| {
                    policyc::time::format_instant(t, zone)
                        .get(..10)
                        .map(str::to_owned)
                };
                let today = day(at);
                let now = if versions.all().iter().all(|v| day(v.from) > today) {
                    today.unwrap_or_else(shown)
                } else {
                    shown()
                };
                Err(no_version(now).into())
            }
        },
    }
}

/// The versions of one policy in a folder: its `.policy` files, each in
/// force from its `effective from` or the day its name begins with.
/// `None`: one does not compile (its errors are reported).
fn load_versions(dir: &Path, strictness: Strictness) -> miette::Result<Option<Versions>> {
    let mut versions = Vec::new();
    let mut failed = false;
    for file in policy_files(&[dir.to_owned()])? {
        match load_any(&file, strictness)? {
            Some(Compiled::Policy(p)) => versions.push(
                Version::new(&file.display().to_string(), *p)
                    .map_err(|e| CliError::Versions(Box::new(e)))?,
            ),
            // Shared definitions, checked, but not a version to decide by.
            Some(Compiled::Library(_)) => {}
            None => failed = true,
        }
    }
    if failed {
        return Ok(None);
    }
    Ok(Some(
        Versions::new(versions).map_err(|e| CliError::Versions(Box::new(e)))?,
    ))
}

/// The instant of `--now` (default: the current time), read as the
/// policy reads data.
fn instant(policy: &Policy, now: Option<&str>) -> Result<i64, CliError> {
    match now {
        Some(text) => policy.instant(text).map_err(|e| CliError::Now {
            text: text.into(),
            reason: e.reason(),
        }),
        None => Ok(jiff::Timestamp::now().as_microsecond()),
    }
}

/// The facts of a run at `now`, from all the facts files.
fn load_facts(
    policy: &Policy,
    paths: &[PathBuf],
    now: i64,
    errors: Errors,
) -> Result<policyc::Facts, CliError> {
    let mut parts = Vec::with_capacity(paths.len());
    for path in paths {
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
            warn(errors, &name, w);
        }
        parts.push(f);
    }
    policy
        .combine_facts(parts, now)
        .map_err(|e| CliError::FactSet(Box::new(e)))
}

/// How the people are read and decided.
fn options(people: &People) -> stream::Options {
    stream::Options {
        max_line_bytes: usize::try_from(people.max_line_bytes).unwrap_or(usize::MAX),
        // A program that writes a line and waits for its answer must get
        // it; a file is read to its end anyway.
        flush_each: !is_regular_file(&people.input),
        jobs: people
            .jobs
            .and_then(|n| usize::try_from(n).ok())
            .and_then(std::num::NonZeroUsize::new)
            .unwrap_or_else(stream::all_cores),
    }
}

/// The input of people (`-`: stdin), buffered.
fn open_input(input: &Path) -> Result<BufReader<Box<dyn Read + Send>>, CliError> {
    let reader: Box<dyn Read + Send> = if input == Path::new("-") {
        Box::new(io::stdin())
    } else {
        Box::new(fs::File::open(input).map_err(|source| CliError::Read {
            path: input.display().to_string(),
            source,
        })?)
    };
    Ok(BufReader::with_capacity(1 << 18, reader))
}

/// Why a stream of people stopped.
fn stream_failure(name: &str, e: stream::StreamError) -> CliError {
    match e {
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
