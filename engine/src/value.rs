//! Single values: literals in plans, cells read out of Arrow arrays for output, and their JSON form
//! in the scenario format.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::Array;
use arrow_schema::DataType as ArrowType;
use serde_json::Value as Json;

use crate::time::format_timestamp;
use crate::types::DataType;

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
    Window { start: i64, end: i64 },
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
            (Value::Double(a), Value::Double(b)) => a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())),
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
            ArrowType::Struct(_) => {
                let s = array.as_struct();
                let start = s.column(0).as_primitive::<TimestampMicrosecondType>().value(i);
                let end = s.column(1).as_primitive::<TimestampMicrosecondType>().value(i);
                Value::Window { start, end }
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
        }
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
            Value::Array(items) => {
                format!("[{}]", items.iter().map(|v| v.to_spark_string()).collect::<Vec<_>>().join(", "))
            }
            Value::Window { start, end } => format!("{{{}, {}}}", format_timestamp(*start), format_timestamp(*end)),
        }
    }
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
