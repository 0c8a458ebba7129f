//! Build script: compiles `data/regions/gb2260.tsv` into `$OUT_DIR/regions.rs`.
//!
//! The table is validated row by row; a malformed table fails the build with
//! a message naming the offending line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const TABLE: &str = "data/regions/gb2260.tsv";
const HEADER: &str = "code\tlevel\tname\tprefecture\tprovince";
const EDITION_PREFIX: &str = "# edition: ";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Province,
    Prefecture,
    County,
}

impl Level {
    fn variant(self) -> &'static str {
        match self {
            Level::Province => "Province",
            Level::Prefecture => "Prefecture",
            Level::County => "County",
        }
    }
}

struct Row {
    line: usize,
    code: u32,
    level: Level,
    name: String,
    prefecture: Option<u32>,
    province: u32,
}

fn main() {
    println!("cargo::rerun-if-changed={TABLE}");
    println!("cargo::rerun-if-changed=build.rs");
    if let Err(message) = run() {
        eprintln!("error: {message}");
        println!("cargo::warning={message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .ok_or_else(|| "CARGO_MANIFEST_DIR is not set".to_string())?;
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| "OUT_DIR is not set".to_string())?;
    let path = Path::new(&manifest_dir).join(TABLE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{TABLE}: cannot read: {e}"))?;
    let (edition, rows) = parse(&text)?;
    validate(&rows)?;
    let generated = generate(&edition, &rows);
    let out = PathBuf::from(out_dir).join("regions.rs");
    std::fs::write(&out, generated).map_err(|e| format!("{}: cannot write: {e}", out.display()))
}

fn err(line: usize, message: impl std::fmt::Display) -> String {
    format!("{TABLE}:{line}: {message}")
}

fn parse_code(line: usize, column: &str, field: &str) -> Result<u32, String> {
    if field.len() != 6 || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(
            line,
            format_args!("{column} {field:?} is not six ASCII digits"),
        ));
    }
    field
        .parse::<u32>()
        .map_err(|e| err(line, format_args!("{column} {field:?}: {e}")))
}

fn parse(text: &str) -> Result<(String, Vec<Row>), String> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let edition = match lines
        .next()
        .and_then(|(_, l)| l.strip_prefix(EDITION_PREFIX))
    {
        Some(rest) => rest.trim().to_string(),
        None => {
            return Err(err(
                1,
                format_args!("expected a first line `{EDITION_PREFIX}...`"),
            ));
        }
    };
    if edition.is_empty() || edition.chars().any(char::is_control) {
        return Err(err(1, "empty or malformed edition"));
    }
    match lines.next() {
        Some((_, l)) if l == HEADER => {}
        _ => return Err(err(2, format_args!("expected the header line {HEADER:?}"))),
    }
    let mut rows = Vec::new();
    for (line, l) in lines {
        let fields: Vec<&str> = l.split('\t').collect();
        let [code, level, name, prefecture, province] = fields[..] else {
            return Err(err(
                line,
                format_args!("expected 5 tab-separated columns, found {}", fields.len()),
            ));
        };
        let code = parse_code(line, "code", code)?;
        let level = match level {
            "province" => Level::Province,
            "prefecture" => Level::Prefecture,
            "county" => Level::County,
            other => return Err(err(line, format_args!("unknown level {other:?}"))),
        };
        if name.is_empty() || name.trim() != name || name.chars().any(char::is_control) {
            return Err(err(line, format_args!("bad name {name:?}")));
        }
        let prefecture = if prefecture.is_empty() {
            None
        } else {
            Some(parse_code(line, "prefecture", prefecture)?)
        };
        let province = parse_code(line, "province", province)?;
        rows.push(Row {
            line,
            code,
            level,
            name: name.to_string(),
            prefecture,
            province,
        });
    }
    if rows.is_empty() {
        return Err(err(2, "the table has no rows"));
    }
    Ok((edition, rows))
}

fn validate(rows: &[Row]) -> Result<(), String> {
    for (a, b) in rows.iter().zip(rows.iter().skip(1)) {
        if b.code <= a.code {
            return Err(err(
                b.line,
                format_args!(
                    "code {} is not after {} (line {}): rows must be sorted and unique",
                    b.code, a.code, a.line
                ),
            ));
        }
    }
    let by_code: BTreeMap<u32, &Row> = rows.iter().map(|r| (r.code, r)).collect();
    rows.iter().try_for_each(|r| validate_row(r, &by_code))
}

fn validate_row(r: &Row, by_code: &BTreeMap<u32, &Row>) -> Result<(), String> {
    let line = r.line;
    let own_province = r.code / 10_000 * 10_000;
    if r.code < 100_000 {
        return Err(err(
            line,
            format_args!("code {:06} has no province digits", r.code),
        ));
    }
    if r.province != own_province {
        return Err(err(
            line,
            format_args!(
                "province {} is not {own_province} (the code's first two digits + 0000)",
                r.province
            ),
        ));
    }
    match by_code.get(&r.province) {
        Some(p) if p.level == Level::Province => {}
        Some(_) => {
            return Err(err(
                line,
                format_args!("province {} is not a province row", r.province),
            ));
        }
        None => {
            return Err(err(
                line,
                format_args!("province {} has no row", r.province),
            ));
        }
    }
    match r.level {
        Level::Province => {
            if r.code % 10_000 != 0 {
                return Err(err(
                    line,
                    format_args!("province code {} does not end in 0000", r.code),
                ));
            }
            if r.prefecture.is_some() {
                return Err(err(line, "a province must have an empty prefecture"));
            }
        }
        Level::Prefecture => {
            if r.code % 100 != 0 || r.code % 10_000 == 0 {
                return Err(err(
                    line,
                    format_args!("prefecture code {} must end in 00 but not 0000", r.code),
                ));
            }
            if r.prefecture != Some(r.code) {
                return Err(err(line, "a prefecture's prefecture must be itself"));
            }
        }
        Level::County => {
            if r.code % 100 == 0 {
                return Err(err(line, format_args!("county code {} ends in 00", r.code)));
            }
            let Some(pref) = r.prefecture else {
                return Err(err(line, "a county must have a prefecture"));
            };
            if pref != r.code {
                match by_code.get(&pref) {
                    Some(p) if p.level == Level::Prefecture => {
                        if p.province != r.province {
                            return Err(err(
                                line,
                                format_args!(
                                    "prefecture {pref} lies in province {}, not {}",
                                    p.province, r.province
                                ),
                            ));
                        }
                    }
                    Some(_) => {
                        return Err(err(
                            line,
                            format_args!("prefecture {pref} is not a prefecture row"),
                        ));
                    }
                    None => {
                        return Err(err(line, format_args!("prefecture {pref} has no row")));
                    }
                }
            }
        }
    }
    Ok(())
}

fn generate(edition: &str, rows: &[Row]) -> String {
    let mut out = String::with_capacity(rows.len() * 110);
    out.push_str("// @generated by build.rs from data/regions/gb2260.tsv; do not edit.\n\n");
    let _ = writeln!(
        out,
        "/// The source edition of the table.\nconst EDITION: &str = {edition:?};\n"
    );
    let _ = writeln!(
        out,
        "/// Every unit, sorted by code.\nstatic REGIONS: [Region; {}] = [",
        rows.len()
    );
    for r in rows {
        let prefecture = match r.prefecture {
            Some(p) => format!("Some({p})"),
            None => "None".to_string(),
        };
        let _ = writeln!(
            out,
            "    Region {{ code: {}, name: {:?}, level: Level::{}, prefecture: {prefecture}, province: {} }},",
            r.code,
            r.name,
            r.level.variant(),
            r.province
        );
    }
    out.push_str("];\n\n");
    // BUCKETS[p]..BUCKETS[p + 1] are the rows whose code divided by 100 is p,
    // so a look-up scans a handful of rows instead of searching them all.
    let mut buckets = vec![0usize; 10_001];
    for r in rows {
        buckets[(r.code / 100) as usize + 1] += 1;
    }
    for p in 1..buckets.len() {
        buckets[p] += buckets[p - 1];
    }
    let _ = writeln!(
        out,
        "/// Row ranges of `REGIONS` by code / 100.\nstatic BUCKETS: [u16; 10001] = {buckets:?};"
    );
    out
}
