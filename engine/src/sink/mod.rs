//! Sinks: where each micro-batch's output goes. [`TableSink`] is transactional and idempotent
//! (a Delta table written by a streaming query: a replayed batch id is skipped); [`FileSink`]
//! is at-least-once (a plain file or a webhook: a replayed batch is written again). Both keep
//! the batches as Arrow record batches and store them in a binary columnar form
//! ([`columnar`]); rows become JSON only when something shows them.

mod columnar;
mod file;
mod legacy;
mod table;
pub mod time_travel;

pub use file::{FilePart, FileSink};
pub use table::{TableChange, TableSink, TableVersion};

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::value::Value;

/// One micro-batch's output as a sink receives it.
pub struct BatchWrite<'a> {
    /// The query's id: with the batch id, what makes a write idempotent (Delta's `txnAppId`).
    pub query_id: &'a str,
    pub batch_id: u64,
    pub rows: &'a RecordBatch,
}

pub trait Sink {
    fn name(&self) -> &str;
    /// Writes one batch. Returns false when the sink recognised a replay and skipped it.
    fn write(&mut self, batch: &BatchWrite) -> Result<bool>;
}

/// Row `i` of `batch` as the scenario format writes it: a JSON array of its cells.
pub(crate) fn row_json(batch: &RecordBatch, i: usize) -> Json {
    Json::Array(batch.columns().iter().map(|c| Value::from_array(c.as_ref(), i).to_json()).collect())
}

/// Every row of `batch` as JSON.
pub(crate) fn batch_json(batch: &RecordBatch) -> Vec<Json> {
    (0..batch.num_rows()).map(|i| row_json(batch, i)).collect()
}

/// `batch`'s columns under the sink's schema (its names; a column of another type is refused),
/// so every batch a sink keeps has one schema whether it was written now or read back.
fn conform(batch: &RecordBatch, schema: &SchemaRef, sink: &str) -> Result<RecordBatch> {
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(schema.clone(), batch.columns().to_vec(), &options)
        .map_err(|e| Error::internal(format!("the batch written to `{sink}` does not have the sink's columns: {e}")))
}

/// Appends a length-prefixed string (the binary files' metadata).
fn put_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}
