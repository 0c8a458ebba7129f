//! Instants and durations: reading them from text, in a policy's time zone
//! when they carry no offset, and writing them back.
//!
//! Instants are microseconds since the Unix epoch; durations are
//! microseconds. The interpreter never reads the clock: `now` is an input.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Microseconds in a second.
pub const SECOND: i64 = 1_000_000;

/// Why a text is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not of the shape `2021-10-31T09:00:00+08:00`.
    #[error("expected an instant like `2021-10-31T09:00:00+08:00`, found `{0}`")]
    Shape(String),
    /// The shape is right but the date or time does not exist.
    #[error("`{0}` is not a real date and time")]
    Invalid(String),
}

/// How much of an instant the text must spell out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Data: date, hours, minutes and seconds (RFC 3339).
    Seconds,
    /// Policy literals: a date alone means midnight, seconds may be left out.
    Relaxed,
}

/// Reads an instant. Text without an offset is read in `tz`.
pub fn parse_instant(text: &str, tz: &TimeZone, precision: Precision) -> Result<i64, TimeError> {
    if let Some(t) = parse_rfc3339_seconds(text.as_bytes()) {
        return Ok(t);
    }
    let shape = || TimeError::Shape(text.to_owned());
    let b = text.as_bytes();
    // Two digits at `i`, or `None`.
    let two = |i: usize| -> Option<i32> {
        let (h, l) = (
            b.get(i)?.wrapping_sub(b'0'),
            b.get(i + 1)?.wrapping_sub(b'0'),
        );
        (h < 10 && l < 10).then_some(i32::from(h) * 10 + i32::from(l))
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(shape());
    }
    let year = two(0).zip(two(2)).map(|(h, l)| h * 100 + l);
    let (Some(year), Some(month), Some(day)) = (year, two(5), two(8)) else {
        return Err(shape());
    };
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    let mut i = 10;
    match b.get(10) {
        None if precision == Precision::Relaxed => {}
        Some(b'T' | b't' | b' ') => {
            let (Some(h), Some(m), Some(b':')) = (two(11), two(14), b.get(13)) else {
                return Err(shape());
            };
            (hour, minute, i) = (h, m, 16);
            if b.get(16) == Some(&b':') {
                second = two(17).ok_or_else(shape)?;
                i = 19;
                if b.get(19) == Some(&b'.') {
                    let digits = b[20..].iter().take_while(|d| d.is_ascii_digit()).count();
                    if digits == 0 || digits > 9 {
                        return Err(shape());
                    }
                    let frac = b[20..20 + digits]
                        .iter()
                        .fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
                    nanos = frac * 10i32.pow(9 - digits as u32);
                    i = 20 + digits;
                }
            } else if precision == Precision::Seconds {
                return Err(shape());
            }
        }
        _ => return Err(shape()),
    }
    let offset = match &b[i..] {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (Some(h), Some(m)) = (two(i + 1), two(i + 4)) else {
                return Err(shape());
            };
            let secs = h * 3600 + m * 60;
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => return Err(shape()),
    };
    let invalid = || TimeError::Invalid(text.to_owned());
    if let Some(offset) = offset {
        let fields = [year, month, day, hour, minute, second, offset];
        return to_micros(fields)
            .map(|t| t + i64::from(nanos / 1000))
            .ok_or_else(invalid);
    }
    let civil = DateTime::new(
        year as i16,
        month as i8,
        day as i8,
        hour as i8,
        minute as i8,
        second as i8,
        nanos,
    )
    .map_err(|_| invalid())?;
    let ts = tz.to_timestamp(civil).map_err(|_| invalid())?;
    Ok(ts.as_microsecond())
}

/// The shape nearly all data has, `2021-10-31T09:00:00+08:00`, read without
/// a single bounds check; `None` sends anything else down the general path,
/// which also reports the errors.
pub(crate) fn parse_rfc3339_seconds(b: &[u8]) -> Option<i64> {
    let &[
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        i0,
        i1,
        b':',
        s0,
        s1,
        sign @ (b'+' | b'-'),
        o0,
        o1,
        b':',
        p0,
        p1,
    ] = b
    else {
        return None;
    };
    let digits = [
        y0, y1, y2, y3, m0, m1, d0, d1, h0, h1, i0, i1, s0, s1, o0, o1, p0, p1,
    ]
    .map(|d| d.wrapping_sub(b'0'));
    if digits.iter().any(|d| *d > 9) {
        return None;
    }
    let n = |i: usize| i32::from(digits[i]) * 10 + i32::from(digits[i + 1]);
    let offset = (n(14) * 3600 + n(16) * 60) * if sign == b'-' { -1 } else { 1 };
    to_micros([n(0) * 100 + n(2), n(4), n(6), n(8), n(10), n(12), offset])
}

/// Microseconds since the epoch of `[year, month, day, hour, minute, second,
/// offset in seconds]`, if that is a real date and time.
fn to_micros([year, month, day, hour, minute, second, offset]: [i32; 7]) -> Option<i64> {
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
        && offset.abs() < 24 * 3600;
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second - offset);
    valid.then_some(secs * SECOND)
}

fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i32, month: i32, day: i32) -> i64 {
    let y = i64::from(if month <= 2 { year - 1 } else { year });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Writes an instant in `tz` as RFC 3339 with its offset, with a fraction
/// only when it has one: `2021-11-01T10:00:00+08:00`.
pub fn format_instant(micros: i64, tz: &TimeZone) -> String {
    let mut out = String::with_capacity(25);
    write_instant(&mut out, micros, tz);
    out
}

/// [`format_instant`] into a buffer.
pub fn write_instant(out: &mut String, micros: i64, tz: &TimeZone) {
    let Ok(ts) = Timestamp::from_microsecond(micros) else {
        let _ = write!(out, "@{micros}us");
        return;
    };
    let offset = tz.to_offset(ts);
    let dt = offset.to_datetime(ts);
    // By hand rather than with `write!`: instants are most of every decision.
    let year = i32::from(dt.year());
    if year < 0 {
        out.push('-');
    }
    digits(out, year.unsigned_abs(), 4);
    for (sep, n) in [
        ('-', dt.month()),
        ('-', dt.day()),
        ('T', dt.hour()),
        (':', dt.minute()),
        (':', dt.second()),
    ] {
        out.push(sep);
        digits(out, n.unsigned_abs().into(), 2);
    }
    let sub = micros.rem_euclid(SECOND);
    if sub != 0 {
        out.push('.');
        digits(out, sub.unsigned_abs() as u32, 6);
    }
    let secs = offset.seconds();
    if secs == 0 {
        out.push('Z');
    } else {
        out.push(if secs < 0 { '-' } else { '+' });
        let abs = secs.unsigned_abs();
        digits(out, abs / 3600, 2);
        out.push(':');
        digits(out, abs % 3600 / 60, 2);
    }
}

/// `n` in decimal, padded with zeros to `width` digits.
fn digits(out: &mut String, n: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut i = buf.len();
    let mut n = n;
    while n > 0 || buf.len() - i < width {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if i == 0 {
            break;
        }
    }
    out.extend(buf[i..].iter().map(|&b| char::from(b)));
}

/// Reads a duration written like `14d`, `48h`, `30m`, `90s`, `2w` or
/// `1d12h`, in seconds; `None` for anything else or anything longer than
/// 100000 years.
pub fn parse_duration(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut digits_start = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_digit() {
            continue;
        }
        let unit = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let digits = &text[digits_start..i];
        if digits.is_empty() {
            return None;
        }
        let n: i64 = digits.parse().ok()?;
        total = n.checked_mul(unit).and_then(|s| total.checked_add(s))?;
        digits_start = i + 1;
    }
    // Keep every duration well inside the range of an instant in microseconds.
    (digits_start == text.len() && !text.is_empty() && total <= 100_000 * 366 * 86_400)
        .then_some(total)
}

/// Writes a duration the way a policy would: `14d`, `48h`, `1d12h`, `90s`.
pub fn format_duration(micros: i64) -> String {
    let mut out = String::new();
    if micros < 0 {
        out.push('-');
    }
    let mut secs = micros.unsigned_abs() / SECOND as u64;
    for (unit, len) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if secs >= len {
            let _ = write!(out, "{}{unit}", secs / len);
            secs %= len;
        }
    }
    if out.is_empty() || out == "-" {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC)
    }

    #[test]
    fn offsets_and_zones_agree() {
        let tz = shanghai();
        let a = parse_instant("2021-10-31T09:00:00+08:00", &tz, Precision::Seconds);
        let b = parse_instant("2021-10-31T01:00:00Z", &tz, Precision::Seconds);
        let c = parse_instant("2021-10-31T09:00:00", &tz, Precision::Seconds);
        let d = parse_instant("2021-10-31 09:00:00", &tz, Precision::Seconds);
        assert_eq!(a, Ok(1_635_642_000 * SECOND));
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
    }

    #[test]
    fn data_needs_seconds_but_literals_do_not() {
        let tz = shanghai();
        assert!(parse_instant("2021-10-31T09:00+08:00", &tz, Precision::Seconds).is_err());
        assert!(parse_instant("2021-10-31", &tz, Precision::Seconds).is_err());
        assert_eq!(
            parse_instant("2021-10-31", &tz, Precision::Relaxed),
            parse_instant("2021-10-31T00:00:00+08:00", &tz, Precision::Seconds)
        );
    }

    #[test]
    fn bad_instants_are_refused() {
        let tz = shanghai();
        for bad in [
            "",
            "yesterday",
            "2021-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2021-10-31T24:00:00Z",
            "2021-10-31T09:00:00+0800",
            "2021-10-31T09:00:00.Z",
            "2021-10-31T09:00:00Zjunk",
            "２０２１-10-31T09:00:00Z",
        ] {
            assert!(
                parse_instant(bad, &tz, Precision::Seconds).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_fast_path_agrees_with_jiff() {
        let utc = TimeZone::UTC;
        for text in [
            "1970-01-01T00:00:00Z",
            "0000-03-01T00:00:00Z",
            "2000-02-29T23:59:59+14:00",
            "2021-10-31T09:00:00.123456-09:30",
            "2100-12-31T00:00:00-23:59",
            "9999-12-30T00:00:00Z",
        ] {
            let ours = parse_instant(text, &utc, Precision::Seconds);
            let theirs = text.parse::<Timestamp>().map(|t| t.as_microsecond());
            assert_eq!(ours.ok(), theirs.ok(), "{text}");
        }
        for bad in [
            "2100-02-29T00:00:00Z",
            "2021-04-31T00:00:00Z",
            "2021-01-01T00:60:00Z",
            "2021-01-01T00:00:00+24:00",
        ] {
            assert!(
                parse_instant(bad, &utc, Precision::Seconds).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn fractions_survive_a_round_trip() {
        let tz = shanghai();
        let t = parse_instant("2021-10-31T09:00:00.25+08:00", &tz, Precision::Seconds);
        assert_eq!(
            t.map(|t| format_instant(t, &tz)).as_deref(),
            Ok("2021-10-31T09:00:00.250000+08:00")
        );
        assert_eq!(format_instant(0, &TimeZone::UTC), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn durations_parse_whole() {
        assert_eq!(parse_duration("1d12h"), Some(129_600));
        assert_eq!(parse_duration("30m"), Some(1_800));
        assert_eq!(parse_duration("2w"), Some(1_209_600));
        for bad in ["", "14", "d", "14x", "1d12", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_read_like_the_policy() {
        assert_eq!(format_duration(14 * 86_400 * SECOND), "14d");
        assert_eq!(format_duration(129_600 * SECOND), "1d12h");
        assert_eq!(format_duration(0), "0s");
    }
}
