//! Shared definitions (issue 10 item 4): a policy `use`s library files,
//! whose schemas, `let`s and `remedy`s it is checked with as one program;
//! diagnostics name the file and line of every definition involved; cycles,
//! clashes and bad paths do not check; `check`, `eval`, `explain`, `test`,
//! `fmt` and `check --cost` work through imports, and a folder of dated
//! versions may share a library.

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{lines, run, stderr, stdout};

const FIXTURES: &str = "tests/fixtures/imports";
const VERSIONS: &str = "tests/fixtures/imports/versions";
const PERSON: &str =
    r#"{"id": "a", "tests": [{"sampled_at": "2021-11-03T22:00", "result": "negative"}]}"#;

/// What `policyc check` writes about each file, in `format`.
fn check(file: &str, format: &str) -> String {
    let o = run(
        &[
            "check",
            &format!("{FIXTURES}/{file}"),
            "--error-format",
            format,
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{file}: {}", stdout(&o));
    stderr(&o)
}

/// Every error about imports, each with labels in each file involved.
#[test]
fn import_errors_name_every_file() {
    for file in [
        "errors/cycle.policy",
        "errors/clash.policy",
        "errors/input-name.policy",
        "errors/paths.policy",
        "bad-library/library.policy",
        "bad-library/uses.policy",
        "bad-library/uses-type.policy",
        "words/zone.policy",
        "words/clash.policy",
    ] {
        let name = file.replace(['/', '.'], "-");
        insta::assert_snapshot!(name, check(file, "human"));
    }
}

/// A library that does not parse leaves the policy checked as far as it
/// goes: the library's syntax error, then the policy's own errors, but not
/// the names the library would define. (Its fixtures are apart, for
/// `fmt --check` of the others.)
#[test]
fn a_broken_library_leaves_the_policy_checked() {
    let o = run(
        &[
            "check",
            "tests/fixtures/imports-broken/uses.policy",
            "--error-format",
            "human",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("policy::syntax::foreign"), "{err}");
    assert!(err.contains("policy::check::operands"), "{err}");
    assert!(!err.contains("unknown_name"), "{err}");
    insta::assert_snapshot!("broken_library", err);
}

/// A check error in a library, found through a policy that uses it, is
/// placed in the library's file, for logs and tools too.
#[test]
fn an_error_in_a_library_is_placed_in_its_file() {
    let plain = check("bad-library/uses-type.policy", "plain");
    assert!(
        plain.starts_with(
            "tests/fixtures/imports/bad-library/type.policy:3:15: error[policy::check::operands]"
        ),
        "{plain}"
    );
    let json = check("bad-library/uses-type.policy", "json");
    let first: serde_json::Value =
        serde_json::from_str(json.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(
        first["file"],
        "tests/fixtures/imports/bad-library/type.policy"
    );
    assert_eq!(first["line"], 3);
}

/// A library is checked on its own; two libraries that use a third read it
/// once, without a clash of its names with themselves.
#[test]
fn libraries_check_on_their_own_and_in_a_diamond() {
    let files =
        ["base", "recent", "remedy", "entry"].map(|f| format!("{FIXTURES}/diamond/{f}.policy"));
    let mut args = vec!["check".to_owned()];
    args.extend(files);
    let o = run(&args, "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

/// A library is no policy to decide with: `eval` of one says so.
#[test]
fn a_library_does_not_decide() {
    let library = format!("{VERSIONS}/common.policy");
    let o = run(
        &[
            "eval",
            &library,
            "--input",
            "-",
            "--now",
            "2021-11-06T10:00",
        ],
        PERSON,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("policy::import::library"), "{err}");
    assert!(
        err.contains("`tests/fixtures/imports/versions/common.policy` is a library: it has no rules to decide with"),
        "{err}"
    );
}

/// Two dated versions sharing one library in their folder: `eval DIR`
/// decides by the version in force and takes the library for no version,
/// `test DIR` runs each version's tests and checks the library.
#[test]
fn dated_versions_share_a_library() {
    for (now, version, outcome) in [
        ("2021-11-04T23:59:59", "2021-10-30", "admitted"),
        ("2021-11-06T10:00", "2021-11-05", "refused"),
    ] {
        let o = run(
            &["eval", VERSIONS, "--input", "-", "--now", now, "--remedies"],
            PERSON,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let d = &lines(&o)[0];
        assert_eq!(d["policy"]["version"], version, "at {now}");
        assert_eq!(d["outcome"], outcome, "at {now}");
        // The library's remedy, for the policy that uses it.
        if outcome == "refused" {
            assert_eq!(d["remedies"][0]["remedy"], "take a test");
        }
    }
    let o = run(&["test", VERSIONS, "--coverage", "--deny-warnings"], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

/// The explanation quotes a condition written in the library, and
/// `check --cost` counts the library's `let` and `remedy` for the policy.
#[test]
fn explain_and_cost_see_the_library() {
    let policy = format!("{VERSIONS}/2021-11-05.policy");
    let o = run(
        &[
            "explain",
            &policy,
            "--input",
            "-",
            "--now",
            "2021-11-06T10:00",
        ],
        PERSON,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("explained", stdout(&o));
    // The condition is the library's (`recent.policy`), quoted from there.
    let entry = format!("{FIXTURES}/diamond/entry.policy");
    let o = run(
        &[
            "explain",
            &entry,
            "--input",
            "-",
            "--now",
            "2021-11-06T10:00Z",
        ],
        PERSON,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("(sampled_at within 48h)"), "{text}");
    insta::assert_snapshot!("explained_from_a_library", text);
    let o = run(&["check", &policy, "--cost"], "");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!("cost", stdout(&o));
}

/// A library's `timezone`, `language` and `messages` are the policy's
/// that uses it: its instants are read in the library's zone, it is
/// explained in the library's language with the library's words for the
/// library's names, beside its own words (`--lang en`).
#[test]
fn a_policy_speaks_and_reads_time_as_its_library() {
    let entry = format!("{FIXTURES}/words/entry.policy");
    let person = r#"{"tests": [{"sampled_at": "2021-10-31T09:30Z", "result": "negative"}]}"#;
    let explain = |lang: &[&str]| {
        let mut args = vec![
            "explain",
            &entry,
            "--input",
            "-",
            "--now",
            "2021-11-02T10:00",
        ];
        args.extend_from_slice(lang);
        let o = run(&args, person);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let fr = explain(&[]);
    assert!(fr.contains("10:00 (Europe/Paris)"), "{fr}");
    assert!(fr.contains("prélevé le"), "{fr}");
    insta::assert_snapshot!("words_fr", fr);
    insta::assert_snapshot!("words_en", explain(&["--lang", "en"]));
    let o = run(&["test", &entry, "--deny-warnings"], "");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// Imports and library headers have a canonical layout too.
#[test]
fn fixtures_are_formatted() {
    let o = run(&["fmt", "--check", FIXTURES], "");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}
