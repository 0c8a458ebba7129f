//! Policy source text, and the wrapper that lets any stage's error render
//! its own snippet.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, Severity, SourceCode, SourceSpan,
    SpanContents,
};

/// A policy file's name and text, cheap to clone; for a policy that uses
/// libraries, the text of all its files one after the other, each a line
/// apart, so that one span (a byte range of the whole) says both the file
/// and the place in it.
#[derive(Debug, Clone)]
pub struct Source {
    name: Arc<str>,
    text: Arc<str>,
    /// Where each line starts, so that a diagnostic finds its line without
    /// reading the text from its start.
    lines: Arc<[usize]>,
    /// With several files: each, with where its text starts in the whole
    /// (the first at 0). Empty for one file.
    files: Arc<[(usize, Source)]>,
}

impl Source {
    /// A source called `name` (usually its path) with `text`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text = text.into();
        Source {
            name: name.into(),
            lines: line_starts(text.as_bytes()).into(),
            text,
            files: Arc::new([]),
        }
    }

    /// The files of one program as one source: `first` (whose name it
    /// takes) at offset 0, then each of `more` at its [`Source::next_offset`]
    /// at the time it was added.
    pub fn joined(first: &Source, more: &[Source]) -> Source {
        let mut text = first.text.to_string();
        let mut files = vec![(0, first.clone())];
        for file in more {
            text.push('\n');
            files.push((text.len(), file.clone()));
            text.push_str(&file.text);
        }
        Source {
            files: files.into(),
            ..Source::new(Arc::clone(&first.name), text)
        }
    }

    /// Where a file added after `files` (as [`Source::joined`] adds them)
    /// starts in the whole.
    pub fn next_offset(files: &[Source]) -> usize {
        files.iter().map(|f| f.text.len() + 1).sum()
    }

    /// The file a place of the whole is in, and where that file starts.
    fn file_at(&self, offset: usize) -> Option<&(usize, Source)> {
        let i = self.files.partition_point(|(start, _)| *start <= offset);
        self.files.get(i.checked_sub(1)?)
    }

    /// The name of the file that `span` is in.
    pub fn file_of(&self, span: crate::syntax::Span) -> &str {
        self.file_at(span.start)
            .map_or(&self.name, |(_, f)| &f.name)
    }

    /// The names of the files it joins after the first (the libraries a
    /// policy uses), in their order; none for one file.
    pub fn more_files(&self) -> impl Iterator<Item = &str> {
        self.libraries().map(|(name, _)| name)
    }

    /// The files it joins after the first, each by name with its own text:
    /// what compiles the same program again where the files are not
    /// ([`crate::Compiled::compile_with`]).
    pub fn libraries(&self) -> impl Iterator<Item = (&str, &str)> {
        (self.files.iter().skip(1)).map(|(_, f)| (&*f.name, &*f.text))
    }

    /// The name errors show.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of `span`.
    pub fn slice(&self, span: crate::syntax::Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if let Some((start, file)) = self.file_at(span.offset()) {
            // Read in the file alone: its lines, numbered from its start.
            let inner = SourceSpan::from((span.offset() - start, span.len()));
            let contents = file.read_span(&inner, before, after)?;
            let at = SourceSpan::from((contents.span().offset() + start, contents.span().len()));
            return Ok(Box::new(
                MietteSpanContents::new_named(
                    file.name.to_string(),
                    contents.data(),
                    at,
                    contents.line(),
                    contents.column(),
                    contents.line_count(),
                )
                .with_language("policy"),
            ));
        }
        let contents = read_lines(self.text.as_bytes(), &self.lines, span, before, after)?;
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.to_string(),
                contents.data(),
                *contents.span(),
                contents.line(),
                contents.column(),
                contents.line_count(),
            )
            .with_language("policy"),
        ))
    }
}

/// Where the line holding `offset` ends: its line break, or the end.
fn line_end(input: &[u8], starts: &[usize], offset: usize) -> usize {
    let line = starts.partition_point(|s| *s <= offset);
    match starts.get(line) {
        Some(next) => {
            let last = next - 1;
            if input[last] == b'\n' && last > offset && input.get(last - 1) == Some(&b'\r') {
                last - 1
            } else {
                last
            }
        }
        None => input.len(),
    }
}

/// Where each line of `text` starts. A line ends at `\n`, `\r\n` or a lone
/// `\r`, as miette counts lines.
pub(crate) fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\r' if text.get(i + 1) == Some(&b'\n') => {
                i += 1;
                starts.push(i + 1);
            }
            b'\r' | b'\n' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// What miette's own `read_span` for text gives (the span's lines with
/// `before` and `after` lines of context, its line and column), computed
/// from the line index: the scan starts at the first line shown instead of
/// the start of the text, so that many diagnostics cost what they show.
pub(crate) fn read_lines<'a>(
    input: &'a [u8],
    starts: &[usize],
    span: &SourceSpan,
    before: usize,
    after: usize,
) -> Result<MietteSpanContents<'a>, MietteError> {
    let span_end = span.offset() + span.len();
    // The span's line: the last that starts at or before it.
    let line = starts
        .partition_point(|s| *s <= span.offset())
        .saturating_sub(1);
    // One line earlier than the first shown: miette's scan may stop on the
    // line break before the span.
    let first = line.saturating_sub(before + 1);
    let mut origin = starts.get(first).copied().unwrap_or(0);
    // From here on, the scan is miette's `context_info`, started at `origin`
    // in the state it has there.
    let mut line_count = first;
    let mut start_line = first;
    let mut start_column = 0usize;
    let mut current_line_start = origin;
    // Without lines before, nothing happens between the start of the
    // span's line and the span (unless it starts inside a `\r\n` or is
    // empty): the scan starts at the span, so that a place far into a long
    // line costs nothing to find.
    let line_start = starts.get(line).copied().unwrap_or(0);
    if before == 0
        && !span.is_empty()
        && (span.offset() == line_start || input.get(span.offset() - 1) != Some(&b'\r'))
    {
        origin = span.offset();
        line_count = line;
        start_line = line;
        start_column = span.offset() - line_start;
        current_line_start = line_start;
    }
    let mut offset = origin;
    let mut before_starts = std::collections::VecDeque::new();
    let mut end_lines = 0usize;
    let mut post_span = false;
    let mut post_span_got_newline = false;
    // The first place where the scan notes that the span is behind it.
    let stop = span_end.saturating_sub(1);
    while let Some(&char) = input.get(offset) {
        if matches!(char, b'\r' | b'\n') {
            line_count += 1;
            if char == b'\r' && input.get(offset + 1) == Some(&b'\n') {
                offset += 1;
            }
            if offset < span.offset() {
                start_column = 0;
                before_starts.push_back(current_line_start);
                if before_starts.len() > before {
                    start_line += 1;
                    before_starts.pop_front();
                }
            } else if offset >= span.offset() + span.len().saturating_sub(1) && post_span {
                start_column = 0;
                if post_span_got_newline {
                    end_lines += 1;
                } else {
                    post_span_got_newline = true;
                }
                if end_lines >= after {
                    offset += 1;
                    break;
                }
            }
            current_line_start = offset + 1;
            if offset >= stop {
                post_span = true;
                if end_lines >= after {
                    offset += 1;
                    break;
                }
            }
            offset += 1;
            continue;
        }
        // A run of bytes up to the line's end, taken at once: in it only
        // the column counts, and the scan may stop where it passes the span.
        let run_end = line_end(input, starts, offset);
        let fires = offset.max(stop);
        if fires < run_end && end_lines >= after {
            start_column += (fires + 1).min(span.offset()).saturating_sub(offset);
            offset = fires + 1;
            break;
        }
        start_column += run_end.min(span.offset()).saturating_sub(offset);
        post_span |= fires < run_end;
        offset = run_end;
    }
    if offset < span_end.saturating_sub(1) {
        return Err(MietteError::OutOfBounds);
    }
    let starting = match before_starts.front() {
        Some(s) => *s,
        None if before == 0 => span.offset(),
        None => origin,
    };
    let data = input
        .get(starting..offset)
        .ok_or(MietteError::OutOfBounds)?;
    Ok(MietteSpanContents::new(
        data,
        (starting, offset - starting).into(),
        start_line,
        if before == 0 { start_column } else { 0 },
        line_count,
    ))
}

/// A stage's error together with the source its spans point into.
#[derive(Debug, Clone)]
pub struct Located<E> {
    /// The error.
    pub error: E,
    source: Source,
}

impl<E> Located<E> {
    /// Attaches `source` to `error`.
    pub fn new(error: E, source: &Source) -> Self {
        Located {
            error,
            source: source.clone(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Located<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<E: std::error::Error> std::error::Error for Located<E> {}

impl<E: Diagnostic> Diagnostic for Located<E> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.error.code()
    }

    fn severity(&self) -> Option<Severity> {
        self.error.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.error.help()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.error.labels()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joined files are read each in itself: the span's file names it, and
    /// its lines are numbered from the file's start.
    #[test]
    fn joined_files_read_in_their_own_file() {
        let first = Source::new("p.policy", "policy p\nuse \"l.policy\"\n");
        let library = Source::new("l.policy", "library l\nlet x = 1\n");
        let offset = Source::next_offset(std::slice::from_ref(&first));
        let whole = Source::joined(&first, &[library]);
        let x = offset + "library l\nlet ".len();
        let span = SourceSpan::from((x, 1));
        let read = whole
            .read_span(&span, 0, 0)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(read.name(), Some("l.policy"));
        assert_eq!((read.line(), read.column()), (1, 4));
        assert_eq!(read.span().offset(), x);
        assert_eq!(whole.slice(crate::syntax::Span::new(x, x + 1)), "x");
        assert_eq!(
            whole.file_of(crate::syntax::Span::new(x, x + 1)),
            "l.policy"
        );
        let read = whole
            .read_span(&SourceSpan::from((0, 6)), 1, 1)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(read.name(), Some("p.policy"));
        assert_eq!(whole.name(), "p.policy");
    }

    /// The indexed reading gives exactly what miette's own does, so that
    /// snippets look the same.
    #[test]
    fn indexed_reading_agrees_with_miette() {
        let texts = [
            "",
            "a",
            "ab\ncd\n",
            "policy p\n\nrule r when x\n  then popup\notherwise green",
            "a\r\nb\rc\n\nd\r\n",
            "\n\n\nx\n",
            "京 a\n\u{3000}b\nc",
            "ab\r\ncd\r\n\r\nxyz\r",
            "\r\r\n\n\rq",
        ];
        for text in texts {
            let starts = line_starts(text.as_bytes());
            for offset in 0..=text.len() {
                for len in 0..=(text.len() - offset).min(7) {
                    for (before, after) in [(0, 0), (1, 1), (2, 0), (0, 2)] {
                        let span = SourceSpan::from((offset, len));
                        let ours = read_lines(text.as_bytes(), &starts, &span, before, after);
                        let theirs = text.read_span(&span, before, after);
                        match (ours, theirs) {
                            (Ok(o), Ok(t)) => {
                                let got =
                                    (o.data(), *o.span(), o.line(), o.column(), o.line_count());
                                let want =
                                    (t.data(), *t.span(), t.line(), t.column(), t.line_count());
                                assert_eq!(got, want, "{text:?} {offset}+{len} {before}/{after}");
                            }
                            (Err(_), Err(_)) => {}
                            (o, t) => unreachable!(
                                "{text:?} {offset}+{len}: ours {:?}, miette's {:?}",
                                o.is_ok(),
                                t.is_ok()
                            ),
                        }
                    }
                }
            }
        }
    }
}
