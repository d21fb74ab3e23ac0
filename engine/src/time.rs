//! Timestamps as the scenario format and Spark write them: `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC,
//! microsecond precision, stored as microseconds since the epoch.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// Parses the forms Spark's `CAST(string AS TIMESTAMP)` accepts most often: a date, a date and
/// time separated by a space or `T`, optional fraction, optional trailing `Z`/`UTC`.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let s = text.trim();
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")).unwrap_or(s);
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(to_micros(&date.and_time(NaiveTime::MIN)));
    }
    let normalised;
    let s = if s.len() > 10 && s.as_bytes()[10] == b'T' {
        normalised = format!("{} {}", &s[..10], &s[11..]);
        normalised.as_str()
    } else {
        s
    };
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(to_micros(&dt));
        }
    }
    None
}

pub fn to_micros(dt: &NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_micros()
}

pub fn from_micros(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|d| d.naive_utc())
}

/// Formats like Spark's `CAST(ts AS STRING)`: the fraction only when non-zero, trailing zeros cut.
pub fn format_timestamp(micros: i64) -> String {
    match from_micros(micros) {
        Some(dt) => {
            let base = dt.format("%Y-%m-%d %H:%M:%S").to_string();
            let frac = micros.rem_euclid(MICROS_PER_SECOND);
            if frac == 0 {
                base
            } else {
                let digits = format!("{frac:06}");
                format!("{base}.{}", digits.trim_end_matches('0'))
            }
        }
        None => format!("<timestamp out of range: {micros}>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn round_trips_with_and_without_fraction() {
        for s in ["2026-01-01 00:00:03", "2026-01-01 00:00:03.5", "1969-12-31 23:59:59.000001"] {
            assert_eq!(format_timestamp(parse_timestamp(s).unwrap()), s);
        }
    }

    #[test]
    fn accepts_date_only_iso_t_and_zulu() {
        assert_eq!(parse_timestamp("2026-01-01"), parse_timestamp("2026-01-01 00:00:00"));
        assert_eq!(parse_timestamp("2026-01-01T00:00:05Z"), parse_timestamp("2026-01-01 00:00:05"));
        assert_eq!(parse_timestamp(" 2026-01-01 00:00:05 "), parse_timestamp("2026-01-01 00:00:05"));
    }

    #[test]
    fn refuses_garbage() {
        for s in ["", "yesterday", "2026-13-01", "2026-01-01 25:00:00", "1"] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
