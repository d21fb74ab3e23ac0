//! Sinks: where each micro-batch's output goes.

use arrow_array::RecordBatch;

use crate::error::Result;

/// A sink receives every micro-batch's output with its batch id.
pub trait Sink {
    /// Commits `rows` as batch `batch_id`. Returns false when the sink skipped the batch
    /// because it had committed that id before (an idempotent replay).
    fn commit(&mut self, batch_id: u64, rows: &RecordBatch) -> Result<bool>;
}

/// One committed batch: the sink's version `version` holds batch `batch_id`'s rows.
#[derive(Debug, Clone)]
pub struct SinkVersion {
    pub version: u64,
    pub batch_id: u64,
    pub rows: RecordBatch,
}

/// The in-memory, transactional sink: every batch id is committed at most once (like a Delta
/// table written by `foreachBatch` with `txnVersion`), so a replayed batch is skipped.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    versions: Vec<SinkVersion>,
    skipped_replays: u64,
}

impl MemorySink {
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// Every committed batch, oldest first.
    pub fn versions(&self) -> &[SinkVersion] {
        &self.versions
    }

    pub fn last_batch_id(&self) -> Option<u64> {
        self.versions.last().map(|v| v.batch_id)
    }

    /// How many replayed batches were recognised and skipped.
    pub fn skipped_replays(&self) -> u64 {
        self.skipped_replays
    }
}

impl Sink for MemorySink {
    fn commit(&mut self, batch_id: u64, rows: &RecordBatch) -> Result<bool> {
        if self.last_batch_id().is_some_and(|last| batch_id <= last) {
            self.skipped_replays += 1;
            return Ok(false);
        }
        let version = self.versions.len() as u64;
        self.versions.push(SinkVersion { version, batch_id, rows: rows.clone() });
        Ok(true)
    }
}
