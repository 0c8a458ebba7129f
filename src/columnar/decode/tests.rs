use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, StringDictionaryBuilder, StructBuilder};
use arrow_array::cast::AsArray as _;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array as _, ArrayRef, BooleanArray, NullArray, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Fields};

use super::Rows;
use crate::Policy;

fn policy() -> Policy {
    Policy::compile(
        "p.policy",
        r#"
        policy p
        timezone "Asia/Shanghai"
        outcomes green < popup
        input person {
          id: text?,
          at: time,
          tags: set of "a" | "b",
          stays: list of { region: region, from: time, to: time? }
        }
        rule late "late" when person.at > 2021-11-01T00:00:00+08:00 then popup
        otherwise green
        "#,
    )
    .unwrap_or_else(|e| unreachable!("{e:?}"))
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap_or_else(|e| unreachable!("{e}"))
}

/// Two rows of stays, the first with one stay, the second with none.
fn stays() -> ArrayRef {
    let fields = Fields::from(vec![
        Field::new("region", DataType::Utf8, true),
        Field::new("from", DataType::Utf8, true),
    ]);
    let mut list = ListBuilder::new(StructBuilder::from_fields(fields, 2));
    let stay = list.values();
    if let Some(b) = stay.field_builder::<StringBuilder>(0) {
        b.append_value("152923");
    }
    if let Some(b) = stay.field_builder::<StringBuilder>(1) {
        b.append_value("2021-10-24T08:00:00+08:00");
    }
    stay.append(true);
    list.append(true);
    list.append(true);
    Arc::new(list.finish())
}

/// Typed timestamps, a dictionary of choices, a column of only nulls and
/// a list of structs decode as the same people written in JSON do.
#[test]
fn arrow_types_decode_as_their_json() {
    let policy = policy();
    let at = TimestampMicrosecondArray::from(vec![1_635_724_800_000_000, 1_635_638_400_000_000])
        .with_timezone("+00:00");
    let mut tags = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
    tags.values().append_value("b");
    tags.values().append_value("a");
    tags.values().append_value("b");
    tags.append(true);
    tags.append(false);
    let rows = batch(vec![
        ("id", Arc::new(NullArray::new(2)) as ArrayRef),
        ("at", Arc::new(at)),
        ("tags", Arc::new(tags.finish())),
        ("stays", stays()),
    ]);
    let rows = Rows::new(&rows, &policy).unwrap_or_else(|e| unreachable!("{e}"));
    let json = [
        r#"{"at": "2021-11-01T00:00:00Z", "tags": ["a", "b"], "stays": [{"region": "152923", "from": "2021-10-24T08:00:00+08:00"}]}"#,
        r#"{"at": "2021-10-31T00:00:00Z"}"#,
    ];
    for (row, json) in json.iter().enumerate() {
        let decoded = rows.decode(row).unwrap_or_else(|e| unreachable!("{e}"));
        let expected = policy
            .read_json(json)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(decoded.value, expected.value, "row {row}");
    }
}

/// A timestamp without a zone is a wall-clock time in the policy's zone,
/// as an instant written without an offset is.
#[test]
fn a_timestamp_without_a_zone_is_read_in_the_policys() {
    let policy = policy();
    let at = TimestampMicrosecondArray::from(vec![1_635_724_800_000_000]);
    let rows = batch(vec![("at", Arc::new(at) as ArrayRef)]);
    let rows = Rows::new(&rows, &policy).unwrap_or_else(|e| unreachable!("{e}"));
    let decoded = rows.decode(0).unwrap_or_else(|e| unreachable!("{e}"));
    let expected = policy
        .read_json(r#"{"at": "2021-11-01T00:00:00"}"#)
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(decoded.value, expected.value);
}

#[test]
fn a_null_in_a_required_field_is_that_rows_error() {
    let policy = policy();
    let at = TimestampMicrosecondArray::from(vec![Some(0), None]).with_timezone("+00:00");
    let rows = batch(vec![("at", Arc::new(at) as ArrayRef)]);
    let rows = Rows::new(&rows, &policy).unwrap_or_else(|e| unreachable!("{e}"));
    assert!(rows.decode(0).is_ok());
    let error = rows.decode(1).err().map(|e| e.message);
    assert_eq!(
        error.as_deref(),
        Some("the record: required field `at` is missing")
    );
}

#[test]
fn a_missing_column_of_a_required_field_fails_each_row() {
    let policy = policy();
    let rows = batch(vec![(
        "id",
        Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
    )]);
    let rows = Rows::new(&rows, &policy).unwrap_or_else(|e| unreachable!("{e}"));
    let error = rows.decode(0).err().map(|e| e.message);
    assert_eq!(
        error.as_deref(),
        Some("the record: required field `at` is missing")
    );
}

#[test]
fn a_column_of_the_wrong_type_is_refused_before_any_row() {
    let policy = policy();
    let rows = batch(vec![(
        "at",
        Arc::new(BooleanArray::from(vec![true])) as ArrayRef,
    )]);
    let error = Rows::new(&rows, &policy).err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("column `at` holds booleans, but the policy declares `at` as `time`")
    );
    let typed = TimestampMicrosecondArray::from(vec![0]).with_timezone("+00:00");
    let rows = batch(vec![("id", Arc::new(typed) as ArrayRef)]);
    let error = Rows::new(&rows, &policy).err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("column `id` holds timestamps, but the policy declares `id` as `text`?")
    );
}

#[test]
fn strictly_an_undeclared_column_is_an_error_and_otherwise_a_near_one_warns() {
    let policy = policy();
    let at = TimestampMicrosecondArray::from(vec![0]).with_timezone("+00:00");
    let rows = batch(vec![
        ("at", Arc::new(at) as ArrayRef),
        ("stay", Arc::new(StringArray::from(vec!["x"]))),
    ]);
    let lenient = Rows::new(&rows, &policy).unwrap_or_else(|e| unreachable!("{e}"));
    let warnings = lenient.decode(0).map(|d| d.warnings).unwrap_or_default();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].to_string().contains("did you mean `stays`"));
    let strict = policy.clone().strict(true);
    let error = Rows::new(&rows, &strict).err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("column `stay` is not declared by the policy; did you mean `stays`?")
    );
}

/// People written as JSON Lines, read into Arrow as `schema` says.
fn from_json(schema: arrow_schema::Schema, lines: &[&str]) -> RecordBatch {
    let text = lines.join("\n");
    let mut reader = arrow_json::ReaderBuilder::new(Arc::new(schema))
        .with_batch_size(lines.len())
        .build(text.as_bytes())
        .unwrap_or_else(|e| unreachable!("{e}"));
    reader
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| unreachable!("one batch"))
}

/// The schema of the people of [`decoded_alike`].
fn people_schema() -> arrow_schema::Schema {
    let list = |ty| DataType::List(Arc::new(Field::new("item", ty, true)));
    let stay = Fields::from(vec![
        Field::new("region", DataType::Utf8, true),
        Field::new("from", DataType::Utf8, true),
        Field::new(
            "to",
            DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("+00:00".into())),
            true,
        ),
    ]);
    arrow_schema::Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("at", DataType::Utf8, true),
        Field::new("tags", list(DataType::Utf8), true),
        Field::new("stays", list(DataType::Struct(stay)), true),
    ])
}

/// `lines` read into Arrow, as they are and through Parquet, decoded row
/// by row: each range of rows decoded column by column must give them
/// alike. `nulls`: whether the column of stays has nulls (of the lists or
/// of the stays in them).
fn decoded_alike(lines: &[&str], nulls: bool) -> Vec<String> {
    let policy = policy();
    let plain = from_json(people_schema(), lines);
    let path = std::env::temp_dir().join(format!(
        "policyc-columns-{}-{nulls}.parquet",
        std::process::id()
    ));
    let file = std::fs::File::create(&path).unwrap_or_else(|e| unreachable!("{e}"));
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, plain.schema(), None)
        .unwrap_or_else(|e| unreachable!("{e}"));
    writer.write(&plain).unwrap_or_else(|e| unreachable!("{e}"));
    writer.close().unwrap_or_else(|e| unreachable!("{e}"));
    let read = super::super::ParquetFile::open(&path, &policy)
        .and_then(|mut f| f.next().unwrap_or_else(|| unreachable!("one batch")))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let _ = std::fs::remove_file(&path);
    assert!(
        matches!(read.column(2).data_type(), DataType::List(e) if matches!(e.data_type(), DataType::Dictionary(..)))
    );
    let stays = read.column(3);
    let stay = stays
        .as_list_opt::<i32>()
        .map(|l| l.values().logical_nulls());
    assert_eq!(
        stays.logical_nulls().is_some() || stay.is_some_and(|n| n.is_some()),
        nulls
    );
    let mut one_by_one = Vec::new();
    for batch in [plain, read] {
        let rows = Rows::new(&batch, &policy).unwrap_or_else(|e| unreachable!("{e}"));
        one_by_one = (0..rows.len())
            .map(|row| format!("{:?}", rows.decode(row)))
            .collect();
        for start in 0..rows.len() {
            for end in start..=rows.len() {
                let together: Vec<_> = (rows.decode_range(start..end).iter())
                    .map(|d| format!("{d:?}"))
                    .collect();
                assert_eq!(together, one_by_one[start..end], "rows {start}..{end}");
            }
        }
    }
    one_by_one
}

const GOOD: &str = r#"{"id": "a", "at": "2021-11-01T08:00:00+08:00", "tags": ["b", "a", "b"], "stays": [{"region": "110105", "from": "2021-10-24T08:00:00+08:00", "to": "2021-10-25T08:00:00+08:00"}, {"region": "152923", "from": "2021-10-25T08:00:00+08:00"}]}"#;

/// Decoding many rows at once, column by column, gives every row as
/// decoding it alone does: the same person, or the same error, with the
/// same warnings; plain strings, and the dictionaries strings are read
/// as from Parquet, alike.
#[test]
fn rows_decoded_column_by_column_are_the_rows_decoded_one_by_one() {
    let lines = [
        GOOD,
        r#"{"at": "2021-11-01T08:00:00+08:00", "tags": ["c"]}"#,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [{"region": "11010x", "from": "2021-10-24T08:00:00+08:00"}]}"#,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [{"region": "999999", "from": "2021-10-24T08:00:00+08:00"}]}"#,
        r#"{"id": "no time", "stays": []}"#,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [null, {"region": "110105", "from": "2021-10-24T08:00:00+08:00"}]}"#,
        r#"{"at": "2021-11-01", "tags": null, "stays": null}"#,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [{"region": "110105", "from": "yesterday"}]}"#,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [{"region": "110105"}]}"#,
        GOOD,
    ];
    let decoded = decoded_alike(&lines, true);
    let (good, bad) = (decoded.iter()).partition::<Vec<_>, _>(|d| d.starts_with("Ok"));
    assert_eq!((good.len(), bad.len()), (4, 6), "{decoded:#?}");
}

/// Lists none of which is null, of records none of which is null, are
/// made in the allocations their values are written into: a bad stay
/// makes its person bad, and only that person, wherever it is.
#[test]
fn lists_without_nulls_decode_as_rows_decoded_one_by_one() {
    let lines = [
        GOOD,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [{"region": "110105", "from": "2021-10-24T08:00:00+08:00"}, {"region": "11010x", "from": "2021-10-24T08:00:00+08:00"}]}"#,
        r#"{"id": "empty", "at": "2021-11-01T08:00:00+08:00", "stays": []}"#,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [{"region": "110105", "from": "yesterday"}]}"#,
        GOOD,
        r#"{"at": "2021-11-01T08:00:00+08:00", "stays": [{"region": "110105"}, {"region": "110105", "from": "2021-10-24T08:00:00+08:00"}]}"#,
        GOOD,
    ];
    let decoded = decoded_alike(&lines, false);
    let good: Vec<_> = (decoded.iter()).map(|d| d.starts_with("Ok")).collect();
    assert_eq!(
        good,
        [true, false, true, false, true, false, true],
        "{decoded:#?}"
    );
}

/// The rows of `tags` given, as a dictionary of the choices `values`.
fn tags(keys: &[i32], values: &ArrayRef) -> RecordBatch {
    let at = TimestampMicrosecondArray::from(vec![0; keys.len()]).with_timezone("+00:00");
    let keys = arrow_array::Int32Array::from(keys.to_vec());
    let tags = arrow_array::DictionaryArray::<Int32Type>::try_new(keys, Arc::clone(values))
        .unwrap_or_else(|e| unreachable!("{e}"));
    let offsets = arrow_buffer::OffsetBuffer::from_lengths(vec![1; tags.len()]);
    let field = Arc::new(Field::new("item", tags.data_type().clone(), true));
    let list = arrow_array::ListArray::new(field, offsets, Arc::new(tags), None);
    batch(vec![
        ("at", Arc::new(at) as ArrayRef),
        ("tags", Arc::new(list)),
    ])
}

/// The entries of the dictionary of the column of tags.
fn entries(rows: &Rows<'_>) -> Option<Arc<super::columns::Entries>> {
    let tags = rows.root.fields.get(2)?.as_ref()?;
    match &tags.data {
        super::Data::List { element, .. } => element.entries.clone(),
        _ => None,
    }
}

/// The batches of a Parquet row group share their dictionaries: the
/// values of the entries read in one batch serve the next, while a batch
/// with another dictionary (of the next row group) reads its own, and
/// each row is the person its own keys say.
#[test]
fn a_dictionary_the_batch_before_had_keeps_the_entries_it_read() {
    let policy = policy();
    let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
    let mut dictionaries = super::Dictionaries::default();
    let first = tags(&[1, 0], &values);
    let first =
        Rows::after(&first, &policy, &mut dictionaries).unwrap_or_else(|e| unreachable!("{e}"));
    let people = |rows: &Rows<'_>| {
        (rows.decode_range(0..rows.len()).into_iter())
            .map(|d| d.map(|d| d.value).unwrap_or_else(|e| unreachable!("{e}")))
            .collect::<Vec<_>>()
    };
    let json = |tag: &str| {
        let line = format!(r#"{{"at": "1970-01-01T00:00:00Z", "tags": ["{tag}"]}}"#);
        policy
            .read_json(&line)
            .map(|d| d.value)
            .unwrap_or_else(|e| unreachable!("{e}"))
    };
    assert_eq!(people(&first), [json("b"), json("a")]);
    let read = entries(&first).unwrap_or_else(|| unreachable!("a dictionary"));
    assert!(read.iter().all(|e| e.get().is_some()), "both entries read");
    let second = tags(&[0, 0, 1], &values);
    let second =
        Rows::after(&second, &policy, &mut dictionaries).unwrap_or_else(|e| unreachable!("{e}"));
    let kept = entries(&second).unwrap_or_else(|| unreachable!("a dictionary"));
    assert!(
        Arc::ptr_eq(&read, &kept),
        "the same dictionary keeps its entries"
    );
    assert_eq!(people(&second), [json("a"), json("a"), json("b")]);
    // Another dictionary, though its texts be the same: read anew, and
    // read as its own keys say.
    let other: ArrayRef = Arc::new(StringArray::from(vec!["b", "a"]));
    let third = tags(&[0, 1], &other);
    let third =
        Rows::after(&third, &policy, &mut dictionaries).unwrap_or_else(|e| unreachable!("{e}"));
    let fresh = entries(&third).unwrap_or_else(|| unreachable!("a dictionary"));
    assert!(!Arc::ptr_eq(&read, &fresh));
    assert_eq!(people(&third), [json("b"), json("a")]);
}

/// Timestamps in seconds, milliseconds and microseconds are the same
/// instants, read column by column as row by row; one that is out of
/// range in microseconds is that row's error.
#[test]
fn timestamps_of_every_unit_decode_as_the_same_instants() {
    use arrow_array::{TimestampMillisecondArray, TimestampSecondArray};
    let policy = policy();
    let decoded = |at: ArrayRef| {
        let batch = batch(vec![("at", at)]);
        let rows = Rows::new(&batch, &policy).unwrap_or_else(|e| unreachable!("{e}"));
        let together = format!("{:?}", rows.decode_range(0..2));
        let alone: Vec<_> = (0..2).map(|row| rows.decode(row)).collect();
        assert_eq!(together, format!("{alone:?}"));
        assert!(alone[0].is_ok() && alone[1].is_err(), "{alone:?}");
        together
    };
    let s = TimestampSecondArray::from(vec![1_635_724_800, i64::MAX / 1000]);
    let ms = TimestampMillisecondArray::from(vec![1_635_724_800_000, i64::MAX]);
    let us = TimestampMicrosecondArray::from(vec![1_635_724_800_000_000, i64::MAX]);
    let s = decoded(Arc::new(s.with_timezone("+00:00")));
    assert_eq!(decoded(Arc::new(ms.with_timezone("+00:00"))), s);
    assert_eq!(decoded(Arc::new(us.with_timezone("+00:00"))), s);
}
