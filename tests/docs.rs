//! Every example in the documentation checks, and passes its own tests:
//! the ```policy blocks of `docs/language.md` and `README.md`.

const PREAMBLE: &str = r#"
policy example
timezone "Asia/Shanghai"
outcomes green < popup
input person {
  id: text?
  age: number?
  phones: list of { number: text, bound_at: time, unbound_at: time?, itinerary_checked: bool }
  stays: list of { phone: text, region: region, from: time, to: time? }
  tests: list of { sampled_at: time, result: "negative" | "positive" | "pending" }
}
facts { case_counties: set of region }
"#;

/// The ```policy blocks of a Markdown text.
fn examples(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in markdown.lines() {
        match (&mut block, line.trim_end()) {
            (None, "```policy") => block = Some(String::new()),
            (Some(b), "```") => {
                out.push(std::mem::take(b));
                block = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// The example as a whole policy: fragments get the preamble, and an
/// `otherwise` if they have none.
fn whole(example: &str) -> String {
    let first = example
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if first.starts_with("policy ") || first.starts_with("library ") {
        return example.to_owned();
    }
    let otherwise = if example.contains("otherwise") {
        ""
    } else {
        "otherwise green\n"
    };
    format!("{PREAMBLE}{example}{otherwise}")
}

fn check_all(file: &str) -> usize {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| unreachable!("{file}: {e}"));
    let examples = examples(&text);
    for (i, example) in examples.iter().enumerate() {
        let name = format!("{file} example {}", i + 1);
        // A library checks on its own, and is the file the examples use.
        if let Some(file) = library_file(example) {
            let shipped = std::fs::read_to_string(path.with_file_name("").join(&file))
                .unwrap_or_else(|e| unreachable!("{name}: {file}: {e}"));
            assert_eq!(shipped, *example, "{name} is not {file}");
            match policyc::Compiled::compile(&name, example) {
                Ok(policyc::Compiled::Library(_)) => continue,
                Ok(policyc::Compiled::Policy(_)) => unreachable!("{name} is a library"),
                Err(e) => unreachable!("{name} does not check: {e}"),
            }
        }
        match policyc::Policy::compile(&name, &whole(example)) {
            Err(errors) => {
                let rendered: Vec<String> = errors
                    .errors
                    .iter()
                    .map(|e| {
                        policyc::render(e.as_ref(), policyc::ErrorFormat::Human { colour: false })
                    })
                    .collect();
                unreachable!("{name} does not check:\n{}", rendered.join("\n"));
            }
            // An example's own tests hold too.
            Ok(policy) => {
                for report in policyc::test_runner::run(&policy) {
                    assert!(
                        report.passed(),
                        "{name}, test {:?}: {:?}",
                        report.name,
                        report.failures
                    );
                }
            }
        }
    }
    examples.len()
}

/// The file a library example is, beside the Markdown: the one its text
/// names as `docs/examples/NAME.policy`.
fn library_file(example: &str) -> Option<String> {
    let first = example
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let name = first.strip_prefix("library ")?.split_whitespace().next()?;
    Some(format!("examples/{}.policy", name.replace('_', "-")))
}

#[test]
fn the_language_reference_examples_check() {
    assert!(check_all("docs/language.md") >= 10);
}

#[test]
fn the_readme_example_checks() {
    assert_eq!(check_all("README.md"), 1);
}
