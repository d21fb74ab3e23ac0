use arrow_array::RecordBatch;

use super::{BatchContext, Operator, StateOperatorProgress};
use crate::error::{Error, Result};

/// A streaming LIMIT: in append mode Spark keeps the number of rows emitted so far in state
/// (one row), so the limit holds across micro-batches and restarts; in complete mode it limits
/// each batch's whole result.
pub struct LimitOp {
    limit: usize,
    emitted: usize,
    updated: bool,
    /// Whether the count runs across batches (append) or starts afresh each batch (complete).
    global: bool,
}

impl LimitOp {
    pub fn new(limit: usize, global: bool) -> Self {
        LimitOp { limit, emitted: 0, updated: false, global }
    }
}

impl Operator for LimitOp {
    fn name(&self) -> &'static str {
        "globalLimit"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        if !self.global {
            return Ok(batch.slice(0, self.limit.min(batch.num_rows())));
        }
        let room = self.limit.saturating_sub(self.emitted);
        let take = room.min(batch.num_rows());
        self.updated = batch.num_rows() > 0;
        self.emitted += take;
        Ok(batch.slice(0, take))
    }

    fn state_progress(&self) -> Option<StateOperatorProgress> {
        if !self.global {
            return None;
        }
        Some(StateOperatorProgress {
            operator_name: self.name().to_string(),
            num_rows_total: 1,
            num_rows_updated: u64::from(self.updated),
            memory_used_bytes: 8,
            ..Default::default()
        })
    }

    fn checkpoint(&self) -> Option<Vec<u8>> {
        if !self.global {
            return None;
        }
        Some((self.emitted as u64).to_le_bytes().to_vec())
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<()> {
        let raw: [u8; 8] =
            bytes.try_into().map_err(|_| Error::invalid_input("the LIMIT state in the checkpoint is damaged (expected 8 bytes)"))?;
        self.emitted = u64::from_le_bytes(raw) as usize;
        Ok(())
    }
}
