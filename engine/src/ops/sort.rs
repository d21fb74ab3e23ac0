use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt32Array};
use arrow_ord::sort::{LexicographicalComparator, SortColumn, SortOptions};
use arrow_schema::DataType as ArrowType;
use arrow_select::take::take_record_batch;

use super::{BatchContext, Operator, Watermarks};
use crate::error::Result;
use crate::plan::logical::SortKey;

/// ORDER BY over a batch's whole output (a complete-mode aggregation's result table), compared
/// column-wise by arrow-ord; rows that tie keep their order.
pub struct SortOp {
    keys: Vec<SortKey>,
}

impl SortOp {
    pub fn new(keys: Vec<SortKey>) -> Self {
        SortOp { keys }
    }
}

/// Spark orders doubles with NaN above everything and -0.0 equal to 0.0; arrow-ord's total
/// order puts a NaN with its sign bit set (what 0.0 / 0.0 gives on x86) below everything and
/// -0.0 below 0.0. One NaN and one zero make the two agree.
fn spark_order(column: ArrayRef) -> ArrayRef {
    match column.data_type() {
        ArrowType::Float64 => {
            let normal: Float64Array = column.as_primitive::<Float64Type>().unary(|v| {
                if v.is_nan() {
                    f64::NAN
                } else if v == 0.0 {
                    0.0
                } else {
                    v
                }
            });
            Arc::new(normal)
        }
        _ => column,
    }
}

impl Operator for SortOp {
    fn name(&self) -> &'static str {
        "sort"
    }

    fn on_batch(&mut self, mut inputs: Vec<RecordBatch>, _watermarks: Watermarks, _ctx: &mut BatchContext) -> Result<RecordBatch> {
        let batch = inputs.remove(0);
        if self.keys.is_empty() || batch.num_rows() < 2 {
            return Ok(batch);
        }
        let columns = self
            .keys
            .iter()
            .map(|k| {
                let values = spark_order(k.expr.evaluate_to_array(&batch)?);
                Ok(SortColumn { values, options: Some(SortOptions { descending: k.descending, nulls_first: k.nulls_first }) })
            })
            .collect::<Result<Vec<_>>>()?;
        let comparator = LexicographicalComparator::try_new(&columns)?;
        let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
        order.sort_by(|&a, &b| comparator.compare(a as usize, b as usize));
        Ok(take_record_batch(&batch, &UInt32Array::from(order))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;
    use crate::types::DataType;
    use crate::value::{values_to_array, Value};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn sorted(values: Vec<Value>, t: DataType, descending: bool, nulls_first: bool) -> Vec<Value> {
        let tags: Vec<Value> = (0..values.len() as i32).map(Value::Int).collect();
        let schema = Arc::new(arrow_schema::Schema::new(vec![
            arrow_schema::Field::new("v", t.to_arrow(), true),
            arrow_schema::Field::new("i", arrow_schema::DataType::Int32, true),
        ]));
        let batch = RecordBatch::try_new(schema, vec![values_to_array(&values, &t), values_to_array(&tags, &DataType::Int)]).unwrap();
        let mut op = SortOp::new(vec![SortKey { expr: Expr::column(0, t), descending, nulls_first }]);
        let mut ctx = BatchContext {
            sources: &[],
            watermarks: Watermarks::default(),
            max_event_time: vec![],
            late_rows: vec![],
            operator_watermarks: vec![],
        };
        let out = op.on_batch(vec![batch], Watermarks::default(), &mut ctx).unwrap();
        (0..out.num_rows()).map(|i| Value::from_array(out.column(1).as_ref(), i)).collect()
    }

    fn ints(v: &[i32]) -> Vec<Value> {
        v.iter().map(|&i| Value::Int(i)).collect()
    }

    #[test]
    fn doubles_sort_as_spark_sorts_them() {
        // The NaN x86 makes of 0.0 / 0.0: its sign bit set.
        let nan_from_division = f64::from_bits(0xfff8_0000_0000_0000);
        let values = vec![
            Value::Double(1.0),
            Value::Double(nan_from_division),
            Value::Null,
            Value::Double(-0.0),
            Value::Double(0.0),
            Value::Double(-5.0),
        ];
        // NaN above everything, -0.0 = 0.0 (ties keep their order), NULLs where asked.
        assert_eq!(sorted(values.clone(), DataType::Double, false, true), ints(&[2, 5, 3, 4, 0, 1]));
        assert_eq!(sorted(values.clone(), DataType::Double, false, false), ints(&[5, 3, 4, 0, 1, 2]));
        assert_eq!(sorted(values, DataType::Double, true, false), ints(&[1, 0, 3, 4, 5, 2]));
    }

    #[test]
    fn strings_and_windows_sort_and_ties_keep_their_order() {
        let s = |x: &str| Value::String(x.into());
        assert_eq!(sorted(vec![s("b"), s("a"), s("b"), s("B")], DataType::String, false, true), ints(&[3, 1, 0, 2]));
        let w = |start, end| Value::Window { start, end };
        assert_eq!(sorted(vec![w(10, 20), w(0, 10), w(0, 5)], DataType::Window, true, true), ints(&[0, 1, 2]));
    }
}
