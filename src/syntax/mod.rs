//! Text → AST: the pest grammar binding, the AST with spans, and syntax errors.

mod ast;
mod error;
mod parse;

pub use ast::*;
pub use error::SyntaxError;
pub use parse::{parse, parse_at};
