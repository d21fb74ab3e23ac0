//! `CAST` with Spark 4's ANSI semantics: invalid input or overflow fails the batch
//! (`CAST_INVALID_INPUT`, `CAST_OVERFLOW`); `try_cast` gives NULL instead.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{new_null_array, Array, ArrayRef};

use crate::error::{Error, Result};
use crate::time::{format_timestamp, in_range, parse_timestamp, MAX_TIMESTAMP, MICROS_PER_SECOND, MIN_TIMESTAMP};
use crate::types::{decimal, DataType};
use crate::value::{spark_double_string, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CastMode {
    /// `CAST`: fail the batch on a value that does not fit.
    Ansi,
    /// `try_cast`: NULL for a value that does not fit.
    Try,
}

/// Whether Spark allows `CAST(from AS to)` at all (checked at analysis).
pub fn can_cast(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    if from == to || *from == Null {
        return true;
    }
    match (from, to) {
        (Array(f), Array(t)) => return can_cast(f, t),
        (Map(fk, fv), Map(tk, tv)) => return can_cast(fk, tk) && can_cast(fv, tv),
        (Struct(_) | Window, Struct(_) | Window) => {
            let (f, t) = (from.struct_fields().unwrap_or_default(), to.struct_fields().unwrap_or_default());
            return f.len() == t.len() && f.iter().zip(&t).all(|((_, a), (_, b))| can_cast(a, b));
        }
        _ => {}
    }
    matches!(
        (from, to),
        (_, String)
            | (String, Date | Binary)
            | (Timestamp, Date)
            | (Date, Timestamp)
            | (String, Int | BigInt | Double | Boolean | Timestamp)
            | (Int | BigInt | Double | Boolean, Int | BigInt | Double | Boolean)
            | (Int | BigInt | Double, Timestamp)
            | (Timestamp, BigInt | Double | Int)
            | (String | Int | BigInt | Double | Boolean | Timestamp | Decimal(_, _), Decimal(_, _))
            | (Decimal(_, _), Int | BigInt | Double | Boolean | Timestamp)
    )
}

fn invalid(value: &str, from: &DataType, to: &DataType) -> Error {
    Error::runtime(
        "CAST_INVALID_INPUT",
        format!(
            "[CAST_INVALID_INPUT] The value '{value}' of the type \"{}\" cannot be cast to \"{}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018",
            from.spark_name(),
            to.spark_name()
        ),
    )
}

/// A value too wide for its decimal type (casts and decimal arithmetic).
pub fn decimal_out_of_range(shown: &str, p: u8, s: u8) -> Error {
    Error::runtime(
        "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
        format!(
            "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  {shown} cannot be represented as Decimal({p}, {s}). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead. SQLSTATE: 22003"
        ),
    )
}

/// A number's text with more than 38 digits before the point.
fn decimal_unsupported(text: &str) -> Error {
    Error::runtime(
        "NUMERIC_OUT_OF_SUPPORTED_RANGE",
        format!(
            "[NUMERIC_OUT_OF_SUPPORTED_RANGE] The value {} cannot be interpreted as a numeric since it has more than 38 digits. SQLSTATE: 22003",
            text.trim()
        ),
    )
}

fn overflow(value: &Value, from: &DataType, to: &DataType) -> Error {
    let literal = match value {
        Value::Decimal { unscaled, scale, .. } => format!("{}BD", decimal::format(*unscaled, *scale)),
        Value::BigInt(v) => format!("{v}L"),
        Value::Double(v) => format!("{}D", spark_double_string(*v)),
        other => other.to_spark_string(),
    };
    Error::runtime(
        "CAST_OVERFLOW",
        format!(
            "[CAST_OVERFLOW] The value {literal} of the type \"{}\" cannot be cast to \"{}\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead. SQLSTATE: 22003",
            from.spark_name(),
            to.spark_name()
        ),
    )
}

/// One source cell, read without allocating.
enum Cell<'a> {
    Str(&'a str),
    Int(i64),
    Double(f64),
    Bool(bool),
    Ts(i64),
    Date(i32),
    Bin(&'a [u8]),
    /// A decimal's unscaled value and scale.
    Dec(i128, u8),
}

const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

fn read<'a>(array: &'a dyn Array, i: usize) -> Option<Cell<'a>> {
    if array.is_null(i) {
        return None;
    }
    use arrow_schema::DataType as A;
    Some(match array.data_type() {
        A::Utf8 => Cell::Str(array.as_string::<i32>().value(i)),
        A::Int32 => Cell::Int(array.as_primitive::<Int32Type>().value(i) as i64),
        A::Int64 => Cell::Int(array.as_primitive::<Int64Type>().value(i)),
        A::Float64 => Cell::Double(array.as_primitive::<Float64Type>().value(i)),
        A::Boolean => Cell::Bool(array.as_boolean().value(i)),
        A::Timestamp(_, _) => Cell::Ts(array.as_primitive::<TimestampMicrosecondType>().value(i)),
        A::Date32 => Cell::Date(array.as_primitive::<Date32Type>().value(i)),
        A::Binary => Cell::Bin(array.as_binary::<i32>().value(i)),
        A::Decimal128(_, s) => Cell::Dec(array.as_primitive::<Decimal128Type>().value(i), (*s).max(0) as u8),
        _ => return None,
    })
}

/// Parses an integer as Spark's string-to-integral cast does: surrounding blanks allowed, a
/// sign, digits; a fractional part is malformed.
fn parse_integer(s: &str) -> Option<i128> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<i128>().ok()
}

fn parse_double(s: &str) -> Option<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "+infinity" | "inf" | "+inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ => {
            let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
            if t.is_empty() || t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') {
                None
            } else {
                t.parse::<f64>().ok()
            }
        }
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "0" => Some(false),
        _ => None,
    }
}

pub fn cast_array(array: &ArrayRef, from: &DataType, to: &DataType, mode: CastMode) -> Result<ArrayRef> {
    if from == to {
        return Ok(array.clone());
    }
    if *from == DataType::Null || array.null_count() == array.len() {
        return Ok(new_null_array(&to.to_arrow(), array.len()));
    }
    if !can_cast(from, to) {
        return Err(Error::type_mismatch(format!(
            "[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION] cannot cast \"{}\" to \"{}\". SQLSTATE: 42K09",
            from.spark_name(),
            to.spark_name()
        )));
    }
    if let Some(nested) = cast_nested(array, from, to, mode)? {
        return Ok(nested);
    }
    let n = array.len();
    // A cell of a type `can_cast` keeps away from this target.
    let refused = || Error::internal(format!("no cast from {from} to {to}"));
    // Each cell: Ok(Some(v)) a value, Ok(None) NULL, Err(e) an ANSI failure (NULL under try_cast).
    let fail = |e: Error| -> Result<()> {
        if mode == CastMode::Try {
            Ok(())
        } else {
            Err(e)
        }
    };
    macro_rules! build {
        ($builder:expr, $convert:expr) => {{
            let mut b = $builder;
            for i in 0..n {
                match read(array.as_ref(), i) {
                    None => b.append_null(),
                    Some(cell) => match $convert(cell) {
                        Ok(v) => b.append_value(v),
                        Err(e) => {
                            fail(e)?;
                            b.append_null()
                        }
                    },
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match to {
        DataType::Int | DataType::BigInt => {
            let (lo, hi) = if *to == DataType::Int { (i32::MIN as i128, i32::MAX as i128) } else { (i64::MIN as i128, i64::MAX as i128) };
            let convert = |cell: Cell| -> Result<i64> {
                let wide: i128 = match cell {
                    Cell::Str(s) => parse_integer(s).ok_or_else(|| invalid(s, from, to))?,
                    Cell::Int(v) => v as i128,
                    Cell::Double(d) => {
                        if d.is_nan() || d.is_infinite() || d.trunc() < lo as f64 || d.trunc() > hi as f64 {
                            return Err(overflow(&Value::Double(d), from, to));
                        }
                        d.trunc() as i128
                    }
                    Cell::Bool(b) => b as i128,
                    Cell::Ts(t) => t.div_euclid(MICROS_PER_SECOND) as i128,
                    Cell::Dec(u, s) => decimal::to_integral(u, s, lo, hi).ok_or_else(|| {
                        let (p, _) = from.decimal().unwrap_or((38, s));
                        overflow(&Value::Decimal { unscaled: u, precision: p, scale: s }, from, to)
                    })?,
                    Cell::Date(_) | Cell::Bin(_) => return Err(refused()),
                };
                if wide < lo || wide > hi {
                    let shown = match cell {
                        Cell::Str(s) => return Err(invalid(s, from, to)),
                        Cell::Int(v) => Value::BigInt(v),
                        _ => Value::BigInt(wide as i64),
                    };
                    return Err(overflow(&shown, from, to));
                }
                Ok(wide as i64)
            };
            if *to == DataType::Int {
                build!(Int32Builder::with_capacity(n), |c| convert(c).map(|v| v as i32))
            } else {
                build!(Int64Builder::with_capacity(n), convert)
            }
        }
        DataType::Double => build!(Float64Builder::with_capacity(n), |cell| -> Result<f64> {
            Ok(match cell {
                Cell::Str(s) => parse_double(s).ok_or_else(|| invalid(s, from, to))?,
                Cell::Int(v) => v as f64,
                Cell::Double(d) => d,
                Cell::Bool(b) => b as i64 as f64,
                Cell::Ts(t) => t as f64 / MICROS_PER_SECOND as f64,
                Cell::Dec(u, s) => decimal::to_double(u, s),
                Cell::Date(_) | Cell::Bin(_) => return Err(refused()),
            })
        }),
        DataType::Boolean => build!(BooleanBuilder::with_capacity(n), |cell| -> Result<bool> {
            Ok(match cell {
                Cell::Str(s) => parse_bool(s).ok_or_else(|| invalid(s, from, to))?,
                Cell::Int(v) => v != 0,
                Cell::Double(d) => d != 0.0,
                Cell::Bool(b) => b,
                Cell::Ts(t) => t != 0,
                Cell::Dec(u, _) => u != 0,
                Cell::Date(_) | Cell::Bin(_) => return Err(refused()),
            })
        }),
        DataType::Timestamp => build!(TimestampMicrosecondBuilder::with_capacity(n), |cell| -> Result<i64> {
            Ok(match cell {
                Cell::Str(s) => parse_timestamp(s).ok_or_else(|| invalid(s, from, to))?,
                // A number of seconds outside the TIMESTAMP range overflows (no such timestamp exists).
                Cell::Int(v) => v.checked_mul(MICROS_PER_SECOND).and_then(in_range).ok_or_else(|| overflow(&Value::BigInt(v), from, to))?,
                Cell::Double(d) => {
                    let micros = (d * MICROS_PER_SECOND as f64).trunc();
                    if !micros.is_finite() || micros < MIN_TIMESTAMP as f64 || micros > MAX_TIMESTAMP as f64 {
                        return Err(overflow(&Value::Double(d), from, to));
                    }
                    micros as i64
                }
                Cell::Bool(_) => return Err(invalid("boolean", from, to)),
                Cell::Ts(t) => t,
                Cell::Date(d) => d as i64 * MICROS_PER_DAY,
                // Seconds with a fraction, the microseconds below truncated (Spark's decimalToTimestamp).
                Cell::Dec(u, s) => {
                    let micros = decimal::Wide::new(u, i32::from(s)).rescale(6, decimal::Rounding::Down).and_then(|w| w.fit(38, 6));
                    micros.and_then(|m| i64::try_from(m).ok()).and_then(in_range).ok_or_else(|| {
                        let (p, _) = from.decimal().unwrap_or((38, s));
                        overflow(&Value::Decimal { unscaled: u, precision: p, scale: s }, from, to)
                    })?
                }
                Cell::Bin(_) => return Err(refused()),
            })
        }),
        DataType::Date => build!(Date32Builder::with_capacity(n), |cell| -> Result<i32> {
            Ok(match cell {
                Cell::Str(s) => crate::value::parse_date(s).ok_or_else(|| invalid(s, from, to))?,
                Cell::Ts(t) => t.div_euclid(MICROS_PER_DAY) as i32,
                Cell::Date(d) => d,
                _ => return Err(refused()),
            })
        }),
        DataType::Binary => build!(BinaryBuilder::with_capacity(n, n * 8), |cell| -> Result<Vec<u8>> {
            Ok(match cell {
                Cell::Str(s) => s.as_bytes().to_vec(),
                Cell::Bin(b) => b.to_vec(),
                _ => return Err(refused()),
            })
        }),
        DataType::String => {
            let mut b = StringBuilder::with_capacity(n, n * 8);
            for i in 0..n {
                match read(array.as_ref(), i) {
                    None if array.is_null(i) => b.append_null(),
                    None => b.append_value(Value::from_array(array.as_ref(), i).to_spark_string()),
                    Some(Cell::Str(s)) => b.append_value(s),
                    Some(Cell::Int(v)) => b.append_value(v.to_string()),
                    Some(Cell::Double(d)) => b.append_value(spark_double_string(d)),
                    Some(Cell::Bool(v)) => b.append_value(if v { "true" } else { "false" }),
                    Some(Cell::Ts(t)) => b.append_value(format_timestamp(t)),
                    Some(Cell::Date(d)) => b.append_value(crate::value::format_date(d)),
                    // Spark reads the bytes as UTF-8, replacing what is not.
                    Some(Cell::Bin(v)) => b.append_value(String::from_utf8_lossy(v)),
                    Some(Cell::Dec(u, s)) => b.append_value(decimal::format(u, s)),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Decimal(p, s) => {
            let (p, s) = (*p, *s);
            let from_parsed = |parsed: decimal::Parsed| -> Result<i128> {
                parsed.to_decimal(p, s).map_err(|e| match e {
                    decimal::NotDecimal::OutOfRange(shown) => decimal_out_of_range(&shown, p, s),
                    _ => decimal_out_of_range(&parsed.plain(), p, s),
                })
            };
            let wide = |w: decimal::Wide| w.fit(p, s).ok_or_else(|| decimal_out_of_range(&w.plain(), p, s));
            // Ok(None): NULL even under ANSI (a NaN or infinite double: Spark's NumberFormatException path).
            let convert = |cell: Cell| -> Result<Option<i128>> {
                Ok(Some(match cell {
                    Cell::Str(text) => match decimal::Parsed::read(text) {
                        None => return Err(invalid(text, from, to)),
                        Some(parsed) => match parsed.to_decimal(p, s) {
                            Ok(v) => v,
                            Err(decimal::NotDecimal::OutOfRange(shown)) => return Err(decimal_out_of_range(&shown, p, s)),
                            Err(decimal::NotDecimal::Unsupported) => return Err(decimal_unsupported(text)),
                            Err(decimal::NotDecimal::Malformed) => return Err(invalid(text, from, to)),
                        },
                    },
                    Cell::Int(v) => wide(decimal::Wide::new(i128::from(v), 0))?,
                    Cell::Bool(b) => wide(decimal::Wide::new(i128::from(b), 0))?,
                    Cell::Dec(u, scale) => wide(decimal::Wide::new(u, i32::from(scale)))?,
                    Cell::Double(d) => match decimal::Parsed::from_double(d) {
                        None => return Ok(None),
                        Some(parsed) => from_parsed(parsed)?,
                    },
                    Cell::Ts(t) => match decimal::Parsed::from_double(t as f64 / MICROS_PER_SECOND as f64) {
                        None => return Ok(None),
                        Some(parsed) => from_parsed(parsed)?,
                    },
                    Cell::Date(_) | Cell::Bin(_) => return Err(refused()),
                }))
            };
            let mut b = Decimal128Builder::with_capacity(n).with_precision_and_scale(p, s as i8)?;
            for i in 0..n {
                match read(array.as_ref(), i).map(convert) {
                    None | Some(Ok(None)) => b.append_null(),
                    Some(Ok(Some(v))) => b.append_value(v),
                    Some(Err(e)) => {
                        fail(e)?;
                        b.append_null()
                    }
                }
            }
            Arc::new(b.finish())
        }
        other => return Err(Error::internal(format!("no cast to {other}"))),
    })
}

/// Arrays, maps and structs cast element by element (a struct field by field, by position):
/// the children are cast as whole columns and put back under the same offsets and NULLs.
fn cast_nested(array: &ArrayRef, from: &DataType, to: &DataType, mode: CastMode) -> Result<Option<ArrayRef>> {
    use arrow_array::{ListArray, MapArray, StructArray};
    Ok(Some(match (from, to) {
        (DataType::Array(f), DataType::Array(t)) => {
            let l = array.as_list::<i32>();
            let values = cast_array(l.values(), f, t, mode)?;
            let field = Arc::new(arrow_schema::Field::new("element", t.to_arrow(), true));
            Arc::new(ListArray::try_new(field, l.offsets().clone(), values, l.nulls().cloned())?)
        }
        (DataType::Map(fk, fv), DataType::Map(tk, tv)) => {
            let m = array.as_map();
            let keys = cast_array(m.keys(), fk, tk, mode)?;
            let values = cast_array(m.values(), fv, tv, mode)?;
            let entries = StructArray::try_new(crate::types::map_key_value(tk, tv), vec![keys, values], None)?;
            Arc::new(MapArray::try_new(crate::types::map_entries(tk, tv), m.offsets().clone(), entries, m.nulls().cloned(), false)?)
        }
        (DataType::Struct(_) | DataType::Window, DataType::Struct(_) | DataType::Window) => {
            let s = array.as_struct();
            let (f, t) = (from.struct_fields().unwrap_or_default(), to.struct_fields().unwrap_or_default());
            let columns = s
                .columns()
                .iter()
                .zip(f.iter().zip(&t))
                .map(|(c, ((_, a), (_, b)))| cast_array(c, a, b, mode))
                .collect::<Result<Vec<_>>>()?;
            let arrow_schema::DataType::Struct(fields) = to.to_arrow() else { return Ok(None) };
            Arc::new(StructArray::try_new(fields, columns, s.nulls().cloned())?)
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int32Array, StringArray};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn strings(v: Vec<Option<&str>>) -> ArrayRef {
        Arc::new(StringArray::from(v))
    }

    #[test]
    fn dates_cast_from_and_to_strings_and_timestamps() {
        let out = cast_array(&strings(vec![Some(" 2026-1-2 "), None]), &DataType::String, &DataType::Date, CastMode::Ansi).unwrap();
        assert_eq!(Value::from_array(out.as_ref(), 0), Value::Date(crate::value::parse_date("2026-01-02").unwrap()));
        let ts = cast_array(&out, &DataType::Date, &DataType::Timestamp, CastMode::Ansi).unwrap();
        assert_eq!(Value::from_array(ts.as_ref(), 0), Value::Timestamp(parse_timestamp("2026-01-02 00:00:00").unwrap()));
        let t: ArrayRef = Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![parse_timestamp("1969-12-31 23:00:00").unwrap()]));
        let d = cast_array(&t, &DataType::Timestamp, &DataType::Date, CastMode::Ansi).unwrap();
        let s = cast_array(&d, &DataType::Date, &DataType::String, CastMode::Ansi).unwrap();
        assert_eq!(s.as_string::<i32>().value(0), "1969-12-31");
        let e = cast_array(&strings(vec![Some("x")]), &DataType::String, &DataType::Date, CastMode::Ansi).unwrap_err();
        assert!(e.message.contains("The value 'x' of the type \"STRING\" cannot be cast to \"DATE\""), "{}", e.message);
        assert!(!can_cast(&DataType::Date, &DataType::Int));
    }

    #[test]
    fn nested_values_cast_element_by_element() {
        let t = DataType::Array(Box::new(DataType::String));
        let a = crate::value::values_to_array(&[Value::Array(vec![Value::String("1".into()), Value::Null]), Value::Null], &t);
        let to = DataType::Array(Box::new(DataType::Int));
        let out = cast_array(&a, &t, &to, CastMode::Ansi).unwrap();
        assert_eq!(Value::from_array(out.as_ref(), 0), Value::Array(vec![Value::Int(1), Value::Null]));
        assert_eq!(Value::from_array(out.as_ref(), 1), Value::Null);
        let s = cast_array(&a, &t, &DataType::String, CastMode::Ansi).unwrap();
        assert_eq!(s.as_string::<i32>().value(0), "[1, null]");
        let b = cast_array(&strings(vec![Some("ABC")]), &DataType::String, &DataType::Binary, CastMode::Ansi).unwrap();
        assert_eq!(Value::from_array(b.as_ref(), 0), Value::Binary(b"ABC".to_vec()));
        assert_eq!(cast_array(&b, &DataType::Binary, &DataType::String, CastMode::Ansi).unwrap().as_string::<i32>().value(0), "ABC");
    }

    #[test]
    fn decimals_cast_as_spark_casts_them() {
        let dec = |text: &str, p: u8, s: u8, mode: CastMode| -> Result<Value> {
            let out = cast_array(&strings(vec![Some(text)]), &DataType::String, &DataType::Decimal(p, s), mode)?;
            Ok(Value::from_array(out.as_ref(), 0))
        };
        let shown = |v: Result<Value>| v.map(|v| v.to_spark_string()).unwrap_or_else(|e| e.message);
        assert_eq!(shown(dec("1.555", 10, 2, CastMode::Ansi)), "1.56");
        assert_eq!(shown(dec(" -1.555 ", 10, 2, CastMode::Ansi)), "-1.56");
        assert_eq!(shown(dec("1e3", 10, 0, CastMode::Ansi)), "1000");
        let e = dec("123456.7", 5, 2, CastMode::Ansi).unwrap_err();
        assert_eq!(e.spark_condition, Some("NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION"));
        assert!(
            e.message.starts_with("[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION]  123456.7 cannot be represented as Decimal(5, 2)."),
            "{}",
            e.message
        );
        let e = dec("abc", 10, 2, CastMode::Ansi).unwrap_err();
        assert!(e.message.contains("The value 'abc' of the type \"STRING\" cannot be cast to \"DECIMAL(10,2)\""), "{}", e.message);
        assert_eq!(dec("abc", 10, 2, CastMode::Try).unwrap(), Value::Null);
        assert_eq!(dec("1e400", 10, 2, CastMode::Try).unwrap(), Value::Null);
        assert_eq!(dec("1e400", 10, 2, CastMode::Ansi).unwrap_err().spark_condition, Some("NUMERIC_OUT_OF_SUPPORTED_RANGE"));
        let doubles: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![1.005, f64::NAN, 1e-10]));
        let out = cast_array(&doubles, &DataType::Double, &DataType::Decimal(10, 2), CastMode::Ansi).unwrap();
        let got: Vec<String> = (0..3).map(|i| Value::from_array(out.as_ref(), i).to_spark_string()).collect();
        assert_eq!(got, ["1.01", "NULL", "0.00"], "NaN is NULL even under ANSI");
        let e = cast_array(
            &(Arc::new(arrow_array::Float64Array::from(vec![1e10])) as ArrayRef),
            &DataType::Double,
            &DataType::Decimal(5, 2),
            CastMode::Ansi,
        )
        .unwrap_err();
        assert!(e.message.contains(" 10000000000 cannot be represented as Decimal(5, 2)"), "{}", e.message);
        let d = crate::value::values_to_array(
            &[Value::Decimal { unscaled: -1299, precision: 10, scale: 2 }, Value::Decimal { unscaled: 0, precision: 10, scale: 2 }],
            &DataType::Decimal(10, 2),
        );
        let ints = cast_array(&d, &DataType::Decimal(10, 2), &DataType::Int, CastMode::Ansi).unwrap();
        assert_eq!(ints.as_primitive::<Int32Type>().value(0), -12);
        let bools = cast_array(&d, &DataType::Decimal(10, 2), &DataType::Boolean, CastMode::Ansi).unwrap();
        assert!(bools.as_boolean().value(0) && !bools.as_boolean().value(1));
        let text = cast_array(&d, &DataType::Decimal(10, 2), &DataType::String, CastMode::Ansi).unwrap();
        assert_eq!(text.as_string::<i32>().value(1), "0.00");
        let narrow = cast_array(&d, &DataType::Decimal(10, 2), &DataType::Decimal(3, 1), CastMode::Ansi).unwrap();
        assert_eq!(Value::from_array(narrow.as_ref(), 0).to_spark_string(), "-13.0");
        let e = cast_array(&d, &DataType::Decimal(10, 2), &DataType::Decimal(2, 1), CastMode::Ansi).unwrap_err();
        assert!(e.message.contains(" -12.99 cannot be represented as Decimal(2, 1)"), "{}", e.message);
        let big = crate::value::values_to_array(
            &[Value::Decimal { unscaled: crate::types::decimal::pow10(20), precision: 38, scale: 0 }],
            &DataType::Decimal(38, 0),
        );
        let e = cast_array(&big, &DataType::Decimal(38, 0), &DataType::BigInt, CastMode::Ansi).unwrap_err();
        assert!(
            e.message.contains("The value 100000000000000000000BD of the type \"DECIMAL(38,0)\" cannot be cast to \"BIGINT\""),
            "{}",
            e.message
        );
        let t = crate::value::values_to_array(&[Value::Decimal { unscaled: 15, precision: 10, scale: 1 }], &DataType::Decimal(10, 1));
        let ts = cast_array(&t, &DataType::Decimal(10, 1), &DataType::Timestamp, CastMode::Ansi).unwrap();
        assert_eq!(ts.as_primitive::<TimestampMicrosecondType>().value(0), 1_500_000);
        // Spark 4.3: truncation towards zero on both sides of the epoch, and the edges of INT.
        let t =
            crate::value::values_to_array(&[Value::Decimal { unscaled: -10_000_005, precision: 10, scale: 7 }], &DataType::Decimal(10, 7));
        let ts = cast_array(&t, &DataType::Decimal(10, 7), &DataType::Timestamp, CastMode::Ansi).unwrap();
        assert_eq!(ts.as_primitive::<TimestampMicrosecondType>().value(0), -1_000_000);
        let edge = crate::value::values_to_array(
            &[
                Value::Decimal { unscaled: 21_474_836_479, precision: 11, scale: 1 },
                Value::Decimal { unscaled: -21_474_836_489, precision: 11, scale: 1 },
            ],
            &DataType::Decimal(11, 1),
        );
        let ints = cast_array(&edge, &DataType::Decimal(11, 1), &DataType::Int, CastMode::Ansi).unwrap();
        assert_eq!((ints.as_primitive::<Int32Type>().value(0), ints.as_primitive::<Int32Type>().value(1)), (i32::MAX, i32::MIN));
        let over = crate::value::values_to_array(
            &[Value::Decimal { unscaled: 21_474_836_480, precision: 11, scale: 1 }],
            &DataType::Decimal(11, 1),
        );
        let e = cast_array(&over, &DataType::Decimal(11, 1), &DataType::Int, CastMode::Ansi).unwrap_err();
        assert!(e.message.contains("The value 2147483648.0BD of the type \"DECIMAL(11,1)\" cannot be cast to \"INT\""), "{}", e.message);
        let b: ArrayRef = Arc::new(arrow_array::BooleanArray::from(vec![true]));
        let e = cast_array(&b, &DataType::Boolean, &DataType::Decimal(1, 1), CastMode::Ansi).unwrap_err();
        assert!(e.message.contains("]  1 cannot be represented as Decimal(1, 1)"), "{}", e.message);
    }

    #[test]
    fn string_to_int_trims_and_keeps_nulls() {
        let out = cast_array(&strings(vec![Some(" -7 "), None, Some("42")]), &DataType::String, &DataType::Int, CastMode::Ansi).unwrap();
        let out = out.as_primitive::<Int32Type>();
        assert_eq!(out.value(0), -7);
        assert!(out.is_null(1));
        assert_eq!(out.value(2), 42);
    }

    #[test]
    fn ansi_cast_fails_where_try_cast_gives_null() {
        let input = strings(vec![Some("abc"), Some("3.5"), Some("2147483648")]);
        let err = cast_array(&input, &DataType::String, &DataType::Int, CastMode::Ansi).unwrap_err();
        assert_eq!(err.spark_condition, Some("CAST_INVALID_INPUT"));
        assert!(err.message.contains("The value 'abc' of the type \"STRING\" cannot be cast to \"INT\""), "{}", err.message);
        let out = cast_array(&input, &DataType::String, &DataType::Int, CastMode::Try).unwrap();
        assert_eq!(out.null_count(), 3);
    }

    #[test]
    fn double_to_int_overflow_is_cast_overflow() {
        let input: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![1e10]));
        let err = cast_array(&input, &DataType::Double, &DataType::Int, CastMode::Ansi).unwrap_err();
        assert_eq!(err.spark_condition, Some("CAST_OVERFLOW"));
        assert!(err.message.contains("1.0E10D"), "{}", err.message);
        let truncated = cast_array(
            &(Arc::new(arrow_array::Float64Array::from(vec![-2.9])) as ArrayRef),
            &DataType::Double,
            &DataType::Int,
            CastMode::Ansi,
        )
        .unwrap();
        assert_eq!(truncated.as_primitive::<Int32Type>().value(0), -2);
    }

    #[test]
    fn to_string_prints_like_spark() {
        let d: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![Some(20.0), Some(1e10), None]));
        let out = cast_array(&d, &DataType::Double, &DataType::String, CastMode::Ansi).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!((out.value(0), out.value(1), out.is_null(2)), ("20.0", "1.0E10", true));
        let i: ArrayRef = Arc::new(Int32Array::from(vec![5]));
        assert_eq!(cast_array(&i, &DataType::Int, &DataType::String, CastMode::Ansi).unwrap().as_string::<i32>().value(0), "5");
    }

    #[test]
    fn string_to_timestamp_and_boolean() {
        let out = cast_array(&strings(vec![Some("2026-01-01 00:00:01")]), &DataType::String, &DataType::Timestamp, CastMode::Ansi).unwrap();
        assert_eq!(out.as_primitive::<TimestampMicrosecondType>().value(0), parse_timestamp("2026-01-01 00:00:01").unwrap());
        let out = cast_array(&strings(vec![Some("yes"), Some("F")]), &DataType::String, &DataType::Boolean, CastMode::Ansi).unwrap();
        assert!(out.as_boolean().value(0) && !out.as_boolean().value(1));
    }

    #[test]
    fn numbers_outside_the_timestamp_range_overflow_or_give_null() {
        let ints: ArrayRef = Arc::new(arrow_array::Int64Array::from(vec![253_402_300_800i64, -62_135_596_801, i64::MAX, 0]));
        let e = cast_array(&ints, &DataType::BigInt, &DataType::Timestamp, CastMode::Ansi).unwrap_err();
        assert_eq!(e.spark_condition, Some("CAST_OVERFLOW"));
        assert!(e.message.contains("253402300800L"), "{}", e.message);
        let out = cast_array(&ints, &DataType::BigInt, &DataType::Timestamp, CastMode::Try).unwrap();
        assert_eq!(out.null_count(), 3);
        let last_second: ArrayRef = Arc::new(arrow_array::Int64Array::from(vec![253_402_300_799i64, -62_135_596_800]));
        assert!(cast_array(&last_second, &DataType::BigInt, &DataType::Timestamp, CastMode::Ansi).is_ok());
        let doubles: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![1e300, -1e12, f64::NAN, f64::INFINITY]));
        let out = cast_array(&doubles, &DataType::Double, &DataType::Timestamp, CastMode::Try).unwrap();
        assert_eq!(out.null_count(), 4);
        let strings = strings(vec![Some("10000-01-01"), Some("0000-01-01 00:00:00")]);
        assert_eq!(cast_array(&strings, &DataType::String, &DataType::Timestamp, CastMode::Try).unwrap().null_count(), 2);
    }
}
