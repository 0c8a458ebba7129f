//! The parsed AST of every shipped policy, so that a change to the grammar
//! or the lowering shows up as a reviewed diff.

#[test]
fn shipped_policies_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "policy"));
    paths.sort();
    assert!(!paths.is_empty(), "no policies in {}", dir.display());
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match policyc::syntax::parse(&text) {
            Ok(ast) => insta::assert_debug_snapshot!(stem, ast),
            Err(e) => unreachable!("{}: {e}", path.display()),
        }
    }
}
