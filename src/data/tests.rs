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
    }
}

fn tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
}

fn err(text: &str) -> String {
    match decode(text, &schema(), &tz()) {
        Ok(_) => "decoded".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn absent_and_null_lists_are_empty() {
    for text in [r#"{}"#, r#"{"stays": null, "id": null}"#] {
        let d = decode(text, &schema(), &tz()).map(|d| d.value);
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
        "column 83: `stays[1].region`: expected a six-digit region code like \"110105\", found \"11010\""
    );
    assert_eq!(
        err(r#"{"stays": [{"region": "110105"}]}"#),
        "column 31: `stays[0]`: required field `from` is missing"
    );
    assert_eq!(
        err(r#"{"result": "negtive"}"#),
        "column 20: `result`: expected one of \"negative\" | \"positive\", found \"negtive\""
    );
    assert_eq!(
        err(r#"{"stays": [{"region": 110105, "from": "x"}]}"#),
        "column 28: invalid type: integer `110105`, expected a six-digit region code like \"110105\" at `stays[0].region`"
    );
    assert_eq!(
        err(r#"{"stays": [{"region": "110105", "from": "2021-10-31"}]}"#),
        "column 52: `stays[0].from`: expected an instant like `2021-10-31T09:00:00+08:00`, found `2021-10-31`"
    );
    assert_eq!(
        err(r#"{"id": "a", "id": "b"}"#),
        "column 16: `id`: given twice"
    );
    assert_eq!(
        err(r#"[1]"#),
        "invalid type: sequence, expected an object at the document"
    );
    assert_eq!(
        err(r#"{"id": "a"} x"#),
        "column 13: not valid JSON: trailing characters"
    );
    assert_eq!(err(r#"{"id": "#), "column 7: the JSON ends too early");
}

#[test]
fn unknown_regions_warn_but_decode() {
    let d = decode(
        r#"{"stays": [{"region": "999999", "from": "2021-10-31T09:00:00"}]}"#,
        &schema(),
        &tz(),
    );
    let warnings = d.map(|d| d.warnings).unwrap_or_default();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .starts_with("`stays[0].region`: region 999999 is not in the shipped GB/T 2260 table")
    );
}
