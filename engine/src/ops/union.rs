use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::{BatchContext, Operator, Watermarks};
use crate::error::Result;

/// UNION ALL: this batch's rows of every input, one after the other.
pub struct UnionOp {
    schema: SchemaRef,
}

impl UnionOp {
    pub fn new(schema: SchemaRef) -> Self {
        UnionOp { schema }
    }
}

impl Operator for UnionOp {
    fn name(&self) -> &'static str {
        "union"
    }

    fn on_batch(&mut self, inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        // Inputs carry their own column names; the union's are the first input's.
        let renamed = inputs
            .into_iter()
            .filter(|b| b.num_rows() > 0)
            .map(|b| RecordBatch::try_new(self.schema.clone(), b.columns().to_vec()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(arrow_select::concat::concat_batches(&self.schema, &renamed)?)
    }
}
