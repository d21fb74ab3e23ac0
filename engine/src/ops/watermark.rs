use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::RecordBatch;

use super::{BatchContext, Operator, Watermarks};
use crate::error::Result;

/// `WATERMARK ts DELAY OF ...`: notes the largest event time of each batch, which the query
/// turns into the next batch's watermark. Rows pass through unchanged: late rows are dropped by
/// the stateful operator that would use them, not here (Spark's EventTimeWatermark does the same).
pub struct WatermarkOp {
    id: usize,
    event_time: usize,
}

impl WatermarkOp {
    pub fn new(id: usize, event_time: usize) -> Self {
        WatermarkOp { id, event_time }
    }
}

impl Operator for WatermarkOp {
    fn name(&self) -> &'static str {
        "watermark"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let times = batch.column(self.event_time).as_primitive::<TimestampMicrosecondType>();
        if let Some(max) = arrow_arith::aggregate::max(times) {
            let slot = &mut ctx.max_event_time[self.id];
            *slot = Some(slot.map_or(max, |m| m.max(max)));
        }
        Ok(batch)
    }
}
