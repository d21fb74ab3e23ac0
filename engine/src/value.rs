//! Single values: literals in plans, cells read out of Arrow arrays for output, and their JSON form
//! in the scenario format.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::Array;
use arrow_schema::DataType as ArrowType;
use serde_json::Value as Json;

use crate::time::format_timestamp;
use crate::types::{decimal, DataType};

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
    Null,
    String(String),
    Int(i32),
    BigInt(i64),
    Double(f64),
    Boolean(bool),
    Timestamp(i64),
    Array(Vec<Value>),
    Window {
        start: i64,
        end: i64,
    },
    // New variants go last: postcard writes a variant's index, and state holds values.
    /// Days since the epoch.
    Date(i32),
    Binary(Vec<u8>),
    /// A struct's fields with their names, in order.
    Struct(Vec<(String, Value)>),
    /// A map's entries in insertion order (Spark keeps it; keys are unique and never NULL).
    Map(Vec<(Value, Value)>),
    /// A `decimal(precision, scale)`: `unscaled / 10^scale` (`1.50` is 150 at scale 2).
    Decimal {
        unscaled: i128,
        precision: u8,
        scale: u8,
    },
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v as i64),
            Value::BigInt(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::BigInt(v) => Some(*v as f64),
            Value::Double(v) => Some(*v),
            Value::Decimal { unscaled, scale, .. } => Some(decimal::to_double(*unscaled, *scale)),
            _ => None,
        }
    }

    /// Order of two non-null values of one type, as Spark's min/max and ORDER BY see it
    /// (NaN is larger than any double).
    pub fn compare(&self, other: &Value) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::Boolean(a), Value::Boolean(b)) => a.cmp(b),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.cmp(b),
            (Value::Window { start: a, end: x }, Value::Window { start: b, end: y }) => (a, x).cmp(&(b, y)),
            (Value::Double(a), Value::Double(b)) => compare_doubles(*a, *b),
            (Value::Date(a), Value::Date(b)) => a.cmp(b),
            (Value::Binary(a), Value::Binary(b)) => a.cmp(b),
            (Value::Decimal { unscaled: a, scale: s, .. }, Value::Decimal { unscaled: b, scale: t, .. }) => {
                decimal::compare(*a, *s, *b, *t)
            }
            (Value::Array(a), Value::Array(b)) => compare_seq(a.iter(), b.iter()),
            (Value::Struct(a), Value::Struct(b)) => compare_seq(a.iter().map(|(_, v)| v), b.iter().map(|(_, v)| v)),
            // Exactly, not through a double: two bigints near 2^63 differ in bits a double lacks.
            (a, b) if a.as_i64().is_some() && b.as_i64().is_some() => a.as_i64().cmp(&b.as_i64()),
            (a, b) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => Ordering::Equal,
            },
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn data_type(&self) -> DataType {
        match self {
            Value::Null => DataType::Null,
            Value::String(_) => DataType::String,
            Value::Int(_) => DataType::Int,
            Value::BigInt(_) => DataType::BigInt,
            Value::Double(_) => DataType::Double,
            Value::Boolean(_) => DataType::Boolean,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::Array(items) => DataType::Array(Box::new(items.first().map(|v| v.data_type()).unwrap_or(DataType::String))),
            Value::Window { .. } => DataType::Window,
            Value::Date(_) => DataType::Date,
            Value::Binary(_) => DataType::Binary,
            Value::Decimal { precision, scale, .. } => DataType::Decimal(*precision, *scale),
            Value::Struct(fields) => DataType::Struct(fields.iter().map(|(n, v)| (n.clone(), v.data_type())).collect()),
            Value::Map(entries) => {
                let (k, v) = entries.first().map(|(k, v)| (k.data_type(), v.data_type())).unwrap_or((DataType::String, DataType::String));
                DataType::Map(Box::new(k), Box::new(v))
            }
        }
    }

    /// Reads row `i` of an Arrow array.
    pub fn from_array(array: &dyn Array, i: usize) -> Value {
        if array.is_null(i) {
            return Value::Null;
        }
        match array.data_type() {
            ArrowType::Utf8 => Value::String(array.as_string::<i32>().value(i).to_string()),
            ArrowType::Int32 => Value::Int(array.as_primitive::<Int32Type>().value(i)),
            ArrowType::Int64 => Value::BigInt(array.as_primitive::<Int64Type>().value(i)),
            ArrowType::Float64 => Value::Double(array.as_primitive::<Float64Type>().value(i)),
            ArrowType::Boolean => Value::Boolean(array.as_boolean().value(i)),
            ArrowType::Timestamp(_, _) => Value::Timestamp(array.as_primitive::<TimestampMicrosecondType>().value(i)),
            ArrowType::List(_) => {
                let list = array.as_list::<i32>();
                let items = list.value(i);
                Value::Array((0..items.len()).map(|j| Value::from_array(items.as_ref(), j)).collect())
            }
            ArrowType::Struct(f) if *f == crate::types::window_fields() => {
                let s = array.as_struct();
                let start = s.column(0).as_primitive::<TimestampMicrosecondType>().value(i);
                let end = s.column(1).as_primitive::<TimestampMicrosecondType>().value(i);
                Value::Window { start, end }
            }
            ArrowType::Struct(f) => {
                let s = array.as_struct();
                Value::Struct(f.iter().zip(s.columns()).map(|(f, c)| (f.name().clone(), Value::from_array(c.as_ref(), i))).collect())
            }
            ArrowType::Date32 => Value::Date(array.as_primitive::<Date32Type>().value(i)),
            ArrowType::Binary => Value::Binary(array.as_binary::<i32>().value(i).to_vec()),
            ArrowType::Decimal128(p, s) => {
                Value::Decimal { unscaled: array.as_primitive::<Decimal128Type>().value(i), precision: *p, scale: (*s).max(0) as u8 }
            }
            ArrowType::Map(_, _) => {
                let entries = array.as_map().value(i);
                let (k, v) = (entries.column(0), entries.column(1));
                Value::Map((0..entries.len()).map(|j| (Value::from_array(k.as_ref(), j), Value::from_array(v.as_ref(), j))).collect())
            }
            ArrowType::Null => Value::Null,
            other => Value::String(format!("<unsupported arrow type {other}>")),
        }
    }

    /// The value as the runner output document writes it.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::String(s) => Json::String(s.clone()),
            Value::Int(v) => Json::from(*v),
            Value::BigInt(v) => Json::from(*v),
            Value::Double(v) => serde_json::Number::from_f64(*v).map(Json::Number).unwrap_or_else(|| {
                // JSON has no NaN or infinities; write them as Spark prints them.
                Json::String(spark_double_string(*v))
            }),
            Value::Boolean(b) => Json::Bool(*b),
            Value::Timestamp(t) => Json::String(format_timestamp(*t)),
            Value::Array(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Window { start, end } => {
                let mut m = serde_json::Map::new();
                m.insert("start".into(), Json::String(format_timestamp(*start)));
                m.insert("end".into(), Json::String(format_timestamp(*end)));
                Json::Object(m)
            }
            Value::Date(d) => Json::String(format_date(*d)),
            Value::Binary(b) => Json::String(base64_encode(b)),
            // A JSON number (serde_json keeps no trailing zeros, and 17 significant digits at most).
            Value::Decimal { unscaled, scale: 0, .. } if i64::try_from(*unscaled).is_ok() => Json::from(*unscaled as i64),
            Value::Decimal { unscaled, scale, .. } => {
                serde_json::Number::from_f64(decimal::to_double(*unscaled, *scale)).map(Json::Number).unwrap_or(Json::Null)
            }
            Value::Struct(fields) => Json::Object(fields.iter().map(|(n, v)| (n.clone(), v.to_json())).collect()),
            // An object when the keys are strings, else a list of [key, value] pairs (JSON keys are strings).
            Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => {
                Json::Object(entries.iter().map(|(k, v)| (k.to_spark_string(), v.to_json())).collect())
            }
            Value::Map(entries) => Json::Array(entries.iter().map(|(k, v)| Json::Array(vec![k.to_json(), v.to_json()])).collect()),
        }
    }

    /// Reads a cell of a column of type `t` in the form [`Value::to_json`] writes (the form of
    /// input rows and expected outputs); says why a cell does not fit.
    pub fn from_json(j: &Json, t: &DataType) -> Result<Value, String> {
        if j.is_null() {
            return Ok(Value::Null);
        }
        let wrong = || format!("{j} is not a valid {t}");
        Ok(match t {
            DataType::Null => return Err(wrong()),
            DataType::String => match j {
                Json::String(s) => Value::String(s.clone()),
                Json::Array(_) | Json::Object(_) => return Err(wrong()),
                other => Value::String(other.to_string()),
            },
            DataType::Int => Value::Int(j.as_i64().and_then(|x| i32::try_from(x).ok()).ok_or_else(wrong)?),
            DataType::BigInt => Value::BigInt(j.as_i64().ok_or_else(wrong)?),
            DataType::Double => Value::Double(match j {
                Json::String(s) if s == "NaN" => f64::NAN,
                Json::String(s) if s == "Infinity" => f64::INFINITY,
                Json::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
                other => other.as_f64().ok_or_else(wrong)?,
            }),
            DataType::Boolean => Value::Boolean(j.as_bool().ok_or_else(wrong)?),
            DataType::Timestamp => Value::Timestamp(j.as_str().and_then(crate::time::parse_timestamp).ok_or_else(wrong)?),
            DataType::Date => {
                Value::Date(j.as_str().and_then(parse_date).ok_or_else(|| format!("{j} is not a date (expected \"YYYY-MM-DD\")"))?)
            }
            DataType::Binary => {
                Value::Binary(j.as_str().and_then(base64_decode).ok_or_else(|| format!("{j} is not binary (expected base64)"))?)
            }
            DataType::Decimal(p, s) => {
                let parsed = match j {
                    // serde_json keeps a number as a double: past 15 digits its text may not be what was written.
                    Json::Number(n) if n.as_i64().is_none() && significant_digits(&n.to_string()) > 15 => {
                        return Err(format!("{j} has more digits than a JSON number keeps exactly; write it as a string (\"{j}\") for {t}"))
                    }
                    Json::Number(n) => decimal::Parsed::read(&n.to_string()),
                    Json::String(text) => decimal::Parsed::read(text),
                    _ => None,
                };
                let unscaled = parsed
                    .ok_or_else(wrong)?
                    .to_decimal(*p, *s)
                    .map_err(|_| format!("{j} does not fit {t} (at most {} digits, {s} after the point)", p))?;
                Value::Decimal { unscaled, precision: *p, scale: *s }
            }
            DataType::Window => Value::Window {
                start: j.get("start").and_then(Json::as_str).and_then(crate::time::parse_timestamp).ok_or_else(wrong)?,
                end: j.get("end").and_then(Json::as_str).and_then(crate::time::parse_timestamp).ok_or_else(wrong)?,
            },
            DataType::Array(inner) => {
                Value::Array(j.as_array().ok_or_else(wrong)?.iter().map(|c| Value::from_json(c, inner)).collect::<Result<_, _>>()?)
            }
            DataType::Struct(fields) => match j {
                Json::Object(m) => {
                    if let Some(k) = m.keys().find(|k| !fields.iter().any(|(n, _)| n == *k)) {
                        return Err(format!("{j} has the field `{k}`, which {t} lacks"));
                    }
                    Value::Struct(
                        fields
                            .iter()
                            .map(|(n, ft)| Ok((n.clone(), Value::from_json(m.get(n).unwrap_or(&Json::Null), ft)?)))
                            .collect::<Result<_, String>>()?,
                    )
                }
                _ => return Err(format!("{j} is not a valid {t} (expected an object with its field names)")),
            },
            DataType::Map(kt, vt) => {
                let entries: Vec<(Value, Value)> = match j {
                    Json::Object(m) => m
                        .iter()
                        .map(|(k, v)| {
                            let key = match kt.as_ref() {
                                DataType::String => Value::String(k.clone()),
                                other => Value::from_json(&crate::scenario::strict_json(k).map_err(|_| wrong())?, other)?,
                            };
                            Ok((key, Value::from_json(v, vt)?))
                        })
                        .collect::<Result<_, String>>()?,
                    Json::Array(pairs) => pairs
                        .iter()
                        .map(|p| match p.as_array().map(Vec::as_slice) {
                            Some([k, v]) => Ok((Value::from_json(k, kt)?, Value::from_json(v, vt)?)),
                            _ => Err(format!("{p} is not a [key, value] pair of {t}")),
                        })
                        .collect::<Result<_, String>>()?,
                    _ => return Err(format!("{j} is not a valid {t} (expected an object or a list of [key, value] pairs)")),
                };
                if entries.iter().any(|(k, _)| k.is_null()) {
                    return Err(format!("{j}: a key of {t} is NULL"));
                }
                Value::Map(entries)
            }
        })
    }

    /// The value as `CAST(x AS STRING)` renders it in Spark.
    pub fn to_spark_string(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::String(s) => s.clone(),
            Value::Int(v) => v.to_string(),
            Value::BigInt(v) => v.to_string(),
            Value::Double(v) => spark_double_string(*v),
            Value::Boolean(b) => b.to_string(),
            Value::Timestamp(t) => format_timestamp(*t),
            Value::Array(items) => format!("[{}]", items.iter().map(Value::nested_string).collect::<Vec<_>>().join(", ")),
            Value::Window { start, end } => format!("{{{}, {}}}", format_timestamp(*start), format_timestamp(*end)),
            Value::Date(d) => format_date(*d),
            // Spark decodes the bytes as UTF-8.
            Value::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Decimal { unscaled, scale, .. } => decimal::format(*unscaled, *scale),
            Value::Struct(fields) => format!("{{{}}}", fields.iter().map(|(_, v)| v.nested_string()).collect::<Vec<_>>().join(", ")),
            Value::Map(entries) => format!(
                "{{{}}}",
                entries.iter().map(|(k, v)| format!("{} -> {}", k.nested_string(), v.nested_string())).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// A value inside an array, struct or map cast to a string: Spark writes NULL there as `null`.
    fn nested_string(&self) -> String {
        match self {
            Value::Null => "null".into(),
            other => other.to_spark_string(),
        }
    }
}

/// Spark's order of doubles: NaN equal to NaN and above every other value, -0.0 equal to 0.0
/// (the comparison kernels' too).
#[inline]
pub fn compare_doubles(a: f64, b: f64) -> std::cmp::Ordering {
    a.partial_cmp(&b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

fn compare_seq<'a>(a: impl Iterator<Item = &'a Value>, b: impl Iterator<Item = &'a Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a, b);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.is_null(), y.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    _ => x.compare(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// The significant digits of a number's text (its mantissa without leading zeros).
fn significant_digits(text: &str) -> usize {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    mantissa.bytes().filter(u8::is_ascii_digit).skip_while(|&d| d == b'0').count()
}

/// The days since the epoch of 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// `YYYY-MM-DD` of a count of days since the epoch.
pub fn format_date(days: i32) -> String {
    match date_of(days) {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => format!("<day {days}>"),
    }
}

pub fn date_of(days: i32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_num_days_from_ce_opt(days.checked_add(EPOCH_DAYS_FROM_CE)?)
}

pub fn days_of(d: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - EPOCH_DAYS_FROM_CE
}

/// Parses a date as Spark's `CAST(s AS DATE)` does: `YYYY`, `YYYY-M`, `YYYY-M-D`, optionally
/// followed by a time part after a blank or `T`, which is dropped. Years 1 to 9999.
pub fn parse_date(text: &str) -> Option<i32> {
    let t = text.trim();
    let date = t.split([' ', 'T']).next()?;
    let mut parts = date.split('-');
    let num = |p: Option<&str>, max_len: usize| -> Option<u32> {
        let p = p?;
        if p.is_empty() || p.len() > max_len || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let y = num(parts.next(), 4)?;
    let (m, d) = match (parts.next(), parts.next()) {
        (None, _) => (1, 1),
        (m, None) => (num(m, 2)?, 1),
        (m, d) => (num(m, 2)?, num(d, 2)?),
    };
    if parts.next().is_some() || y == 0 {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y as i32, m, d).map(days_of)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as Spark's `base64` writes it.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Reads base64 (padding optional, blanks ignored); None for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padded = false;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            padded = true;
            continue;
        }
        if padded {
            return None;
        }
        let v = BASE64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Builds an Arrow column of type `data_type` from values (state and results, not a hot path).
pub fn values_to_array(values: &[Value], data_type: &DataType) -> arrow_array::ArrayRef {
    use std::sync::Arc;
    match data_type {
        DataType::String => Arc::new(
            values.iter().map(|v| if let Value::String(s) = v { Some(s.as_str()) } else { None }).collect::<arrow_array::StringArray>(),
        ),
        DataType::Int => {
            Arc::new(values.iter().map(|v| if let Value::Int(x) = v { Some(*x) } else { None }).collect::<arrow_array::Int32Array>())
        }
        DataType::BigInt => Arc::new(values.iter().map(|v| v.as_i64()).collect::<arrow_array::Int64Array>()),
        DataType::Double => Arc::new(values.iter().map(|v| v.as_f64()).collect::<arrow_array::Float64Array>()),
        DataType::Boolean => {
            Arc::new(values.iter().map(|v| if let Value::Boolean(b) = v { Some(*b) } else { None }).collect::<arrow_array::BooleanArray>())
        }
        DataType::Timestamp => Arc::new(
            values
                .iter()
                .map(|v| if let Value::Timestamp(t) = v { Some(*t) } else { None })
                .collect::<arrow_array::TimestampMicrosecondArray>(),
        ),
        DataType::Null => arrow_array::new_null_array(&arrow_schema::DataType::Null, values.len()),
        DataType::Window => {
            let starts: arrow_array::TimestampMicrosecondArray =
                values.iter().map(|v| if let Value::Window { start, .. } = v { Some(*start) } else { None }).collect();
            let ends: arrow_array::TimestampMicrosecondArray =
                values.iter().map(|v| if let Value::Window { end, .. } = v { Some(*end) } else { None }).collect();
            let nulls = arrow_buffer::NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<bool>>());
            Arc::new(arrow_array::StructArray::new(crate::types::window_fields(), vec![Arc::new(starts), Arc::new(ends)], Some(nulls)))
        }
        DataType::Date => {
            Arc::new(values.iter().map(|v| if let Value::Date(d) = v { Some(*d) } else { None }).collect::<arrow_array::Date32Array>())
        }
        DataType::Binary => Arc::new(
            values.iter().map(|v| if let Value::Binary(b) = v { Some(b.as_slice()) } else { None }).collect::<arrow_array::BinaryArray>(),
        ),
        DataType::Decimal(p, s) => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    // A value of another scale (never made by the engine) is rescaled, not reread.
                    Value::Decimal { unscaled, scale, .. } if scale == s => Some(*unscaled),
                    Value::Decimal { unscaled, scale, .. } => decimal::Wide::new(*unscaled, i32::from(*scale)).fit(*p, *s),
                    _ => None,
                })
                .collect::<arrow_array::Decimal128Array>()
                .with_precision_and_scale(*p, *s as i8)
                .unwrap_or_else(|_| arrow_array::Decimal128Array::from(vec![None::<i128>; values.len()])),
        ),
        DataType::Struct(fields) => {
            let columns: Vec<arrow_array::ArrayRef> = fields
                .iter()
                .enumerate()
                .map(|(k, (_, t))| {
                    let column: Vec<Value> =
                        values
                            .iter()
                            .map(|v| {
                                if let Value::Struct(f) = v {
                                    f.get(k).map(|(_, x)| x.clone()).unwrap_or(Value::Null)
                                } else {
                                    Value::Null
                                }
                            })
                            .collect();
                    values_to_array(&column, t)
                })
                .collect();
            let nulls = arrow_buffer::NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<bool>>());
            let arrow_fields = crate::types::struct_fields(fields);
            if fields.is_empty() {
                return Arc::new(arrow_array::StructArray::new_empty_fields(values.len(), Some(nulls)));
            }
            Arc::new(arrow_array::StructArray::new(arrow_fields, columns, Some(nulls)))
        }
        DataType::Map(kt, vt) => {
            let mut keys = Vec::new();
            let mut vals = Vec::new();
            let mut offsets = vec![0i32];
            for v in values {
                if let Value::Map(entries) = v {
                    for (k, x) in entries {
                        keys.push(k.clone());
                        vals.push(x.clone());
                    }
                }
                offsets.push(keys.len() as i32);
            }
            let entries_field = crate::types::map_entries(kt, vt);
            let kv = crate::types::map_key_value(kt, vt);
            let entries = arrow_array::StructArray::new(kv, vec![values_to_array(&keys, kt), values_to_array(&vals, vt)], None);
            let nulls = arrow_buffer::NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<bool>>());
            Arc::new(arrow_array::MapArray::new(
                entries_field,
                arrow_buffer::OffsetBuffer::new(offsets.into()),
                entries,
                Some(nulls),
                false,
            ))
        }
        DataType::Array(inner) => {
            let flat: Vec<Value> = values.iter().flat_map(|v| if let Value::Array(items) = v { items.clone() } else { vec![] }).collect();
            let child = values_to_array(&flat, inner);
            let mut offsets = vec![0i32];
            for v in values {
                let n = if let Value::Array(items) = v { items.len() as i32 } else { 0 };
                offsets.push(offsets.last().copied().unwrap_or(0) + n);
            }
            let nulls = arrow_buffer::NullBuffer::from(values.iter().map(|v| !v.is_null()).collect::<Vec<bool>>());
            let field = Arc::new(arrow_schema::Field::new("element", inner.to_arrow(), true));
            Arc::new(arrow_array::ListArray::new(field, arrow_buffer::OffsetBuffer::new(offsets.into()), child, Some(nulls)))
        }
    }
}

/// Builds a record batch from rows of values (the output of stateful operators, which keep
/// their state as values).
pub fn rows_to_batch(
    rows: impl Iterator<Item = Vec<Value>>,
    types: &[DataType],
    schema: &arrow_schema::SchemaRef,
) -> crate::error::Result<arrow_array::RecordBatch> {
    let mut columns: Vec<Vec<Value>> = vec![Vec::new(); types.len()];
    let mut n = 0;
    for row in rows {
        for (column, v) in columns.iter_mut().zip(row) {
            column.push(v);
        }
        n += 1;
    }
    let arrays: Vec<arrow_array::ArrayRef> = columns.iter().zip(types).map(|(v, t)| values_to_array(v, t)).collect();
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(n));
    Ok(arrow_array::RecordBatch::try_new_with_options(schema.clone(), arrays, &options)?)
}

/// Java's `Double.toString`, which Spark uses for `CAST(double AS STRING)`: `1.0`, `70.7`,
/// `1.0E10`, `1.0E-4`, `NaN`, `Infinity`.
pub fn spark_double_string(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
        format!("{mantissa}E{exp}")
    }
}

/// Serde for an event time kept in state (`#[serde(with = "crate::value::event_time")]` on an
/// `Option<i64>` of microseconds): written as a `Value::Timestamp`, so the state store's view
/// shows a time rather than a count of microseconds.
pub mod event_time {
    use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

    use super::Value;

    pub fn serialize<S: Serializer>(micros: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        micros.map(Value::Timestamp).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None => Ok(None),
            Some(Value::Timestamp(t)) => Ok(Some(t)),
            Some(other) => Err(D::Error::custom(format!("an event time must be a timestamp, not {other:?}"))),
        }
    }
}

/// Serde for a required time kept in state (`#[serde(with = "crate::value::timestamp")]` on an
/// `i64` of microseconds), written as a `Value::Timestamp` like [`event_time`].
pub mod timestamp {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(micros: &i64, s: S) -> Result<S::Ok, S::Error> {
        super::event_time::serialize(&Some(*micros), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        use serde::de::Error as _;
        super::event_time::deserialize(d)?.ok_or_else(|| D::Error::custom("a time is missing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Kept {
        #[serde(with = "event_time")]
        maybe: Option<i64>,
        #[serde(with = "timestamp")]
        always: i64,
    }

    #[test]
    fn integers_compare_exactly_even_beyond_a_doubles_precision() {
        use std::cmp::Ordering;
        let (a, b) = (Value::BigInt(i64::MAX), Value::BigInt(i64::MAX - 1));
        assert_eq!(a.compare(&b), Ordering::Greater, "both are 2^63 as doubles");
        assert_eq!(Value::Array(vec![b.clone()]).compare(&Value::Array(vec![a.clone()])), Ordering::Less);
        assert_eq!(Value::Int(3).compare(&Value::BigInt(3)), Ordering::Equal);
        assert_eq!(Value::Int(-1).compare(&Value::Double(-0.5)), Ordering::Less);
    }

    #[test]
    fn times_in_state_read_as_timestamps_and_round_trip() {
        let kept = Kept { maybe: Some(1_767_225_600_000_000), always: 1_767_225_610_000_000 };
        let json = serde_json::to_value(&kept).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"maybe": {"Timestamp": 1_767_225_600_000_000i64}, "always": {"Timestamp": 1_767_225_610_000_000i64}})
        );
        assert_eq!(serde_json::from_value::<Kept>(json).unwrap(), kept);
        let none = Kept { maybe: None, ..kept };
        assert_eq!(postcard::from_bytes::<Kept>(&postcard::to_allocvec(&none).unwrap()).unwrap(), none);
        let wrong = serde_json::json!({"maybe": {"Int": 3}, "always": {"Timestamp": 0}});
        assert!(serde_json::from_value::<Kept>(wrong).unwrap_err().to_string().contains("must be a timestamp"));
    }

    fn nested() -> (DataType, Vec<Value>) {
        let t = crate::types::ddl::parse_type("struct<d:date,b:binary,m:map<string,array<int>>,n:map<int,string>>").unwrap();
        let row = Value::Struct(vec![
            ("d".into(), Value::Date(-1)),
            ("b".into(), Value::Binary(vec![0, 10, 255])),
            ("m".into(), Value::Map(vec![(Value::String("k".into()), Value::Array(vec![Value::Int(1), Value::Null]))])),
            ("n".into(), Value::Map(vec![(Value::Int(2), Value::Null)])),
        ]);
        let empty = Value::Struct(vec![
            ("d".into(), Value::Null),
            ("b".into(), Value::Binary(vec![])),
            ("m".into(), Value::Map(vec![])),
            ("n".into(), Value::Null),
        ]);
        (t, vec![row, Value::Null, empty])
    }

    /// `values` of type `t` come back the same through Arrow, the runner's JSON and postcard.
    fn assert_round_trips(values: &[Value], t: &DataType) {
        let array = values_to_array(values, t);
        assert_eq!(DataType::from_arrow(array.data_type()).as_ref(), Some(t));
        let back: Vec<Value> = (0..array.len()).map(|i| Value::from_array(array.as_ref(), i)).collect();
        assert_eq!(back, values);
        for v in values {
            assert_eq!(Value::from_json(&v.to_json(), t).as_ref(), Ok(v), "{}", v.to_json());
            assert_eq!(&postcard::from_bytes::<Value>(&postcard::to_allocvec(v).unwrap()).unwrap(), v);
        }
    }

    #[test]
    fn nested_values_round_trip_through_arrow_json_and_postcard() {
        let (t, values) = nested();
        assert_round_trips(&values, &t);
        assert_eq!(
            values[0].to_json(),
            serde_json::json!({"d": "1969-12-31", "b": "AAr/", "m": {"k": [1, null]}, "n": [[2, null]]}),
            "a map with keys other than strings is a list of pairs"
        );
        let bin = String::from_utf8_lossy(&[0, 10, 255]).into_owned();
        assert_eq!(values[0].to_spark_string(), format!("{{1969-12-31, {bin}, {{k -> [1, null]}}, {{2 -> null}}}}"));
    }

    #[test]
    fn state_read_back_accepts_nested_values_of_its_type_only() {
        let (t, values) = nested();
        assert!(values.iter().all(|v| crate::ops::fits(v, &t)));
        assert!(!crate::ops::fits(&values[0], &DataType::Struct(vec![("d".into(), DataType::Date)])));
        assert!(!crate::ops::fits(&Value::Date(1), &DataType::Timestamp));
        let m = DataType::Map(Box::new(DataType::String), Box::new(DataType::Int));
        assert!(!crate::ops::fits(&Value::Map(vec![(Value::Null, Value::Int(1))]), &m), "a NULL map key is damage");
    }

    #[test]
    fn the_values_of_earlier_variants_keep_their_postcard_bytes() {
        // State written before dates and nested types existed must read back the same.
        assert_eq!(postcard::to_allocvec(&Value::Timestamp(3)).unwrap(), vec![6, 6]);
        assert_eq!(postcard::to_allocvec(&Value::Window { start: 1, end: 2 }).unwrap(), vec![8, 2, 4]);
        assert_eq!(postcard::to_allocvec(&Value::Date(1)).unwrap(), vec![9, 2]);
        // A decimal is variant 13: its unscaled i128 as a zigzag varint (150 -> 300), then precision and scale.
        assert_eq!(postcard::to_allocvec(&Value::Decimal { unscaled: 150, precision: 10, scale: 2 }).unwrap(), vec![13, 0xAC, 0x02, 10, 2]);
    }

    #[test]
    fn decimals_round_trip_through_arrow_json_postcard_and_keys() {
        let t = DataType::Decimal(10, 2);
        let values = vec![
            Value::Decimal { unscaled: 150, precision: 10, scale: 2 },
            Value::Null,
            Value::Decimal { unscaled: -9_999_999_999, precision: 10, scale: 2 },
        ];
        assert_round_trips(&values, &t);
        assert!(values.iter().all(|v| crate::ops::fits(v, &t)));
        assert_eq!(values[0].to_spark_string(), "1.50");
        assert_eq!(values[0].to_json(), serde_json::json!(1.5));
        assert_eq!(Value::from_json(&serde_json::json!("1.555"), &t), Ok(Value::Decimal { unscaled: 156, precision: 10, scale: 2 }));
        assert!(Value::from_json(&serde_json::json!(123456789012.0), &t).unwrap_err().contains("does not fit"));
        assert!(Value::from_json(&serde_json::json!("x"), &t).is_err());
        let long = DataType::Decimal(38, 3);
        assert!(Value::from_json(&serde_json::json!(12345678901234567890.123), &long).unwrap_err().contains("write it as a string"));
        assert_eq!(
            Value::from_json(&serde_json::json!("12345678901234567890.123"), &long),
            Ok(Value::Decimal { unscaled: 12_345_678_901_234_567_890_123, precision: 38, scale: 3 })
        );
        assert!(!crate::ops::fits(&values[0], &DataType::Decimal(10, 3)));
        let wide = Value::Decimal { unscaled: -crate::types::decimal::pow10(37), precision: 38, scale: 0 };
        assert_eq!(postcard::from_bytes::<Value>(&postcard::to_allocvec(&wide).unwrap()).unwrap(), wide);
        assert_eq!(Value::from_json(&serde_json::json!("-10000000000000000000000000000000000000"), &DataType::Decimal(38, 0)), Ok(wide));
        // Keys of decimals are their postcard bytes, and read back.
        let mut key = Vec::new();
        crate::ops::keys::encode_values(&values, &mut key);
        let mut direct = Vec::new();
        crate::ops::keys::encode_group(&[values_to_array(&values, &t)], 0, &mut direct);
        let mut one = Vec::new();
        crate::ops::keys::encode_values(&values[..1], &mut one);
        assert_eq!(direct, one);
    }

    #[test]
    fn cells_that_do_not_fit_say_why() {
        let t = crate::types::ddl::parse_type("struct<a:int>").unwrap();
        assert!(Value::from_json(&serde_json::json!({"b": 1}), &t).unwrap_err().contains("field `b`"));
        assert!(Value::from_json(&serde_json::json!("2026-02-30"), &DataType::Date).unwrap_err().contains("not a date"));
        assert!(Value::from_json(&serde_json::json!("@@"), &DataType::Binary).unwrap_err().contains("base64"));
        let m = crate::types::ddl::parse_type("map<int,string>").unwrap();
        assert_eq!(Value::from_json(&serde_json::json!({"7": "x"}), &m), Ok(Value::Map(vec![(Value::Int(7), Value::String("x".into()))])));
        assert!(Value::from_json(&serde_json::json!([[null, "x"]]), &m).unwrap_err().contains("NULL"));
    }

    #[test]
    fn dates_parse_as_spark_casts_them() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date(" 2026-1-5 "), parse_date("2026-01-05"));
        assert_eq!(parse_date("2026"), parse_date("2026-01-01"));
        assert_eq!(parse_date("2026-03-01 12:00:00"), parse_date("2026-03-01"));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("x"), None);
        assert_eq!(format_date(parse_date("0001-01-01").unwrap()), "0001-01-01");
        assert_eq!(base64_encode(b"Spark"), "U3Bhcms=");
        assert_eq!(base64_decode("U3Bhcms=").unwrap(), b"Spark");
        assert_eq!(base64_decode("U3Bhcms").unwrap(), b"Spark");
    }

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(spark_double_string(1.0), "1.0");
        assert_eq!(spark_double_string(70.7), "70.7");
        assert_eq!(spark_double_string(1e10), "1.0E10");
        assert_eq!(spark_double_string(1.5e-4), "1.5E-4");
        assert_eq!(spark_double_string(-0.5), "-0.5");
        assert_eq!(spark_double_string(f64::NAN), "NaN");
    }
}
