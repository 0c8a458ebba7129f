//! Instants and durations: reading them from text, in a policy's time zone
//! when they carry no offset, and writing them back.
//!
//! Instants are microseconds since the Unix epoch; durations are
//! microseconds. The interpreter never reads the clock: `now` is an input.
//!
//! Every instant a person writes — in data, in facts, in `--now`, in a
//! test block or in a policy literal — is read by [`parse_instant`], so all
//! accept the same forms: RFC 3339 (`2021-10-31T09:00:00+08:00`), a space
//! for the `T`, minutes without seconds, a fraction of a second, an offset
//! written `+0800` as well as `+08:00` (range-checked), a local date-time
//! without an offset (read in the policy's zone), and a date alone (the
//! start of that day there).

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};

/// Microseconds in a second.
pub const SECOND: i64 = 1_000_000;

/// The first instant the reader accepts: `0000-01-01T00:00:00Z`.
pub const MIN_INSTANT: i64 = -62_167_219_200 * SECOND;
/// The last instant the reader accepts: `9999-12-31T23:59:59.999999Z`.
pub const MAX_INSTANT: i64 = 253_402_300_800 * SECOND - 1;

/// Why a text is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not of the shape `2021-10-31T09:00:00+08:00`.
    #[error("expected an instant like `2021-10-31T09:00:00+08:00`, found `{0}`")]
    Shape(String),
    /// The shape is right but the date or time does not exist.
    #[error("`{0}` is not a real date and time")]
    Invalid(String),
    /// The offset's hours or minutes are out of range (`+08:99`).
    #[error("`{0}` has an offset out of range (at most 23 hours and 59 minutes)")]
    Offset(String),
    /// A local time that the zone skips (clocks going forward).
    #[error(
        "`{text}` does not exist in {zone}: the clocks skip it; give an offset, or say how to read such times after the policy's `timezone` (`resolving gaps later`)"
    )]
    Gap {
        /// The text.
        text: String,
        /// The zone's name.
        zone: String,
    },
    /// A local time that the zone repeats (clocks going back).
    #[error(
        "`{text}` happens twice in {zone}: the clocks go back over it; give an offset, or say how to read such times after the policy's `timezone` (`resolving folds earlier`)"
    )]
    Fold {
        /// The text.
        text: String,
        /// The zone's name.
        zone: String,
    },
    /// Before year 0 or after year 9999 (in UTC).
    #[error("`{0}` is outside the years 0000 to 9999")]
    Range(String),
}

impl TimeError {
    /// What is wrong, in a few words, for a diagnostic that shows the text.
    pub fn reason(&self) -> String {
        match self {
            TimeError::Shape(_) => "not a date and time".into(),
            TimeError::Invalid(_) => "no such date or time".into(),
            TimeError::Offset(_) => "the offset is out of range".into(),
            TimeError::Gap { zone, .. } => format!("the clocks of {zone} skip this local time"),
            TimeError::Fold { zone, .. } => {
                format!("this local time happens twice in {zone}")
            }
            TimeError::Range(_) => "outside the years 0000 to 9999".into(),
        }
    }

    /// What to write instead, for a diagnostic.
    pub fn help(&self) -> String {
        match self {
            TimeError::Gap { zone, .. } | TimeError::Fold { zone, .. } => format!(
                "give the offset, like `2024-10-27T02:30+01:00`, or say how to read such times: `timezone \"{zone}\" resolving gaps later, folds earlier`"
            ),
            TimeError::Offset(_) => "write the offset like `+08:00` or `+0800`".into(),
            _ => "write a date like `2021-10-25`, or a date and time like `2021-11-01T10:00+08:00`"
                .into(),
        }
    }
}

/// Which of two readings of a local time to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The earlier instant.
    Earlier,
    /// The later instant.
    Later,
}

/// How local times that the policy's zone skips (gaps) or repeats (folds)
/// are read: `timezone "Europe/Paris" resolving gaps later, folds earlier`.
/// Unsaid, such a time is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resolve {
    /// A local time in a gap: the instant it would be with the offset
    /// before the gap (`later`) or after it (`earlier`).
    pub gaps: Option<Side>,
    /// A local time in a fold: its first or its second occurrence.
    pub folds: Option<Side>,
}

/// Reads an instant (see the module's documentation for the forms). Text
/// without an offset is read in `tz`; a local time that `tz` skips or
/// repeats is read as `resolve` says, or is an error.
pub fn parse_instant(text: &str, tz: &TimeZone, resolve: Resolve) -> Result<i64, TimeError> {
    let t = match parse_rfc3339_seconds(text.as_bytes()) {
        Some(t) => t,
        None => parse_general(text, tz, resolve)?,
    };
    if (MIN_INSTANT..=MAX_INSTANT).contains(&t) {
        Ok(t)
    } else {
        Err(TimeError::Range(text.to_owned()))
    }
}

fn parse_general(text: &str, tz: &TimeZone, resolve: Resolve) -> Result<i64, TimeError> {
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
    let date_only = b.len() == 10;
    if !date_only {
        let (Some(b'T' | b't' | b' '), Some(h), Some(b':'), Some(m)) =
            (b.get(10), two(11), b.get(13), two(14))
        else {
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
        }
    }
    let offset = match &b[i..] {
        [] => None,
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] | [sign @ (b'+' | b'-'), _, _, _, _] => {
            let colon = usize::from(b.get(i + 3) == Some(&b':'));
            let (Some(h), Some(m)) = (two(i + 1), two(i + 3 + colon)) else {
                return Err(shape());
            };
            if h > 23 || m > 59 {
                return Err(TimeError::Offset(text.to_owned()));
            }
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
    // Local: the fields must be a real date and time before the zone reads
    // them.
    to_micros([year, month, day, hour, minute, second, 0]).ok_or_else(invalid)?;
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
    let ambiguous = tz.to_ambiguous_timestamp(civil);
    let zone = || {
        tz.iana_name()
            .unwrap_or("the policy's time zone")
            .to_owned()
    };
    let resolved = match (ambiguous.offset(), date_only) {
        (AmbiguousOffset::Unambiguous { .. }, _) => ambiguous.compatible(),
        // A date alone is the start of that day, whatever the clocks do.
        (_, true) => ambiguous.compatible(),
        (AmbiguousOffset::Gap { .. }, false) => match resolve.gaps {
            Some(Side::Earlier) => ambiguous.earlier(),
            Some(Side::Later) => ambiguous.later(),
            None => {
                return Err(TimeError::Gap {
                    text: text.to_owned(),
                    zone: zone(),
                });
            }
        },
        (AmbiguousOffset::Fold { .. }, false) => match resolve.folds {
            Some(Side::Earlier) => ambiguous.earlier(),
            Some(Side::Later) => ambiguous.later(),
            None => {
                return Err(TimeError::Fold {
                    text: text.to_owned(),
                    zone: zone(),
                });
            }
        },
    };
    resolved
        .map(|ts| ts.as_microsecond())
        .map_err(|_| TimeError::Range(text.to_owned()))
}

/// A calendar duration: whole days, weeks, months or years, counted on
/// the calendar of the policy's zone (`14 days`, `6 months`, `18 years`),
/// as against an exact one (`14d` is 14 × 24 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    /// Months (a year is 12).
    pub months: i32,
    /// Days (a week is 7).
    pub days: i32,
}

/// The unit of a calendar duration as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarUnit {
    /// `days`
    Days,
    /// `weeks`
    Weeks,
    /// `months`
    Months,
    /// `years`
    Years,
}

impl Period {
    /// `amount` of `unit`, or `None` past 10 000 years.
    pub fn of(amount: i64, unit: CalendarUnit) -> Option<Period> {
        let (months, days) = match unit {
            CalendarUnit::Days => (0, amount),
            CalendarUnit::Weeks => (0, amount.checked_mul(7)?),
            CalendarUnit::Months => (amount, 0),
            CalendarUnit::Years => (amount.checked_mul(12)?, 0),
        };
        if months > 120_000 || days > 3_660_000 {
            return None;
        }
        Some(Period {
            months: i32::try_from(months).ok()?,
            days: i32::try_from(days).ok()?,
        })
    }

    /// How it is written: `6 months`, `18 years`, `14 days`, `1 month 3 days`.
    pub fn written(self) -> String {
        let unit = |n: i32, one: &str, many: &str| {
            format!("{n} {}", if n.abs() == 1 { one } else { many })
        };
        let months = match self.months {
            0 => None,
            m if m % 12 == 0 => Some(unit(m / 12, "year", "years")),
            m => Some(unit(m, "month", "months")),
        };
        let days = (self.days != 0 || months.is_none()).then(|| unit(self.days, "day", "days"));
        months.into_iter().chain(days).collect::<Vec<_>>().join(" ")
    }

    /// The same length the other way.
    pub fn negated(self) -> Period {
        Period {
            months: -self.months,
            days: -self.days,
        }
    }
}

/// `micros` moved by `period` on the calendar of `tz`: the local date
/// moves by whole months, then whole days, the local time of day staying;
/// a day the month lacks (31 April, 29 February in a common year) becomes
/// its last day; a local time the clocks skip or repeat on the day reached
/// is read as `resolve` says, or else as the clocks show it after a gap and
/// at its first occurrence in a fold. Saturates at the reader's bounds.
pub fn shift(micros: i64, period: Period, tz: &TimeZone, resolve: Resolve) -> i64 {
    let moved = || -> Option<i64> {
        let civil = Timestamp::from_microsecond(micros)
            .ok()?
            .to_zoned_datetime(tz.clone());
        let span = jiff::Span::new()
            .try_months(period.months)
            .ok()?
            .try_days(period.days)
            .ok()?;
        let target = civil.datetime().checked_add(span).ok()?;
        let ambiguous = tz.to_ambiguous_timestamp(target);
        let side = match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { .. } => None,
            AmbiguousOffset::Gap { .. } => resolve.gaps,
            AmbiguousOffset::Fold { .. } => resolve.folds,
        };
        let ts = match side {
            Some(Side::Earlier) => ambiguous.earlier(),
            Some(Side::Later) => ambiguous.later(),
            None => ambiguous.compatible(),
        };
        ts.ok().map(|t| t.as_microsecond())
    };
    match moved() {
        Some(t) => t.clamp(MIN_INSTANT, MAX_INSTANT),
        None if period.months > 0 || period.days > 0 => MAX_INSTANT,
        None => MIN_INSTANT,
    }
}

/// The first instant of the local day of `micros` in `tz` (midnight, or
/// the first instant after it when the clocks skip midnight).
pub fn start_of_day(micros: i64, tz: &TimeZone) -> i64 {
    Timestamp::from_microsecond(micros)
        .ok()
        .and_then(|t| t.to_zoned_datetime(tz.clone()).start_of_day().ok())
        .map_or(micros, |z| z.timestamp().as_microsecond())
}

/// The age at `now` of someone born at `birth`, in whole years on the
/// calendar of `tz`: the most years `n` with `birth + n years <= now` (so
/// someone born on 29 February is a year older on 28 February of a
/// common year, as a period of years ends on the month's last day); 0
/// before the first birthday and for a birth after `now`.
pub fn age(birth: i64, now: i64, tz: &TimeZone, resolve: Resolve) -> i64 {
    if now < birth {
        return 0;
    }
    let year = |t: i64| {
        Timestamp::from_microsecond(t)
            .map_or(0, |t| i64::from(t.to_zoned_datetime(tz.clone()).year()))
    };
    let years =
        |n: i64| Period::of(n, CalendarUnit::Years).unwrap_or(Period { months: 0, days: 0 });
    let mut n = (year(now) - year(birth)).max(0);
    while n > 0 && shift(birth, years(n), tz, resolve) > now {
        n -= 1;
    }
    n
}

/// The first birthday of someone born at `birth` after `now`: the instant
/// at which [`age`] next grows.
pub fn next_birthday(birth: i64, now: i64, tz: &TimeZone, resolve: Resolve) -> i64 {
    let n = age(birth, now, tz, resolve) + 1;
    Period::of(n, CalendarUnit::Years).map_or(MAX_INSTANT, |p| shift(birth, p, tz, resolve))
}

/// A date as a certificate gives it: `1990-05-12`, or only the year or
/// the year and month (`1990`, `1990-05`, as the EU Digital COVID
/// Certificate allows for a date of birth). A partial date stands for the
/// last day it may be (31 December 1990, 31 May 1990), as CertLogic's
/// `dccDateOfBirth` reads it: the reading most favourable to its holder,
/// who is then as young as the date allows. The start of that day in `tz`;
/// `None` for anything else (the certificate's `""` for an unknown date).
pub fn parse_date(text: &str, tz: &TimeZone) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|d| d.iter().all(u8::is_ascii_digit))
            .and_then(|_| text.get(r)?.parse::<i32>().ok())
    };
    let year = digits(0..4)?;
    let (month, day) = match b.len() {
        4 => (12, 31),
        7 if b[4] == b'-' => {
            let month = digits(5..7).filter(|m| (1..=12).contains(m))?;
            (month, days_in_month(year, month))
        }
        10 if b[4] == b'-' && b[7] == b'-' => (digits(5..7)?, digits(8..10)?),
        _ => return None,
    };
    parse_instant(
        &format!("{year:04}-{month:02}-{day:02}"),
        tz,
        Resolve::default(),
    )
    .ok()
}

/// The shapes nearly all data has, read straight from the bytes:
/// `2021-10-31T09:00:00` with an optional fraction of a second (`.5`, up
/// to nine digits) and the offset `Z` or `+08:00`. `None` sends anything
/// else, other forms and errors alike, down the general path; what this
/// gives is what the general path gives for the same text.
pub(crate) fn parse_rfc3339_seconds(b: &[u8]) -> Option<i64> {
    let (head, rest) = b.split_first_chunk::<19>()?;
    // Eight bytes at a time, a byte a lane, the first lowest: `YYYY-MM-`,
    // `DDTHH:MM`, and `:SS`.
    let word = |at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&head[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let date = digit_lanes(word(0), 0x00ff_ff00_ffff_ffff, 0x2d00_002d_0000_0000)?;
    let time = digit_lanes(word(8), 0xffff_00ff_ff00_ffff, 0x0000_3a00_0054_0000)?;
    let seconds = digit_lanes(word(11) >> 40, 0xff_ff00, 0x3a)?;
    // Each lane, ten times itself plus the next: the two-digit numbers.
    let pairs = |d: u64| {
        let p = d * 10 + (d >> 8);
        move |lane: u32| (p >> (8 * lane)) as u32 & 0xff
    };
    let (date, time, seconds) = (pairs(date), pairs(time), pairs(seconds));
    let (year, month, day) = (date(0) * 100 + date(2), date(5), time(0));
    let (hour, minute, second) = (time(3), time(6), seconds(1));
    let (fraction, rest) = match rest {
        [b'.', tail @ ..] => {
            let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return None;
            }
            // Microseconds: the first six digits, the others dropped.
            let micros = tail[..n.min(6)]
                .iter()
                .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
            (micros * 10i64.pow(6 - n.min(6) as u32), &tail[n..])
        }
        _ => (0, rest),
    };
    let offset = match *rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] => {
            let [h0, h1, m0, m1] = [h0, h1, m0, m1].map(|d| u32::from(d.wrapping_sub(b'0')));
            let (h, m) = (h0 * 10 + h1, m0 * 10 + m1);
            if h0 > 9 || h1 > 9 || m0 > 9 || m1 > 9 || h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            if sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year as i32, month as i32) as u32
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let secs = civil_days(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset;
    Some(secs * SECOND + fraction)
}

/// The digits of the lanes of `word` that `digits` marks, as numbers, if
/// they are digits and the other lanes hold `separators`.
#[inline]
fn digit_lanes(word: u64, digits: u64, separators: u64) -> Option<u64> {
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    let d = (word ^ 0x3030_3030_3030_3030) & digits;
    // A digit is 0 to 9 now: nothing in its high half, even plus six.
    let bad = (d & HIGH) | (d.wrapping_add(0x0606_0606_0606_0606) & HIGH);
    (word & !digits == separators && bad == 0).then_some(d)
}

/// Microseconds since the epoch of `[year, month, day, hour, minute, second,
/// offset in seconds]`, if that is a real date and time of the years 0 to
/// 9999.
fn to_micros([year, month, day, hour, minute, second, offset]: [i32; 7]) -> Option<i64> {
    let valid = (0..=9999).contains(&year)
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..60).contains(&second)
        && offset.abs() < 24 * 3600;
    let days = valid.then(|| civil_days(year as u32, month as u32, day as u32))?;
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second - offset);
    Some(secs * SECOND)
}

fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a real date of the years 0 to 9999 (H.
/// Hinnant's `days_from_civil`, counted from 400 years earlier so that
/// every number on the way is positive).
fn civil_days(year: u32, month: u32, day: u32) -> i64 {
    let y = year + 400 - u32::from(month <= 2);
    let (era, yoe) = (y / 400, y % 400);
    let shifted = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * shifted + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64::from(era * 146_097 + doe) - 719_468 - 146_097
}

/// Writes an instant in `tz` as RFC 3339 with its offset, with a fraction
/// only when it has one: `2021-11-01T10:00:00+08:00`.
pub fn format_instant(micros: i64, tz: &TimeZone) -> String {
    let mut out = String::with_capacity(25);
    write_instant(&mut out, micros, tz);
    out
}

/// [`format_instant`] into a buffer. Every instant the reader accepts is
/// written as RFC 3339: in `tz`, or in UTC where the zone's offset is not a
/// whole number of minutes (local mean time before 1901) or its local year
/// would leave 0000 to 9999. Computed instants beyond those years (an
/// instant plus a long duration) are written with an expanded year
/// (`+010000-01-01T00:00:00Z`, ISO 8601), never in another form.
pub fn write_instant(out: &mut String, micros: i64, tz: &TimeZone) {
    // The zone's offset at the instant, or at the nearest one it knows.
    let clamped = micros.clamp(
        Timestamp::MIN.as_second() * SECOND,
        Timestamp::MAX.as_second() * SECOND,
    );
    let offset = Timestamp::from_microsecond(clamped)
        .map(|ts| tz.to_offset(ts).seconds())
        .unwrap_or(0);
    let local = |offset: i32| {
        let local = micros.saturating_add(i64::from(offset) * SECOND);
        let (days, rest) = (
            local.div_euclid(86_400 * SECOND),
            local.rem_euclid(86_400 * SECOND),
        );
        (civil_from_days(days), rest)
    };
    let (mut offset, (mut date, mut rest)) = (offset, local(offset));
    if offset % 60 != 0 || !(0..=9999).contains(&date.0) {
        offset = 0;
        (date, rest) = local(0);
    }
    let (year, month, day) = date;
    if (0..=9999).contains(&year) {
        digits(out, year as u32, 4);
    } else {
        out.push(if year < 0 { '-' } else { '+' });
        let _ = write!(out, "{:06}", year.unsigned_abs());
    }
    let secs = rest / SECOND;
    for (sep, n) in [
        ('-', month),
        ('-', day),
        ('T', secs / 3600),
        (':', secs / 60 % 60),
        (':', secs % 60),
    ] {
        out.push(sep);
        digits(out, n as u32, 2);
    }
    let sub = rest % SECOND;
    if sub != 0 {
        out.push('.');
        digits(out, sub as u32, 6);
    }
    if offset == 0 {
        out.push('Z');
    } else {
        out.push(if offset < 0 { '-' } else { '+' });
        let abs = offset.unsigned_abs();
        digits(out, abs / 3600, 2);
        out.push(':');
        digits(out, abs % 3600 / 60, 2);
    }
}

/// The proleptic Gregorian date of a day counted from 1970-01-01
/// (H. Hinnant's `civil_from_days`): year, month, day.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
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

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC)
    }

    fn read(text: &str) -> Result<i64, TimeError> {
        parse_instant(text, &shanghai(), Resolve::default())
    }

    #[test]
    fn offsets_and_zones_agree() {
        let a = read("2021-10-31T09:00:00+08:00");
        assert_eq!(a, Ok(1_635_642_000 * SECOND));
        for same in [
            "2021-10-31T01:00:00Z",
            "2021-10-31T09:00:00",
            "2021-10-31 09:00:00",
            "2021-10-31T09:00",
            "2021-10-31T09:00+08:00",
            "2021-10-31T09:00:00+0800",
            "2021-10-31T09:00+0800",
            "2021-10-31T01:00:00.000z",
            "2021-10-31t09:00:00",
        ] {
            assert_eq!(read(same), a, "{same}");
        }
    }

    #[test]
    fn a_date_alone_is_the_start_of_that_day_there() {
        assert_eq!(read("2021-10-31"), read("2021-10-31T00:00:00+08:00"));
        // São Paulo skipped midnight on 2018-11-04: the day began at 01:00.
        let sao_paulo = TimeZone::get("America/Sao_Paulo").unwrap_or(TimeZone::UTC);
        let day = parse_instant("2018-11-04", &sao_paulo, Resolve::default());
        assert_eq!(
            day.map(|t| format_instant(t, &sao_paulo)).as_deref(),
            Ok("2018-11-04T01:00:00-02:00")
        );
    }

    #[test]
    fn offsets_are_range_checked() {
        for bad in [
            "2021-10-31T09:00:00+08:99",
            "2021-10-31T09:00+0860",
            "2021-10-31T09:00:00+24:00",
        ] {
            assert_eq!(read(bad), Err(TimeError::Offset(bad.into())), "{bad}");
        }
        assert_eq!(read("2021-10-31T09:00:00-23:59").map(|_| ()), Ok(()));
    }

    #[test]
    fn bad_instants_are_refused() {
        for bad in [
            "",
            "yesterday",
            "2021-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2021-02-29",
            "2021-10-31T24:00:00Z",
            "2021-10-31T09:00:00+08",
            "2021-10-31T09:00:00+8:00",
            "2021-10-31T09:00:00.Z",
            "2021-10-31T09:00:00Zjunk",
            "2021-10-31T09",
            "2021-10-31T",
            "2021-10-31 ",
            "２０２１-10-31T09:00:00Z",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn daylight_saving_gaps_and_folds_are_errors_unless_resolved() {
        let tz = paris();
        // 2024-03-31: 02:00 → 03:00. 2024-10-27: 03:00 → 02:00.
        let gap = "2024-03-31T02:30:00";
        let fold = "2024-10-27T02:30:00";
        assert!(matches!(
            parse_instant(gap, &tz, Resolve::default()),
            Err(TimeError::Gap { zone, .. }) if zone == "Europe/Paris"
        ));
        assert!(matches!(
            parse_instant(fold, &tz, Resolve::default()),
            Err(TimeError::Fold { .. })
        ));
        let at = |text: &str, gaps, folds| {
            parse_instant(text, &tz, Resolve { gaps, folds }).map(|t| format_instant(t, &tz))
        };
        let (e, l) = (Some(Side::Earlier), Some(Side::Later));
        assert_eq!(at(gap, l, None).as_deref(), Ok("2024-03-31T03:30:00+02:00"));
        assert_eq!(at(gap, e, None).as_deref(), Ok("2024-03-31T01:30:00+01:00"));
        assert_eq!(
            at(fold, None, e).as_deref(),
            Ok("2024-10-27T02:30:00+02:00")
        );
        assert_eq!(
            at(fold, None, l).as_deref(),
            Ok("2024-10-27T02:30:00+01:00")
        );
        // An offset says which it is; a time outside the change is plain.
        assert!(parse_instant("2024-10-27T02:30:00+01:00", &tz, Resolve::default()).is_ok());
        assert!(parse_instant("2024-10-27T04:30:00", &tz, Resolve::default()).is_ok());
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
            let ours = parse_instant(text, &utc, Resolve::default());
            let theirs = text.parse::<Timestamp>().map(|t| t.as_microsecond());
            assert_eq!(ours.ok(), theirs.ok(), "{text}");
        }
        for bad in [
            "2100-02-29T00:00:00Z",
            "2021-04-31T00:00:00Z",
            "2021-01-01T00:60:00Z",
            "2021-01-01T00:00:00+24:00",
            "2021-01-01T00:00:00+08:99",
        ] {
            assert!(
                parse_instant(bad, &utc, Resolve::default()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_fast_path_reads_what_the_general_path_reads() {
        let utc = TimeZone::UTC;
        let mut read_fast = 0;
        for date in [
            "0000-01-01",
            "1969-12-31",
            "2000-02-29",
            "2100-02-29",
            "2021-04-31",
            "2021-13-01",
            "2021-00-10",
            "2021-10-00",
            "9999-12-31",
            "2O21-10-31",
        ] {
            for time in [
                "T00:00:00",
                "T23:59:59",
                "T24:00:00",
                "T12:60:00",
                "T12:00:60",
                " 12:00:00",
                "t12:00:00",
                "T12:00",
            ] {
                for fraction in ["", ".5", ".123456", ".123456789", ".1234567890", ".", ".x"] {
                    for offset in [
                        "Z", "z", "+08:00", "-09:30", "+23:59", "-00:00", "+24:00", "+08:60",
                        "+0800", "+8:00", "",
                    ] {
                        let text = format!("{date}{time}{fraction}{offset}");
                        let general = parse_general(&text, &utc, Resolve::default()).ok();
                        let fast = parse_rfc3339_seconds(text.as_bytes());
                        let fast_shape = time.starts_with('T')
                            && time.len() == 9
                            && (offset == "Z" || offset.len() == 6 && offset.as_bytes()[3] == b':');
                        if fast_shape {
                            assert_eq!(fast, general, "{text}");
                        } else {
                            assert_eq!(fast, None, "{text}");
                        }
                        read_fast += usize::from(fast.is_some());
                    }
                }
            }
        }
        assert_eq!(read_fast, 4 * 2 * 4 * 5);
    }

    #[test]
    fn every_instant_read_is_written_as_rfc_3339() {
        let tz = shanghai();
        let round = |text: &str| read(text).map(|t| format_instant(t, &tz));
        // The last and first instants the reader accepts.
        assert_eq!(
            round("9999-12-31T23:59:59.999999Z").as_deref(),
            Ok("9999-12-31T23:59:59.999999Z")
        );
        assert_eq!(
            round("9999-12-31T15:59:59Z").as_deref(),
            Ok("9999-12-31T23:59:59+08:00")
        );
        assert_eq!(
            round("9999-12-31T16:00:00Z").as_deref(),
            Ok("9999-12-31T16:00:00Z")
        );
        assert_eq!(
            round("0000-01-01T00:00:00Z").as_deref(),
            Ok("0000-01-01T00:00:00Z")
        );
        // Before 1901 Shanghai kept local mean time, +08:05:43: in UTC.
        assert_eq!(
            round("1900-01-01T00:00:00Z").as_deref(),
            Ok("1900-01-01T00:00:00Z")
        );
        for beyond in ["0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"] {
            assert_eq!(
                read(beyond),
                Err(TimeError::Range(beyond.into())),
                "{beyond}"
            );
        }
        // A computed instant beyond them still reads as a date.
        assert_eq!(
            format_instant(MAX_INSTANT + 1, &tz),
            "+010000-01-01T00:00:00Z"
        );
        assert_eq!(
            format_instant(MIN_INSTANT - SECOND, &tz),
            "-000001-12-31T23:59:59Z"
        );
        assert_eq!(format_instant(i64::MAX, &tz).get(..1), Some("+"));
        assert_eq!(format_instant(i64::MIN, &tz).get(..1), Some("-"));
    }

    #[test]
    fn every_instant_written_reads_back_as_itself() {
        let zones = [
            "Asia/Shanghai",
            "Europe/Paris",
            "America/Sao_Paulo",
            "Asia/Kolkata",
            "UTC",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let span = (MAX_INSTANT - MIN_INSTANT) as u64;
        for zone in zones {
            let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
            for i in 0..2000 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                // Whole seconds half the time, microseconds the other half;
                // the edges of the range too.
                let t = match i {
                    0 => MIN_INSTANT,
                    1 => MAX_INSTANT,
                    _ => MIN_INSTANT + ((x >> 1) % span) as i64,
                };
                let t = if i % 2 == 0 {
                    t - t.rem_euclid(SECOND)
                } else {
                    t
                };
                let text = format_instant(t, &tz);
                assert_eq!(
                    parse_instant(&text, &tz, Resolve::default()),
                    Ok(t),
                    "{zone}: {text}"
                );
            }
        }
    }

    #[test]
    fn fractions_survive_a_round_trip() {
        let tz = shanghai();
        let t = read("2021-10-31T09:00:00.25+08:00");
        assert_eq!(
            t.map(|t| format_instant(t, &tz)).as_deref(),
            Ok("2021-10-31T09:00:00.250000+08:00")
        );
        assert_eq!(format_instant(0, &TimeZone::UTC), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_instant(-1, &TimeZone::UTC),
            "1969-12-31T23:59:59.999999Z"
        );
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

    fn at(text: &str) -> i64 {
        parse_instant(text, &paris(), Resolve::default()).unwrap_or(i64::MIN)
    }

    fn show(t: i64) -> String {
        format_instant(t, &paris())
    }

    fn of(n: i64, unit: CalendarUnit) -> Period {
        Period::of(n, unit).unwrap_or(Period { months: 0, days: 0 })
    }

    #[test]
    fn fourteen_days_are_not_336_hours_across_a_change_of_the_clocks() {
        // Paris goes from +01:00 to +02:00 on 2024-03-31.
        let start = at("2024-03-25T09:00");
        let days = shift(
            start,
            of(14, CalendarUnit::Days),
            &paris(),
            Resolve::default(),
        );
        assert_eq!(show(days), "2024-04-08T09:00:00+02:00");
        assert_eq!(
            show(start + 336 * 3_600 * SECOND),
            "2024-04-08T10:00:00+02:00"
        );
        assert_eq!(
            shift(
                start,
                of(2, CalendarUnit::Weeks),
                &paris(),
                Resolve::default()
            ),
            days
        );
        // And back, over the change to +01:00 on 2024-10-27.
        let back = shift(
            at("2024-10-30T09:00"),
            of(-7, CalendarUnit::Days),
            &paris(),
            Resolve::default(),
        );
        assert_eq!(show(back), "2024-10-23T09:00:00+02:00");
    }

    #[test]
    fn a_month_after_the_end_of_january_is_the_end_of_february() {
        let month = |text: &str, n| {
            show(shift(
                at(text),
                of(n, CalendarUnit::Months),
                &paris(),
                Resolve::default(),
            ))
        };
        assert_eq!(month("2023-01-31T10:00", 1), "2023-02-28T10:00:00+01:00");
        assert_eq!(month("2024-01-31T10:00", 1), "2024-02-29T10:00:00+01:00");
        assert_eq!(month("2024-03-31T10:00", -1), "2024-02-29T10:00:00+01:00");
        assert_eq!(month("2024-08-31T10:00", 6), "2025-02-28T10:00:00+01:00");
        assert_eq!(month("2024-02-29T10:00", 12), "2025-02-28T10:00:00+01:00");
        assert_eq!(month("2024-02-29T10:00", 48), "2028-02-29T10:00:00+01:00");
    }

    #[test]
    fn a_local_time_the_clocks_skip_is_read_as_the_policy_says() {
        // 2024-03-31T02:30 does not exist in Paris.
        let from = at("2024-03-30T02:30");
        let day = of(1, CalendarUnit::Days);
        let read = |gaps| show(shift(from, day, &paris(), Resolve { gaps, folds: None }));
        assert_eq!(read(None), "2024-03-31T03:30:00+02:00");
        assert_eq!(read(Some(Side::Later)), "2024-03-31T03:30:00+02:00");
        assert_eq!(read(Some(Side::Earlier)), "2024-03-31T01:30:00+01:00");
        // 2024-10-27T02:30 happens twice: the first unless said otherwise.
        let from = at("2024-10-26T02:30");
        let read = |folds| show(shift(from, day, &paris(), Resolve { gaps: None, folds }));
        assert_eq!(read(None), "2024-10-27T02:30:00+02:00");
        assert_eq!(read(Some(Side::Later)), "2024-10-27T02:30:00+01:00");
    }

    #[test]
    fn calendar_shifts_saturate_at_the_readers_bounds() {
        let far = of(9_000, CalendarUnit::Years);
        assert_eq!(
            shift(at("2024-01-01"), far, &paris(), Resolve::default()),
            MAX_INSTANT
        );
        assert_eq!(
            shift(
                at("2024-01-01"),
                far.negated(),
                &paris(),
                Resolve::default()
            ),
            MIN_INSTANT
        );
        assert!(Period::of(10_001, CalendarUnit::Years).is_none());
        assert!(Period::of(i64::MAX, CalendarUnit::Weeks).is_none());
    }

    #[test]
    fn the_start_of_a_day_is_local_midnight() {
        assert_eq!(
            show(start_of_day(at("2024-03-31T18:45"), &paris())),
            "2024-03-31T00:00:00+01:00"
        );
        assert_eq!(
            show(start_of_day(at("2024-10-27T23:59"), &paris())),
            "2024-10-27T00:00:00+02:00"
        );
        // 23:30 UTC on the 1st is already the 2nd in Shanghai.
        let t = parse_instant("2024-05-01T23:30Z", &shanghai(), Resolve::default()).unwrap_or(0);
        assert_eq!(
            format_instant(start_of_day(t, &shanghai()), &shanghai()),
            "2024-05-02T00:00:00+08:00"
        );
    }

    #[test]
    fn ages_are_whole_years_and_29_february_turns_on_28_february() {
        let age_at = |birth: &str, now: &str| age(at(birth), at(now), &paris(), Resolve::default());
        assert_eq!(age_at("2000-05-12", "2018-05-11T23:59:59"), 17);
        assert_eq!(age_at("2000-05-12", "2018-05-12T00:00"), 18);
        assert_eq!(age_at("2000-02-29", "2018-02-27T23:59:59"), 17);
        assert_eq!(age_at("2000-02-29", "2018-02-28T00:00"), 18);
        assert_eq!(age_at("2000-02-29", "2020-02-28T23:59:59"), 19);
        assert_eq!(age_at("2000-02-29", "2020-02-29T00:00"), 20);
        assert_eq!(age_at("2030-01-01", "2020-01-01"), 0);
        let next = |birth: &str, now: &str| {
            show(next_birthday(
                at(birth),
                at(now),
                &paris(),
                Resolve::default(),
            ))
        };
        assert_eq!(
            next("2000-02-29", "2018-01-01"),
            "2018-02-28T00:00:00+01:00"
        );
        assert_eq!(
            next("2000-02-29", "2019-03-01"),
            "2020-02-29T00:00:00+01:00"
        );
        assert_eq!(
            next("2030-01-01", "2020-01-01"),
            "2031-01-01T00:00:00+01:00"
        );
    }

    #[test]
    fn partial_dates_stand_for_their_last_day() {
        let date = |text: &str| parse_date(text, &paris()).map(show);
        assert_eq!(date("1990").as_deref(), Some("1990-12-31T00:00:00+01:00"));
        assert_eq!(
            date("1990-05").as_deref(),
            Some("1990-05-31T00:00:00+02:00")
        );
        assert_eq!(
            date("2004-02").as_deref(),
            Some("2004-02-29T00:00:00+01:00")
        );
        assert_eq!(
            date("2003-02").as_deref(),
            Some("2003-02-28T00:00:00+01:00")
        );
        assert_eq!(
            date("1990-05-12").as_deref(),
            Some("1990-05-12T00:00:00+02:00")
        );
        for bad in [
            "",
            "199",
            "1990-13",
            "1990-02-30",
            "1990-5",
            "19x0",
            "1990-05-12T10:00",
            "+990",
        ] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn periods_are_written_in_their_largest_unit() {
        assert_eq!(of(18, CalendarUnit::Years).written(), "18 years");
        assert_eq!(of(1, CalendarUnit::Months).written(), "1 month");
        assert_eq!(of(2, CalendarUnit::Weeks).written(), "14 days");
        assert_eq!(of(0, CalendarUnit::Days).written(), "0 days");
        assert_eq!(of(-6, CalendarUnit::Months).written(), "-6 months");
    }
}
