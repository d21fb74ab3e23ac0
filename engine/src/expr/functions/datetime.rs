//! Date and time functions: to_timestamp, date_trunc, date_format, the field extractors,
//! window_time and timestamp arithmetic.

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::time::{datetime_overflow, format_timestamp, from_micros, in_range, parse_timestamp, to_micros, MICROS_PER_SECOND};

use super::*;

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, mut a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let ty = match f {
        Func::ToTimestamp | Func::TryToTimestamp => {
            c.arity(1, 2)?;
            let first = a.remove(0);
            let first = if first.data_type() == T::Timestamp { first } else { c.to(first, &T::String)? };
            let mut out = vec![first];
            if let Some(fmt) = a.pop() {
                out.push(c.to(fmt, &T::String)?);
            }
            a = out;
            T::Timestamp
        }
        Func::DateTrunc => {
            c.arity(2, 2)?;
            let unit = c.to(a.remove(0), &T::String)?;
            let ts = c.to(a.remove(0), &T::Timestamp)?;
            a = vec![unit, ts];
            T::Timestamp
        }
        Func::DateFormat => {
            c.arity(2, 2)?;
            let ts = c.to(a.remove(0), &T::Timestamp)?;
            let fmt = c.to(a.remove(0), &T::String)?;
            a = vec![ts, fmt];
            T::String
        }
        Func::Year | Func::Month | Func::DayOfMonth | Func::Hour | Func::Minute | Func::Second => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::Timestamp)?];
            T::Int
        }
        Func::WindowTime => {
            c.arity(1, 1)?;
            if a[0].data_type() != T::Window {
                return Err(mismatch(f, &a[0], "STRUCT<start: TIMESTAMP, end: TIMESTAMP>"));
            }
            T::Timestamp
        }
        Func::AddInterval => T::Timestamp,
        Func::UnixSeconds | Func::UnixMillis | Func::UnixMicros => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::Timestamp)?];
            T::BigInt
        }
        Func::DayOfWeek | Func::WeekDay | Func::DayOfYear | Func::WeekOfYear | Func::Quarter => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::Timestamp)?];
            T::Int
        }
        Func::SecondWithFraction => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::Timestamp)?];
            T::Double
        }
        Func::UnixTimestamp => {
            // `unix_timestamp()` (the current time) is not offered: a stream's result would
            // depend on when it ran, and a replayed scenario would differ from its recording.
            if a.is_empty() {
                return Err(Error::unsupported(
                    "unix_timestamp() reads the clock, which is not supported by this version of Unbounded yet: pass a timestamp or a string, unix_timestamp(ts)",
                ));
            }
            c.arity(1, 2)?;
            let first = a.remove(0);
            let first = if first.data_type() == T::Timestamp { first } else { c.to(first, &T::String)? };
            let fmt = match a.pop() {
                Some(f) => c.to(f, &T::String)?,
                None => Expr::Literal(Value::String(DEFAULT_FORMAT.into())),
            };
            a = vec![first, fmt];
            T::BigInt
        }
        Func::FromUnixtime => {
            c.arity(1, 2)?;
            let secs = c.to(a.remove(0), &T::BigInt)?;
            let fmt = match a.pop() {
                Some(f) => c.to(f, &T::String)?,
                None => Expr::Literal(Value::String(DEFAULT_FORMAT.into())),
            };
            a = vec![secs, fmt];
            T::String
        }
        Func::TimestampSeconds => {
            c.arity(1, 1)?;
            // Spark converts a decimal's seconds exactly, not through a double (the kernel).
            let v = if a[0].data_type().decimal().is_some() { a.remove(0) } else { c.numeric(a.remove(0))? };
            a = vec![v];
            T::Timestamp
        }
        Func::TimestampMillis | Func::TimestampMicros => {
            c.arity(1, 1)?;
            a = vec![c.to(a.remove(0), &T::BigInt)?];
            T::Timestamp
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    };
    Ok((a, ty))
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], _raw: &[Columnar], _data_type: &DataType, len: usize) -> Result<ArrayRef> {
    Ok(match f {
        Func::ToTimestamp | Func::TryToTimestamp => to_timestamp(a, len, f == Func::ToTimestamp)?,
        Func::DateTrunc => {
            let unit = a[0].as_string::<i32>();
            let ts = a[1].as_primitive::<TimestampMicrosecondType>();
            let mut b = TimestampMicrosecondBuilder::with_capacity(len);
            for i in 0..len {
                if unit.is_null(i) || ts.is_null(i) {
                    b.append_null();
                    continue;
                }
                b.append_option(date_trunc(unit.value(i), ts.value(i))?);
            }
            Arc::new(b.finish())
        }
        Func::DateFormat => {
            let ts = a[0].as_primitive::<TimestampMicrosecondType>();
            let fmt = a[1].as_string::<i32>();
            let mut b = StringBuilder::with_capacity(len, len * 20);
            let mut cached: Option<(String, Vec<pattern::Piece>)> = None;
            for i in 0..len {
                if ts.is_null(i) || fmt.is_null(i) {
                    b.append_null();
                    continue;
                }
                let spark_fmt = fmt.value(i);
                if cached.as_ref().is_none_or(|(k, _)| k != spark_fmt) {
                    cached = Some((spark_fmt.to_string(), pattern::compile(spark_fmt, false)?));
                }
                let Some((_, pieces)) = &cached else {
                    b.append_null();
                    continue;
                };
                let t = ts.value(i);
                let dt = from_micros(t).ok_or_else(|| datetime_overflow(format!("date_format of {}", format_timestamp(t))))?;
                b.append_value(pattern::format(pieces, &dt));
            }
            Arc::new(b.finish())
        }
        Func::Year | Func::Month | Func::DayOfMonth | Func::Hour | Func::Minute | Func::Second => {
            let ts = a[0].as_primitive::<TimestampMicrosecondType>();
            let mut b = Int32Builder::with_capacity(len);
            for v in ts.iter() {
                b.append_option(v.and_then(from_micros).map(|dt| match f {
                    Func::Year => dt.year(),
                    Func::Month => dt.month() as i32,
                    Func::DayOfMonth => dt.day() as i32,
                    Func::Hour => dt.hour() as i32,
                    Func::Minute => dt.minute() as i32,
                    _ => dt.second() as i32,
                }));
            }
            Arc::new(b.finish())
        }
        Func::WindowTime => {
            let w = a[0].as_struct();
            let ends = w.column(1).as_primitive::<TimestampMicrosecondType>();
            let mut b = TimestampMicrosecondBuilder::with_capacity(len);
            for i in 0..len {
                if w.is_null(i) || ends.is_null(i) {
                    b.append_null();
                    continue;
                }
                let end = ends.value(i);
                let last = end.checked_sub(1).and_then(in_range);
                b.append_value(
                    last.ok_or_else(|| datetime_overflow(format!("window_time of a window ending at {}", format_timestamp(end))))?,
                );
            }
            Arc::new(b.finish())
        }
        Func::AddInterval => {
            let ts = a[0].as_primitive::<TimestampMicrosecondType>();
            let months = a[1].as_primitive::<Int32Type>().value(0);
            let micros = a[2].as_primitive::<Int64Type>().value(0);
            Arc::new(ts.try_unary::<_, TimestampMicrosecondType, _>(|t| {
                add_interval(t, months, micros).ok_or_else(|| {
                    let interval = crate::sql::interval::Interval { months, micros };
                    datetime_overflow(format!("{} + INTERVAL '{interval}'", format_timestamp(t)))
                })
            })?)
        }
        Func::UnixSeconds | Func::UnixMillis | Func::UnixMicros => {
            let unit = match f {
                Func::UnixSeconds => MICROS_PER_SECOND,
                Func::UnixMillis => 1000,
                _ => 1,
            };
            Arc::new(a[0].as_primitive::<TimestampMicrosecondType>().unary::<_, Int64Type>(|t| t.div_euclid(unit)))
        }
        Func::DayOfWeek | Func::WeekDay | Func::DayOfYear | Func::WeekOfYear | Func::Quarter => {
            let ts = a[0].as_primitive::<TimestampMicrosecondType>();
            let mut b = Int32Builder::with_capacity(len);
            for v in ts.iter() {
                b.append_option(v.and_then(from_micros).map(|dt| match f {
                    Func::DayOfWeek => dt.weekday().number_from_sunday() as i32,
                    Func::WeekDay => dt.weekday().num_days_from_monday() as i32,
                    Func::DayOfYear => dt.ordinal() as i32,
                    Func::WeekOfYear => dt.iso_week().week() as i32,
                    _ => dt.month0() as i32 / 3 + 1,
                }));
            }
            Arc::new(b.finish())
        }
        Func::SecondWithFraction => {
            let ts = a[0].as_primitive::<TimestampMicrosecondType>();
            Arc::new(
                ts.unary::<_, arrow_array::types::Float64Type>(|t| t.rem_euclid(60 * MICROS_PER_SECOND) as f64 / MICROS_PER_SECOND as f64),
            )
        }
        Func::UnixTimestamp => {
            if a[0].data_type() != &arrow_schema::DataType::Utf8 {
                // Truncated toward zero here (0 for 23:59:59.5 on 1969-12-31), as Spark does;
                // unix_seconds floors.
                let ts = a[0].as_primitive::<TimestampMicrosecondType>();
                return Ok(Arc::new(ts.unary::<_, Int64Type>(|t| t / MICROS_PER_SECOND)));
            }
            let (s, fmt) = (a[0].as_string::<i32>(), a[1].as_string::<i32>());
            let mut b = arrow_array::builder::Int64Builder::with_capacity(len);
            for i in 0..len {
                if s.is_null(i) || fmt.is_null(i) {
                    b.append_null();
                    continue;
                }
                let text = s.value(i);
                match parse_with_pattern(text, fmt.value(i))? {
                    Some(t) => b.append_value(t.div_euclid(MICROS_PER_SECOND)),
                    None => return Err(cannot_parse(text)),
                }
            }
            Arc::new(b.finish())
        }
        Func::FromUnixtime => {
            let (secs, fmt) = (a[0].as_primitive::<Int64Type>(), a[1].as_string::<i32>());
            let mut b = StringBuilder::with_capacity(len, len * 20);
            let mut cached: Option<(String, Vec<pattern::Piece>)> = None;
            for i in 0..len {
                if secs.is_null(i) || fmt.is_null(i) {
                    b.append_null();
                    continue;
                }
                let spark_fmt = fmt.value(i);
                if cached.as_ref().is_none_or(|(k, _)| k != spark_fmt) {
                    cached = Some((spark_fmt.to_string(), pattern::compile(spark_fmt, false)?));
                }
                let Some((_, pieces)) = &cached else { continue };
                let s = secs.value(i);
                let dt = s
                    .checked_mul(MICROS_PER_SECOND)
                    .and_then(from_micros)
                    .ok_or_else(|| datetime_overflow(format!("from_unixtime({s})")))?;
                b.append_value(pattern::format(pieces, &dt));
            }
            Arc::new(b.finish())
        }
        Func::TimestampSeconds | Func::TimestampMillis | Func::TimestampMicros => {
            let mut b = TimestampMicrosecondBuilder::with_capacity(len);
            for i in 0..len {
                let micros = match Value::from_array(a[0].as_ref(), i) {
                    Value::Null => None,
                    Value::Double(d) => {
                        let m = d * MICROS_PER_SECOND as f64;
                        Some(if m.is_finite() && m.abs() < 9.2e18 { Some(m as i64) } else { None })
                    }
                    // Exactly: seconds times 1,000,000 as a BigDecimal, then `longValueExact`,
                    // which fails on a fraction of a microsecond.
                    Value::Decimal { unscaled, scale, .. } => {
                        let micros = if scale <= 6 {
                            unscaled.checked_mul(crate::types::decimal::pow10(u32::from(6 - scale)))
                        } else {
                            let unit = crate::types::decimal::pow10(u32::from(scale - 6));
                            if unscaled % unit != 0 {
                                return Err(Error::runtime(
                                    "ARITHMETIC_OVERFLOW",
                                    format!("[ARITHMETIC_OVERFLOW] Rounding necessary: {}(...) of {} is not a whole number of microseconds. SQLSTATE: 22003", f.name(), crate::types::decimal::format(unscaled, scale)),
                                ));
                            }
                            Some(unscaled / unit)
                        };
                        Some(micros.and_then(|m| i64::try_from(m).ok()))
                    }
                    v => {
                        let v = v.as_i64().unwrap_or(0);
                        Some(match f {
                            Func::TimestampSeconds => v.checked_mul(MICROS_PER_SECOND),
                            Func::TimestampMillis => v.checked_mul(1000),
                            _ => Some(v),
                        })
                    }
                };
                match micros {
                    None => b.append_null(),
                    Some(m) => b.append_value(m.and_then(in_range).ok_or_else(|| {
                        Error::runtime(
                            "ARITHMETIC_OVERFLOW",
                            format!("[ARITHMETIC_OVERFLOW] The result of {}(...) is out of the TIMESTAMP range. SQLSTATE: 22003", f.name()),
                        )
                    })?),
                }
            }
            Arc::new(b.finish())
        }
        other => return Err(Error::internal(format!("{other:?} has no kernel here"))),
    })
}

/// Spark's default pattern of `unix_timestamp` and `from_unixtime`.
pub(super) const DEFAULT_FORMAT: &str = "yyyy-MM-dd HH:mm:ss";

fn cannot_parse(text: &str) -> Error {
    Error::runtime(
        "CANNOT_PARSE_TIMESTAMP",
        format!("[CANNOT_PARSE_TIMESTAMP] Text '{text}' could not be parsed. Use `try_to_timestamp` to tolerate invalid input string and return NULL instead. SQLSTATE: 22007"),
    )
}

pub(super) fn to_timestamp(a: &[ArrayRef], len: usize, fail: bool) -> Result<ArrayRef> {
    if a[0].data_type() != &arrow_schema::DataType::Utf8 {
        return Ok(a[0].clone());
    }
    let s = a[0].as_string::<i32>();
    let fmt = a.get(1).map(|f| f.as_string::<i32>());
    let mut b = TimestampMicrosecondBuilder::with_capacity(len);
    for i in 0..len {
        if s.is_null(i) || fmt.is_some_and(|f| f.is_null(i)) {
            b.append_null();
            continue;
        }
        let text = s.value(i);
        let parsed = match fmt {
            None => parse_timestamp(text),
            Some(f) => parse_with_pattern(text, f.value(i))?,
        };
        match parsed {
            Some(t) => b.append_value(t),
            None if fail => {
                return Err(Error::runtime(
                    "CANNOT_PARSE_TIMESTAMP",
                    format!("[CANNOT_PARSE_TIMESTAMP] Text '{text}' could not be parsed. Use `try_to_timestamp` to tolerate invalid input string and return NULL instead. SQLSTATE: 22007"),
                ))
            }
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

pub(super) fn parse_with_pattern(text: &str, spark_fmt: &str) -> Result<Option<i64>> {
    let f = spark_pattern_to_chrono(spark_fmt)?;
    if let Ok(dt) = NaiveDateTime::parse_from_str(text, &f) {
        return Ok(in_range(to_micros(&dt)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, &f) {
        return Ok(in_range(to_micros(&d.and_time(NaiveTime::MIN))));
    }
    Ok(None)
}

/// Translates a Spark datetime pattern (`yyyy-MM-dd HH:mm:ss`) into a chrono format string for
/// parsing, refusing by name the letters Spark or Unbounded cannot parse.
pub fn spark_pattern_to_chrono(p: &str) -> Result<String> {
    Ok(pattern::chrono_parse_format(&pattern::compile(p, true)?))
}

/// `date_trunc(unit, ts)`: None for an unknown unit (Spark gives NULL). A timestamp in range
/// truncates into range, except a week before 0001-01-01 (a Monday, so only out-of-range input).
pub(super) fn date_trunc(unit: &str, micros: i64) -> Result<Option<i64>> {
    let overflow = || datetime_overflow(format!("date_trunc('{unit}', {})", format_timestamp(micros)));
    let dt = from_micros(micros).ok_or_else(overflow)?;
    let date = dt.date();
    let midnight = |d: Option<NaiveDate>| d.map(|d| to_micros(&d.and_time(NaiveTime::MIN))).ok_or_else(overflow).map(Some);
    let floor_to = |step: i64| micros.div_euclid(step).checked_mul(step).ok_or_else(overflow).map(Some);
    match unit.to_ascii_uppercase().as_str() {
        "YEAR" | "YYYY" | "YY" => midnight(NaiveDate::from_ymd_opt(date.year(), 1, 1)),
        "QUARTER" => midnight(NaiveDate::from_ymd_opt(date.year(), (date.month0() / 3) * 3 + 1, 1)),
        "MONTH" | "MM" | "MON" => midnight(NaiveDate::from_ymd_opt(date.year(), date.month(), 1)),
        "WEEK" => midnight(date.checked_sub_days(chrono::Days::new(date.weekday().num_days_from_monday() as u64))),
        "DAY" | "DD" => midnight(Some(date)),
        "HOUR" => floor_to(3600 * MICROS_PER_SECOND),
        "MINUTE" => floor_to(60 * MICROS_PER_SECOND),
        "SECOND" => floor_to(MICROS_PER_SECOND),
        "MILLISECOND" => floor_to(1000),
        "MICROSECOND" => Ok(Some(micros)),
        _ => Ok(None),
    }
}

pub fn add_interval(ts: i64, months: i32, micros: i64) -> Option<i64> {
    let shifted = if months == 0 {
        ts
    } else {
        let dt = from_micros(ts)?;
        let moved = if months > 0 {
            dt.checked_add_months(Months::new(months as u32))?
        } else {
            dt.checked_sub_months(Months::new(months.unsigned_abs()))?
        };
        to_micros(&moved)
    };
    // Spark's ANSI mode raises DATETIME_OVERFLOW for a result outside the TIMESTAMP range.
    shifted.checked_add(micros).and_then(in_range)
}
