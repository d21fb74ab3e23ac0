//! Scalar functions: their names, how arguments are coerced (Spark's implicit casts) and their
//! vectorised kernels.

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, ArrayRef};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::{Columnar, Expr};
use crate::error::{Error, Result};
use crate::time::{datetime_overflow, format_timestamp, from_micros, in_range, parse_timestamp, to_micros, MICROS_PER_SECOND};

mod pattern;
use crate::types::DataType;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Upper,
    Lower,
    Length,
    Trim,
    Ltrim,
    Rtrim,
    Concat,
    ConcatWs,
    Substring,
    Split,
    Size,
    ElementAt,
    TryElementAt,
    Coalesce,
    Abs,
    Round,
    Bround,
    Floor,
    Ceil,
    Sqrt,
    ToTimestamp,
    TryToTimestamp,
    DateTrunc,
    DateFormat,
    Year,
    Month,
    DayOfMonth,
    Hour,
    Minute,
    Second,
    /// `sort_array(arr [, ascending])`: NULLs first when ascending, last when descending.
    SortArray,
    /// `window_time(w)`: the last instant of a window (end - 1 µs), which keeps event time for a
    /// downstream window aggregation.
    WindowTime,
    /// `ts ± INTERVAL`: args are the timestamp, then literal months and microseconds to add.
    AddInterval,
}

impl Func {
    /// Looks a function up by its SQL name (case-insensitive).
    pub fn by_name(name: &str) -> Option<Func> {
        Some(match name.to_ascii_lowercase().as_str() {
            "upper" | "ucase" => Func::Upper,
            "lower" | "lcase" => Func::Lower,
            "length" | "char_length" | "character_length" | "len" => Func::Length,
            "trim" => Func::Trim,
            "ltrim" => Func::Ltrim,
            "rtrim" => Func::Rtrim,
            "concat" => Func::Concat,
            "concat_ws" => Func::ConcatWs,
            "substring" | "substr" => Func::Substring,
            "split" => Func::Split,
            "size" | "cardinality" => Func::Size,
            "element_at" => Func::ElementAt,
            "try_element_at" => Func::TryElementAt,
            "coalesce" | "ifnull" | "nvl" => Func::Coalesce,
            "abs" => Func::Abs,
            "round" => Func::Round,
            "bround" => Func::Bround,
            "floor" => Func::Floor,
            "ceil" | "ceiling" => Func::Ceil,
            "sqrt" => Func::Sqrt,
            "to_timestamp" => Func::ToTimestamp,
            "try_to_timestamp" => Func::TryToTimestamp,
            "date_trunc" => Func::DateTrunc,
            "date_format" => Func::DateFormat,
            "year" => Func::Year,
            "month" => Func::Month,
            "day" | "dayofmonth" => Func::DayOfMonth,
            "hour" => Func::Hour,
            "minute" => Func::Minute,
            "second" => Func::Second,
            "sort_array" => Func::SortArray,
            "window_time" => Func::WindowTime,
            _ => return None,
        })
    }

    /// Every name a person can call, for "did you mean" and the editor's completion.
    pub const NAMES: &'static [&'static str] = &[
        "abs",
        "bround",
        "ceil",
        "ceiling",
        "char_length",
        "coalesce",
        "concat",
        "concat_ws",
        "date_format",
        "date_trunc",
        "day",
        "dayofmonth",
        "element_at",
        "floor",
        "hour",
        "ifnull",
        "lcase",
        "length",
        "lower",
        "ltrim",
        "minute",
        "month",
        "nvl",
        "round",
        "rtrim",
        "second",
        "size",
        "split",
        "sqrt",
        "substr",
        "substring",
        "to_timestamp",
        "trim",
        "try_element_at",
        "try_to_timestamp",
        "ucase",
        "upper",
        "year",
        "cast",
        "try_cast",
        "if",
        "nullif",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::Upper => "upper",
            Func::Lower => "lower",
            Func::Length => "length",
            Func::Trim => "trim",
            Func::Ltrim => "ltrim",
            Func::Rtrim => "rtrim",
            Func::Concat => "concat",
            Func::ConcatWs => "concat_ws",
            Func::Substring => "substring",
            Func::Split => "split",
            Func::Size => "size",
            Func::ElementAt => "element_at",
            Func::TryElementAt => "try_element_at",
            Func::Coalesce => "coalesce",
            Func::Abs => "abs",
            Func::Round => "round",
            Func::Bround => "bround",
            Func::Floor => "floor",
            Func::Ceil => "ceil",
            Func::Sqrt => "sqrt",
            Func::ToTimestamp => "to_timestamp",
            Func::TryToTimestamp => "try_to_timestamp",
            Func::DateTrunc => "date_trunc",
            Func::DateFormat => "date_format",
            Func::Year => "year",
            Func::Month => "month",
            Func::DayOfMonth => "dayofmonth",
            Func::Hour => "hour",
            Func::Minute => "minute",
            Func::Second => "second",
            Func::SortArray => "sort_array",
            Func::WindowTime => "window_time",
            Func::AddInterval => "timestampadd",
        }
    }

    /// Checks the arguments, inserts Spark's implicit casts and returns the result type.
    pub fn check(self, args: Vec<Expr>) -> Result<(Vec<Expr>, DataType)> {
        use DataType as T;
        let n = args.len();
        let arity = |min: usize, max: usize| -> Result<()> {
            if n < min || n > max {
                let expected = if min == max { min.to_string() } else { format!("[{min}, {max}]") };
                return Err(Error::type_mismatch(format!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {expected} parameters but the actual number is {n}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605",
                    self.name()
                )).with_condition("WRONG_NUM_ARGS.WITHOUT_SUGGESTION"));
            }
            Ok(())
        };
        let to = |e: Expr, t: &DataType| -> Result<Expr> { coerce_arg(self, e, t) };
        let numeric = |e: Expr| -> Result<Expr> {
            let t = e.data_type();
            if t.is_numeric() {
                Ok(e)
            } else {
                coerce_arg(self, e, &T::Double)
            }
        };
        let mut a = args;
        let ty = match self {
            Func::Upper | Func::Lower | Func::Trim | Func::Ltrim | Func::Rtrim => {
                arity(1, 1)?;
                a = vec![to(a.remove(0), &T::String)?];
                T::String
            }
            Func::Length => {
                arity(1, 1)?;
                a = vec![to(a.remove(0), &T::String)?];
                T::Int
            }
            Func::Concat => {
                arity(1, usize::MAX)?;
                a = a.into_iter().map(|e| to(e, &T::String)).collect::<Result<_>>()?;
                T::String
            }
            Func::ConcatWs => {
                arity(1, usize::MAX)?;
                a = a
                    .into_iter()
                    .map(|e| if matches!(e.data_type(), T::Array(_)) { Ok(e) } else { to(e, &T::String) })
                    .collect::<Result<_>>()?;
                T::String
            }
            Func::Substring => {
                arity(2, 3)?;
                let mut it = a.into_iter();
                let mut out = vec![to(it.next().unwrap_or(Expr::Literal(Value::Null)), &T::String)?];
                for e in it {
                    out.push(to(e, &T::Int)?);
                }
                a = out;
                T::String
            }
            Func::Split => {
                arity(2, 2)?;
                a = a.into_iter().map(|e| to(e, &T::String)).collect::<Result<_>>()?;
                T::Array(Box::new(T::String))
            }
            Func::Size => {
                arity(1, 1)?;
                if !matches!(a[0].data_type(), T::Array(_) | T::Null) {
                    return Err(mismatch(self, &a[0], "ARRAY"));
                }
                T::Int
            }
            Func::ElementAt | Func::TryElementAt => {
                arity(2, 2)?;
                let elem = match a[0].data_type() {
                    T::Array(inner) => *inner,
                    _ => return Err(mismatch(self, &a[0], "ARRAY")),
                };
                let idx = to(a.remove(1), &T::Int)?;
                a.push(idx);
                elem
            }
            Func::Coalesce => {
                arity(1, usize::MAX)?;
                let mut common = T::Null;
                for e in &a {
                    common = super::super::sql::coercion::wider_type(&common, &e.data_type()).ok_or_else(|| {
                        Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"coalesce(...)\" due to data type mismatch: Input to `coalesce` should all be the same type, but it's ({}). SQLSTATE: 42K09",
                            a.iter().map(|e| format!("\"{}\"", e.data_type().spark_name())).collect::<Vec<_>>().join(", ")
                        ))
                    })?;
                }
                a = a.into_iter().map(|e| e.cast_to(&common)).collect();
                common
            }
            Func::Abs => {
                arity(1, 1)?;
                a = vec![numeric(a.remove(0))?];
                a[0].data_type()
            }
            Func::Round | Func::Bround => {
                arity(1, 2)?;
                let v = numeric(a.remove(0))?;
                let scale = match a.pop() {
                    None => Expr::Literal(Value::Int(0)),
                    Some(Expr::Literal(Value::Int(s))) => Expr::Literal(Value::Int(s)),
                    Some(_) => {
                        return Err(Error::type_mismatch(format!(
                            "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] Cannot resolve \"{}(...)\" due to data type mismatch: the input `scale` should be a foldable \"INT\" expression. SQLSTATE: 42K09",
                            self.name()
                        )))
                    }
                };
                let t = v.data_type();
                a = vec![v, scale];
                t
            }
            Func::Floor | Func::Ceil => {
                arity(1, 1)?;
                a = vec![numeric(a.remove(0))?];
                T::BigInt
            }
            Func::Sqrt => {
                arity(1, 1)?;
                a = vec![to(a.remove(0), &T::Double)?];
                T::Double
            }
            Func::ToTimestamp | Func::TryToTimestamp => {
                arity(1, 2)?;
                let first = a.remove(0);
                let first = if first.data_type() == T::Timestamp { first } else { to(first, &T::String)? };
                let mut out = vec![first];
                if let Some(fmt) = a.pop() {
                    out.push(to(fmt, &T::String)?);
                }
                a = out;
                T::Timestamp
            }
            Func::DateTrunc => {
                arity(2, 2)?;
                let unit = to(a.remove(0), &T::String)?;
                let ts = to(a.remove(0), &T::Timestamp)?;
                a = vec![unit, ts];
                T::Timestamp
            }
            Func::DateFormat => {
                arity(2, 2)?;
                let ts = to(a.remove(0), &T::Timestamp)?;
                let fmt = to(a.remove(0), &T::String)?;
                a = vec![ts, fmt];
                T::String
            }
            Func::Year | Func::Month | Func::DayOfMonth | Func::Hour | Func::Minute | Func::Second => {
                arity(1, 1)?;
                a = vec![to(a.remove(0), &T::Timestamp)?];
                T::Int
            }
            Func::SortArray => {
                arity(1, 2)?;
                let t = a[0].data_type();
                if !matches!(t, T::Array(_)) {
                    return Err(mismatch(self, &a[0], "ARRAY"));
                }
                if a.len() == 2 && !matches!(a[1], Expr::Literal(Value::Boolean(_))) {
                    return Err(Error::type_mismatch("the second argument of `sort_array` must be TRUE or FALSE"));
                }
                t
            }
            Func::WindowTime => {
                arity(1, 1)?;
                if a[0].data_type() != T::Window {
                    return Err(mismatch(self, &a[0], "STRUCT<start: TIMESTAMP, end: TIMESTAMP>"));
                }
                T::Timestamp
            }
            Func::AddInterval => T::Timestamp,
        };
        Ok((a, ty))
    }

    pub fn evaluate(self, args: &[Columnar], data_type: &DataType, num_rows: usize) -> Result<Columnar> {
        let scalar = args.iter().all(Columnar::is_scalar);
        if !scalar && num_rows == 0 {
            // Kernels read literal arguments at row 0; an empty batch has none to read.
            return Ok(Columnar::Array(arrow_array::new_empty_array(&data_type.to_arrow())));
        }
        let len = if scalar { 1 } else { num_rows };
        let arrays = args.iter().map(|c| c.clone().into_array(len)).collect::<Result<Vec<_>>>()?;
        let out = self.kernel(&arrays, args, data_type, len)?;
        Ok(Columnar::wrap(out, scalar))
    }

    fn kernel(self, a: &[ArrayRef], raw: &[Columnar], data_type: &DataType, len: usize) -> Result<ArrayRef> {
        Ok(match self {
            Func::Upper => map_str(&a[0], |s, out| out.push_str(&s.to_uppercase())),
            Func::Lower => map_str(&a[0], |s, out| out.push_str(&s.to_lowercase())),
            Func::Trim => map_str(&a[0], |s, out| out.push_str(s.trim_matches(' '))),
            Func::Ltrim => map_str(&a[0], |s, out| out.push_str(s.trim_start_matches(' '))),
            Func::Rtrim => map_str(&a[0], |s, out| out.push_str(s.trim_end_matches(' '))),
            Func::Length => {
                let s = a[0].as_string::<i32>();
                Arc::new(s.iter().map(|v| v.map(|v| v.chars().count() as i32)).collect::<arrow_array::Int32Array>())
            }
            Func::Concat => {
                let cols: Vec<_> = a.iter().map(|c| c.as_string::<i32>()).collect();
                let mut b = StringBuilder::with_capacity(len, len * 16);
                let mut buf = String::new();
                for i in 0..len {
                    if cols.iter().any(|c| c.is_null(i)) {
                        b.append_null();
                        continue;
                    }
                    buf.clear();
                    cols.iter().for_each(|c| buf.push_str(c.value(i)));
                    b.append_value(&buf);
                }
                Arc::new(b.finish())
            }
            Func::ConcatWs => {
                let sep = a[0].as_string::<i32>();
                let mut b = StringBuilder::with_capacity(len, len * 16);
                let mut buf = String::new();
                for i in 0..len {
                    if sep.is_null(i) {
                        b.append_null();
                        continue;
                    }
                    buf.clear();
                    let mut first = true;
                    let mut push = |s: &str, buf: &mut String| {
                        if !first {
                            buf.push_str(sep.value(i));
                        }
                        first = false;
                        buf.push_str(s);
                    };
                    for col in &a[1..] {
                        if col.is_null(i) {
                            continue;
                        }
                        if let Some(list) = col.as_list_opt::<i32>() {
                            let items = list.value(i);
                            let items = items.as_string::<i32>();
                            items.iter().flatten().for_each(|s| push(s, &mut buf));
                        } else {
                            push(col.as_string::<i32>().value(i), &mut buf);
                        }
                    }
                    b.append_value(&buf);
                }
                Arc::new(b.finish())
            }
            Func::Substring => {
                let s = a[0].as_string::<i32>();
                let pos = a[1].as_primitive::<Int32Type>();
                let count = a.get(2).map(|c| c.as_primitive::<Int32Type>());
                let mut b = StringBuilder::with_capacity(len, len * 8);
                for i in 0..len {
                    if s.is_null(i) || pos.is_null(i) || count.is_some_and(|c| c.is_null(i)) {
                        b.append_null();
                        continue;
                    }
                    b.append_value(substring_sql(s.value(i), pos.value(i), count.map(|c| c.value(i))));
                }
                Arc::new(b.finish())
            }
            Func::Split => split(&a[0], &a[1], &raw[1])?,
            Func::Size => {
                let out: arrow_array::Int32Array = match a[0].as_list_opt::<i32>() {
                    Some(list) => (0..len).map(|i| (!list.is_null(i)).then(|| list.value_length(i))).collect(),
                    None => (0..len).map(|_| None).collect(),
                };
                Arc::new(out)
            }
            Func::ElementAt | Func::TryElementAt => {
                return array_index(&Columnar::Array(a[0].clone()), &Columnar::Array(a[1].clone()), len, true, self == Func::ElementAt)
                    .map(|c| c.array().clone())
            }
            Func::Coalesce => {
                let mut acc = a[a.len() - 1].clone();
                for arg in a[..a.len() - 1].iter().rev() {
                    let mask = arrow_arith::boolean::is_not_null(arg.as_ref())?;
                    acc = arrow_select::zip::zip(&mask, arg, &acc)?;
                }
                acc
            }
            Func::Abs => match a[0].data_type() {
                arrow_schema::DataType::Int32 => Arc::new(
                    a[0].as_primitive::<Int32Type>()
                        .try_unary::<_, Int32Type, _>(|v| v.checked_abs().ok_or_else(|| arith_overflow("abs")))?,
                ) as ArrayRef,
                arrow_schema::DataType::Int64 => Arc::new(
                    a[0].as_primitive::<Int64Type>()
                        .try_unary::<_, Int64Type, _>(|v| v.checked_abs().ok_or_else(|| arith_overflow("abs")))?,
                ),
                _ => Arc::new(a[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(f64::abs)),
            },
            Func::Round | Func::Bround => {
                let scale = a[1].as_primitive::<Int32Type>().value(0);
                let half_even = self == Func::Bround;
                match a[0].data_type() {
                    arrow_schema::DataType::Float64 => {
                        Arc::new(a[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(|v| round_double(v, scale, half_even)))
                            as ArrayRef
                    }
                    arrow_schema::DataType::Int32 => Arc::new(a[0].as_primitive::<Int32Type>().try_unary::<_, Int32Type, _>(|v| {
                        round_integer(v as i64, scale, half_even).and_then(|r| i32::try_from(r).map_err(|_| arith_overflow("round")))
                    })?),
                    _ => Arc::new(a[0].as_primitive::<Int64Type>().try_unary::<_, Int64Type, _>(|v| round_integer(v, scale, half_even))?),
                }
            }
            Func::Floor | Func::Ceil => {
                let ceil = self == Func::Ceil;
                let mut b = Int64Builder::with_capacity(len);
                for i in 0..len {
                    match Value::from_array(a[0].as_ref(), i) {
                        Value::Null => b.append_null(),
                        Value::Int(v) => b.append_value(v as i64),
                        Value::BigInt(v) => b.append_value(v),
                        Value::Double(d) => {
                            let r = if ceil { d.ceil() } else { d.floor() };
                            if !r.is_finite() || r.abs() >= 9.2e18 {
                                return Err(arith_overflow(self.name()));
                            }
                            b.append_value(r as i64)
                        }
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Func::Sqrt => Arc::new(a[0].as_primitive::<Float64Type>().unary::<_, Float64Type>(f64::sqrt)),
            Func::ToTimestamp | Func::TryToTimestamp => to_timestamp(a, len, self == Func::ToTimestamp)?,
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
                    b.append_option(v.and_then(from_micros).map(|dt| match self {
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
            Func::SortArray => {
                let ascending = a.get(1).map(|b| b.as_boolean().value(0)).unwrap_or(true);
                let inner = match data_type {
                    DataType::Array(inner) => inner.as_ref().clone(),
                    _ => DataType::Null,
                };
                let sorted: Vec<Value> = (0..len)
                    .map(|i| match Value::from_array(a[0].as_ref(), i) {
                        Value::Array(mut items) => {
                            items.sort_by(|x, y| match (x.is_null(), y.is_null()) {
                                (true, true) => std::cmp::Ordering::Equal,
                                (true, false) => std::cmp::Ordering::Less,
                                (false, true) => std::cmp::Ordering::Greater,
                                _ => x.compare(y),
                            });
                            if !ascending {
                                items.reverse();
                            }
                            Value::Array(items)
                        }
                        other => other,
                    })
                    .collect();
                crate::value::values_to_array(&sorted, &DataType::Array(Box::new(inner)))
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
        })
        .and_then(|out: ArrayRef| {
            if out.data_type() == &data_type.to_arrow() || *data_type == DataType::Null {
                Ok(out)
            } else {
                Err(Error::internal(format!("{} produced {} instead of {}", self.name(), out.data_type(), data_type)))
            }
        })
    }
}

fn coerce_arg(func: Func, e: Expr, to: &DataType) -> Result<Expr> {
    let from = e.data_type();
    if &from == to || from == DataType::Null {
        return Ok(e.cast_to(to));
    }
    let implicit = match (&from, to) {
        (f, DataType::String) => f.is_numeric() || *f == DataType::Boolean || *f == DataType::Timestamp,
        (DataType::String, t) => t.is_numeric() || *t == DataType::Timestamp,
        (f, t) if f.is_numeric() && t.is_numeric() => true,
        _ => false,
    };
    if !implicit {
        return Err(mismatch(func, &e, &to.spark_name()));
    }
    Ok(e.cast_to(to))
}

fn mismatch(func: Func, arg: &Expr, expected: &str) -> Error {
    Error::type_mismatch(format!(
        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}(...)\" due to data type mismatch: the parameter requires the \"{expected}\" type, however it has the type \"{}\". SQLSTATE: 42K09",
        func.name(),
        arg.data_type().spark_name()
    ))
    .with_condition("DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE")
}

fn arith_overflow(op: &str) -> Error {
    Error::runtime(
        "ARITHMETIC_OVERFLOW",
        format!("[ARITHMETIC_OVERFLOW] Overflow in {op}. Use a wider type (BIGINT, DOUBLE) to avoid it. SQLSTATE: 22003"),
    )
}

/// Applies `f` to every non-null string, reusing one buffer.
fn map_str(input: &ArrayRef, f: impl Fn(&str, &mut String)) -> ArrayRef {
    let s = input.as_string::<i32>();
    let mut b = StringBuilder::with_capacity(s.len(), s.value_data().len());
    let mut buf = String::new();
    for v in s.iter() {
        match v {
            Some(v) => {
                buf.clear();
                f(v, &mut buf);
                b.append_value(&buf);
            }
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

/// Spark's `substring(str, pos[, len])`: 1-based, 0 acts as 1, negative counts from the end.
fn substring_sql(s: &str, pos: i32, len: Option<i32>) -> &str {
    let n = s.chars().count() as i64;
    let start = if pos > 0 {
        pos as i64 - 1
    } else if pos < 0 {
        n + pos as i64
    } else {
        0
    };
    let end = match len {
        Some(l) => start + l as i64,
        None => i64::MAX,
    };
    let start = start.max(0);
    let end = end.min(n);
    if start >= end {
        return "";
    }
    let byte = |k: i64| s.char_indices().nth(k as usize).map(|(b, _)| b).unwrap_or(s.len());
    &s[byte(start)..byte(end)]
}

fn split(strings: &ArrayRef, patterns: &ArrayRef, raw_pattern: &Columnar) -> Result<ArrayRef> {
    let s = strings.as_string::<i32>();
    let p = patterns.as_string::<i32>();
    let compile = |pat: &str| {
        regex_lite::Regex::new(pat).map_err(|e| {
            Error::runtime(
                "INVALID_PARAMETER_VALUE.PATTERN",
                format!(
                    "[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter `regex` in `split` is invalid: '{pat}': {e}. SQLSTATE: 22023"
                ),
            )
        })
    };
    let fixed = match raw_pattern {
        Columnar::Scalar(a) if !a.is_null(0) => Some(compile(a.as_string::<i32>().value(0))?),
        _ => None,
    };
    let mut b = ListBuilder::new(StringBuilder::new());
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) {
            b.append(false);
            continue;
        }
        let owned;
        let re = match &fixed {
            Some(r) => r,
            None => {
                owned = compile(p.value(i))?;
                &owned
            }
        };
        let text = s.value(i);
        if re.as_str().is_empty() {
            text.chars().for_each(|c| b.values().append_value(c.to_string()));
        } else {
            re.split(text).for_each(|part| b.values().append_value(part));
        }
        b.append(true);
    }
    let out = b.finish();
    let field = Arc::new(arrow_schema::Field::new("element", arrow_schema::DataType::Utf8, true));
    Ok(Arc::new(arrow_array::ListArray::new(field, out.offsets().clone(), out.values().clone(), out.nulls().cloned())))
}

/// `arr[i]` (0-based) and `element_at(arr, i)` (1-based, negative from the end). ANSI mode fails
/// the batch on an index out of range unless `fail` is false (`try_element_at`).
pub fn array_index(list: &Columnar, index: &Columnar, num_rows: usize, one_based: bool, fail: bool) -> Result<Columnar> {
    let scalar = list.is_scalar() && index.is_scalar();
    let len = if scalar { 1 } else { num_rows };
    let lists = list.clone().into_array(len)?;
    let idx = index.clone().into_array(len)?;
    let lists = lists.as_list::<i32>();
    let idx = idx.as_primitive::<Int32Type>();
    let mut take_idx: Vec<Option<u32>> = Vec::with_capacity(len);
    for i in 0..len {
        if lists.is_null(i) || idx.is_null(i) {
            take_idx.push(None);
            continue;
        }
        let n = lists.value_length(i) as i64;
        let k = idx.value(i) as i64;
        let pos = if one_based {
            if k == 0 {
                return Err(Error::runtime("INVALID_INDEX_OF_ZERO", "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003"));
            }
            if k > 0 {
                k - 1
            } else {
                n + k
            }
        } else {
            k
        };
        if pos < 0 || pos >= n {
            if fail {
                let (cond, hint) = if one_based {
                    (
                        "INVALID_ARRAY_INDEX_IN_ELEMENT_AT",
                        "Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead.",
                    )
                } else {
                    (
                        "INVALID_ARRAY_INDEX",
                        "Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead.",
                    )
                };
                return Err(Error::runtime(
                    cond,
                    format!("[{cond}] The index {k} is out of bounds. The array has {n} elements. {hint} SQLSTATE: 22003"),
                ));
            }
            take_idx.push(None);
            continue;
        }
        take_idx.push(Some((lists.value_offsets()[i] as i64 + pos) as u32));
    }
    let indices = arrow_array::UInt32Array::from(take_idx);
    let out = arrow_select::take::take(lists.values().as_ref(), &indices, None)?;
    Ok(Columnar::wrap(out, scalar))
}

/// Rounds a double the way Spark does: on its shortest decimal form (`round(2.675, 2)` = 2.68),
/// HALF_UP for `round`, HALF_EVEN for `bround`.
pub fn round_double(v: f64, scale: i32, half_even: bool) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let text = format!("{}", v.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).map(|b| b - b'0').collect();
    let point = int_part.len() as i64; // digits before the decimal point
    let keep = point + scale as i64; // how many leading digits survive
    if keep >= digits.len() as i64 {
        return v;
    }
    if keep < 0 {
        return 0.0_f64.copysign(v);
    }
    let keep = keep as usize;
    let first_dropped = digits[keep];
    let rest_nonzero = digits[keep + 1..].iter().any(|&d| d != 0);
    let last_kept_odd = keep > 0 && digits[keep - 1] % 2 == 1;
    let round_up = match first_dropped.cmp(&5) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => !half_even || rest_nonzero || last_kept_odd,
    };
    let mut kept: Vec<u8> = digits[..keep].to_vec();
    if round_up {
        let mut i = kept.len();
        loop {
            if i == 0 {
                kept.insert(0, 1);
                break;
            }
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    // Rebuild `kept` as a number with `scale` fractional digits.
    let mut s: String = kept.iter().map(|d| (d + b'0') as char).collect();
    let frac_digits = scale.max(0) as usize;
    if scale < 0 {
        s.extend(std::iter::repeat_n('0', (-scale) as usize));
    }
    let s = if frac_digits > 0 {
        let pad = frac_digits + 1;
        let s = if s.len() < pad { format!("{}{}", "0".repeat(pad - s.len()), s) } else { s };
        let (i, f) = s.split_at(s.len() - frac_digits);
        format!("{i}.{f}")
    } else {
        s
    };
    let r: f64 = s.parse().unwrap_or(v.abs());
    r.copysign(v)
}

fn round_integer(v: i64, scale: i32, half_even: bool) -> Result<i64> {
    if scale >= 0 {
        return Ok(v);
    }
    let p = 10i64.checked_pow((-scale) as u32).ok_or_else(|| arith_overflow("round"))?;
    let (q, r) = (v / p, v % p);
    let twice = r.abs() * 2;
    let up = twice > p || (twice == p && (!half_even || q % 2 != 0));
    let q = if up { q + v.signum() } else { q };
    q.checked_mul(p).ok_or_else(|| arith_overflow("round"))
}

fn to_timestamp(a: &[ArrayRef], len: usize, fail: bool) -> Result<ArrayRef> {
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

fn parse_with_pattern(text: &str, spark_fmt: &str) -> Result<Option<i64>> {
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
fn date_trunc(unit: &str, micros: i64) -> Result<Option<i64>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn functions_over_an_empty_batch_give_an_empty_column() {
        let empty: ArrayRef = Arc::new(arrow_array::Float64Array::from(Vec::<f64>::new()));
        let args = [Columnar::Array(empty), Columnar::Scalar(Arc::new(arrow_array::Int32Array::from(vec![2])))];
        let out = Func::Round.evaluate(&args, &DataType::Double, 0).unwrap();
        assert_eq!(out.array().len(), 0);
    }

    #[test]
    fn round_is_half_up_on_the_decimal_form() {
        assert_eq!(round_double(2.675, 2, false), 2.68);
        assert_eq!(round_double(1.005, 2, false), 1.01);
        assert_eq!(round_double(-2.5, 0, false), -3.0);
        assert_eq!(round_double(70.7, 2, false), 70.7);
        assert_eq!(round_double(9.995, 2, false), 10.0);
        assert_eq!(round_double(125.0, -1, false), 130.0);
        assert_eq!(round_double(0.004, 2, false), 0.0);
    }

    #[test]
    fn bround_is_half_even() {
        assert_eq!(round_double(2.5, 0, true), 2.0);
        assert_eq!(round_double(3.5, 0, true), 4.0);
        assert_eq!(round_double(2.675, 2, true), 2.68);
        assert_eq!(round_integer(25, -1, true).unwrap(), 20);
        assert_eq!(round_integer(25, -1, false).unwrap(), 30);
        assert_eq!(round_integer(-25, -1, false).unwrap(), -30);
    }

    #[test]
    fn substring_follows_spark() {
        assert_eq!(substring_sql("Spark SQL", 5, None), "k SQL");
        assert_eq!(substring_sql("Spark SQL", -3, None), "SQL");
        assert_eq!(substring_sql("Spark SQL", 5, Some(1)), "k");
        assert_eq!(substring_sql("Spark SQL", 0, Some(2)), "Sp");
        assert_eq!(substring_sql("Spark", -10, Some(7)), "Sp"); // end = start + len is taken before start is clamped
        assert_eq!(substring_sql("Spark", -10, Some(3)), "");
        assert_eq!(substring_sql("héllo", 2, Some(2)), "él");
    }

    #[test]
    fn spark_patterns_translate() {
        assert_eq!(spark_pattern_to_chrono("yyyy-MM-dd HH:mm:ss").unwrap(), "%Y-%m-%d %H:%M:%S");
        assert_eq!(spark_pattern_to_chrono("dd/MM/yyyy 'at' HH").unwrap(), "%d/%m/%Y at %H");
        assert!(spark_pattern_to_chrono("yyyy-qq").is_err());
        assert!(spark_pattern_to_chrono("yyyy-MM-dd HH:mm:ss XXX").is_err());
    }

    #[test]
    fn date_trunc_units() {
        let t = parse_timestamp("2026-05-17 13:45:12.5").unwrap();
        let f = |u| crate::time::format_timestamp(date_trunc(u, t).unwrap().unwrap());
        assert_eq!(f("hour"), "2026-05-17 13:00:00");
        assert_eq!(f("MINUTE"), "2026-05-17 13:45:00");
        assert_eq!(f("day"), "2026-05-17 00:00:00");
        assert_eq!(f("month"), "2026-05-01 00:00:00");
        assert_eq!(f("quarter"), "2026-04-01 00:00:00");
        assert_eq!(f("week"), "2026-05-11 00:00:00");
        assert_eq!(date_trunc("fortnight", t), Ok(None));
    }

    #[test]
    fn add_interval_handles_months_and_micros() {
        let t = parse_timestamp("2026-01-31 00:00:00").unwrap();
        assert_eq!(crate::time::format_timestamp(add_interval(t, 1, 0).unwrap()), "2026-02-28 00:00:00");
        assert_eq!(crate::time::format_timestamp(add_interval(t, 0, -MICROS_PER_SECOND).unwrap()), "2026-01-30 23:59:59");
    }

    #[test]
    fn a_scalar_pattern_compiles_once_and_keeps_trailing_empties() {
        let s: ArrayRef = Arc::new(arrow_array::StringArray::from(vec![Some("a/b/"), None]));
        let p: ArrayRef = Arc::new(arrow_array::StringArray::from(vec!["/", "/"]));
        let raw = Columnar::Scalar(Arc::new(arrow_array::StringArray::from(vec!["/"])));
        let out = split(&s, &p, &raw).unwrap();
        assert_eq!(
            Value::from_array(out.as_ref(), 0),
            Value::Array(vec![Value::String("a".into()), Value::String("b".into()), Value::String("".into())])
        );
        assert_eq!(Value::from_array(out.as_ref(), 1), Value::Null);
    }
    /// Times at and past every edge: i64's, chrono's calendar's and Spark's TIMESTAMP range.
    fn extreme_times() -> Vec<i64> {
        use crate::time::{MAX_TIMESTAMP, MIN_TIMESTAMP};
        let chrono_min = NaiveDateTime::MIN.and_utc().timestamp_micros();
        let chrono_max = NaiveDateTime::MAX.and_utc().timestamp_micros();
        vec![
            i64::MIN,
            i64::MIN + 1,
            chrono_min - 1,
            chrono_min,
            chrono_min + 86_400 * MICROS_PER_SECOND,
            MIN_TIMESTAMP - 1,
            MIN_TIMESTAMP,
            -1,
            0,
            1,
            1_767_225_600_123_456,
            MAX_TIMESTAMP,
            MAX_TIMESTAMP + 1,
            chrono_max,
            chrono_max + 1,
            i64::MAX,
        ]
    }

    fn scalar_string(s: &str) -> Columnar {
        Columnar::Scalar(Arc::new(arrow_array::StringArray::from(vec![s])))
    }

    fn timestamps(times: &[i64]) -> Columnar {
        Columnar::Array(Arc::new(arrow_array::TimestampMicrosecondArray::from(times.to_vec())))
    }

    /// A call that may fail, but only with an error a user can act on.
    fn no_internal(what: &str, out: Result<Columnar>) -> Option<Columnar> {
        match out {
            Ok(c) => Some(c),
            Err(e) => {
                assert_ne!(e.kind, crate::error::ErrorKind::Internal, "{what}: {}", e.message);
                None
            }
        }
    }

    #[test]
    fn every_pattern_letter_at_every_extreme_time_formats_parses_or_refuses_by_name() {
        let times = extreme_times();
        let in_range_times: Vec<i64> = times.iter().copied().filter(|t| in_range(*t).is_some()).collect();
        let mut patterns: Vec<String> = Vec::new();
        for letter in ('A'..='Z').chain('a'..='z') {
            for n in 1..=6 {
                patterns.push(letter.to_string().repeat(n));
            }
        }
        patterns.extend(
            [
                "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
                "G yyyy QQQ MMMM EEEE a hh:mm",
                "[yyyy]'#'",
                "''''",
                "'",
                "yyyy-MM-dd HH:mm:ss ZZZZZ",
                "%Y %",
            ]
            .map(String::from),
        );
        for p in &patterns {
            let fmt = scalar_string(p);
            // Every time at once, then each alone so an error on one cannot hide a panic on another.
            no_internal(p, Func::DateFormat.evaluate(&[timestamps(&times), fmt.clone()], &DataType::String, times.len()));
            for t in &times {
                no_internal(p, Func::DateFormat.evaluate(&[timestamps(&[*t]), fmt.clone()], &DataType::String, 1));
            }
            // A pattern that compiles formats every time in range.
            if pattern::compile(p, false).is_ok() {
                let out = Func::DateFormat.evaluate(&[timestamps(&in_range_times), fmt.clone()], &DataType::String, in_range_times.len());
                assert!(out.is_ok(), "{p}: {:?}", out.err());
            }
            // Parsing: junk, the edges of the calendar, and this pattern's own output.
            let mut texts: Vec<String> = [
                "",
                "x",
                "0000-00-00",
                "9999-12-31 23:59:59",
                "0001-01-01 00:00:00",
                "+262143-01-01",
                "-0001-01-01",
                "99999999999999999999",
            ]
            .map(String::from)
            .to_vec();
            if let Ok(pieces) = pattern::compile(p, false) {
                texts.extend(in_range_times.iter().filter_map(|t| from_micros(*t)).map(|dt| pattern::format(&pieces, &dt)));
            }
            let text = Columnar::Array(Arc::new(arrow_array::StringArray::from(texts.clone())));
            for f in [Func::ToTimestamp, Func::TryToTimestamp] {
                if let Some(out) = no_internal(p, f.evaluate(&[text.clone(), fmt.clone()], &DataType::Timestamp, texts.len())) {
                    let parsed = out.array().as_primitive::<TimestampMicrosecondType>().clone();
                    assert!(parsed.iter().flatten().all(|t| in_range(t).is_some()), "{p}: a timestamp outside the range was parsed");
                }
            }
        }
    }

    #[test]
    fn datetime_functions_at_extreme_times_never_panic_and_never_leave_the_range() {
        let times = extreme_times();
        let units = [
            "year",
            "yyyy",
            "yy",
            "quarter",
            "month",
            "mm",
            "mon",
            "week",
            "day",
            "dd",
            "hour",
            "minute",
            "second",
            "millisecond",
            "microsecond",
            "fortnight",
            "",
        ];
        for t in &times {
            for unit in units {
                let what = format!("date_trunc('{unit}', {t})");
                let out = Func::DateTrunc.evaluate(&[scalar_string(unit), timestamps(&[*t])], &DataType::Timestamp, 1);
                if let Some(out) = no_internal(&what, out) {
                    let out = out.array().as_primitive::<TimestampMicrosecondType>().clone();
                    if in_range(*t).is_some() {
                        assert!(out.iter().flatten().all(|v| in_range(v).is_some()), "{what}");
                    }
                }
            }
            for f in [Func::Year, Func::Month, Func::DayOfMonth, Func::Hour, Func::Minute, Func::Second] {
                no_internal(f.name(), f.evaluate(&[timestamps(&[*t])], &DataType::Int, 1));
            }
            for months in [0, 1, -1, 12 * 9999, i32::MAX, i32::MIN] {
                for micros in [0, 1, -1, i64::MAX, i64::MIN, 86_400 * MICROS_PER_SECOND] {
                    let args = [
                        timestamps(&[*t]),
                        Columnar::Scalar(Arc::new(arrow_array::Int32Array::from(vec![months]))),
                        Columnar::Scalar(Arc::new(arrow_array::Int64Array::from(vec![micros]))),
                    ];
                    let what = format!("{t} + {months} months {micros} us");
                    match Func::AddInterval.evaluate(&args, &DataType::Timestamp, 1) {
                        Ok(out) => {
                            let v = out.array().as_primitive::<TimestampMicrosecondType>().value(0);
                            assert!(in_range(v).is_some(), "{what} = {v}");
                        }
                        Err(e) => assert_eq!(e.spark_condition, Some("DATETIME_OVERFLOW"), "{what}: {}", e.message),
                    }
                }
            }
            let window = arrow_array::StructArray::new(
                crate::types::window_fields(),
                vec![
                    Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![*t])) as ArrayRef,
                    Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![*t])) as ArrayRef,
                ],
                None,
            );
            no_internal("window_time", Func::WindowTime.evaluate(&[Columnar::Array(Arc::new(window))], &DataType::Timestamp, 1));
        }
    }

    #[test]
    fn a_timestamp_plus_an_interval_past_9999_is_a_datetime_overflow() {
        let t = parse_timestamp("9999-12-31 00:00:00").unwrap();
        let args = [
            timestamps(&[t]),
            Columnar::Scalar(Arc::new(arrow_array::Int32Array::from(vec![0]))),
            Columnar::Scalar(Arc::new(arrow_array::Int64Array::from(vec![86_400 * MICROS_PER_SECOND]))),
        ];
        let e = Func::AddInterval.evaluate(&args, &DataType::Timestamp, 1).unwrap_err();
        assert_eq!(e.spark_condition, Some("DATETIME_OVERFLOW"));
        assert!(e.message.contains("9999-12-31 00:00:00 + INTERVAL '1 day'"), "{}", e.message);
        assert_eq!(add_interval(t, 0, 86_400 * MICROS_PER_SECOND - 1), Some(crate::time::MAX_TIMESTAMP));
    }

    #[test]
    fn date_format_prints_zone_letters_for_utc() {
        let ts = timestamps(&[parse_timestamp("2026-05-17 13:45:12").unwrap()]);
        let out = Func::DateFormat.evaluate(&[ts, scalar_string("yyyy-MM-dd HH:mm:ssZ XXX xx")], &DataType::String, 1).unwrap();
        assert_eq!(Value::from_array(out.array().as_ref(), 0), Value::String("2026-05-17 13:45:12+0000 Z +0000".into()));
    }
}
