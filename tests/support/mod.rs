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

/// The Beijing policy, compiled, with its example facts.
pub fn beijing() -> (policyc::Policy, policyc::Facts) {
    let policy = policyc::Policy::load(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    let facts = policy
        .facts(&read(FACTS))
        .unwrap_or_else(|e| unreachable!("{e}"));
    (policy, facts)
}

/// One case of a cases file (JSON Lines of `name`, `about`, `now`,
/// `person`, `expect`).
pub struct Case {
    /// Its name.
    pub name: String,
    /// The whole line.
    pub json: serde_json::Value,
    /// `now`, read in the policy's zone.
    pub now: i64,
    /// The person, as JSON text.
    pub person: String,
}

/// The cases of a cases file, their instants read by `policy`.
pub fn cases(policy: &policyc::Policy, text: &str) -> Vec<Case> {
    text.lines()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let name = json["name"].as_str().unwrap_or("?").to_owned();
            let now = policy
                .instant(json["now"].as_str().unwrap_or(""))
                .unwrap_or_else(|e| unreachable!("{name}: {e}"));
            let person = json["person"].to_string();
            Case {
                name,
                json,
                now,
                person,
            }
        })
        .collect()
}
