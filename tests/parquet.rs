//! Parquet end to end: the same people give the same decisions from Parquet
//! as from JSON Lines, decisions written as Parquet read back as the JSON
//! ones, and bad columnar input is reported as bad JSON is.

use std::fs::File;
use std::io::{BufReader, Write as _};
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[path = "support/binary.rs"]
#[allow(dead_code, reason = "each test file uses a part of it")]
mod binary;
use binary::{lines, run, stderr, stdout, temp};

#[path = "../benches/support/population.rs"]
mod population;

const POLICY: &str = "policies/beijing-2021-10-30.policy";
const FACTS: &str = "examples/beijing/facts.json";
const NOW: &str = "2021-11-01T10:00:00+08:00";

/// Writes JSON Lines as Parquet, with the schema Arrow's JSON reader
/// infers (instants stay strings, a field that is always null has the
/// null type), in batches of `batch` rows.
fn to_parquet(jsonl: &str, path: &Path, batch: usize) {
    to_parquet_groups(jsonl, path, batch, None);
}

/// [`to_parquet`] with row groups of at most `group` rows.
fn to_parquet_groups(jsonl: &str, path: &Path, batch: usize, group: Option<usize>) {
    let (schema, _) = arrow_json::reader::infer_json_schema(BufReader::new(jsonl.as_bytes()), None)
        .unwrap_or_else(|e| unreachable!("{e}"));
    let schema = Arc::new(schema);
    let reader = arrow_json::ReaderBuilder::new(Arc::clone(&schema))
        .with_batch_size(batch)
        .build(BufReader::new(jsonl.as_bytes()))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let file = File::create(path).unwrap_or_else(|e| unreachable!("{e}"));
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(group)
        .build();
    let mut writer = ArrowWriter::try_new(file, schema, Some(properties))
        .unwrap_or_else(|e| unreachable!("{e}"));
    for b in reader {
        writer
            .write(&b.unwrap_or_else(|e| unreachable!("{e}")))
            .unwrap_or_else(|e| unreachable!("{e}"));
    }
    writer.close().unwrap_or_else(|e| unreachable!("{e}"));
}

/// The generated population, as JSON Lines.
fn people(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        population::person(7, i).write_json(&mut out);
        out.push('\n');
    }
    out
}

fn eval(input: &Path, extra: &[&str]) -> std::process::Output {
    let input = input.display().to_string();
    let mut args = vec![
        "eval", POLICY, "--input", &input, "--facts", FACTS, "--now", NOW,
    ];
    args.extend(extra);
    run(&args, "")
}

/// A Parquet file's rows, as JSON Lines objects.
fn read_back(path: &Path) -> Vec<serde_json::Value> {
    let file = File::open(path).unwrap_or_else(|e| unreachable!("{e}"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .unwrap_or_else(|e| unreachable!("{e}"));
    let batches: Vec<RecordBatch> = reader
        .map(|b| b.unwrap_or_else(|e| unreachable!("{e}")))
        .collect();
    let mut out = Vec::new();
    {
        let mut writer = arrow_json::LineDelimitedWriter::new(&mut out);
        for b in &batches {
            writer.write(b).unwrap_or_else(|e| unreachable!("{e}"));
        }
        writer.finish().unwrap_or_else(|e| unreachable!("{e}"));
    }
    String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| unreachable!("{e}")))
        .collect()
}

#[test]
fn the_same_people_give_the_same_decisions_from_parquet_as_from_json_lines() {
    let jsonl = people(3000);
    let (json_path, parquet_path) = (temp("same.jsonl"), temp("same.parquet"));
    std::fs::write(&json_path, &jsonl).unwrap_or_else(|e| unreachable!("{e}"));
    // Batches smaller than the reader's, so that rows span several.
    to_parquet(&jsonl, &parquet_path, 1000);
    for jobs in ["1", "2"] {
        let extra = ["--next-change", "--jobs", jobs];
        let from_json = eval(&json_path, &extra);
        let from_parquet = eval(&parquet_path, &extra);
        assert_eq!(from_json.status.code(), Some(0), "{}", stderr(&from_json));
        assert_eq!(
            from_parquet.status.code(),
            Some(0),
            "{}",
            stderr(&from_parquet)
        );
        assert_eq!(stdout(&from_json).lines().count(), 3000);
        assert!(
            stdout(&from_json) == stdout(&from_parquet),
            "with --jobs {jobs}"
        );
    }
}

/// Row groups smaller than the reader's batches, and not a multiple of
/// them: each is read by itself, its dictionaries kept from batch to
/// batch and new ones read in the next, and the decisions are JSON's.
#[test]
fn people_of_many_row_groups_give_the_same_decisions_as_from_json_lines() {
    let jsonl = people(2500);
    let (json_path, parquet_path) = (temp("groups.jsonl"), temp("groups.parquet"));
    std::fs::write(&json_path, &jsonl).unwrap_or_else(|e| unreachable!("{e}"));
    to_parquet_groups(&jsonl, &parquet_path, 2500, Some(700));
    let file = File::open(&parquet_path).unwrap_or_else(|e| unreachable!("{e}"));
    let groups = ParquetRecordBatchReaderBuilder::try_new(file)
        .map(|b| b.metadata().num_row_groups())
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(groups, 4);
    for jobs in ["1", "2"] {
        let extra = ["--jobs", jobs];
        let from_json = eval(&json_path, &extra);
        let from_parquet = eval(&parquet_path, &extra);
        assert_eq!(
            from_parquet.status.code(),
            Some(0),
            "{}",
            stderr(&from_parquet)
        );
        assert_eq!(stdout(&from_parquet).lines().count(), 2500);
        assert!(
            stdout(&from_json) == stdout(&from_parquet),
            "with --jobs {jobs}"
        );
    }
}

#[test]
fn explain_reads_parquet_too() {
    let jsonl = std::fs::read_to_string("examples/beijing/people.jsonl")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let path = temp("explain.parquet");
    to_parquet(&jsonl, &path, 4);
    let input = path.display().to_string();
    let args = |input: &str| {
        let args = [
            "explain", POLICY, "--input", input, "--facts", FACTS, "--now", NOW, "--lang", "en",
        ];
        run(&args, jsonl.as_bytes())
    };
    let (from_parquet, from_json) = (args(&input), args("-"));
    assert_eq!(
        from_parquet.status.code(),
        Some(0),
        "{}",
        stderr(&from_parquet)
    );
    assert_eq!(stdout(&from_parquet), stdout(&from_json));
}

#[test]
fn decisions_written_as_parquet_are_the_json_decisions() {
    let jsonl = people(500);
    let (json_path, parquet_path, out) = (
        temp("out.jsonl"),
        temp("out-in.parquet"),
        temp("decisions.parquet"),
    );
    std::fs::write(&json_path, &jsonl).unwrap_or_else(|e| unreachable!("{e}"));
    to_parquet(&jsonl, &parquet_path, 128);
    let json = eval(&json_path, &["--next-change"]);
    let expected = lines(&json);
    for input in [&parquet_path, &json_path] {
        let written = eval(
            input,
            &["--next-change", "--output", &out.display().to_string()],
        );
        assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
        assert_eq!(stdout(&written), "");
        let rows = read_back(&out);
        assert_eq!(rows.len(), expected.len());
        for (row, decision) in rows.iter().zip(&expected) {
            assert_eq!(row["id"], decision["id"]);
            assert_eq!(row["outcome"], decision["outcome"]);
            assert_eq!(row["kind"], decision["kind"]);
            let fired: Vec<&serde_json::Value> = decision["rules"]
                .as_array()
                .map(|r| r.iter().map(|r| &r["name"]).collect())
                .unwrap_or_default();
            let names: Vec<&serde_json::Value> = row["rules"]
                .as_array()
                .map(|r| r.iter().collect())
                .unwrap_or_default();
            assert_eq!(names, fired);
            assert_eq!(
                row.get("warnings").cloned().unwrap_or_default(),
                decision["warnings"]
            );
            match decision["next_change"].as_object() {
                Some(next) => assert_eq!(row["next_outcome"], next["outcome"]),
                None => assert!(row.get("next_outcome").is_none()),
            }
            assert!(row.get("error").is_none());
        }
    }
    // `rule` is the deciding rule: the first fired one with the outcome.
    let rows = read_back(&out);
    assert!(
        rows.iter()
            .any(|r| r["outcome"] == "popup" && r["rule"].is_string())
    );
    assert!(
        rows.iter()
            .any(|r| r["outcome"] == "green" && r.get("rule").is_none())
    );
}

#[test]
fn a_bad_row_is_that_rows_error_and_the_others_are_decided() {
    let good = r#"{"id": "g", "phones": [{"number": "1", "bound_at": "2021-01-05T09:00:00+08:00", "itinerary_checked": true}], "stays": [{"phone": "1", "region": "152923", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-26T18:00:00+08:00"}]}"#;
    let bad_instant = r#"{"id": "t", "phones": [], "stays": [{"phone": "1", "region": "152923", "from": "2021-10-34T08:00:00+08:00", "to": null}]}"#;
    let bad_region = r#"{"id": "r", "phones": [], "stays": [{"phone": "1", "region": "15292", "from": "2021-10-24T08:00:00+08:00", "to": null}]}"#;
    let missing = r#"{"id": "m", "phones": [], "stays": [{"phone": "1", "from": "2021-10-24T08:00:00+08:00", "to": null}]}"#;
    let jsonl = [good, bad_instant, bad_region, missing, good].join("\n");
    let path = temp("bad-rows.parquet");
    to_parquet(&jsonl, &path, 8);
    let out = eval(&path, &["--jobs", "1"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = stderr(&out).replace(&path.display().to_string(), "bad-rows.parquet");
    insta::assert_snapshot!(format!("{}\n{stderr}", stdout(&out)));
    let written = temp("bad-rows-out.parquet");
    let out = eval(&path, &["--output", &written.display().to_string()]);
    assert_eq!(out.status.code(), Some(3));
    let rows = read_back(&written);
    let errors: Vec<bool> = rows.iter().map(|r| r.get("error").is_some()).collect();
    assert_eq!(errors, [false, true, true, true, false]);
    assert_eq!(rows[4]["outcome"], "popup");
    assert!(rows[1].get("outcome").is_none());
}

#[test]
fn a_column_of_the_wrong_type_is_named_with_the_type_it_must_have() {
    let jsonl = r#"{"id": "x", "stays": [{"phone": "1", "region": 152923, "from": "2021-10-24T08:00:00+08:00"}]}"#;
    let path = temp("wrong-type.parquet");
    to_parquet(jsonl, &path, 8);
    let out = eval(&path, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!(stderr(&out));
}

#[test]
fn a_file_that_is_not_parquet_is_named() {
    let path = temp("broken.parquet");
    let mut file = File::create(&path).unwrap_or_else(|e| unreachable!("{e}"));
    file.write_all(b"PAR1 but nothing else")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let out = eval(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("as Parquet"), "{}", stderr(&out));
}

#[test]
fn parquet_output_refuses_what_it_cannot_hold() {
    let out = eval(
        Path::new("examples/beijing/people.jsonl"),
        &[
            "--timeline",
            "--output",
            &temp("refused.parquet").display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out));
}

/// `diff` of the same people from Parquet and from JSON Lines: the same
/// report, on one thread and two.
#[test]
fn diff_reads_parquet_and_reports_as_from_json_lines() {
    let jsonl = people(3000);
    let (json_path, parquet_path) = (temp("diff.jsonl"), temp("diff.parquet"));
    std::fs::write(&json_path, &jsonl).unwrap_or_else(|e| unreachable!("{e}"));
    to_parquet(&jsonl, &parquet_path, 1000);
    let diff = |input: &Path, jobs: &str| {
        let input = input.display().to_string();
        let args = [
            "diff",
            POLICY,
            "tests/fixtures/diff/beijing-24h.policy",
            "--input",
            &input,
            "--facts",
            FACTS,
            "--now",
            NOW,
            "--horizon",
            "3d",
            "--format",
            "json",
            "--jobs",
            jobs,
        ];
        let o = run(&args, "");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let from_json = diff(&json_path, "2");
    let report: serde_json::Value =
        serde_json::from_str(&from_json).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(report["people"], 3000);
    assert!(
        report["changed"].as_u64().is_some_and(|n| n > 0),
        "a rule change that changes someone: {report}"
    );
    for jobs in ["1", "2"] {
        assert!(diff(&parquet_path, jobs) == from_json, "with --jobs {jobs}");
    }
    // Versions that declare their input differently: each reads the
    // columns it declares, as each reads the keys of a JSON line. A field
    // added (one the file has no column for: absent for every person),
    // and the same removed (the versions swapped); the report is the one
    // from JSON Lines.
    let policy = std::fs::read_to_string(POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    for (field, undecided) in [("nickname: text?", 0)] {
        let other = temp("diff-other/other.policy");
        binary::copy_libraries(&temp("diff-other"));
        let added = format!("input person {{\n  {field}\n");
        let text = policy.replacen("input person {\n", &added, 1);
        std::fs::write(&other, text).unwrap_or_else(|e| unreachable!("{e}"));
        let other = other.display().to_string();
        let versions = [(POLICY, other.as_str()), (other.as_str(), POLICY)];
        for (swapped, (old, new)) in versions.into_iter().enumerate() {
            let diff = |input: &Path| {
                let input = input.display().to_string();
                let args = [
                    "diff", old, new, "--input", &input, "--facts", FACTS, "--now", NOW,
                    "--format", "json", "--jobs", "2",
                ];
                let o = run(&args, "");
                let expected = if undecided == 0 { 0 } else { 3 };
                assert_eq!(o.status.code(), Some(expected), "{}", stderr(&o));
                stdout(&o)
            };
            let from_json = diff(&json_path);
            assert_eq!(
                diff(&parquet_path),
                from_json,
                "`{field}`, swapped: {swapped}"
            );
            let report: serde_json::Value =
                serde_json::from_str(&from_json).unwrap_or_else(|e| unreachable!("{e}"));
            let errors = &report["errors"];
            let side = if swapped == 1 { "old_only" } else { "new_only" };
            assert_eq!(errors[side], undecided, "`{field}`: {errors}");
            assert_eq!(report["decided"], 3000 - undecided);
        }
    }
}

#[test]
fn a_bad_json_line_written_as_parquet_is_reported_at_its_line() {
    let input = temp("bad-line.jsonl");
    std::fs::write(
        &input,
        "{\"id\": \"a\"}\n{\"id\": \"b\"}\n{\"id\": \"c\", \"stays\": [{\"phone\": \"1\", \"region\": \"x\", \"from\": \"2021-10-30T00:00:00+08:00\"}]}\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    let written = temp("bad-line-out.parquet");
    let to_parquet = eval(&input, &["--output", &written.display().to_string()]);
    let to_json = eval(&input, &[]);
    assert_eq!(to_parquet.status.code(), Some(3));
    assert_eq!(stderr(&to_parquet), stderr(&to_json));
    assert!(stderr(&to_json).contains(": line 3, "));
}
