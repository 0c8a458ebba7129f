//! Every class of policy error, as a person sees it: the rendered
//! diagnostics (without colour) of each corpus file.

/// Compiles a corpus file under its file name, as a person would see it.
fn compile(path: &std::path::Path) -> Result<policyc::Policy, policyc::PolicyErrors> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    policyc::Policy::compile(&name, &text)
}

fn rendered(path: &std::path::Path) -> String {
    match compile(path) {
        Ok(_) => "checks without errors".to_owned(),
        Err(errors) => {
            let mut out = format!("{errors}\n\n");
            for e in &errors.errors {
                out.push_str(&policyc::render(
                    e.as_ref(),
                    policyc::ErrorFormat::Human { colour: false },
                ));
                out.push('\n');
            }
            out
        }
    }
}

#[test]
fn check_errors() {
    insta::glob!("corpus/check/*.policy", |path| {
        insta::assert_snapshot!(rendered(path));
    });
}

#[test]
fn syntax_errors() {
    insta::glob!("corpus/syntax/*.policy", |path| {
        insta::assert_snapshot!(rendered(path));
    });
}

/// The same diagnostics for logs and for tools: one line, or one JSON
/// object, per diagnostic.
#[test]
fn plain_and_json_formats() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/check/names.policy");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let Err(errors) = policyc::Policy::compile("names.policy", &text) else {
        unreachable!("names.policy has errors")
    };
    for (name, format) in [
        ("plain", policyc::ErrorFormat::Plain),
        ("json", policyc::ErrorFormat::Json),
    ] {
        let out: String = errors
            .errors
            .iter()
            .map(|e| policyc::render(e.as_ref(), format))
            .collect();
        insta::assert_snapshot!(format!("names-{name}"), out);
    }
}

/// Every lint, as a person sees it.
#[test]
fn lints() {
    insta::glob!("corpus/lint/*.policy", |path| {
        let out = match compile(path) {
            Ok(p) => p
                .warnings()
                .iter()
                .map(|w| policyc::render(w, policyc::ErrorFormat::Human { colour: false }))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("does not check: {e}"),
        };
        insta::assert_snapshot!(out);
    });
}

/// The shipped policies raise no warning.
#[test]
fn shipped_policies_are_clean() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let name = entry.path().display().to_string();
        let warnings = match policyc::Compiled::compile(&name, &text) {
            Ok(policyc::Compiled::Policy(p)) => p.warnings().to_vec(),
            Ok(policyc::Compiled::Library(l)) => l.warnings().to_vec(),
            Err(e) => unreachable!("{e}"),
        };
        assert!(warnings.is_empty(), "{name}: {:?}", warnings);
    }
}
