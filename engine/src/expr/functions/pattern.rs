//! Spark's datetime patterns (`yyyy-MM-dd HH:mm:ss`, Java's `DateTimeFormatter` letters, as Spark
//! restricts them), compiled once per pattern and formatted by hand for the UTC session time zone.
//! chrono formats only what its own strftime knows and fails (or panics, inside `to_string`) on
//! zone letters over a naive time, so formatting never goes through it; parsing translates the
//! letters chrono can parse and refuses the others by name.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use crate::error::{Error, Result};

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Literal(String),
    /// `G`: AD/BC.
    Era(usize),
    /// `y` (`u` in Spark's rewrite): the proleptic year, or the year of era when `G` is present.
    Year {
        count: usize,
        of_era: bool,
    },
    /// `Y`: the year of the (US, Sunday-first) week.
    WeekYear(usize),
    /// `D`: day of year.
    DayOfYear(usize),
    /// `M`/`L`: month, as a number (1, 2 letters) or a name (3, 4).
    Month(usize),
    /// `d`: day of month.
    Day(usize),
    /// `Q`/`q`: quarter.
    Quarter(usize),
    /// `E`: day-of-week name.
    DayName(usize),
    /// `e`: localized day of week (US: Sunday is 1), as a number or a name.
    LocalDayOfWeek(usize),
    /// `w`: week of the week-based year (US).
    WeekOfYear(usize),
    /// `W`: week of month (US).
    WeekOfMonth,
    /// `a`: AM/PM.
    AmPm,
    /// `H` 0-23, `k` 1-24, `K` 0-11, `h` 1-12.
    Hour {
        count: usize,
        letter: char,
    },
    Minute(usize),
    Second(usize),
    /// `S`..: that many digits of the fraction of the second, truncated.
    Fraction(usize),
}

const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const QUARTERS: [&str; 4] = ["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"];

fn illegal(c: char) -> Error {
    Error::runtime(
        "INVALID_DATETIME_PATTERN",
        format!("[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] Illegal pattern character found in datetime pattern: {c}. Provide legal character. SQLSTATE: 22007"),
    )
}

fn too_many(c: char, n: usize) -> Error {
    Error::runtime(
        "INVALID_DATETIME_PATTERN",
        format!(
            "[INVALID_DATETIME_PATTERN.LENGTH] Too many letters in datetime pattern: {}. Please reduce pattern length. SQLSTATE: 22007",
            c.to_string().repeat(n)
        ),
    )
}

fn malformed(pattern: &str, why: &str) -> Error {
    Error::runtime(
        "INVALID_DATETIME_PATTERN",
        format!("[INVALID_DATETIME_PATTERN] Unrecognized datetime pattern: {pattern} ({why}). SQLSTATE: 22007"),
    )
}

fn not_for_parsing(c: char, why: &str) -> Error {
    Error::runtime(
        "INVALID_DATETIME_PATTERN",
        format!("[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] The pattern letter '{c}' cannot be used to parse a timestamp: {why}. SQLSTATE: 22007"),
    )
}

/// Compiles a Spark datetime pattern. `parsing` applies the letters Spark refuses when parsing
/// (week-based fields, day-of-week names, quarters).
pub fn compile(pattern: &str, parsing: bool) -> Result<Vec<Piece>> {
    let chars: Vec<char> = pattern.chars().collect();
    let has_era = {
        // Outside quotes only, as Spark checks it.
        let mut quoted = false;
        chars.iter().any(|&c| {
            if c == '\'' {
                quoted = !quoted;
            }
            !quoted && c == 'G'
        })
    };
    let mut out: Vec<Piece> = Vec::new();
    let literal = |out: &mut Vec<Piece>, s: &str| match out.last_mut() {
        Some(Piece::Literal(l)) => l.push_str(s),
        _ => out.push(Piece::Literal(s.to_string())),
    };
    let mut optional_depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // `''` is a quote; otherwise text up to the closing quote, where `''` is a quote too.
            if chars.get(i + 1) == Some(&'\'') {
                literal(&mut out, "'");
                i += 2;
                continue;
            }
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(malformed(pattern, "a quoted text is not closed")),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        text.push(ch);
                        i += 1;
                    }
                }
            }
            literal(&mut out, &text);
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        i += n;
        // Zone letters print the UTC session time zone, so they compile to text.
        let zone = |text: &str| -> Result<Option<Piece>> {
            if parsing {
                return Err(not_for_parsing(c, "Unbounded does not parse time zones; timestamps are UTC"));
            }
            Ok(Some(Piece::Literal(text.to_string())))
        };
        let piece = match (c, n) {
            ('[', _) => {
                // An optional section: every field of a timestamp is present, so it always prints.
                optional_depth += n;
                None
            }
            (']', _) => {
                if n > optional_depth {
                    return Err(malformed(pattern, "']' without a '[' before it"));
                }
                optional_depth -= n;
                None
            }
            ('{' | '}' | '#', _) => return Err(malformed(pattern, &format!("'{c}' is reserved"))),
            ('u', _) => {
                return Err(Error::runtime(
                    "INVALID_DATETIME_PATTERN",
                    "[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] Pattern letter 'u' (day number of week) is not supported since Spark 3.0. Please use 'e' or 'E' (day-of-week) instead. SQLSTATE: 22007",
                ))
            }
            ('A' | 'c' | 'n' | 'N' | 'p', _) => return Err(illegal(c)),
            ('Y' | 'W' | 'w' | 'E' | 'e' | 'F' | 'q' | 'Q', _) if parsing => return Err(illegal(c)),
            ('G', 1..=4) if parsing => return Err(not_for_parsing(c, "Unbounded does not parse eras")),
            ('G', 1..=4) => Some(Piece::Era(n)),
            ('y', 1..=10) => Some(Piece::Year { count: n, of_era: has_era }),
            ('Y', 1..=10) => Some(Piece::WeekYear(n)),
            ('D', 1..=3) => Some(Piece::DayOfYear(n)),
            ('M' | 'L', 1..=4) => Some(Piece::Month(n)),
            ('d', 1..=2) => Some(Piece::Day(n)),
            ('Q' | 'q', 1..=4) => Some(Piece::Quarter(n)),
            ('E', 1..=4) => Some(Piece::DayName(n)),
            ('e', 1..=4) => Some(Piece::LocalDayOfWeek(n)),
            ('w', 1..=2) => Some(Piece::WeekOfYear(n)),
            ('W', 1) => Some(Piece::WeekOfMonth),
            ('F', _) => {
                return Err(Error::runtime(
                    "INVALID_DATETIME_PATTERN",
                    "[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] The pattern letter 'F' is not supported by Unbounded (its meaning differs between Java versions); use 'W' (week of month) or 'd' (day of month). SQLSTATE: 22007",
                ))
            }
            ('a', 1) => Some(Piece::AmPm),
            ('H' | 'k' | 'K' | 'h', 1..=2) => {
                if parsing && matches!(c, 'k' | 'K') {
                    return Err(not_for_parsing(c, "Unbounded parses hours with 'H' (0-23) or 'h' with 'a' (1-12)"));
                }
                Some(Piece::Hour { count: n, letter: c })
            }
            ('m', 1..=2) => Some(Piece::Minute(n)),
            ('s', 1..=2) => Some(Piece::Second(n)),
            ('S', 1..=9) => Some(Piece::Fraction(n)),
            ('V', 2) => zone("UTC")?,
            ('V', _) => return Err(malformed(pattern, "the pattern letter 'V' must be written twice (VV)")),
            ('z', 1..=3) => zone("UTC")?,
            ('z', 4) => zone("Coordinated Universal Time")?,
            ('O', 1 | 4) => zone("GMT")?,
            ('O', _) => return Err(malformed(pattern, "the pattern letter 'O' must be written once or four times")),
            ('X', 1..=5) => zone("Z")?,
            ('x', 1) => zone("+00")?,
            ('x', 2 | 4) => zone("+0000")?,
            ('x', 3 | 5) => zone("+00:00")?,
            ('Z', 1..=3) => zone("+0000")?,
            ('Z', 4) => zone("GMT")?,
            ('Z', 5) => zone("Z")?,
            (c, n) if matches!(c, 'G' | 'y' | 'Y' | 'D' | 'M' | 'L' | 'd' | 'Q' | 'q' | 'E' | 'e' | 'w' | 'W' | 'a')
                || matches!(c, 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'S' | 'z' | 'X' | 'x' | 'Z') =>
            {
                return Err(too_many(c, n))
            }
            (c, _) if c.is_ascii_alphabetic() => return Err(illegal(c)),
            (c, n) => {
                literal(&mut out, &c.to_string().repeat(n));
                None
            }
        };
        if let Some(p) = piece {
            out.push(p);
        }
    }
    Ok(out)
}

fn padded(out: &mut String, value: i64, width: usize) {
    use std::fmt::Write;
    let _ = write!(out, "{value:0width$}");
}

/// The (US: Sunday-first, a week belongs to the year of its Saturday) week-based year and week.
fn us_week(date: NaiveDate) -> (i32, u32) {
    let to_saturday = 6 - date.weekday().num_days_from_sunday() as u64;
    match date.checked_add_days(chrono::Days::new(to_saturday)) {
        Some(saturday) => (saturday.year(), (saturday.ordinal() - 1) / 7 + 1),
        // Past the calendar's last day: the week is the last of the date's own year.
        None => (date.year(), (date.ordinal() - 1) / 7 + 1),
    }
}

/// Formats `dt` (UTC) with a compiled pattern.
pub fn format(pieces: &[Piece], dt: &NaiveDateTime) -> String {
    let mut out = String::new();
    let date = dt.date();
    for piece in pieces {
        match piece {
            Piece::Literal(s) => out.push_str(s),
            Piece::Era(n) => out.push_str(match (*n == 4, date.year() > 0) {
                (false, true) => "AD",
                (false, false) => "BC",
                (true, true) => "Anno Domini",
                (true, false) => "Before Christ",
            }),
            Piece::Year { count, of_era } => {
                let year = if *of_era && date.year() <= 0 { 1 - date.year() as i64 } else { date.year() as i64 };
                year_field(&mut out, year, *count)
            }
            Piece::WeekYear(count) => year_field(&mut out, us_week(date).0 as i64, *count),
            Piece::DayOfYear(n) => padded(&mut out, date.ordinal() as i64, *n),
            Piece::Month(n) => match n {
                1 | 2 => padded(&mut out, date.month() as i64, *n),
                3 => out.push_str(&MONTHS[date.month0() as usize % 12][..3]),
                _ => out.push_str(MONTHS[date.month0() as usize % 12]),
            },
            Piece::Day(n) => padded(&mut out, date.day() as i64, *n),
            Piece::Quarter(n) => {
                let q = date.month0() / 3;
                match n {
                    1 | 2 => padded(&mut out, q as i64 + 1, *n),
                    3 => padded_text(&mut out, "Q", q as i64 + 1),
                    _ => out.push_str(QUARTERS[q as usize % 4]),
                }
            }
            Piece::DayName(n) => day_name(&mut out, date, *n >= 4),
            Piece::LocalDayOfWeek(n) => match n {
                1 | 2 => padded(&mut out, date.weekday().num_days_from_sunday() as i64 + 1, *n),
                _ => day_name(&mut out, date, *n >= 4),
            },
            Piece::WeekOfYear(n) => padded(&mut out, us_week(date).1 as i64, *n),
            Piece::WeekOfMonth => {
                let first = date.with_day(1).map(|d| d.weekday().num_days_from_sunday()).unwrap_or(0);
                padded(&mut out, ((date.day() - 1 + first) / 7 + 1) as i64, 1)
            }
            Piece::AmPm => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
            Piece::Hour { count, letter } => {
                let h = dt.hour() as i64;
                let shown = match letter {
                    'H' => h,
                    'k' if h == 0 => 24,
                    'k' => h,
                    'K' => h % 12,
                    _ if h % 12 == 0 => 12,
                    _ => h % 12,
                };
                padded(&mut out, shown, *count)
            }
            Piece::Minute(n) => padded(&mut out, dt.minute() as i64, *n),
            Piece::Second(n) => padded(&mut out, dt.second() as i64, *n),
            Piece::Fraction(n) => {
                let nanos = format!("{:09}", dt.nanosecond() % 1_000_000_000);
                out.push_str(nanos.get(..*n).unwrap_or(&nanos));
            }
        }
    }
    out
}

fn padded_text(out: &mut String, prefix: &str, value: i64) {
    out.push_str(prefix);
    padded(out, value, 1);
}

fn day_name(out: &mut String, date: NaiveDate, full: bool) {
    let name = DAYS[date.weekday().num_days_from_sunday() as usize % 7];
    out.push_str(if full { name } else { &name[..3] });
}

/// Java's year printing: two letters keep the last two digits; otherwise the year padded to the
/// count, signed when negative.
fn year_field(out: &mut String, year: i64, count: usize) {
    if count == 2 {
        padded(out, year.rem_euclid(100), 2)
    } else {
        padded(out, year, count)
    }
}

/// The chrono format string that parses what `pieces` describe (compiled with `parsing`).
pub fn chrono_parse_format(pieces: &[Piece]) -> String {
    let mut f = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(s) => f.push_str(&s.replace('%', "%%")),
            Piece::Year { count: 2, .. } => f.push_str("%y"),
            Piece::Year { .. } => f.push_str("%Y"),
            Piece::DayOfYear(_) => f.push_str("%j"),
            Piece::Month(1) => f.push_str("%-m"),
            Piece::Month(2) => f.push_str("%m"),
            Piece::Month(3) => f.push_str("%b"),
            Piece::Month(_) => f.push_str("%B"),
            Piece::Day(1) => f.push_str("%-d"),
            Piece::Day(_) => f.push_str("%d"),
            Piece::AmPm => f.push_str("%p"),
            Piece::Hour { count, letter } => f.push_str(match (letter, count) {
                ('h', 1) => "%-I",
                ('h', _) => "%I",
                (_, 1) => "%-H",
                _ => "%H",
            }),
            Piece::Minute(1) => f.push_str("%-M"),
            Piece::Minute(_) => f.push_str("%M"),
            Piece::Second(1) => f.push_str("%-S"),
            Piece::Second(_) => f.push_str("%S"),
            Piece::Fraction(n) if *n <= 3 => f.push_str("%3f"),
            Piece::Fraction(n) if *n <= 6 => f.push_str("%6f"),
            Piece::Fraction(_) => f.push_str("%9f"),
            // Refused by `compile(.., true)`.
            Piece::Era(_)
            | Piece::WeekYear(_)
            | Piece::Quarter(_)
            | Piece::DayName(_)
            | Piece::LocalDayOfWeek(_)
            | Piece::WeekOfYear(_)
            | Piece::WeekOfMonth => {}
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn fmt(pattern: &str, ts: &str) -> String {
        let micros = crate::time::parse_timestamp(ts).unwrap();
        format(&compile(pattern, false).unwrap(), &crate::time::from_micros(micros).unwrap())
    }

    #[test]
    fn zone_letters_print_the_utc_session_zone_as_java_does() {
        let t = "2026-05-17 13:45:12.123456";
        assert_eq!(fmt("Z|ZZ|ZZZ|ZZZZ|ZZZZZ", t), "+0000|+0000|+0000|GMT|Z");
        assert_eq!(fmt("X|XX|XXX|XXXX|XXXXX", t), "Z|Z|Z|Z|Z");
        assert_eq!(fmt("x|xx|xxx|xxxx|xxxxx", t), "+00|+0000|+00:00|+0000|+00:00");
        assert_eq!(fmt("z|zzzz|VV|O|OOOO", t), "UTC|Coordinated Universal Time|UTC|GMT|GMT");
        for bad in ["ZZZZZZ", "XXXXXX", "xxxxxx", "zzzzz", "V", "OO"] {
            assert!(compile(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_print_as_spark() {
        let t = "2026-05-17 13:45:02.123456"; // a Sunday
        assert_eq!(fmt("yyyy-MM-dd HH:mm:ss.SSS", t), "2026-05-17 13:45:02.123");
        assert_eq!(fmt("y yy yyy yyyyy", t), "2026 26 2026 02026");
        assert_eq!(fmt("M MM MMM MMMM", t), "5 05 May May");
        assert_eq!(fmt("d D DDD", t), "17 137 137");
        assert_eq!(fmt("E EEEE e ee eee", t), "Sun Sunday 1 01 Sun");
        assert_eq!(fmt("h hh K k a", t), "1 01 1 13 PM");
        assert_eq!(fmt("Q QQ QQQ QQQQ", t), "2 02 Q2 2nd quarter");
        assert_eq!(fmt("G GGGG", t), "AD Anno Domini");
        assert_eq!(fmt("S SS SSSSSS SSSSSSSSS", t), "1 12 123456 123456000");
        assert_eq!(fmt("'at' HH 'o''clock' ''", t), "at 13 o'clock '");
        assert_eq!(fmt("yyyy[-MM]", t), "2026-05");
        assert_eq!(fmt("k h", "2026-05-17 00:10:00"), "24 12");
    }

    #[test]
    fn week_fields_follow_the_us_week() {
        // 2022-01-01 is a Saturday: week 1 of 2022; 2021-12-26 (Sunday) starts that week.
        assert_eq!(fmt("YYYY w W", "2022-01-01"), "2022 1 1");
        assert_eq!(fmt("YYYY ww", "2021-12-26"), "2022 01");
        assert_eq!(fmt("YYYY w", "2021-12-25"), "2021 52");
        assert_eq!(fmt("W", "2026-05-17"), "4");
    }

    #[test]
    fn refused_letters_and_lengths_say_which() {
        for (pattern, needle) in [
            ("MMMMM", "MMMMM"),
            ("yyyyyyyyyyy", "yyyyyyyyyyy"),
            ("ddd", "ddd"),
            ("u", "'u'"),
            ("A", ": A"),
            ("b", ": b"),
            ("F", "'F'"),
            ("aa", "aa"),
            ("'open", "not closed"),
            ("]", "']'"),
            ("#", "'#'"),
        ] {
            let e = compile(pattern, false).unwrap_err();
            assert!(e.message.contains(needle), "{pattern}: {}", e.message);
            assert_eq!(e.spark_condition, Some("INVALID_DATETIME_PATTERN"));
        }
        for letter in ["E", "Q", "w", "Y", "X", "G", "k"] {
            assert!(compile(letter, true).is_err(), "{letter} parses");
        }
    }
}
