//! Reading sink files written by earlier releases, which kept rows as JSON text (the scenario
//! format's cells): saved sessions still hold them, so they must open.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use serde_json::Value as Json;

use crate::time::parse_timestamp;
use crate::types::{DataType, Schema};
use crate::value::{rows_to_batch, Value};

/// The rows of an old file as a batch of the table's columns; why not, when a row does not fit.
pub fn rows_from_json(rows: &[Json], schema: &Schema, arrow: &SchemaRef) -> Result<RecordBatch, String> {
    let types: Vec<DataType> = schema.columns.iter().map(|c| c.data_type.clone()).collect();
    let mut values = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let cells = match row {
            Json::Array(cells) if cells.len() == types.len() => cells,
            _ => return Err(format!("its row {i} is not an array of the table's {} columns: {row}", types.len())),
        };
        let row_values = cells
            .iter()
            .zip(&schema.columns)
            .map(|(cell, c)| {
                value(cell, &c.data_type).ok_or_else(|| format!("its row {i} holds {cell} in column `{}` ({})", c.name, c.data_type))
            })
            .collect::<Result<Vec<Value>, String>>()?;
        values.push(row_values);
    }
    rows_to_batch(values.into_iter(), &types, arrow).map_err(|e| e.message)
}

/// A cell as `Value::to_json` wrote it.
fn value(cell: &Json, t: &DataType) -> Option<Value> {
    if cell.is_null() {
        return Some(Value::Null);
    }
    let timestamp = |j: &Json| j.as_str().and_then(parse_timestamp);
    Some(match t {
        DataType::Null => return None,
        DataType::String => Value::String(cell.as_str()?.to_string()),
        DataType::Int => Value::Int(i32::try_from(cell.as_i64()?).ok()?),
        DataType::BigInt => Value::BigInt(cell.as_i64()?),
        DataType::Double => Value::Double(match cell {
            Json::String(s) if s == "NaN" => f64::NAN,
            Json::String(s) if s == "Infinity" => f64::INFINITY,
            Json::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
            other => other.as_f64()?,
        }),
        DataType::Boolean => Value::Boolean(cell.as_bool()?),
        DataType::Timestamp => Value::Timestamp(timestamp(cell)?),
        DataType::Window => Value::Window { start: timestamp(cell.get("start")?)?, end: timestamp(cell.get("end")?)? },
        DataType::Array(inner) => Value::Array(cell.as_array()?.iter().map(|c| value(c, inner)).collect::<Option<Vec<_>>>()?),
        other => return Value::from_json(cell, other).ok(),
    })
}
