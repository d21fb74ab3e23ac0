//! Functions of the DATE type (days since the epoch): to_date, date_add, datediff, add_months,
//! months_between, last_day, next_day, trunc, make_date, make_timestamp, try_to_date, unix_date. The timestamp functions
//! (year, month, date_format, ...) take a date too: Spark casts it to a timestamp at midnight.

use arrow_array::ArrayRef;
use chrono::{Datelike, Months, NaiveDate, Weekday};

use super::*;
use crate::expr::{cast_array, CastMode};
use crate::value::{date_of, days_of};

/// The argument rules and result type of the functions in this file (Spark's implicit casts).
pub(super) fn check(f: Func, a: Vec<Expr>, c: &Checks) -> Result<(Vec<Expr>, DataType)> {
    use DataType as T;
    let date = |e: Expr| -> Result<Expr> {
        match e.data_type() {
            T::Date | T::Timestamp | T::String | T::Null => Ok(e.cast_to(&T::Date)),
            _ => Err(mismatch(f, &e, "DATE")),
        }
    };
    let int = |e: Expr| -> Result<Expr> {
        match e.data_type() {
            T::Int | T::Null => Ok(e.cast_to(&T::Int)),
            _ => Err(Error::type_mismatch(format!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}(...)\" due to data type mismatch: The second parameter requires the (\"INT\" or \"SMALLINT\" or \"TINYINT\") type, however it has the type \"{}\". SQLSTATE: 42K09",
                f.name(),
                e.data_type().spark_name()
            ))
            .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")),
        }
    };
    let mut a = a;
    Ok(match f {
        Func::ToDate | Func::TryToDate => {
            c.arity(1, 2)?;
            // try_to_date casts a string itself (NULL for a bad one), not through an ANSI cast.
            if f == Func::TryToDate && a.len() == 1 && a[0].data_type() == T::String {
                (a, T::Date)
            } else if a.len() == 1 {
                (vec![date(a.remove(0))?], T::Date)
            } else {
                let fmt = c.to(a.remove(1), &T::String)?;
                let s = c.to(a.remove(0), &T::String)?;
                (vec![s, fmt], T::Date)
            }
        }
        Func::DateAdd | Func::DateSub | Func::AddMonths => {
            c.arity(2, 2)?;
            let n = int(a.remove(1))?;
            (vec![date(a.remove(0))?, n], T::Date)
        }
        Func::DateDiff => {
            c.arity(2, 2)?;
            let start = date(a.remove(1))?;
            (vec![date(a.remove(0))?, start], T::Int)
        }
        Func::MonthsBetween => {
            c.arity(2, 3)?;
            let round = if a.len() == 3 { c.to(a.remove(2), &T::Boolean)? } else { Expr::Literal(Value::Boolean(true)) };
            let ts = |e: Expr| c.to(e, &T::Timestamp);
            let t2 = ts(a.remove(1))?;
            (vec![ts(a.remove(0))?, t2, round], T::Double)
        }
        Func::LastDay | Func::UnixDate => {
            c.arity(1, 1)?;
            (vec![date(a.remove(0))?], if f == Func::UnixDate { T::Int } else { T::Date })
        }
        Func::NextDay | Func::TruncDate => {
            c.arity(2, 2)?;
            let s = c.to(a.remove(1), &T::String)?;
            (vec![date(a.remove(0))?, s], T::Date)
        }
        Func::MakeDate => {
            c.arity(3, 3)?;
            (a.into_iter().map(|e| c.to(e, &T::Int)).collect::<Result<Vec<_>>>()?, T::Date)
        }
        Func::MakeTimestamp | Func::TryMakeTimestamp => {
            c.arity(1, 7)?;
            match a.len() {
                // Spark 4.1's `make_timestamp(date)`: midnight of the date.
                1 => (vec![date(a.remove(0))?], T::Timestamp),
                6 => {
                    let secs = c.to(a.remove(5), &T::Double)?;
                    let mut a = a.into_iter().map(|e| c.to(e, &T::Int)).collect::<Result<Vec<_>>>()?;
                    a.push(secs);
                    (a, T::Timestamp)
                }
                // The fields are a wall clock in the zone: a fixed offset or one of the table's zones.
                7 => {
                    let tz = a.pop().unwrap_or(Expr::Literal(Value::Null));
                    if !matches!(&tz, Expr::Literal(Value::String(z)) if known_zone(z)) {
                        return Err(Error::unsupported(format!(
                            "`{}` with the time zone {} is not supported: give a fixed offset such as '+09:00' or a zone this engine's table knows (Europe/..., America/..., Asia/...)",
                            f.name(),
                            match &tz {
                                Expr::Literal(Value::String(z)) => format!("'{z}'"),
                                _ => "of an expression (it must be a string literal)".into(),
                            }
                        )));
                    }
                    let secs = c.to(a.remove(5), &T::Double)?;
                    let mut a = a.into_iter().map(|e| c.to(e, &T::Int)).collect::<Result<Vec<_>>>()?;
                    a.push(secs);
                    a.push(tz);
                    (a, T::Timestamp)
                }
                n => {
                    return Err(Error::unsupported(format!(
                        "`{}` with {n} arguments (a date and a time) is not supported; give year, month, day, hour, minute, second",
                        f.name()
                    )))
                }
            }
        }
        Func::FromUtcTimestamp | Func::ToUtcTimestamp => {
            c.arity(2, 2)?;
            let zone = match &a[1] {
                Expr::Literal(Value::String(z)) => z.clone(),
                _ => return Err(Error::unsupported(format!("the time zone of `{}` must be a string literal such as '+09:00'", f.name()))),
            };
            if !known_zone(&zone) {
                return Err(Error::unsupported(format!(
                    "`{}` with the time zone '{zone}' is not supported: the engine has no time zone database, only a table of common zones; give UTC or a fixed offset such as '+09:00'",
                    f.name()
                )));
            }
            let ts = c.to(a.remove(0), &T::Timestamp)?;
            (vec![ts, a.remove(0)], T::Timestamp)
        }
        // (width months, width micros, ts, origin): the analyzer checked the width is positive.
        Func::TimeBucket => {
            c.arity(4, 4)?;
            let mut a = a;
            for e in &a[2..] {
                if !matches!(e.data_type(), T::Timestamp | T::Null) {
                    return Err(mismatch(f, e, "TIMESTAMP"));
                }
            }
            let origin = a.remove(3).cast_to(&T::Timestamp);
            let ts = a.remove(2).cast_to(&T::Timestamp);
            let micros = c.to(a.remove(1), &T::BigInt)?;
            let months = c.to(a.remove(0), &T::Int)?;
            (vec![months, micros, ts, origin], T::Timestamp)
        }
        // (start, stop, months, micros): the analyzer gives the interval as its two parts.
        Func::SequenceTime => {
            c.arity(4, 4)?;
            let mut a = a;
            let micros = c.to(a.remove(3), &T::BigInt)?;
            let months = c.to(a.remove(2), &T::Int)?;
            let t = if a.iter().any(|e| e.data_type() == T::Timestamp) { T::Timestamp } else { T::Date };
            let a0 = c.to(a.remove(0), &t)?;
            let a1 = c.to(a.remove(0), &t)?;
            (vec![a0, a1, months, micros], T::Array(Box::new(t)))
        }
        Func::DateFromUnixDate => {
            c.arity(1, 1)?;
            (vec![int(a.remove(0))?], T::Date)
        }
        other => return Err(Error::internal(format!("{other:?} is not checked here"))),
    })
}

fn day(v: &Value) -> i32 {
    match v {
        Value::Date(d) => *d,
        _ => 0,
    }
}

fn overflow(what: String) -> Error {
    crate::time::datetime_overflow(what)
}

fn date_value(d: Option<NaiveDate>, what: impl FnOnce() -> String) -> Result<Value> {
    d.filter(|d| (1..=9999).contains(&d.year())).map(|d| Value::Date(days_of(d))).ok_or_else(|| overflow(what()))
}

/// A day of the week as `next_day` reads it: `MO`, `MON`, `MONDAY`, any case.
fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "MO" | "MON" | "MONDAY" => Weekday::Mon,
        "TU" | "TUE" | "TUESDAY" => Weekday::Tue,
        "WE" | "WED" | "WEDNESDAY" => Weekday::Wed,
        "TH" | "THU" | "THURSDAY" => Weekday::Thu,
        "FR" | "FRI" | "FRIDAY" => Weekday::Fri,
        "SA" | "SAT" | "SATURDAY" => Weekday::Sat,
        "SU" | "SUN" | "SUNDAY" => Weekday::Sun,
        _ => return None,
    })
}

fn is_last_day(d: NaiveDate) -> bool {
    d.succ_opt().is_none_or(|n| n.month() != d.month())
}

/// Spark's `months_between`: whole months when the days of month match (or both are the last
/// day of their month), else the difference in seconds counted in months of 31 days.
pub(super) fn months_between(t1: i64, t2: i64, round: bool) -> Option<f64> {
    let (a, b) = (crate::time::from_micros(t1)?, crate::time::from_micros(t2)?);
    let months = (a.year() as i64 * 12 + a.month() as i64) - (b.year() as i64 * 12 + b.month() as i64);
    if a.day() == b.day() || (is_last_day(a.date()) && is_last_day(b.date())) {
        return Some(months as f64);
    }
    let seconds_in_day = |t: i64| t.rem_euclid(86_400_000_000) / 1_000_000;
    let seconds = (a.day() as i64 - b.day() as i64) * 86_400 + seconds_in_day(t1) - seconds_in_day(t2);
    let diff = months as f64 + seconds as f64 / 2_678_400.0;
    Some(if round { (diff * 1e8).round() / 1e8 } else { diff })
}

/// Spark's `sequence(start, stop, INTERVAL ...)` of dates or timestamps: the k-th element is
/// start plus k times the interval (months first, then the rest), up to stop.
fn sequence_time(start: &Value, stop: &Value, months: i32, micros: i64) -> Result<Vec<Value>> {
    const DAY: i64 = 86_400_000_000;
    let illegal = || {
        Error::runtime(
            "INVALID_PARAMETER_VALUE",
            format!(
                "Illegal sequence boundaries: {} to {} by {months} months {micros} microseconds",
                start.to_spark_string(),
                stop.to_spark_string()
            ),
        )
    };
    let (is_date, from, to) = match (start, stop) {
        (Value::Date(a), Value::Date(b)) => (true, i64::from(*a) * DAY, i64::from(*b) * DAY),
        (Value::Timestamp(a), Value::Timestamp(b)) => (false, *a, *b),
        _ => return Ok(vec![]),
    };
    if is_date && micros % DAY != 0 {
        return Err(Error::runtime("INVALID_PARAMETER_VALUE", "sequence of dates needs a step of whole days or months".to_string()));
    }
    let ascending = months > 0 || (months == 0 && micros > 0);
    let descending = months < 0 || (months == 0 && micros < 0);
    if (!ascending && !descending) || (ascending && from > to) || (descending && from < to) {
        return if from == to { Ok(vec![start.clone()]) } else { Err(illegal()) };
    }
    let mut out = Vec::new();
    for k in 0i64.. {
        let (m, us) = (i32::try_from(k * i64::from(months)).map_err(|_| illegal())?, k.checked_mul(micros).ok_or_else(illegal)?);
        let Some(t) = super::datetime::add_interval(from, m, us) else { break };
        if (ascending && t > to) || (descending && t < to) {
            break;
        }
        if out.len() as i64 >= MAX_SEQUENCE {
            return Err(illegal());
        }
        out.push(if is_date { Value::Date(t.div_euclid(DAY) as i32) } else { Value::Timestamp(t) });
    }
    Ok(out)
}

/// Spark's `time_bucket(width, ts, origin)`: the start of the bucket holding `ts`, buckets being
/// `origin + k * width` for every integer k (before the origin too). A width in months counts
/// calendar months from the origin, each bucket start clamped to its month's end.
fn time_bucket(months: i32, micros: i64, ts: i64, origin: i64) -> Option<i64> {
    if months == 0 {
        let k = ts.checked_sub(origin)?.div_euclid(micros);
        return origin.checked_add(k.checked_mul(micros)?);
    }
    let month_index = |t: i64| crate::time::from_micros(t).map(|d| i64::from(d.year()) * 12 + i64::from(d.month0()));
    let diff = month_index(ts)? - month_index(origin)?;
    let mut k = diff.div_euclid(i64::from(months));
    let at = |k: i64| super::datetime::add_interval(origin, i32::try_from(k * i64::from(months)).ok()?, 0);
    // The month count can overshoot by one bucket when ts is earlier in its month than the origin.
    while at(k)? > ts {
        k -= 1;
    }
    while at(k + 1).is_some_and(|next| next <= ts) {
        k += 1;
    }
    at(k)
}

/// The most elements a date or timestamp sequence may hold.
const MAX_SEQUENCE: i64 = 10_000_000;

/// A zone the engine can apply: a fixed offset or one of [`super::zones`]' table.
fn known_zone(zone: &str) -> bool {
    fixed_offset_micros(zone).is_some() || super::zones::zone(zone).is_some()
}

/// A time zone without daylight saving as an offset from UTC in microseconds: `UTC`, `GMT`, `Z`,
/// `+09:00`, `-0530`, `UTC+9`, `GMT-03:30`. Region names (`Asia/Seoul`) are zones.rs': None here.
fn fixed_offset_micros(zone: &str) -> Option<i64> {
    let z = zone.trim();
    let rest = ["UTC", "GMT", "UT"].iter().find_map(|p| z.strip_prefix(p)).unwrap_or(z);
    if rest.is_empty() || rest == "Z" {
        return Some(0);
    }
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    if h.to_string().len() > 2 || !(0..=18).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60) * 1_000_000)
}

/// Spark's `make_timestamp` of (year, month, day, hour, minute, seconds with a fraction), in
/// microseconds: 60 seconds with no fraction is the next minute (as PostgreSQL allows).
fn make_timestamp(row: &[Value]) -> std::result::Result<i64, String> {
    let field = |k: usize, name: &str, lo: i64, hi: i64| {
        let v = int_of(&row[k]);
        if (lo..=hi).contains(&v) {
            Ok(v as u32)
        } else {
            Err(format!("Invalid value for {name} (valid values {lo} - {hi}): {v}"))
        }
    };
    let (year, month, day) = (field(0, "Year", 1, 9999)?, field(1, "MonthOfYear", 1, 12)?, field(2, "DayOfMonth", 1, 31)?);
    let (hour, minute) = (field(3, "HourOfDay", 0, 23)?, field(4, "MinuteOfHour", 0, 59)?);
    let secs = double_of(&row[5]);
    // Seconds are a DECIMAL(16, 6) in Spark: whole microseconds.
    let micros = (secs * 1e6).round();
    if !(0.0..=60_000_000.0).contains(&micros) {
        return Err(format!("Invalid value for SecondOfMinute (valid values 0 - 59): {}", secs.trunc()));
    }
    let micros = micros as i64;
    if micros >= 60_000_000 && micros % 1_000_000 != 0 {
        return Err("The fraction of sec must be zero. Valid range is [0, 60]".into());
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(|| format!("Invalid date '{year:04}-{month:02}-{day:02}'"))?;
    let midnight = crate::time::to_micros(&date.and_hms_opt(0, 0, 0).ok_or("an invalid time")?);
    Ok(midnight + (hour as i64 * 3600 + minute as i64 * 60) * 1_000_000 + micros)
}

/// The vectorised kernels of the functions in this file.
pub(super) fn kernel(f: Func, a: &[ArrayRef], raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
    match f {
        Func::TimeBucket => strict(a, len, data_type, |row| {
            let (Value::Timestamp(ts), Value::Timestamp(origin)) = (&row[2], &row[3]) else { return Ok(Value::Null) };
            time_bucket(int_of(&row[0]) as i32, int_of(&row[1]), *ts, *origin)
                .map(Value::Timestamp)
                .ok_or_else(|| overflow(format!("time_bucket({}, {})", row[2].to_spark_string(), row[3].to_spark_string())))
        }),
        Func::SequenceTime => strict(a, len, data_type, |row| {
            let (months, micros) = (int_of(&row[2]) as i32, int_of(&row[3]));
            sequence_time(&row[0], &row[1], months, micros).map(Value::Array)
        }),
        Func::ToDate if a.len() == 1 => {
            let from = DataType::from_arrow(a[0].data_type()).unwrap_or(DataType::Null);
            cast_array(&a[0], &from, &DataType::Date, CastMode::Ansi)
        }
        Func::ToDate => {
            let ts = Func::ToTimestamp.evaluate(raw, &DataType::Timestamp, len)?.into_array(len)?;
            cast_array(&ts, &DataType::Timestamp, &DataType::Date, CastMode::Ansi)
        }
        Func::TryToDate if a.len() == 1 => {
            let from = DataType::from_arrow(a[0].data_type()).unwrap_or(DataType::Null);
            cast_array(&a[0], &from, &DataType::Date, CastMode::Try)
        }
        Func::TryToDate => {
            let ts = Func::TryToTimestamp.evaluate(raw, &DataType::Timestamp, len)?.into_array(len)?;
            cast_array(&ts, &DataType::Timestamp, &DataType::Date, CastMode::Try)
        }
        // The wall clock of a UTC instant in `zone` read as a UTC timestamp, and back.
        Func::FromUtcTimestamp | Func::ToUtcTimestamp => strict(a, len, data_type, |row| {
            let Value::Timestamp(t) = &row[0] else { return Ok(Value::Null) };
            let name = str_of(&row[1]);
            let shifted = match (fixed_offset_micros(name), super::zones::zone(name)) {
                (Some(offset), _) if f == Func::FromUtcTimestamp => t.checked_add(offset),
                (Some(offset), _) => t.checked_sub(offset),
                (None, Some(z)) => {
                    let out = if f == Func::FromUtcTimestamp { z.offset_at(*t).and_then(|o| t.checked_add(o)) } else { z.to_utc(*t) };
                    Some(out.ok_or_else(|| super::zones::not_covered(name, z))?)
                }
                (None, None) => return Ok(Value::Null),
            };
            shifted
                .map(Value::Timestamp)
                .ok_or_else(|| overflow(format!("{}({}, {})", f.name(), row[0].to_spark_string(), str_of(&row[1]))))
        }),
        Func::MakeTimestamp | Func::TryMakeTimestamp if a.len() == 1 => {
            cast_array(&a[0], &DataType::Date, &DataType::Timestamp, CastMode::Ansi)
        }
        Func::MakeTimestamp | Func::TryMakeTimestamp => strict(a, len, data_type, |row| {
            // With a zone, the fields are its wall clock.
            let in_zone = |local: i64| -> Result<i64> {
                let Some(name) = row.get(6).map(str_of) else { return Ok(local) };
                match (fixed_offset_micros(name), super::zones::zone(name)) {
                    (Some(offset), _) => local.checked_sub(offset).ok_or_else(|| overflow(format!("make_timestamp(..., '{name}')"))),
                    (None, Some(z)) => z.to_utc(local).ok_or_else(|| super::zones::not_covered(name, z)),
                    (None, None) => Err(Error::internal(format!("the zone '{name}' passed the check"))),
                }
            };
            match make_timestamp(row) {
            Ok(t) => Ok(Value::Timestamp(in_zone(t)?)),
            Err(_) if f == Func::TryMakeTimestamp => Ok(Value::Null),
            Err(why) => Err(Error::runtime(
                "DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION",
                format!("[DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION] {why}. Use `try_make_timestamp` to get NULL instead. SQLSTATE: 22023"),
            )),
        }
        }),
        Func::DateAdd | Func::DateSub => strict(a, len, data_type, |row| {
            let n = int_of(&row[1]);
            let n = if f == Func::DateSub { -n } else { n };
            let d = day(&row[0]) as i64 + n;
            date_value(i32::try_from(d).ok().and_then(date_of), || format!("{} + {n} days", row[0].to_spark_string()))
        }),
        Func::DateDiff => strict(a, len, data_type, |row| Ok(Value::Int(day(&row[0]).wrapping_sub(day(&row[1]))))),
        Func::AddMonths => strict(a, len, data_type, |row| {
            let n = int_of(&row[1]);
            let d = date_of(day(&row[0]));
            let out = d.and_then(|d| {
                if n >= 0 {
                    d.checked_add_months(Months::new(n as u32))
                } else {
                    d.checked_sub_months(Months::new(n.unsigned_abs() as u32))
                }
            });
            date_value(out, || format!("add_months({}, {n})", row[0].to_spark_string()))
        }),
        Func::MonthsBetween => strict(a, len, data_type, |row| {
            let (Value::Timestamp(t1), Value::Timestamp(t2), Value::Boolean(round)) = (&row[0], &row[1], &row[2]) else {
                return Ok(Value::Null);
            };
            Ok(months_between(*t1, *t2, *round).map_or(Value::Null, Value::Double))
        }),
        Func::LastDay => strict(a, len, data_type, |row| {
            let d = date_of(day(&row[0]))
                .and_then(|d| NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.checked_add_months(Months::new(1))?.pred_opt());
            date_value(d, || format!("last_day({})", row[0].to_spark_string()))
        }),
        Func::NextDay => strict(a, len, data_type, |row| {
            let name = str_of(&row[1]);
            let want = weekday(name).ok_or_else(|| {
                Error::runtime(
                    "ILLEGAL_DAY_OF_WEEK",
                    format!("[ILLEGAL_DAY_OF_WEEK] Illegal input for day of week: {name}. SQLSTATE: 22009"),
                )
            })?;
            let d = date_of(day(&row[0])).and_then(|d| {
                let ahead = (want.num_days_from_monday() as i64 - d.weekday().num_days_from_monday() as i64 + 6).rem_euclid(7) + 1;
                d.checked_add_days(chrono::Days::new(ahead as u64))
            });
            date_value(d, || format!("next_day({}, {name})", row[0].to_spark_string()))
        }),
        Func::TruncDate => strict(a, len, data_type, |row| {
            let Some(d) = date_of(day(&row[0])) else { return Ok(Value::Null) };
            let out = match str_of(&row[1]).to_ascii_uppercase().as_str() {
                "YEAR" | "YYYY" | "YY" => NaiveDate::from_ymd_opt(d.year(), 1, 1),
                "QUARTER" => NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1),
                "MONTH" | "MM" | "MON" => NaiveDate::from_ymd_opt(d.year(), d.month(), 1),
                "WEEK" => d.checked_sub_days(chrono::Days::new(d.weekday().num_days_from_monday() as u64)),
                // Spark gives NULL for a unit it does not know.
                _ => None,
            };
            Ok(out.map_or(Value::Null, |d| Value::Date(days_of(d))))
        }),
        Func::MakeDate => strict(a, len, data_type, |row| {
            let (y, m, d) = (int_of(&row[0]), int_of(&row[1]), int_of(&row[2]));
            let date = (|| NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, u32::try_from(m).ok()?, u32::try_from(d).ok()?))()
                .filter(|d| (1..=9999).contains(&d.year()));
            date.map(|d| Value::Date(days_of(d))).ok_or_else(|| {
                let why = if !(1..=12).contains(&m) {
                    format!("Invalid value for MonthOfYear (valid values 1 - 12): {m}")
                } else if !(1..=31).contains(&d) {
                    format!("Invalid value for DayOfMonth (valid values 1 - 28/31): {d}")
                } else if !(1..=9999).contains(&y) {
                    format!("Invalid value for Year (valid values 1 - 9999): {y}")
                } else {
                    let month = [
                        "JANUARY",
                        "FEBRUARY",
                        "MARCH",
                        "APRIL",
                        "MAY",
                        "JUNE",
                        "JULY",
                        "AUGUST",
                        "SEPTEMBER",
                        "OCTOBER",
                        "NOVEMBER",
                        "DECEMBER",
                    ][(m - 1) as usize];
                    format!("Invalid date '{month} {d}'")
                };
                Error::runtime(
                    "DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION",
                    format!("[DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION] {why}.  SQLSTATE: 22023"),
                )
            })
        }),
        Func::UnixDate => strict(a, len, data_type, |row| Ok(Value::Int(day(&row[0])))),
        Func::DateFromUnixDate => strict(a, len, data_type, |row| {
            let n = int_of(&row[0]);
            date_value(i32::try_from(n).ok().and_then(date_of), || format!("date_from_unix_date({n})"))
        }),
        other => Err(Error::internal(format!("{other:?} has no kernel here"))),
    }
}

#[cfg(test)]
mod sequence_tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_sequence_of_dates_steps_by_months_from_the_start() {
        let d = |s: &str| Value::Date(crate::value::parse_date(s).unwrap());
        let days = sequence_time(&d("2018-01-31"), &d("2018-04-30"), 1, 0).unwrap();
        // Each element is the start plus k months (clamped to the month's end), not the one before plus one.
        assert_eq!(days, vec![d("2018-01-31"), d("2018-02-28"), d("2018-03-31"), d("2018-04-30")]);
        assert_eq!(sequence_time(&d("2018-01-03"), &d("2018-01-01"), 0, -86_400_000_000).unwrap().len(), 3);
        assert!(sequence_time(&d("2018-01-03"), &d("2018-01-01"), 1, 0).is_err());
    }

    #[test]
    fn time_buckets_as_pyspark_4_3_gives_them() {
        let t = |s: &str| crate::time::parse_timestamp(s).unwrap();
        let f = |v: Option<i64>| crate::time::format_timestamp(v.unwrap());
        let epoch = t("1970-01-01 00:00:00");
        assert_eq!(f(time_bucket(0, 15 * 60_000_000, t("2024-01-01 11:27:00"), epoch)), "2024-01-01 11:15:00");
        assert_eq!(f(time_bucket(0, 15 * 60_000_000, t("1969-12-31 23:50:00"), epoch)), "1969-12-31 23:45:00");
        assert_eq!(f(time_bucket(1, 0, t("2024-07-20 14:30:00"), t("2024-06-15 09:00:00"))), "2024-07-15 09:00:00");
        assert_eq!(f(time_bucket(1, 0, t("2024-07-10 14:30:00"), t("2024-06-15 09:00:00"))), "2024-06-15 09:00:00");
        assert_eq!(f(time_bucket(1, 0, t("2024-03-30 00:00:00"), t("2024-01-31 00:00:00"))), "2024-02-29 00:00:00");
        assert_eq!(f(time_bucket(2, 0, t("2023-12-01 00:00:00"), t("2024-06-15 09:00:00"))), "2023-10-15 09:00:00");
        assert_eq!(f(time_bucket(0, 26 * 3_600_000_000, t("2024-01-05 00:00:00"), epoch)), "2024-01-04 10:00:00");
        assert_eq!(f(time_bucket(12, 0, t("2024-01-05 10:00:00"), epoch)), "2024-01-01 00:00:00");
    }
}

#[cfg(test)]
mod tests {
    use super::super::collection::tests::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn date_functions_give_spark_results() {
        let cases: &[(&str, &str, &str)] = &[
            ("to_date('2026-01-31')", r#""2026-01-31""#, "date"),
            ("to_date('31/01/2026', 'dd/MM/yyyy')", r#""2026-01-31""#, "date"),
            ("to_date(TIMESTAMP'2026-01-31 23:00:00')", r#""2026-01-31""#, "date"),
            ("date_add(DATE'2026-01-31', 1)", r#""2026-02-01""#, "date"),
            ("date_sub(DATE'2026-01-31', 40)", r#""2025-12-22""#, "date"),
            ("date_add('2026-01-31', 1)", r#""2026-02-01""#, "date"),
            ("datediff(DATE'2026-03-01', DATE'2026-01-31')", "29", "int"),
            ("datediff('2026-03-01', TIMESTAMP'2026-01-31 12:00:00')", "29", "int"),
            ("add_months(DATE'2026-01-31', 1)", r#""2026-02-28""#, "date"),
            ("add_months(DATE'2026-03-31', -1)", r#""2026-02-28""#, "date"),
            ("months_between(DATE'2026-03-31', DATE'2026-02-28')", "1.0", "double"),
            ("months_between(TIMESTAMP'1997-02-28 10:30:00', DATE'1996-10-30')", "3.94959677", "double"),
            ("months_between(TIMESTAMP'1997-02-28 10:30:00', DATE'1996-10-30', false)", "3.9495967741935485", "double"),
            ("last_day(DATE'2024-02-10')", r#""2024-02-29""#, "date"),
            ("next_day(DATE'2026-01-01', 'Mon')", r#""2026-01-05""#, "date"),
            ("next_day(DATE'2026-01-05', 'monday')", r#""2026-01-12""#, "date"),
            ("trunc(DATE'2026-05-17', 'MM')", r#""2026-05-01""#, "date"),
            ("trunc(DATE'2026-05-17', 'year')", r#""2026-01-01""#, "date"),
            ("trunc(DATE'2026-05-17', 'week')", r#""2026-05-11""#, "date"),
            ("trunc(DATE'2026-05-17', 'Q')", "null", "date"),
            ("year(DATE'2026-05-17')", "2026", "int"),
            ("day(DATE'2026-05-17')", "17", "int"),
            ("dayofweek(DATE'2026-05-17')", "1", "int"),
            ("dayofyear(DATE'2026-05-17')", "137", "int"),
            ("weekofyear(DATE'2026-05-17')", "20", "int"),
            ("quarter(DATE'2026-05-17')", "2", "int"),
            ("weekday(DATE'2026-05-17')", "6", "int"),
            ("hour(DATE'2026-05-17')", "0", "int"),
            ("make_date(2026, 2, 28)", r#""2026-02-28""#, "date"),
            ("date_format(DATE'2026-05-17', 'yyyy/MM/dd EEE')", r#""2026/05/17 Sun""#, "string"),
            ("unix_date(DATE'1970-01-02')", "1", "int"),
            ("date_from_unix_date(2)", r#""1970-01-03""#, "date"),
            ("DATE'2026-01-31' + 1", r#""2026-02-01""#, "date"),
            ("DATE'2026-01-31' - 1", r#""2026-01-30""#, "date"),
        ];
        for (sql, value, t) in cases {
            assert_eq!(json(sql), (value.to_string(), t.to_string()), "{sql}");
        }
    }

    #[test]
    fn date_part_is_extract_with_a_string_field() {
        let cases: &[(&str, &str, &str)] = &[
            ("date_part('YEAR', TIMESTAMP'2019-08-12 01:00:00.123456')", "2019", "int"),
            ("datepart('week', TIMESTAMP'2019-08-12 01:00:00')", "33", "int"),
            ("date_part('doy', DATE'2019-08-12')", "224", "int"),
            ("date_part('mon', DATE'2019-08-12')", "8", "int"),
            ("date_part('SECONDS', TIMESTAMP'2019-10-01 00:00:01.000001')", "1.000001", "double"),
        ];
        for (sql, value, t) in cases {
            assert_eq!(json(sql), (value.to_string(), t.to_string()), "{sql}");
        }
        let e = super::super::collection::tests::err("date_part('decade', DATE'2019-08-12')");
        assert_eq!(e.kind, crate::error::ErrorKind::UnsupportedOperation, "{e}");
        let e = super::super::collection::tests::err("date_part(DATE'2019-08-12')");
        assert_eq!(e.kind, crate::error::ErrorKind::TypeMismatch, "{e}");
    }

    #[test]
    fn make_timestamp_and_try_to_date_give_spark_results() {
        let cases: &[(&str, &str, &str)] = &[
            ("make_timestamp(2014, 12, 28, 6, 30, 45.887)", r#""2014-12-28 06:30:45.887""#, "timestamp"),
            ("make_timestamp_ltz(2019, 6, 30, 23, 59, 60)", r#""2019-07-01 00:00:00""#, "timestamp"),
            ("make_timestamp(2019, 12, 31, 23, 59, 60)", r#""2020-01-01 00:00:00""#, "timestamp"),
            ("make_timestamp(NULL, 7, 22, 15, 30, 0)", "null", "timestamp"),
            ("make_timestamp(DATE'2014-12-28')", r#""2014-12-28 00:00:00""#, "timestamp"),
            ("try_make_timestamp(2024, 13, 22, 15, 30, 0)", "null", "timestamp"),
            ("try_make_timestamp(2024, 2, 30, 15, 30, 0)", "null", "timestamp"),
            ("try_make_timestamp(2024, 2, 3, 15, 30, 60.5)", "null", "timestamp"),
            ("try_make_timestamp(2019, 6, 30, 23, 59, 1)", r#""2019-06-30 23:59:01""#, "timestamp"),
            ("try_to_date('2016-12-31')", r#""2016-12-31""#, "date"),
            ("try_to_date('2016-12-31', 'yyyy-MM-dd')", r#""2016-12-31""#, "date"),
            ("try_to_date('foo', 'yyyy-MM-dd')", "null", "date"),
            ("try_to_date('2016-02-30')", "null", "date"),
            ("date('2016-12-31')", r#""2016-12-31""#, "date"),
            ("current_timezone()", r#""UTC""#, "string"),
            ("from_utc_timestamp('2016-08-31', '+09:00')", r#""2016-08-31 09:00:00""#, "timestamp"),
            ("to_utc_timestamp('2016-08-31', 'GMT+9')", r#""2016-08-30 15:00:00""#, "timestamp"),
            ("from_utc_timestamp(TIMESTAMP'2016-08-31 00:00:00', '-0530')", r#""2016-08-30 18:30:00""#, "timestamp"),
            ("to_utc_timestamp(TIMESTAMP'2016-08-31 00:00:00', 'UTC')", r#""2016-08-31 00:00:00""#, "timestamp"),
            ("timestamp('1970-01-01 00:00:01')", r#""1970-01-01 00:00:01""#, "timestamp"),
            ("unix_micros(timestamp('1970-01-01 00:00:01Z'))", "1000000", "bigint"),
            ("to_timestamp_ltz('2016-12-31 00:12:00')", r#""2016-12-31 00:12:00""#, "timestamp"),
        ];
        for (sql, value, t) in cases {
            assert_eq!(json(sql), (value.to_string(), t.to_string()), "{sql}");
        }
        let e = super::super::collection::tests::err("make_timestamp(2024, 13, 22, 15, 30, 0)");
        assert_eq!(e.spark_condition, Some("DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION"), "{e}");
        assert!(e.message.contains("MonthOfYear"), "{e}");
        // A region the engine's zone table lacks is refused (Asia/Seoul is in it).
        let e = super::super::collection::tests::err("from_utc_timestamp('2016-08-31', 'Mars/Olympus')");
        assert_eq!(e.kind, crate::error::ErrorKind::UnsupportedOperation, "{e}");
        let e = super::super::collection::tests::err("date(array(1))");
        assert_eq!(e.kind, crate::error::ErrorKind::TypeMismatch, "{e}");
        // CET is in the engine's zone table (Spark's example gives 05:30:45.887); a zone it lacks is refused.
        let e = super::super::collection::tests::err("make_timestamp(2014, 12, 28, 6, 30, 45.887, 'Mars/Olympus')");
        assert_eq!(e.kind, crate::error::ErrorKind::UnsupportedOperation, "{e}");
    }

    #[test]
    fn bad_dates_fail_as_in_spark() {
        let cases = [
            ("make_date(2026, 2, 30)", "DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION", "Invalid date 'FEBRUARY 30'"),
            (
                "make_date(2026, 13, 1)",
                "DATETIME_FIELD_OUT_OF_BOUNDS.WITHOUT_SUGGESTION",
                "Invalid value for MonthOfYear (valid values 1 - 12): 13",
            ),
            ("next_day(DATE'2026-01-01', 'xx')", "ILLEGAL_DAY_OF_WEEK", "Illegal input for day of week: xx"),
            ("to_date('2026-02-30')", "CAST_INVALID_INPUT", "The value '2026-02-30' of the type \"STRING\" cannot be cast to \"DATE\""),
            ("to_date('x', 'yyyy')", "CANNOT_PARSE_TIMESTAMP", "'x'"),
            ("date_add(DATE'2026-01-01', 1L)", "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE", "(\"INT\" or \"SMALLINT\" or \"TINYINT\")"),
            ("date_add(DATE'9999-12-31', 1)", "DATETIME_OVERFLOW", "9999-12-31"),
        ];
        for (sql, condition, text) in cases {
            let e = super::super::collection::tests::err(sql);
            assert_eq!(e.spark_condition, Some(condition), "{sql}: {e}");
            assert!(e.message.contains(text), "{sql}: {}", e.message);
        }
        let e = super::super::collection::tests::err("DATE'2026-01-02' - DATE'2026-01-01'");
        assert_eq!(e.kind, crate::error::ErrorKind::UnsupportedOperation, "{e}");
    }
}
