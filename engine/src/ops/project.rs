use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;

use super::{BatchContext, Operator, Watermarks};
use crate::error::Result;
use crate::expr::Expr;

/// Computes the output columns; a bare column reference shares the input's array.
pub struct ProjectOp {
    exprs: Vec<Expr>,
    schema: SchemaRef,
}

impl ProjectOp {
    pub fn new(exprs: Vec<Expr>, schema: SchemaRef) -> Self {
        ProjectOp { exprs, schema }
    }
}

impl Operator for ProjectOp {
    fn name(&self) -> &'static str {
        "project"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let columns = self.exprs.iter().map(|e| e.evaluate_to_array(&batch)).collect::<Result<Vec<_>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        Ok(RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?)
    }
}
