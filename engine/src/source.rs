//! Replayable sources: an append-only log per source, addressed by offset (one offset per
//! record, good or bad), read one offset range per micro-batch. Rows are decoded into Arrow once,
//! when they are added; records whose values do not fit the schema are kept aside, with their
//! offsets, for the batch that reads them to route to the dead-letter output.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::time::parse_timestamp;
use crate::types::{DataType, Schema};

/// A record that could not be decoded, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRecord {
    pub source: String,
    pub offset: u64,
    pub row: Json,
    pub column: String,
    pub reason: String,
}

/// What one `add` appended: good rows as one Arrow batch, bad ones aside.
#[derive(Debug, Clone)]
struct Chunk {
    start: u64,
    end: u64,
    rows: RecordBatch,
    /// Offsets of the good rows when some records of the chunk were bad; None when contiguous.
    good_offsets: Option<Vec<u64>>,
    bad: Vec<BadRecord>,
}

#[derive(Debug, Clone)]
pub struct SourceLog {
    name: String,
    schema: Schema,
    arrow_schema: SchemaRef,
    chunks: Vec<Chunk>,
    /// What a read of no records gives (a no-data batch reads one every time): built once.
    empty: RecordBatch,
}

/// One micro-batch's read of a source.
#[derive(Debug, Clone)]
pub struct SourceRead {
    pub rows: RecordBatch,
    pub bad: Vec<BadRecord>,
}

impl SourceLog {
    pub fn new(name: &str, schema: Schema) -> Self {
        let arrow_schema = schema.to_arrow();
        let empty = RecordBatch::new_empty(arrow_schema.clone());
        SourceLog { name: name.to_string(), schema, arrow_schema, chunks: Vec::new(), empty }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The offset the next record will get: everything below it is available.
    pub fn latest_offset(&self) -> u64 {
        self.chunks.last().map(|c| c.end).unwrap_or(0)
    }

    /// Appends rows given as JSON arrays in schema order. A row of the wrong length is refused
    /// (nothing is appended); a value that does not fit its column makes the row a bad record.
    pub fn append_json(&mut self, rows: &[Json]) -> Result<()> {
        let width = self.schema.len();
        for (i, row) in rows.iter().enumerate() {
            match row {
                Json::Array(values) if values.len() == width => {}
                Json::Array(values) => {
                    return Err(Error::invalid_input(format!(
                        "row {i} of `{}` has {} values, but the source has {width} columns ({})",
                        self.name,
                        values.len(),
                        self.schema.names().join(", ")
                    )))
                }
                _ => return Err(Error::invalid_input(format!("row {i} of `{}` must be a JSON array of {width} values", self.name))),
            }
        }
        let start = self.latest_offset();
        let (batch, good, bad) = decode_rows(&self.name, &self.schema, &self.arrow_schema, rows, start)?;
        let end = start + rows.len() as u64;
        let good_offsets = (!bad.is_empty()).then_some(good);
        self.chunks.push(Chunk { start, end, rows: batch, good_offsets, bad });
        Ok(())
    }

    /// Appends an already-typed batch (the fast path for generators and benchmarks).
    pub fn append_batch(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.schema().fields().len() != self.schema.len() {
            return Err(Error::invalid_input(format!("a batch for `{}` must have {} columns", self.name, self.schema.len())));
        }
        let batch = RecordBatch::try_new(self.arrow_schema.clone(), batch.columns().to_vec())
            .map_err(|e| Error::invalid_input(format!("a batch for `{}` does not match its schema: {e}", self.name)))?;
        let start = self.latest_offset();
        let end = start + batch.num_rows() as u64;
        self.chunks.push(Chunk { start, end, rows: batch, good_offsets: None, bad: Vec::new() });
        Ok(())
    }

    /// Reads offsets `[from, to)`: slices of the stored batches (no copy when one chunk covers
    /// the range) and the bad records in the range.
    pub fn read(&self, from: u64, to: u64) -> Result<SourceRead> {
        let mut parts = Vec::new();
        let mut bad = Vec::new();
        let first = self.chunks.partition_point(|c| c.end <= from);
        for c in &self.chunks[first..] {
            if c.start >= to {
                break;
            }
            let (lo, hi) = (from.max(c.start), to.min(c.end));
            let (a, b) = match &c.good_offsets {
                None => ((lo - c.start) as usize, (hi - c.start) as usize),
                Some(offs) => (offs.partition_point(|&o| o < lo), offs.partition_point(|&o| o < hi)),
            };
            if b > a {
                parts.push(c.rows.slice(a, b - a));
            }
            bad.extend(c.bad.iter().filter(|r| r.offset >= lo && r.offset < hi).cloned());
        }
        let rows = match parts.len() {
            0 => self.empty.clone(),
            1 => parts.remove(0),
            _ => arrow_select::concat::concat_batches(&self.arrow_schema, &parts)?,
        };
        Ok(SourceRead { rows, bad })
    }
}

/// Decodes JSON rows column by column. Returns the good rows, their offsets and the bad records.
fn decode_rows(
    source: &str,
    schema: &Schema,
    arrow_schema: &SchemaRef,
    rows: &[Json],
    start: u64,
) -> Result<(RecordBatch, Vec<u64>, Vec<BadRecord>)> {
    // First pass: find bad rows, so the builders only see good ones.
    let mut bad = Vec::new();
    let mut good = Vec::with_capacity(rows.len());
    let mut good_rows: Vec<&Vec<Json>> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let Json::Array(values) = row else { continue };
        let offset = start + i as u64;
        match values.iter().zip(&schema.columns).find_map(|(v, c)| check_value(v, &c.data_type).err().map(|r| (c, r))) {
            Some((col, reason)) => bad.push(BadRecord {
                source: source.to_string(),
                offset,
                row: row.clone(),
                column: col.name.clone(),
                reason: format!("column `{}` ({}): {reason}", col.name, col.data_type),
            }),
            None => {
                good.push(offset);
                good_rows.push(values);
            }
        }
    }
    let n = good_rows.len();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.len());
    for (k, col) in schema.columns.iter().enumerate() {
        let cells = good_rows.iter().map(|r| &r[k]);
        let array: ArrayRef = match col.data_type {
            DataType::String => {
                let mut b = StringBuilder::with_capacity(n, n * 8);
                for v in cells {
                    match v {
                        Json::Null => b.append_null(),
                        Json::String(s) => b.append_value(s),
                        other => b.append_value(other.to_string()),
                    }
                }
                Arc::new(b.finish())
            }
            DataType::Int => {
                let mut b = Int32Builder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_i64().map(|x| x as i32)));
                Arc::new(b.finish())
            }
            DataType::BigInt => {
                let mut b = Int64Builder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_i64()));
                Arc::new(b.finish())
            }
            DataType::Double => {
                let mut b = Float64Builder::with_capacity(n);
                cells.for_each(|v| b.append_option(json_double(v)));
                Arc::new(b.finish())
            }
            DataType::Boolean => {
                let mut b = BooleanBuilder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_bool()));
                Arc::new(b.finish())
            }
            DataType::Timestamp => {
                let mut b = TimestampMicrosecondBuilder::with_capacity(n);
                cells.for_each(|v| b.append_option(v.as_str().and_then(parse_timestamp)));
                Arc::new(b.finish())
            }
            ref other => return Err(Error::invalid_input(format!("a source column cannot have type {other}"))),
        };
        columns.push(array);
    }
    let batch =
        RecordBatch::try_new_with_options(arrow_schema.clone(), columns, &arrow_array::RecordBatchOptions::new().with_row_count(Some(n)))?;
    Ok((batch, good, bad))
}

fn json_double(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Why `v` does not fit a column of type `t`, if it does not.
fn check_value(v: &Json, t: &DataType) -> Result<(), String> {
    if v.is_null() {
        return Ok(());
    }
    let ok = match t {
        DataType::String => !v.is_array() && !v.is_object(),
        DataType::Int => v.as_i64().is_some_and(|x| i32::try_from(x).is_ok()),
        DataType::BigInt => v.as_i64().is_some(),
        DataType::Double => json_double(v).is_some(),
        DataType::Boolean => v.is_boolean(),
        DataType::Timestamp => v.as_str().and_then(parse_timestamp).is_some(),
        _ => false,
    };
    if ok {
        return Ok(());
    }
    Err(match t {
        DataType::Int if v.as_i64().is_some() => format!("{v} is out of range for a 32-bit int"),
        DataType::Timestamp if v.is_string() => format!("{v} is not a timestamp (expected \"YYYY-MM-DD HH:MM:SS[.ffffff]\")"),
        _ => format!("{v} is not a valid {t}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Column;
    use crate::value::Value;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn log() -> SourceLog {
        SourceLog::new(
            "readings",
            Schema::new(vec![
                Column { name: "device".into(), data_type: DataType::String },
                Column { name: "humidity".into(), data_type: DataType::Int },
                Column { name: "ts".into(), data_type: DataType::Timestamp },
            ]),
        )
    }

    #[test]
    fn offsets_count_every_record_and_reads_slice_ranges() {
        let mut s = log();
        s.append_json(&[json!(["a", 1, "2026-01-01 00:00:01"]), json!(["b", null, "2026-01-01 00:00:02"])]).unwrap();
        s.append_json(&[json!(["c", 3, "2026-01-01 00:00:03"])]).unwrap();
        assert_eq!(s.latest_offset(), 3);
        let r = s.read(1, 3).unwrap();
        assert_eq!(r.rows.num_rows(), 2);
        assert_eq!(Value::from_array(r.rows.column(0).as_ref(), 0), Value::String("b".into()));
        assert_eq!(Value::from_array(r.rows.column(1).as_ref(), 0), Value::Null);
        assert_eq!(s.read(3, 3).unwrap().rows.num_rows(), 0);
    }

    #[test]
    fn bad_values_become_bad_records_at_their_offsets() {
        let mut s = log();
        s.append_json(&[
            json!(["a", 1, "2026-01-01 00:00:01"]),
            json!(["b", "many", "2026-01-01 00:00:02"]),
            json!(["c", 3, "yesterday"]),
            json!(["d", 4, "2026-01-01 00:00:04"]),
            json!(["e", 3000000000i64, "2026-01-01 00:00:05"]),
        ])
        .unwrap();
        let all = s.read(0, 5).unwrap();
        assert_eq!(all.rows.num_rows(), 2);
        assert_eq!(all.bad.iter().map(|b| b.offset).collect::<Vec<_>>(), vec![1, 2, 4]);
        assert!(all.bad[0].reason.contains("`humidity`"), "{}", all.bad[0].reason);
        assert!(all.bad[1].reason.contains("not a timestamp"), "{}", all.bad[1].reason);
        assert!(all.bad[2].reason.contains("out of range"), "{}", all.bad[2].reason);
        // A range that starts after the first bad record sees only what is in it.
        let tail = s.read(2, 4).unwrap();
        assert_eq!(tail.rows.num_rows(), 1);
        assert_eq!(tail.bad.len(), 1);
    }

    #[test]
    fn wrong_arity_is_refused_whole() {
        let mut s = log();
        let e = s.append_json(&[json!(["a", 1, "2026-01-01 00:00:01"]), json!(["b", 2])]).unwrap_err();
        assert!(e.message.contains("row 1"), "{}", e.message);
        assert_eq!(s.latest_offset(), 0);
    }
}
