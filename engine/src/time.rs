//! Timestamps as the scenario format and Spark write them: `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC,
//! microsecond precision, stored as microseconds since the epoch.
//!
//! Every timestamp the engine holds lies in Spark's TIMESTAMP range, 0001-01-01 00:00:00 to
//! 9999-12-31 23:59:59.999999: values are checked where they enter (parsing, casts, arithmetic),
//! so formatting and calendar arithmetic never meet a value the calendar cannot represent.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// 0001-01-01 00:00:00, the first instant of Spark's TIMESTAMP range.
pub const MIN_TIMESTAMP: i64 = -62_135_596_800_000_000;
/// 9999-12-31 23:59:59.999999, the last instant of Spark's TIMESTAMP range.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799_999_999;

/// `micros` when it lies in Spark's TIMESTAMP range.
pub fn in_range(micros: i64) -> Option<i64> {
    (MIN_TIMESTAMP..=MAX_TIMESTAMP).contains(&micros).then_some(micros)
}

/// `t + delta` when both the sum exists and it lies in the TIMESTAMP range.
pub fn checked_shift(t: i64, delta: i64) -> Option<i64> {
    t.checked_add(delta).and_then(in_range)
}

/// Spark's `DATETIME_OVERFLOW` (what ANSI mode raises when time arithmetic leaves the calendar),
/// saying which operation on which value overflowed.
pub fn datetime_overflow(operation: impl std::fmt::Display) -> crate::error::Error {
    crate::error::Error::runtime(
        "DATETIME_OVERFLOW",
        format!(
            "[DATETIME_OVERFLOW] Datetime operation overflow: {operation}. Timestamps must lie between 0001-01-01 00:00:00 and 9999-12-31 23:59:59.999999. SQLSTATE: 22008"
        ),
    )
}

/// Parses the forms Spark's `CAST(string AS TIMESTAMP)` accepts most often: a date, a date and
/// time separated by a space or `T`, optional fraction, optional trailing `Z`/`UTC`. A time
/// outside the TIMESTAMP range is not a timestamp.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let s = text.trim();
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")).unwrap_or(s);
    if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return in_range(to_micros(&date.and_time(NaiveTime::MIN)));
    }
    let normalised;
    let s = match (s.get(..10), s.get(10..11), s.get(11..)) {
        (Some(date), Some("T"), Some(time)) => {
            normalised = format!("{date} {time}");
            normalised.as_str()
        }
        _ => s,
    };
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return in_range(to_micros(&dt));
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

/// Processing time, supplied by whoever drives the query (the browser's `performance.now()`,
/// the CLI's monotonic clock, a test's fake).
pub trait Clock {
    fn now_ms(&self) -> f64;
}

/// The platform's monotonic clock; on wasm without one, a counter that advances 1 ms per read.
pub struct SystemClock {
    #[cfg(not(target_arch = "wasm32"))]
    start: std::time::Instant,
    #[cfg(target_arch = "wasm32")]
    ticks: std::cell::Cell<f64>,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            #[cfg(not(target_arch = "wasm32"))]
            start: std::time::Instant::now(),
            #[cfg(target_arch = "wasm32")]
            ticks: std::cell::Cell::new(0.0),
        }
    }
}

impl Clock for SystemClock {
    #[cfg(not(target_arch = "wasm32"))]
    fn now_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }
    #[cfg(target_arch = "wasm32")]
    fn now_ms(&self) -> f64 {
        let t = self.ticks.get() + 1.0;
        self.ticks.set(t);
        t
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

    #[test]
    fn only_timestamps_in_sparks_range_parse() {
        assert_eq!(parse_timestamp("0001-01-01 00:00:00"), Some(MIN_TIMESTAMP));
        assert_eq!(parse_timestamp("9999-12-31 23:59:59.999999"), Some(MAX_TIMESTAMP));
        assert_eq!(format_timestamp(MIN_TIMESTAMP), "0001-01-01 00:00:00");
        assert_eq!(format_timestamp(MAX_TIMESTAMP), "9999-12-31 23:59:59.999999");
        for s in ["0000-12-31 23:59:59", "+10000-01-01", "10000-01-01 00:00:00", "-0001-01-01", "+262143-12-31T00:00:00", "262144-01-01"] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
        // A multi-byte character where the date/time separator would be must not split a char.
        assert_eq!(parse_timestamp("2026-01-01é00:00:00"), None);
    }

    #[test]
    fn shifts_stay_in_range() {
        assert_eq!(checked_shift(MAX_TIMESTAMP, 1), None);
        assert_eq!(checked_shift(MIN_TIMESTAMP, -1), None);
        assert_eq!(checked_shift(i64::MAX, 1), None);
        assert_eq!(checked_shift(0, 5), Some(5));
        let e = datetime_overflow("x + y");
        assert_eq!(e.spark_condition, Some("DATETIME_OVERFLOW"));
        assert!(e.message.contains("x + y"));
    }
}
