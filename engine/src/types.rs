//! The SQL types the engine knows (the scenario format's six, plus what expressions produce) and
//! how each maps onto Arrow.

use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType as ArrowType, Field, Fields, TimeUnit};

pub mod ddl;
pub mod decimal;

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
    /// Days since the epoch.
    Date,
    Binary,
    /// `struct<a:int,b:string>`: named fields, in order.
    Struct(Vec<(String, DataType)>),
    /// `map<K,V>`.
    Map(Box<DataType>, Box<DataType>),
    /// `decimal(precision, scale)`: up to 38 digits, `scale` of them after the point.
    Decimal(u8, u8),
}

impl DataType {
    /// Parses a scenario schema type name as Spark's DDL writes it (`string`, `int`, `date`,
    /// `array<string>`, `struct<a:int,b:string>`, `map<string,int>`, ...).
    pub fn from_schema_name(name: &str) -> Option<DataType> {
        crate::types::ddl::parse_type(name).ok()
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, DataType::Int | DataType::BigInt | DataType::Double)
    }

    /// The precision and scale of a decimal type.
    pub fn decimal(&self) -> Option<(u8, u8)> {
        match self {
            DataType::Decimal(p, s) => Some((*p, *s)),
            _ => None,
        }
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
            DataType::Date => ArrowType::Date32,
            DataType::Binary => ArrowType::Binary,
            DataType::Struct(fields) => ArrowType::Struct(struct_fields(fields)),
            DataType::Map(k, v) => ArrowType::Map(map_entries(k, v), false),
            DataType::Decimal(p, s) => ArrowType::Decimal128(*p, *s as i8),
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
            ArrowType::Struct(f) if *f == window_fields() => DataType::Window,
            ArrowType::Struct(f) => DataType::Struct(
                f.iter().map(|f| Some((f.name().clone(), DataType::from_arrow(f.data_type())?))).collect::<Option<Vec<_>>>()?,
            ),
            ArrowType::Date32 => DataType::Date,
            ArrowType::Binary => DataType::Binary,
            ArrowType::Decimal128(p, s) if *s >= 0 && *s as u8 <= *p && *p <= decimal::MAX_PRECISION => DataType::Decimal(*p, *s as u8),
            ArrowType::Map(entries, _) => match entries.data_type() {
                ArrowType::Struct(kv) if kv.len() == 2 => {
                    DataType::Map(Box::new(DataType::from_arrow(kv[0].data_type())?), Box::new(DataType::from_arrow(kv[1].data_type())?))
                }
                _ => return None,
            },
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
            DataType::Date => "DATE".into(),
            DataType::Binary => "BINARY".into(),
            DataType::Struct(fields) => {
                format!("STRUCT<{}>", fields.iter().map(|(n, t)| format!("{n}: {}", t.spark_name())).collect::<Vec<_>>().join(", "))
            }
            DataType::Map(k, v) => format!("MAP<{}, {}>", k.spark_name(), v.spark_name()),
            DataType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
        }
    }

    /// The type as Spark's `simpleString` writes it, as in a DDL schema (`struct<a:int,b:string>`).
    pub fn ddl_name(&self) -> String {
        match self {
            DataType::Array(inner) => format!("array<{}>", inner.ddl_name()),
            DataType::Window => "struct<start:timestamp,end:timestamp>".into(),
            DataType::Struct(fields) => {
                format!("struct<{}>", fields.iter().map(|(n, t)| format!("{n}:{}", t.ddl_name())).collect::<Vec<_>>().join(","))
            }
            DataType::Map(k, v) => format!("map<{},{}>", k.ddl_name(), v.ddl_name()),
            DataType::Null => "void".into(),
            other => other.spark_name().to_ascii_lowercase(),
        }
    }

    /// The fields of a struct type (a window's `start` and `end` too).
    pub fn struct_fields(&self) -> Option<Vec<(String, DataType)>> {
        match self {
            DataType::Struct(f) => Some(f.clone()),
            DataType::Window => Some(vec![("start".into(), DataType::Timestamp), ("end".into(), DataType::Timestamp)]),
            _ => None,
        }
    }
}

/// The Arrow fields of a struct type's fields, all nullable.
pub fn struct_fields(fields: &[(String, DataType)]) -> Fields {
    Fields::from(fields.iter().map(|(n, t)| Field::new(n, t.to_arrow(), true)).collect::<Vec<_>>())
}

/// The entries field of a map: Arrow's `entries: struct<key, value>`, keys never NULL.
pub fn map_entries(k: &DataType, v: &DataType) -> Arc<Field> {
    Arc::new(Field::new("entries", ArrowType::Struct(map_key_value(k, v)), false))
}

/// The `key` and `value` fields of a map's entries.
pub fn map_key_value(k: &DataType, v: &DataType) -> Fields {
    Fields::from(vec![Field::new("key", k.to_arrow(), false), Field::new("value", v.to_arrow(), true)])
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spark_name().to_ascii_lowercase())
    }
}

/// A window's `{start, end}` fields. Made once: a batch with a window column asks for them
/// several times (types, arrays, key encoding), and each making was four allocations.
pub fn window_fields() -> Fields {
    static FIELDS: std::sync::OnceLock<Fields> = std::sync::OnceLock::new();
    FIELDS
        .get_or_init(|| {
            let ts = ArrowType::Timestamp(TimeUnit::Microsecond, None);
            Fields::from(vec![Field::new("start", ts.clone(), true), Field::new("end", ts, true)])
        })
        .clone()
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
