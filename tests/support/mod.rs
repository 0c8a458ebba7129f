//! What the tests of decisions and explanations share: the Beijing policy,
//! its example facts, and reading a file of the repository.

use std::path::Path;

/// The Beijing policy.
pub const POLICY: &str = "policies/beijing-2021-10-30.policy";
/// Its example facts.
pub const FACTS: &str = "examples/beijing/facts.json";

/// A file of the repository, by its path from the root.
pub fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| unreachable!("{}: {e}", path.display()))
}
