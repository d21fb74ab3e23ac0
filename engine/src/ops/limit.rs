use arrow_array::RecordBatch;

use super::{BatchContext, Operator, StateOperatorProgress, Watermarks};
use crate::error::Result;
use crate::state::{KeyedState, StateTable};

/// A streaming LIMIT: in append mode Spark keeps the number of rows emitted so far in state
/// (one row), so the limit holds across micro-batches and restarts; in complete mode it limits
/// each batch's whole result.
pub struct LimitOp {
    limit: usize,
    /// Rows emitted so far, as one state row under the empty key.
    emitted: KeyedState<u64>,
    updated: bool,
    /// Whether the count runs across batches (append) or starts afresh each batch (complete).
    global: bool,
}

impl LimitOp {
    pub fn new(limit: usize, global: bool) -> Self {
        LimitOp { limit, emitted: KeyedState::new(), updated: false, global }
    }
}

impl Operator for LimitOp {
    fn name(&self) -> &'static str {
        "globalLimit"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        if !self.global {
            return Ok(batch.slice(0, self.limit.min(batch.num_rows())));
        }
        let emitted = self.emitted.get(b"").copied().unwrap_or(0);
        let take = (self.limit as u64).saturating_sub(emitted).min(batch.num_rows() as u64);
        self.updated = batch.num_rows() > 0;
        if self.updated {
            self.emitted.insert(Vec::new(), emitted.saturating_add(take));
        }
        let take = take as usize;
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
            ..Default::default()
        })
    }

    fn state_table_names(&self) -> &'static [&'static str] {
        if self.global {
            &["default"]
        } else {
            &[]
        }
    }

    fn state_tables(&mut self) -> Vec<&mut dyn StateTable> {
        if self.global {
            vec![&mut self.emitted]
        } else {
            Vec::new()
        }
    }

    fn state_tables_ref(&self) -> Vec<&dyn StateTable> {
        if self.global {
            vec![&self.emitted]
        } else {
            Vec::new()
        }
    }

    fn check_state(&self) -> std::result::Result<(), String> {
        match self.emitted.iter().find(|(k, _)| !k.is_empty()) {
            Some((k, _)) => Err(format!("the limit's state has a key {k:?}; its only key is the empty one")),
            None => Ok(()),
        }
    }
}
