//! The SQL types the engine knows (the scenario format's six, plus what expressions produce) and
//! how each maps onto Arrow.

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType as ArrowType, Field, Fields, TimeUnit};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    /// The type of a bare `NULL` literal; coerces to anything.
    Null,
    String,
    Int,
    BigInt,
    Double,
    Boolean,
    /// Microseconds since the epoch, UTC.
    Timestamp,
    /// `split(...)`, `collect_list(...)`.
    Array(Box<DataType>),
    /// The `{start, end}` struct of `window(...)` and `session_window(...)`.
    Window,
}

impl DataType {
    /// Parses a scenario schema type name (`string`, `int`, ...).
    pub fn from_schema_name(name: &str) -> Option<DataType> {
        match name.to_ascii_lowercase().as_str() {
            "string" => Some(DataType::String),
            "int" | "integer" => Some(DataType::Int),
            "bigint" | "long" => Some(DataType::BigInt),
            "double" => Some(DataType::Double),
            "boolean" | "bool" => Some(DataType::Boolean),
            "timestamp" => Some(DataType::Timestamp),
            _ => None,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, DataType::Int | DataType::BigInt | DataType::Double)
    }

    pub fn is_integral(&self) -> bool {
        matches!(self, DataType::Int | DataType::BigInt)
    }

    pub fn to_arrow(&self) -> ArrowType {
        match self {
            DataType::Null => ArrowType::Null,
            DataType::String => ArrowType::Utf8,
            DataType::Int => ArrowType::Int32,
            DataType::BigInt => ArrowType::Int64,
            DataType::Double => ArrowType::Float64,
            DataType::Boolean => ArrowType::Boolean,
            DataType::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Array(inner) => ArrowType::List(Arc::new(Field::new("element", inner.to_arrow(), true))),
            DataType::Window => ArrowType::Struct(window_fields()),
        }
    }

    pub fn from_arrow(t: &ArrowType) -> Option<DataType> {
        Some(match t {
            ArrowType::Null => DataType::Null,
            ArrowType::Utf8 => DataType::String,
            ArrowType::Int32 => DataType::Int,
            ArrowType::Int64 => DataType::BigInt,
            ArrowType::Float64 => DataType::Double,
            ArrowType::Boolean => DataType::Boolean,
            ArrowType::Timestamp(TimeUnit::Microsecond, _) => DataType::Timestamp,
            ArrowType::List(f) => DataType::Array(Box::new(DataType::from_arrow(f.data_type())?)),
            ArrowType::Struct(_) => DataType::Window,
            _ => return None,
        })
    }

    /// The name Spark prints in error messages (`"DOUBLE"`).
    pub fn spark_name(&self) -> String {
        match self {
            DataType::Null => "VOID".into(),
            DataType::String => "STRING".into(),
            DataType::Int => "INT".into(),
            DataType::BigInt => "BIGINT".into(),
            DataType::Double => "DOUBLE".into(),
            DataType::Boolean => "BOOLEAN".into(),
            DataType::Timestamp => "TIMESTAMP".into(),
            DataType::Array(inner) => format!("ARRAY<{}>", inner.spark_name()),
            DataType::Window => "STRUCT<start: TIMESTAMP, end: TIMESTAMP>".into(),
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spark_name().to_ascii_lowercase())
    }
}

pub fn window_fields() -> Fields {
    let ts = ArrowType::Timestamp(TimeUnit::Microsecond, None);
    Fields::from(vec![Field::new("start", ts.clone(), true), Field::new("end", ts, true)])
}

/// A named, typed column of a source, a table or a query result.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
}

/// Column names and types in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub columns: Vec<Column>,
}

impl Schema {
    pub fn new(columns: Vec<Column>) -> Self {
        Schema { columns }
    }

    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    pub fn to_arrow(&self) -> arrow_schema::SchemaRef {
        Arc::new(arrow_schema::Schema::new(
            self.columns.iter().map(|c| Field::new(&c.name, c.data_type.to_arrow(), true)).collect::<Vec<_>>(),
        ))
    }
}
