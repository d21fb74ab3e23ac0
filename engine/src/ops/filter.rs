use arrow_array::RecordBatch;
use arrow_select::filter::filter_record_batch;

use super::{BatchContext, Operator, Watermarks};
use crate::error::Result;
use crate::expr::Expr;

/// Keeps the rows whose predicate is true (NULL counts as false).
pub struct FilterOp {
    predicate: Expr,
}

impl FilterOp {
    pub fn new(predicate: Expr) -> Self {
        FilterOp { predicate }
    }
}

impl Operator for FilterOp {
    fn name(&self) -> &'static str {
        "filter"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        if batch.num_rows() == 0 {
            return Ok(batch);
        }
        let mask = self.predicate.evaluate_predicate(&batch)?;
        if mask.true_count() == batch.num_rows() {
            return Ok(batch);
        }
        Ok(filter_record_batch(&batch, &mask)?)
    }
}
