//! How diagnostics are shown: drawn for people (`human`), one line each for
//! logs (`plain`), or one JSON object each for editors and CI (`json`).

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, Severity, SourceCode, SourceSpan, SpanContents,
};

use crate::source::read_lines;

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
            let rendered = match Excerpt::of(diagnostic) {
                Some(excerpt) => handler.render_report(&mut out, &excerpt),
                None => handler.render_report(&mut out, diagnostic),
            };
            if rendered.is_err() {
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

/// Lines longer than this (in characters) are shown cut around the labels.
const LONG_LINE: usize = 200;
/// How many characters of a long line are kept on each side of a label's
/// start and end.
const KEPT: usize = 40;

/// Whether a line is long enough to be cut (reading no more of it than
/// that takes).
fn is_long(text: &str) -> bool {
    text.len() > LONG_LINE && text.chars().nth(LONG_LINE).is_some()
}

/// A diagnostic shown with its long lines cut around its labels: miette
/// draws a label's place with padding as wide as its column, which it
/// cannot do past column 65,535, and a line of thousands of characters
/// says nothing anyway.
struct Excerpt<'d> {
    diagnostic: &'d dyn Diagnostic,
    cut: Cut,
    labels: Vec<LabeledSpan>,
}

/// The text of an [`Excerpt`]: the lines it shows, cut.
struct Cut {
    name: Option<String>,
    /// The lines shown, cut, joined by `\n`.
    text: String,
    /// Where each of the excerpt's lines starts in it.
    starts: Vec<usize>,
    /// The line number in the policy of each of the excerpt's lines.
    numbers: Vec<usize>,
    /// The pieces kept, as (offset in the excerpt, offset in the policy,
    /// length), in order.
    pieces: Vec<(usize, usize, usize)>,
    /// The offset in the policy at which each of the policy's lines starts,
    /// for the lines shown.
    line_offsets: Vec<usize>,
}

impl<'d> Excerpt<'d> {
    /// The excerpt of a diagnostic, if one of the lines it shows is long.
    fn of(diagnostic: &'d dyn Diagnostic) -> Option<Excerpt<'d>> {
        let source = diagnostic.source_code()?;
        let labels: Vec<LabeledSpan> = diagnostic.labels()?.collect();
        // The lines each label shows, with one line of context each side.
        let mut lines: BTreeMap<usize, (usize, &[u8])> = BTreeMap::new();
        let mut name = None;
        let mut contents = Vec::new();
        for label in &labels {
            let read = source.read_span(label.inner(), 1, 1).ok()?;
            name = read.name().map(str::to_owned);
            contents.push(read);
        }
        for read in &contents {
            let mut offset = read.span().offset();
            let data = read.data().split_inclusive(|b| *b == b'\n');
            for (number, line) in (read.line()..).zip(data) {
                let text = line.strip_suffix(b"\n").unwrap_or(line);
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                lines.entry(number).or_insert((offset, text));
                offset += line.len();
            }
        }
        if !lines
            .values()
            .any(|(_, text)| is_long(&String::from_utf8_lossy(text)))
        {
            return None;
        }
        let points: Vec<usize> = labels
            .iter()
            .flat_map(|l| [l.offset(), l.offset() + l.len()])
            .collect();
        let mut cut = Cut {
            name,
            text: String::new(),
            starts: Vec::new(),
            numbers: Vec::new(),
            pieces: Vec::new(),
            line_offsets: Vec::new(),
        };
        for (number, (offset, bytes)) in lines {
            if !cut.starts.is_empty() {
                cut.text.push('\n');
            }
            cut.starts.push(cut.text.len());
            cut.numbers.push(number);
            cut.line_offsets.push(offset);
            // A lone `\r` breaks a line for miette: here it is a space.
            let mut text = String::from_utf8_lossy(bytes);
            if text.contains('\r') {
                text = text.replace('\r', " ").into();
            }
            cut.add_line(offset, &text, &points);
        }
        let labels = labels
            .iter()
            .map(|l| {
                let start = cut.to_excerpt(l.offset());
                let end = cut.to_excerpt(l.offset() + l.len()).max(start);
                let span = (start, end - start);
                let label = l.label().map(str::to_owned);
                if l.primary() {
                    LabeledSpan::new_primary_with_span(label, span)
                } else {
                    LabeledSpan::new_with_span(label, span)
                }
            })
            .collect();
        Some(Excerpt {
            diagnostic,
            cut,
            labels,
        })
    }
}

impl Cut {
    /// Adds one line, cut around `points` if it is long.
    fn add_line(&mut self, offset: usize, text: &str, points: &[usize]) {
        if !is_long(text) {
            self.pieces.push((self.text.len(), offset, text.len()));
            self.text.push_str(text);
            return;
        }
        // The byte ranges kept: `KEPT` characters each side of each point
        // on the line, or the line's start when no label is on it. Only
        // what is kept is read, so a label far into a long line costs what
        // is shown.
        let back = |p: usize| {
            text[..p]
                .char_indices()
                .rev()
                .nth(KEPT - 1)
                .map_or(0, |(i, _)| i)
        };
        let forward = |p: usize, n: usize| {
            text[p..]
                .char_indices()
                .nth(n)
                .map_or(text.len(), |(i, _)| p + i)
        };
        let mut ranges: Vec<(usize, usize)> = points
            .iter()
            .filter(|p| (offset..=offset + text.len()).contains(*p))
            .map(|p| {
                let mut at = p - offset;
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                (back(at), forward(at, KEPT))
            })
            .collect();
        if ranges.is_empty() {
            ranges.push((0, forward(0, 2 * KEPT)));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (from, to) in ranges {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        let mut shown = 0;
        for (start, end) in merged {
            if start > shown {
                self.text.push('…');
            }
            self.pieces
                .push((self.text.len(), offset + start, end - start));
            self.text.push_str(&text[start..end]);
            shown = end;
        }
        if shown < text.len() {
            self.text.push('…');
        }
    }

    /// Where a place of the policy is in the excerpt (the nearest kept
    /// place, for one that was cut).
    fn to_excerpt(&self, offset: usize) -> usize {
        let i = self.pieces.partition_point(|(_, o, _)| *o <= offset);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some((e, o, len)) => e + (offset - o).min(*len),
            None => 0,
        }
    }

    /// Where a place of the excerpt is in the policy.
    fn to_policy(&self, offset: usize) -> usize {
        let i = self.pieces.partition_point(|(e, _, _)| *e <= offset);
        match i.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some((e, o, len)) => o + (offset - e).min(*len),
            None => 0,
        }
    }
}

impl SourceCode for Cut {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let read = read_lines(self.text.as_bytes(), &self.starts, span, before, after)?;
        // The excerpt's lines are the policy's, numbered as there; the
        // column is the policy's too.
        let first = self.starts.partition_point(|s| *s <= read.span().offset());
        let first = first.saturating_sub(1);
        let line = self.numbers.get(first).copied().unwrap_or(0);
        let column = match self.line_offsets.get(first) {
            Some(line_offset) if before == 0 => {
                self.to_policy(span.offset()).saturating_sub(*line_offset)
            }
            _ => 0,
        };
        let shown = read.data().split(|b| *b == b'\n').count();
        let contents = MietteSpanContents::new(read.data(), *read.span(), line, column, shown);
        Ok(Box::new(match &self.name {
            Some(name) => MietteSpanContents::new_named(
                name.clone(),
                contents.data(),
                *contents.span(),
                line,
                column,
                shown,
            ),
            None => contents,
        }))
    }
}

impl fmt::Debug for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.diagnostic, f)
    }
}

impl std::error::Error for Excerpt<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.diagnostic.source()
    }
}

impl Diagnostic for Excerpt<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic.code()
    }

    fn severity(&self) -> Option<Severity> {
        self.diagnostic.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic.help()
    }

    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic.url()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.cut)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.diagnostic.diagnostic_source()
    }
}
