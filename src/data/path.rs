//! JSON paths for error messages, built on the stack as decoding descends:
//! nothing is allocated unless an error needs the text.

use std::fmt;

/// Where a value sits in the document.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Path<'a> {
    /// The document itself.
    Root,
    /// `parent.name`
    Field(&'a Path<'a>, &'a str),
    /// `parent[index]`
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(parent, name) if !is_plain(name) => write!(f, "{parent}[{name:?}]"),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Whether a key reads plainly after a dot: letters, digits, `_` and `-`
/// (`v[0].covid-19-lab-test-manufacturer-and-name`); any other is written
/// `["key"]`.
fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl Path<'_> {
    /// The path in backticks, or "the document" at the root.
    pub(crate) fn quoted(&self) -> String {
        match self {
            Path::Root => "the document".to_owned(),
            _ => format!("`{self}`"),
        }
    }
}
