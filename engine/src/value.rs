//! Single values: literals in plans, cells read out of Arrow arrays for output, and their JSON form
//! in the scenario format.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::Array;
use arrow_schema::DataType as ArrowType;
use serde_json::Value as Json;

use crate::time::format_timestamp;
use crate::types::DataType;

#[derive(Debug, Clone, PartialEq)]
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

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
