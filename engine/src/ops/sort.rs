use std::cmp::Ordering;

use arrow_array::{RecordBatch, UInt32Array};
use arrow_select::take::take_record_batch;

use super::{BatchContext, Operator, Watermarks};
use crate::error::Result;
use crate::plan::logical::SortKey;
use crate::value::Value;

/// ORDER BY over a batch's whole output (a complete-mode aggregation's result table), compared
/// as values in Spark's order (`Value::compare`: NaN above every double, -0.0 equal to 0.0);
/// rows that tie keep their order. A result table is small; arrow-ord's comparator, built for
/// every Arrow type, was 4% of the engine's wasm code.
pub struct SortOp {
    keys: Vec<SortKey>,
}

impl SortOp {
    pub fn new(keys: Vec<SortKey>) -> Self {
        SortOp { keys }
    }
}

/// Two values of one sort key: NULLs first or last as asked, whichever the direction.
fn compare(key: &SortKey, a: &Value, b: &Value) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) if key.nulls_first => Ordering::Less,
        (true, false) => Ordering::Greater,
        (false, true) if key.nulls_first => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) if key.descending => b.compare(a),
        (false, false) => a.compare(b),
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
                let values = k.expr.evaluate_to_array(&batch)?;
                Ok((0..batch.num_rows()).map(|i| Value::from_array(values.as_ref(), i)).collect::<Vec<_>>())
            })
            .collect::<Result<Vec<_>>>()?;
        let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
        order.sort_by(|&a, &b| {
            self.keys
                .iter()
                .zip(&columns)
                .map(|(k, values)| compare(k, &values[a as usize], &values[b as usize]))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        Ok(take_record_batch(&batch, &UInt32Array::from(order))?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::expr::Expr;
    use crate::types::DataType;
    use crate::value::values_to_array;
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

    #[test]
    fn nulls_go_where_asked_in_either_direction() {
        let v = vec![Value::BigInt(i64::MAX), Value::Null, Value::BigInt(i64::MAX - 1), Value::BigInt(-3)];
        assert_eq!(sorted(v.clone(), DataType::BigInt, false, true), ints(&[1, 3, 2, 0]), "bigints near the top stay apart");
        assert_eq!(sorted(v.clone(), DataType::BigInt, true, true), ints(&[1, 0, 2, 3]));
        assert_eq!(sorted(v.clone(), DataType::BigInt, true, false), ints(&[0, 2, 3, 1]));
        assert_eq!(sorted(v, DataType::BigInt, false, false), ints(&[3, 2, 0, 1]));
    }
}
