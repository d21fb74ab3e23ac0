use std::cmp::Ordering;

use arrow_array::{RecordBatch, UInt32Array};
use arrow_select::take::take_record_batch;

use super::{BatchContext, Operator, Watermarks};
use crate::error::Result;
use crate::plan::logical::SortKey;
use crate::value::Value;

/// ORDER BY over a batch's whole output (a complete-mode aggregation's result table).
pub struct SortOp {
    keys: Vec<SortKey>,
}

impl SortOp {
    pub fn new(keys: Vec<SortKey>) -> Self {
        SortOp { keys }
    }
}

impl Operator for SortOp {
    fn name(&self) -> &'static str {
        "sort"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        let columns = self.keys.iter().map(|k| k.expr.evaluate_to_array(&batch)).collect::<Result<Vec<_>>>()?;
        let values: Vec<Vec<Value>> =
            (0..batch.num_rows()).map(|i| columns.iter().map(|c| Value::from_array(c.as_ref(), i)).collect()).collect();
        let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
        order.sort_by(|&a, &b| {
            for (k, key) in self.keys.iter().enumerate() {
                let (x, y) = (&values[a as usize][k], &values[b as usize][k]);
                let ord = match (x.is_null(), y.is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => {
                        if key.nulls_first {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (false, true) => {
                        if key.nulls_first {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    _ => {
                        let o = x.compare(y);
                        if key.descending {
                            o.reverse()
                        } else {
                            o
                        }
                    }
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
        Ok(take_record_batch(&batch, &UInt32Array::from(order))?)
    }
}
