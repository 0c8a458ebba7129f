//! How diagnostics are shown: drawn for people (`human`), one line each for
//! logs (`plain`), or one JSON object each for editors and CI (`json`).

use std::fmt::Write as _;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, Severity};

/// The form diagnostics are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// Source snippets with labels and help, in colour if asked.
    Human {
        /// Whether to use colour.
        colour: bool,
    },
    /// `file:line:column: error[code]: message (help: ...)`, one line each.
    Plain,
    /// `{"file", "line", "column", "code", "severity", "message", "help"}`,
    /// one object per line.
    Json,
}

/// Where a diagnostic points: a file, and a line and column in it (from 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// The file, if the diagnostic is about one.
    pub file: Option<String>,
    /// The line.
    pub line: Option<usize>,
    /// The column, in characters.
    pub column: Option<usize>,
}

impl Place {
    /// The place of a diagnostic's first label in its source.
    pub fn of(diagnostic: &dyn Diagnostic) -> Place {
        let label = diagnostic.labels().and_then(|mut labels| labels.next());
        let (Some(label), Some(source)) = (label, diagnostic.source_code()) else {
            return Place::default();
        };
        match source.read_span(label.inner(), 0, 0) {
            Ok(contents) => Place {
                file: contents.name().map(str::to_owned),
                line: Some(contents.line() + 1),
                column: Some(contents.column() + 1),
            },
            Err(_) => Place::default(),
        }
    }
}

/// A diagnostic in the given form, ending with a newline.
pub fn render(diagnostic: &dyn Diagnostic, format: ErrorFormat) -> String {
    render_at(diagnostic, format, &Place::of(diagnostic))
}

/// A diagnostic in the given form, at a place its labels do not tell (data
/// errors, which point into the input rather than the policy).
pub fn render_at(diagnostic: &dyn Diagnostic, format: ErrorFormat, place: &Place) -> String {
    let severity = match diagnostic.severity().unwrap_or(Severity::Error) {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Advice => "advice",
    };
    let code = diagnostic.code().map(|c| c.to_string());
    let help = diagnostic.help().map(|h| h.to_string());
    // Plain and JSON have no room for nested causes: they join the message.
    let mut message = diagnostic.to_string();
    if !matches!(format, ErrorFormat::Human { .. }) {
        let mut cause = diagnostic.source();
        while let Some(c) = cause {
            let _ = write!(message, ": {c}");
            cause = c.source();
        }
    }
    match format {
        ErrorFormat::Human { colour } => {
            let theme = if colour {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            let mut out = String::new();
            let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
            if handler.render_report(&mut out, diagnostic).is_err() {
                out = format!("{severity}: {message}\n");
            }
            out
        }
        ErrorFormat::Plain => {
            let mut out = String::new();
            if let Some(file) = &place.file {
                let _ = write!(out, "{file}:");
                if let Some(line) = place.line {
                    let _ = write!(out, "{line}:");
                }
                if let Some(column) = place.column {
                    let _ = write!(out, "{column}:");
                }
                out.push(' ');
            }
            out.push_str(severity);
            if let Some(code) = &code {
                let _ = write!(out, "[{code}]");
            }
            let _ = write!(out, ": {}", one_line(&message));
            if let Some(help) = &help {
                let _ = write!(out, " (help: {})", one_line(help));
            }
            out.push('\n');
            out
        }
        ErrorFormat::Json => {
            let object = serde_json::json!({
                "file": place.file,
                "line": place.line,
                "column": place.column,
                "code": code,
                "severity": severity,
                "message": message,
                "help": help,
            });
            format!("{object}\n")
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
