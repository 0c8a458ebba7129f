//! `use "beijing-common.policy"`: a policy together with the libraries it
//! uses, loaded as one program.
//!
//! A library is a file whose header says `library NAME` instead of `policy
//! NAME`: it shares schemas (the fields of `input` and `facts`), `let`s and
//! `remedy`s, and has no rules of its own. A `use` names it by a path from
//! the folder of the file that says `use`. Each file is read once, however
//! many files use it; the program is the libraries' declarations (those a
//! library uses first) followed by the policy's own, checked together: the
//! fields of `input` and `facts` are those of every file, in that order.
//!
//! The files' texts are one [`Source`] ([`Source::joined`]), each parsed at
//! its place in it, so that every span of the program names its file and
//! line, and a diagnostic about two definitions shows both files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan};
use thiserror::Error;

use crate::source::{Located, Source};
use crate::syntax::{self, FieldDecl, Ident, Item, Span, Spanned, SyntaxError};

/// What is wrong with the `use`s of a policy, or with the libraries they
/// name.
#[derive(Debug, Clone, PartialEq, Error, Diagnostic)]
pub enum ImportError {
    /// `use "/etc/common.policy"`
    #[error("`use` takes a path from this file's folder, not the absolute path `{path}`")]
    #[diagnostic(
        code(policy::import::absolute),
        help(
            "write the library's path from the folder of this file, like `use \"common.policy\"`, so that the policies can move together"
        )
    )]
    Absolute {
        /// The path as written.
        path: String,
        /// The path.
        #[label("an absolute path")]
        span: Span,
    },
    /// `use "common.txt"`
    #[error("`{path}` is not a `.policy` file")]
    #[diagnostic(
        code(policy::import::not_policy_file),
        help(
            "a library is a `.policy` file: write its name with the extension, like `use \"common.policy\"`"
        )
    )]
    Extension {
        /// The path as written.
        path: String,
        /// The path.
        #[label("not a `.policy` file")]
        span: Span,
    },
    /// The file is not there.
    #[error("there is no file `{file}`")]
    #[diagnostic(code(policy::import::missing))]
    Missing {
        /// The file looked for.
        file: String,
        /// The path.
        #[label("no such file")]
        span: Span,
        /// Where it was looked for, and what there is.
        #[help]
        help: String,
    },
    /// The path names a folder.
    #[error("`{file}` is a folder, not a library file")]
    #[diagnostic(
        code(policy::import::folder),
        help("name one `.policy` file of the folder, like `use \"{path}/common.policy\"`")
    )]
    Folder {
        /// The folder.
        file: String,
        /// The path as written.
        path: String,
        /// The path.
        #[label("a folder")]
        span: Span,
    },
    /// The file could not be read.
    #[error("cannot read `{file}`: {reason}")]
    #[diagnostic(
        code(policy::import::unreadable),
        help("a library is a UTF-8 text file that the user running `policyc` can read")
    )]
    Unreadable {
        /// The file.
        file: String,
        /// Why.
        reason: String,
        /// The path.
        #[label("cannot be read")]
        span: Span,
    },
    /// The file used is a policy, with rules of its own.
    #[error("`{file}` is a policy, not a library")]
    #[diagnostic(
        code(policy::import::not_library),
        help(
            "a file that others use starts with `library NAME` and has no rules: move what the policies share into such a file, and `use` it from each"
        )
    )]
    NotLibrary {
        /// The file used.
        file: String,
        /// The `use`.
        #[label("used here")]
        span: Span,
        /// Its header.
        #[label("a policy")]
        header: Span,
    },
    /// A declaration that a library may not make.
    #[error("a library cannot declare `{what}`")]
    #[diagnostic(
        code(policy::import::not_in_library),
        help(
            "a library shares `input` and `facts` fields, `let`s, `remedy`s, its `timezone`, `language` and `messages`: write `{what}` in each policy that uses it"
        )
    )]
    NotInLibrary {
        /// The declaration's keyword.
        what: &'static str,
        /// Where.
        #[label("not shared by a library")]
        span: Span,
    },
    /// Files that use each other.
    #[error("`use` goes round in a cycle: {cycle}")]
    #[diagnostic(
        code(policy::import::cycle),
        help(
            "a library cannot use, directly or through others, a file that uses it: move what they both need into a third library, used by each"
        )
    )]
    Cycle {
        /// The files, from the first back to it.
        cycle: String,
        /// Each `use` of the cycle, in its file.
        #[label(collection)]
        uses: Vec<LabeledSpan>,
    },
    /// One name defined in two files.
    #[error("{what} `{name}` is defined in `{first_file}` and again in `{file}`")]
    #[diagnostic(code(policy::import::clash))]
    Clash {
        /// What kind of definition.
        what: &'static str,
        /// The name.
        name: String,
        /// The file of the first definition.
        first_file: String,
        /// The file of the second.
        file: String,
        /// The first definition.
        #[label("first defined here")]
        first: Span,
        /// The second.
        #[label("defined again here")]
        span: Span,
        /// What to do.
        #[help]
        help: String,
    },
    /// Two files giving the input different names.
    #[error("the input is `{first_name}` in `{first_file}` but `{name}` in `{file}`")]
    #[diagnostic(
        code(policy::import::input_name),
        help("the files of one program read one input: call it `{first_name}` in each")
    )]
    InputName {
        /// The first name.
        first_name: String,
        /// Its file.
        first_file: String,
        /// The other.
        name: String,
        /// Its file.
        file: String,
        /// The first.
        #[label("the input is `{first_name}` here")]
        first: Span,
        /// The other.
        #[label("but `{name}` here")]
        span: Span,
    },
    /// Two files of one program in different time zones, or written in
    /// different languages.
    #[error("the {what} is `{first_value}` in `{first_file}` but `{value}` in `{file}`")]
    #[diagnostic(code(policy::import::mismatch))]
    Mismatch {
        /// `time zone` or `language`.
        what: &'static str,
        /// The first file's, as written.
        first_value: String,
        /// The first file (the policy's, when it gives one).
        first_file: String,
        /// The other's.
        value: String,
        /// The other file.
        file: String,
        /// The first.
        #[label("{first_value} here")]
        first: Span,
        /// The other.
        #[label("but {value} here")]
        span: Span,
        /// What to do.
        #[help]
        help: String,
    },
    /// One entry of a language's messages given different words in two
    /// files.
    #[error(
        "`{key}` of `messages \"{language}\"` is \"{first_text}\" in `{first_file}` but \"{text}\" in `{file}`"
    )]
    #[diagnostic(
        code(policy::import::message_clash),
        help(
            "a policy speaks with the words of the libraries it uses: give `{key}` once (in the library, if the policies share it), or the same words in each file"
        )
    )]
    MessageClash {
        /// The language.
        language: String,
        /// The entry's key, as written.
        key: String,
        /// The first file's words.
        first_text: String,
        /// The first file.
        first_file: String,
        /// The other's.
        text: String,
        /// The other file.
        file: String,
        /// The first.
        #[label("first given here")]
        first: Span,
        /// The other.
        #[label("given otherwise here")]
        span: Span,
    },
    /// Libraries that use libraries deeper than any family of policies
    /// needs.
    #[error("libraries use libraries more than {MAX_DEPTH} deep here")]
    #[diagnostic(
        code(policy::import::too_deep),
        help(
            "use the libraries the policy needs from the policy itself, not each from the one before"
        )
    )]
    TooDeep {
        /// The `use` one too deep.
        #[label("one library too deep")]
        span: Span,
    },
    /// A library compiled as if it were a policy to decide with.
    #[error("`{file}` is a library: it has no rules to decide with")]
    #[diagnostic(
        code(policy::import::library),
        help("`use` it from a policy (`use \"{base}\"`); `policyc check` checks it on its own")
    )]
    Library {
        /// The file.
        file: String,
        /// Its name, without the folder.
        base: String,
        /// Its header.
        #[label("a library")]
        span: Span,
    },
}

/// A policy file that cannot be read ([`crate::Policy::load`]).
#[derive(Debug, Clone, PartialEq, Error, Diagnostic)]
#[error("cannot read `{file}`: {reason}")]
#[diagnostic(
    code(policy::import::unreadable_policy),
    help("a policy is a UTF-8 text file that the user running `policyc` can read")
)]
pub struct ReadError {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// The text of the policy or library at `path`, without a byte-order
/// mark, as `policyc` reads it.
pub fn read_file(path: &Path) -> Result<String, ReadError> {
    read(path).map_err(|reason| ReadError {
        file: path.display().to_string(),
        reason,
    })
}

/// How deep libraries may use libraries: far more than a family of
/// policies needs, and few enough for following them to stay shallow.
pub const MAX_DEPTH: usize = 32;

/// A policy or library with the libraries it uses, as one program.
#[derive(Debug)]
pub struct Loaded {
    /// The declarations of every file, the libraries' first.
    pub ast: syntax::Policy,
    /// The texts of every file, the first one's first.
    pub source: Source,
    /// Where the first file's text ends in `source`: a span from here on
    /// is in a library it uses.
    pub own_end: usize,
    /// What is wrong with the `use`s and the libraries, placed in
    /// `source`: the program is what could be loaded without them, to be
    /// checked as far as it goes.
    pub errors: Vec<Placed>,
    /// Whether a library's declarations are missing from the program (it
    /// could not be found, read or parsed, or is not a library), so that
    /// names it would define are unknown.
    pub incomplete: bool,
    /// Every library file a `use` named, read or not (missing, unreadable,
    /// not parsing), by the name it resolved to: what a watcher follows to
    /// know when the program may compile differently.
    pub named: Vec<String>,
}

impl Loaded {
    /// Whether the first file is a library.
    pub fn is_library(&self) -> bool {
        self.ast.is_library()
    }
}

/// An error of a file of the program, placed in the program's source.
type Placed = Box<dyn Diagnostic + Send + Sync>;

/// Loads the policy (or library) called `name`, whose text is `text`, with
/// every library it uses, read from the files `use` names (found from the
/// folder of `name`, which is taken as a path). An error of a library or
/// of a `use` is in [`Loaded::errors`], with the program loaded without
/// what it spoils; only a syntax error of `text` itself gives no program.
pub fn load(name: &str, text: &str) -> Result<Loaded, Vec<Placed>> {
    load_with(name, text, &HashMap::new())
}

/// [`load`], reading a library from `given` (its text by the name a `use`
/// resolves to, as [`Source::libraries`] gives them) before the disk: so
/// that a program compiles where its libraries' files are not (a Spark
/// executor given the program's texts).
pub fn load_with(
    name: &str,
    text: &str,
    given: &HashMap<String, String>,
) -> Result<Loaded, Vec<Placed>> {
    let first = Source::new(name, text);
    let ast = syntax::parse(text).map_err(|e| vec![Box::new(Located::new(e, &first)) as Placed])?;
    let root = Path::new(name);
    let mut loader = Loader {
        files: vec![first],
        asts: vec![Some(ast)],
        places: HashMap::new(),
        order: Vec::new(),
        errors: Vec::new(),
        given,
        named: Vec::new(),
    };
    loader.places.insert(key(root), Place::Open(0));
    loader.visit(0, &mut vec![(0, None)]);
    loader.finish()
}

/// The name a file goes by when two paths may name it.
fn key(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// Where a file stands while the `use`s are followed.
enum Place {
    /// Its `use`s are being followed: it is on the way to the file being
    /// read, with this index.
    Open(usize),
    /// Read.
    Done,
}

/// An error of some file, placed once every file is read.
enum Error {
    Syntax(SyntaxError),
    Import(ImportError),
}

struct Loader<'g> {
    /// The libraries' texts given by name, read before the disk.
    given: &'g HashMap<String, String>,
    /// Every library file a `use` named, by the name it resolved to.
    named: Vec<String>,
    /// Every file read, in the order read (the first is the root).
    files: Vec<Source>,
    /// Each file's declarations, with spans in the whole; none if it does
    /// not parse.
    asts: Vec<Option<syntax::Policy>>,
    /// The files met, by the name their path resolves to.
    places: HashMap<PathBuf, Place>,
    /// The libraries, those they use first.
    order: Vec<usize>,
    errors: Vec<Error>,
}

impl Loader<'_> {
    /// Follows the `use`s of file `at`; `path` holds the files on the way
    /// to it with the `use` that led to each.
    fn visit(&mut self, at: usize, path: &mut Vec<(usize, Option<Span>)>) {
        let Some(ast) = &self.asts[at] else {
            return;
        };
        let uses: Vec<Spanned<String>> = ast.uses().cloned().collect();
        let folder = Path::new(self.files[at].name())
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        for u in uses {
            let Some(file) = self.resolve(&folder, &u) else {
                continue;
            };
            let k = key(&file);
            match self.places.get(&k) {
                Some(Place::Done) => continue,
                Some(&Place::Open(open)) => {
                    let from = path.iter().position(|(f, _)| *f == open).unwrap_or(0);
                    self.cycle(&path[from..], u.span);
                    continue;
                }
                None => {}
            }
            if path.len() > MAX_DEPTH {
                self.errors
                    .push(Error::Import(ImportError::TooDeep { span: u.span }));
                continue;
            }
            let given = self.given.get(&file.display().to_string()).cloned();
            let text = match given.map_or_else(|| read(&file), Ok) {
                Ok(text) => text,
                Err(reason) => {
                    self.errors.push(Error::Import(ImportError::Unreadable {
                        file: file.display().to_string(),
                        reason,
                        span: u.span,
                    }));
                    continue;
                }
            };
            let index = self.files.len();
            let offset = Source::next_offset(&self.files);
            let source = Source::new(file.display().to_string(), text);
            let parsed = syntax::parse_at(source.text(), offset);
            self.files.push(source);
            let ast = match parsed {
                Ok(ast) => ast,
                Err(e) => {
                    self.errors.push(Error::Syntax(e));
                    self.asts.push(None);
                    self.places.insert(k, Place::Done);
                    continue;
                }
            };
            if !ast.is_library() {
                self.errors.push(Error::Import(ImportError::NotLibrary {
                    file: file.display().to_string(),
                    span: u.span,
                    header: ast.name.span,
                }));
                self.asts.push(None);
                self.places.insert(k, Place::Done);
                continue;
            }
            self.asts.push(Some(ast));
            self.places.insert(k.clone(), Place::Open(index));
            path.push((index, Some(u.span)));
            self.visit(index, path);
            path.pop();
            self.places.insert(k, Place::Done);
            self.order.push(index);
        }
    }

    /// The file a `use` names, if its path can name a library.
    fn resolve(&mut self, folder: &Path, u: &Spanned<String>) -> Option<PathBuf> {
        let written = Path::new(&u.node);
        let file = folder.join(written);
        let name = file.display().to_string();
        let given = self.given.contains_key(&name);
        if !written.is_absolute() && !written.has_root() {
            self.named.push(name);
        }
        let error = if written.is_absolute() || written.has_root() {
            ImportError::Absolute {
                path: u.node.clone(),
                span: u.span,
            }
        } else if given {
            return Some(file);
        } else if file.is_dir() {
            ImportError::Folder {
                file: file.display().to_string(),
                path: u.node.clone(),
                span: u.span,
            }
        } else if written.extension().is_none_or(|e| e != "policy") {
            ImportError::Extension {
                path: u.node.clone(),
                span: u.span,
            }
        } else if !file.exists() {
            ImportError::Missing {
                file: file.display().to_string(),
                span: u.span,
                help: missing_help(folder, written),
            }
        } else {
            return Some(file);
        };
        self.errors.push(Error::Import(error));
        None
    }

    /// Reports the cycle of `uses` on `path`, closed by the `use` at `last`.
    fn cycle(&mut self, path: &[(usize, Option<Span>)], last: Span) {
        let mut names: Vec<String> = path
            .iter()
            .map(|(f, _)| format!("`{}`", self.files[*f].name()))
            .collect();
        if let Some(first) = names.first().cloned() {
            names.push(first);
        }
        let mut uses: Vec<LabeledSpan> = path
            .iter()
            .filter_map(|(_, span)| *span)
            .map(|s| LabeledSpan::new_with_span(Some("uses".into()), s))
            .collect();
        uses.push(LabeledSpan::new_primary_with_span(
            Some("which uses it again".into()),
            last,
        ));
        self.errors.push(Error::Import(ImportError::Cycle {
            cycle: names.join(" → "),
            uses,
        }));
    }

    /// The program, or every error of every file.
    fn finish(mut self) -> Result<Loaded, Vec<Placed>> {
        // One file is its own program: nothing to join.
        if self.files.len() == 1
            && self.errors.is_empty()
            && self.asts[0].as_ref().is_some_and(|a| !a.is_library())
            && let Some(ast) = self.asts[0].take()
        {
            let source = self.files.remove(0);
            return Ok(Loaded {
                ast,
                own_end: source.text().len(),
                source,
                errors: Vec::new(),
                incomplete: false,
                named: std::mem::take(&mut self.named),
            });
        }
        // Every error so far but a cycle leaves a library out.
        let incomplete =
            (self.errors.iter()).any(|e| !matches!(e, Error::Import(ImportError::Cycle { .. })));
        for &at in &self.order {
            if let Some(ast) = &self.asts[at] {
                for (what, span) in library_only(ast) {
                    self.errors
                        .push(Error::Import(ImportError::NotInLibrary { what, span }));
                }
            }
        }
        if let Some(ast) = self.asts[0].as_ref().filter(|a| a.is_library()) {
            for (what, span) in library_only(ast) {
                self.errors
                    .push(Error::Import(ImportError::NotInLibrary { what, span }));
            }
        }
        let own_end = self.files[0].text().len();
        let (first, more) = self.files.split_at(1);
        let source = Source::joined(&first[0], more);
        let (ast, more) = self.merge();
        let mut named = self.named;
        named.sort();
        named.dedup();
        let mut errors = self.errors;
        errors.extend(more);
        match ast {
            Some(ast) => Ok(Loaded {
                ast,
                own_end,
                errors: place(errors, &source),
                source,
                incomplete,
                named,
            }),
            None => Err(place(errors, &source)),
        }
    }

    /// The declarations of every file as those of one: the libraries'
    /// first, the fields of `input` and `facts` joined; with what clashes,
    /// each left out of the program but its first definition. `None`: the
    /// first file does not parse.
    fn merge(&self) -> (Option<syntax::Policy>, Vec<Error>) {
        let Some(root) = &self.asts[0] else {
            return (None, Vec::new());
        };
        let mut files: Vec<usize> = self.order.clone();
        files.push(0);

        let mut errors = Vec::new();
        let name = |f: usize| self.files[f].name().to_owned();
        let mut input: Option<(Ident, usize)> = None;
        let mut input_fields: Vec<FieldDecl> = Vec::new();
        let mut facts: Option<Vec<FieldDecl>> = None;
        // Where each shared name was first defined: (kind, name) → (file, span).
        let mut defined: HashMap<(&'static str, String), (usize, Span)> = HashMap::new();
        let mut shared: Vec<Item> = Vec::new();
        // The time zone and language: the policy's, or else the first
        // library's that gives one; every file that gives one agrees.
        let mut zone: Option<(usize, syntax::TimezoneDecl)> = None;
        let mut language: Option<(usize, Spanned<String>)> = None;
        let mut words = Words::default();
        // The definitions left out for a clash, by their name's place.
        let mut left_out: std::collections::HashSet<Span> = std::collections::HashSet::new();
        // Whether the definition `n` of file `f` clashes with one before:
        // it is then left out.
        let mut clash =
            |what: &'static str, n: &Spanned<String>, f: usize, errors: &mut Vec<Error>| {
                match defined.get(&(what, n.node.clone())) {
                    Some(&(first_file, first)) if first_file != f => {
                        errors.push(Error::Import(ImportError::Clash {
                            what,
                            name: n.node.clone(),
                            first_file: name(first_file),
                            file: name(f),
                            first,
                            span: n.span,
                            help: clash_help(what, &n.node),
                        }));
                        true
                    }
                    Some(_) => false,
                    None => {
                        defined.insert((what, n.node.clone()), (f, n.span));
                        false
                    }
                }
            };
        // The policy's own time zone and language are met first, so that a
        // library's that differs is the one said to differ.
        for item in &root.items {
            match item {
                Item::Timezone(t) if zone.is_none() => zone = Some((0, t.clone())),
                Item::Language(l) if language.is_none() => language = Some((0, l.clone())),
                _ => {}
            }
        }
        for &f in &files {
            let Some(ast) = &self.asts[f] else { continue };
            for item in &ast.items {
                match item {
                    Item::Input { name: n, fields } => {
                        match &input {
                            Some((first, first_file)) if first.node != n.node => {
                                errors.push(Error::Import(ImportError::InputName {
                                    first_name: first.node.clone(),
                                    first_file: name(*first_file),
                                    name: n.node.clone(),
                                    file: name(f),
                                    first: first.span,
                                    span: n.span,
                                }));
                            }
                            Some(_) => {}
                            None => input = Some((n.clone(), f)),
                        }
                        for field in fields {
                            if !clash("input field", &field.name, f, &mut errors) {
                                input_fields.push(field.clone());
                            }
                        }
                    }
                    Item::Facts(fields) => {
                        let kept = facts.get_or_insert_with(Vec::new);
                        for field in fields {
                            if !clash("fact", &field.name, f, &mut errors) {
                                kept.push(field.clone());
                            }
                        }
                    }
                    Item::Let(l) => {
                        if clash("let", &l.name, f, &mut errors) {
                            left_out.insert(l.name.span);
                        } else if f != 0 {
                            shared.push(item.clone());
                        }
                    }
                    Item::Timezone(t) => {
                        let value = zone_written(t);
                        let span = t.name.span;
                        match &zone {
                            Some((first_file, first)) if first != t && *first_file != f => {
                                errors.push(mismatch(
                                    "time zone",
                                    (*first_file, zone_written(first), first.name.span),
                                    (f, value, span),
                                    &name,
                                ));
                            }
                            Some(_) => {}
                            None => zone = Some((f, t.clone())),
                        }
                    }
                    Item::Language(l) => match &language {
                        Some((first_file, first))
                            if !first.node.eq_ignore_ascii_case(&l.node) && *first_file != f =>
                        {
                            errors.push(mismatch(
                                "language",
                                (*first_file, first.node.clone(), first.span),
                                (f, l.node.clone(), l.span),
                                &name,
                            ));
                        }
                        Some(_) => {}
                        None => language = Some((f, l.clone())),
                    },
                    Item::Messages(m) => words.add(f, m, &name, &mut errors),
                    Item::Remedy(r) => {
                        if clash("remedy", &r.title, f, &mut errors) {
                            left_out.insert(r.title.span);
                        } else if f != 0 {
                            shared.push(item.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        // The root's own items, with `input` and `facts` given once, where
        // the root gives them (or first, if only a library does).
        let mut items: Vec<Item> = Vec::new();
        let mut joined = |items: &mut Vec<Item>| {
            if let Some((n, _)) = input.take() {
                items.push(Item::Input {
                    name: n,
                    fields: std::mem::take(&mut input_fields),
                });
            }
            if let Some(fields) = facts.take() {
                items.push(Item::Facts(fields));
            }
            items.append(&mut shared);
        };
        let mut placed = false;
        let mut messages = Some(words.blocks());
        for item in &root.items {
            match item {
                Item::Library(_) | Item::Use(_) => items.push(item.clone()),
                Item::Messages(_) => items.extend(messages.take().into_iter().flatten()),
                Item::Let(l) if left_out.contains(&l.name.span) => {}
                Item::Remedy(r) if left_out.contains(&r.title.span) => {}
                Item::Input { .. } | Item::Facts(_) => {
                    if !placed {
                        joined(&mut items);
                        placed = true;
                    }
                }
                Item::Let(_) | Item::Rule(_) | Item::Warning(_) | Item::Remedy(_) if !placed => {
                    joined(&mut items);
                    placed = true;
                    items.push(item.clone());
                }
                _ => items.push(item.clone()),
            }
        }
        if !placed {
            joined(&mut items);
        }
        items.extend(messages.take().into_iter().flatten());
        // A time zone or language only a library gives, after the header.
        let header = (items.iter())
            .position(|i| !matches!(i, Item::Library(_) | Item::Use(_)))
            .unwrap_or(items.len());
        let inherited = [
            zone.filter(|(f, _)| *f != 0)
                .map(|(_, t)| Item::Timezone(t)),
            language
                .filter(|(f, _)| *f != 0)
                .map(|(_, l)| Item::Language(l)),
        ];
        for item in inherited.into_iter().flatten().rev() {
            items.insert(header, item);
        }
        let program = syntax::Policy {
            name: root.name.clone(),
            title: root.title.clone(),
            items,
        };
        (Some(program), errors)
    }
}

/// The `messages` blocks of every file, joined by language: a library's
/// words first, then the policy's.
#[derive(Default)]
struct Words {
    /// Each language's block, as met.
    blocks: Vec<syntax::MessagesDecl>,
    /// Where each entry was first given: (language, key) → (file, span,
    /// words).
    given: HashMap<(String, syntax::MessageKey), (usize, Span, String)>,
}

impl Words {
    /// Adds the block `m` of file `f`; an entry another file gave other
    /// words is a clash (one file's repeated entry is the checker's to
    /// report).
    fn add(
        &mut self,
        f: usize,
        m: &syntax::MessagesDecl,
        name: &impl Fn(usize) -> String,
        errors: &mut Vec<Error>,
    ) {
        let language = m.language.node.to_ascii_lowercase();
        let at = match (self.blocks.iter())
            .position(|b| b.language.node.eq_ignore_ascii_case(&language))
        {
            Some(at) => at,
            None => {
                self.blocks.push(syntax::MessagesDecl {
                    language: m.language.clone(),
                    entries: Vec::new(),
                });
                self.blocks.len() - 1
            }
        };
        // The policy's own block gives the language its place.
        if f == 0 {
            self.blocks[at].language = m.language.clone();
        }
        for entry in &m.entries {
            // A library's `policy` entry is its own title's: the policy has
            // its own.
            if f != 0 && entry.key.node == syntax::MessageKey::Policy {
                continue;
            }
            let k = (language.clone(), entry.key.node.clone());
            match self.given.get(&k) {
                Some((first_file, first, text)) if *first_file != f => {
                    if *text != entry.text.node {
                        errors.push(Error::Import(ImportError::MessageClash {
                            language: m.language.node.clone(),
                            key: entry.key.node.written(),
                            first_text: text.clone(),
                            first_file: name(*first_file),
                            text: entry.text.node.clone(),
                            file: name(f),
                            first: *first,
                            span: entry.key.span,
                        }));
                    }
                    continue;
                }
                Some(_) => {}
                None => {
                    self.given
                        .insert(k, (f, entry.key.span, entry.text.node.clone()));
                }
            }
            self.blocks[at].entries.push(entry.clone());
        }
    }

    /// The joined blocks.
    fn blocks(self) -> Vec<Item> {
        self.blocks.into_iter().map(Item::Messages).collect()
    }
}

/// A time zone as written: `Europe/Paris`, `Europe/Paris resolving gaps
/// later`.
fn zone_written(t: &syntax::TimezoneDecl) -> String {
    let mut out = t.name.node.clone();
    for (i, r) in t.resolving.iter().enumerate() {
        out.push_str(if i == 0 { " resolving " } else { ", " });
        out.push_str(match r.case.node {
            syntax::LocalCase::Gaps => "gaps ",
            syntax::LocalCase::Folds => "folds ",
        });
        out.push_str(match r.side {
            crate::time::Side::Earlier => "earlier",
            crate::time::Side::Later => "later",
        });
    }
    out
}

/// Two files that give the time zone or language differently: `first`
/// and `other` are each a file, its value as written and its place.
fn mismatch(
    what: &'static str,
    (first_file, first_value, first): (usize, String, Span),
    (file, value, span): (usize, String, Span),
    name: &impl Fn(usize) -> String,
) -> Error {
    let help = match what {
        "time zone" => format!(
            "a policy and the libraries it uses read local times in one zone: write `timezone \"{first_value}\"` in each, or leave it out of the policy to take its library's"
        ),
        _ => format!(
            "a policy and the libraries it uses are written in one language: write `language \"{first_value}\"` in each, or leave it out of the policy to take its library's"
        ),
    };
    Error::Import(ImportError::Mismatch {
        what,
        first_value,
        first_file: name(first_file),
        value,
        file: name(file),
        first,
        span,
        help,
    })
}

/// Errors placed in the program's source.
fn place(errors: Vec<Error>, source: &Source) -> Vec<Placed> {
    errors
        .into_iter()
        .map(|e| match e {
            Error::Syntax(e) => Box::new(Located::new(e, source)) as Placed,
            Error::Import(e) => Box::new(Located::new(e, source)) as Placed,
        })
        .collect()
}

/// The declarations of a library that a library may not make.
fn library_only(ast: &syntax::Policy) -> Vec<(&'static str, Span)> {
    ast.items
        .iter()
        .filter_map(|item| match item {
            Item::Rule(r) => Some(("rule", r.name.span)),
            Item::Warning(w) => Some(("warning", w.name.span)),
            Item::Otherwise(o) => Some(("otherwise", o.outcome.span)),
            Item::Outcomes(o) => o.first().map(|n| ("outcomes", n.span)),
            Item::Test(t) => Some(("test", t.name.span)),
            Item::Version(v) => Some(("version", v.span)),
            Item::Effective(e) => Some(("effective", e.from.span)),
            Item::FactsExpire(d) => Some(("facts expire", d.span)),
            Item::Library(_)
            | Item::Timezone(_)
            | Item::Language(_)
            | Item::Messages(_)
            | Item::Use(_)
            | Item::Input { .. }
            | Item::Facts(_)
            | Item::Let(_)
            | Item::Remedy(_) => None,
        })
        .collect()
}

/// What to do about a name defined in two files.
fn clash_help(what: &str, name: &str) -> String {
    match what {
        "remedy" => format!(
            "a remedy is given once: keep `{name}` in the library and take it out of the policy"
        ),
        _ => format!(
            "the files of one program share their names: keep one {what} `{name}` (in the library, if the policies share it) or rename the other"
        ),
    }
}

/// Where a missing library was looked for, and the `.policy` files that
/// are there.
fn missing_help(folder: &Path, written: &Path) -> String {
    let looked = match written.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => folder.join(parent),
        None => folder.to_owned(),
    };
    let mut there: Vec<String> = std::fs::read_dir(&looked)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".policy"))
                .collect()
        })
        .unwrap_or_default();
    there.sort();
    let wanted = written
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let shown = if looked.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        looked.display().to_string()
    };
    match crate::suggest::did_you_mean(&wanted, there.iter().map(String::as_str)) {
        Some(near) => format!(
            "the path is read from the folder of the file that says `use` (`{shown}`): did you mean `{near}`?"
        ),
        None if there.is_empty() => format!(
            "the path is read from the folder of the file that says `use` (`{shown}`), which has no `.policy` file"
        ),
        None => format!(
            "the path is read from the folder of the file that says `use` (`{shown}`), which has {}",
            crate::check::quoted_list(&there)
        ),
    }
}

/// A library's text, without a byte-order mark; why not, if it cannot be
/// read.
fn read(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.kind().to_string())?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        format!(
            "it is not UTF-8 text (byte {} is not)",
            e.utf8_error().valid_up_to() + 1
        )
    })
}

/// Whether the file at `path` is a library (its header says `library`):
/// for a folder of policies, where a library is no policy to serve or
/// decide by. A file that cannot be read or parsed is not one (loading it
/// as a policy says what is wrong).
pub fn is_library_file(path: &Path) -> bool {
    read(path).is_ok_and(|text| is_library(&text))
}

/// Whether `text` is a library's: its first word, after white space and
/// comments, is `library`, and it parses.
pub fn is_library(text: &str) -> bool {
    syntax::parse(text).is_ok_and(|ast| ast.is_library())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of its own for one test, with `files` written in it.
    fn folder(test: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("policyc-import-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| unreachable!("{e}"));
            }
            std::fs::write(path, text).unwrap_or_else(|e| unreachable!("{e}"));
        }
        dir
    }

    fn codes(errors: &[Placed]) -> Vec<String> {
        errors
            .iter()
            .filter_map(|e| e.code().map(|c| c.to_string()))
            .collect()
    }

    /// The codes of the errors of loading: those of a program loaded
    /// without what they spoil, or of a policy that does not parse.
    fn load_codes(loaded: Result<Loaded, Vec<Placed>>) -> Vec<String> {
        match loaded {
            Ok(loaded) => codes(&loaded.errors),
            Err(errors) => codes(&errors),
        }
    }

    const BASE: &str = "library base\ninput person { a: number }\nlet x = person.a\n";

    /// The libraries' declarations come first, those a library uses before
    /// it; the fields of `input` join in that order, and the spans of each
    /// file are places in the whole.
    #[test]
    fn libraries_come_first_and_fields_join() {
        let dir = folder(
            "order",
            &[
                ("base.policy", BASE),
                (
                    "mid.policy",
                    "library mid\nuse \"base.policy\"\ninput person { b: number }\nlet y = x\n",
                ),
            ],
        );
        let root = dir.join("p.policy");
        let text = "policy p\nuse \"mid.policy\"\noutcomes g\ninput person { c: number }\nlet z = y\notherwise g\n";
        let loaded =
            load(&root.display().to_string(), text).unwrap_or_else(|e| unreachable!("{e:?}"));
        let fields: Vec<&str> = loaded
            .ast
            .items
            .iter()
            .find_map(|i| match i {
                Item::Input { fields, .. } => {
                    Some(fields.iter().map(|f| f.name.node.as_str()).collect())
                }
                _ => None,
            })
            .unwrap_or_default();
        assert_eq!(fields, ["a", "b", "c"]);
        let lets: Vec<(&str, String)> = loaded
            .ast
            .lets()
            .map(|l| {
                (
                    l.name.node.as_str(),
                    loaded.source.file_of(l.name.span).to_owned(),
                )
            })
            .collect();
        let name = |f: &str| dir.join(f).display().to_string();
        assert_eq!(
            lets,
            [
                ("x", name("base.policy")),
                ("y", name("mid.policy")),
                ("z", root.display().to_string())
            ]
        );
        for l in loaded.ast.lets() {
            assert_eq!(loaded.source.slice(l.name.span), l.name.node);
        }
        assert_eq!(loaded.own_end, text.len());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A library used twice, through two others, is read once: its names
    /// do not clash with themselves.
    #[test]
    fn a_library_used_twice_is_read_once() {
        let dir = folder(
            "diamond",
            &[
                ("base.policy", BASE),
                ("l.policy", "library l\nuse \"base.policy\"\n"),
                ("r.policy", "library r\nuse \"base.policy\"\n"),
            ],
        );
        let text = "policy p\nuse \"l.policy\"\nuse \"r.policy\"\nuse \"base.policy\"\noutcomes g\notherwise g\n";
        let loaded = load(&dir.join("p.policy").display().to_string(), text)
            .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(loaded.ast.lets().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A file that uses itself is a cycle; a policy used as a library and
    /// a name given twice are refused; a path that names nothing says so.
    #[test]
    fn cycles_clashes_and_paths_are_refused() {
        let dir = folder(
            "refused",
            &[
                ("self.policy", "library me\nuse \"self.policy\"\n"),
                ("base.policy", BASE),
                ("q.policy", "policy q\noutcomes g\notherwise g\n"),
            ],
        );
        let at = |f: &str| dir.join(f).display().to_string();
        let cases = [
            (
                "policy p\nuse \"self.policy\"\noutcomes g\notherwise g\n",
                "policy::import::cycle",
            ),
            (
                "policy p\nuse \"q.policy\"\noutcomes g\notherwise g\n",
                "policy::import::not_library",
            ),
            (
                "policy p\nuse \"base.policy\"\noutcomes g\nlet x = 1\notherwise g\n",
                "policy::import::clash",
            ),
            (
                "policy p\nuse \"nothing.policy\"\noutcomes g\notherwise g\n",
                "policy::import::missing",
            ),
            (
                "policy p\nuse \"base\"\noutcomes g\notherwise g\n",
                "policy::import::not_policy_file",
            ),
        ];
        for (text, code) in cases {
            assert_eq!(load_codes(load(&at("p.policy"), text)), [code], "{text}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A chain of libraries deeper than [`MAX_DEPTH`] is refused once.
    #[test]
    fn a_deep_chain_is_refused() {
        let names: Vec<String> = (0..=MAX_DEPTH + 1)
            .map(|i| format!("l{i}.policy"))
            .collect();
        let texts: Vec<String> = (0..names.len())
            .map(|i| match names.get(i + 1) {
                Some(next) => format!("library l{i}\nuse \"{next}\"\n"),
                None => format!("library l{i}\n"),
            })
            .collect();
        let files: Vec<(&str, &str)> = names
            .iter()
            .map(String::as_str)
            .zip(texts.iter().map(String::as_str))
            .collect();
        let dir = folder("deep", &files);
        let text = "policy p\nuse \"l0.policy\"\noutcomes g\notherwise g\n";
        let loaded = load(&dir.join("p.policy").display().to_string(), text);
        assert_eq!(load_codes(loaded), ["policy::import::too_deep"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_library_is_told_by_its_header() {
        assert!(is_library("# shared\nlibrary common\nlet x = 1\n"));
        assert!(!is_library("policy p\noutcomes g\notherwise g\n"));
        assert!(!is_library("library"));
    }
}
