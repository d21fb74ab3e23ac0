use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use serde::Deserialize;
use serde_json::Value as Json;

use super::columnar::{read_batch, write_batch, Reader};
use super::{batch_json, conform, legacy, row_json, BatchWrite, Sink};
use crate::checkpoint::{frame, unframe, CheckpointError};
use crate::error::{Error, Result};
use crate::storage::{Scoped, Storage};
use crate::types::Schema;

/// How a binary part starts; the byte after it is the format's version. A part written by an
/// earlier release is JSON text, which starts with `{`.
const MAGIC: &[u8] = b"\0UBFP";
const FORMAT: u8 = 1;

/// One write to the file: the batch that made it (for the page to show, never to deduplicate).
#[derive(Debug, Clone, PartialEq)]
pub struct FilePart {
    pub part: u64,
    pub batch_id: u64,
    /// The rows written, with the file's columns.
    pub rows: RecordBatch,
}

impl FilePart {
    /// The part's rows as the scenario format writes them.
    pub fn rows_json(&self) -> Vec<Json> {
        batch_json(&self.rows)
    }

    fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(FORMAT);
        out.extend_from_slice(&self.part.to_le_bytes());
        out.extend_from_slice(&self.batch_id.to_le_bytes());
        write_batch(&self.rows, &mut out)?;
        Ok(out)
    }

    /// A part file's body, in this release's binary form or an earlier one's JSON.
    fn decode(path: &str, body: &[u8], schema: &Schema, arrow: &SchemaRef) -> std::result::Result<Self, CheckpointError> {
        let damaged = |detail: String| CheckpointError::Damaged { path: path.to_string(), detail };
        let Some(binary) = body.strip_prefix(MAGIC) else {
            let p: JsonPart = serde_json::from_slice(body).map_err(|e| damaged(format!("it is not a part of the file sink ({e})")))?;
            let rows = legacy::rows_from_json(&p.rows, schema, arrow).map_err(damaged)?;
            return Ok(FilePart { part: p.part, batch_id: p.batch_id, rows });
        };
        let read = |r: &mut Reader| -> std::result::Result<FilePart, String> {
            let format = r.u8()?;
            if format != FORMAT {
                return Err(format!("it is a file sink part of format {format}; this release reads format {FORMAT}"));
            }
            let (part, batch_id) = (r.u64()?, r.u64()?);
            let (rows, rest) = read_batch(&r.bytes[r.at..], schema, arrow)?;
            if !rest.is_empty() {
                return Err(format!("{} bytes follow its rows", rest.len()));
            }
            Ok(FilePart { part, batch_id, rows })
        };
        read(&mut Reader { bytes: binary, at: 0 }).map_err(damaged)
    }
}

/// A part as releases before the binary format wrote it.
#[derive(Deserialize)]
struct JsonPart {
    part: u64,
    batch_id: u64,
    rows: Vec<Json>,
}

/// An at-least-once sink, like a plain CSV directory or a webhook: every write adds a part file
/// (`part-<n>`), and nothing remembers which batches were written, so a batch replayed after a
/// crash is written again. It exists to show why exactly-once needs an idempotent sink.
pub struct FileSink {
    name: String,
    storage: Scoped,
    arrow: SchemaRef,
    parts: Vec<FilePart>,
}

impl FileSink {
    /// Opens the file stored under `storage`, whose rows have `schema`, with every part so far.
    pub fn open(name: &str, storage: Scoped, schema: &Schema) -> Result<Self> {
        let arrow = schema.to_arrow();
        let mut parts = Vec::new();
        for file in storage.list("").map_err(Error::from)? {
            let path = format!("{}/{file}", storage.prefix());
            let bytes = storage.read(&file).map_err(Error::from)?.unwrap_or_default();
            parts.push(FilePart::decode(&path, unframe(&path, &bytes)?, schema, &arrow)?);
        }
        parts.sort_by_key(|p| p.part);
        Ok(FileSink { name: name.to_string(), storage, arrow, parts })
    }

    /// Every write, oldest first.
    pub fn parts(&self) -> &[FilePart] {
        &self.parts
    }

    /// How many rows were written, duplicates included.
    pub fn num_rows(&self) -> usize {
        self.parts.iter().map(|p| p.rows.num_rows()).sum()
    }

    /// Everything written, duplicates included, as JSON.
    pub fn rows_json(&self) -> Vec<Json> {
        self.parts.iter().flat_map(FilePart::rows_json).collect()
    }

    /// The last `n` rows written (all, when there are fewer), oldest first, read from the last
    /// parts only.
    pub fn newest_rows_json(&self, n: usize) -> Vec<Json> {
        let mut out = Vec::new();
        for part in self.parts.iter().rev() {
            let rows = part.rows.num_rows();
            for i in (0..rows).rev() {
                if out.len() == n {
                    break;
                }
                out.push(row_json(&part.rows, i));
            }
        }
        out.reverse();
        out
    }
}

impl Sink for FileSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, batch: &BatchWrite) -> Result<bool> {
        let part =
            FilePart { part: self.parts.len() as u64, batch_id: batch.batch_id, rows: conform(batch.rows, &self.arrow, &self.name)? };
        self.storage.write(&format!("part-{:06}", part.part), &frame(&part.encode()?)).map_err(Error::from)?;
        self.parts.push(part);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};

    use super::*;
    use crate::storage::SharedStorage;
    use crate::types::{Column, DataType};

    fn schema() -> Schema {
        Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "n".into(), data_type: DataType::BigInt },
        ])
    }

    fn batch(rows: &[(&str, i64)]) -> RecordBatch {
        let devices: StringArray = rows.iter().map(|r| Some(r.0)).collect();
        let n: Int64Array = rows.iter().map(|r| Some(r.1)).collect();
        RecordBatch::try_new(schema().to_arrow(), vec![Arc::new(devices), Arc::new(n)]).unwrap()
    }

    #[test]
    fn parts_read_back_and_the_newest_rows_come_from_the_last_parts() {
        let storage = SharedStorage::memory();
        let mut f = FileSink::open("sink", storage.scoped("files/sink"), &schema()).unwrap();
        for (id, rows) in [(0, batch(&[("a", 1), ("b", 2)])), (1, batch(&[("c", 3)])), (1, batch(&[("c", 3)]))] {
            f.write(&BatchWrite { query_id: "q", batch_id: id, rows: &rows }).unwrap();
        }
        let again = FileSink::open("sink", storage.scoped("files/sink"), &schema()).unwrap();
        assert_eq!(again.parts(), f.parts());
        assert_eq!(again.num_rows(), 4);
        assert_eq!(again.rows_json(), vec![json!(["a", 1]), json!(["b", 2]), json!(["c", 3]), json!(["c", 3])]);
        assert_eq!(again.newest_rows_json(3), vec![json!(["b", 2]), json!(["c", 3]), json!(["c", 3])]);
        assert_eq!(again.newest_rows_json(9).len(), 4);
    }

    #[test]
    fn a_json_part_of_an_earlier_release_still_opens() {
        let storage = SharedStorage::memory();
        // As releases before the binary format wrote a part.
        let body = br#"{"part":0,"batch_id":4,"rows":[["a",1],["b",null]]}"#;
        storage.scoped("files/sink").write("part-000000", &frame(body)).unwrap();
        let mut f = FileSink::open("sink", storage.scoped("files/sink"), &schema()).unwrap();
        assert_eq!((f.parts()[0].part, f.parts()[0].batch_id), (0, 4));
        f.write(&BatchWrite { query_id: "q", batch_id: 5, rows: &batch(&[("c", 3)]) }).unwrap();
        let again = FileSink::open("sink", storage.scoped("files/sink"), &schema()).unwrap();
        assert_eq!(again.rows_json(), vec![json!(["a", 1]), json!(["b", null]), json!(["c", 3])]);
    }

    #[test]
    fn a_damaged_part_is_refused_with_its_path() {
        let storage = SharedStorage::memory();
        let mut f = FileSink::open("sink", storage.scoped("files/sink"), &schema()).unwrap();
        f.write(&BatchWrite { query_id: "q", batch_id: 0, rows: &batch(&[("a", 1)]) }).unwrap();
        let bytes = storage.scoped("files/sink").read("part-000000").unwrap().unwrap();
        let body = unframe("part", &bytes).unwrap();
        let mut scoped = storage.scoped("files/sink");
        scoped.write("part-000000", &frame(&body[..body.len() - 1])).unwrap();
        let Err(e) = FileSink::open("sink", storage.scoped("files/sink"), &schema()) else { panic!("a cut part was read") };
        assert!(e.message.contains("files/sink/part-000000") && e.message.contains("cut short"), "{}", e.message);
    }

    use serde_json::json;
}
