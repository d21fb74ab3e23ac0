//! Interval literals as Spark spells them: `INTERVAL 10 SECONDS`, `INTERVAL 1 MINUTE 30 SECONDS`,
//! `INTERVAL '0:10' MINUTE TO SECOND`, and the strings of `window(ts, '10 minutes')`.

use crate::time::MICROS_PER_SECOND;

/// A calendar interval: months (calendar-aware) plus an exact duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interval {
    pub months: i32,
    pub micros: i64,
}

impl Interval {
    pub fn from_micros(micros: i64) -> Self {
        Interval { months: 0, micros }
    }

    /// The interval as an exact duration; a month counts as 31 days, as Spark's watermark delay does.
    /// A duration past 64 bits of microseconds (over 292,000 years) saturates: as a watermark delay
    /// it then never lets the watermark rise above 0, as Spark's does not.
    pub fn total_micros(&self) -> i64 {
        self.checked_total_micros().unwrap_or(if self.months < 0 { i64::MIN } else { i64::MAX })
    }

    /// The exact duration, None when it does not fit in 64 bits of microseconds.
    pub fn checked_total_micros(&self) -> Option<i64> {
        (self.months as i64).checked_mul(MONTH_MICROS)?.checked_add(self.micros)
    }

    /// The sum of two intervals, refused when a part overflows: months must fit in 32 bits and the
    /// rest in 64 bits of microseconds, as in Spark (whose days are a separate part of the rest).
    /// The range is kept symmetric (no `i32::MIN` months, no `i64::MIN` microseconds), so every
    /// parsed interval can be negated, as `ts - INTERVAL ...` does.
    pub fn checked_add(self, other: Interval) -> Result<Interval, String> {
        let months = self.months.checked_add(other.months).filter(|m| *m != i32::MIN).ok_or_else(too_large)?;
        let micros = self.micros.checked_add(other.micros).filter(|m| *m != i64::MIN).ok_or_else(too_large)?;
        Ok(Interval { months, micros })
    }

    /// The interval with its sign flipped (`-INTERVAL ...`), refused at the one value that has none.
    pub fn checked_neg(self) -> Result<Interval, String> {
        Ok(Interval { months: self.months.checked_neg().ok_or_else(too_large)?, micros: self.micros.checked_neg().ok_or_else(too_large)? })
    }

    fn add(&mut self, unit: Unit, amount: f64) -> Result<(), String> {
        if !amount.is_finite() {
            return Err(too_large());
        }
        let part = match unit {
            Unit::Year | Unit::Month => {
                let months = if unit == Unit::Year { amount * 12.0 } else { amount };
                // `as` saturates: compare in floating point before converting.
                if months.abs() > i32::MAX as f64 {
                    return Err(too_large());
                }
                Interval { months: months.trunc() as i32, micros: 0 }
            }
            _ => {
                let micros = (amount * unit.micros() as f64).round();
                if !micros.is_finite() || micros.abs() >= i64::MAX as f64 {
                    return Err(too_large());
                }
                Interval::from_micros(micros as i64)
            }
        };
        *self = self.checked_add(part)?;
        Ok(())
    }
}

/// A month as an exact duration (31 days), as Spark's watermark delay counts it.
const MONTH_MICROS: i64 = 31 * 86_400 * MICROS_PER_SECOND;

/// The message for an interval whose value does not fit (Spark: an arithmetic exception while
/// parsing the interval).
fn too_large() -> String {
    "the interval is too large: its years and months must come to at most 2147483647 months, and its weeks, days, hours, minutes and seconds to at most 106751991 days".to_string()
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: i64, unit: &str| if n.abs() == 1 { format!("{n} {unit}") } else { format!("{n} {unit}s") };
        let mut parts = Vec::new();
        if self.months != 0 {
            parts.push(plural(self.months as i64, "month"));
        }
        let mut rest = self.micros;
        for (unit, size) in [("day", 86_400 * MICROS_PER_SECOND), ("hour", 3600 * MICROS_PER_SECOND), ("minute", 60 * MICROS_PER_SECOND)] {
            if rest.unsigned_abs() >= size.unsigned_abs() {
                parts.push(plural(rest / size, unit));
                rest %= size;
            }
        }
        if rest != 0 || parts.is_empty() {
            let secs = rest as f64 / MICROS_PER_SECOND as f64;
            parts.push(if secs == 1.0 { "1 second".to_string() } else { format!("{secs} seconds") });
        }
        write!(f, "{}", parts.join(" "))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
}

impl Unit {
    /// Accepts singular, plural and Spark's short spellings, any case.
    pub fn parse(word: &str) -> Option<Unit> {
        Some(match word.to_ascii_lowercase().as_str() {
            "year" | "years" | "yr" | "yrs" | "y" => Unit::Year,
            "month" | "months" | "mon" | "mons" => Unit::Month,
            "week" | "weeks" | "w" => Unit::Week,
            "day" | "days" | "d" => Unit::Day,
            "hour" | "hours" | "hr" | "hrs" | "h" => Unit::Hour,
            "minute" | "minutes" | "min" | "mins" | "m" => Unit::Minute,
            "second" | "seconds" | "sec" | "secs" | "s" => Unit::Second,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => Unit::Millisecond,
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" => Unit::Microsecond,
            _ => return None,
        })
    }

    fn micros(self) -> i64 {
        match self {
            Unit::Year | Unit::Month => 0,
            Unit::Week => 7 * 86_400 * MICROS_PER_SECOND,
            Unit::Day => 86_400 * MICROS_PER_SECOND,
            Unit::Hour => 3600 * MICROS_PER_SECOND,
            Unit::Minute => 60 * MICROS_PER_SECOND,
            Unit::Second => MICROS_PER_SECOND,
            Unit::Millisecond => 1000,
            Unit::Microsecond => 1,
        }
    }
}

/// Parses `"10 minutes"`, `"1 hour 30 minutes"`, `"interval 5 seconds"` (the strings of
/// `window(...)` and friends).
pub fn parse_interval_string(text: &str) -> Result<Interval, String> {
    let mut words = text.split_whitespace().peekable();
    if words.peek().is_some_and(|w| w.eq_ignore_ascii_case("interval")) {
        words.next();
    }
    let mut out = Interval::default();
    let mut any = false;
    while let Some(amount) = words.next() {
        let value: f64 = amount.parse().map_err(|_| format!("'{amount}' is not a number"))?;
        let unit_word = words.next().ok_or_else(|| format!("a unit is missing after '{amount}'"))?;
        let unit = Unit::parse(unit_word).ok_or_else(|| format!("'{unit_word}' is not an interval unit"))?;
        out.add(unit, value)?;
        any = true;
    }
    if !any {
        return Err("the interval is empty".into());
    }
    Ok(out)
}

/// One `number unit` pair or the quoted form of a typed interval literal (`'0:10' MINUTE TO SECOND`).
pub fn interval_from_parts(value: &str, from: Unit, to: Option<Unit>) -> Result<Interval, String> {
    let mut out = Interval::default();
    match to {
        None => {
            let v: f64 = value.trim().parse().map_err(|_| format!("'{value}' is not a number"))?;
            out.add(from, v)?;
        }
        Some(last) => {
            // 'd h:m:s' style: split on ':' and whitespace, aligned to the last unit.
            let (negative, body) = match value.trim().strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, value.trim()),
            };
            // 'y-m' YEAR TO MONTH: years and months.
            if (from, last) == (Unit::Year, Unit::Month) {
                let (y, m) = body.split_once('-').ok_or_else(|| format!("'{value}' does not match the pattern of YEAR TO MONTH"))?;
                let (y, m): (f64, f64) =
                    (y.parse().map_err(|_| format!("'{y}' is not a number"))?, m.parse().map_err(|_| format!("'{m}' is not a number"))?);
                if !(0.0..12.0).contains(&m) || m.fract() != 0.0 || y.fract() != 0.0 {
                    return Err(format!("'{value}' does not match the pattern of YEAR TO MONTH"));
                }
                out.add(Unit::Year, y)?;
                out.add(Unit::Month, m)?;
                return if negative { out.checked_neg() } else { Ok(out) };
            }
            let fields: Vec<&str> = body.split([':', ' ']).filter(|s| !s.is_empty()).collect();
            let order = [Unit::Day, Unit::Hour, Unit::Minute, Unit::Second];
            let end = order.iter().position(|u| *u == last).ok_or("unsupported interval range")?;
            let start = order.iter().position(|u| *u == from).ok_or("unsupported interval range")?;
            if start > end || fields.len() != end - start + 1 {
                return Err(format!("'{value}' does not match the pattern of {from:?} TO {last:?}"));
            }
            for (field, unit) in fields.iter().zip(&order[start..=end]) {
                let v: f64 = field.parse().map_err(|_| format!("'{field}' is not a number"))?;
                out.add(*unit, v)?;
            }
            if negative {
                out = out.checked_neg()?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn strings_with_units_and_plurals() {
        assert_eq!(parse_interval_string("10 seconds").unwrap().micros, 10 * MICROS_PER_SECOND);
        assert_eq!(parse_interval_string("1 minute").unwrap().micros, 60 * MICROS_PER_SECOND);
        assert_eq!(parse_interval_string("1 hour 30 minutes").unwrap().micros, 5400 * MICROS_PER_SECOND);
        assert_eq!(parse_interval_string("interval 2 days").unwrap().micros, 2 * 86_400 * MICROS_PER_SECOND);
        assert_eq!(parse_interval_string("500 milliseconds").unwrap().micros, 500_000);
        assert!(parse_interval_string("ten seconds").is_err());
        assert!(parse_interval_string("10 fortnights").is_err());
        assert!(parse_interval_string("").is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(interval_from_parts("0:10", Unit::Minute, Some(Unit::Second)).unwrap().micros, 10 * MICROS_PER_SECOND);
        assert_eq!(interval_from_parts("1 2:00:00", Unit::Day, Some(Unit::Second)).unwrap().micros, 26 * 3600 * MICROS_PER_SECOND);
        assert!(interval_from_parts("1:2:3", Unit::Minute, Some(Unit::Second)).is_err());
        assert_eq!(interval_from_parts("2021-11", Unit::Year, Some(Unit::Month)).unwrap().months, 2021 * 12 + 11);
        assert_eq!(interval_from_parts("-1-1", Unit::Year, Some(Unit::Month)).unwrap().months, -13);
        assert!(interval_from_parts("1-12", Unit::Year, Some(Unit::Month)).is_err());
    }

    #[test]
    fn displays_readably() {
        assert_eq!(parse_interval_string("90 seconds").unwrap().to_string(), "1 minute 30 seconds");
        assert_eq!(parse_interval_string("2 hours").unwrap().to_string(), "2 hours");
        assert_eq!(parse_interval_string("5 seconds").unwrap().to_string(), "5 seconds");
    }

    #[test]
    fn overflowing_intervals_are_refused_as_too_large_not_wrapped() {
        for text in [
            "300000000 years",
            "2147483648 months",
            "1e300 seconds",
            "106751992 days",
            "9223372036854775807 seconds",
            "nan seconds",
            "inf days",
        ] {
            let err = parse_interval_string(text).unwrap_err();
            assert!(err.contains("too large"), "{text}: {err}");
        }
        // Each part fits alone, their sum does not.
        assert!(parse_interval_string("100000000 days 100000000 days").unwrap_err().contains("too large"));
        assert!(parse_interval_string("2000000000 months 2000000000 months").unwrap_err().contains("too large"));
        // i64::MAX microseconds is 106751991 days 4:00:54.775807.
        assert!(interval_from_parts("106751991 4:00:54", Unit::Day, Some(Unit::Second)).is_ok());
        assert!(interval_from_parts("106751991 4:00:55", Unit::Day, Some(Unit::Second)).unwrap_err().contains("too large"));
        assert!(interval_from_parts("1e19", Unit::Microsecond, None).unwrap_err().contains("too large"));
        // Huge but valid: Spark accepts 300,000 years; as a duration it saturates instead of wrapping.
        let huge = parse_interval_string("300000 years").unwrap();
        assert_eq!(huge.months, 3_600_000);
        assert_eq!(huge.checked_total_micros(), None);
        assert_eq!(huge.total_micros(), i64::MAX);
        assert_eq!(Interval { months: i32::MIN, micros: 0 }.total_micros(), i64::MIN);
    }

    #[test]
    fn extreme_intervals_display_without_overflow() {
        let min = Interval { months: i32::MIN, micros: i64::MIN };
        assert!(min.to_string().contains("months"));
        assert!(Interval::from_micros(i64::MAX).to_string().contains("days"));
        assert!(Interval::from_micros(i64::MIN).checked_neg().is_err());
    }

    #[test]
    fn every_parsed_interval_can_be_negated() {
        // Two parts of -2^62 each sum to i64::MIN, which has no negation.
        let err = parse_interval_string("-4611686018427387904 microseconds -4611686018427387904 microseconds").unwrap_err();
        assert!(err.contains("too large"), "{err}");
        let iv = parse_interval_string("-4611686018427387904 microseconds -4611686018427386880 microseconds").unwrap();
        assert_eq!(iv.checked_neg().unwrap().micros, i64::MAX - 1023);
        assert!(parse_interval_string("-2147483648 months").is_err());
        assert!(parse_interval_string("-1073741824 months -1073741824 months").is_err());
    }
}
