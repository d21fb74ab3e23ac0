//! Sinks: where each micro-batch's output goes. [`TableSink`] is transactional and idempotent
//! (a Delta table written by a streaming query: a replayed batch id is skipped); [`FileSink`]
//! is at-least-once (a plain file or a webhook: a replayed batch is written again).

mod file;
mod table;
pub mod time_travel;

pub use file::{FilePart, FileSink};
pub use table::{TableChange, TableSink, TableVersion};

use arrow_array::RecordBatch;

use crate::error::Result;

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
