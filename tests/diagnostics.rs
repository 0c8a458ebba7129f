//! Every class of policy error, as a person sees it: the rendered
//! diagnostics (without colour) of each corpus file.

fn rendered(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let name = format!(
        "{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    match policyc::Policy::compile(&name, &text) {
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
