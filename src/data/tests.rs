use super::*;
use crate::types::{RecordType, Type};
use crate::value::Value;
use std::sync::Arc;

fn schema() -> RecordType {
    let stay = RecordType {
        fields: vec![
            ("region".into(), Type::Region),
            ("from".into(), Type::Time),
            ("to".into(), Type::Optional(Box::new(Type::Time))),
        ],
        ..RecordType::default()
    };
    RecordType {
        fields: vec![
            ("id".into(), Type::Optional(Box::new(Type::Text))),
            (
                "stays".into(),
                Type::List(Box::new(Type::Record(Arc::new(stay)))),
            ),
            (
                "result".into(),
                Type::Optional(Box::new(Type::Enum(
                    vec!["negative".into(), "positive".into()].into(),
                ))),
            ),
        ],
        ..RecordType::default()
    }
}

fn tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
}

fn lenient(tz: &jiff::tz::TimeZone) -> Reading<'_> {
    Reading::new(tz, crate::time::Resolve::default())
}

fn err(text: &str) -> String {
    err_in(text, &schema())
}

/// The error of decoding `text` against `schema`, or `decoded`.
fn err_in(text: &str, schema: &RecordType) -> String {
    match decode(text, schema, lenient(&tz())) {
        Ok(_) => "decoded".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn absent_and_null_lists_are_empty() {
    for text in [r#"{}"#, r#"{"stays": null, "id": null}"#] {
        let d = decode(text, &schema(), lenient(&tz())).map(|d| d.value);
        let Ok(Value::Record(r)) = d else {
            unreachable!("decodes: {d:?}")
        };
        assert_eq!(r[0], Value::None);
        assert!(r[1].elements().is_empty());
    }
}

#[test]
fn unknown_fields_are_ignored() {
    assert_eq!(err(r#"{"extra": [1, {"a": 2}], "id": "x"}"#), "decoded");
}

#[test]
fn errors_name_the_json_path() {
    assert_eq!(
        err(
            r#"{"stays": [{"region": "110105", "from": "2021-10-31T09:00:00Z"}, {"region": "11010", "from": "2021-10-31T09:00:00Z"}]}"#
        ),
        "column 77: `stays[1].region`: expected a six-digit region code like \"110105\", found \"11010\""
    );
    assert_eq!(
        err(r#"{"stays": [{"region": "110105"}]}"#),
        "column 31: `stays[0]`: required field `from` is missing"
    );
    assert_eq!(
        err(r#"{"result": "negtive"}"#),
        "column 12: `result`: expected one of \"negative\" | \"positive\", found \"negtive\""
    );
    assert_eq!(
        err(r#"{"stays": [{"region": 110105, "from": "x"}]}"#),
        "column 23: `stays[0].region`: expected a six-digit region code like \"110105\", found a number"
    );
    assert_eq!(
        err(r#"{"stays": [{"region": "110105", "from": "2021-10-31 9am"}]}"#),
        "column 41: `stays[0].from`: expected an instant like `2021-10-31T09:00:00+08:00`, found `2021-10-31 9am`"
    );
    assert_eq!(
        err(r#"{"stays": [{"region": "110105", "from": "2021-10-31T09:00:00+08:99"}]}"#),
        "column 41: `stays[0].from`: `2021-10-31T09:00:00+08:99` has an offset out of range (at most 23 hours and 59 minutes)"
    );
    assert_eq!(
        err(r#"{"id": "a", "id": "b"}"#),
        "column 13: `id`: given twice"
    );
    assert_eq!(
        err(r#"[1]"#),
        "column 1: the document: expected an object, found a list"
    );
    assert_eq!(
        err(r#"{"id": "a"} x"#),
        "column 13: not valid JSON: trailing characters"
    );
    assert_eq!(err(r#"{"id": "#), "column 8: the JSON ends too early");
}

#[test]
fn unknown_regions_warn_but_decode() {
    let d = decode(
        r#"{"stays": [{"region": "999999", "from": "2021-10-31T09:00:00"}]}"#,
        &schema(),
        lenient(&tz()),
    );
    let warnings = d.map(|d| d.warnings).unwrap_or_default();
    assert_eq!(
        warnings,
        [super::DataWarning::UnknownRegion {
            path: "stays[0].region".into(),
            code: "999999".into()
        }]
    );
    assert!(
        warnings[0]
            .to_string()
            .starts_with("`stays[0].region`: region 999999 is not in the shipped GB/T 2260 table")
    );
}

#[test]
fn strings_unescape_fully() {
    let d = decode(
        r#"{"id": "a\"b\\c\/\u00e9\ud83d\ude00\n\t京"}"#,
        &schema(),
        lenient(&tz()),
    );
    let Ok(Value::Record(r)) = d.map(|d| d.value) else {
        unreachable!("decodes")
    };
    assert_eq!(r[0], Value::Text("a\"b\\c/é😀\n\t京".into()));
}

#[test]
fn unknown_fields_are_skipped_but_checked() {
    assert_eq!(
        err(
            r#"{"x": {"a": [1, -2.5e3, {"b": null}], "c": "\u0041", "d": [true, false]}, "id": "y"}"#
        ),
        "decoded"
    );
    for bad in [
        r#"{"x": [1, 2,]}"#,
        r#"{"x": 01}"#,
        r#"{"x": 1.}"#,
        r#"{"x": nul}"#,
        r#"{"x": "\ud83d"}"#,
        r#"{"x": "\q"}"#,
        "{\"x\": \"a\u{1}b\"}",
        r#"{'x': 1}"#,
        r#"{"x" 1}"#,
        r#"{"id": "a",}"#,
    ] {
        assert!(err(bad).contains("not valid JSON"), "{bad}: {}", err(bad));
    }
}

#[test]
fn errors_point_at_their_line() {
    let text = "{\n  \"id\": \"a\",\n  \"result\": \"maybe\"\n}";
    assert_eq!(
        err(text),
        "line 3, column 13: `result`: expected one of \"negative\" | \"positive\", found \"maybe\""
    );
}

/// The value of `stays[0].from` in `text`.
fn first_from(text: &str) -> Option<i64> {
    let d = decode(text, &schema(), lenient(&tz())).ok()?;
    let Value::Record(r) = d.value else {
        return None;
    };
    match r[1].elements().first() {
        Some(Value::Record(stay)) => match stay[1] {
            Value::Time(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn data_reads_every_form_of_time_the_language_does() {
    let at = |from: &str| {
        first_from(&format!(
            r#"{{"stays": [{{"region": "110105", "from": "{from}"}}]}}"#
        ))
    };
    let nine = at("2021-10-31T09:00:00+08:00");
    assert!(nine.is_some());
    for same in [
        "2021-10-31T09:00:00",
        "2021-10-31 09:00:00",
        "2021-10-31T09:00",
        "2021-10-31T09:00+0800",
        "2021-10-31T01:00:00Z",
    ] {
        assert_eq!(at(same), nine, "{same}");
    }
    assert_eq!(at("2021-10-31"), at("2021-10-31T00:00:00+08:00"));
}

#[test]
fn instants_read_fast_read_as_the_general_path_does() {
    let at = |from: &str| {
        first_from(&format!(
            r#"{{"stays": [{{"region": "110105", "from": "{from}", "to": null}}]}}"#
        ))
    };
    let general = |text: &str| crate::time::parse_instant(text, &tz(), Default::default()).ok();
    for text in [
        "2021-10-31T09:00:00+08:00",
        "2021-10-31T01:00:00Z",
        "2021-10-31T01:00:00.25Z",
        "2021-10-31T09:00:00.123456789+08:00",
        "2021-10-31T01:00:00z",
    ] {
        assert_eq!(at(text), general(text), "{text}");
        assert!(at(text).is_some(), "{text}");
    }
    // An escape, or a string that ends before the shape would, is read
    // by the general path.
    assert_eq!(at(r"2021-10-31T01:00:00\u005a"), at("2021-10-31T01:00:00Z"));
    assert_eq!(at(r"2021-10-31T01:00:00Z\u0041"), None);
    assert!(
        err(r#"{"stays": [{"region": "110105", "from": "2021-10-31T01:00:00Z\u0041"}]}"#)
            .contains("stays[0].from")
    );
}

fn warnings(text: &str) -> Vec<DataWarning> {
    decode(text, &schema(), lenient(&tz()))
        .map(|d| d.warnings)
        .unwrap_or_default()
}

#[test]
fn a_near_miss_of_an_absent_field_warns_at_every_level() {
    assert_eq!(
        warnings(r#"{"stay": [], "id": "x"}"#),
        [DataWarning::NearField {
            path: "stay".into(),
            field: "stays".into()
        }]
    );
    assert_eq!(
        warnings(
            r#"{"stays": [{"regoin": "110105", "from": "2021-10-31T09:00:00Z", "region": "110105"}, {"region": "110105", "from": "2021-10-31T09:00:00Z", "ot": null}]}"#
        ),
        [DataWarning::NearField {
            path: "stays[1].ot".into(),
            field: "to".into()
        }],
        "`regoin` beside a given `region` is only an extra field"
    );
    assert!(
        warnings(r#"{"source": "carrier", "id": "x"}"#).is_empty(),
        "a field far from every declared one stays silent"
    );
    let w = warnings(
        r#"{"stays": [{"region": "110105", "from": "2021-10-31T09:00:00Z", "ot": null}]}"#,
    );
    assert_eq!(
        w.first().map(ToString::to_string).as_deref(),
        Some(
            "`stays[0].ot` is not declared by the policy and was ignored; did you mean `to`, which this record leaves out?"
        )
    );
}

#[test]
fn read_strictly_every_undeclared_field_is_an_error() {
    let tz = tz();
    let strict = Reading {
        strict: true,
        ..lenient(&tz)
    };
    let err = |text: &str| match decode(text, &schema(), strict) {
        Ok(_) => "decoded".to_owned(),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        err(r#"{"id": "x", "source": "carrier"}"#),
        "column 13: `source`: not declared by the policy"
    );
    assert_eq!(
        err(r#"{"stays": [{"region": "110105", "from": "2021-10-31T09:00:00Z", "ot": null}]}"#),
        "column 65: `stays[0].ot`: not declared by the policy; did you mean `to`?"
    );
    assert_eq!(err(r#"{"id": "x", "stays": []}"#), "decoded");
}

#[test]
fn partial_documents_may_leave_out_what_is_required() {
    let tz = tz();
    let text = r#"{"stays": [{"region": "110105"}]}"#;
    let partial = Reading {
        partial: true,
        ..lenient(&tz)
    };
    // Only the document's own fields: a stay still needs its `from`.
    assert!(decode(text, &schema(), partial).is_err());
    let given = decode(r#"{"id": "x"}"#, &schema(), partial).map(|d| d.given);
    assert_eq!(given.ok(), Some(vec![true, false, false]));
}

#[test]
fn a_required_list_must_be_given_and_instants_stay_in_range() {
    let mut schema = schema();
    schema.required.push(1);
    let tz = tz();
    let read = |text: &str| {
        decode(text, &schema, lenient(&tz))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        read(r#"{"id": "x"}"#),
        Err("column 11: the record: required field `stays` is missing".into())
    );
    assert_eq!(read(r#"{"stays": []}"#), Ok(()));
    // The shape the reader takes fastest is range-checked too.
    assert_eq!(
        read(r#"{"stays": [{"region": "110105", "from": "0000-01-01T00:00:00+01:00"}]}"#),
        Err("column 41: `stays[0].from`: `0000-01-01T00:00:00+01:00` is outside the years 0000 to 9999".into())
    );
}

/// The help of the error `json` gives, read strictly against `schema()`.
fn help_for(json: &str) -> String {
    let tz = tz();
    let reading = Reading {
        strict: true,
        ..lenient(&tz)
    };
    match decode(json, &schema(), reading) {
        Ok(_) => unreachable!("{json} decodes"),
        Err(e) => e.help_with(&schema()),
    }
}

#[test]
fn helps_name_what_the_schema_asks_for_where_the_error_is() {
    // A missing field inside a list's record: its name and type.
    assert_eq!(
        help_for(r#"{"stays": [{"region": "110105"}]}"#),
        "give the field `from` (of type `time`)"
    );
    // An undeclared field inside a list's record: the fields declared
    // there, not at the top.
    assert_eq!(
        help_for(r#"{"stays": [{"region": "110105", "from": "2021-11-01", "regoin": 1}]}"#),
        "remove it; the fields declared here are `region`, `from`, `to`"
    );
    assert_eq!(
        help_for(r#"{"results": "negative"}"#),
        "remove it; the fields declared here are `id`, `stays`, `result`"
    );
    assert_eq!(
        help_for(r#"{"result": "neg"}"#),
        "write exactly one of \"negative\" | \"positive\""
    );
    assert_eq!(help_for(r#"{"id": 3}"#), "write a string here");
    assert_eq!(
        help_for(r#"{"id": "a""#),
        "close every string, list and object the record opens"
    );
}

#[test]
fn without_the_schema_the_help_still_says_what_to_write() {
    let tz = tz();
    let e = decode(
        r#"{"stays": [{"region": "110105"}]}"#,
        &schema(),
        lenient(&tz),
    )
    .err()
    .unwrap_or_else(|| unreachable!("a field is missing"));
    let help = miette::Diagnostic::help(&e).map(|h| h.to_string());
    assert_eq!(help.as_deref(), Some("give the field `from`"));
}

/// A schema whose fields read keys that are not names (`name from "key"`).
fn keyed() -> RecordType {
    let test = RecordType {
        fields: vec![
            ("manufacturer".into(), Type::Optional(Box::new(Type::Text))),
            ("sampled_at".into(), Type::Time),
        ],
        keys: vec![
            (0, "covid-19-lab-test-manufacturer-and-name".into()),
            (1, "sc".into()),
        ],
        ..RecordType::default()
    };
    RecordType {
        fields: vec![(
            "tests".into(),
            Type::List(Box::new(Type::Record(Arc::new(test)))),
        )],
        keys: vec![(0, "t".into())],
        ..RecordType::default()
    }
}

fn keyed_err(text: &str) -> String {
    err_in(text, &keyed())
}

#[test]
fn fields_read_their_keys() {
    let d = decode(
        r#"{"t": [{"sc": "2021-10-31T09:00:00Z", "covid-19-lab-test-manufacturer-and-name": "1232"}]}"#,
        &keyed(),
        lenient(&tz()),
    )
    .map(|d| d.value);
    let Ok(Value::Record(r)) = d else {
        unreachable!("decodes: {d:?}")
    };
    let [Value::Record(test)] = r[0].elements() else {
        unreachable!("one test: {r:?}")
    };
    assert_eq!(test[0], Value::Text("1232".into()));
    // The name is not a key: `tests` is undeclared, and skipped.
    assert_eq!(keyed_err(r#"{"tests": [{"sc": 1}]}"#), "decoded");
}

#[test]
fn errors_name_the_data_keys() {
    assert_eq!(
        keyed_err(r#"{"t": [{"sc": 5}]}"#),
        "column 15: `t[0].sc`: expected an instant like \"2021-10-31T09:00:00+08:00\", found a number"
    );
    assert_eq!(
        keyed_err(r#"{"t": [{"covid-19-lab-test-manufacturer-and-name": 1}]}"#),
        "column 52: `t[0].covid-19-lab-test-manufacturer-and-name`: expected a string, found a number"
    );
    assert_eq!(
        keyed_err(r#"{"t": [{}]}"#),
        "column 9: `t[0]`: required field `sc` is missing"
    );
    let zone = tz();
    let strict = Reading {
        strict: true,
        ..lenient(&zone)
    };
    let e = decode(r#"{"t": [{"sc ": 1}]}"#, &keyed(), strict).map(|_| ());
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("column 9: `t[0][\"sc \"]`: not declared by the policy; did you mean `sc`?".into())
    );
}

#[test]
fn a_near_key_warns_with_the_key() {
    let d = decode(
        r#"{"t": [{"sc": "2021-10-31T09:00:00Z", "covid-19-lab-test-manufacturer-and-nam": "x"}]}"#,
        &keyed(),
        lenient(&tz()),
    );
    let warnings = d.map(|d| d.warnings).unwrap_or_default();
    assert_eq!(
        warnings,
        [super::DataWarning::NearField {
            path: "t[0].covid-19-lab-test-manufacturer-and-nam".into(),
            field: "covid-19-lab-test-manufacturer-and-name".into(),
        }]
    );
}

/// A document of `n` stays, the first from day `1 + first` of October.
fn stays_from(n: usize, first: usize, id: &str) -> String {
    let stays: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"region": "110105", "from": "2021-10-{:02}T08:00:00+08:00"}}"#,
                1 + (first + i) % 28
            )
        })
        .collect();
    format!(r#"{{"id": "{id}", "stays": [{}]}}"#, stays.join(", "))
}

fn stays(n: usize, id: &str) -> String {
    stays_from(n, 0, id)
}

/// The addresses of a decoded person's allocations: its own, its list of
/// stays' and each stay's.
fn addresses(v: &Value) -> Vec<usize> {
    let Value::Record(fields) = v else {
        return Vec::new();
    };
    let stays = fields.get(1).map(Value::elements).unwrap_or_default();
    let mut all = vec![fields.as_ptr() as usize, stays.as_ptr() as usize];
    all.extend(stays.iter().filter_map(|s| match s {
        Value::Record(r) => Some(r.as_ptr() as usize),
        _ => None,
    }));
    all
}

#[test]
fn a_dropped_persons_allocations_serve_the_next_one() {
    let decoded = |text: &str| decode(text, &schema(), lenient(&tz())).map(|d| d.value);
    let first = decoded(&stays(3, "a"));
    let before = first.as_ref().map(addresses).unwrap_or_default();
    assert_eq!(before.len(), 5);
    drop(first);
    let second = decoded(&stays(3, "b"));
    let after = second.as_ref().map(addresses).unwrap_or_default();
    // The same five allocations, each written anew.
    let (mut a, mut b) = (before.clone(), after.clone());
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    let Ok(Value::Record(fields)) = &second else {
        unreachable!("decodes: {second:?}")
    };
    assert_eq!(fields[0], Value::Text("b".into()));
    assert_eq!(fields[1].elements().len(), 3);
}

#[test]
fn a_person_still_held_is_never_written_over() {
    let decoded = |text: &str| decode(text, &schema(), lenient(&tz())).map(|d| d.value);
    let kept = decoded(&stays(4, "kept"));
    let shown = format!("{kept:?}");
    let mut stay = None;
    for i in 0..10 {
        let other = decoded(&stays_from(4, i + 1, &format!("other {i}")));
        assert!(other.is_ok());
        // A stay of a person otherwise dropped, held alone.
        if i == 3 {
            stay = other.ok().and_then(|v| match v {
                Value::Record(f) => f.get(1).and_then(|s| s.elements().first().cloned()),
                _ => None,
            });
        }
    }
    assert_eq!(format!("{kept:?}"), shown);
    assert_eq!(
        format!("{stay:?}"),
        r#"Some(Record([Region(110105), Time(1633392000000000), None]))"#
    );
}

#[test]
fn what_the_pool_keeps_is_bounded_whatever_was_read() {
    use reader::{POOLED, POOLED_LEN, Reader, Scratch};
    let mut scratch = Scratch::default();
    let (tz, schema) = (tz(), schema());
    for n in [5000, 10, 40, 5000] {
        let text = stays(n, "x");
        let read = Reader::new(&text, lenient(&tz), &mut scratch).document(&schema);
        assert!(read.is_ok());
    }
    // Taken back when the next document is read.
    let read = Reader::new("{}", lenient(&tz), &mut scratch).document(&schema);
    assert!(read.is_ok());
    let (free, values) = scratch.pooled();
    assert!(free >= POOLED, "the stays are kept: {free}");
    assert!(free <= POOLED * POOLED_LEN, "{free} kept");
    assert!(
        values <= POOLED * POOLED_LEN * (POOLED_LEN + 1) / 2,
        "{values} kept"
    );
}
